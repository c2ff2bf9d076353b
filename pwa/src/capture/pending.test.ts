import { expect, test } from "vitest";
import { CaptureMemory } from "./pending";
import { memoryStorage } from "../test-storage";

test("what is being captured survives a reload; damage reads as empty", () => {
  const storage = memoryStorage();
  new CaptureMemory("c", storage).write({ unsaved: "typed before load", target: { draftId: "d", noteId: "n" } });
  expect(new CaptureMemory("c", storage).read()).toEqual({ unsaved: "typed before load", target: { draftId: "d", noteId: "n" } });
  storage.setItem("c", "[broken");
  expect(new CaptureMemory("c", storage).read()).toEqual({ unsaved: "", target: null });
});
