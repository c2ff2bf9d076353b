// Writes a brotli and a gzipped copy beside each text or WebAssembly file in
// dist/, so the server (tower-http's ServeDir) can send whichever the browser
// accepts without compressing on every request. Automerge's 3.6 MB
// WebAssembly becomes 1.2 MB on the wire with gzip, less with brotli.
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";

const COMPRESSIBLE = /\.(js|mjs|css|html|wasm|svg|webmanifest|json|ttf)$/;

const COPIES = [
  [".gz", (bytes) => gzipSync(bytes, { level: constants.Z_BEST_COMPRESSION })],
  [
    ".br",
    (bytes) =>
      brotliCompressSync(bytes, {
        params: {
          [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY,
          [constants.BROTLI_PARAM_SIZE_HINT]: bytes.length,
        },
      }),
  ],
];

function* files(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* files(path);
    else yield path;
  }
}

const dist = process.argv[2] ?? "dist";
for (const path of files(dist)) {
  if (!COMPRESSIBLE.test(path)) continue;
  const bytes = readFileSync(path);
  for (const [suffix, compress] of COPIES) {
    const compressed = compress(bytes);
    // A copy no smaller than the file is not worth a second file.
    if (compressed.length < bytes.length) writeFileSync(`${path}${suffix}`, compressed);
  }
}
