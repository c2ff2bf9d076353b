// The new-device benchmark (run by `make bench-pwa-new-device`): an account
// with ENTRIES entries, written by the official automerge-repo client as
// another device would (not by the page under test), then a fresh Chromium
// profile signs in and is timed from the Sign in click until the Entries list
// shows every entry and the Year screen counts them right, unthrottled and at
// 4x CPU slowdown. Targets (#17): 1.5 s unthrottled, 5 s at 4x.
//
// PROFILE=1 also records the page's JavaScript with the CDP profiler on the
// last run of each rate, prints the functions with the most self time and
// writes the profile to pwa/test-results/new-device-<rate>x.cpuprofile (open
// it in Chromium's DevTools, Performance panel).
import { writeFileSync } from "node:fs";
import { Repo } from "@automerge/automerge-repo";
import { WebSocketClientAdapter } from "@automerge/automerge-repo-network-websocket";
import { PASSWORD, PHONE, artefactPath, launchBrowser, startServer, uniqueEmail } from "../e2e/support.mjs";

const ENTRIES = Number(process.env.ENTRIES ?? 500);
const RUNS = Number(process.env.RUNS ?? 3);
const RATES = (process.env.RATES ?? "1,4").split(",").map(Number);
const PAUSE_MS = 3000;
const DAY_MS = 86_400_000;

// Varied words, so no two entries' texts are near-identical (the Year screen
// counts those once) and the list is not drawn from one repeated string.
const WORDS = (
  "assessment family home visit interpreter carer court hearing supervision reflection safeguarding child adult " +
  "mental capacity advocacy housing school nurse police referral plan review meeting strengths risk consent " +
  "trauma attachment neglect domestic abuse substance misuse kinship foster placement contact transition " +
  "learning disability autism dementia hospital discharge benefits debt poverty culture language faith identity"
).split(" ");

