import { describe, expect, test } from "vitest";
import { recordingFor } from "./fake-server";
import { newAudioId, RecordingStore } from "./store";

let run = 0;

function bytes(...values: number[]): ArrayBuffer {
  return new Uint8Array(values).buffer;
}

describe("RecordingStore", () => {
  test("chunks come back in order as one file, and survive reopening the database", async () => {
    const name = `voice-store-${++run}`;
    const store = await RecordingStore.open(name);
    const audioId = newAudioId();
    await store.begin(recordingFor(audioId));
    // Eleven chunks: chunk 10 must sort after chunk 2 (numbers, not strings).
    for (let seq = 0; seq <= 10; seq++) await store.append(audioId, seq, bytes(seq, seq));
    store.close();

    const reopened = await RecordingStore.open(name);
    const blob = await reopened.blob(audioId, "audio/webm");
    expect(blob.type).toBe("audio/webm");
    expect([...new Uint8Array(await blob.arrayBuffer())]).toEqual([0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10]);
    expect((await reopened.get(audioId))?.size).toBe(22);
    expect(await reopened.stored(audioId)).toEqual({ size: 22, chunks: 11 });
    reopened.close();
  });

  test("recordings are kept apart, and removing the audio can keep a tombstone", async () => {
    const store = await RecordingStore.open(`voice-store-${++run}`);
    const [a, b] = [newAudioId(), newAudioId()];
    await store.begin(recordingFor(a, { startedAt: 2 }));
    await store.begin(recordingFor(b, { startedAt: 1 }));
    await store.append(a, 0, bytes(1, 2, 3));
    await store.append(b, 0, bytes(9));
    expect((await store.list()).map((r) => r.audioId)).toEqual([b, a]);

    await store.removeAudio(a, true);
    expect((await store.blob(a, "")).size).toBe(0);
    expect(await store.get(a)).toBeDefined();
    expect((await store.blob(b, "")).size).toBe(1);
    await store.removeAudio(a, false);
    expect(await store.get(a)).toBeUndefined();
    store.close();
  });

  test("audio ids fit the contract: 16–64 characters of [A-Za-z0-9_-], and differ", () => {
    const ids = new Set(Array.from({ length: 200 }, newAudioId));
    expect(ids.size).toBe(200);
    for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9_-]{16,64}$/);
  });
});
