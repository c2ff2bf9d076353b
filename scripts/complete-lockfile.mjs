// Adds the platform-specific optional packages (rollup, cbor-extract
// binaries, ...) that npm leaves out of package-lock.json when the registry
// mirror lacks them. Without them `npm ci` refuses the lockfile ("Missing:
// ... from lock file"). Platforms come from the registry when it has the
// package, else from its name (e.g. rollup-linux-arm64-musl).
// Usage: node scripts/complete-lockfile.mjs DIR   (after `npm install` in DIR)
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const dir = process.argv[2] ?? ".";
const path = join(dir, "package-lock.json");
const lock = JSON.parse(readFileSync(path, "utf8"));
let added = 0;

for (const [location, entry] of Object.entries(lock.packages)) {
  for (const [name, range] of Object.entries(entry.optionalDependencies ?? {})) {
    // npm looks beside the dependant first, then up the tree.
    const candidates = [];
    let base = location;
    while (true) {
      candidates.push(`${base ? `${base}/` : ""}node_modules/${name}`);
      const cut = base.lastIndexOf("node_modules/");
      if (cut < 0) break;
      base = base.slice(0, cut).replace(/\/$/, "");
    }
    if (candidates.some((candidate) => lock.packages[candidate])) continue;
    const version = /^\d+\.\d+\.\d+(-[\w.]+)?$/.test(range) ? range : null;
    if (!version) continue; // Ranged optional deps (e.g. fsevents) install fine without.
    const meta = registryMeta(name, version) ?? platformFromName(name);
    const target = `${location ? `${location}/` : ""}node_modules/${name}`.replace(/^\//, "");
    lock.packages[location === "" ? `node_modules/${name}` : target] = {
      version,
      ...(meta.cpu ? { cpu: meta.cpu } : {}),
      ...(entry.dev ? { dev: true } : {}),
      ...(meta.libc ? { libc: meta.libc } : {}),
      ...(meta.license ? { license: meta.license } : {}),
      optional: true,
      ...(meta.os ? { os: meta.os } : {}),
    };
    added++;
  }
}

function registryMeta(name, version) {
  try {
    const out = execFileSync("npm", ["view", `${name}@${version}`, "--json", "os", "cpu", "libc", "license"], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    });
    return JSON.parse(out || "{}");
  } catch {
    return null;
  }
}

function platformFromName(name) {
  const parts = name.split("/").pop().split("-");
  const os = ["android", "darwin", "freebsd", "linux", "win32", "openbsd", "openharmony", "netbsd", "sunos", "aix"].find((p) => parts.includes(p));
  const cpu = ["arm64", "arm", "x64", "ia32", "loong64", "ppc64", "riscv64", "s390x"].find((p) => parts.includes(p) || parts.includes(`${p}eabihf`) || parts.includes(`${p}eabi`));
  const libc = parts.includes("musl") || parts.includes("musleabihf") ? ["musl"] : parts.includes("gnu") || parts.includes("gnueabihf") ? ["glibc"] : undefined;
  if (!os || !cpu) throw new Error(`cannot tell the platform of ${name}; add its lock entry by hand`);
  return { os: [os], cpu: [cpu], ...(libc ? { libc } : {}) };
}

writeFileSync(path, JSON.stringify(lock, null, 2) + "\n");
console.log(`${path}: added ${added} optional platform packages`);
