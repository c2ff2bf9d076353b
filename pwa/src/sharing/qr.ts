// QR codes for invitation links, so a peer across the table can scan one.
// Encoded on the device by uqr (MIT); drawn as one SVG path, no images.
import { encode } from "uqr";

/** Quiet zone in modules, as the QR standard asks. */
const BORDER = 4;

export interface QrPicture {
  /** Modules per side, quiet zone included. */
  size: number;
  /** An SVG path of the dark modules, one unit per module. */
  path: string;
}

/** The QR code's dark modules for `text`, with medium error correction. */
export function qrModules(text: string): boolean[][] {
  return encode(text, { ecc: "M", border: BORDER }).data;
}

export function qrPicture(text: string): QrPicture {
  const rows = qrModules(text);
  let path = "";
  rows.forEach((row, y) => {
    row.forEach((dark, x) => {
      if (dark) path += `M${x} ${y}h1v1h-1z`;
    });
  });
  return { size: rows.length, path };
}
