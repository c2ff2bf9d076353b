// Social Work England's registration years: 1 December to 30 November, with
// the renewal window 1 September to 30 November and the deadline at 23:59 on
// 30 November, UK time. Pure functions: no DOM, no Automerge.
//
// Dates are "YYYY-MM-DD" strings (an entry's activityDate, a peer discussion's
// date): calendar days with no time zone, so which year a date belongs to never
// depends on where the device is. "Now" is an instant (a Date), and which day it
// is comes from Europe/London, because SWE's deadline is UK time: a social
// worker on holiday in Spain at 23:30 on 30 November UK time is still in time.

/** One registration year, 1 December (start) to 30 November (end). */
export interface RegistrationYear {
  /** The calendar year of the first day: 2025 for 1 December 2025 – 30 November 2026. */
  startYear: number;
  /** First day, "YYYY-12-01". */
  start: string;
  /** Last day, the deadline day, "YYYY-11-30". */
  end: string;
  /** "2025–26" (with an en dash). */
  label: string;
}

export const UK_TIME_ZONE = "Europe/London";

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** The years a date may have. A date input gives "0002-12-02" while its year
 * is being typed, key by key; such a year is not a date yet. */
const FIRST_YEAR = 1000;
const LAST_YEAR = 9999;

/** Whether text is a real calendar date written "YYYY-MM-DD" (so not
 * 2025-02-29), with a year from 1000 to 9999. */
export function isIsoDate(text: unknown): text is string {
  if (typeof text !== "string") return false;
  const match = ISO_DATE.exec(text);
  if (!match) return false;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  return year >= FIRST_YEAR && year <= LAST_YEAR && month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(year, month);
}

export function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

function daysInMonth(year: number, month: number): number {
  return [31, isLeapYear(year) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1];
}

function parse(date: string): { year: number; month: number; day: number } {
  if (!isIsoDate(date)) throw new RangeError(`Not a date in the form YYYY-MM-DD: ${JSON.stringify(date)}`);
  return { year: Number(date.slice(0, 4)), month: Number(date.slice(5, 7)), day: Number(date.slice(8, 10)) };
}

function pad(value: number, width = 2): string {
  return String(value).padStart(width, "0");
}

function isoDate(year: number, month: number, day: number): string {
  return `${pad(year, 4)}-${pad(month)}-${pad(day)}`;
}

function isStartYear(startYear: number): boolean {
  return Number.isInteger(startYear) && startYear >= FIRST_YEAR && startYear < LAST_YEAR;
}

/** The registration year that starts on 1 December of `startYear` (1000 to 9998). */
export function registrationYear(startYear: number): RegistrationYear {
  if (!isStartYear(startYear)) {
    throw new RangeError(`Not a registration year: ${startYear}`);
  }
  return {
    startYear,
    start: isoDate(startYear, 12, 1),
    end: isoDate(startYear + 1, 11, 30),
    label: `${startYear}–${pad((startYear + 1) % 100)}`,
  };
}

function startYearOf(date: string): number {
  const { year, month } = parse(date);
  return month === 12 ? year : year - 1;
}

/** The registration year a CPD date belongs to; null for anything that is not
 * (yet) a date, such as a year half typed, or a date with no registration year
 * (before December 1000, after November 9999). Never throws: it runs on every
 * keystroke in the date field. */
export function registrationYearOf(date: string | null | undefined): RegistrationYear | null {
  if (!isIsoDate(date)) return null;
  const startYear = startYearOf(date);
  return isStartYear(startYear) ? registrationYear(startYear) : null;
}

/** The year for a label such as "2025–26" (a hyphen is accepted too); null if it is not one. */
export function registrationYearFromLabel(label: string): RegistrationYear | null {
  const match = /^(\d{4})\s*[–-]\s*(\d{2})$/.exec(label.trim());
  if (!match) return null;
  const startYear = Number(match[1]);
  if ((startYear + 1) % 100 !== Number(match[2])) return null;
  return registrationYear(startYear);
}

export function previousRegistrationYear(year: RegistrationYear): RegistrationYear {
  return registrationYear(year.startYear - 1);
}

export function nextRegistrationYear(year: RegistrationYear): RegistrationYear {
  return registrationYear(year.startYear + 1);
}

/** Whether a CPD date falls within the registration year (it can only count for that year). */
export function isInYear(date: string | null | undefined, year: RegistrationYear): boolean {
  return isIsoDate(date) && date >= year.start && date <= year.end;
}

// --- UK time ---------------------------------------------------------------

const ukParts = new Intl.DateTimeFormat("en-GB", {
  timeZone: UK_TIME_ZONE,
  hourCycle: "h23",
  year: "numeric",
  month: "2-digit",
  day: "2-digit",
  hour: "2-digit",
  minute: "2-digit",
  second: "2-digit",
});

