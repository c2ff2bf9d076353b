// Holds the walls between the app's folders (README, "Layout"): only sync/
// imports Automerge, only local/ touches localStorage and sessionStorage
// (so every key is in its registry and signing out clears it), and the
// folders the screens build on never import a screen's folder. It reads every module under src/ as text, so a wall broken
// anywhere, a test included, fails here with the file and the import.

import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { expect, test } from "vitest";

const SRC = import.meta.dirname;
/** Vitest's set-up loads Automerge's WebAssembly before any test runs. */
const TEST_SETUP = "test-setup.ts";
/** A Storage in memory for unit tests: it names the interface, not the browser's. */
const TEST_STORAGE = "test-storage.ts";
const THIS_TEST = "walls.test.ts";

/** The folders the screens build on, and which of them each may import.
 * Every other folder (capture, entries, voice, page, …) is a feature: it may
 * import these and other features, and none of these may import it. */
const FOUNDATIONS: Record<string, readonly string[]> = {
  local: [],
  sync: ["local"],
  uploads: [],
  anonymise: [],
  cpd: ["sync"],
  ui: ["sync", "cpd"],
};

interface Import {
  file: string;
  specifier: string;
}

function modules(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((item) => {
    const path = join(dir, item.name);
    if (item.isDirectory()) return modules(path);
    return /\.tsx?$/.test(item.name) ? [path] : [];
  });
}

/** A module's code with its comments taken out. */
function code(path: string): string {
  return readFileSync(path, "utf8").replace(/\/\*[\s\S]*?\*\//g, "").replace(/(^|[^:])\/\/.*$/gm, "$1");
}

function imports(): Import[] {
  const pattern = /(?:\bfrom\s*|\bimport\s*\(?\s*)["']([^"']+)["']/g;
  return modules(SRC).flatMap((path) =>
    [...readFileSync(path, "utf8").matchAll(pattern)].map((match) => ({ file: relative(SRC, path), specifier: match[1] })),
  );
}

/** The top folder under src/ of a module or of what it imports, or null
 * for a package or a file outside src/ (such as shared/anonymise/rules.json). */
function folderOf(file: string, specifier?: string): string | null {
  if (specifier !== undefined && !specifier.startsWith(".")) return null;
  const path = specifier === undefined ? file : relative(SRC, resolve(SRC, dirname(file), specifier));
  const parts = path.split(sep);
  return parts.length > 1 && parts[0] !== ".." ? parts[0] : null;
}

test("the scan finds the app's modules and their imports", () => {
  const found = imports();
  expect(found.some((item) => item.file === join("sync", "client.ts") && item.specifier.startsWith("@automerge/automerge-repo"))).toBe(true);
  expect(found.some((item) => folderOf(item.file) === "ui" && folderOf(item.file, item.specifier) === "cpd")).toBe(true);
});

test("only sync/ imports Automerge: everything else takes a draft's ID (DraftId) and the drafts from sync/", () => {
  const breaches = imports()
    .filter((item) => item.specifier.startsWith("@automerge/") && folderOf(item.file) !== "sync" && item.file !== TEST_SETUP)
    .map((item) => `${item.file} imports ${item.specifier}`);
  expect(breaches).toEqual([]);
});

test("only local/ touches localStorage or sessionStorage: every key is in local/keys.ts", () => {
  const breaches = modules(SRC)
    .map((path) => relative(SRC, path))
    .filter((file) => folderOf(file) !== "local" && file !== TEST_STORAGE && file !== THIS_TEST && /\b(localStorage|sessionStorage)\b/.test(code(join(SRC, file))));
  expect(breaches).toEqual([]);
});

test("local/, sync/, uploads/, anonymise/, cpd/ and ui/ never import a screen's folder", () => {
  const breaches = imports().flatMap((item) => {
    const from = folderOf(item.file);
    const to = folderOf(item.file, item.specifier);
    if (from === null || to === null || from === to || !(from in FOUNDATIONS)) return [];
    return FOUNDATIONS[from].includes(to) ? [] : [`${item.file} imports ${item.specifier}`];
  });
  expect(breaches).toEqual([]);
});
