// The calendar file is read back twice: with our own small parser (unfolding,
// escaping, nesting) and with Mozilla's ical.js (a devDependency), which also
// expands the monthly RRULE and converts the Europe/London times.
import ICAL from "ical.js";
import { describe, expect, test } from "vitest";
import { registrationYear } from "../cpd/year";
import { escapeText, foldLine, icsUtc, icsValue, parseIcs, reminders, remindersIcs, unescapeText, type ReminderOptions } from "./ics";

const year = registrationYear(2025);
const before = new Date("2025-11-15T12:00:00Z"); // before the year starts

function events(text: string) {
  const [calendar] = parseIcs(text);
  return calendar.components.filter((c) => c.name === "VEVENT");
}

describe("reminders", () => {
  test("made before the year: a monthly nudge from 1 December, the window opening, a week and a day before, the deadline day", () => {
    const list = reminders({ year, now: before });
    expect(list.map((r) => [r.kind, r.date])).toEqual([
      ["monthly", "2025-12-01"],
      ["window-opens", "2026-09-01"],
      ["week-before", "2026-11-23"],
      ["day-before", "2026-11-29"],
      ["deadline-day", "2026-11-30"],
    ]);
    expect(list[0].rrule).toBe("FREQ=MONTHLY;BYMONTHDAY=1;UNTIL=20261130T235900Z");
  });

  test("made mid-year: past reminders left out, the nudge starts next month", () => {
    const list = reminders({ year, now: new Date("2026-09-10T12:00:00Z"), monthlyDay: 5 });
    expect(list.map((r) => [r.kind, r.date])).toEqual([
      ["monthly", "2026-10-05"],
      ["week-before", "2026-11-23"],
      ["day-before", "2026-11-29"],
      ["deadline-day", "2026-11-30"],
    ]);
  });

  test("a reminder later today still counts; one earlier today does not (UK time)", () => {
    // 08:00 BST on 1 September: the 09:00 reminder is still to come.
    expect(reminders({ year, now: new Date("2026-09-01T07:00:00Z") }).map((r) => r.kind)).toContain("window-opens");
    expect(reminders({ year, now: new Date("2026-09-01T08:30:00Z") }).map((r) => r.kind)).not.toContain("window-opens");
  });

  test("after the deadline, nothing", () => {
    expect(reminders({ year, now: new Date("2026-12-01T00:00:00Z") })).toEqual([]);
    expect(events(remindersIcs({ year, now: new Date("2026-12-01T00:00:00Z") }))).toEqual([]);
  });

  test("wording says what SWE needs and when", () => {
    const text = reminders({ year, now: before })
      .map((r) => `${r.summary} ${r.description}`)
      .join(" ");
    expect(text).toContain("23:59 on 30 November");
    expect(text).toContain("at least 2 different pieces of CPD");
    expect(text).toContain("at least 1 with a peer reflection");
    expect(text).toContain("Submit");
  });

  test("bad options are refused", () => {
    expect(() => reminders({ year, now: before, hour: 24 })).toThrow(RangeError);
    expect(() => reminders({ year, now: before, monthlyDay: 31 })).toThrow(RangeError);
  });
});

