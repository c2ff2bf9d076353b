import { describe, expect, test } from "vitest";
import { asDraftId, type DraftId } from "../sync/ids";
import { AudioApi } from "./api";
import { FakeAudioServer, recordingFor } from "./fake-server";
import { VoiceService, type VoiceDrafts, type VoiceEnvironment } from "./service";
import { localStatus } from "./status";
import { newAudioId, RecordingStore } from "./store";

let run = 0;

/** Drafts as the service sees them: which drafts are on this device, and the voice notes added. */
class FakeDrafts implements VoiceDrafts {
  readonly here = new Set<string>();
  readonly added: { draft: string; audioId: string }[] = [];
  #drafts = 0;

  async whenLoaded(id: DraftId): Promise<boolean> {
    return this.here.has(id);
  }

  addVoiceNote(id: DraftId | null, audioId: string): { id: DraftId; noteId: string } | null {
    if (id !== null && !this.here.has(id)) return null;
    const draft = id ?? `new-draft-${++this.#drafts}`;
    this.here.add(draft);
    this.added.push({ draft, audioId });
    return { id: asDraftId(draft), noteId: `note-for-${audioId}` };
  }

  async flush(): Promise<void> {}
}

class Env implements VoiceEnvironment {
  isOnline = true;
  clock = 10_000;
  recordingNow = new Set<string>();
  online = () => this.isOnline;
  isRecording = async (audioId: string) => this.recordingNow.has(audioId);
  random = () => 0.5;
  now = () => this.clock;
}

async function setup() {
  const name = `voice-service-${++run}`;
  const store = await RecordingStore.open(name);
  const server = new FakeAudioServer();
  const env = new Env();
  const service = new VoiceService(store, new AudioApi(server.fetch), env);
  await service.start();
  return { name, store, server, env, service };
}

/** Records `chunks` one-second chunks (n bytes each) into a new recording. */
async function record(service: VoiceService, chunks: number[], target: string | null = null) {
  const recording = await service.begin("audio/webm;codecs=opus", target);
  for (const [seq, size] of chunks.entries()) await service.append(recording.audioId, seq, new Uint8Array(size).fill(seq + 1).buffer);
  return recording.audioId;
}

describe("VoiceService: recording and recovery", () => {
  test("a recording cut off by a reload is recovered with every stored chunk, playable and ready to upload", async () => {
    const { name, service, store } = await setup();
    const audioId = await record(service, [100, 200, 300]);
    expect(service.status(audioId)).toEqual({ kind: "recording" });
    store.close();

    // The page reloads: a new service over the same database.
    const env = new Env();
    const reopened = new VoiceService(await RecordingStore.open(name), new AudioApi(new FakeAudioServer().fetch), env);
    await reopened.start();
    const recovered = reopened.recording(audioId)!;
    expect(recovered.finishedAt).toBe(env.clock);
    expect(recovered.recovered).toBe(true);
    expect(recovered.size).toBe(600);
    const blob = await reopened.store.blob(audioId, recovered.mimeType);
    expect(blob.size).toBe(600);
    expect(new Uint8Array(await blob.arrayBuffer())[599]).toBe(3);
    expect(reopened.status(audioId)).toEqual({ kind: "waiting", offline: false });
  });

  test("recovery leaves a recording another tab is still making, and drops one that never saved a second", async () => {
    const { name, store } = await setup();
    const busy = newAudioId();
    const empty = newAudioId();
    await store.begin(recordingFor(busy));
    await store.append(busy, 0, new Uint8Array(10).buffer);
    await store.begin(recordingFor(empty));
    store.close();

    const env = new Env();
    env.recordingNow.add(busy);
    const service = new VoiceService(await RecordingStore.open(name), new AudioApi(new FakeAudioServer().fetch), env);
    await service.start();
    expect(service.recording(busy)?.finishedAt).toBeNull();
    expect(service.recording(empty)).toBeUndefined();
    expect(await service.store.get(empty)).toBeUndefined();
  });

  test("each recording gets one voice note: in its draft when that is here, else in a new draft", async () => {
    const { service } = await setup();
    const drafts = new FakeDrafts();
    drafts.here.add("draft-here");
    // Recorded before the drafts had loaded.
    const early = await record(service, [10], "draft-here");
    const elsewhere = await record(service, [10], "draft-not-here");
    await Promise.all([service.setDrafts(drafts), service.setDrafts(drafts)]);
    const later = await record(service, [10], null);
    expect(drafts.added).toEqual([
      { draft: "draft-here", audioId: early },
      { draft: "new-draft-1", audioId: elsewhere },
      { draft: "new-draft-2", audioId: later },
    ]);
    expect(service.recording(early)).toMatchObject({ draftId: "draft-here", noteId: `note-for-${early}` });
    expect((await service.store.get(later))?.noteId).toBe(`note-for-${later}`);
  });
});

