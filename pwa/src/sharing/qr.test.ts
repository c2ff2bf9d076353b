// The QR code drawn for an invitation reads back as the link itself, decoded
// by an independent reader (paulmillr's qr) from the picture's pixels.
import { expect, test } from "vitest";
import decodeQR from "qr/decode.js";
import { qrModules, qrPicture } from "./qr";

const LINK = "https://fieldbook.example.org/#/invite/k3J9xQ2vT8mN4pR7sW1yZ5bC6dF0gH2jL8nP4qS7tV9x";

/** The modules as an RGBA image, `scale` pixels per module. */
function pixels(rows: boolean[][], scale: number) {
  const side = rows.length * scale;
  const data = new Uint8Array(side * side * 4);
  for (let y = 0; y < side; y++) {
    for (let x = 0; x < side; x++) {
      const value = rows[Math.floor(y / scale)][Math.floor(x / scale)] ? 0 : 255;
      data.set([value, value, value, 255], (y * side + x) * 4);
    }
  }
  return { width: side, height: side, data };
}

test("an invitation link's QR code decodes back to the link", () => {
  expect(decodeQR(pixels(qrModules(LINK), 6))).toBe(LINK);
});

test("the SVG path draws exactly the dark modules, inside a quiet zone", () => {
  const rows = qrModules(LINK);
  const picture = qrPicture(LINK);
  const dark = rows.flat().filter(Boolean).length;
  expect(picture.size).toBe(rows.length);
  expect(picture.path.match(/M/g)?.length).toBe(dark);
  // Four light modules on every side.
  for (const row of [...rows.slice(0, 4), ...rows.slice(-4)]) expect(row.some(Boolean)).toBe(false);
});
