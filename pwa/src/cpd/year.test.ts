import { describe, expect, test } from "vitest";
import {
  currentRegistrationYear,
  daysBetween,
  daysLeft,
  deadlineMessage,
  deadlineOf,
  hasEnded,
  isInYear,
  isIsoDate,
  isLeapYear,
  isRenewalTime,
  isRenewalWindowOpen,
  msUntilDeadline,
  nextRegistrationYear,
  pastYearsWithEntries,
  previousRegistrationYear,
  registrationYear,
  registrationYearFromLabel,
  registrationYearOf,
  renewalWindow,
  ukDateOf,
  ukInstant,
  yearEndsAt,
  yearsWithEntries,
} from "./year";

const at = (iso: string) => new Date(iso);

describe("registration years", () => {
  test("run from 1 December to 30 November, labelled with an en dash", () => {
    expect(registrationYear(2025)).toEqual({ startYear: 2025, start: "2025-12-01", end: "2026-11-30", label: "2025–26" });
    expect(registrationYear(2099).label).toBe("2099–00");
    expect(registrationYear(2009).label).toBe("2009–10");
  });

  test("a date belongs to the year by its month: December starts the next one", () => {
    expect(registrationYearOf("2025-12-01").label).toBe("2025–26");
    expect(registrationYearOf("2025-11-30").label).toBe("2024–25");
    expect(registrationYearOf("2026-01-01").label).toBe("2025–26");
    expect(registrationYearOf("2026-11-30").label).toBe("2025–26");
    expect(registrationYearOf("2026-12-31").label).toBe("2026–27");
  });

  test("29 February belongs to the year that started the December before", () => {
    expect(registrationYearOf("2028-02-29").label).toBe("2027–28");
    expect(registrationYearOf("2024-02-29").label).toBe("2023–24");
    expect(isInYear("2028-02-29", registrationYear(2027))).toBe(true);
  });

  test("malformed or impossible dates are refused", () => {
    for (const bad of ["2025-02-29", "2025-13-01", "2025-00-10", "2025-11-31", "25-11-30", "2025-1-5", "", "2025-11-30T10:00"]) {
      expect(isIsoDate(bad), bad).toBe(false);
      expect(registrationYearOf(bad), bad).toBeNull();
    }
    expect(isIsoDate(null)).toBe(false);
    expect(isIsoDate(20251130)).toBe(false);
    expect(isIsoDate("2000-02-29")).toBe(true);
    expect(isIsoDate("1900-02-29")).toBe(false);
  });

  test("a year typed key by key is not a date until it has four digits from 1000", () => {
    // What a date input holds after each key of "02122026" (dd/mm/yyyy).
    for (const partial of ["0002-12-02", "0020-12-02", "0202-12-02", "0999-12-31"]) {
      expect(isIsoDate(partial), partial).toBe(false);
      expect(registrationYearOf(partial), partial).toBeNull();
    }
    expect(registrationYearOf("2026-12-02")?.label).toBe("2026–27");
    // The first and last dates that have a registration year.
    expect(registrationYearOf("1000-11-30")).toBeNull();
    expect(registrationYearOf("1000-12-01")?.label).toBe("1000–01");
    expect(registrationYearOf("9999-11-30")?.label).toBe("9998–99");
    expect(registrationYearOf("9999-12-01")).toBeNull();
  });

  test("years above 9999, which a date input also accepts, are not dates", () => {
    for (const far of ["10000-01-01", "20260-12-02", "275760-09-13"]) {
      expect(isIsoDate(far), far).toBe(false);
      expect(registrationYearOf(far), far).toBeNull();
    }
    expect(yearsWithEntries(["20260-12-02", "0202-12-02", null], new Date("2026-06-01T12:00:00Z")).map((year) => year.label)).toEqual(["2025–26"]);
  });

  test("leap years follow the Gregorian rule", () => {
    expect([2024, 2028, 2000, 2400].map(isLeapYear)).toEqual([true, true, true, true]);
    expect([2025, 2026, 1900, 2100].map(isLeapYear)).toEqual([false, false, false, false]);
  });

  test("labels parse back, with an en dash or a hyphen", () => {
    expect(registrationYearFromLabel("2025–26")).toEqual(registrationYear(2025));
    expect(registrationYearFromLabel("2025-26")).toEqual(registrationYear(2025));
    expect(registrationYearFromLabel("2099–00")).toEqual(registrationYear(2099));
    expect(registrationYearFromLabel("2025–27")).toBeNull();
    expect(registrationYearFromLabel("last year")).toBeNull();
  });

  test("previous and next", () => {
    expect(previousRegistrationYear(registrationYear(2025)).label).toBe("2024–25");
    expect(nextRegistrationYear(registrationYear(2025)).label).toBe("2026–27");
  });

  test("isInYear takes the first and last day and nothing outside", () => {
    const year = registrationYear(2025);
    expect(isInYear("2025-12-01", year)).toBe(true);
    expect(isInYear("2026-11-30", year)).toBe(true);
    expect(isInYear("2025-11-30", year)).toBe(false);
    expect(isInYear("2026-12-01", year)).toBe(false);
    expect(isInYear(null, year)).toBe(false);
    expect(isInYear(undefined, year)).toBe(false);
    expect(isInYear("2026-02-30", year)).toBe(false);
  });
});

