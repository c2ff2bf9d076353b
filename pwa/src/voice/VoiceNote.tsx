import { useEffect, useState } from "preact/hooks";
import { storedSession } from "../account/api";
import type { Note } from "../sync/schema";
import { audioFileUrl, VoiceApiError, type AudioStatus } from "./api";
import { useVoiceService } from "./hooks";
import { POLL_MS, type VoiceService } from "./service";
import { canRetry, isSettled, remoteStatus, statusText, type VoiceStatus } from "./status";

/** A voice note: its recording to play (from this device if it was recorded
 * here, else from the server), where upload and transcription stand, Retry
 * and Delete, and the transcript once the server has written it into the note. */
export function VoiceNote({ note, label = "Voice note" }: { note: Note; label?: string }) {
  const userId = storedSession()?.userId ?? null;
  const service = useVoiceService(userId);
  const audioId = note.audio ?? "";
  const local = service?.recording(audioId);
  const localStatus = service?.status(audioId) ?? null;
  const remote = useRemoteStatus(service, audioId, local === undefined);
  const status: VoiceStatus = note.transcript !== null && !localStatus ? { kind: "done" } : (localStatus ?? remote);
  const blobUrl = useLocalAudio(service, local?.finishedAt ? audioId : null, local?.upload.state === "deleting");
  const [confirming, setConfirming] = useState(false);
  const [actionError, setActionError] = useState("");

  const src = blobUrl ?? (status.kind !== "not-on-server" && status.kind !== "deleted" && !local ? audioFileUrl(audioId) : null);

  const act = async (action: () => Promise<void>) => {
    setActionError("");
    try {
      await action();
    } catch (error) {
      setActionError(error instanceof VoiceApiError ? error.message : "That did not work. Try again.");
    }
  };

  const retry = () =>
    act(async () => {
      if (!service) return;
      if (local) await service.retry(audioId);
      else await service.api.retry(audioId);
    });

  const remove = () =>
    act(async () => {
      setConfirming(false);
      if (!service) return;
      if (local) await service.remove(audioId);
      else await service.api.remove(audioId);
    });

  return (
    <div class="voice-note" data-audio={audioId} data-voice-status={status.kind}>
      {src && (
        <audio class="voice-player" controls preload="metadata" src={src} aria-label={`Play ${label.toLowerCase()}`} onLoadedMetadata={findDuration}>
          <a href={src}>Download the recording</a>
        </audio>
      )}
      <p class={`voice-status voice-status-${status.kind}`} role="status">
        {statusText(status, note.device)}
        {local?.recovered ? " Recovered after the app closed while recording." : ""}
      </p>
      {actionError && <p class="voice-error">{actionError}</p>}
      <div class="voice-actions">
        {canRetry(status) && (
          <button type="button" class="button button-secondary" onClick={retry}>
            Retry
          </button>
        )}
        {status.kind !== "recording" && status.kind !== "deleted" && status.kind !== "not-on-server" && !confirming && (
          <button type="button" class="button button-secondary" onClick={() => setConfirming(true)}>
            Delete recording
          </button>
        )}
        {confirming && (
          <>
            <button type="button" class="button button-danger" onClick={remove}>
              Yes, delete the recording
            </button>
            <button type="button" class="button button-secondary" onClick={() => setConfirming(false)}>
              Keep it
            </button>
          </>
        )}
      </div>
      {note.transcript !== null && (
        <figure class="voice-transcript">
          <figcaption class="field-label">Transcript</figcaption>
          <blockquote>{note.transcript}</blockquote>
        </figure>
      )}
    </div>
  );
}

/** MediaRecorder's WebM does not state its length, so the player would show
 * none: seeking past the end makes the browser find it, then back to the start. */
function findDuration(event: Event) {
  const audio = event.currentTarget as HTMLAudioElement;
  if (Number.isFinite(audio.duration)) return;
  audio.addEventListener("durationchange", () => (audio.currentTime = 0), { once: true });
  audio.currentTime = Number.MAX_SAFE_INTEGER;
}

/** A Blob URL for a recording held on this device, revoked when done with. */
function useLocalAudio(service: VoiceService | null, audioId: string | null, deleted: boolean): string | null {
  const [url, setUrl] = useState<string | null>(null);
  useEffect(() => {
    if (!service || !audioId || deleted) return setUrl(null);
    let created: string | null = null;
    let cancelled = false;
    const recording = service.recording(audioId);
    void service.store.blob(audioId, recording?.mimeType ?? "audio/webm").then((blob) => {
      if (cancelled || blob.size === 0) return;
      created = URL.createObjectURL(blob);
      setUrl(created);
    });
    return () => {
      cancelled = true;
      if (created) URL.revokeObjectURL(created);
    };
  }, [service, audioId, deleted]);
  return url;
}

/** The server's status of a recording made on another device, asked again
 * every few seconds until it settles. */
function useRemoteStatus(service: VoiceService | null, audioId: string, wanted: boolean): VoiceStatus {
  const [status, setStatus] = useState<VoiceStatus>({ kind: "unknown" });
  useEffect(() => {
    if (!service || !wanted || !audioId) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let cancelled = false;
    const ask = async () => {
      let next: VoiceStatus | null = null;
      try {
        next = remoteStatus((await service.api.status(audioId)) as AudioStatus);
      } catch (error) {
        if (error instanceof VoiceApiError && error.status === 404) next = remoteStatus(null);
      }
      if (cancelled) return;
      if (next) setStatus(next);
      if (!next || !isSettled(next)) timer = setTimeout(() => void ask(), POLL_MS);
    };
    void ask();
    return () => {
      cancelled = true;
      clearTimeout(timer);
    };
  }, [service, audioId, wanted]);
  return status;
}
