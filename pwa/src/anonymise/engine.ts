// The anonymisation check's engine: applies the rules in
// shared/anonymise/rules.json exactly as the Rust engine
// (shared/src/anonymise/mod.rs) does, so the phone, the laptop and the
// server's exports flag the same details. Both are checked against one
// committed expected output on the labelled corpus (engine.test.ts).
// Pure: no DOM, no Automerge; the text never leaves the device.
//
// Offsets in flags are in characters (code points), like Rust's; JavaScript
// indexes strings in UTF-16 units, so spans are converted at the end.

export type FlagKind =
  | "name"
  | "date_of_birth"
  | "date"
  | "address"
  | "postcode"
  | "phone"
  | "email"
  | "nhs_number"
  | "ni_number"
  | "reference"
  | "school_or_workplace";

export const FLAG_KINDS: readonly FlagKind[] = [
  "name",
  "date_of_birth",
  "date",
  "address",
  "postcode",
  "phone",
  "email",
  "nhs_number",
  "ni_number",
  "reference",
  "school_or_workplace",
];

export interface Flag {
  kind: FlagKind;
  /** First character (code point) of the detail in the checked text. */
  start: number;
  /** One past its last character (code point). */
  end: number;
  text: string;
  /** Plain English: why this may identify someone, and what to write instead. */
  why: string;
}

type Validator = "nhs_mod11" | "uk_phone";

export interface RuleSpec {
  id: string;
  kind: FlagKind;
  pattern: string;
  group?: number;
  ignore_case?: boolean;
  validator?: Validator | null;
  reject_prefixes?: string[];
  trim_leading?: string[];
  trim_trailing?: string[];
  reject_if_any_word_in?: string[];
  reject_if_all_words_in?: string[];
  require_group_in?: { group: number; lists: string[] }[];
  why: string;
}

export interface RulesSpec {
  version: number;
  comment?: string;
  word_char: string;
  fragments: Record<string, string>;
  lists: Record<string, string[]>;
  exclusions: { ignore_case?: boolean; comment?: string; phrases: string[] };
  rules: RuleSpec[];
}

export class RulesError extends Error {
  override name = "RulesError";
}

export interface Detector {
  find(text: string): Flag[];
}

interface Rule {
  kind: FlagKind;
  regex: RegExp;
  group: number;
  validator: Validator | null;
  rejectPrefixes: string[];
  trimLeading: Set<string>;
  trimTrailing: Set<string>;
  rejectIfAny: Set<string>;
  rejectIfAll: Set<string>;
  require: [number, Set<string>][];
  why: string;
}

const MAX_EXPANSIONS = 8;

// The Rust side reads the file with serde's deny_unknown_fields; refusing
// unknown keys here too means a rule option one engine ignores cannot exist.
const FILE_KEYS = ["version", "comment", "word_char", "fragments", "lists", "exclusions", "rules"];
const EXCLUSION_KEYS = ["ignore_case", "comment", "phrases"];
const RULE_KEYS = [
  "id",
  "kind",
  "pattern",
  "group",
  "ignore_case",
  "validator",
  "reject_prefixes",
  "trim_leading",
  "trim_trailing",
  "reject_if_any_word_in",
  "reject_if_all_words_in",
  "require_group_in",
  "why",
];
const REQUIREMENT_KEYS = ["group", "lists"];

function onlyKeys(value: object, allowed: string[], where: string): void {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) throw new RulesError(`${where}: unknown field ${key}`);
  }
}

function compile(rule: string, pattern: string, ignoreCase: boolean): RegExp {
  try {
    // g: search from lastIndex; d: group offsets; u: the syntax Rust reads.
    return new RegExp(pattern, ignoreCase ? "gdui" : "gdu");
  } catch (error) {
    throw new RulesError(`rule ${rule}: invalid pattern: ${(error as Error).message}`);
  }
}

/** Escapes only what both regex dialects treat as syntax (see the Rust engine). */
function escape(s: string): string {
  return s.replace(/[\\^$.|?*+()[\]{}]/g, "\\$&");
}