describe("the current year is decided in UK time", () => {
  test("30 November 23:59 UK is still the old year; 00:00 on 1 December is the new one (GMT, so UTC too)", () => {
    expect(currentRegistrationYear(at("2026-11-30T23:59:59.999Z")).label).toBe("2025–26");
    expect(currentRegistrationYear(at("2026-11-30T23:59:00Z")).label).toBe("2025–26");
    expect(currentRegistrationYear(at("2026-12-01T00:00:00Z")).label).toBe("2026–27");
  });

  test("the same instants read from other time zones give the UK answer", () => {
    // 23:30 on 30 November in London is 1 December 00:30 in Madrid and 09:30 in Sydney.
    expect(currentRegistrationYear(at("2026-12-01T00:30:00+01:00")).label).toBe("2025–26");
    expect(currentRegistrationYear(at("2026-12-01T10:30:00+11:00")).label).toBe("2025–26");
    // 00:30 on 1 December in London is still 30 November in New York.
    expect(currentRegistrationYear(at("2026-11-30T19:30:00-05:00")).label).toBe("2026–27");
  });

  test("in summer UK time is BST: midnight UTC is already 1 am in the UK", () => {
    expect(ukDateOf(at("2026-06-30T23:30:00Z"))).toBe("2026-07-01");
    expect(ukDateOf(at("2026-06-30T22:59:59Z"))).toBe("2026-06-30");
    // The renewal window opens at 00:00 BST on 1 September, 23:00 UTC on 31 August.
    const year = registrationYear(2025);
    expect(isRenewalWindowOpen(year, at("2026-08-31T22:59:59Z"))).toBe(false);
    expect(isRenewalWindowOpen(year, at("2026-08-31T23:00:00Z"))).toBe(true);
  });

  test("in winter UK time is GMT", () => {
    expect(ukDateOf(at("2026-01-31T23:59:59Z"))).toBe("2026-01-31");
    expect(ukDateOf(at("2026-02-01T00:00:00Z"))).toBe("2026-02-01");
  });

  test("leap day in the UK", () => {
    expect(ukDateOf(at("2028-02-29T23:59:59Z"))).toBe("2028-02-29");
    expect(ukDateOf(at("2028-03-01T00:00:00Z"))).toBe("2028-03-01");
    expect(currentRegistrationYear(at("2028-02-29T12:00:00Z")).label).toBe("2027–28");
  });

  test("an invalid Date is refused", () => {
    expect(() => ukDateOf(new Date(Number.NaN))).toThrow(RangeError);
  });
});

describe("UK wall-clock instants", () => {
  test("GMT and BST", () => {
    expect(ukInstant("2026-11-30", 23, 59).toISOString()).toBe("2026-11-30T23:59:00.000Z");
    expect(ukInstant("2026-09-01").toISOString()).toBe("2026-08-31T23:00:00.000Z");
    expect(ukInstant("2026-07-15", 12, 30, 15, 250).toISOString()).toBe("2026-07-15T11:30:15.250Z");
  });

  test("the clock changes: a repeated hour takes the first, a skipped hour the hour after", () => {
    // 25 October 2026: 02:00 BST becomes 01:00 GMT, so 01:30 happens twice.
    expect(ukInstant("2026-10-25", 1, 30).toISOString()).toBe("2026-10-25T00:30:00.000Z");
    expect(ukInstant("2026-10-25", 2, 30).toISOString()).toBe("2026-10-25T02:30:00.000Z");
    // 29 March 2026: 01:00 GMT becomes 02:00 BST, so 01:30 never happens.
    expect(ukInstant("2026-03-29", 1, 30).toISOString()).toBe("2026-03-29T01:30:00.000Z");
    expect(ukInstant("2026-03-29", 0, 59).toISOString()).toBe("2026-03-29T00:59:00.000Z");
    expect(ukInstant("2026-03-29", 2, 0).toISOString()).toBe("2026-03-29T01:00:00.000Z");
  });

  test("deadline and end of the year", () => {
    const year = registrationYear(2025);
    expect(deadlineOf(year).toISOString()).toBe("2026-11-30T23:59:00.000Z");
    expect(yearEndsAt(year).toISOString()).toBe("2026-12-01T00:00:00.000Z");
    expect(hasEnded(year, at("2026-11-30T23:59:59Z"))).toBe(false);
    expect(hasEnded(year, at("2026-12-01T00:00:00Z"))).toBe(true);
  });
});

