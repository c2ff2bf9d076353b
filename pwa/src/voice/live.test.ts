import { afterEach, describe, expect, test } from "vitest";
import { localRecognitionAvailable, startLocalRecognition } from "./live";
import { chooseMimeType } from "./recorder";

const scope = globalThis as Record<string, unknown>;

afterEach(() => {
  delete scope.SpeechRecognition;
  delete scope.webkitSpeechRecognition;
});

/** A SpeechRecognition class whose `available` answers `answer`, remembering what it was asked and how it was set up. */
function fakeRecognition(answer: string | null) {
  const seen: { asked: unknown[]; started: Record<string, unknown>[] } = { asked: [], started: [] };
  class Fake {
    lang = "";
    continuous = false;
    interimResults = false;
    processLocally = false;
    onresult: ((event: unknown) => void) | null = null;
    onerror: (() => void) | null = null;
    start() {
      seen.started.push({ lang: this.lang, processLocally: this.processLocally, continuous: this.continuous });
      this.onresult?.({ results: { length: 2, 0: { isFinal: true, 0: { transcript: "Met the health visitor" } }, 1: { isFinal: false, 0: { transcript: " today" } } } });
    }
    stop() {}
    static available?: (options: unknown) => Promise<string>;
  }
  if (answer !== null) {
    Fake.available = async (options) => {
      seen.asked.push(options);
      return answer;
    };
  }
  return { Fake, seen };
}

describe("live transcript", () => {
  test("is offered only when on-device recognition of en-GB is available now", async () => {
    expect(await localRecognitionAvailable()).toBe(false);

    // A recogniser that cannot promise local processing (older Chrome: cloud) is never used.
    scope.webkitSpeechRecognition = fakeRecognition(null).Fake;
    expect(await localRecognitionAvailable()).toBe(false);

    for (const answer of ["unavailable", "downloadable", "downloading"]) {
      scope.SpeechRecognition = fakeRecognition(answer).Fake;
      expect(await localRecognitionAvailable()).toBe(false);
    }

    const { Fake, seen } = fakeRecognition("available");
    scope.SpeechRecognition = Fake;
    expect(await localRecognitionAvailable()).toBe(true);
    expect(seen.asked).toEqual([{ langs: ["en-GB"], processLocally: true }]);
  });

  test("asks the recogniser to process locally, and joins the results", () => {
    const { Fake, seen } = fakeRecognition("available");
    scope.SpeechRecognition = Fake;
    let text = "";
    const stop = startLocalRecognition((latest) => (text = latest));
    expect(seen.started).toEqual([{ lang: "en-GB", processLocally: true, continuous: true }]);
    expect(text).toBe("Met the health visitor today");
    stop();
  });
});

describe("chooseMimeType", () => {
  test("prefers Opus in WebM, then MP4 (Safari), else lets the browser choose", () => {
    expect(chooseMimeType(() => true)).toBe("audio/webm;codecs=opus");
    expect(chooseMimeType((type) => type === "audio/mp4")).toBe("audio/mp4");
    expect(chooseMimeType(() => false)).toBe("");
  });
});
