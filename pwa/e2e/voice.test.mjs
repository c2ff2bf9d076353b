// Voice notes in the car: Chromium's fake microphone plays a real recording
// of speech; the phone records with no signal, the page reloads
// mid-recording, the recording is recovered and playable, and it uploads to
// the real server when signal returns. Then (when the server transcribes)
// the transcript reaches the note on the laptop.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import {
  LAPTOP, PHONE, artefactPath, assertNoSeriousViolations, createAccount, goOffline, goOnline, launchBrowser, signIn, startServer, uniqueEmail,
  waitForOfflineReady, waitForSynced,
} from "./support.mjs";

const FIXTURE = resolve(import.meta.dirname, "../../../shared/fixtures/audio/chromium156_mediarecorder_librivox0870.webm");
const MODEL = resolve(import.meta.dirname, "../../../shared/models/ggml-tiny.en.bin");

let server;
let browser;
let workDir;
const email = uniqueEmail("voice");

/** The fixture as 16-bit PCM WAV (what Chromium's fake microphone plays),
 * decoded by Chromium itself so the test needs no ffmpeg. */
async function fixtureAsWav(path) {
  const plain = await launchBrowser();
  try {
    const page = await plain.newPage();
    const wav = await page.evaluate(async (base64) => {
      const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
      const audio = await new OfflineAudioContext(1, 1, 48_000).decodeAudioData(bytes.buffer);
      const samples = audio.getChannelData(0);
      const out = new DataView(new ArrayBuffer(44 + samples.length * 2));
      const text = (offset, value) => [...value].forEach((c, i) => out.setUint8(offset + i, c.charCodeAt(0)));
      text(0, "RIFF");
      out.setUint32(4, 36 + samples.length * 2, true);
      text(8, "WAVEfmt ");
      out.setUint32(16, 16, true);
      out.setUint16(20, 1, true); // PCM
      out.setUint16(22, 1, true); // mono
      out.setUint32(24, audio.sampleRate, true);
      out.setUint32(28, audio.sampleRate * 2, true);
      out.setUint16(32, 2, true);
      out.setUint16(34, 16, true);
      text(36, "data");
      out.setUint32(40, samples.length * 2, true);
      samples.forEach((s, i) => out.setInt16(44 + i * 2, Math.max(-1, Math.min(1, s)) * 0x7fff, true));
      let binary = "";
      const all = new Uint8Array(out.buffer);
      for (let i = 0; i < all.length; i += 0x8000) binary += String.fromCharCode(...all.subarray(i, i + 0x8000));
      return btoa(binary);
    }, readFileSync(FIXTURE).toString("base64"));
    writeFileSync(path, Buffer.from(wav, "base64"));
  } finally {
    await plain.close();
  }
}

/** The real server with the test speech model. */
async function startServerWithModel() {
  process.env.FIELDBOOK_SPEECH_MODEL = MODEL;
  try {
    return await startServer();
  } finally {
    delete process.env.FIELDBOOK_SPEECH_MODEL;
  }
}

before(async () => {
  workDir = mkdtempSync(join(tmpdir(), "fieldbook-voice-"));
  const wav = join(workDir, "speech.wav");
  await fixtureAsWav(wav);
  server = await startServerWithModel();
  browser = await launchBrowser(["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream", `--use-file-for-fake-audio-capture=${wav}`]);
});