describe("days left", () => {
  const year = registrationYear(2025);

  test("counts calendar days to 30 November, 0 on the day and after", () => {
    expect(daysLeft(year, at("2026-11-29T09:00:00Z"))).toBe(1);
    expect(daysLeft(year, at("2026-11-30T00:00:00Z"))).toBe(0);
    expect(daysLeft(year, at("2026-11-30T23:59:00Z"))).toBe(0);
    expect(daysLeft(year, at("2026-12-01T00:00:00Z"))).toBe(0);
    expect(daysLeft(year, at("2027-06-01T00:00:00Z"))).toBe(0);
    expect(daysLeft(year, at("2026-11-23T12:00:00Z"))).toBe(7);
  });

  test("on the first day it is 364, or 365 when the year has a 29 February", () => {
    expect(daysLeft(year, at("2025-12-01T00:00:00Z"))).toBe(364);
    expect(daysLeft(registrationYear(2027), at("2027-12-01T00:00:00Z"))).toBe(365);
    expect(daysLeft(registrationYear(2023), at("2023-12-01T10:00:00Z"))).toBe(365);
  });

  test("uses the UK day, not the UTC day", () => {
    // 23:30 UTC on 31 August is 00:30 BST on 1 September: 90 days to go, not 91.
    expect(daysLeft(year, at("2026-08-31T23:30:00Z"))).toBe(90);
    expect(daysLeft(year, at("2026-08-31T22:30:00Z"))).toBe(91);
  });

  test("days between dates across a leap day", () => {
    expect(daysBetween("2028-02-28", "2028-03-01")).toBe(2);
    expect(daysBetween("2026-02-28", "2026-03-01")).toBe(1);
    expect(daysBetween("2026-03-01", "2026-02-28")).toBe(-1);
  });

  test("milliseconds to the 23:59 deadline", () => {
    expect(msUntilDeadline(year, at("2026-11-30T23:58:00Z"))).toBe(60_000);
    expect(msUntilDeadline(year, at("2026-11-30T23:59:30Z"))).toBe(0);
  });
});

describe("renewal window", () => {
  const year = registrationYear(2025);

  test("is 1 September to 30 November at the end of the year", () => {
    expect(renewalWindow(year)).toEqual({ opens: "2026-09-01", closes: "2026-11-30" });
  });

  test("is open on its first and last UK day only", () => {
    expect(isRenewalWindowOpen(year, at("2026-08-31T12:00:00Z"))).toBe(false);
    expect(isRenewalWindowOpen(year, at("2026-09-01T12:00:00Z"))).toBe(true);
    expect(isRenewalWindowOpen(year, at("2026-11-30T23:59:59Z"))).toBe(true);
    expect(isRenewalWindowOpen(year, at("2026-12-01T00:00:00Z"))).toBe(false);
    expect(isRenewalWindowOpen(year, at("2026-03-01T00:00:00Z"))).toBe(false);
  });

  test("renewal time for the current year", () => {
    expect(isRenewalTime(at("2026-10-10T10:00:00Z"))).toBe(true);
    expect(isRenewalTime(at("2026-12-10T10:00:00Z"))).toBe(false);
  });
});

describe("years with entries", () => {
  const now = at("2026-03-01T12:00:00Z"); // 2025–26

  test("the current year and earlier years with entries, newest first", () => {
    const dates = ["2024-01-10", "2025-12-05", null, "2023-12-01", "2023-11-30", "not a date", undefined];
    expect(yearsWithEntries(dates, now).map((y) => y.label)).toEqual(["2025–26", "2023–24", "2022–23"]);
    expect(pastYearsWithEntries(dates, now).map((y) => y.label)).toEqual(["2023–24", "2022–23"]);
  });

  test("with no entries, only the current year; dates in later years are left out", () => {
    expect(yearsWithEntries([], now).map((y) => y.label)).toEqual(["2025–26"]);
    expect(yearsWithEntries(["2027-01-01"], now).map((y) => y.label)).toEqual(["2025–26"]);
    expect(pastYearsWithEntries(["2026-01-01"], now)).toEqual([]);
  });
});

describe("deadline in words", () => {
  const year = registrationYear(2025);

  test("days, the last day, passed, not started", () => {
    expect(deadlineMessage(year, at("2026-11-01T12:00:00Z"))).toBe("29 days left to renew (by 23:59 on 30 November, UK time).");
    expect(deadlineMessage(year, at("2026-11-29T12:00:00Z"))).toBe("1 day left to renew (by 23:59 on 30 November, UK time).");
    expect(deadlineMessage(year, at("2026-11-30T00:00:00Z"))).toBe("Last day: renew by 23:59 tonight (UK time).");
    expect(deadlineMessage(year, at("2026-11-30T23:59:30Z"))).toBe("Last day: renew by 23:59 tonight (UK time).");
    expect(deadlineMessage(year, at("2026-12-01T00:00:00Z"))).toBe("The deadline for 2025–26 (23:59 on 30 November 2026) has passed.");
    expect(deadlineMessage(year, at("2025-11-20T00:00:00Z"))).toBe("This registration year starts on 1 December 2025.");
  });
});