function codePointLength(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

/** A list as escaped alternatives, longest first ("Mrs" before "Mr"). */
function alternatives(list: string[]): string {
  const sorted = [...list].sort((a, b) => codePointLength(b) - codePointLength(a));
  return `(?:${sorted.map(escape).join("|")})`;
}

function expand(
  rule: string,
  pattern: string,
  fragments: Record<string, string>,
  lists: Record<string, string[]>,
): string {
  let current = pattern;
  for (let round = 0; round <= MAX_EXPANSIONS; round++) {
    let out = "";
    let rest = current;
    let replaced = false;
    for (let open = rest.indexOf("{"); open >= 0; open = rest.indexOf("{")) {
      out += rest.slice(0, open);
      const after = rest.slice(open + 1);
      const name = /^[a-z_]*/.exec(after)![0];
      if (name.length > 0 && after.startsWith("}", name.length)) {
        if (Object.hasOwn(fragments, name)) out += `(?:${fragments[name]})`;
        else if (Object.hasOwn(lists, name)) out += alternatives(lists[name]);
        else throw new RulesError(`rule ${rule}: no fragment or list called {${name}}`);
        replaced = true;
        rest = after.slice(name.length + 1);
      } else {
        out += "{";
        rest = after;
      }
    }
    out += rest;
    if (!replaced) return out;
    current = out;
  }
  throw new RulesError(`rule ${rule}: placeholders nest more than ${MAX_EXPANSIONS} deep`);
}

function wordSet(rule: string, names: string[] | undefined, lists: Record<string, string[]>): Set<string> {
  const set = new Set<string>();
  for (const name of names ?? []) {
    if (!Object.hasOwn(lists, name)) throw new RulesError(`rule ${rule}: no list called ${name}`);
    for (const word of lists[name]) set.add(word);
  }
  return set;
}

/**
 * Counts the capture groups of a pattern by reading it: compiling a second
 * RegExp to count them doubled the cost of the first check on a phone.
 */
function captureGroups(pattern: string): number {
  let count = 0;
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === "\\") i++;
    else if (inClass) inClass = c !== "]";
    else if (c === "[") inClass = true;
    else if (c === "(" && (pattern[i + 1] !== "?" || (pattern[i + 2] === "<" && !"=!".includes(pattern[i + 3])))) {
      count++;
    }
  }
  return count;
}

/**
 * NHS numbers are ten digits, the last a modulus 11 check digit: weights 10
 * down to 2 on the first nine; 11 minus the remainder, 11 meaning 0 and 10
 * meaning the number is never issued.
 */
export function nhsNumberIsValid(text: string): boolean {
  const digits = [...text].filter((c) => c >= "0" && c <= "9").map(Number);
  if (digits.length !== 10) return false;
  let sum = 0;
  for (let i = 0; i < 9; i++) sum += digits[i] * (10 - i);
  const check = 11 - (sum % 11);
  if (check === 11) return digits[9] === 0;
  if (check === 10) return false;
  return digits[9] === check;
}

/** A UK number has 10 or 11 digits in its national (0…) form. */
export function ukPhoneIsPlausible(text: string): boolean {
  const digits = [...text].filter((c) => c >= "0" && c <= "9").join("");
  let national = digits;
  if (text.startsWith("+44")) {
    const rest = digits.slice(2);
    national = rest.startsWith("0") ? rest : `0${rest}`;
  }
  return (
    national.startsWith("0") && !national.startsWith("00") && national.length >= 10 && national.length <= 11
  );
}

