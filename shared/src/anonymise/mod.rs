//! The anonymisation check: finds likely identifying details (names, dates of
//! birth, addresses, postcodes, phone numbers, NHS and National Insurance
//! numbers, case references, named schools and workplaces) in CPD text.
//!
//! The rules are data, `shared/anonymise/rules.json`, so that this engine and
//! the PWA's TypeScript one (`pwa/src/anonymise/`) apply exactly the same
//! rules: the browser cannot run this crate (no WebAssembly build), and a
//! second hand-written copy of the rules would drift. Both engines are
//! checked against one committed expected output on the labelled corpus.
//!
//! How a rule is applied, identically in both engines:
//! 1. `{name}` placeholders in its pattern are replaced by a fragment (a
//!    pattern) or a list (its entries escaped, longest first, as alternatives).
//! 2. The pattern is searched from the start; a match must not touch a word
//!    character (`word_char`) on either side, and must pass the rule's group
//!    look-ups, validator, prefix, trimming and word-list checks; the flagged
//!    span is the whole match or the rule's capture group. After an accepted
//!    match the search goes on from its end, after a rejected one from the
//!    next character.
//! 3. Rules are in priority order: a flag that overlaps an earlier flag, or a
//!    phrase from the exclusion list (legislation, theorists, places that look
//!    like names), is dropped.
//!
//! Offsets are in characters (Unicode code points), never bytes. The file's
//! format is described in `shared/anonymise/README.md`.

pub mod measure;

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::sync::LazyLock;

use regex::{Regex, RegexBuilder};
use serde::{Deserialize, Serialize};

/// The rules both engines load.
pub const RULES_JSON: &str = include_str!("../../anonymise/rules.json");

/// What kind of identifying detail a flag is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FlagKind {
    Name,
    DateOfBirth,
    Date,
    Address,
    Postcode,
    Phone,
    Email,
    NhsNumber,
    NiNumber,
    Reference,
    SchoolOrWorkplace,
}

impl FlagKind {
    pub const ALL: [FlagKind; 11] = [
        FlagKind::Name,
        FlagKind::DateOfBirth,
        FlagKind::Date,
        FlagKind::Address,
        FlagKind::Postcode,
        FlagKind::Phone,
        FlagKind::Email,
        FlagKind::NhsNumber,
        FlagKind::NiNumber,
        FlagKind::Reference,
        FlagKind::SchoolOrWorkplace,
    ];

    /// The name used in JSON and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            FlagKind::Name => "name",
            FlagKind::DateOfBirth => "date_of_birth",
            FlagKind::Date => "date",
            FlagKind::Address => "address",
            FlagKind::Postcode => "postcode",
            FlagKind::Phone => "phone",
            FlagKind::Email => "email",
            FlagKind::NhsNumber => "nhs_number",
            FlagKind::NiNumber => "ni_number",
            FlagKind::Reference => "reference",
            FlagKind::SchoolOrWorkplace => "school_or_workplace",
        }
    }
}

impl fmt::Display for FlagKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One likely identifying detail: `text` is the characters `start..end` of
/// the checked text (character offsets), `why` says in plain English why it
/// was flagged and what to write instead.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Flag {
    pub kind: FlagKind,
    pub start: usize,
    pub end: usize,
    pub text: String,
    pub why: String,
}

/// Why a rules file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum RulesError {
    #[error("the rules file is not the expected JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("rule {rule}: no fragment or list called {{{name}}}")]
    UnknownPlaceholder { rule: String, name: String },
    #[error("rule {rule}: placeholders nest more than {MAX_EXPANSIONS} deep")]
    TooDeep { rule: String },
    #[error("rule {rule}: no list called {name}")]
    UnknownList { rule: String, name: String },
    #[error("rule {rule}: the pattern has no capture group {group}")]
    NoSuchGroup { rule: String, group: usize },
    #[error("rule {rule}: invalid pattern: {source}")]
    Pattern {
        rule: String,
        #[source]
        source: Box<regex::Error>,
    },
    #[error("rule {rule}: the pattern matches empty text")]
    MatchesEmpty { rule: String },
}

