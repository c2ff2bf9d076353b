// Small things users notice: the storage warning once per device, undated
// drafts counted on the Year screen, the peer roles on offer, and the notes'
// text in the CSV export.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { PHONE, artefactPath, assertNoSeriousViolations, createAccount, launchBrowser, signIn, startServer, uniqueEmail, waitForSynced } from "./support.mjs";

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

const NOTE = "Read about trauma-informed practice on the train.";

/** One CSV record's cells (RFC 4180 quoting; no line breaks inside cells here). */
function csvCells(line) {
  const cells = [""];
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted && c === '"' && line[i + 1] === '"') cells[cells.length - 1] += line[++i];
    else if (c === '"') quoted = !quoted;
    else if (c === "," && !quoted) cells.push("");
    else cells[cells.length - 1] += c;
  }
  return cells;
}

test("the storage warning shows once per device; undated drafts count; new peer roles; the CSV holds the notes", async () => {
  const email = uniqueEmail("details");
  const phoneContext = await browser.newContext({ ...PHONE, viewport: { width: 390, height: 844 } });
  const phone = await phoneContext.newPage();
  await createAccount(phone, server.origin, email);
  // Headless Chromium refuses persistent storage to a site it does not know.
  const storageWarning = (page) => page.getByRole("region", { name: "Storage" });
  await storageWarning(phone).waitFor();
  await phone.locator("#capture-note").pressSequentially(NOTE);
  await phone.getByText("Saved on this phone").waitFor();
  await waitForSynced(phone);

  // One undated draft: the Year screen says so, not "0 still drafts".
  await phone.getByRole("link", { name: "Year", exact: true }).click();
  await phone.getByText("0 recorded on SWE, 0 ready to record, 1 still a draft (1 with no date yet).", { exact: false }).waitFor();
  await assertNoSeriousViolations(phone, "year, with an undated draft");
  await phone.screenshot({ path: artefactPath("year-undated-draft-phone.png"), fullPage: true });

  await phone.reload();
  await phone.getByRole("heading", { name: /^Registration year/ }).waitFor();
  await phone.locator("[data-sync]").waitFor();
  assert.equal(await storageWarning(phone).count(), 0, "not shown again on this device");

  // Another device is told once too: what the phone remembers is its own.
  const laptopContext = await browser.newContext({ viewport: { width: 1366, height: 800 }, acceptDownloads: true });
  const laptop = await laptopContext.newPage();
  await signIn(laptop, server.origin, email);
  await storageWarning(laptop).waitFor();
  await laptop.getByRole("button", { name: "Got it" }).click();
  await storageWarning(laptop).waitFor({ state: "detached" });

  // The peer roles on offer.
  await laptop.getByRole("link", { name: "Entries", exact: true }).click();
  await laptop.getByRole("link", { name: /Read about trauma-informed practice/ }).click();
  await laptop.getByRole("button", { name: "Add a peer reflection" }).click();
  const roles = await laptop.getByLabel("The peer's professional role (never their name)").locator("option").allTextContents();
  for (const role of ["Occupational therapist", "Psychologist", "Practice educator", "Nurse", "Teacher", "Police officer", "Health visitor", "Person with lived experience"]) {
    assert.ok(roles.includes(role), `${role} is offered`);
  }
  assert.equal(roles.at(-1), "Other");
  await laptop.getByLabel("The peer's professional role (never their name)").selectOption("Person with lived experience");
  await assertNoSeriousViolations(laptop, "entry with a peer reflection, laptop");

  // The CSV's Notes column is the note's text.
  await laptop.getByRole("link", { name: "Export", exact: true }).click();
  await laptop.getByLabel("All entries").check();
  await laptop.getByLabel(/^CSV:/).check();
  const [download] = await Promise.all([laptop.waitForEvent("download"), laptop.getByRole("button", { name: "Download 1 entry" }).click()]);
  const path = artefactPath("entries.csv");
  await download.saveAs(path);
  const [header, row] = readFileSync(path, "utf8").replace(/^\ufeff/, "").split("\r\n").map(csvCells);
  const notes = header.indexOf("Notes");
  assert.ok(notes >= 0, "a Notes column");
  assert.equal(row[notes], NOTE);
  await phoneContext.close();
  await laptopContext.close();
});