describe("RFC 5545 details", () => {
  test("text escaping round-trips", () => {
    const text = "a, b; c\\d\nnew line";
    expect(escapeText(text)).toBe("a\\, b\\; c\\\\d\\nnew line");
    expect(unescapeText(escapeText(text))).toBe(text);
  });

  test("lines fold at 75 octets without splitting a UTF-8 character", () => {
    expect(foldLine("short")).toBe("short");
    const long = `DESCRIPTION:${"é".repeat(100)}–end`;
    const folded = foldLine(long);
    const parts = folded.split("\r\n");
    expect(parts.length).toBeGreaterThan(1);
    for (const part of parts) expect(new TextEncoder().encode(part).length).toBeLessThanOrEqual(75);
    for (const part of parts.slice(1)) expect(part.startsWith(" ")).toBe(true);
    expect(folded.replace(/\r\n /g, "")).toBe(long);
  });

  test("UTC stamps", () => {
    expect(icsUtc(new Date("2026-11-30T23:59:00.000Z"))).toBe("20261130T235900Z");
  });

  test("the file: CRLF everywhere, no line over 75 octets, ends with CRLF", () => {
    const text = remindersIcs({ year, now: before, appUrl: "https://fieldbook.example.org/#/year" });
    expect(text.endsWith("END:VCALENDAR\r\n")).toBe(true);
    expect(text.replace(/\r\n/g, "")).not.toMatch(/[\r\n]/);
    for (const line of text.split("\r\n")) expect(new TextEncoder().encode(line).length).toBeLessThanOrEqual(75);
    expect(text).toMatch(/\r\n [^\r\n]/); // some lines were folded
  });

  test("parses back: calendar, time zone and events with UID, DTSTAMP, start, alarm", () => {
    const options: ReminderOptions = { year, now: before, appUrl: "https://fieldbook.example.org/" };
    const [calendar] = parseIcs(remindersIcs(options));
    expect(calendar.name).toBe("VCALENDAR");
    expect(icsValue(calendar, "VERSION")).toBe("2.0");
    expect(icsValue(calendar, "PRODID")).toBe("-//Fieldbook//CPD reminders//EN");
    expect(unescapeText(icsValue(calendar, "X-WR-CALNAME")!)).toBe("Fieldbook CPD reminders 2025–26");
    expect(calendar.components.filter((c) => c.name === "VTIMEZONE")).toHaveLength(1);
    const list = calendar.components.filter((c) => c.name === "VEVENT");
    expect(list).toHaveLength(5);
    const uids = list.map((e) => icsValue(e, "UID"));
    expect(new Set(uids).size).toBe(5);
    expect(uids[0]).toBe("fieldbook-monthly-2025@fieldbook.invalid");
    for (const event of list) {
      expect(icsValue(event, "DTSTAMP")).toBe("20251115T120000Z");
      const start = event.properties.find((p) => p.name === "DTSTART")!;
      expect(start.params.TZID).toBe("Europe/London");
      expect(start.value).toMatch(/^\d{8}T090000$/);
      expect(event.components[0].name).toBe("VALARM");
      expect(icsValue(event.components[0], "ACTION")).toBe("DISPLAY");
      expect(unescapeText(icsValue(event, "DESCRIPTION")!)).toMatch(/\n\nOpen Fieldbook: https:\/\/fieldbook\.example\.org\/$/);
    }
    expect(list.map((e) => [unescapeText(icsValue(e, "SUMMARY")!), icsValue(e, "DTSTART")])).toEqual([
      ["Fieldbook: write up a piece of CPD", "20251201T090000"],
      ["SWE renewal window opens", "20260901T090000"],
      ["SWE renewal deadline in a week", "20261123T090000"],
      ["SWE renewal deadline tomorrow, 23:59", "20261129T090000"],
      ["SWE renewal deadline today, 23:59", "20261130T090000"],
    ]);
    expect(icsValue(list[0], "RRULE")).toBe("FREQ=MONTHLY;BYMONTHDAY=1;UNTIL=20261130T235900Z");
  });

  test("our parser refuses broken files", () => {
    expect(() => parseIcs("BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nEND:VCALENDAR\r\n")).toThrow(SyntaxError);
    expect(() => parseIcs("BEGIN:VCALENDAR\r\n")).toThrow(/never closed/);
    expect(() => parseIcs("no colon here\r\n")).toThrow(SyntaxError);
  });
});

describe("read by ical.js", () => {
  test("events at 09:00 UK time: BST in September, GMT in November; the monthly nudge recurs twelve times up to the deadline", () => {
    const text = remindersIcs({ year, now: before });
    const calendar = new ICAL.Component(ICAL.parse(text));
    const timezone = calendar.getFirstSubcomponent("vtimezone")!;
    ICAL.TimezoneService.register(timezone);
    const list = calendar.getAllSubcomponents("vevent").map((c) => new ICAL.Event(c));
    expect(list.map((e) => e.summary)).toEqual([
      "Fieldbook: write up a piece of CPD",
      "SWE renewal window opens",
      "SWE renewal deadline in a week",
      "SWE renewal deadline tomorrow, 23:59",
      "SWE renewal deadline today, 23:59",
    ]);
    const utc = (time: ICAL.Time) => time.toJSDate().toISOString();
    expect(utc(list[1].startDate)).toBe("2026-09-01T08:00:00.000Z"); // 09:00 BST
    expect(utc(list[2].startDate)).toBe("2026-11-23T09:00:00.000Z"); // 09:00 GMT
    expect(list[1].description).toContain("23:59 on 30 November");

    const monthly = list[0];
    expect(monthly.isRecurring()).toBe(true);
    const iterator = monthly.iterator();
    const dates: string[] = [];
    for (let next = iterator.next(); next && dates.length < 20; next = iterator.next()) dates.push(utc(next));
    expect(dates).toHaveLength(12);
    expect(dates[0]).toBe("2025-12-01T09:00:00.000Z");
    expect(dates[6]).toBe("2026-06-01T08:00:00.000Z");
    expect(dates[11]).toBe("2026-11-01T09:00:00.000Z");
    ICAL.TimezoneService.reset();
  });
});
