// Reminders for a registration year as an .ics file (RFC 5545) the user adds
// to their own calendar: no third party, no account. A monthly nudge to write
// up CPD, the renewal window opening on 1 September, a week before and the
// day before the 23:59 deadline on 30 November, and the deadline day itself.
// Times are UK time (a VTIMEZONE for Europe/London is included). Pure: no DOM.

import { deadlineOf, renewalWindow, UK_TIME_ZONE, ukInstant, type RegistrationYear } from "../cpd/year";

export const ICS_MIME_TYPE = "text/calendar;charset=utf-8";

export interface ReminderOptions {
  year: RegistrationYear;
  /** When the file is made: DTSTAMP, and reminders already past are left out. */
  now: Date;
  /** The UK hour the reminders are at (default 9, so 09:00). */
  hour?: number;
  /** The day of the month of the monthly nudge, 1–28 (default 1). */
  monthlyDay?: number;
  /** Address of the app, added to each reminder so it opens Fieldbook. */
  appUrl?: string;
}

export type ReminderKind = "monthly" | "window-opens" | "week-before" | "day-before" | "deadline-day";

export interface Reminder {
  kind: ReminderKind;
  /** "YYYY-MM-DD", UK date of the (first) reminder. */
  date: string;
  summary: string;
  description: string;
  /** For the monthly nudge: the RRULE value. */
  rrule?: string;
}

const PRODID = "-//Fieldbook//CPD reminders//EN";
const REQUIREMENT = "SWE asks for at least 2 different pieces of CPD in the registration year, at least 1 with a peer reflection.";

function addDays(date: string, days: number): string {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

/** UTC date-time in iCalendar's form: 20261130T235900Z. */
export function icsUtc(date: Date): string {
  return date.toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, "");
}

/** The reminders for a year, those still to come at `now`, in date order. */
export function reminders(options: ReminderOptions): Reminder[] {
  const { year, now } = options;
  const hour = options.hour ?? 9;
  const day = options.monthlyDay ?? 1;
  if (!Number.isInteger(hour) || hour < 0 || hour > 23) throw new RangeError(`Not an hour of the day: ${hour}`);
  if (!Number.isInteger(day) || day < 1 || day > 28) throw new RangeError(`The monthly reminder needs a day from 1 to 28, not ${day}`);
  const deadline = deadlineOf(year);
  const list: Reminder[] = [];
  const isFuture = (date: string) => ukInstant(date, hour).getTime() > now.getTime();

  // The monthly nudge starts at its first day still to come within the year.
  let first = `${year.start.slice(0, 8)}${String(day).padStart(2, "0")}`;
  while (first <= year.end && !isFuture(first)) {
    const [y, m] = [Number(first.slice(0, 4)), Number(first.slice(5, 7))];
    first = m === 12 ? `${y + 1}-01-${first.slice(8)}` : `${y}-${String(m + 1).padStart(2, "0")}-${first.slice(8)}`;
  }
  if (first <= year.end) {
    list.push({
      kind: "monthly",
      date: first,
      summary: "Fieldbook: write up a piece of CPD",
      description: `Turn a note from this month into a CPD entry while you still remember it. ${REQUIREMENT}`,
      rrule: `FREQ=MONTHLY;BYMONTHDAY=${day};UNTIL=${icsUtc(deadline)}`,
    });
  }

  const { opens } = renewalWindow(year);
  const fixed: Reminder[] = [
    {
      kind: "window-opens",
      date: opens,
      summary: "SWE renewal window opens",
      description: `You can renew your registration with Social Work England from today until 23:59 on 30 November. ${REQUIREMENT} Record your CPD on SWE, pay the fee and press Submit.`,
    },
    {
      kind: "week-before",
      date: addDays(year.end, -7),
      summary: "SWE renewal deadline in a week",
      description: `Renew your registration with Social Work England by 23:59 on 30 November. There is no grace period. ${REQUIREMENT}`,
    },
    {
      kind: "day-before",
      date: addDays(year.end, -1),
      summary: "SWE renewal deadline tomorrow, 23:59",
      description: `Renew your registration with Social Work England by 23:59 tomorrow, 30 November, or you are removed from the register. Check you pressed Submit. ${REQUIREMENT}`,
    },
    {
      kind: "deadline-day",
      date: year.end,
      summary: "SWE renewal deadline today, 23:59",
      description: "Today is the last day to renew your registration with Social Work England: by 23:59. Check you pressed Submit.",
    },
  ];
  for (const reminder of fixed) if (isFuture(reminder.date)) list.push(reminder);
  return list.sort((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : 0));
}

// --- Writing ----------------------------------------------------------------------

/** A TEXT value escaped per RFC 5545 3.3.11. */
export function escapeText(text: string): string {
  return text.replace(/\\/g, "\\\\").replace(/;/g, "\\;").replace(/,/g, "\\,").replace(/\r\n?|\n/g, "\\n");
}

const encoder = new TextEncoder();

/**
 * One content line folded at 75 octets (RFC 5545 3.1): each continuation
 * starts with a space; UTF-8 characters are never split.
 */
export function foldLine(line: string): string {
  if (encoder.encode(line).length <= 75) return line;
  const parts: string[] = [];
  let current = "";
  let octets = 0;
  for (const char of line) {
    const size = encoder.encode(char).length;
    // The first line holds 75 octets; later ones 74 after their leading space.
    const limit = parts.length === 0 ? 75 : 74;
    if (octets + size > limit) {
      parts.push(current);
      current = "";
      octets = 0;
    }
    current += char;
    octets += size;
  }
  parts.push(current);
  return parts.join("\r\n ");
}

