// Two devices change the same entry while apart: after sync both are told,
// see the other version and the two choices, and settle them once for both.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { PHONE, artefactPath, assertNoSeriousViolations, createAccount, goOffline, goOnline, launchBrowser, signIn, startServer, uniqueEmail, waitForSynced } from "./support.mjs";

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

const PHONE_SIZE = { ...PHONE, viewport: { width: 390, height: 844 } };
const LAPTOP_SIZE = { viewport: { width: 1366, height: 800 } };
const START = "I used an interpreter.";
const PHONE_TEXT = `${START} We met before the visit.`;
const LAPTOP_TEXT = `${START} Teach-back helped.`;

async function openEntry(page) {
  await page.getByRole("link", { name: "Entries", exact: true }).click();
  await page.getByRole("link", { name: /Home visit with an interpreter/ }).click();
  await page.locator("#swe-description").waitFor();
}

async function appendToDescription(page, text) {
  await page.locator("#swe-description").click();
  await page.keyboard.press("Control+End");
  await page.keyboard.type(text);
}

test("a field and a choice changed on the phone and the laptop while apart are marked on both, and settled once for both", async () => {
  const email = uniqueEmail("merge");
  const phoneContext = await browser.newContext(PHONE_SIZE);
  const phone = await phoneContext.newPage();
  await createAccount(phone, server.origin, email);
  await phone.locator("#capture-note").pressSequentially("Home visit with an interpreter");
  await phone.getByText("Saved on this phone").waitFor();
  await waitForSynced(phone);

  const laptopContext = await browser.newContext(LAPTOP_SIZE);
  const laptop = await laptopContext.newPage();
  await signIn(laptop, server.origin, email);
  await openEntry(laptop);
  await laptop.locator("#swe-description").fill(START);
  await waitForSynced(laptop);
  await openEntry(phone);
  await phone.waitForFunction((text) => document.querySelector("#swe-description")?.value === text, START);

  // An ordinary edit on one device, then the other, is no merge to check.
  await laptop.getByLabel("Title (for your own list)").fill("Interpreters");
  await phone.waitForFunction(() => document.querySelector("#entry-title")?.value === "Interpreters");
  await phone.getByLabel("Title (for your own list)").fill("Working with interpreters");
  await laptop.waitForFunction(() => document.querySelector("#entry-title")?.value === "Working with interpreters");
  await laptop.getByLabel("Type of CPD", { exact: true }).selectOption("Formal training or course");
  await phone.waitForFunction(() => document.querySelector("#swe-type")?.value === "Formal training or course");
  await phone.getByLabel("Type of CPD", { exact: true }).selectOption("Podcast, video or documentary");
  await laptop.waitForFunction(() => document.querySelector("#swe-type")?.value === "Podcast, video or documentary");
  for (const page of [phone, laptop]) {
    await waitForSynced(page);
    assert.equal(await page.locator(".merge-note").count(), 0, "sequential edits are not marked");
  }

  // Both offline; each changes the description and chooses another type.
  await goOffline(phoneContext);
  await goOffline(laptopContext);
  await appendToDescription(phone, PHONE_TEXT.slice(START.length));
  await phone.getByLabel("Type of CPD", { exact: true }).selectOption("Reading or research");
  await appendToDescription(laptop, LAPTOP_TEXT.slice(START.length));
  await laptop.getByLabel("Type of CPD", { exact: true }).selectOption("Reflection on supervision");
  await phone.locator('[data-sync="offline"]').waitFor();
  await laptop.locator('[data-sync="offline"]').waitFor();

  await goOnline(phoneContext);
  await goOnline(laptopContext);
  const devices = { [PHONE_TEXT]: "Chrome on Android", [LAPTOP_TEXT]: "Chrome on Linux" };
  for (const [page, mine, theirs] of [
    [phone, PHONE_TEXT, LAPTOP_TEXT],
    [laptop, LAPTOP_TEXT, PHONE_TEXT],
  ]) {
    const mark = page.getByRole("group", { name: `Changed on ${devices[theirs]} and on this device (${devices[mine]}) while apart – check it.` });
    await mark.waitFor({ timeout: 20_000 });
    // Each device's text as it was before the merge, the other's first.
    assert.deepEqual(await mark.locator("figcaption").allTextContents(), [`On ${devices[theirs]}`, `On this device (${devices[mine]})`]);
    assert.deepEqual(await mark.locator("blockquote").allTextContents(), [theirs, mine]);
    // The merged field keeps both.
    const merged = await page.locator("#swe-description").inputValue();
    assert.match(merged, /We met before the visit\./);
    assert.match(merged, /Teach-back helped\./);
    // Both types, each with the device that chose it.
    const choice = page.getByRole("group", { name: /^Chosen differently on .* while apart – choose one\.$/ });
    await choice.waitFor();
    const [phoneType, laptopType] = ["Reading or research", "Reflection on supervision"];
    const from = (device) => (device === devices[mine] ? `this device (${device})` : device);
    await choice.getByRole("button", { name: `Keep “${phoneType}” from ${from("Chrome on Android")}` }).waitFor();
    await choice.getByRole("button", { name: `Keep “${laptopType}” from ${from("Chrome on Linux")}` }).waitFor();
    assert.equal(await page.locator(".merge-note").count(), 2, "only the two changed fields are marked");
  }
  await assertNoSeriousViolations(phone, "entry with merge marks, phone");
  await assertNoSeriousViolations(laptop, "entry with merge marks, laptop");
  for (const [page, name] of [
    [phone, "phone"],
    [laptop, "laptop"],
  ]) {
    await page.locator(".merge-note", { hasText: "Changed on" }).scrollIntoViewIfNeeded();
    await page.screenshot({ path: artefactPath(`merge-marks-${name}.png`) });
    await page.screenshot({ path: artefactPath(`merge-marks-${name}-full.png`), fullPage: true });
  }

  // The laptop keeps the phone's type: settled on both.
  await laptop.getByRole("button", { name: "Keep “Reading or research” from Chrome on Android" }).click();
  for (const page of [laptop, phone]) {
    await page.getByRole("group", { name: /^Chosen differently/ }).waitFor({ state: "detached" });
    assert.equal(await page.locator("#swe-type").inputValue(), "Reading or research");
  }

  // The phone dismisses the text's mark: gone on both, the merged text stays.
  await phone.getByRole("button", { name: "Keep the merged text" }).click();
  for (const page of [phone, laptop]) {
    await page.locator(".merge-note").waitFor({ state: "detached" });
    assert.match(await page.locator("#swe-description").inputValue(), /We met before the visit\..*Teach-back helped\.|Teach-back helped\..*We met before the visit\./);
  }
  await assertNoSeriousViolations(laptop, "entry after settling the merge, laptop");
  await phoneContext.close();
  await laptopContext.close();
});