/** A small deterministic generator, so every run writes the same account. */
function random(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

function sentence(next, words) {
  return Array.from({ length: words }, () => WORDS[Math.floor(next() * WORDS.length)]).join(" ");
}

/** Entry i: dated i*2 days before today; a third each draft, ready and recorded; every fourth with a peer reflection. */
function entry(i, now, next) {
  const status = ["draft", "ready", "recorded"][i % 3];
  const activityDate = new Date(now - i * 2 * DAY_MS).toISOString().slice(0, 10);
  const createdAt = now - i * 2 * DAY_MS;
  return {
    type: "fieldbook/entry",
    schemaVersion: 1,
    createdAt,
    updatedAt: createdAt + 1000,
    status,
    recordedOnSweAt: status === "recorded" ? createdAt + 2000 : null,
    title: `Entry ${i}: ${sentence(next, 5)}`,
    activityDate,
    activityType: "Supervision",
    description: sentence(next, 40),
    learning: sentence(next, 30),
    impact: sentence(next, 30),
    peerReflection: i % 4 === 0 ? { peerRole: "Social worker", discussedOn: activityDate, text: sentence(next, 20) } : null,
    standards: ["3.1"],
    pcf: ["values"],
    tags: [],
    notes: [{ id: `note-${i}`, createdAt, device: "Old phone", kind: "text", text: sentence(next, 25), audio: null, transcript: null }],
    dismissedFlags: [],
    evidence: [],
    mergeMarks: {},
  };
}

async function api(origin, path, body) {
  const response = await fetch(origin + path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  if (!response.ok) throw new Error(`${path}: HTTP ${response.status} ${await response.text()}`);
  return response.json();
}

/** Registers an account and fills it from another device; returns what the Year screen must show. */
async function makeAccount(origin) {
  const email = uniqueEmail("new-device");
  await api(origin, "/api/auth/register", { email, password: PASSWORD });
  const session = await api(origin, "/api/auth/login", { email, password: PASSWORD, deviceName: "Old phone" });
  const host = new URL(origin).host;
  const adapter = new WebSocketClientAdapter(`ws://token:${encodeURIComponent(session.token)}@${host}/sync`, 200);
  const repo = new Repo({ network: [adapter], sharePolicy: async () => true });
  const root = await repo.find(session.rootDocUrl);
  const now = Date.now();
  const next = random(17);
  const docs = Array.from({ length: ENTRIES }, (_, i) => entry(i, now, next));
  const handles = docs.map((doc) => repo.create(doc));
  root.change((doc) => {
    handles.forEach((handle, i) => (doc.entries[handle.documentId] = { addedAt: docs[i].createdAt }));
  });
  // Until the server has acknowledged every document (its heads in our sync state).
  const server = () => repo.getStorageIdOfPeer(adapter.remotePeerId);
  const held = (handle) => {
    const heads = server() && handle.getSyncInfo(server())?.lastHeads;
    return heads && heads.join() === handle.heads().join();
  };
  const deadline = Date.now() + 120_000;
  while (![root, ...handles].every(held)) {
    if (Date.now() > deadline) throw new Error("the server did not acknowledge every entry in 120 s");
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await repo.shutdown();
  return { email, expected: yearExpectations(docs, new Date(now)) };
}

/** The registration year (1 December to 30 November) holding a day. */
function yearOf(date) {
  const [y, m] = date.split("-").map(Number);
  const start = m === 12 ? y : y - 1;
  return `${start}–${String((start + 1) % 100).padStart(2, "0")}`;
}

/** What the Year screen says for the current year and the one before. */
function yearExpectations(docs, today) {
  const current = yearOf(today.toISOString().slice(0, 10));
  const start = Number(current.slice(0, 4));
  return [current, `${start - 1}–${String(start % 100).padStart(2, "0")}`].map((label) => {
    const inYear = docs.filter((doc) => yearOf(doc.activityDate) === label);
    const count = (status) => inYear.filter((doc) => doc.status === status).length;
    const done = inYear.length - count("draft");
    const drafts = count("draft");
    return {
      label,
      listed: inYear.length,
      pieces: done >= 2 ? `${done} pieces of CPD: done` : `${done} of 2 pieces of CPD`,
      counts: `${count("recorded")} recorded on SWE, ${count("ready")} ready to record, ${drafts} still ${drafts === 1 ? "a draft" : "drafts"}.`,
    };
  });
}

/** One sign-in on a fresh profile; returns ms from the click to the full list, and to the right Year screens. */
async function newDevice(browser, origin, account, rate, profilePath) {
  const context = await browser.newContext({ ...PHONE });
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send("Emulation.setCPUThrottlingRate", { rate });
  await page.goto(origin + "/");
  await page.getByLabel("Email").fill(account.email);
  await page.getByLabel("Password").fill(PASSWORD);
  if (profilePath) {
    await cdp.send("Profiler.enable");
    await cdp.send("Profiler.setSamplingInterval", { interval: 1000 });
    await cdp.send("Profiler.start");
  }
  const started = Date.now();
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await page.getByRole("heading", { name: "Capture" }).waitFor({ timeout: 120_000 });
  await page.getByRole("link", { name: "Entries" }).click();
  await page.waitForFunction(
    (entries) => document.querySelectorAll(".draft-list .draft-link").length === entries && !document.querySelector(".draft-pending"),
    ENTRIES,
    { timeout: 120_000 },
  );
  const listed = Date.now() - started;
  await page.getByRole("link", { name: "Year" }).click();
  for (const [index, year] of account.expected.entries()) {
    if (index > 0) await page.locator("#year-select").selectOption(year.label);
    await page.getByRole("heading", { name: `Registration year ${year.label}` }).waitFor({ timeout: 120_000 });
    await page.getByText(year.pieces, { exact: true }).waitFor({ timeout: 120_000 });
    await page.getByText(year.counts, { exact: false }).waitFor({ timeout: 120_000 });
    const shown = await page.locator(".year .draft-list .draft-item").count();
    if (shown !== year.listed) throw new Error(`${year.label}: the Year screen lists ${shown} entries, not ${year.listed}`);
  }
  const year = Date.now() - started;
  if (profilePath) {
    const { profile } = await cdp.send("Profiler.stop");
    writeFileSync(profilePath, JSON.stringify(profile));
    printHotSpots(profile);
  }
  await context.close();
  return { listed, year };
}

/** The functions with the most self time in a CDP CPU profile, and the share of time under each (inclusive). */
function printHotSpots(profile) {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const samples = new Map();
  for (const id of profile.samples) samples.set(id, (samples.get(id) ?? 0) + 1);
  const name = (node) => `${node.callFrame.functionName || "(anonymous)"} ${node.callFrame.url.split("/").pop()}:${node.callFrame.lineNumber + 1}`;
  const self = new Map();
  const inclusive = new Map();
  for (const [id, count] of samples) {
    self.set(name(byId.get(id)), (self.get(name(byId.get(id))) ?? 0) + count);
    const seen = new Set();
    for (let at = id; at !== undefined; at = parent.get(at)) {
      const key = name(byId.get(at));
      if (!seen.has(key)) inclusive.set(key, (inclusive.get(key) ?? 0) + count);
      seen.add(key);
    }
  }
  const total = profile.samples.length;
  const top = (map) => [...map].sort((a, b) => b[1] - a[1]).slice(0, 25).map(([key, count]) => `    ${((100 * count) / total).toFixed(1)}% ${key}`).join("\n");
  console.log(`  profile: ${total} samples; self time:\n${top(self)}\n  inclusive:\n${top(inclusive)}`);
}

const server = await startServer();
const browser = await launchBrowser();
try {
  const setupStarted = Date.now();
  const account = await makeAccount(server.origin);
  console.log(`New device: ${ENTRIES} entries written by the automerge-repo client in ${Date.now() - setupStarted} ms; expected ${JSON.stringify(account.expected)}`);
  for (const rate of RATES) {
    const runs = [];
    for (let run = 0; run < RUNS; run++) {
      const profile = process.env.PROFILE && run === RUNS - 1 ? artefactPath(`new-device-${rate}x.cpuprofile`) : null;
      runs.push(await newDevice(browser, server.origin, account, rate, profile));
      await new Promise((resolve) => setTimeout(resolve, PAUSE_MS));
    }
    const target = rate === 1 ? 1500 : 5000;
    const fmt = (key) => runs.map((r) => r[key]).join(", ");
    const median = (key) => [...runs.map((r) => r[key])].sort((a, b) => a - b)[Math.floor(runs.length / 2)];
    console.log(`  CPU ${rate}x, ${RUNS} fresh profiles: all ${ENTRIES} listed ${median("listed")} ms median (${fmt("listed")}); Year screens right ${median("year")} ms median (${fmt("year")}); target ${target} ms`);
  }
} finally {
  await browser.close();
  await server.stop();
}