const MAX_EXPANSIONS: usize = 8;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RulesFile {
    #[allow(dead_code)]
    version: u32,
    #[serde(default)]
    #[allow(dead_code)]
    comment: Option<String>,
    word_char: String,
    fragments: BTreeMap<String, String>,
    lists: BTreeMap<String, Vec<String>>,
    exclusions: ExclusionsFile,
    rules: Vec<RuleFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExclusionsFile {
    #[serde(default)]
    ignore_case: bool,
    #[serde(default)]
    #[allow(dead_code)]
    comment: Option<String>,
    phrases: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    id: String,
    kind: FlagKind,
    pattern: String,
    #[serde(default)]
    group: usize,
    #[serde(default)]
    ignore_case: bool,
    #[serde(default)]
    validator: Option<Validator>,
    #[serde(default)]
    reject_prefixes: Vec<String>,
    #[serde(default)]
    trim_leading: Vec<String>,
    #[serde(default)]
    trim_trailing: Vec<String>,
    #[serde(default)]
    reject_if_any_word_in: Vec<String>,
    #[serde(default)]
    reject_if_all_words_in: Vec<String>,
    #[serde(default)]
    require_group_in: Vec<GroupRequirement>,
    why: String,
}

/// A capture group whose text must be one of the words in the lists: lets a
/// rule match any capitalised word and look it up, rather than compiling a
/// thousand names into the pattern (slow to compile in a phone's browser).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GroupRequirement {
    group: usize,
    lists: Vec<String>,
}

/// Checks that need arithmetic rather than a pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Validator {
    NhsMod11,
    UkPhone,
}

struct Rule {
    kind: FlagKind,
    regex: Regex,
    group: usize,
    validator: Option<Validator>,
    reject_prefixes: Vec<String>,
    trim_leading: HashSet<String>,
    trim_trailing: HashSet<String>,
    reject_if_any: HashSet<String>,
    reject_if_all: HashSet<String>,
    require: Vec<(usize, HashSet<String>)>,
    why: String,
}

/// A compiled set of rules.
pub struct Detector {
    word_char: Regex,
    rules: Vec<Rule>,
    exclusions: Option<Regex>,
}

static BUILTIN: LazyLock<Detector> = LazyLock::new(|| {
    // The built-in rules are compiled by the tests below; failing here is a
    // build defect, not a runtime condition.
    Detector::from_json(RULES_JSON).expect("the built-in anonymisation rules are valid")
});

/// Finds likely identifying details in `text` with the built-in rules.
pub fn find_identifying_details(text: &str) -> Vec<Flag> {
    BUILTIN.find(text)
}

