// The phone in the car and the laptop at the desk: the built PWA served by
// the real server, in Debian's Chromium.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import {
  LAPTOP, PHONE, artefactPath, createAccount, goOffline, goOnline, launchBrowser, signIn, startServer,
  uniqueEmail, waitForOfflineReady, waitForSynced,
} from "./support.mjs";

let server;
let browser;
const email = uniqueEmail("worker");
let phone;
let laptop;
let phonePage;
let laptopPage;
const NOTE = "Used an interpreter on the home visit. Check understanding with teach-back.";

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  phone = await browser.newContext({ ...PHONE });
  laptop = await browser.newContext({ ...LAPTOP });
  phonePage = await phone.newPage();
  laptopPage = await laptop.newPage();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

const captureField = (page) => page.getByLabel("What happened, and what did you learn?");

test("a note captured with no signal survives a reload offline, then reaches the laptop", async () => {
  await createAccount(phonePage, server.origin, email);
  await waitForOfflineReady(phonePage);
  await waitForSynced(phonePage);

  await goOffline(phone);
  await captureField(phonePage).pressSequentially(NOTE);
  await phonePage.getByText("Saved on this phone").waitFor();
  await phonePage.locator('[data-sync="offline"]', { hasText: "1 draft waiting" }).waitFor();
  await phonePage.screenshot({ path: artefactPath("capture-phone.png"), fullPage: true });

  await phonePage.reload();
  await phonePage.getByRole("heading", { name: "Capture" }).waitFor();
  await phonePage.waitForFunction((text) => document.querySelector("#capture-note")?.value === text, NOTE);
  await phonePage.getByRole("link", { name: "Entries", exact: true }).click();
  await phonePage.getByRole("link", { name: /Used an interpreter/ }).waitFor();
  assert.match(await phonePage.locator("[data-sync]").textContent(), /Offline · 1 draft waiting/);

  await goOnline(phone);
  await waitForSynced(phonePage);

  await signIn(laptopPage, server.origin, email);
  await laptopPage.getByRole("link", { name: "Entries", exact: true }).click();
  const onLaptop = laptopPage.getByRole("link", { name: /Used an interpreter/ });
  await onLaptop.waitFor();
  assert.match(await onLaptop.textContent(), /1 note · Draft/);
  await laptopPage.screenshot({ path: artefactPath("drafts-desktop.png"), fullPage: true });
});

test("the phone and the laptop both edit the same note offline, and both keep both edits", async () => {
  await laptopPage.getByRole("link", { name: /Used an interpreter/ }).click();
  const laptopNote = laptopPage.getByLabel(/^Note 1/);
  await laptopNote.waitFor();
  await phonePage.getByRole("link", { name: /Used an interpreter/ }).click();
  const phoneNote = phonePage.getByLabel(/^Note 1/);
  await phoneNote.waitFor();

  await goOffline(phone);
  await goOffline(laptop);
  await phoneNote.click();
  await phonePage.keyboard.press("End");
  await phonePage.keyboard.type(" Phone: book an interpreter early.");
  await laptopNote.click();
  await laptopPage.keyboard.press("Control+Home");
  await laptopPage.keyboard.type("Laptop: ");
  await phonePage.getByText("Offline").first().waitFor();

  await goOnline(phone);
  await goOnline(laptop);
  const merged = `Laptop: ${NOTE} Phone: book an interpreter early.`;
  for (const note of [phoneNote, laptopNote]) {
    await note.page().waitForFunction(
      ({ id, text }) => document.getElementById(id)?.value === text,
      { id: await note.getAttribute("id"), text: merged },
    );
  }
  await waitForSynced(phonePage);
  await waitForSynced(laptopPage);
});

test("a second user sees none of it, even by the draft's address", async () => {
  const draftUrl = phonePage.url();
  assert.match(draftUrl, /#\/entries\/\w+/);
  const stranger = await browser.newContext({ ...LAPTOP });
  const page = await stranger.newPage();
  await createAccount(page, server.origin, uniqueEmail("stranger"));
  await waitForSynced(page);
  await page.getByRole("link", { name: "Entries", exact: true }).click();
  await page.getByText("No entries yet").waitFor();
  await page.goto(draftUrl);
  await page.getByRole("heading", { name: "Entry not found" }).waitFor();
  const body = await page.locator("body").textContent();
  assert.ok(!body.includes("interpreter"), "the other user's note text must not appear");
  await stranger.close();
});

test("drafts can be searched, notes added to a recent draft, and a deletion undone or made final", async () => {
  await phonePage.getByRole("link", { name: "Capture", exact: true }).click();
  await phonePage.getByRole("button", { name: "New note" }).click();
  await captureField(phonePage).pressSequentially("Supervision about risk thresholds");
  await phonePage.getByText("Saved on this phone").waitFor();
  await phonePage.getByRole("button", { name: "New note" }).click();
  await phonePage.getByRole("button", { name: /Add a note to “Laptop: Used an interpreter/ }).click();
  await phonePage.getByRole("heading", { name: "Add to draft" }).waitFor();
  await phonePage.getByLabel(/^New note in “Laptop: Used an interpreter/).pressSequentially("Second thought about interpreters");
  await phonePage.getByText("Saved on this phone").waitFor();

  await phonePage.getByRole("link", { name: "Entries", exact: true }).click();
  await phonePage.getByLabel("Search titles and notes").fill("THRESHOLD");
  await phonePage.getByRole("link", { name: /Supervision about risk/ }).waitFor();
  assert.equal(await phonePage.locator(".draft-item").count(), 1);
  await phonePage.getByLabel("Search titles and notes").fill("second thought");
  const interpreter = phonePage.getByRole("link", { name: /Used an interpreter/ });
  await interpreter.waitFor();
  assert.match(await interpreter.textContent(), /2 notes/);
  await phonePage.getByLabel("Search titles and notes").fill("");

  // Delete, undo: it comes back with its notes.
  await phonePage.getByRole("link", { name: /Supervision about risk/ }).click();
  await phonePage.getByRole("button", { name: "Delete entry" }).click();
  await phonePage.getByText("Entry deleted.").waitFor();
  assert.equal(await phonePage.getByRole("link", { name: /Supervision about risk/ }).count(), 0);
  await phonePage.getByRole("button", { name: "Undo" }).click();
  await phonePage.getByLabel(/^Note 1/).waitFor();
  assert.equal(await phonePage.getByLabel(/^Note 1/).inputValue(), "Supervision about risk thresholds");

  // Delete for good: it leaves the laptop too, and once the undo window has
  // passed the server deletes it (a second delete finds nothing).
  const id = /#\/entries\/(\w+)/.exec(phonePage.url())[1];
  await phonePage.getByRole("button", { name: "Delete entry" }).click();
  await laptopPage.getByRole("link", { name: "Entries", exact: true }).click();
  await laptopPage.getByRole("link", { name: /Laptop: Used an interpreter/ }).waitFor();
  await laptopPage.getByRole("link", { name: /Supervision about risk/ }).waitFor({ state: "detached" });
  await phonePage.waitForFunction(
    () => Object.entries(localStorage).some(([key, value]) => key.startsWith("fieldbook.deletions.") && value === "[]"),
    null,
    { timeout: 30_000 },
  );
  const status = await laptopPage.evaluate(async (doc) => (await fetch(`/api/documents/${doc}`, { method: "DELETE" })).status, id);
  assert.equal(status, 404);
});
