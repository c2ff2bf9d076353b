// Shared set-up for the browser tests and the PWA benchmark: the real
// `fieldbook` server serving the built app (pwa/dist) on 127.0.0.1, started
// by the same code as the interop tests' (tests/support/server.mjs), and
// Debian's Chromium driven by playwright-core.
import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import assert from "node:assert/strict";
import { AxeBuilder } from "@axe-core/playwright";
import { chromium, devices } from "playwright-core";
import { FieldbookServer } from "../../tests/support/server.mjs";

export { uniqueEmail } from "../../tests/support/server.mjs";

const repoRoot = resolve(import.meta.dirname, "../..");
export const PWA_DIR = join(repoRoot, "pwa/dist");
export const ARTEFACTS = join(repoRoot, "pwa/test-results");
export const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";
export const PASSWORD = "a long enough password";
export const PHONE = devices["Pixel 7"];
export const LAPTOP = { viewport: { width: 1280, height: 800 } };

/** Starts `fieldbook serve` on 127.0.0.1:0 with a fresh data directory,
 * serving the app from `pwaDir`; `stop()` ends it and deletes its data.
 * E2E_SERVER_LOG=1 shows its log. */
export async function startServer(pwaDir = PWA_DIR) {
  const server = await FieldbookServer.start({ pwaDir, logVariable: "E2E_SERVER_LOG" });
  return {
    origin: server.origin,
    stderr: () => server.stderrTail,
    stop: () => server.destroy(),
  };
}

/** `options` are playwright's launch options, such as `env`. */
export async function launchBrowser(extraArgs = [], options = {}) {
  return chromium.launch({
    ...options,
    executablePath: CHROMIUM,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
      ...extraArgs,
    ],
  });
}

/** A browser as a UK user has it (its language British English), so date
 * inputs read dd/mm/yyyy. Needs Chromium's en-GB locale (chromium-l10n). */
export async function launchUkBrowser() {
  return launchBrowser([], { env: { ...process.env, LANG: "en_GB.UTF-8", LANGUAGE: "en_GB" } });
}

/** Cuts the network the way a phone in a car loses it: the page goes
 * offline and every request the service worker makes fails. */
export async function goOffline(context) {
  await context.setOffline(true);
  await context.route("**/*", (route) => route.abort("internetdisconnected"));
}

export async function goOnline(context) {
  await context.unroute("**/*");
  await context.setOffline(false);
}

/** Creates an account through the app's own screens and lands on capture. */
export async function createAccount(page, origin, email) {
  await page.goto(origin + "/");
  await page.getByRole("button", { name: "Create an account" }).click();
  await signInWith(page, email, "Create account");
}

export async function signIn(page, origin, email) {
  await page.goto(origin + "/");
  await signInWith(page, email, "Sign in");
}

async function signInWith(page, email, button) {
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: button, exact: true }).click();
  await page.getByRole("heading", { name: "Capture" }).waitFor();
}

/** Waits until the app has its service worker in control, so it works offline. */
export async function waitForOfflineReady(page) {
  await page.waitForFunction(async () => {
    const registration = await navigator.serviceWorker.getRegistration();
    return registration?.active?.state === "activated" && navigator.serviceWorker.controller !== null;
  });
}

export async function syncState(page) {
  return page.locator("[data-sync]").getAttribute("data-sync");
}

export async function waitForSynced(page) {
  await page.locator('[data-sync="synced"]').waitFor({ timeout: 20_000 });
}

export function artefactPath(name) {
  mkdirSync(ARTEFACTS, { recursive: true });
  return join(ARTEFACTS, name);
}

/** axe-core's WCAG 2.2 AA checks on the page as it is: no serious or critical violation. */
export async function assertNoSeriousViolations(page, screen) {
  const results = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]).analyze();
  const serious = results.violations.filter((violation) => violation.impact === "serious" || violation.impact === "critical");
  assert.deepEqual(
    serious.map((violation) => `${violation.id}: ${violation.nodes.map((node) => node.target.join(" ")).join(", ")}`),
    [],
    `${screen}: axe found serious or critical violations`,
  );
  assert.ok(results.passes.length > 10, `${screen}: axe ran its checks`);
}
