import { afterEach, expect, test } from "vitest";
import { closeMemoryDrafts, memoryDrafts } from "../sync/testing";

afterEach(closeMemoryDrafts);

const certificate = { id: "Zp3kQ8vN2xLm5Rt7Wy1aBc", name: "Certificate.pdf", mimeType: "application/pdf", size: 1234, addedAt: 1_780_000_000_000 };

test("addEvidence lists a file in the entry once; removeEvidence takes it off", () => {
  const drafts = memoryDrafts();
  const { id } = drafts.create("Course today");
  drafts.addEvidence(id, certificate);
  drafts.addEvidence(id, certificate);
  expect(drafts.get(id)!.doc!.evidence).toEqual([certificate]);
  drafts.addEvidence(id, { ...certificate, id: "second-file-0123456789" });
  drafts.removeEvidence(id, certificate.id);
  expect(drafts.get(id)!.doc!.evidence!.map((file) => file.id)).toEqual(["second-file-0123456789"]);
});

test("an entry made before evidence existed gets its list on the first file", () => {
  const drafts = memoryDrafts();
  const older = structuredClone(drafts.get(drafts.create("x").id)!.doc!);
  delete older.evidence;
  const id = drafts.importEntry(older);
  expect(drafts.get(id)!.doc!.evidence).toBeUndefined();
  drafts.addEvidence(id, certificate);
  expect(drafts.get(id)!.doc!.evidence).toEqual([certificate]);
});
