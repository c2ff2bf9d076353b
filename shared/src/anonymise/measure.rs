//! Measures a detector on a labelled corpus: precision and recall per kind
//! of identifying detail. The corpus is JSON lines, one snippet a line:
//! `{"id", "text", "labels": [{"kind", "start", "end", "text"}]}` with
//! character offsets (`shared/tests/fixtures/anonymisation_corpus.jsonl`).
//!
//! A label counts as found when a flag of the same kind overlaps it; a flag
//! counts as correct when it overlaps a label of the same kind. Overlap rather
//! than exact spans, because what matters to the user is that the detail is
//! pointed at ("Mrs Okafor" flagged inside "Mrs Okafor's") — exact matches
//! are counted too, so boundary drift shows.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use super::{Detector, Flag, FlagKind};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Label {
    pub kind: FlagKind,
    pub start: usize,
    pub end: usize,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Snippet {
    pub id: String,
    /// Where the words come from: home visit, supervision, court, school, health…
    pub setting: String,
    pub text: String,
    pub labels: Vec<Label>,
}

#[derive(Debug, thiserror::Error)]
pub enum CorpusError {
    #[error("line {line}: {source}")]
    Json {
        line: usize,
        #[source]
        source: serde_json::Error,
    },
    #[error("line {line} of the marked-up corpus: {why}")]
    Markup { line: usize, why: String },
    #[error("snippet {id}: label {start}..{end} is {actual:?} in the text, not {expected:?}")]
    LabelText {
        id: String,
        start: usize,
        end: usize,
        expected: String,
        actual: String,
    },
}

/// Parses the corpus and checks every label's text against its offsets.
pub fn parse_corpus(jsonl: &str) -> Result<Vec<Snippet>, CorpusError> {
    let mut out = Vec::new();
    for (index, line) in jsonl.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let snippet: Snippet = serde_json::from_str(line).map_err(|source| CorpusError::Json {
            line: index + 1,
            source,
        })?;
        for label in &snippet.labels {
            let actual: String = snippet
                .text
                .chars()
                .skip(label.start)
                .take(label.end.saturating_sub(label.start))
                .collect();
            if actual != label.text || label.end <= label.start {
                return Err(CorpusError::LabelText {
                    id: snippet.id.clone(),
                    start: label.start,
                    end: label.end,
                    expected: label.text.clone(),
                    actual,
                });
            }
        }
        out.push(snippet);
    }
    Ok(out)
}

/// Reads the corpus's marked-up source (`anonymisation_corpus.txt`): one
/// snippet a line, `id|setting|text`, each identifying detail written
/// `[[kind:detail]]`; lines starting with `#` and blank lines are skipped.
/// Writing labels in place keeps them right by construction; offsets are
/// computed here, in characters.
pub fn parse_marked_up(source: &str) -> Result<Vec<Snippet>, CorpusError> {
    let mut out = Vec::new();
    for (index, line) in source.lines().enumerate() {
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let bad = |why: &str| CorpusError::Markup {
            line: index + 1,
            why: why.to_owned(),
        };
        let mut parts = line.splitn(3, '|');
        let (Some(id), Some(setting), Some(marked)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(bad("expected id|setting|text"));
        };
        let mut text = String::new();
        let mut chars = 0;
        let mut labels = Vec::new();
        let mut rest = marked;
        while let Some(open) = rest.find("[[") {
            let before = &rest[..open];
            text.push_str(before);
            chars += before.chars().count();
            let inner_and_rest = &rest[open + 2..];
            let close = inner_and_rest
                .find("]]")
                .ok_or_else(|| bad("[[ without ]]"))?;
            let inner = &inner_and_rest[..close];
            let (kind, detail) = inner
                .split_once(':')
                .ok_or_else(|| bad("expected [[kind:detail]]"))?;
            let kind: FlagKind = serde_json::from_value(serde_json::Value::String(kind.into()))
                .map_err(|_| bad(&format!("unknown kind {kind}")))?;
            let length = detail.chars().count();
            labels.push(Label {
                kind,
                start: chars,
                end: chars + length,
                text: detail.to_owned(),
            });
            text.push_str(detail);
            chars += length;
            rest = &inner_and_rest[close + 2..];
        }
        text.push_str(rest);
        out.push(Snippet {
            id: id.to_owned(),
            setting: setting.to_owned(),
            text,
            labels,
        });
    }
    Ok(out)
}

/// The corpus as JSON lines, one snippet a line.
pub fn to_jsonl(corpus: &[Snippet]) -> String {
    corpus
        .iter()
        .map(|s| serde_json::to_string(s).expect("snippets serialise") + "\n")
        .collect()
}

/// What a detector flags in each snippet, as JSON lines
/// `{"id", "flags": [{"kind", "start", "end", "text", "why"}]}`: the file
/// both engines' outputs are compared with.
pub fn flags_jsonl(detector: &Detector, corpus: &[Snippet]) -> String {
    #[derive(Serialize)]
    struct Line<'a> {
        id: &'a str,
        flags: Vec<Flag>,
    }
    corpus
        .iter()
        .map(|s| {
            let line = Line {
                id: &s.id,
                flags: detector.find(&s.text),
            };
            serde_json::to_string(&line).expect("flags serialise") + "\n"
        })
        .collect()
}