/** Compiles a rules file (the shape of shared/anonymise/rules.json). */
export function createDetector(spec: RulesSpec): Detector {
  onlyKeys(spec, FILE_KEYS, "rules file");
  onlyKeys(spec.exclusions, EXCLUSION_KEYS, "exclusions");
  // Without the g flag: a global RegExp's test() carries lastIndex over
  // from one call to the next.
  const wordChar = new RegExp(compile("word_char", `^(?:${spec.word_char})$`, false).source, "u");
  const rules: Rule[] = spec.rules.map((r) => {
    onlyKeys(r, RULE_KEYS, `rule ${r.id}`);
    if (!FLAG_KINDS.includes(r.kind)) throw new RulesError(`rule ${r.id}: unknown kind ${r.kind}`);
    const validator = r.validator ?? null;
    if (validator !== null && validator !== "nhs_mod11" && validator !== "uk_phone") {
      throw new RulesError(`rule ${r.id}: unknown validator ${validator}`);
    }
    const pattern = expand(r.id, r.pattern, spec.fragments, spec.lists);
    const regex = compile(r.id, pattern, r.ignore_case ?? false);
    const group = r.group ?? 0;
    const requirements = r.require_group_in ?? [];
    for (const g of [group, ...requirements.map((q) => q.group)]) {
      if (g > captureGroups(pattern)) throw new RulesError(`rule ${r.id}: the pattern has no capture group ${g}`);
    }
    regex.lastIndex = 0;
    if (regex.test("")) throw new RulesError(`rule ${r.id}: the pattern matches empty text`);
    return {
      kind: r.kind,
      regex,
      group,
      validator,
      rejectPrefixes: r.reject_prefixes ?? [],
      trimLeading: wordSet(r.id, r.trim_leading, spec.lists),
      trimTrailing: wordSet(r.id, r.trim_trailing, spec.lists),
      rejectIfAny: wordSet(r.id, r.reject_if_any_word_in, spec.lists),
      rejectIfAll: wordSet(r.id, r.reject_if_all_words_in, spec.lists),
      require: requirements.map((q): [number, Set<string>] => {
        onlyKeys(q, REQUIREMENT_KEYS, `rule ${r.id}: require_group_in`);
        return [q.group, wordSet(r.id, q.lists, spec.lists)];
      }),
      why: r.why,
    };
  });
  const exclusions =
    spec.exclusions.phrases.length > 0
      ? compile("exclusions", alternatives(spec.exclusions.phrases), spec.exclusions.ignore_case ?? false)
      : null;

  const isWordChar = (codePoint: number | undefined) =>
    codePoint !== undefined && wordChar.test(String.fromCodePoint(codePoint));

  /** True when neither side of start..end (UTF-16) touches a word character. */
  function bounded(text: string, start: number, end: number): boolean {
    return !isWordChar(codePointBefore(text, start)) && !isWordChar(text.codePointAt(end));
  }

  /**
   * Every accepted span: after an accepted match the search resumes at its
   * end, after a rejected one at the next character.
   */
  function spans(
    text: string,
    regex: RegExp,
    accept: (match: RegExpExecArray) => [number, number] | null,
  ): [number, number][] {
    const out: [number, number][] = [];
    let at = 0;
    while (at <= text.length) {
      regex.lastIndex = at;
      const match = regex.exec(text);
      if (match === null) break;
      const start = match.index;
      const end = start + match[0].length;
      const accepted = bounded(text, start, end) ? accept(match) : null;
      if (accepted !== null && end > start) {
        out.push(accepted);
        at = end;
      } else {
        at = start + (text.codePointAt(start)! > 0xffff ? 2 : 1);
      }
    }
    return out;
  }

  function accept(rule: Rule, text: string, match: RegExpExecArray): [number, number] | null {
    for (const [group, words] of rule.require) {
      const text = match[group];
      if (text === undefined || !words.has(text)) return null;
    }
    const span = match.indices?.[rule.group];
    if (span === undefined) return null;
    let [start, end] = span;
    const flagged = text.slice(start, end);
    if (rule.validator === "nhs_mod11" && !nhsNumberIsValid(flagged)) return null;
    if (rule.validator === "uk_phone" && !ukPhoneIsPlausible(flagged)) return null;
    if (rule.rejectPrefixes.some((p) => flagged.startsWith(p))) return null;
    // Words are separated by single spaces, as the patterns write them.
    const words = flagged.split(" ");
    while (words.length > 0 && rule.trimLeading.has(words[0])) {
      start += words[0].length + 1;
      words.shift();
    }
    while (words.length > 0 && rule.trimTrailing.has(words[words.length - 1])) {
      end -= words[words.length - 1].length + 1;
      words.pop();
    }
    if (
      words.length === 0 ||
      words.some((w) => rule.rejectIfAny.has(w)) ||
      (rule.rejectIfAll.size > 0 && words.every((w) => rule.rejectIfAll.has(w)))
    ) {
      return null;
    }
    return [start, end];
  }

  return {
    find(text: string): Flag[] {
      const excluded = exclusions
        ? spans(text, exclusions, (m) => [m.index, m.index + m[0].length])
        : [];
      const kept: [number, number, Rule][] = [];
      for (const rule of rules) {
        for (const [start, end] of spans(text, rule.regex, (m) => accept(rule, text, m))) {
          const overlaps = ([s, e]: readonly [number, number, ...unknown[]]) => start < e && s < end;
          if (excluded.some(overlaps) || kept.some(overlaps)) continue;
          kept.push([start, end, rule]);
        }
      }
      kept.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
      const toChars = codePointOffsets(text);
      return kept.map(([start, end, rule]) => ({
        kind: rule.kind,
        start: toChars(start),
        end: toChars(end),
        text: text.slice(start, end),
        why: rule.why,
      }));
    },
  };
}

function codePointBefore(text: string, index: number): number | undefined {
  if (index <= 0) return undefined;
  const low = text.charCodeAt(index - 1);
  if (low >= 0xdc00 && low <= 0xdfff && index >= 2) {
    const high = text.charCodeAt(index - 2);
    if (high >= 0xd800 && high <= 0xdbff) return text.codePointAt(index - 2);
  }
  return low;
}

/** Maps UTF-16 indices of `text` to code point indices. */
function codePointOffsets(text: string): (utf16: number) => number {
  if (!/[\ud800-\udfff]/.test(text)) return (i) => i;
  const map = new Array<number>(text.length + 1);
  let chars = 0;
  for (let i = 0; i < text.length; i++) {
    map[i] = chars;
    const c = text.charCodeAt(i);
    const pair = c >= 0xd800 && c <= 0xdbff && i + 1 < text.length && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00;
    if (pair) map[++i] = chars;
    chars++;
  }
  map[text.length] = chars;
  return (i) => map[i];
}