interface WallClock {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

function ukWallClock(instant: number): WallClock {
  const parts: Record<string, number> = {};
  for (const part of ukParts.formatToParts(new Date(instant))) {
    if (part.type !== "literal") parts[part.type] = Number(part.value);
  }
  return { year: parts.year, month: parts.month, day: parts.day, hour: parts.hour % 24, minute: parts.minute, second: parts.second };
}

/** UK local time minus UTC at an instant, in ms: 0 in GMT, one hour in BST. */
function ukOffset(instant: number): number {
  const wall = ukWallClock(instant);
  const asUtc = Date.UTC(wall.year, wall.month - 1, wall.day, wall.hour, wall.minute, wall.second);
  return asUtc - Math.floor(instant / 1000) * 1000;
}

/** The calendar day it is in the UK at an instant, "YYYY-MM-DD". */
export function ukDateOf(now: Date): string {
  const time = now.getTime();
  if (Number.isNaN(time)) throw new RangeError("Invalid date");
  const wall = ukWallClock(time);
  return isoDate(wall.year, wall.month, wall.day);
}

/**
 * The instant a UK wall-clock time happens. For a time that happens twice (the
 * October change) the first is taken; for one that never happens (the March
 * change) the time an hour later.
 */
export function ukInstant(date: string, hour = 0, minute = 0, second = 0, ms = 0): Date {
  const { year, month, day } = parse(date);
  const wall = Date.UTC(year, month - 1, day, hour, minute, second, ms);
  // UK offsets change at most once within a few hours: try the offset before
  // and after, keep those that give back the wall time, the earlier first.
  const before = wall - ukOffset(wall - 3 * 3_600_000);
  const after = wall - ukOffset(wall + 3 * 3_600_000);
  const fits = [before, after].filter((instant) => instant + ukOffset(instant) === wall);
  // In the spring gap neither fits; the offset before the change gives the
  // same instant as the time an hour later.
  const instant = fits.length > 0 ? Math.min(...fits) : before;
  return new Date(instant);
}

/** The registration year it is in the UK at an instant. */
export function currentRegistrationYear(now: Date): RegistrationYear {
  return registrationYear(startYearOf(ukDateOf(now)));
}

/** The deadline: 23:59 on 30 November, UK time (a minute before the year ends). */
export function deadlineOf(year: RegistrationYear): Date {
  return ukInstant(year.end, 23, 59);
}

/** The instant the year ends and the next begins: 00:00 on 1 December, UK time. */
export function yearEndsAt(year: RegistrationYear): Date {
  return ukInstant(nextRegistrationYear(year).start);
}

/** Whether the year is over at an instant (it is 1 December or later in the UK). */
export function hasEnded(year: RegistrationYear, now: Date): boolean {
  return ukDateOf(now) > year.end;
}

/** Whole calendar days between two "YYYY-MM-DD" dates (positive if `to` is later). */
export function daysBetween(from: string, to: string): number {
  const a = parse(from);
  const b = parse(to);
  return Math.round((Date.UTC(b.year, b.month - 1, b.day) - Date.UTC(a.year, a.month - 1, a.day)) / 86_400_000);
}

/**
 * Days from today (UK) to 30 November of the year: 1 on 29 November, 0 on the
 * deadline day itself and once the year is over. A year not yet begun counts
 * from today too.
 */
export function daysLeft(year: RegistrationYear, now: Date): number {
  return Math.max(0, daysBetween(ukDateOf(now), year.end));
}

/** Milliseconds until the 23:59 deadline, 0 once it has passed. */
export function msUntilDeadline(year: RegistrationYear, now: Date): number {
  return Math.max(0, deadlineOf(year).getTime() - now.getTime());
}

// --- The renewal window --------------------------------------------------------

/** The renewal window of a year: 1 September to 30 November at the end of it. */
export function renewalWindow(year: RegistrationYear): { opens: string; closes: string } {
  return { opens: isoDate(year.startYear + 1, 9, 1), closes: year.end };
}

/** Whether the year's renewal window is open at an instant (1 September – 30 November, UK). */
export function isRenewalWindowOpen(year: RegistrationYear, now: Date): boolean {
  const today = ukDateOf(now);
  const { opens, closes } = renewalWindow(year);
  return today >= opens && today <= closes;
}

/** Whether it is renewal time now, for the current year. */
export function isRenewalTime(now: Date): boolean {
  return isRenewalWindowOpen(currentRegistrationYear(now), now);
}

// --- Years with entries ------------------------------------------------------

/**
 * The current year and every earlier year that a date falls in, newest first.
 * Dates in later years (a mistyped date) and anything not a date are left out.
 */
export function yearsWithEntries(dates: Iterable<string | null | undefined>, now: Date): RegistrationYear[] {
  const current = currentRegistrationYear(now);
  const starts = new Set<number>([current.startYear]);
  for (const date of dates) {
    const year = registrationYearOf(date);
    if (year && year.startYear <= current.startYear) starts.add(year.startYear);
  }
  return [...starts].sort((a, b) => b - a).map(registrationYear);
}

/** Years before the current one that have at least one dated entry, newest first. */
export function pastYearsWithEntries(dates: Iterable<string | null | undefined>, now: Date): RegistrationYear[] {
  const current = currentRegistrationYear(now);
  return yearsWithEntries(dates, now).filter((year) => year.startYear < current.startYear);
}

/**
 * The time left, in words, for the dashboard: "120 days left to renew (by
 * 23:59 on 30 November)", "1 day left …", "Last day: renew by 23:59 tonight",
 * "The deadline has passed". A year not begun yet says when it starts.
 */
export function deadlineMessage(year: RegistrationYear, now: Date): string {
  const today = ukDateOf(now);
  if (today < year.start) return `This registration year starts on 1 December ${year.startYear}.`;
  if (today > year.end) return `The deadline for ${year.label} (23:59 on 30 November ${year.startYear + 1}) has passed.`;
  const days = daysLeft(year, now);
  if (days === 0) return "Last day: renew by 23:59 tonight (UK time).";
  return `${days === 1 ? "1 day" : `${days} days`} left to renew (by 23:59 on 30 November, UK time).`;
}