impl Detector {
    /// The detector for the built-in rules, compiled once.
    pub fn builtin() -> &'static Detector {
        &BUILTIN
    }

    /// Compiles a rules file (the shape of `shared/anonymise/rules.json`).
    pub fn from_json(json: &str) -> Result<Detector, RulesError> {
        let file: RulesFile = serde_json::from_str(json)?;
        let word_char = compile("word_char", &format!("^(?:{})$", file.word_char), false)?;
        let mut rules = Vec::with_capacity(file.rules.len());
        for rule in &file.rules {
            let pattern = expand(&rule.id, &rule.pattern, &file.fragments, &file.lists)?;
            let regex = compile(&rule.id, &pattern, rule.ignore_case)?;
            let groups =
                std::iter::once(rule.group).chain(rule.require_group_in.iter().map(|r| r.group));
            for group in groups {
                if group >= regex.captures_len() {
                    return Err(RulesError::NoSuchGroup {
                        rule: rule.id.clone(),
                        group,
                    });
                }
            }
            if regex.is_match("") {
                return Err(RulesError::MatchesEmpty {
                    rule: rule.id.clone(),
                });
            }
            let words = |names: &[String]| word_set(&rule.id, names, &file.lists);
            rules.push(Rule {
                kind: rule.kind,
                regex,
                group: rule.group,
                validator: rule.validator,
                reject_prefixes: rule.reject_prefixes.clone(),
                trim_leading: words(&rule.trim_leading)?,
                trim_trailing: words(&rule.trim_trailing)?,
                reject_if_any: words(&rule.reject_if_any_word_in)?,
                reject_if_all: words(&rule.reject_if_all_words_in)?,
                require: rule
                    .require_group_in
                    .iter()
                    .map(|r| Ok((r.group, words(&r.lists)?)))
                    .collect::<Result<_, RulesError>>()?,
                why: rule.why.clone(),
            });
        }
        let exclusions = if file.exclusions.phrases.is_empty() {
            None
        } else {
            let pattern = alternatives(&file.exclusions.phrases);
            Some(compile(
                "exclusions",
                &pattern,
                file.exclusions.ignore_case,
            )?)
        };
        Ok(Detector {
            word_char,
            rules,
            exclusions,
        })
    }

    /// Finds likely identifying details in `text`, in order of position.
    pub fn find(&self, text: &str) -> Vec<Flag> {
        let excluded: Vec<(usize, usize)> = match &self.exclusions {
            Some(regex) => self.spans(text, regex, |caps| {
                caps.get(0).map(|m| (m.start(), m.end()))
            }),
            None => Vec::new(),
        };
        // (start, end, rule index), byte offsets.
        let mut kept: Vec<(usize, usize, usize)> = Vec::new();
        for (index, rule) in self.rules.iter().enumerate() {
            let found = self.spans(text, &rule.regex, |caps| self.accept(rule, text, caps));
            for (start, end) in found {
                let overlaps = |&(s, e): &(usize, usize)| start < e && s < end;
                if excluded.iter().any(overlaps) || kept.iter().any(|&(s, e, _)| overlaps(&(s, e)))
                {
                    continue;
                }
                kept.push((start, end, index));
            }
        }
        kept.sort_by_key(|&(start, end, _)| (start, end));
        let mut chars = CharCounter::new(text);
        kept.into_iter()
            .map(|(start, end, index)| {
                let rule = &self.rules[index];
                Flag {
                    kind: rule.kind,
                    start: chars.at(start),
                    end: chars.at(end),
                    text: text[start..end].to_owned(),
                    why: rule.why.clone(),
                }
            })
            .collect()
    }

    /// Every accepted span of `regex` in `text`: after an accepted match the
    /// search resumes at its end, after a rejected one at the next character
    /// (so a rejected match cannot hide a good one that starts inside it).
    fn spans<F>(&self, text: &str, regex: &Regex, mut accept: F) -> Vec<(usize, usize)>
    where
        F: FnMut(&regex::Captures<'_>) -> Option<(usize, usize)>,
    {
        let mut out = Vec::new();
        let mut at = 0;
        while at <= text.len() {
            let Some(caps) = regex.captures_at(text, at) else {
                break;
            };
            let whole = caps.get(0).expect("group 0 always matches");
            let accepted = if self.bounded(text, whole.start(), whole.end()) {
                accept(&caps)
            } else {
                None
            };
            match accepted {
                Some(span) if whole.end() > whole.start() => {
                    out.push(span);
                    at = whole.end();
                }
                _ => at = next_char(text, whole.start()),
            }
        }
        out
    }

    /// True when neither side of `start..end` touches a word character.
    fn bounded(&self, text: &str, start: usize, end: usize) -> bool {
        let before = text[..start].chars().next_back();
        let after = text[end..].chars().next();
        !before.is_some_and(|c| self.is_word_char(c))
            && !after.is_some_and(|c| self.is_word_char(c))
    }

    fn is_word_char(&self, c: char) -> bool {
        let mut buf = [0; 4];
        self.word_char.is_match(c.encode_utf8(&mut buf))
    }

    /// The span a match flags, or `None` if the rule's checks reject it.
    fn accept(
        &self,
        rule: &Rule,
        text: &str,
        caps: &regex::Captures<'_>,
    ) -> Option<(usize, usize)> {
        for (group, words) in &rule.require {
            if !caps.get(*group).is_some_and(|g| words.contains(g.as_str())) {
                return None;
            }
        }
        let span = caps.get(rule.group)?;
        let (mut start, mut end) = (span.start(), span.end());
        let flagged = &text[start..end];
        match rule.validator {
            Some(Validator::NhsMod11) if !nhs_number_is_valid(flagged) => return None,
            Some(Validator::UkPhone) if !uk_phone_is_plausible(flagged) => return None,
            _ => {}
        }
        if rule.reject_prefixes.iter().any(|p| flagged.starts_with(p)) {
            return None;
        }
        // Words are separated by single spaces, as the patterns write them.
        let mut words: Vec<&str> = flagged.split(' ').collect();
        while let Some(first) = words.first() {
            if !rule.trim_leading.contains(*first) {
                break;
            }
            start += first.len() + 1;
            words.remove(0);
        }
        while let Some(last) = words.last() {
            if !rule.trim_trailing.contains(*last) {
                break;
            }
            end -= last.len() + 1;
            words.pop();
        }
        if words.is_empty()
            || words.iter().any(|w| rule.reject_if_any.contains(*w))
            || (!rule.reject_if_all.is_empty()
                && words.iter().all(|w| rule.reject_if_all.contains(*w)))
        {
            return None;
        }
        Some((start, end))
    }
}

fn next_char(text: &str, at: usize) -> usize {
    at + text[at..].chars().next().map_or(1, char::len_utf8)
}

/// Converts byte offsets, asked for in increasing order, to character offsets.
struct CharCounter<'a> {
    text: &'a str,
    byte: usize,
    chars: usize,
}

impl<'a> CharCounter<'a> {
    fn new(text: &'a str) -> Self {
        CharCounter {
            text,
            byte: 0,
            chars: 0,
        }
    }

    fn at(&mut self, byte: usize) -> usize {
        if byte < self.byte {
            self.byte = 0;
            self.chars = 0;
        }
        self.chars += self.text[self.byte..byte].chars().count();
        self.byte = byte;
        self.chars
    }
}