function localTime(date: string, hour: number, minute = 0): string {
  return `${date.replace(/-/g, "")}T${String(hour).padStart(2, "0")}${String(minute).padStart(2, "0")}00`;
}

/** Europe/London since 1996: BST from the last Sunday of March at 01:00 UTC to the last Sunday of October. */
const VTIMEZONE = [
  "BEGIN:VTIMEZONE",
  `TZID:${UK_TIME_ZONE}`,
  "BEGIN:DAYLIGHT",
  "TZNAME:BST",
  "TZOFFSETFROM:+0000",
  "TZOFFSETTO:+0100",
  "DTSTART:19700329T010000",
  "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU",
  "END:DAYLIGHT",
  "BEGIN:STANDARD",
  "TZNAME:GMT",
  "TZOFFSETFROM:+0100",
  "TZOFFSETTO:+0000",
  "DTSTART:19701025T020000",
  "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU",
  "END:STANDARD",
  "END:VTIMEZONE",
];

/** The .ics file's text: CRLF line ends, folded lines, one VEVENT with an alarm per reminder. */
export function remindersIcs(options: ReminderOptions): string {
  const hour = options.hour ?? 9;
  const stamp = icsUtc(options.now);
  const lines = [
    "BEGIN:VCALENDAR",
    "VERSION:2.0",
    `PRODID:${PRODID}`,
    "CALSCALE:GREGORIAN",
    "METHOD:PUBLISH",
    `X-WR-CALNAME:${escapeText(`Fieldbook CPD reminders ${options.year.label}`)}`,
    `X-WR-TIMEZONE:${UK_TIME_ZONE}`,
    ...VTIMEZONE,
  ];
  for (const reminder of reminders(options)) {
    const description = options.appUrl ? `${reminder.description}\n\nOpen Fieldbook: ${options.appUrl}` : reminder.description;
    lines.push(
      "BEGIN:VEVENT",
      // Stable UIDs: adding a newer file for the same year updates these events instead of adding copies.
      `UID:fieldbook-${reminder.kind}-${options.year.startYear}@fieldbook.invalid`,
      `DTSTAMP:${stamp}`,
      `DTSTART;TZID=${UK_TIME_ZONE}:${localTime(reminder.date, hour)}`,
      `DURATION:PT15M`,
      ...(reminder.rrule ? [`RRULE:${reminder.rrule}`] : []),
      `SUMMARY:${escapeText(reminder.summary)}`,
      `DESCRIPTION:${escapeText(description)}`,
      ...(options.appUrl ? [`URL:${options.appUrl}`] : []),
      "TRANSP:TRANSPARENT",
      "CLASS:PRIVATE",
      "SEQUENCE:0",
      "BEGIN:VALARM",
      "ACTION:DISPLAY",
      "TRIGGER:PT0M",
      `DESCRIPTION:${escapeText(reminder.summary)}`,
      "END:VALARM",
      "END:VEVENT",
    );
  }
  lines.push("END:VCALENDAR");
  return lines.map(foldLine).join("\r\n") + "\r\n";
}

// --- Reading back ----------------------------------------------------------------

export interface IcsProperty {
  name: string;
  params: Record<string, string>;
  value: string;
}

export interface IcsComponent {
  name: string;
  properties: IcsProperty[];
  components: IcsComponent[];
}

/** Undoes escapeText. */
export function unescapeText(value: string): string {
  return value.replace(/\\([\\;,nN])/g, (_, c: string) => (c === "n" || c === "N" ? "\n" : c));
}

/** Unfolds and parses iCalendar text into its components (values left escaped). Throws a SyntaxError for broken nesting. */
export function parseIcs(text: string): IcsComponent[] {
  const unfolded = text.replace(/\r\n[ \t]/g, "").replace(/\n[ \t]/g, "");
  const root: IcsComponent = { name: "", properties: [], components: [] };
  const stack = [root];
  for (const line of unfolded.split(/\r?\n/)) {
    if (line === "") continue;
    const match = /^([A-Za-z0-9-]+)((?:;[^:;]+=(?:"[^"]*"|[^:;"]*))*):(.*)$/.exec(line);
    if (!match) throw new SyntaxError(`Not an iCalendar content line: ${line}`);
    const [, rawName, rawParams, value] = match;
    const name = rawName.toUpperCase();
    if (name === "BEGIN") {
      const component = { name: value.toUpperCase(), properties: [], components: [] };
      stack[stack.length - 1].components.push(component);
      stack.push(component);
      continue;
    }
    if (name === "END") {
      if (stack.length < 2 || stack[stack.length - 1].name !== value.toUpperCase()) throw new SyntaxError(`END:${value} does not close ${stack[stack.length - 1].name || "anything"}`);
      stack.pop();
      continue;
    }
    const params: Record<string, string> = {};
    for (const param of rawParams.match(/;[^:;=]+=(?:"[^"]*"|[^:;"]*)/g) ?? []) {
      const eq = param.indexOf("=");
      params[param.slice(1, eq).toUpperCase()] = param.slice(eq + 1).replace(/^"(.*)"$/, "$1");
    }
    stack[stack.length - 1].properties.push({ name, params, value });
  }
  if (stack.length !== 1) throw new SyntaxError(`${stack[stack.length - 1].name} is never closed`);
  return root.components;
}

/** The first value of a property of a component, or undefined. */
export function icsValue(component: IcsComponent, name: string): string | undefined {
  return component.properties.find((p) => p.name === name)?.value;
}
