// Two accounts in two browser contexts on the real server: the owner shares
// an entry with a supervisor, who reads it live and comments (the owner sees
// the comment beside the entry, marked new); then a peer learning group with
// a session a member links to an entry of their own as its peer discussion.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { LAPTOP, PHONE, assertNoSeriousViolations, createAccount, goOffline, goOnline, launchBrowser, startServer, uniqueEmail, waitForSynced } from "./support.mjs";

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

/** Every control that can be tapped, smaller than 44 × 44 CSS px (as accessibility.test.mjs counts them). */
async function smallTargets(page) {
  return page.evaluate(() =>
    [...document.querySelectorAll("button, a[href], input, textarea, select")]
      .filter((el) => el.getClientRects().length > 0 && !el.closest(".skip-link") && !el.classList.contains("skip-link"))
      .map((el) => ({ el, box: [el, ...(el.labels ?? [])].map((node) => node.getBoundingClientRect()).reduce((a, b) => ({ left: Math.min(a.left, b.left), top: Math.min(a.top, b.top), right: Math.max(a.right, b.right), bottom: Math.max(a.bottom, b.bottom) })) }))
      .filter(({ box }) => box.right - box.left < 44 || box.bottom - box.top < 44)
      .map(({ el }) => `${el.tagName.toLowerCase()} "${el.textContent.trim() || el.id}"`),
  );
}

async function checkScreen(page, screen) {
  await assertNoSeriousViolations(page, screen);
  assert.deepEqual(await smallTargets(page), [], `${screen}: touch targets under 44 px`);
}

async function invitationLink(page) {
  await page.getByRole("button", { name: "Make an invitation link" }).click();
  const link = page.getByRole("textbox", { name: "Invitation link" });
  await Promise.race([link.waitFor(), page.locator(".invite .form-error").waitFor().then(async () => assert.fail(await page.locator(".invite .form-error").innerText()))]);
  return link.inputValue();
}

/** Opens an invitation link, as someone signed in, and joins. */
async function join(page, url, { heading, button }, name, role) {
  await page.goto(url);
  await page.getByRole("heading", { name: heading }).waitFor();
  await page.getByLabel("Your name for this share").fill(name);
  await page.getByLabel(/^Your professional role/).fill(role);
  await page.getByRole("button", { name: button }).click();
}

