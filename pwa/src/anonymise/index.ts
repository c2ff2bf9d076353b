// The anonymisation check the entry editor runs on every text field: flags
// likely identifying details (names, dates of birth, addresses, postcodes,
// phone numbers, emails, NHS and NI numbers, references, named schools and
// workplaces) with a plain-English reason. On the device only.
//
// The rules are shared with the Rust engine (the server's exports and
// `fieldbook check-text`) as one data file, compiled here on first use.
import rules from "../../../shared/anonymise/rules.json";
import { createDetector, type Detector, type Flag, type RulesSpec } from "./engine";

export { createDetector, FLAG_KINDS, nhsNumberIsValid, RulesError, ukPhoneIsPlausible } from "./engine";
export type { Detector, Flag, FlagKind, RulesSpec } from "./engine";

let builtin: Detector | undefined;

/** Likely identifying details in `text`, in order; offsets in characters (code points). */
export function findIdentifyingDetails(text: string): Flag[] {
  builtin ??= createDetector(rules as unknown as RulesSpec);
  return builtin.find(text);
}
