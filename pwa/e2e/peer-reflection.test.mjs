// Two users reflect together: the owner on a phone starts a conversation
// from an entry and invites by link; the peer, in another browser with
// another account, signs up from the link and joins. Both write offline and
// see the merge; the owner puts the peer's words into SWE's answer, then
// removes the peer, whose app drops the conversation and says why, and whose
// stale offline contribution never reaches the owner.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { LAPTOP, PASSWORD, PHONE, assertNoSeriousViolations, createAccount, goOffline, goOnline, launchBrowser, startServer, uniqueEmail, waitForSynced } from "./support.mjs";

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

const TOPIC = "Working with interpreters";
const DESCRIPTION = "A research briefing on working with interpreters, relevant to my visits to families.";
const OWNER_WORDS = "What changed for you when you met the interpreter first?";
const PEER_WORDS = "Meeting the interpreter before the visit let the family speak for themselves.";
const STALE_WORDS = "Written offline after I was removed.";

function contributions(page) {
  return page.locator(".contribution-text").allTextContents();
}

test("a peer joins by link, both write offline and merge, the owner uses the peer's words and removes them", async () => {
  const ownerContext = await browser.newContext(PHONE);
  await ownerContext.grantPermissions(["clipboard-read", "clipboard-write"], { origin: server.origin });
  const owner = await ownerContext.newPage();
  await createAccount(owner, server.origin, uniqueEmail("owner"));
  await owner.locator("#capture-note").pressSequentially("Briefing on interpreters");
  await owner.getByText("Saved on this phone").waitFor();
  await owner.getByRole("link", { name: "Entries", exact: true }).click();
  await owner.getByRole("link", { name: /Briefing on interpreters/ }).click();
  await owner.getByLabel("Title (for your own list)").fill(TOPIC);
  await owner.locator("#swe-description").fill(DESCRIPTION);

  // An identifying detail in the entry blocks sharing any of it until settled.
  await owner.locator("#swe-learning").fill("I learnt a lot from John Smith.");
  await owner.getByText(/1 possible identifying detail is still open in this entry/).waitFor();
  assert.equal(await owner.getByRole("button", { name: "Reflect with a peer" }).count(), 0);
  await owner.locator("#swe-learning").fill("I learnt to brief the interpreter first.");
  await owner.getByRole("button", { name: "Reflect with a peer" }).click();
  await owner.getByLabel(/What the activity was/).check();
  await owner.getByLabel("Your professional role (shown with what you write, never your name)").fill("Social worker");
  await assertNoSeriousViolations(owner, "starting a peer conversation, phone");
  await owner.getByRole("button", { name: "Start the conversation" }).click();
  await owner.getByRole("heading", { name: TOPIC, level: 1 }).waitFor();
  await owner.getByText("Not shared with anyone yet").waitFor();
  const conversationUrl = owner.url();

  await waitForSynced(owner);
  await owner.getByLabel("Your name as your peer will see it").fill("Sam");
  await owner.getByRole("button", { name: "Make an invitation link" }).click();
  const link = await owner.getByRole("textbox", { name: "Invitation link" }).inputValue();
  assert.match(link, new RegExp(`^${server.origin}/#/invite/[A-Za-z0-9_-]{22,}$`));
  await owner.getByRole("img", { name: "QR code of the invitation link" }).waitFor();
  await owner.getByRole("button", { name: "Copy the link" }).click();
  assert.equal(await owner.evaluate(() => navigator.clipboard.readText()), link);
  await assertNoSeriousViolations(owner, "conversation with an invitation, phone");

  // The peer opens the link signed out, signs up, and lands back on it.
  const peerContext = await browser.newContext(LAPTOP);
  const peer = await peerContext.newPage();
  await peer.goto(link);
  await peer.getByText("You have been invited to a peer conversation.").waitFor();
  await assertNoSeriousViolations(peer, "sign-in from an invitation");
  await peer.getByRole("button", { name: "Create an account" }).click();
  await peer.getByLabel("Email").fill(uniqueEmail("peer"));
  await peer.getByLabel("Password").fill(PASSWORD);
  await peer.getByRole("button", { name: "Create account", exact: true }).click();
  await peer.getByRole("heading", { name: "Join a peer conversation" }).waitFor();
  await assertNoSeriousViolations(peer, "invitation");
  await peer.getByLabel("Your name for this share").fill("Alex");
  await peer.getByLabel("Your professional role (shown with what you write, never your name)").fill("Senior practitioner");
  await peer.getByRole("button", { name: "Join the conversation" }).click();
  await peer.getByRole("heading", { name: TOPIC, level: 1 }).waitFor();
  await peer.getByText(DESCRIPTION).waitFor();
  await peer.getByText("Shared with 1 person").waitFor();
  await owner.getByText("Shared with 1 person").waitFor();
  await owner.getByRole("listitem").filter({ hasText: "Alex · Senior practitioner" }).waitFor();
  // The link is single-use.
  const again = await peerContext.newPage();
  await again.goto(link);
  await again.getByRole("button", { name: "Join the conversation" }).waitFor();
  await again.getByLabel("Your name for this share").fill("Alex");
  await again.getByLabel("Your professional role (shown with what you write, never your name)").fill("Senior practitioner");
  await again.getByRole("button", { name: "Join the conversation" }).click();
  await again.getByRole("alert").filter({ hasText: "already been used" }).waitFor();
  await again.close();

  // Both write while apart.
  await waitForSynced(owner);
  await waitForSynced(peer);
  await goOffline(ownerContext);
  await goOffline(peerContext);
  await owner.getByLabel(/Add to the discussion/).fill("I asked John Smith about it.");
  await owner.getByText("“John Smith”").waitFor();
  assert.equal(await owner.getByRole("button", { name: "Add to the discussion" }).isDisabled(), true, "a name cannot be shared");
  await owner.getByLabel(/Add to the discussion/).fill(OWNER_WORDS);
  await owner.getByRole("button", { name: "Add to the discussion" }).click();
  await peer.getByLabel("Add to the discussion (as Senior practitioner)").fill(PEER_WORDS);
  await peer.getByRole("button", { name: "Add to the discussion" }).click();
  assert.deepEqual(await contributions(owner), [OWNER_WORDS]);
  assert.deepEqual(await contributions(peer), [PEER_WORDS]);
  await goOnline(ownerContext);
  await goOnline(peerContext);
  for (const page of [owner, peer]) {
    await page.waitForFunction((count) => document.querySelectorAll(".contribution-text").length === count, 2, { timeout: 20_000 });
    assert.deepEqual((await contributions(page)).sort(), [OWNER_WORDS, PEER_WORDS].sort());
  }
  const peersOnOwner = owner.locator(".contribution", { hasText: PEER_WORDS });
  assert.match(await peersOnOwner.locator(".contribution-meta").innerText(), /^Senior practitioner · .*New$/);
  assert.match(await owner.locator(".contribution", { hasText: OWNER_WORDS }).locator(".contribution-meta").innerText(), /^You \(Social worker\)/);
  await assertNoSeriousViolations(owner, "conversation after the merge, phone");
  await assertNoSeriousViolations(peer, "conversation after the merge, peer");

  // The owner writes SWE's answer with the peer's words.
  await owner.getByRole("link", { name: "← Back to the entry" }).click();
  const index = (await contributions(owner)).indexOf(PEER_WORDS) + 1;
  await owner.getByRole("button", { name: `Insert part ${index} of the conversation into Peer reflection` }).click();
  await owner.waitForFunction((words) => document.querySelector("#peer-text")?.value === words, PEER_WORDS);
  assert.equal(await owner.locator("#peer-role-other").inputValue(), "Senior practitioner");
  await assertNoSeriousViolations(owner, "entry with its peer conversation, phone");

  // The peer counts it as CPD of their own.
  await peer.getByRole("button", { name: "Make a CPD entry of my own" }).click();
  await peer.locator("#swe-description").waitFor();
  const notes = await peer.locator(".entry-notes textarea").evaluateAll((fields) => fields.map((field) => field.value));
  assert.ok(notes.includes(`Social worker: ${OWNER_WORDS}`), notes.join("\n"));
  assert.ok(notes.includes(`Me: ${PEER_WORDS}`), notes.join("\n"));
  assert.equal(await peer.locator("#peer-role").inputValue(), "Social worker");
  await peer.getByRole("link", { name: "Entries", exact: true }).click();
  await peer.getByRole("link", { name: "Shared with me (1)" }).click();
  await assertNoSeriousViolations(peer, "shared with me");
  await peer.getByRole("link", { name: `Peer conversation: ${TOPIC}` }).click();
  await peer.getByRole("heading", { name: TOPIC, level: 1 }).waitFor();
  await waitForSynced(peer);

  // Removed while offline: what the peer writes then never reaches the owner.
  await goOffline(peerContext);
  await peer.getByLabel(/Add to the discussion/).fill(STALE_WORDS);
  await peer.getByRole("button", { name: "Add to the discussion" }).click();
  await owner.goto(conversationUrl);
  await owner.getByRole("button", { name: "Remove Alex from the conversation" }).click();
  await owner.getByText("Not shared with anyone yet").waitFor();
  await goOnline(peerContext);
  await peer.getByRole("alert").filter({ hasText: `“${TOPIC}” is no longer shared with you.` }).waitFor({ timeout: 20_000 });
  await peer.getByRole("heading", { name: "Conversation not on this device" }).waitFor();
  await assertNoSeriousViolations(peer, "unshared conversation");
  await peer.getByRole("button", { name: "OK" }).click();
  await peer.goto(`${server.origin}/#/shared`);
  await peer.getByText("Nothing is shared with you yet.").waitFor();
  await waitForSynced(owner);
  assert.deepEqual((await contributions(owner)).sort(), [OWNER_WORDS, PEER_WORDS].sort());

  await ownerContext.close();
  await peerContext.close();
});