test("a supervisor reads a shared entry live and comments; the owner sees the comment beside the entry, marked new", async () => {
  const owner = await (await browser.newContext(PHONE)).newPage();
  await createAccount(owner, server.origin, uniqueEmail("sv-owner"));
  await owner.locator("#capture-note").pressSequentially("Interpreters briefing");
  await owner.getByText("Saved on this phone").waitFor();
  await owner.getByRole("link", { name: "Entries", exact: true }).click();
  await owner.getByRole("link", { name: /Interpreters briefing/ }).click();
  await owner.locator("#swe-description").fill("A research briefing on working with interpreters.");
  await owner.getByRole("button", { name: "Share with a supervisor" }).click();
  await owner.getByRole("button", { name: "Share to read, with comments" }).click();
  await owner.getByRole("heading", { name: "Not shared with anyone yet" }).waitFor();
  await waitForSynced(owner);
  await checkScreen(owner, "supervisor view, owner");
  const url = await invitationLink(owner);

  const supervisorContext = await browser.newContext(LAPTOP);
  const supervisor = await supervisorContext.newPage();
  await createAccount(supervisor, server.origin, uniqueEmail("sv-supervisor"));
  assert.match(url, /#\/invite\/[^/]+\/supervision$/);
  await join(supervisor, url, { heading: "Join as a supervisor", button: "Join as their supervisor" }, "Sam's team manager", "Team manager");
  await supervisor.getByText("A research briefing on working with interpreters.").waitFor();
  await supervisor.getByRole("heading", { name: "Shared with 1 person" }).waitFor();
  // The entry is there to read: nothing of it can be edited.
  assert.equal(await supervisor.locator("#swe-description").count(), 0);
  await checkScreen(supervisor, "supervisor view, supervisor");

  // Live: the owner goes on writing, the supervisor sees it.
  await owner.goBack();
  await owner.locator("#swe-learning").fill("Brief the interpreter before the visit.");
  await supervisor.getByText("Brief the interpreter before the visit.").waitFor();

  // The supervisor comments offline; it arrives once they are back.
  await goOffline(supervisorContext);
  await supervisor.getByLabel(/^Add a comment/).fill("How did the family respond to the briefing?");
  await supervisor.getByRole("button", { name: "Add a comment" }).click();
  await supervisor.getByText("How did the family respond to the briefing?").waitFor();
  await goOnline(supervisorContext);

  const comment = owner.locator(".supervision-panel .contribution", { hasText: "How did the family respond to the briefing?" });
  await comment.waitFor({ timeout: 20_000 });
  assert.match(await comment.innerText(), /Team manager/);
  assert.match(await comment.innerText(), /New/);
  assert.doesNotMatch(await owner.locator(".supervision-panel").innerText(), /Sam's team manager/);
  await checkScreen(owner, "entry with the supervisor's comments");

  // The owner opens the view: the supervisor is listed by the name they gave.
  await owner.getByRole("link", { name: /Open the supervisor view/ }).click();
  await owner.getByRole("heading", { name: "Shared with 1 person" }).waitFor();
  await owner.getByText("Sam's team manager · Team manager").waitFor();
  await supervisorContext.close();
  await owner.context().close();
});

/** Today's date as the app stores it (yyyy-mm-dd, in the UK). */
function today() {
  return new Date().toLocaleDateString("en-CA", { timeZone: "Europe/London" });
}

/** A captured note, dated today, as an entry. */
async function datedEntry(page, text) {
  await page.getByRole("link", { name: "Capture", exact: true }).click();
  await page.locator("#capture-note").waitFor();
  const another = page.getByRole("button", { name: "New note" });
  if (await another.isVisible()) await another.click();
  await page.locator("#capture-note").pressSequentially(text);
  await page.getByText("Saved on this phone").waitFor();
  await page.getByRole("link", { name: "Entries", exact: true }).click();
  await page.getByRole("link", { name: new RegExp(text) }).click();
  await page.getByLabel("Date", { exact: true }).fill(today());
}

test("a year's portfolio shared with a supervisor takes in an entry dated in that year later", async () => {
  const owner = await (await browser.newContext(PHONE)).newPage();
  await createAccount(owner, server.origin, uniqueEmail("year-owner"));
  await datedEntry(owner, "Reading on mental capacity");
  await owner.getByRole("link", { name: "Year", exact: true }).click();
  await owner.getByRole("button", { name: /^Share .+ with a supervisor$/ }).click();
  await owner.getByRole("button", { name: "Share to read, with comments" }).click();
  await owner.getByRole("heading", { name: "Not shared with anyone yet" }).waitFor();
  await waitForSynced(owner);
  const url = await invitationLink(owner);

  const supervisorContext = await browser.newContext(LAPTOP);
  const supervisor = await supervisorContext.newPage();
  await createAccount(supervisor, server.origin, uniqueEmail("year-supervisor"));
  await join(supervisor, url, { heading: "Join as a supervisor", button: "Join as their supervisor" }, "Team manager", "Team manager");
  await supervisor.getByRole("link", { name: /Reading on mental capacity/ }).waitFor();
  await checkScreen(supervisor, "a year's supervisor view, supervisor");

  // Written after the share, dated in the year: the owner's app grants it.
  await datedEntry(owner, "Podcast on trauma-informed practice");
  await supervisor.getByRole("link", { name: /Podcast on trauma-informed practice/ }).waitFor({ timeout: 20_000 });
  await supervisor.getByRole("link", { name: /Podcast on trauma-informed practice/ }).click();
  await supervisor.getByRole("heading", { name: /Podcast on trauma-informed practice/, level: 1 }).waitFor();
  await supervisorContext.close();
  await owner.context().close();
});

test("a group's session, written in by two members, is linked to a member's entry as its peer discussion", async () => {
  const owner = await (await browser.newContext(PHONE)).newPage();
  await createAccount(owner, server.origin, uniqueEmail("gr-owner"));
  await owner.getByRole("link", { name: "Entries", exact: true }).click();
  await owner.getByRole("link", { name: "Peer learning groups" }).click();
  await owner.getByRole("heading", { name: "Peer learning groups", level: 1 }).waitFor();
  await checkScreen(owner, "peer learning groups");
  await owner.getByLabel("Group name").fill("Lone workers in adult services");
  await owner.getByRole("button", { name: "Start the group" }).click();
  await owner.getByRole("heading", { name: "Lone workers in adult services", level: 1 }).waitFor();
  await owner.getByLabel("Topic").fill("Working with interpreters");
  await owner.getByRole("button", { name: "Add the session" }).click();
  await owner.getByRole("heading", { name: /^Working with interpreters ·/ }).waitFor();
  await waitForSynced(owner);
  await checkScreen(owner, "group, owner");
  const url = await invitationLink(owner);

  const memberContext = await browser.newContext(LAPTOP);
  const member = await memberContext.newPage();
  await createAccount(member, server.origin, uniqueEmail("gr-member"));
  assert.match(url, /#\/invite\/[^/]+\/group$/);
  await join(member, url, { heading: "Join a peer learning group", button: "Join the group" }, "Alex", "Occupational therapist");
  await member.getByRole("heading", { name: "Lone workers in adult services", level: 1 }).waitFor();
  await member.getByLabel(/^Add what was discussed/).fill("We compared how each team briefs interpreters.");
  await member.getByRole("button", { name: "Add what was discussed" }).click();
  await checkScreen(member, "group, member");

  const said = owner.locator(".contribution", { hasText: "We compared how each team briefs interpreters." });
  await said.waitFor({ timeout: 20_000 });
  assert.match(await said.innerText(), /Occupational therapist/);
  assert.match(await said.innerText(), /New/);
  await owner.getByRole("heading", { name: "Shared with 1 person" }).waitFor();
  await owner.getByLabel(/^Add what was discussed/).fill("Teach-back came up twice.");
  await owner.getByRole("button", { name: "Add what was discussed" }).click();
  await member.getByText("Teach-back came up twice.").waitFor({ timeout: 20_000 });

  // The member makes the session the peer discussion of a new entry of theirs.
  await member.getByLabel("Use as the peer discussion of").selectOption("new");
  await member.getByRole("button", { name: "Link to my entry" }).click();
  await member.getByRole("heading", { name: "Peer discussion from a group session" }).waitFor();
  await member.getByRole("button", { name: "Insert part 2 of the session into Peer reflection" }).click();
  await member.waitForFunction(() => document.querySelector("#peer-text")?.value.includes("Teach-back came up twice."));
  assert.match(await member.locator("#peer-text").inputValue(), /Teach-back came up twice\./);
  await checkScreen(member, "entry linked to a session");
  await memberContext.close();
  await owner.context().close();
});
