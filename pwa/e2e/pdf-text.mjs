// The text a PDF reader sees, via Mozilla's PDF.js: every page's text items
// joined by single spaces, so a line wrapped in the PDF still matches.
import { fileURLToPath } from "node:url";

export async function pdfText(bytes) {
  const pdfjs = await import("pdfjs-dist/legacy/build/pdf.mjs");
  const doc = await pdfjs.getDocument({
    data: new Uint8Array(bytes),
    standardFontDataUrl: fileURLToPath(new URL("../node_modules/pdfjs-dist/standard_fonts/", import.meta.url)),
    isEvalSupported: false,
    verbosity: 0,
  }).promise;
  const parts = [];
  for (let n = 1; n <= doc.numPages; n++) {
    const content = await (await doc.getPage(n)).getTextContent();
    for (const item of content.items) if ("str" in item) parts.push(item.str);
  }
  return parts.join(" ").replace(/\s+/g, " ");
}
