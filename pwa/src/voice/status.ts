// What the user sees about one voice note: a status the UI can render, and
// the plain words for it.

import type { AudioStatus } from "./api";
import type { Recording } from "./store";

export type VoiceStatus =
  | { kind: "recording" }
  /** On this device, to upload when there is signal. */
  | { kind: "waiting"; offline: boolean }
  | { kind: "uploading"; percent: number }
  | { kind: "queued" }
  | { kind: "transcribing" }
  | { kind: "done" }
  | { kind: "no-model" }
  | { kind: "failed"; reason: string }
  /** Deleted here; the server's copy is removed when there is signal. */
  | { kind: "deleted" }
  /** Recorded on another device and not (yet) on the server. */
  | { kind: "not-on-server" }
  /** Recorded on another device; asking the server. */
  | { kind: "unknown" };

/** The status of a recording held on this device. */
export function localStatus(recording: Recording, progress: number | undefined, online: boolean): VoiceStatus {
  if (recording.finishedAt === null) return { kind: "recording" };
  const upload = recording.upload;
  switch (upload.state) {
    case "pending":
    case "uploading":
      if (progress !== undefined) return { kind: "uploading", percent: progress };
      if (upload.state === "uploading" && online) return { kind: "uploading", percent: percent(upload.received, recording.size) };
      return { kind: "waiting", offline: !online };
    case "failed":
      return { kind: "failed", reason: upload.reason };
    case "deleting":
      return { kind: "deleted" };
    default:
      return { kind: upload.state };
  }
}

/** The status of a recording from another device, from the server's answer. */
export function remoteStatus(status: AudioStatus | null): VoiceStatus {
  if (!status) return { kind: "not-on-server" };
  if (status.state === "uploading") return { kind: "uploading", percent: percent(status.received, status.size) };
  if (status.state === "failed") return { kind: "failed", reason: status.error ?? "The server could not transcribe this recording." };
  return { kind: status.state };
}

export function percent(received: number, size: number): number {
  return size > 0 ? Math.floor((received / size) * 100) : 0;
}

export function statusText(status: VoiceStatus, device: string): string {
  switch (status.kind) {
    case "recording":
      return "Recording…";
    case "waiting":
      return status.offline ? "Saved on this device. Waiting for signal to upload." : "Saved on this device. Uploading soon.";
    case "uploading":
      return `Uploading (${status.percent}%)`;
    case "queued":
      return "Uploaded. Waiting to be transcribed.";
    case "transcribing":
      return "Transcribing…";
    case "done":
      return "Transcribed.";
    case "no-model":
      return "Uploaded. The server cannot transcribe yet (no speech model set up); the recording is kept.";
    case "failed":
      return `Failed: ${status.reason}`;
    case "deleted":
      return "Recording deleted. Any transcript stays in the note.";
    case "not-on-server":
      return `The recording is not on the server: it has not been uploaded from ${device || "the device that recorded it"} yet, or it was deleted.`;
    case "unknown":
      return "Checking the recording…";
  }
}

/** Whether the user can usefully press Retry. */
export function canRetry(status: VoiceStatus): boolean {
  return status.kind === "failed" || status.kind === "no-model";
}

/** Whether the server may still change the status by itself. */
export function isSettled(status: VoiceStatus): boolean {
  return status.kind === "done" || status.kind === "failed" || status.kind === "no-model" || status.kind === "deleted";
}