after(async () => {
  await browser?.close();
  await server?.stop();
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

const recordButton = (page) => page.getByRole("button", { name: "Record a voice note" });
const voiceNote = (page) => page.locator(".voice-recent .voice-note").first();

let audioId;
let uploaded = false;

test("a voice note recorded with no signal survives a reload mid-recording, plays, and uploads when signal returns", async () => {
  const phone = await browser.newContext({ ...PHONE, permissions: ["microphone"] });
  const page = await phone.newPage();
  await createAccount(page, server.origin, email);
  await waitForOfflineReady(page);
  await waitForSynced(page);

  await goOffline(phone);
  await recordButton(page).click();
  await page.getByRole("button", { name: "Stop recording" }).waitFor();
  // Four seconds: at least three one-second chunks are on the device.
  await page.waitForFunction(() => /^0:0[4-9]$/.test(document.querySelector(".voice-elapsed")?.textContent ?? ""), null, { timeout: 15_000 });
  await assertNoSeriousViolations(page, "capture, recording");
  await page.screenshot({ path: artefactPath("voice-recording-phone.png"), fullPage: true });

  // The app is closed mid-recording (a reload, offline: the service worker serves it).
  await page.reload();
  await page.getByRole("heading", { name: "Capture" }).waitFor();
  const note = voiceNote(page);
  await note.getByText("Recovered after the app closed while recording.").waitFor();
  await note.getByText("Waiting for signal to upload.").waitFor();
  audioId = await note.getAttribute("data-audio");
  assert.match(audioId, /^[A-Za-z0-9_-]{16,64}$/);

  // Playable: the page's own <audio> loads the recovered file, knows its
  // length, and plays it.
  const seconds = await note.locator("audio").evaluate(async (audio) => {
    const event = (name) => new Promise((resolve) => audio.addEventListener(name, resolve, { once: true }));
    if (audio.readyState < 1) await event("loadedmetadata");
    // MediaRecorder's WebM has no length in its header: the player seeks to the end to find it.
    while (!Number.isFinite(audio.duration)) await event("durationchange");
    const duration = audio.duration;
    audio.currentTime = 0;
    audio.muted = true;
    await audio.play();
    audio.pause();
    return duration;
  });
  assert.ok(seconds >= 2.5 && seconds < 30, `recovered ${seconds} s of audio, expected at least 2.5 s`);
  await page.screenshot({ path: artefactPath("voice-recovered-phone.png"), fullPage: true });

  // The voice note is in a draft.
  await page.getByRole("link", { name: "Entries", exact: true }).click();
  await page.getByRole("link", { name: /1 note/ }).waitFor();
  await page.goBack();

  await goOnline(phone);
  await waitForSynced(page);
  await page.locator(`.voice-note[data-audio="${audioId}"]:is([data-voice-status="queued"], [data-voice-status="transcribing"], [data-voice-status="done"], [data-voice-status="no-model"])`).waitFor({ timeout: 30_000 });
  const status = await page.evaluate(async (id) => (await fetch(`/api/audio/${id}`)).json(), audioId);
  assert.equal(status.received, status.size);
  assert.ok(status.size > 0);
  uploaded = true;
  await phone.close();
});

test("the transcript appears in the note on the laptop", async () => {
  assert.ok(uploaded, "the recording of the previous test reached the server");
  const laptop = await browser.newContext({ ...LAPTOP });
  const page = await laptop.newPage();
  await signIn(page, server.origin, email);
  const state = await page.evaluate(async (id) => (await (await fetch(`/api/audio/${id}`)).json()).state, audioId);
  assert.notEqual(state, "no-model", "the server runs with the test model");
  await page.getByRole("link", { name: "Entries", exact: true }).click();
  await page.getByRole("link", { name: /1 note/ }).click();
  const transcript = page.locator(`.voice-note[data-audio="${audioId}"] .voice-transcript blockquote`);
  // Generous: whisper runs on a shared 2-core CI machine, in a debug build of the server.
  await transcript.waitFor({ timeout: 120_000 });
  // The fixture is a LibriVox reading of "Sense and Sensibility" (the words
  // before the reload): "…Mr. John Dashwood had then leisure to consider…".
  assert.match(await transcript.textContent(), /dashwood|leisure|consider/i);
  // The laptop plays the recording from the server.
  const seconds = await page.locator(`.voice-note[data-audio="${audioId}"] audio`).evaluate(async (audio) => {
    const event = (name) => new Promise((resolve) => audio.addEventListener(name, resolve, { once: true }));
    if (audio.readyState < 1) await event("loadedmetadata");
    while (!Number.isFinite(audio.duration)) await event("durationchange");
    return audio.duration;
  });
  assert.ok(seconds >= 2.5, `the laptop plays ${seconds} s of the recording`);
  await page.screenshot({ path: artefactPath("voice-transcript-desktop.png"), fullPage: true });
  await laptop.close();
});

test("a recording goes on while the user looks at other screens, stops from Capture, and can be deleted", async () => {
  const phone = await browser.newContext({ ...PHONE, permissions: ["microphone"] });
  const page = await phone.newPage();
  await signIn(page, server.origin, email);
  await recordButton(page).click();
  await page.getByRole("button", { name: "Stop recording" }).waitFor();
  await page.getByRole("link", { name: "Entries", exact: true }).click();
  await page.getByRole("heading", { name: "Entries" }).first().waitFor();
  await page.getByRole("link", { name: "Capture", exact: true }).click();
  await page.waitForFunction(() => /^0:0[3-9]$/.test(document.querySelector(".voice-elapsed")?.textContent ?? ""), null, { timeout: 15_000 });
  // The phone sends the app to the background (headless Chromium never hides
  // a page, so the page is told it was hidden) and the user is warned.
  await page.evaluate(() => {
    Object.defineProperty(document, "visibilityState", { configurable: true, get: () => "hidden" });
    document.dispatchEvent(new Event("visibilitychange"));
    delete document.visibilityState;
    document.dispatchEvent(new Event("visibilitychange"));
  });
  await page.getByRole("alert").filter({ hasText: "Fieldbook went to the background while recording" }).waitFor();
  await page.getByRole("button", { name: "Stop recording" }).click();
  await recordButton(page).waitFor();

  const note = voiceNote(page);
  const id = await note.getAttribute("data-audio");
  assert.notEqual(id, audioId, "the newest recording is listed first");
  assert.notEqual(await note.getAttribute("data-voice-status"), "recording");
  await note.getByRole("button", { name: "Delete recording" }).click();
  await note.getByRole("button", { name: "Yes, delete the recording" }).click();
  await page.locator(`.voice-note[data-audio="${id}"]`).waitFor({ state: "detached" });
  await phone.close();
});
