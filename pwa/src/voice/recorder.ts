// One recording from the microphone: MediaRecorder hands over a compressed
// chunk about every second and each goes straight to IndexedDB (through the
// VoiceService), so a crash loses at most the last second. While recording
// it holds a screen wake lock (a phone that locks its screen may stop the
// app) and a Web Lock named after the recording (so start-up recovery in
// another tab leaves it alone), and measures the input level for the meter.

import { recordingLockName, type VoiceService } from "./service";

/** Opus in WebM where the browser has it (Chromium, Firefox), else MP4 (Safari). */
export function chooseMimeType(isSupported: (type: string) => boolean): string {
  for (const type of ["audio/webm;codecs=opus", "audio/mp4"]) if (isSupported(type)) return type;
  return "";
}

const BITS_PER_SECOND = 32_000;
const TIMESLICE_MS = 1000;

export class Recorder {
  readonly audioId: string;
  readonly startedAt: number;
  readonly #stream: MediaStream;
  readonly #media: MediaRecorder;
  readonly #service: VoiceService;
  readonly #audio: AudioContext | null;
  readonly #analyser: AnalyserNode | null;
  readonly #samples: Float32Array<ArrayBuffer> | null;
  #writes: Promise<void> = Promise.resolve();
  #seq = 0;
  #wakeLock: WakeLockSentinel | null = null;
  #releaseLock: () => void = () => {};
  #stopped: Promise<void>;
  /** The first chunk that could not be stored, if any. */
  writeError: unknown = null;

  private constructor(service: VoiceService, stream: MediaStream, media: MediaRecorder, audioId: string, startedAt: number) {
    this.#service = service;
    this.#stream = stream;
    this.#media = media;
    this.audioId = audioId;
    this.startedAt = startedAt;
    try {
      this.#audio = new AudioContext();
      this.#analyser = this.#audio.createAnalyser();
      this.#analyser.fftSize = 1024;
      this.#audio.createMediaStreamSource(stream).connect(this.#analyser);
      this.#samples = new Float32Array(this.#analyser.fftSize);
    } catch {
      // No meter is better than no recording.
      this.#audio = null;
      this.#analyser = null;
      this.#samples = null;
    }
    media.ondataavailable = (event) => {
      if (event.data.size === 0) return;
      const seq = this.#seq++;
      // In order, one at a time: chunk n is stored before chunk n + 1.
      this.#writes = this.#writes.then(async () => {
        try {
          await service.append(audioId, seq, await event.data.arrayBuffer());
        } catch (error) {
          this.writeError ??= error;
        }
      });
    };
    this.#stopped = new Promise((resolve) => (media.onstop = () => resolve()));
    void navigator.locks?.request(recordingLockName(audioId), () => new Promise<void>((release) => (this.#releaseLock = release)));
    void this.#keepScreenOn();
    document.addEventListener("visibilitychange", this.#onVisibility);
  }

  /** Asks for the microphone and starts recording into a new voice note. */
  static async start(service: VoiceService, targetDraft: string | null): Promise<Recorder> {
    const stream = await navigator.mediaDevices.getUserMedia({ audio: { echoCancellation: true, noiseSuppression: true } });
    const mimeType = chooseMimeType((type) => MediaRecorder.isTypeSupported(type));
    try {
      const media = new MediaRecorder(stream, { ...(mimeType ? { mimeType } : {}), audioBitsPerSecond: BITS_PER_SECOND });
      const recording = await service.begin(media.mimeType || mimeType || "audio/webm", targetDraft);
      const recorder = new Recorder(service, stream, media, recording.audioId, recording.startedAt);
      media.start(TIMESLICE_MS);
      return recorder;
    } catch (error) {
      // Release the microphone: its indicator must not stay on for nothing.
      for (const track of stream.getTracks()) track.stop();
      throw error;
    }
  }

  get recording(): boolean {
    return this.#media.state === "recording";
  }

  /** Input level from 0 to 1 (RMS, scaled so speech fills most of the meter). */
  level(): number {
    if (!this.#analyser || !this.#samples) return 0;
    this.#analyser.getFloatTimeDomainData(this.#samples);
    let sum = 0;
    for (const sample of this.#samples) sum += sample * sample;
    return Math.min(1, Math.sqrt(sum / this.#samples.length) * 4);
  }

  /** Stops, stores the last chunk and marks the recording finished. */
  async stop(): Promise<void> {
    if (this.#media.state !== "inactive") this.#media.stop();
    await this.#stopped;
    await this.#writes;
    for (const track of this.#stream.getTracks()) track.stop();
    await this.#audio?.close().catch(() => {});
    document.removeEventListener("visibilitychange", this.#onVisibility);
    await this.#wakeLock?.release().catch(() => {});
    this.#wakeLock = null;
    await this.#service.finish(this.audioId);
    this.#releaseLock();
  }

  async #keepScreenOn(): Promise<void> {
    try {
      this.#wakeLock = (await navigator.wakeLock?.request("screen")) ?? null;
    } catch {
      // Refused (battery saver, or the page is hidden): recording goes on.
    }
  }

  // The browser drops a wake lock whenever the page is hidden; take it again on return.
  #onVisibility = () => {
    if (document.visibilityState === "visible" && this.recording) void this.#keepScreenOn();
  };
}
