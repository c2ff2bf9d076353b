import { expect, test } from "vitest";
import { canRetry, isSettled, remoteStatus, statusText } from "./status";

test("every status the issue lists reads as plain words", () => {
  expect(statusText({ kind: "waiting", offline: true }, "Chrome on Android")).toBe("Saved on this device. Waiting for signal to upload.");
  expect(statusText({ kind: "uploading", percent: 42 }, "")).toBe("Uploading (42%)");
  expect(statusText({ kind: "queued" }, "")).toBe("Uploaded. Waiting to be transcribed.");
  expect(statusText({ kind: "transcribing" }, "")).toBe("Transcribing…");
  expect(statusText({ kind: "done" }, "")).toBe("Transcribed.");
  expect(statusText({ kind: "failed", reason: "The recording could not be decoded." }, "")).toBe("Failed: The recording could not be decoded.");
  expect(statusText({ kind: "not-on-server" }, "Chrome on Android")).toContain("uploaded from Chrome on Android");
});

test("the server's answer for another device's recording", () => {
  expect(remoteStatus(null)).toEqual({ kind: "not-on-server" });
  expect(remoteStatus({ audioId: "a", received: 50, size: 200, state: "uploading" })).toEqual({ kind: "uploading", percent: 25 });
  expect(remoteStatus({ audioId: "a", received: 200, size: 200, state: "failed", error: "No speech found." })).toEqual({ kind: "failed", reason: "No speech found." });
  expect(remoteStatus({ audioId: "a", received: 200, size: 200, state: "no-model" })).toEqual({ kind: "no-model" });
});

test("Retry is offered for failures and for recordings kept without a model; polling stops once settled", () => {
  expect(canRetry({ kind: "failed", reason: "x" })).toBe(true);
  expect(canRetry({ kind: "no-model" })).toBe(true);
  expect(canRetry({ kind: "queued" })).toBe(false);
  expect(isSettled({ kind: "done" })).toBe(true);
  expect(isSettled({ kind: "transcribing" })).toBe(false);
  expect(isSettled({ kind: "not-on-server" })).toBe(false);
});
