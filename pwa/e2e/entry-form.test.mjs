// The entry form on a laptop, typed as a user types: a date key by key, text
// whose counts and Copy follow it, a note inserted once however often Insert
// is pressed; and a part of the form that cannot show its data fails alone.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { Repo } from "@automerge/automerge-repo";
import { WebSocketClientAdapter } from "@automerge/automerge-repo-network-websocket";
import { PASSWORD, artefactPath, assertNoSeriousViolations, createAccount, launchUkBrowser, startServer, uniqueEmail, waitForSynced } from "./support.mjs";

const LAPTOP_1366 = { viewport: { width: 1366, height: 800 }, locale: "en-GB", timezoneId: "Europe/London" };
const PHONE_390 = { viewport: { width: 390, height: 844 }, deviceScaleFactor: 3, isMobile: true, hasTouch: true, locale: "en-GB", timezoneId: "Europe/London" };

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

/** A laptop page signed in to a new account, with one captured note open as an entry. */
async function entryWithNote(options, note) {
  const context = await browser.newContext(options);
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: server.origin });
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (error) => errors.push(error.message));
  page.on("console", (message) => message.type() === "error" && errors.push(message.text()));
  const email = uniqueEmail("form");
  await createAccount(page, server.origin, email);
  // Once the drafts are open, so the note is one before leaving Capture.
  await page.locator("[data-sync]:not(:has-text('Opening'))").waitFor();
  await page.locator("#capture-note").pressSequentially(note);
  await page.getByText(/Saved on this/).waitFor();
  await page.getByRole("link", { name: "Entries", exact: true }).click();
  await page.getByRole("link", { name: new RegExp(note.slice(0, 20)) }).click();
  await page.getByLabel(/^Note 1/).waitFor();
  return { context, page, errors, email };
}

test("a date typed key by key on a laptop: the form keeps working and Insert adds the note once", async () => {
  const note = "Home visit with an interpreter: briefed them first.";
  const { context, page, errors } = await entryWithNote(LAPTOP_1366, note);
  const date = page.getByLabel("Date", { exact: true });

  // dd/mm/yyyy, as a UK user reads and types it.
  await date.click();
  await page.keyboard.press("Home");
  await page.keyboard.type("0212202");
  // Three digits of the year: not a date yet, and nothing has gone wrong.
  await page.getByText("Not a date yet: type the year in full").waitFor();
  await page.keyboard.type("6");
  assert.equal(await date.inputValue(), "2026-12-02", "read as dd/mm/yyyy (a browser without its en-GB locale reads mm/dd/yyyy)");
  await page.getByText("Not a date yet").waitFor({ state: "detached" });

  // The rest of the form still follows what is typed.
  await page.locator("#swe-learning").click();
  await page.keyboard.type("Brief first.");
  const learningCopy = page.getByRole("button", { name: "Copy What you learnt for SWE" });
  assert.equal(await learningCopy.isDisabled(), false);
  await page.locator(".swe-field", { has: page.locator("#swe-learning") }).getByText("12 characters").waitFor();
  await learningCopy.click();
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), "Brief first.");

  // Insert lands the note once, however many times it is pressed.
  const insert = page.getByRole("button", { name: "Insert note 1 into the chosen field" });
  await insert.click();
  await insert.click();
  await insert.click();
  await page.getByText("Note 1 is already in Description.").waitFor();
  assert.equal(await page.locator("#swe-description").inputValue(), note);
  await page.locator(".swe-field", { has: page.locator("#swe-description") }).getByText(`${note.length} characters`).waitFor();

  // The date reached the draft: it is there after a reload.
  await page.reload();
  assert.equal(await page.getByLabel("Date", { exact: true }).inputValue(), "2026-12-02");
  assert.equal(await page.locator("#swe-description").inputValue(), note);
  assert.equal(await page.locator(".part-error").count(), 0);
  assert.deepEqual(errors, []);
  // On a laptop the notes sit beside the form.
  const [notes, form] = await Promise.all([page.locator(".entry-notes").boundingBox(), page.locator(".swe-form").boundingBox()]);
  assert.ok(notes.x + notes.width <= form.x && Math.abs(notes.y - form.y) < 50, "notes beside the form");
  await assertNoSeriousViolations(page, "entry form after typing a date");
  await page.screenshot({ path: artefactPath("entry-form-1366.png"), fullPage: true });
  await context.close();
});

