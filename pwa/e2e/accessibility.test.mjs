// WCAG 2.2 AA checks with axe-core on every screen, light and dark, plus
// what axe cannot see: 44 px touch targets and a 320 px wide screen.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { LAPTOP, PHONE, assertNoSeriousViolations, createAccount, launchBrowser, startServer, uniqueEmail, waitForSynced } from "./support.mjs";

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

/** Every control that can be tapped, smaller than 44 × 44 CSS px. */
async function smallTargets(page) {
  return page.evaluate(() => {
    const union = (a, b) => {
      const [left, top] = [Math.min(a.left, b.left), Math.min(a.top, b.top)];
      return { width: Math.max(a.right, b.right) - left, height: Math.max(a.bottom, b.bottom) - top };
    };
    return [...document.querySelectorAll("button, a[href], input, textarea, select")]
      .filter((el) => el.getClientRects().length > 0 && !el.closest(".skip-link") && !el.classList.contains("skip-link"))
      // A checkbox or radio button is tapped through its label too.
      .map((el) => ({ el, box: [el, ...(el.labels ?? [])].map((node) => node.getBoundingClientRect()).reduce(union) }))
      .filter(({ box }) => box.width < 44 || box.height < 44)
      .map(({ el, box }) => `${el.tagName.toLowerCase()} "${el.textContent.trim() || el.id}" ${Math.round(box.width)}×${Math.round(box.height)}`);
  });
}

for (const colorScheme of ["light", "dark"]) {
  test(`every screen passes axe in ${colorScheme} mode, on a phone and a laptop`, async () => {
    const phone = await browser.newContext({ ...PHONE, colorScheme, reducedMotion: "reduce" });
    const page = await phone.newPage();
    await page.goto(server.origin + "/");
    await page.getByRole("heading", { name: "Sign in" }).waitFor();
    await assertNoSeriousViolations(page, "sign in");
    await page.getByRole("button", { name: "Create an account" }).click();
    await page.getByRole("heading", { name: "Create your account" }).waitFor();
    await assertNoSeriousViolations(page, "create account");

    await createAccount(page, server.origin, uniqueEmail(`a11y-${colorScheme}`));
    await waitForSynced(page);
    await assertNoSeriousViolations(page, "capture, empty");
    await page.locator("#capture-note").pressSequentially("A note to check the screens with");
    await page.getByText("Saved on this phone").waitFor();
    await page.getByRole("button", { name: "New note" }).click();
    await assertNoSeriousViolations(page, "capture, with recent drafts");
    assert.deepEqual(await smallTargets(page), [], "capture: touch targets under 44 px");

    await page.getByRole("link", { name: "Entries", exact: true }).click();
    await page.getByRole("link", { name: /A note to check/ }).waitFor();
    await assertNoSeriousViolations(page, "drafts, phone");
    assert.deepEqual(await smallTargets(page), [], "drafts: touch targets under 44 px");
    await page.getByRole("link", { name: /A note to check/ }).click();
    await page.getByLabel(/^Note 1/).waitFor();
    await assertNoSeriousViolations(page, "draft");
    assert.deepEqual(await smallTargets(page), [], "draft: touch targets under 44 px");
    for (const [link, heading] of [["Year", /^Registration year/], ["Export", "Export"]]) {
      await page.getByRole("link", { name: link, exact: true }).click();
      await page.getByRole("heading", { name: heading, level: 1 }).waitFor();
      await assertNoSeriousViolations(page, link);
      assert.deepEqual(await smallTargets(page), [], `${link}: touch targets under 44 px`);
    }
    await page.goBack();
    await page.goBack();
    await page.getByRole("button", { name: "Delete entry" }).click();
    await page.getByText("Entry deleted.").waitFor();
    await assertNoSeriousViolations(page, "drafts with the undo toast");

    const laptopPage = await (await browser.newContext({ ...LAPTOP, colorScheme, storageState: await phone.storageState() })).newPage();
    await laptopPage.goto(server.origin + "/#/entries");
    await laptopPage.getByRole("heading", { name: "Entries" }).waitFor();
    await assertNoSeriousViolations(laptopPage, "drafts, laptop");
    await laptopPage.context().close();
    await phone.close();
  });
}

test("the app fits a 320 px wide screen without sideways scrolling", async () => {
  const context = await browser.newContext({ viewport: { width: 320, height: 640 }, isMobile: true, hasTouch: true });
  const page = await context.newPage();
  await createAccount(page, server.origin, uniqueEmail("narrow"));
  await page.locator("#capture-note").pressSequentially("A rather long first line to see how the narrow layout wraps its words");
  await page.getByRole("button", { name: "New note" }).click();
  for (const hash of ["#/", "#/entries", "#/year", "#/export"]) {
    await page.goto(server.origin + "/" + hash);
    await page.locator("h1").first().waitFor();
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.equal(overflow, 0, `${hash} scrolls sideways by ${overflow} px`);
  }
  await context.close();
});
