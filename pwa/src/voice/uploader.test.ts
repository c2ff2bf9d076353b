import { describe, expect, test } from "vitest";
import { AudioApi, VoiceApiError } from "./api";
import { FakeAudioServer } from "./fake-server";
import { backoffDelay, PIECE_BYTES, sha256Hex, upload, type UploadJob } from "./uploader";

function job(size: number, audioId = "audio-0123456789abcdef"): UploadJob {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 31 + 7) & 0xff;
  return { audioId, documentId: "doc", noteId: "note", mimeType: "audio/webm;codecs=opus", bytes };
}

/** Byte-for-byte equality (deep equality of megabytes is slow in Vitest). */
function same(a: Uint8Array | undefined, b: Uint8Array): boolean {
  return a !== undefined && Buffer.from(a).equals(Buffer.from(b));
}

function puts(server: FakeAudioServer): string[] {
  return server.requests.filter((request) => request.startsWith("PUT"));
}

describe("upload", () => {
  test("declares the file with its SHA-256, then sends pieces of at most 1 MiB in order", async () => {
    const server = new FakeAudioServer();
    const file = job(2.5 * PIECE_BYTES);
    const progress: number[] = [];
    const status = await upload(new AudioApi(server.fetch), file, (received) => progress.push(received));
    expect(status.state).toBe("queued");
    expect(server.files.get(file.audioId)?.declaration.sha256).toBe(await sha256Hex(file.bytes));
    expect(same(server.files.get(file.audioId)?.bytes, file.bytes)).toBe(true);
    expect(puts(server)).toEqual([0, PIECE_BYTES, 2 * PIECE_BYTES].map((offset) => `PUT /api/audio/${file.audioId}?offset=${offset}`));
    expect(progress).toEqual([0, PIECE_BYTES, 2 * PIECE_BYTES, file.bytes.byteLength]);
  });

  test("resumes where the server is after an interrupted pass", async () => {
    const server = new FakeAudioServer();
    const api = new AudioApi(server.fetch);
    const file = job(3 * PIECE_BYTES);
    // The first pass loses its signal after one piece.
    let calls = 0;
    const flaky = new AudioApi(async (input, init) => {
      if (init?.method === "PUT" && ++calls === 2) throw new TypeError("Failed to fetch");
      return server.fetch(input, init);
    });
    await expect(upload(flaky, file, () => {})).rejects.toMatchObject({ status: 0, transient: true });
    expect(server.files.get(file.audioId)?.bytes.byteLength).toBe(PIECE_BYTES);
    server.requests.length = 0;
    const status = await upload(api, file, () => {});
    expect(status.state).toBe("queued");
    expect(puts(server)).toEqual([`PUT /api/audio/${file.audioId}?offset=${PIECE_BYTES}`, `PUT /api/audio/${file.audioId}?offset=${2 * PIECE_BYTES}`]);
    expect(same(server.files.get(file.audioId)?.bytes, file.bytes)).toBe(true);
  });

  test("a 409 wrong_offset carries on from the bytes the server says it has", async () => {
    const server = new FakeAudioServer();
    const file = job(2 * PIECE_BYTES + 5);
    // Another tab sent the first piece just before this pass's first PUT.
    let first = true;
    const racing = new AudioApi(async (input, init) => {
      if (init?.method === "PUT" && first) {
        first = false;
        await server.fetch(input, init);
      }
      return server.fetch(input, init);
    });
    const status = await upload(racing, file, () => {});
    expect(status.state).toBe("queued");
    expect(puts(server).map((request) => request.split("=")[1])).toEqual(["0", "0", String(PIECE_BYTES), String(2 * PIECE_BYTES)]);
    expect(same(server.files.get(file.audioId)?.bytes, file.bytes)).toBe(true);
  });

  test("a 422 hash_mismatch starts again from 0, and gives up after repeated damage", async () => {
    const server = new FakeAudioServer();
    const file = job(PIECE_BYTES + 10);
    server.corruptNext = 1;
    expect((await upload(new AudioApi(server.fetch), file, () => {})).state).toBe("queued");
    expect(puts(server).map((request) => request.split("=")[1])).toEqual(["0", String(PIECE_BYTES), "0", String(PIECE_BYTES)]);

    const broken = new FakeAudioServer();
    broken.corruptNext = 10;
    const error = await upload(new AudioApi(broken.fetch), file, () => {}).catch((e) => e);
    expect(error).toBeInstanceOf(VoiceApiError);
    expect(error.code).toBe("hash_mismatch");
    expect(error.transient).toBe(false);
  });

  test("a file the server already has completely is not sent again", async () => {
    const server = new FakeAudioServer();
    const file = job(1000);
    await upload(new AudioApi(server.fetch), file, () => {});
    server.requests.length = 0;
    const again = await upload(new AudioApi(server.fetch), file, () => {});
    expect(again.state).toBe("queued");
    expect(server.requests).toEqual(["POST /api/audio"]);
  });

  test("refusals are passed on with the server's words, and are not transient", async () => {
    const server = new FakeAudioServer();
    server.refuseNext = { status: 413, code: "audio_quota", message: "You have used 1.0 GB of 1.0 GB for recordings." };
    const error = await upload(new AudioApi(server.fetch), job(10), () => {}).catch((e) => e);
    expect(error).toMatchObject({ status: 413, code: "audio_quota", message: "You have used 1.0 GB of 1.0 GB for recordings.", transient: false });
  });
});

describe("backoffDelay", () => {
  test("grows exponentially, is jittered over the whole range, and is capped", () => {
    expect(backoffDelay(0, 0.999)).toBeLessThanOrEqual(1000);
    expect(backoffDelay(3, 0.5)).toBe(4000);
    expect(backoffDelay(3, 0)).toBe(0);
    expect(backoffDelay(40, 0.999)).toBeLessThanOrEqual(5 * 60_000);
    expect(backoffDelay(40, 0.999)).toBeGreaterThan(4 * 60_000);
  });
});
