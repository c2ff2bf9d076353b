import { useMemo } from "preact/hooks";
import { qrPicture } from "./qr";

/** A link as a QR code, dark on light whatever the theme, for scanning. */
export function QrCode({ text, label }: { text: string; label: string }) {
  const picture = useMemo(() => qrPicture(text), [text]);
  return (
    <svg class="qr" role="img" aria-label={label} viewBox={`0 0 ${picture.size} ${picture.size}`} shape-rendering="crispEdges">
      <rect width={picture.size} height={picture.size} fill="#ffffff" />
      <path d={picture.path} fill="#000000" />
    </svg>
  );
}
