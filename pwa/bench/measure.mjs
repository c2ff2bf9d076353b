// PWA performance figures for BENCHMARKS.md (run by `make bench-pwa`):
// 1. first-load JavaScript + CSS, gzipped, excluding Automerge's WebAssembly
//    (budget 150 KB);
// 2. time from opening the installed app (service worker warm) to the note
//    field accepting input, with the CPU throttled 4x (budget 1 s).
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { PHONE, PWA_DIR, createAccount, launchBrowser, startServer, uniqueEmail, waitForOfflineReady, waitForSynced } from "../e2e/support.mjs";

const RUNS = Number(process.env.RUNS ?? 9);
const THROTTLE = 4;
// Each opening starts once the previous page has gone: opened back to back,
// the closing page's shutdown (its IndexedDB connections, its renderer)
// shared the 2 cores with the next start and put runs of over a second among
// 300 ms ones (BENCHMARKS.md). A user opens the app long after it last closed.
const PAUSE_MS = Number(process.env.PAUSE_MS ?? 3000);

/** Every JS and CSS file of the build, marking those index.html loads
 * before the first paint (the rest, Automerge's chunk, loads right after). */
function assetSizes() {
  const html = readFileSync(join(PWA_DIR, "index.html"), "utf8");
  return readdirSync(join(PWA_DIR, "assets"))
    .filter((name) => /\.(js|css)$/.test(name))
    .map((name) => {
      const bytes = readFileSync(join(PWA_DIR, "assets", name));
      return { name, firstPaint: html.includes(`/assets/${name}`), raw: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length };
    });
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

async function startupTimes() {
  const server = await startServer();
  const browser = await launchBrowser();
  try {
    const context = await browser.newContext({ ...PHONE });
    // Record when the note field takes focus, from the page's own clock.
    await context.addInitScript(() => {
      addEventListener("focusin", (event) => {
        if (event.target?.id === "capture-note" && !("captureReadyAt" in window)) window.captureReadyAt = performance.now();
      });
    });
    const setup = await context.newPage();
    await createAccount(setup, server.origin, uniqueEmail("bench"));
    await waitForOfflineReady(setup);
    // Some drafts, so opening also loads a list.
    for (let i = 0; i < 20; i++) {
      await setup.getByRole("button", { name: "New note" }).click();
      await setup.locator("#capture-note").fill(`Benchmark note ${i}: what I learnt about working with families today.`);
    }
    await waitForSynced(setup);
    await setup.close();

    const ready = [];
    const loaded = [];
    for (let run = 0; run < RUNS; run++) {
      const page = await context.newPage();
      const cdp = await context.newCDPSession(page);
      await cdp.send("Emulation.setCPUThrottlingRate", { rate: THROTTLE });
      await page.goto(server.origin + "/");
      await page.waitForFunction(() => "captureReadyAt" in window);
      // It accepts input: a key press lands in the field.
      await page.keyboard.type("x");
      if (!(await page.locator("#capture-note").inputValue()).endsWith("x")) throw new Error("the note field did not take input");
      ready.push(await page.evaluate(() => window.captureReadyAt));
      await page.waitForFunction(() => !document.querySelector("[data-sync]")?.textContent.includes("Opening"));
      loaded.push(await page.evaluate(() => performance.now()));
      if (!(await page.evaluate(() => navigator.serviceWorker.controller !== null))) throw new Error("the service worker did not serve the app");
      await page.keyboard.press("Backspace");
      await page.close();
      await new Promise((resolve) => setTimeout(resolve, PAUSE_MS));
    }
    return { ready, loaded };
  } finally {
    await browser.close();
    await server.stop();
  }
}

const files = assetSizes();
const kib = (bytes) => `${(bytes / 1024).toFixed(1)} KiB`;
const sum = (list) => list.reduce((total, file) => total + file.gzip, 0);
console.log("JavaScript + CSS, gzip -9 (Automerge's WebAssembly, 1.1 MiB gzipped, excluded):");
for (const file of files) console.log(`  ${file.name}: ${kib(file.raw)} raw, ${kib(file.gzip)} gzipped${file.firstPaint ? " (before first paint)" : ""}`);
console.log(`  before first paint: ${kib(sum(files.filter((file) => file.firstPaint)))}; whole app: ${kib(sum(files))} (budget 150 KB)`);
const fonts = readdirSync(join(PWA_DIR, "assets"))
  .filter((name) => name.endsWith(".ttf"))
  .map((name) => ({ name, gzip: gzipSync(readFileSync(join(PWA_DIR, "assets", name)), { level: 9 }).length }));
console.log(`PDF fonts (fetched only when a PDF is made, precached): ${fonts.map((font) => `${font.name} ${kib(font.gzip)}`).join(", ")} gzipped`);
// SIZES_ONLY=1 stops here: the sizes need only the build, not the server and Chromium.
if (process.env.SIZES_ONLY) process.exit(0);

const { ready, loaded } = await startupTimes();
const fmt = (values) => `median ${median(values).toFixed(0)} ms, max ${Math.max(...values).toFixed(0)} ms`;
console.log(`Opening the installed app, CPU throttled ${THROTTLE}x, ${RUNS} runs ${PAUSE_MS} ms apart, 20 drafts:`);
console.log(`  note field accepts input: ${fmt(ready)} (budget 1000 ms); runs: ${ready.map((ms) => ms.toFixed(0)).join(", ")}`);
console.log(`  drafts loaded from the device: ${fmt(loaded)}`);
