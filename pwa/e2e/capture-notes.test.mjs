// Capture on a 390 × 844 phone: one visit's note does not run on into the
// next (after 30 minutes, or once the app was closed, Capture starts a new
// note, and says when it is adding to an earlier one), and identifying
// details are flagged as the note is typed, with no signal.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { artefactPath, assertNoSeriousViolations, createAccount, goOffline, launchUkBrowser, startServer, uniqueEmail, waitForOfflineReady, waitForSynced } from "./support.mjs";

const PHONE_390 = { viewport: { width: 390, height: 844 }, deviceScaleFactor: 3, isMobile: true, hasTouch: true, locale: "en-GB", timezoneId: "Europe/London" };
// A Tuesday, 14:05 in London.
const TUESDAY_1405 = new Date("2026-12-01T14:05:00Z");

let server;
let browser;

before(async () => {
  server = await startServer();
  browser = await launchUkBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

const field = (page) => page.locator("#capture-note");

/** The drafts listed on Entries, once `expected` of them have loaded (more would show). */
async function draftTitles(page, expected) {
  await page.getByRole("link", { name: "Entries", exact: true }).click();
  await page.locator(".draft-item").nth(expected - 1).waitFor();
  const titles = await page.locator(".draft-title").allTextContents();
  await page.getByRole("link", { name: "Capture", exact: true }).click();
  await field(page).waitFor();
  return titles.sort();
}

test("after 30 minutes, or once the app is closed, Capture starts a new note", async () => {
  const context = await browser.newContext(PHONE_390);
  await context.clock.install({ time: TUESDAY_1405 });
  const page = await context.newPage();
  await createAccount(page, server.origin, uniqueEmail("gap"));
  await page.locator("[data-sync]:not(:has-text('Opening'))").waitFor();
  await field(page).pressSequentially("First visit: mum was calm.");
  await page.getByText("Saved on this phone").waitFor();

  // Back within minutes (a reload): still this note, and it says so.
  await page.clock.fastForward("05:00");
  await page.reload();
  await page.waitForFunction(() => document.querySelector("#capture-note")?.value === "First visit: mum was calm.");
  await page.getByText("Adding to: Tuesday 14:05 visit").waitFor();
  assert.equal(await page.getByRole("button", { name: "Start a new note" }).count(), 1);
  await assertNoSeriousViolations(page, "capture, adding to a recent note");
  await page.screenshot({ path: artefactPath("capture-adding-to-390.png"), fullPage: true });
  await field(page).press("End");
  await page.keyboard.type(" Dad came in later.");
  await page.getByText("Saved on this phone").waitFor();

  // The phone goes back in a pocket; 30 minutes on, the next visit starts afresh.
  await page.clock.fastForward("30:00");
  await page.waitForFunction(() => document.querySelector("#capture-note")?.value === "");
  assert.equal(await page.getByText(/^Adding to:/).count(), 0);
  await field(page).pressSequentially("Second visit: school meeting.");
  await page.getByText("Saved on this phone").waitFor();
  assert.deepEqual(await draftTitles(page, 2), ["First visit: mum was calm. Dad came in later.", "Second visit: school meeting."]);
  // Back on Capture after looking at the list: the note is still there, and said to be one being added to.
  assert.equal(await field(page).inputValue(), "Second visit: school meeting.");
  await page.getByText(/^Adding to: Tuesday 14:4[0-9] visit$/).waitFor();

  // "Start a new note" puts it away at once.
  await page.getByRole("button", { name: "Start a new note" }).click();
  assert.equal(await field(page).inputValue(), "");
  await assertNoSeriousViolations(page, "capture, a new note");
  await page.screenshot({ path: artefactPath("capture-new-note-390.png"), fullPage: true });
  await field(page).pressSequentially("Third: supervision.");
  await page.getByText("Saved on this phone").waitFor();

  // Closed and opened again a minute later: a new note, not the last one.
  await page.clock.fastForward("01:00");
  await page.close();
  const reopened = await context.newPage();
  await reopened.goto(server.origin + "/");
  await reopened.getByRole("heading", { name: "Capture" }).waitFor();
  await reopened.locator("[data-sync]:not(:has-text('Opening'))").waitFor();
  assert.equal(await field(reopened).inputValue(), "");
  assert.equal(await reopened.getByText(/^Adding to:/).count(), 0);
  await reopened.getByText("Third: supervision.").waitFor();
  await field(reopened).pressSequentially("Fourth visit.");
  await reopened.getByText("Saved on this phone").waitFor();
  // Nothing ran on: each visit is its own draft, each note as typed.
  assert.deepEqual(await draftTitles(reopened, 4), ["First visit: mum was calm. Dad came in later.", "Fourth visit.", "Second visit: school meeting.", "Third: supervision."]);
  await context.close();
});

test("identifying details are flagged on Capture as they are typed, offline", async () => {
  const context = await browser.newContext(PHONE_390);
  const page = await context.newPage();
  await createAccount(page, server.origin, uniqueEmail("flags"));
  await waitForOfflineReady(page);
  await waitForSynced(page);
  await goOffline(context);
  await page.reload();
  await field(page).waitFor();

  await field(page).pressSequentially("Tom Baker, DOB 12/03/2015, BS1 4DJ, 07700 900123");
  const summary = page.getByText("4 details may identify someone");
  await summary.waitFor();
  await page.getByRole("button", { name: "Show", exact: true }).click();
  const flags = page.locator(".capture-flags .flag");
  assert.deepEqual(await flags.locator("strong").allTextContents(), ["“Tom Baker”", "“12/03/2015”", "“BS1 4DJ”", "“07700 900123”"]);
  await flags.filter({ hasText: "Tom Baker" }).getByText("full name").waitFor();
  await flags.filter({ hasText: "12/03/2015" }).getByText("date of birth").waitFor();
  await assertNoSeriousViolations(page, "capture with flags shown");
  await page.screenshot({ path: artefactPath("capture-flags-390.png"), fullPage: true });

  // Show selects the detail in the note, to edit it.
  await page.getByRole("button", { name: "Show “BS1 4DJ” in the note" }).click();
  assert.equal(await page.evaluate(() => { const el = document.activeElement; return el.value.slice(el.selectionStart, el.selectionEnd); }), "BS1 4DJ");
  // Keep one: it is not flagged again; edit another away.
  await page.getByRole("button", { name: "Keep “07700 900123”: it does not identify anyone" }).click();
  await page.getByText("3 details may identify someone").waitFor();
  await field(page).fill("Tom Baker, DOB 12/03/2015, Bristol, 07700 900123");
  await page.getByText("2 details may identify someone").waitFor();
  // Keep all.
  await page.getByRole("button", { name: /^Keep all 2/ }).click();
  await page.locator(".capture-flags").waitFor({ state: "detached" });
  await context.close();
});
