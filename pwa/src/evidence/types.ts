// Which files can be evidence, and how they are named to the user. The same
// list as the server's (server/src/uploads/evidence.rs, ACCEPTED_TYPES; a test checks
// they agree); the server refuses anything else. Browsers often give no type for HEIC or Office
// files, so the file name's ending decides when the type is missing.

export interface EvidenceType {
  mimeType: string;
  endings: readonly string[];
  /** What the user calls it. */
  label: string;
}

export const EVIDENCE_TYPES: readonly EvidenceType[] = [
  { mimeType: "application/pdf", endings: ["pdf"], label: "PDF" },
  { mimeType: "image/png", endings: ["png"], label: "PNG image" },
  { mimeType: "image/jpeg", endings: ["jpg", "jpeg"], label: "JPEG photo" },
  { mimeType: "image/webp", endings: ["webp"], label: "WebP image" },
  { mimeType: "image/heic", endings: ["heic"], label: "HEIC photo" },
  { mimeType: "image/heif", endings: ["heif"], label: "HEIF photo" },
  { mimeType: "application/vnd.openxmlformats-officedocument.presentationml.presentation", endings: ["pptx"], label: "PowerPoint slides" },
  { mimeType: "application/vnd.openxmlformats-officedocument.wordprocessingml.document", endings: ["docx"], label: "Word document" },
  { mimeType: "application/vnd.oasis.opendocument.presentation", endings: ["odp"], label: "OpenDocument slides" },
  { mimeType: "application/vnd.oasis.opendocument.text", endings: ["odt"], label: "OpenDocument text" },
];

/** The server's default limit (`evidence_max_bytes`); it answers for itself if set lower. */
export const MAX_EVIDENCE_BYTES = 50_000_000;

/** For the file picker's `accept`. */
export const ACCEPT = EVIDENCE_TYPES.flatMap((type) => [type.mimeType, ...type.endings.map((ending) => `.${ending}`)]).join(",");

export const NOT_ACCEPTED =
  "Fieldbook takes PDFs, photos (PNG, JPEG, WebP, HEIC), and slides or documents (PowerPoint, Word, OpenDocument). Save the file as one of those and attach it again.";

/** The accepted type of a chosen file, or null if it is not one we take. */
export function evidenceType(file: { name: string; type: string }): EvidenceType | null {
  const mime = file.type.split(";")[0]!.trim().toLowerCase();
  if (mime) {
    const byType = EVIDENCE_TYPES.find((type) => type.mimeType === mime);
    // A generic type ("application/octet-stream") says nothing: use the name.
    if (byType || mime !== "application/octet-stream") return byType ?? null;
  }
  const ending = file.name.toLowerCase().split(".").pop() ?? "";
  return EVIDENCE_TYPES.find((type) => type.endings.includes(ending)) ?? null;
}

/** "PDF", "JPEG photo"; the MIME type itself for anything unknown. */
export function typeLabel(mimeType: string): string {
  return EVIDENCE_TYPES.find((type) => type.mimeType === mimeType)?.label ?? mimeType;
}

/** 850 bytes, 12 KB, 3.4 MB, 50 MB. */
export function formatSize(bytes: number): string {
  if (bytes < 1_000) return `${bytes} bytes`;
  if (bytes < 1_000_000) return `${Math.round(bytes / 1_000)} KB`;
  return `${(bytes / 1_000_000).toFixed(1).replace(/\.0$/, "")} MB`;
}

/** Why a chosen file cannot be attached, or null if it can. */
export function refusal(file: { name: string; type: string; size: number }): string | null {
  if (!evidenceType(file)) return `“${file.name}” cannot be attached. ${NOT_ACCEPTED}`;
  if (file.size === 0) return `“${file.name}” is empty.`;
  if (file.size > MAX_EVIDENCE_BYTES) {
    return `“${file.name}” is ${formatSize(file.size)}; evidence files can be up to ${formatSize(MAX_EVIDENCE_BYTES)}. Make it smaller (for example, save slides as a PDF) and attach it again.`;
  }
  return null;
}