describe("VoiceService: upload", () => {
  test("waits for signal, then uploads, follows transcription and shows the result", async () => {
    const { service, server, env } = await setup();
    await service.setDrafts(new FakeDrafts());
    env.isOnline = false;
    const audioId = await record(service, [1000, 2000]);
    await service.finish(audioId);
    await service.pump();
    expect(server.requests).toEqual([]);
    expect(service.status(audioId)).toEqual({ kind: "waiting", offline: true });

    env.isOnline = true;
    service.onOnline();
    await service.pump();
    expect(service.status(audioId)).toEqual({ kind: "queued" });
    expect(server.files.get(audioId)?.bytes.byteLength).toBe(3000);
    expect(server.files.get(audioId)?.declaration).toMatchObject({ noteId: `note-for-${audioId}`, documentId: "new-draft-1", size: 3000 });

    server.files.get(audioId)!.state = "done";
    env.clock += 10_000;
    await service.tick();
    expect(service.status(audioId)).toEqual({ kind: "done" });
    expect((await service.store.get(audioId))?.upload).toEqual({ state: "done" });
  });

  test("no signal mid-upload backs off with jitter, then resumes from the server's count", async () => {
    const { service, server, env } = await setup();
    await service.setDrafts(new FakeDrafts());
    const audioId = await record(service, [1000]);
    server.dropNext = 1;
    await service.finish(audioId);
    await service.pump();
    expect(service.lastError).toBe("No connection to the Fieldbook server.");
    expect(service.status(audioId)?.kind).toBe("waiting");

    // Not before the backoff (random 0.5 of 1 s for the first attempt).
    const requests = server.requests.length;
    env.clock += 100;
    await service.tick();
    expect(server.requests.length).toBe(requests + 0);
    env.clock += 500;
    await service.tick();
    expect(service.status(audioId)).toEqual({ kind: "queued" });
    expect(service.lastError).toBeNull();
  });

  test("a draft not yet synced to the server (404) is waited for with backoff, then shown as failed", async () => {
    const { service, server, env } = await setup();
    await service.setDrafts(new FakeDrafts());
    const audioId = await record(service, [100]);
    const missing = { status: 404, code: "not_found", message: "Not found." };
    server.refuseNext = missing;
    await service.finish(audioId);
    await service.pump();
    expect(service.status(audioId)?.kind).toBe("waiting");
    expect(service.lastError).toBe("Waiting for the draft to reach the server.");
    env.clock += 60_000;
    await service.tick();
    expect(service.status(audioId)).toEqual({ kind: "queued" });

    // Never synced (say, deleted meanwhile): the ninth refusal is shown.
    const other = await record(service, [100]);
    server.refuseNext = missing;
    await service.finish(other);
    await service.pump();
    for (let attempt = 2; attempt <= 9; attempt++) {
      expect(service.status(other)?.kind).toBe("waiting");
      server.refuseNext = missing;
      env.clock += 10 * 60_000;
      await service.tick();
    }
    expect(service.status(other)).toMatchObject({ kind: "failed", reason: expect.stringContaining("not on the server") });
  });

  test("a refusal is shown with the server's reason; Retry uploads again", async () => {
    const { service, server } = await setup();
    await service.setDrafts(new FakeDrafts());
    const audioId = await record(service, [1000]);
    server.refuseNext = { status: 413, code: "audio_quota", message: "You have used all 1 GB of space for recordings." };
    await service.finish(audioId);
    await service.pump();
    expect(service.status(audioId)).toEqual({ kind: "failed", reason: "You have used all 1 GB of space for recordings." });

    await service.retry(audioId);
    await service.pump();
    expect(service.status(audioId)).toEqual({ kind: "queued" });
  });

  test("a failed transcription is retried on the server", async () => {
    const { service, server, env } = await setup();
    await service.setDrafts(new FakeDrafts());
    const audioId = await record(service, [500]);
    await service.finish(audioId);
    await service.pump();
    Object.assign(server.files.get(audioId)!, { state: "failed", error: "The recording could not be decoded." });
    env.clock += 10_000;
    await service.tick();
    expect(service.status(audioId)).toEqual({ kind: "failed", reason: "The recording could not be decoded." });
    await service.retry(audioId);
    expect(server.requests.at(-1)).toBe(`POST /api/audio/${audioId}/retry`);
    expect(service.status(audioId)).toEqual({ kind: "queued" });
  });

  test("deleting removes the audio here at once and on the server when there is signal", async () => {
    const { service, server, env } = await setup();
    await service.setDrafts(new FakeDrafts());
    const audioId = await record(service, [500]);
    await service.finish(audioId);
    await service.pump();
    env.isOnline = false;
    await service.remove(audioId);
    expect((await service.store.blob(audioId, "")).size).toBe(0);
    expect(service.status(audioId)).toEqual({ kind: "deleted" });
    expect(server.files.has(audioId)).toBe(true);

    env.isOnline = true;
    service.onOnline();
    await service.pump();
    expect(server.files.has(audioId)).toBe(false);
    expect(service.recording(audioId)).toBeUndefined();
    expect(await service.store.get(audioId)).toBeUndefined();
  });
});

describe("localStatus", () => {
  test("progress in memory wins; a stored partial upload shows its percentage when online", () => {
    const recording = recordingFor("a", { finishedAt: 1, size: 400, upload: { state: "uploading", received: 100 } });
    expect(localStatus(recording, 50, true)).toEqual({ kind: "uploading", percent: 50 });
    expect(localStatus(recording, undefined, true)).toEqual({ kind: "uploading", percent: 25 });
    expect(localStatus(recording, undefined, false)).toEqual({ kind: "waiting", offline: true });
  });
});
