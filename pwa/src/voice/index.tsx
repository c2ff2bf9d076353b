// What the rest of the app uses from voice/: small stand-ins that load the
// recorder, uploader and player in their own chunk right after the first
// paint, so the capture field's start-up does not wait for them (the
// first-load budget is in pwa/bench/measure.mjs).

import type { ComponentType } from "preact";
import { useEffect, useState } from "preact/hooks";
import type { DraftStore } from "../sync/drafts";
import type { Note } from "../sync/schema";

type Loaded = typeof import("./RecordPanel") & typeof import("./VoiceNote");

let loading: Promise<Loaded> | null = null;

function load(): Promise<Loaded> {
  loading ??= Promise.all([import("./RecordPanel"), import("./VoiceNote")]).then(([panel, note]) => ({ ...panel, ...note }));
  return loading;
}

function useVoiceModule(): Loaded | null {
  const [loaded, setLoaded] = useState<Loaded | null>(null);
  useEffect(() => {
    let cancelled = false;
    void load().then((module) => !cancelled && setLoaded(module));
    return () => {
      cancelled = true;
    };
  }, []);
  return loaded;
}

export interface RecordPanelProps {
  userId: string;
  drafts: DraftStore | null;
  targetDraft: string | null;
}

/** The capture screen's record button and this device's latest voice notes. */
export function VoiceRecorder(props: RecordPanelProps) {
  const module = useVoiceModule();
  if (!module) {
    return (
      <section class="voice">
        <button type="button" class="button button-big button-primary voice-button" disabled>
          <span class="voice-icon" aria-hidden="true" />
          Record a voice note
        </button>
      </section>
    );
  }
  const Panel = module.RecordPanel as ComponentType<RecordPanelProps>;
  return <Panel {...props} />;
}

/** A voice note in a draft: player, status, Retry/Delete, transcript. */
export function VoiceNote(props: { note: Note; label?: string }) {
  const module = useVoiceModule();
  if (!module) return <div class="voice-note" />;
  const Note_ = module.VoiceNote as ComponentType<{ note: Note; label?: string }>;
  return <Note_ {...props} />;
}
