// The app over time: a new version arrives while someone is typing, and a
// session ends (device revoked) while notes are still being written.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { appendFileSync, cpSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  LAPTOP, PASSWORD, PHONE, PWA_DIR, createAccount, goOffline, launchBrowser, signIn, startServer, uniqueEmail,
  waitForOfflineReady, waitForSynced,
} from "./support.mjs";

let browser;
const servers = [];
const dirs = [];

before(async () => {
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  for (const server of servers) await server.stop();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

test("a new version is offered, not forced, and reloading to it keeps what was typed", async () => {
  // A copy of the built app we can "deploy" a new version into.
  const appDir = mkdtempSync(join(tmpdir(), "fieldbook-app-"));
  dirs.push(appDir);
  cpSync(PWA_DIR, appDir, { recursive: true });
  const server = await startServer(appDir);
  servers.push(server);

  const context = await browser.newContext({ ...PHONE });
  const page = await context.newPage();
  await createAccount(page, server.origin, uniqueEmail("update"));
  await waitForOfflineReady(page);
  await page.locator("#capture-note").pressSequentially("Typed before the update");
  await page.getByText("Saved on this phone").waitFor();

  appendFileSync(join(appDir, "sw.js"), "\n// version 2\n");
  await page.evaluate(async () => (await navigator.serviceWorker.getRegistration()).update());
  await page.getByText("A new version of Fieldbook is ready").waitFor();
  // Offered, not forced: the page is still the old one, and typing goes on.
  await page.locator("#capture-note").pressSequentially(", and after it was offered");
  assert.equal(await page.locator("#capture-note").inputValue(), "Typed before the update, and after it was offered");

  await Promise.all([page.waitForEvent("load"), page.getByRole("button", { name: "Reload now" }).click()]);
  await page.waitForFunction(() => document.querySelector("#capture-note")?.value === "Typed before the update, and after it was offered");
  const activeScript = await page.evaluate(async () => {
    const registration = await navigator.serviceWorker.getRegistration();
    return (await fetch(registration.active.scriptURL)).text();
  });
  assert.ok(activeScript.includes("version 2"), "the new service worker is in control");
  assert.equal(await page.getByText("A new version of Fieldbook is ready").count(), 0);
  assert.equal(readFileSync(join(appDir, "sw.js"), "utf8").includes("version 2"), true);
  await context.close();
});

test("when the session ends the app asks to sign in again and loses nothing written meanwhile", async () => {
  const server = await startServer();
  servers.push(server);
  const email = uniqueEmail("revoked");
  const phone = await (await browser.newContext({ ...PHONE })).newPage();
  await createAccount(phone, server.origin, email);
  await waitForSynced(phone);
  const phoneDevice = await phone.evaluate(() => JSON.parse(localStorage.getItem("fieldbook.session")).deviceId);

  const laptop = await (await browser.newContext({ ...LAPTOP })).newPage();
  await signIn(laptop, server.origin, email);
  const status = await laptop.evaluate(async (id) => (await fetch(`/api/devices/${id}`, { method: "DELETE" })).status, phoneDevice);
  assert.equal(status, 204);

  await phone.locator("#capture-note").pressSequentially("Written as the session ended");
  await phone.getByRole("heading", { name: "Sign in again" }).waitFor({ timeout: 20_000 });
  assert.equal(await phone.getByLabel("Email").inputValue(), email);
  await phone.getByLabel("Password").fill(PASSWORD);
  await phone.getByRole("button", { name: "Sign in", exact: true }).click();
  await phone.getByRole("heading", { name: "Capture" }).waitFor();
  await waitForSynced(phone);

  await laptop.getByRole("link", { name: "Entries", exact: true }).click();
  await laptop.getByRole("link", { name: /Written as the session ended/ }).waitFor();
});

test("typing the moment the app opens adds to the note, before and after the drafts load", async () => {
  const server = await startServer();
  servers.push(server);
  const context = await browser.newContext({ ...PHONE });
  const page = await context.newPage();
  await createAccount(page, server.origin, uniqueEmail("quick"));
  await page.locator("#capture-note").pressSequentially("Started in the car.");
  await page.getByText("Saved on this phone").waitFor();

  // A slow phone: the field appears well before Automerge has loaded.
  const cdp = await context.newCDPSession(page);
  await cdp.send("Emulation.setCPUThrottlingRate", { rate: 6 });
  await page.reload({ waitUntil: "commit" });
  await page.locator("#capture-note:focus").waitFor();
  await page.keyboard.type(" Finished at home.");
  await page.locator("[data-sync]:not(:has-text('Opening'))").waitFor();
  await cdp.send("Emulation.setCPUThrottlingRate", { rate: 1 });
  await page.waitForFunction(() => document.querySelector("#capture-note")?.value === "Started in the car. Finished at home.");
  await page.getByText("Saved on this phone").waitFor();

  await page.getByRole("link", { name: "Entries", exact: true }).click();
  await page.getByRole("link", { name: /Started in the car/ }).click();
  assert.equal(await page.getByLabel(/^Note 1/).inputValue(), "Started in the car. Finished at home.");
  assert.equal(await page.locator(".note").count(), 1);
  await context.close();
});

test("two tabs share changes with no server, over the BroadcastChannel", async () => {
  const server = await startServer();
  servers.push(server);
  const context = await browser.newContext({ ...LAPTOP });
  const first = await context.newPage();
  await createAccount(first, server.origin, uniqueEmail("tabs"));
  await waitForOfflineReady(first);
  const second = await context.newPage();
  await second.goto(server.origin + "/#/entries");
  await second.getByText("No entries yet").waitFor();

  await goOffline(context);
  await first.locator("#capture-note").pressSequentially("Written in the first tab");
  await second.getByRole("link", { name: /Written in the first tab/ }).waitFor();
  await context.close();
});
