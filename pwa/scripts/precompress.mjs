// Writes a gzipped copy beside each text or WebAssembly file in dist/, so the
// server can send it to browsers that accept gzip without compressing on
// every request. Automerge's 3.6 MB WebAssembly becomes 1.2 MB on the wire.
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { constants, gzipSync } from "node:zlib";

const COMPRESSIBLE = /\.(js|mjs|css|html|wasm|svg|webmanifest|json|ttf)$/;

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
  const gzipped = gzipSync(bytes, { level: constants.Z_BEST_COMPRESSION });
  if (gzipped.length < bytes.length) writeFileSync(`${path}.gz`, gzipped);
}
