import { useEffect, useRef, useState } from "preact/hooks";
import type { DraftId } from "../sync/ids";
import { storedSession } from "../account/api";
import type { DraftStore } from "../sync/drafts";
import type { EntryDoc, Evidence } from "../sync/schema";
import { useStartedService } from "../ui/hooks";
import { UploadApiError } from "../uploads/http";
import { evidenceFileUrl } from "./api";
import { evidenceService, type EvidenceService, type EvidenceView } from "./service";
import { ACCEPT, formatSize, MAX_EVIDENCE_BYTES, typeLabel } from "./types";

/** How often another device's file is asked about until it is on the server. */
const POLL_MS = 5000;

/** The entry's evidence: attach a certificate, slides or a photo of a
 * handout (kept on this device at once, uploaded when there is signal),
 * each file with where it stands, to download or remove. */
export function EvidencePanel({ drafts, id, doc }: { drafts: DraftStore; id: DraftId; doc: EntryDoc }) {
  const service = useEvidenceService(storedSession()?.userId ?? null);
  const input = useRef<HTMLInputElement>(null);
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  const files = doc.evidence ?? [];

  const attach = async (chosen: FileList | null) => {
    if (!service || !chosen) return;
    setError("");
    setBusy(true);
    const refusals: string[] = [];
    for (const file of Array.from(chosen)) {
      try {
        const refused = await service.attach(drafts, id, file);
        if (refused) refusals.push(refused);
      } catch {
        refusals.push(`“${file.name}” could not be saved on this device (it may be full). Nothing was attached.`);
      }
    }
    setError(refusals.join(" "));
    setBusy(false);
    if (input.current) input.current.value = "";
  };

  return (
    <section class="evidence" aria-labelledby="evidence-heading">
      <h2 id="evidence-heading">Evidence</h2>
      <p class="hint" id="evidence-hint">
        A certificate, slides or a photo of a handout: PDF, PNG, JPEG, WebP, HEIC, PowerPoint, Word or OpenDocument, up to {formatSize(MAX_EVIDENCE_BYTES)}. It is kept on this device at once and uploaded when there is signal.
      </p>
      {files.length > 0 && (
        <ul class="evidence-list">
          {files.map((file) => (
            <EvidenceItem key={file.id} file={file} service={service} onRemove={() => service && void service.remove(drafts, id, file.id)} />
          ))}
        </ul>
      )}
      <div class="evidence-attach">
        <input
          id="evidence-file"
          class="visually-hidden"
          type="file"
          multiple
          accept={ACCEPT}
          aria-describedby="evidence-hint"
          disabled={!service || busy}
          onChange={(event) => void attach(event.currentTarget.files)}
        />
        <label for="evidence-file" class="button button-secondary">
          Attach a file
        </label>
      </div>
      <p class="form-error" role="alert">
        {error}
      </p>
    </section>
  );
}

function EvidenceItem({ file, service, onRemove }: { file: Evidence; service: EvidenceService | null; onRemove: () => void }) {
  const local = service?.view(file.id) ?? null;
  const remote = useRemoteView(service, file.id, service !== null && local === null);
  const view = local ?? remote;
  const [confirming, setConfirming] = useState(false);
  const onServer = view.kind === "uploaded";
  return (
    <li class="evidence-item" data-evidence={file.id} data-evidence-status={view.kind}>
      <span class="evidence-name">
        {onServer ? (
          <a href={evidenceFileUrl(file.id)} download={file.name}>
            {file.name}
          </a>
        ) : (
          file.name
        )}
      </span>
      <span class="evidence-meta">
        {typeLabel(file.mimeType)} · {formatSize(file.size)}
      </span>
      <span class={`evidence-status evidence-status-${view.kind}`} role="status">
        {viewText(view)}
      </span>
      <span class="evidence-actions">
        {view.kind === "failed" && service && (
          <button type="button" class="button button-secondary" onClick={() => void service.retry(file.id)}>
            Retry
          </button>
        )}
        {!confirming ? (
          <button type="button" class="button button-secondary" onClick={() => setConfirming(true)} aria-label={`Remove ${file.name}`}>
            Remove
          </button>
        ) : (
          <>
            <button type="button" class="button button-danger" onClick={onRemove}>
              Yes, remove it
            </button>
            <button type="button" class="button button-secondary" onClick={() => setConfirming(false)}>
              Keep it
            </button>
          </>
        )}
      </span>
    </li>
  );
}

function viewText(view: EvidenceView): string {
  switch (view.kind) {
    case "waiting":
      return view.offline ? "Saved on this device. Waiting for signal to upload." : "Saved on this device. Uploading soon.";
    case "uploading":
      return `Uploading (${view.percent}%)`;
    case "uploaded":
      return "Uploaded.";
    case "failed":
      return `Not uploaded: ${view.reason}`;
    case "not-on-server":
      return "Not on the server yet: it uploads from the device it was added on when that device has signal.";
    case "unknown":
      return "Checking…";
  }
}

/** This user's EvidenceService once started, re-rendering on every change. */
function useEvidenceService(userId: string | null): EvidenceService | null {
  return useStartedService(userId, evidenceService);
}

/** Where a file added on another device stands on the server, asked again
 * every few seconds until it is there. */
function useRemoteView(service: EvidenceService | null, id: string, wanted: boolean): EvidenceView {
  const [view, setView] = useState<EvidenceView>({ kind: "unknown" });
  useEffect(() => {
    if (!service || !wanted) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let cancelled = false;
    const ask = async () => {
      let next: EvidenceView | null = null;
      try {
        const status = await service.api.status(id);
        next = status.state === "stored" ? { kind: "uploaded" } : { kind: "not-on-server" };
      } catch (error) {
        if (error instanceof UploadApiError && error.status === 404) next = { kind: "not-on-server" };
      }
      if (cancelled) return;
      if (next) setView(next);
      if (next?.kind !== "uploaded") timer = setTimeout(() => void ask(), POLL_MS);
    };
    void ask();
    return () => {
      cancelled = true;
      clearTimeout(timer);
    };
  }, [service, id, wanted]);
  return view;
}