fn compile(rule: &str, pattern: &str, ignore_case: bool) -> Result<Regex, RulesError> {
    RegexBuilder::new(pattern)
        .case_insensitive(ignore_case)
        // The list alternations make big automata; the default limit is for
        // untrusted patterns, these are ours.
        .size_limit(64 << 20)
        .build()
        .map_err(|source| RulesError::Pattern {
            rule: rule.to_owned(),
            source: Box::new(source),
        })
}

/// Replaces `{name}` placeholders (lowercase letters and `_`) with fragments
/// or lists, until none are left. `{2,4}` and other repetitions are left alone.
fn expand(
    rule: &str,
    pattern: &str,
    fragments: &BTreeMap<String, String>,
    lists: &BTreeMap<String, Vec<String>>,
) -> Result<String, RulesError> {
    let mut current = pattern.to_owned();
    for _ in 0..=MAX_EXPANSIONS {
        let mut out = String::with_capacity(current.len());
        let mut rest = current.as_str();
        let mut replaced = false;
        while let Some(open) = rest.find('{') {
            out.push_str(&rest[..open]);
            let after = &rest[open + 1..];
            let name_len = after
                .find(|c: char| !(c.is_ascii_lowercase() || c == '_'))
                .unwrap_or(after.len());
            if name_len > 0 && after[name_len..].starts_with('}') {
                let name = &after[..name_len];
                if let Some(fragment) = fragments.get(name) {
                    out.push_str("(?:");
                    out.push_str(fragment);
                    out.push(')');
                } else if let Some(list) = lists.get(name) {
                    out.push_str(&alternatives(list));
                } else {
                    return Err(RulesError::UnknownPlaceholder {
                        rule: rule.to_owned(),
                        name: name.to_owned(),
                    });
                }
                replaced = true;
                rest = &after[name_len + 1..];
            } else {
                out.push('{');
                rest = after;
            }
        }
        out.push_str(rest);
        if !replaced {
            return Ok(out);
        }
        current = out;
    }
    Err(RulesError::TooDeep {
        rule: rule.to_owned(),
    })
}

/// A list as one group of escaped alternatives, longest first, so that a
/// longer entry wins over its own prefix ("Mrs" before "Mr").
fn alternatives(list: &[String]) -> String {
    let mut sorted: Vec<&String> = list.iter().collect();
    sorted.sort_by_key(|s| std::cmp::Reverse(s.chars().count()));
    let escaped: Vec<String> = sorted.iter().map(|s| escape(s)).collect();
    format!("(?:{})", escaped.join("|"))
}

/// Escapes only the characters both regex dialects treat as syntax: with the
/// `u` flag JavaScript refuses escapes of anything else.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if "\\^$.|?*+()[]{}".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn word_set(
    rule: &str,
    names: &[String],
    lists: &BTreeMap<String, Vec<String>>,
) -> Result<HashSet<String>, RulesError> {
    let mut set = HashSet::new();
    for name in names {
        let list = lists.get(name).ok_or_else(|| RulesError::UnknownList {
            rule: rule.to_owned(),
            name: name.clone(),
        })?;
        set.extend(list.iter().cloned());
    }
    Ok(set)
}

/// NHS numbers are ten digits, the last a modulus 11 check digit: weights 10
/// down to 2 on the first nine; 11 minus the remainder, 11 meaning 0 and 10
/// meaning the number is never issued.
pub fn nhs_number_is_valid(text: &str) -> bool {
    let digits: Vec<u32> = text.chars().filter_map(|c| c.to_digit(10)).collect();
    if digits.len() != 10 {
        return false;
    }
    let sum: u32 = digits[..9]
        .iter()
        .zip((2..=10).rev())
        .map(|(d, w)| d * w)
        .sum();
    match 11 - sum % 11 {
        11 => digits[9] == 0,
        10 => false,
        check => digits[9] == check,
    }
}

/// A UK number written nationally (0…) or internationally (+44…) has 10 or
/// 11 digits in its national form; this keeps long reference numbers that
/// happen to start with 0 out of the phone flags.
pub fn uk_phone_is_plausible(text: &str) -> bool {
    let digits: String = text.chars().filter(char::is_ascii_digit).collect();
    let national = match text.strip_prefix("+44") {
        Some(_) => {
            let rest = &digits[2..];
            if rest.starts_with('0') {
                rest.to_owned()
            } else {
                format!("0{rest}")
            }
        }
        None => digits,
    };
    national.starts_with('0') && !national.starts_with("00") && (10..=11).contains(&national.len())
}

#[cfg(test)]
mod tests;
