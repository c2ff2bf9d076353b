// Evidence on the phone with no signal: a certificate is attached to an
// entry offline (kept on the device, listed as waiting), a file of the wrong
// type is refused plainly, and when signal returns the certificate uploads
// to the real server; the laptop then lists it on the same entry and
// downloads it, served as an attachment.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import {
  PHONE, artefactPath, assertNoSeriousViolations, createAccount, goOffline, goOnline, launchBrowser, signIn, startServer, uniqueEmail,
  waitForOfflineReady, waitForSynced,
} from "./support.mjs";

let server;
let browser;
const email = uniqueEmail("evidence");
const PHONE_390 = { ...PHONE, viewport: { width: 390, height: 844 } };
const LAPTOP_1366 = { viewport: { width: 1366, height: 800 } };

/** A small but real PDF's bytes, different on every run. */
function certificate() {
  const text = `%PDF-1.4\n% Certificate of attendance ${Date.now()}\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n`;
  return Buffer.from(text.repeat(200));
}

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

const NAME = "Interpreting course certificate.pdf";
let bytes;
let evidenceId;

test("a certificate attached with no signal waits on the phone, then uploads when signal returns", async () => {
  const phone = await browser.newContext(PHONE_390);
  const page = await phone.newPage();
  await createAccount(page, server.origin, email);
  await waitForOfflineReady(page);
  await page.locator("#capture-note").pressSequentially("Interpreting course: brief the interpreter first.");
  await waitForSynced(page);
  await page.getByRole("link", { name: "Entries", exact: true }).click();
  await page.getByRole("link", { name: /Interpreting course/ }).click();
  await page.getByRole("heading", { name: "Evidence" }).waitFor();

  await goOffline(phone);
  bytes = certificate();
  await page.locator("#evidence-file").setInputFiles({ name: NAME, mimeType: "application/pdf", buffer: bytes });
  const item = page.locator(".evidence-item").filter({ hasText: NAME });
  await item.getByText("Saved on this device. Waiting for signal to upload.").waitFor();
  assert.equal(await item.getAttribute("data-evidence-status"), "waiting");
  assert.match(await item.textContent(), /PDF · \d+ KB/);
  evidenceId = await item.getAttribute("data-evidence");
  assert.match(evidenceId, /^[A-Za-z0-9_-]{16,64}$/);

  // A web page is not evidence: refused in plain words, nothing listed.
  await page.locator("#evidence-file").setInputFiles({ name: "slides.html", mimeType: "text/html", buffer: Buffer.from("<script>alert(1)</script>") });
  await page.getByRole("alert").filter({ hasText: "“slides.html” cannot be attached. Fieldbook takes PDFs" }).waitFor();
  assert.equal(await page.locator(".evidence-item").count(), 1);

  await assertNoSeriousViolations(page, "entry with evidence waiting, offline");
  await page.locator(".evidence").scrollIntoViewIfNeeded();
  await page.screenshot({ path: artefactPath("evidence-waiting-phone.png") });

  await goOnline(phone);
  await item.locator('[role="status"]', { hasText: "Uploaded." }).waitFor({ timeout: 30_000 });
  assert.equal(await item.getAttribute("data-evidence-status"), "uploaded");
  const status = await page.evaluate(async (id) => (await fetch(`/api/evidence/${id}`)).json(), evidenceId);
  assert.equal(status.state, "stored");
  assert.equal(status.size, bytes.length);
  assert.equal(status.name, NAME);
  await page.locator(".evidence").scrollIntoViewIfNeeded();
  await page.screenshot({ path: artefactPath("evidence-uploaded-phone.png") });
  await phone.close();
});

test("the laptop lists the certificate on the same entry and downloads it as an attachment", async () => {
  assert.ok(evidenceId, "the previous test attached a file");
  const laptop = await browser.newContext({ ...LAPTOP_1366, acceptDownloads: true });
  const page = await laptop.newPage();
  await signIn(page, server.origin, email);
  await page.getByRole("link", { name: "Entries", exact: true }).click();
  await page.getByRole("link", { name: /Interpreting course/ }).click();
  const item = page.locator(`.evidence-item[data-evidence="${evidenceId}"]`);
  await item.locator('[role="status"]', { hasText: "Uploaded." }).waitFor();
  assert.match(await item.textContent(), /PDF · \d+ KB/);

  const [download] = await Promise.all([page.waitForEvent("download"), item.getByRole("link", { name: NAME }).click()]);
  assert.equal(download.suggestedFilename(), NAME);
  const saved = await download.createReadStream();
  const chunks = [];
  for await (const chunk of saved) chunks.push(chunk);
  assert.ok(Buffer.concat(chunks).equals(bytes), "the downloaded file is the one attached");
  const headers = await page.evaluate(async (id) => {
    const response = await fetch(`/api/evidence/${id}/file`);
    return Object.fromEntries(["content-type", "content-disposition", "x-content-type-options"].map((name) => [name, response.headers.get(name)]));
  }, evidenceId);
  assert.equal(headers["content-type"], "application/pdf");
  assert.match(headers["content-disposition"], /^attachment; /);
  assert.equal(headers["x-content-type-options"], "nosniff");

  await assertNoSeriousViolations(page, "entry with evidence, laptop");
  await page.locator(".evidence").scrollIntoViewIfNeeded();
  await page.screenshot({ path: artefactPath("evidence-desktop.png") });
  await page.emulateMedia({ colorScheme: "dark" });
  await assertNoSeriousViolations(page, "entry with evidence, laptop, dark mode");
  await page.screenshot({ path: artefactPath("evidence-desktop-dark.png") });
  await page.emulateMedia({ colorScheme: "light" });

  // Removing it takes it off the entry and off the server.
  await item.getByRole("button", { name: `Remove ${NAME}` }).click();
  await item.getByRole("button", { name: "Yes, remove it" }).click();
  await item.waitFor({ state: "detached" });
  await page.waitForFunction(async (id) => (await fetch(`/api/evidence/${id}`)).status === 404, evidenceId, { polling: 500, timeout: 20_000 });
  await waitForSynced(page);
  await laptop.close();
});