/// Counts for one kind (or all kinds together).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Labels of this kind.
    pub labels: usize,
    /// Labels overlapped by a flag of this kind.
    pub found: usize,
    /// Flags of this kind.
    pub flags: usize,
    /// Flags overlapping a label of this kind.
    pub correct: usize,
    /// Correct flags whose span equals a label's exactly.
    pub exact: usize,
}

impl Counts {
    /// Share of labels found; `None` when there are no labels.
    pub fn recall(&self) -> Option<f64> {
        ratio(self.found, self.labels)
    }

    /// Share of flags that are correct; `None` when nothing was flagged.
    pub fn precision(&self) -> Option<f64> {
        ratio(self.correct, self.flags)
    }

    fn add(&mut self, other: Counts) {
        self.labels += other.labels;
        self.found += other.found;
        self.flags += other.flags;
        self.correct += other.correct;
        self.exact += other.exact;
    }
}

fn ratio(part: usize, whole: usize) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

/// A flag or label that was wrong or missed, for tuning the rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Miss {
    pub snippet: String,
    pub kind: FlagKind,
    pub text: String,
    /// True for a flag with no label (false positive), false for a label no
    /// flag found (false negative).
    pub false_positive: bool,
}

#[derive(Debug, Clone, Default)]
pub struct Report {
    pub snippets: usize,
    pub snippets_with_labels: usize,
    pub per_kind: BTreeMap<FlagKind, Counts>,
    pub misses: Vec<Miss>,
}

impl Report {
    pub fn overall(&self) -> Counts {
        let mut total = Counts::default();
        for counts in self.per_kind.values() {
            total.add(*counts);
        }
        total
    }

    pub fn kind(&self, kind: FlagKind) -> Counts {
        self.per_kind.get(&kind).copied().unwrap_or_default()
    }
}

/// Runs `detector` over the corpus and counts, per kind.
pub fn measure(detector: &Detector, corpus: &[Snippet]) -> Report {
    let mut report = Report {
        snippets: corpus.len(),
        snippets_with_labels: corpus.iter().filter(|s| !s.labels.is_empty()).count(),
        ..Report::default()
    };
    for kind in FlagKind::ALL {
        report.per_kind.insert(kind, Counts::default());
    }
    for snippet in corpus {
        let flags = detector.find(&snippet.text);
        score(snippet, &flags, &mut report);
    }
    report
}

fn score(snippet: &Snippet, flags: &[Flag], report: &mut Report) {
    let overlaps = |a: (usize, usize), b: (usize, usize)| a.0 < b.1 && b.0 < a.1;
    for label in &snippet.labels {
        let counts = report.per_kind.entry(label.kind).or_default();
        counts.labels += 1;
        let found = flags
            .iter()
            .any(|f| f.kind == label.kind && overlaps((f.start, f.end), (label.start, label.end)));
        if found {
            counts.found += 1;
        } else {
            report.misses.push(Miss {
                snippet: snippet.id.clone(),
                kind: label.kind,
                text: label.text.clone(),
                false_positive: false,
            });
        }
    }
    for flag in flags {
        let counts = report.per_kind.entry(flag.kind).or_default();
        counts.flags += 1;
        let matching: Vec<&Label> = snippet
            .labels
            .iter()
            .filter(|l| l.kind == flag.kind && overlaps((flag.start, flag.end), (l.start, l.end)))
            .collect();
        if matching.is_empty() {
            report.misses.push(Miss {
                snippet: snippet.id.clone(),
                kind: flag.kind,
                text: flag.text.clone(),
                false_positive: true,
            });
        } else {
            counts.correct += 1;
            if matching
                .iter()
                .any(|l| l.start == flag.start && l.end == flag.end)
            {
                counts.exact += 1;
            }
        }
    }
}

fn percent(value: Option<f64>) -> String {
    value.map_or_else(|| "–".to_owned(), |v| format!("{:.3}", v))
}

/// The per-kind table, in Markdown.
impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} snippets, {} with identifying details, {} without.\n",
            self.snippets,
            self.snippets_with_labels,
            self.snippets - self.snippets_with_labels
        )?;
        writeln!(
            f,
            "| kind | labels | found | recall | flags | correct | precision | exact spans |"
        )?;
        writeln!(f, "|---|---:|---:|---:|---:|---:|---:|---:|")?;
        let row = |f: &mut fmt::Formatter<'_>, name: &str, c: Counts| {
            writeln!(
                f,
                "| {name} | {} | {} | {} | {} | {} | {} | {} |",
                c.labels,
                c.found,
                percent(c.recall()),
                c.flags,
                c.correct,
                percent(c.precision()),
                c.exact
            )
        };
        for (kind, counts) in &self.per_kind {
            row(f, kind.as_str(), *counts)?;
        }
        row(f, "**overall**", self.overall())
    }
}
