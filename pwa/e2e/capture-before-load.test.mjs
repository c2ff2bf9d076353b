// Never lose a word, on a 390 × 844 phone: words typed on Capture before the
// drafts have loaded reach Entries even if the user leaves Capture at once,
// and a note captured, synced and reloaded is still the user's own entry on
// this device (not "An entry from another device").
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { assertNoSeriousViolations, createAccount, startServer, uniqueEmail, waitForSynced, launchBrowser } from "./support.mjs";

const PHONE_390 = { viewport: { width: 390, height: 844 }, deviceScaleFactor: 3, isMobile: true, hasTouch: true, locale: "en-GB" };
/** Reloads in the loop: the lost entry showed on about 1 reload in 8 before it was fixed. */
const RELOADS = 8;

let server;
let browser;

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

const field = (page) => page.getByLabel("What happened, and what did you learn?");
const entriesLink = (page) => page.getByRole("link", { name: "Entries", exact: true });

test("words typed before the drafts load are in Entries though the user left Capture at once", async () => {
  const context = await browser.newContext(PHONE_390);
  // Automerge's WebAssembly is held back, so the drafts cannot load until
  // the user has typed and moved on.
  let release;
  const held = new Promise((resolve) => (release = resolve));
  await context.route("**/*.wasm", async (route) => {
    await held;
    await route.continue();
  });
  const page = await context.newPage();
  await createAccount(page, server.origin, uniqueEmail("before-load"));
  await field(page).pressSequentially("Typed before loading: met the family.");
  await page.getByText("Saved on this phone").waitFor();
  await entriesLink(page).click();
  await page.getByRole("heading", { name: "Entries" }).waitFor();
  assert.equal(await page.locator("[data-sync]").textContent(), "Opening your notes…", "the drafts had not loaded when Capture was left");

  release();
  const entry = page.getByRole("link", { name: /Typed before loading: met the family\./ });
  await entry.waitFor();
  assert.match(await entry.textContent(), /1 note · Draft/);
  await assertNoSeriousViolations(page, "Entries");
  await waitForSynced(page);
  // Capture opened again shows the same note, written once.
  await page.getByRole("link", { name: "Capture", exact: true }).click();
  await page.waitForFunction(() => document.querySelector("#capture-note")?.value === "Typed before loading: met the family.");
  await entriesLink(page).click();
  await entry.waitFor();
  assert.equal(await page.locator(".draft-item").count(), 1);
  await context.close();
});

test("a note captured, synced and reloaded stays the user's own entry", async () => {
  for (let run = 1; run <= RELOADS; run++) {
    const context = await browser.newContext(PHONE_390);
    const page = await context.newPage();
    await createAccount(page, server.origin, uniqueEmail("reload"));
    await field(page).pressSequentially(`Home visit ${run}: an interpreter helped.`);
    await page.getByText("Saved on this phone").waitFor();
    await waitForSynced(page);
    await page.reload();
    await page.getByRole("heading", { name: "Capture" }).waitFor();
    await entriesLink(page).click();
    await page.getByRole("link", { name: new RegExp(`Home visit ${run}: an interpreter helped\\.`) }).waitFor();
    assert.equal(await page.getByText("An entry from another device").count(), 0, `reload ${run}`);
    await context.close();
  }
});
