import { useEffect, useRef, useState } from "preact/hooks";
import { asDraftId } from "../sync/ids";
import type { DraftStore } from "../sync/drafts";
import type { Note } from "../sync/schema";
import { formatElapsed, usePrefersReducedMotion, useVoiceService } from "./hooks";
import { localRecognitionAvailable, startLocalRecognition } from "./live";
import { Recorder } from "./recorder";
import { VoiceNote } from "./VoiceNote";

/** Recordings from this device listed under the button. */
const RECENT_RECORDINGS = 3;

/** The recording under way, kept outside the component: moving to another
 * screen does not stop it, and coming back shows it with its Stop button. */
let active: Recorder | null = null;
let stopLive: () => void = () => {};

/** The capture screen's voice recorder: one big button to start and stop,
 * the time and input level while recording, a warning if the app went to
 * the background, and this device's latest voice notes with their status. */
export function RecordPanel({ userId, drafts, targetDraft }: { userId: string; drafts: DraftStore | null; targetDraft: string | null }) {
  const service = useVoiceService(userId);
  const [recorder, setRecorderState] = useState<Recorder | null>(() => active);
  const setRecorder = (next: Recorder | null) => {
    active = next;
    setRecorderState(next);
  };
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState("");
  const [wentHidden, setWentHidden] = useState(false);
  const [live, setLive] = useState("");
  const [liveOn, setLiveOn] = useState(false);

  useEffect(() => {
    if (service && drafts) void service.setDrafts(drafts);
  }, [service, drafts]);

  useEffect(() => {
    void localRecognitionAvailable().then(setLiveOn);
  }, []);

  // Phones may suspend a page in the background, which stops the recording.
  useEffect(() => {
    if (!recorder) return;
    const onVisibility = () => {
      if (document.visibilityState === "hidden") setWentHidden(true);
    };
    document.addEventListener("visibilitychange", onVisibility);
    return () => document.removeEventListener("visibilitychange", onVisibility);
  }, [recorder]);

  const start = async () => {
    if (!service || busy) return;
    setBusy(true);
    setError("");
    setWentHidden(false);
    setLive("");
    try {
      const started = await Recorder.start(service, targetDraft);
      setRecorder(started);
      if (liveOn) stopLive = startLocalRecognition(setLive);
    } catch (failure) {
      setError(microphoneError(failure));
    } finally {
      setBusy(false);
    }
  };

  const stop = async () => {
    if (!recorder || busy) return;
    setBusy(true);
    stopLive();
    stopLive = () => {};
    try {
      await recorder.stop();
      if (recorder.writeError) setError("Part of the recording could not be saved on this device: the storage may be full.");
      const saved = service?.recording(recorder.audioId);
      // The on-device live transcript becomes the note's text, which the user can edit.
      if (live.trim() && saved?.draftId && saved.noteId && drafts) drafts.setNoteText(asDraftId(saved.draftId), saved.noteId, live.trim());
    } finally {
      setRecorder(null);
      setBusy(false);
    }
  };

  const recent = (service?.recordings() ?? []).filter((r) => r.upload.state !== "deleting" && r.finishedAt !== null).slice(-RECENT_RECORDINGS).reverse();

  return (
    <section class="voice" aria-labelledby="voice-heading">
      <h2 id="voice-heading" class="visually-hidden">
        Voice note
      </h2>
      <button
        type="button"
        class={`button button-big voice-button ${recorder ? "voice-button-stop" : "button-primary"}`}
        onClick={recorder ? stop : start}
        disabled={!service || busy}
      >
        <span class="voice-icon" aria-hidden="true" />
        {recorder ? "Stop recording" : "Record a voice note"}
      </button>
      {recorder && <RecordingMeter recorder={recorder} />}
      {recorder && liveOn && (
        <p class="voice-live" aria-live="polite">
          <span class="field-label">Live transcript (on this device)</span> {live || "Listening…"}
        </p>
      )}
      {wentHidden && (
        <p class="voice-warning" role="alert">
          Fieldbook went to the background while recording. Phones may stop a recording in the background: keep Fieldbook on screen until you
          press Stop, and check the recording.
        </p>
      )}
      {error && (
        <p class="voice-error" role="alert">
          {error}
        </p>
      )}
      {recent.length > 0 && (
        <ul class="voice-recent" aria-label="Voice notes on this device">
          {recent.map((recording) => (
            <li key={recording.audioId}>
              <VoiceNote note={noteFor(drafts, recording.draftId, recording.noteId, recording.audioId)} label={`Voice note from ${new Date(recording.startedAt).toLocaleTimeString("en-GB", { hour: "2-digit", minute: "2-digit" })}`} />
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

/** The note in its draft (for the transcript), or a stand-in until the draft is here. */
function noteFor(drafts: DraftStore | null, draftId: string | null, noteId: string | null, audioId: string): Note {
  const found = draftId && noteId ? drafts?.get(asDraftId(draftId))?.doc?.notes.find((note) => note.id === noteId) : undefined;
  return found ?? { id: noteId ?? audioId, createdAt: 0, device: "", kind: "voice", text: "", audio: audioId, transcript: null };
}

function RecordingMeter({ recorder }: { recorder: Recorder }) {
  const reduced = usePrefersReducedMotion();
  const [, setFrame] = useState(0);
  const level = useRef(0);
  useEffect(() => {
    // Reduced motion: a calm update once a second instead of every frame.
    let handle = 0;
    let timer: ReturnType<typeof setInterval> | undefined;
    const read = () => {
      level.current = recorder.level();
      setFrame((frame) => frame + 1);
    };
    if (reduced) {
      timer = setInterval(read, 1000);
    } else {
      const loop = () => {
        read();
        handle = requestAnimationFrame(loop);
      };
      handle = requestAnimationFrame(loop);
      // The clock still moves when frames are throttled.
      timer = setInterval(() => setFrame((frame) => frame + 1), 500);
    }
    return () => {
      cancelAnimationFrame(handle);
      clearInterval(timer);
    };
  }, [recorder, reduced]);

  return (
    <div class="voice-recording">
      <span class="voice-dot" aria-hidden="true" />
      <span class="voice-elapsed" role="timer" aria-label="Recording time">
        {formatElapsed(Date.now() - recorder.startedAt)}
      </span>
      <span class="voice-meter" aria-hidden="true">
        <span class="voice-meter-level" style={{ transform: `scaleX(${level.current.toFixed(3)})` }} />
      </span>
      <span class="visually-hidden">Recording. Saved on this device every second.</span>
    </div>
  );
}

function microphoneError(failure: unknown): string {
  const name = failure instanceof DOMException ? failure.name : "";
  if (name === "NotAllowedError" || name === "SecurityError") return "Fieldbook may not use the microphone. Allow it in the browser's site settings, then try again.";
  if (name === "NotFoundError") return "No microphone was found on this device.";
  if (name === "NotReadableError") return "The microphone is in use by another app. Close it and try again.";
  if (typeof MediaRecorder === "undefined") return "This browser cannot record audio. Type your note instead.";
  return "Recording could not start. Try again, or type your note instead.";
}
