import { describe, expect, test } from "vitest";
import { checkRegistrationNumber } from "./registration-number";

describe("SWE registration numbers", () => {
  test("lower case and spaces are accepted and normalised", () => {
    expect(checkRegistrationNumber("SW123456")).toEqual({ ok: true, value: "SW123456" });
    expect(checkRegistrationNumber(" sw 123 456 ")).toEqual({ ok: true, value: "SW123456" });
    expect(checkRegistrationNumber("Sw104523")).toEqual({ ok: true, value: "SW104523" });
  });

  test("nothing typed is fine: the cover leaves the number out", () => {
    expect(checkRegistrationNumber("")).toEqual({ ok: true, value: "" });
    expect(checkRegistrationNumber("   ")).toEqual({ ok: true, value: "" });
  });

  test("other shapes get a plain message", () => {
    expect(checkRegistrationNumber("123456")).toEqual({ ok: false, message: "Start it with SW, like SW123456." });
    for (const wrong of ["SW", "SW12A456", "SW-123456", "HCPC123456", "S W x", "SW12345678901"]) {
      expect(checkRegistrationNumber(wrong), wrong).toEqual({ ok: false, message: "A Social Work England registration number is SW followed by digits, like SW123456." });
    }
  });
});
