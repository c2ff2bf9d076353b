// The storage warning is shown once per device, the first time the browser refuses.
import { expect, test } from "vitest";
import { storageWarningDue, type Persistence } from "./storage";
import { memoryStorage } from "../test-storage";

function browserSaying(result: Persistence) {
  let asked = 0;
  return {
    request: async () => {
      asked++;
      return result;
    },
    asked: () => asked,
  };
}

test("refused: warned on the first start only, and storage is asked for on every start", async () => {
  const device = memoryStorage();
  const browser = browserSaying("refused");
  expect(await storageWarningDue(device, browser.request)).toBe(true);
  expect(await storageWarningDue(device, browser.request)).toBe(false);
  expect(await storageWarningDue(device, browser.request)).toBe(false);
  expect(browser.asked()).toBe(3);
});

test("each device is warned once: what one remembers does not reach another", async () => {
  const phone = memoryStorage();
  const laptop = memoryStorage();
  expect(await storageWarningDue(phone, browserSaying("refused").request)).toBe(true);
  expect(await storageWarningDue(laptop, browserSaying("refused").request)).toBe(true);
  expect(await storageWarningDue(phone, browserSaying("refused").request)).toBe(false);
});

test("kept or not asked for: no warning, and a later refusal still warns once", async () => {
  const device = memoryStorage();
  expect(await storageWarningDue(device, browserSaying("persisted").request)).toBe(false);
  expect(await storageWarningDue(device, browserSaying("unsupported").request)).toBe(false);
  expect(await storageWarningDue(device, browserSaying("refused").request)).toBe(true);
});

test("a device that dismissed the warning in an earlier version is not warned again", async () => {
  const device = memoryStorage();
  device.setItem("fieldbook.storageWarningDismissed", "1");
  expect(await storageWarningDue(device, browserSaying("refused").request)).toBe(false);
});
