// The account's details for the PDF (name, SWE registration number) set on
// the phone, checked and kept, reaching the laptop; and the portfolio made
// offline, its fonts from the service worker's cache, with them on its cover.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import {
  PHONE, artefactPath, assertNoSeriousViolations, createAccount, goOffline, launchBrowser, signIn, startServer, uniqueEmail, waitForOfflineReady,
  waitForSynced,
} from "./support.mjs";
import { pdfText } from "./pdf-text.mjs";

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

const NAME = "Siân Ŵyn-Jones";

test("name and registration number are set on the phone, checked, synced, and printed on a PDF made offline", async () => {
  const email = uniqueEmail("profile");
  const phoneContext = await browser.newContext({ ...PHONE, viewport: { width: 390, height: 844 } });
  const phone = await phoneContext.newPage();
  const fontRequests = [];
  phone.on("request", (request) => {
    if (request.url().endsWith(".ttf")) fontRequests.push(request.url());
  });
  await createAccount(phone, server.origin, email);
  await phone.locator("#capture-note").pressSequentially("Visit with Łukasz and Győző: “plan” – agreed.");
  await phone.getByText("Saved on this phone").waitFor();
  await waitForSynced(phone);

  await phone.getByRole("link", { name: "Entries", exact: true }).click();
  const form = phone.getByRole("form", { name: "Your details for the PDF" });
  await form.getByLabel("Your name").fill(NAME);
  const number = form.getByLabel("SWE registration number");

  // A number without its SW: a plain message, nothing saved, the field says it is wrong.
  await number.fill("104523");
  await form.getByRole("button", { name: "Save details" }).click();
  await form.getByRole("alert").filter({ hasText: "Start it with SW, like SW104523." }).waitFor();
  assert.equal(await number.getAttribute("aria-invalid"), "true");
  assert.equal(await number.evaluate((element) => element === document.activeElement), true);
  await assertNoSeriousViolations(phone, "account details with an error");
  await form.scrollIntoViewIfNeeded();
  await phone.screenshot({ path: artefactPath("profile-phone-error.png") });

  // Lower case and spaces are fine: kept normalised.
  await number.fill("sw 104 523");
  await form.getByRole("button", { name: "Save details" }).click();
  await form.getByText("Saved. Your other devices get it when they sync.").waitFor();
  assert.equal(await number.inputValue(), "SW104523");
  assert.equal(await number.getAttribute("aria-invalid"), null);
  await assertNoSeriousViolations(phone, "account details");
  await form.scrollIntoViewIfNeeded();
  await phone.screenshot({ path: artefactPath("profile-phone.png") });
  await waitForSynced(phone);

  // Another device has them once it syncs.
  const laptopContext = await browser.newContext({ viewport: { width: 1366, height: 800 } });
  const laptop = await laptopContext.newPage();
  await signIn(laptop, server.origin, email);
  await laptop.getByRole("link", { name: "Entries", exact: true }).click();
  const laptopForm = laptop.getByRole("form", { name: "Your details for the PDF" });
  await laptop.waitForFunction(() => document.querySelector("#profile-swe")?.value === "SW104523");
  assert.equal(await laptopForm.getByLabel("Your name").inputValue(), NAME);
  await assertNoSeriousViolations(laptop, "account details on the laptop");
  await laptopForm.scrollIntoViewIfNeeded();
  await laptop.screenshot({ path: artefactPath("profile-laptop.png") });
  await laptopContext.close();

  // Offline, the phone makes the PDF: the fonts were never fetched by the page before, and now come from the service worker.
  await waitForOfflineReady(phone);
  assert.deepEqual(fontRequests, [], "the app does not load the PDF fonts until a PDF is made");
  await goOffline(phoneContext);
  await phone.getByRole("link", { name: "Export", exact: true }).click();
  await phone.getByLabel("All entries").check();
  await phone.getByLabel(/^PDF:/).check();
  await phone.getByText(`The cover shows ${NAME}, SWE registration number SW104523.`).waitFor();
  await assertNoSeriousViolations(phone, "export with the cover note");
  const [download] = await Promise.all([phone.waitForEvent("download"), phone.getByRole("button", { name: "Download 1 entry" }).click()]);
  const path = artefactPath("portfolio-offline.pdf");
  await download.saveAs(path);
  await phone.getByRole("status").filter({ hasText: "is ready in your downloads" }).waitFor();
  assert.equal(fontRequests.length, 2, `the regular and bold fonts: ${fontRequests.join(", ")}`);
  const text = await pdfText(readFileSync(path));
  assert.match(text, /^CPD portfolio Siân Ŵyn-Jones SWE registration number SW104523 /);
  await phoneContext.close();
});