test("the entry form on a 390 px phone passes axe", async () => {
  const { context, page } = await entryWithNote(PHONE_390, "Supervision: talked through the risk assessment.");
  await page.getByLabel("Date", { exact: true }).click();
  await page.keyboard.type("0212202");
  await page.getByText("Not a date yet").waitFor();
  // A long title shows all its lines: the box grows with the text.
  const title = page.getByLabel("Title (for your own list)");
  const oneLine = (await title.boundingBox()).height;
  await title.fill("Working with an interpreter on a home visit where the family spoke Polish and Romanian");
  assert.ok((await title.boundingBox()).height > oneLine * 1.8, "the title grows to show its lines");
  // Down at the bottom of the long form the sync status is still in view.
  await page.getByRole("button", { name: "Delete entry" }).scrollIntoViewIfNeeded();
  const header = await page.locator(".app-header").boundingBox();
  assert.ok(Math.abs(header.y) < 1, `the header stays at the top (y ${header.y})`);
  await page.locator("[data-sync]").waitFor({ state: "visible" });
  await assertNoSeriousViolations(page, "entry form on a phone");
  await page.screenshot({ path: artefactPath("entry-form-390.png"), fullPage: true });
  await page.locator(".entry-notes").screenshot({ path: artefactPath("entry-notes-390.png") });
  // Insert and Quote share a row under the field they add to.
  const [insertBox, quoteBox] = await Promise.all(["Insert note 1 into the chosen field", "Quote note 1 in the chosen field"].map((name) => page.getByRole("button", { name }).boundingBox()));
  assert.equal(insertBox.y, quoteBox.y);
  await context.close();
});

/** Another device, written by a version of Fieldbook that stores the tags in a shape this one cannot read. */
async function otherDevice(email) {
  const response = await fetch(`${server.origin}/api/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ email, password: PASSWORD, deviceName: "Other version" }),
  });
  assert.equal(response.status, 200);
  const { token } = await response.json();
  const host = new URL(server.origin).host;
  return new Repo({ network: [new WebSocketClientAdapter(`ws://token:${encodeURIComponent(token)}@${host}/sync`, 200)], sharePolicy: async () => true });
}

test("a part that cannot show its data says so, and the rest of the form works", async () => {
  const note = "Team meeting on working with interpreters.";
  const { context, page, errors, email } = await entryWithNote(LAPTOP_1366, note);
  await waitForSynced(page);
  const id = page.url().split("#/entries/")[1];
  const repo = await otherDevice(email);
  const handle = await repo.find(`automerge:${id}`);
  handle.change((doc) => {
    doc.standards = 4;
  });

  const failed = page.getByRole("alert").filter({ hasText: "Something went wrong showing the tags." });
  await failed.waitFor();
  // Everything else still works: typing, counting, copying, inserting.
  await page.locator("#swe-impact").click();
  await page.keyboard.type("Fewer missed words.");
  await page.locator(".swe-field", { has: page.locator("#swe-impact") }).getByText("19 characters").waitFor();
  await page.getByRole("button", { name: "Insert note 1 into the chosen field" }).click();
  assert.equal(await page.locator("#swe-description").inputValue(), note);
  assert.equal(await page.locator(".part-error").count(), 1);
  assert.ok(errors.some((error) => error.includes("the tags failed to show")), "the failure is in the console for whoever looks");
  await assertNoSeriousViolations(page, "entry form with a part that failed");
  await page.screenshot({ path: artefactPath("entry-form-part-failed.png"), fullPage: true });

  // Once the data is readable again, Try again shows the part; nothing typed was lost.
  handle.change((doc) => {
    doc.standards = ["4.1"];
    doc.title = "Readable again";
  });
  // The same change, so once the title shows the tags are readable.
  await page.getByRole("heading", { name: "Readable again", exact: true }).waitFor();
  await failed.getByRole("button", { name: "Try again" }).click();
  await page.getByText("Tags: SWE standards and PCF (1)").waitFor();
  assert.equal(await page.locator(".part-error").count(), 0);
  assert.equal(await page.locator("#swe-impact").inputValue(), "Fewer missed words.");
  await repo.shutdown();
  await context.close();
});
