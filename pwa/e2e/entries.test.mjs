// From notes captured on the phone to a SWE-ready entry on the laptop.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { LAPTOP, PHONE, artefactPath, assertNoSeriousViolations, createAccount, launchBrowser, signIn, startServer, uniqueEmail, waitForSynced } from "./support.mjs";

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

function isoDate(date) {
  return `${date.getFullYear()}-${String(date.getMonth() + 1).padStart(2, "0")}-${String(date.getDate()).padStart(2, "0")}`;
}

test("two notes from the phone become a SWE-ready entry with a peer reflection on the laptop", async () => {
  const email = uniqueEmail("entry");
  const phone = await (await browser.newContext({ ...PHONE })).newPage();
  await createAccount(phone, server.origin, email);
  await phone.locator("#capture-note").pressSequentially("Home visit with an interpreter: briefed them first.");
  await phone.getByText("Saved on this phone").waitFor();
  await phone.getByRole("button", { name: /Add a note to/ }).waitFor({ state: "detached" }).catch(() => undefined);
  await phone.getByRole("button", { name: "New note" }).click();
  await phone.getByRole("button", { name: /Add a note to “Home visit with an interpreter/ }).click();
  await phone.getByLabel(/^New note in/).pressSequentially("Teach-back showed the plan was understood.");
  await phone.getByText("Saved on this phone").waitFor();
  await waitForSynced(phone);

  const laptopContext = await browser.newContext({ ...LAPTOP });
  await laptopContext.grantPermissions(["clipboard-read", "clipboard-write"], { origin: server.origin });
  const laptop = await laptopContext.newPage();
  await signIn(laptop, server.origin, email);
  await laptop.getByRole("link", { name: "Entries", exact: true }).click();
  await laptop.getByRole("link", { name: /Home visit with an interpreter/ }).click();
  await laptop.getByLabel(/^Note 2/).waitFor();
  await assertNoSeriousViolations(laptop, "entry editor, empty");

  // Build the entry from the notes.
  await laptop.getByLabel("Title (for your own list)").fill("Working with an interpreter");
  await laptop.getByLabel("Type of CPD", { exact: true }).selectOption({ index: 1 });
  await laptop.getByLabel("Date", { exact: true }).fill(isoDate(new Date()));
  await laptop.getByLabel("Field to add note 1 to").selectOption("description");
  await laptop.getByRole("button", { name: "Insert note 1 into the chosen field" }).click();
  await laptop.getByLabel("Field to add note 2 to").selectOption("learning");
  await laptop.getByRole("button", { name: "Quote note 2 in the chosen field" }).click();
  assert.equal(await laptop.locator("#swe-description").inputValue(), "Home visit with an interpreter: briefed them first.");
  assert.equal(await laptop.locator("#swe-learning").inputValue(), "“Teach-back showed the plan was understood.”");
  await laptop.locator("#swe-impact").fill("Families understand their plan and can challenge it. Mrs Okafor said so.");

  // The anonymisation check flags the name, and marking ready waits for it.
  const flag = laptop.locator(".flag", { hasText: "Mrs Okafor" });
  await flag.waitFor();
  assert.equal(await laptop.getByRole("button", { name: "Mark ready for SWE" }).isDisabled(), true);
  await flag.getByRole("button", { name: /^Show/ }).click();
  const selected = await laptop.evaluate(() => {
    const el = document.activeElement;
    return el.value.slice(el.selectionStart, el.selectionEnd);
  });
  assert.equal(selected, "Mrs Okafor");
  await laptop.locator("#swe-impact").fill("Families understand their plan and can challenge it. The mother said so.");
  await flag.waitFor({ state: "detached" });

  await laptop.getByRole("button", { name: "Add a peer reflection" }).click();
  await laptop.getByLabel("The peer's professional role (never their name)").selectOption("Manager or supervisor");
  await laptop.getByLabel("Date of the discussion").fill(isoDate(new Date()));
  await laptop.getByLabel("Describe what you have learnt from discussing this CPD activity with a peer.").fill("My supervisor suggested meeting interpreters before visits.");
  await assertNoSeriousViolations(laptop, "entry editor, filled in");

  // A copied field is exactly the field's text.
  await laptop.getByRole("button", { name: /^Copy What you learnt/ }).click();
  assert.equal(await laptop.evaluate(() => navigator.clipboard.readText()), "“Teach-back showed the plan was understood.”");

  await laptop.getByRole("button", { name: "Mark ready for SWE" }).click();
  await laptop.getByRole("heading", { name: "Ready for SWE" }).waitFor();

  // The year's dashboard counts it.
  await laptop.getByRole("link", { name: "Year", exact: true }).click();
  await laptop.getByText("1 of 2 pieces of CPD").waitFor();
  await laptop.getByText("Peer reflection: done").waitFor();
  await assertNoSeriousViolations(laptop, "dashboard");
  await laptop.screenshot({ path: artefactPath("dashboard-desktop.png"), fullPage: true });

  // The portfolio PDF downloads and holds the entry.
  await laptop.getByRole("link", { name: "Export", exact: true }).click();
  await assertNoSeriousViolations(laptop, "export");
  await laptop.getByLabel(/^PDF:/).check();
  const [download] = await Promise.all([laptop.waitForEvent("download"), laptop.getByRole("button", { name: "Download 1 entry" }).click()]);
  const path = artefactPath("portfolio.pdf");
  await download.saveAs(path);
  const bytes = readFileSync(path);
  assert.equal(bytes.subarray(0, 5).toString(), "%PDF-");
  const { pdfText } = await import("./pdf-text.mjs");
  const text = await pdfText(bytes);
  assert.match(text, /Working with an interpreter/);
  assert.match(text, /My supervisor suggested meeting interpreters/);
  await laptopContext.close();
});
