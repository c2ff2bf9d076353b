//! Unit tests of the engine, and the corpus checks: the labelled corpus is
//! in step with its marked-up source, the engine's output on it equals the
//! committed expected output (which the TypeScript engine is also checked
//! against), and the measured precision and recall meet the targets.

use std::path::PathBuf;

use super::measure::{self, Snippet};
use super::*;

fn found(text: &str) -> Vec<(FlagKind, String)> {
    find_identifying_details(text)
        .into_iter()
        .map(|f| (f.kind, f.text))
        .collect()
}

fn one(kind: FlagKind, text: &str) -> Vec<(FlagKind, String)> {
    vec![(kind, text.to_owned())]
}

#[test]
fn builtin_rules_compile() {
    Detector::from_json(RULES_JSON).unwrap();
}

#[test]
fn names_with_titles_first_names_relationships_and_ages() {
    assert_eq!(
        found("I met Mrs Okafor at the door."),
        one(FlagKind::Name, "Mrs Okafor")
    );
    assert_eq!(
        found("Spoke to Dr. Sarah Lindqvist about it."),
        one(FlagKind::Name, "Dr. Sarah Lindqvist")
    );
    assert_eq!(
        found("Jade Wilson said no."),
        one(FlagKind::Name, "Jade Wilson")
    );
    // A weekday after a first name is not a surname.
    assert_eq!(
        found("I saw Jade Monday morning."),
        one(FlagKind::Name, "Jade")
    );
    // Not on the list of first names, but given with a relationship or an age.
    assert_eq!(
        found("her son Kaydenz was asleep"),
        one(FlagKind::Name, "Kaydenz")
    );
    assert_eq!(
        found("Brogann (7) drew a picture"),
        one(FlagKind::Name, "Brogann")
    );
    assert_eq!(
        found("the Kowalski family"),
        one(FlagKind::Name, "Kowalski")
    );
    // Words that are also names need a surname.
    assert_eq!(found("Will I cope? Hope so."), vec![]);
    assert_eq!(
        found("Grace Adeyemi rang."),
        one(FlagKind::Name, "Grace Adeyemi")
    );
    // Not on the list, but doing what people do, met, or beside a known name.
    assert_eq!(
        found("afterwards Tiegann told me"),
        one(FlagKind::Name, "Tiegann")
    );
    assert_eq!(
        found("I visited Brogann at home."),
        one(FlagKind::Name, "Brogann")
    );
    assert_eq!(
        found("the carers, Sandra and Phyl, asked"),
        vec![
            (FlagKind::Name, "Sandra".to_owned()),
            (FlagKind::Name, "Phyl".to_owned())
        ]
    );
    // Capitalised words that are not people, doing the same.
    assert_eq!(
        found("Supervision was useful. Research says so, and the Council said no."),
        vec![]
    );
    // An initial is the usual way to anonymise, and is left alone.
    assert_eq!(found("Mrs B and Child A were present."), vec![]);
}

#[test]
fn dates_of_birth_and_full_dates() {
    assert_eq!(
        found("DOB 03/07/2016, lives with mum"),
        one(FlagKind::DateOfBirth, "03/07/2016")
    );
    assert_eq!(
        found("She was born on 14 February 2025."),
        one(FlagKind::DateOfBirth, "14 February 2025")
    );
    assert_eq!(
        found("The hearing on 21 January 2025 was moved."),
        one(FlagKind::Date, "21 January 2025")
    );
    assert_eq!(found("Since March 2025, twice a week."), vec![]);
}

#[test]
fn dates_of_birth_in_every_common_format() {
    let dates = [
        "12/03/2015",
        "12-03-2015",
        "12.03.2015",
        "12 March 2015",
        "12th Mar 2015",
        "12th of March 2015",
        "March 12th, 2015",
        "2015-03-12",
        "12/3/15",
        "12-Mar-2015",
        "12 Mar 15",
    ];
    for date in dates {
        for cue in ["DOB", "DOB:", "D.O.B.", "dob -", "date of birth", "born on"] {
            assert_eq!(
                found(&format!("Child, {cue} {date}, at home")),
                one(FlagKind::DateOfBirth, date),
                "{cue} {date}"
            );
        }
    }
    // Without a cue a full date is still flagged, as a date.
    assert_eq!(
        found("Seen on 2015-03-12 at home"),
        one(FlagKind::Date, "2015-03-12")
    );
}

#[test]
fn a_full_name_is_described_as_a_full_name() {
    let flags = find_identifying_details("Tom Baker, DOB 12/03/2015");
    assert_eq!(flags[0].text, "Tom Baker");
    assert!(
        flags[0].why.contains("a person's full name"),
        "{}",
        flags[0].why
    );
    let flags = find_identifying_details("I saw Jade Monday morning.");
    assert_eq!(flags[0].text, "Jade");
    assert!(
        flags[0].why.contains("a person's first name"),
        "{}",
        flags[0].why
    );
}

#[test]
fn street_abbreviations_after_a_house_number() {
    for address in [
        "22 Hill St",
        "4 Park Rd",
        "7a Elm Ave",
        "12 Mill Ln",
        "3 Oak Cl",
        "9 Beech Dr",
        "15 Rose Cres",
        "8 Stone Tce",
        "40 Lime Gdns",
        "5 Market Sq",
    ] {
        assert_eq!(
            found(&format!("They live at {address}. now")),
            one(FlagKind::Address, address),
            "{address}"
        );
    }
}

#[test]
fn addresses_and_postcodes() {
    assert_eq!(
        found("lives at 14 Oakwood Road, LS8 2QT."),
        vec![
            (FlagKind::Address, "14 Oakwood Road".to_owned()),
            (FlagKind::Postcode, "LS8 2QT".to_owned()),
        ]
    );
    assert_eq!(
        found("at Flat 3, Beech House today"),
        one(FlagKind::Address, "Flat 3, Beech House")
    );
    assert_eq!(
        found("George Street is busy"),
        one(FlagKind::Address, "George Street")
    );
    assert_eq!(found("M1 is closed"), vec![]);
}

#[test]
fn phones_emails_and_numbers() {
    assert_eq!(
        found("call 07700 900123 or 0113 496 0721"),
        vec![
            (FlagKind::Phone, "07700 900123".to_owned()),
            (FlagKind::Phone, "0113 496 0721".to_owned()),
        ]
    );
    assert_eq!(
        found("mobile +44 7700 900456."),
        one(FlagKind::Phone, "+44 7700 900456")
    );
    // Too short for a UK number.
    assert_eq!(found("Childline on 0800 1111"), vec![]);
    assert_eq!(
        found("email j.hartley@oakfield-academy.sch.uk today"),
        one(FlagKind::Email, "j.hartley@oakfield-academy.sch.uk")
    );
    assert_eq!(
        found("NHS number 943 476 5919."),
        one(FlagKind::NhsNumber, "943 476 5919")
    );
    assert_eq!(
        found("NI number AB 12 34 56 C"),
        one(FlagKind::NiNumber, "AB 12 34 56 C")
    );
    // GB is never issued as a National Insurance prefix.
    assert_eq!(found("GB 12 34 56 C"), vec![]);
    assert_eq!(
        found("case number 123456 on Mosaic"),
        one(FlagKind::Reference, "123456")
    );
    assert_eq!(
        found("court ref LS24C00123"),
        one(FlagKind::Reference, "LS24C00123")
    );
}

#[test]
fn an_nhs_number_with_a_wrong_check_digit_is_not_an_nhs_number() {
    assert!(nhs_number_is_valid("9434765919"));
    assert!(nhs_number_is_valid("943-476-5919"));
    assert!(!nhs_number_is_valid("9434765918"));
    // Remainder 1 gives check digit 10, which is never issued.
    assert!(!nhs_number_is_valid("0000000060"));
    assert!(nhs_number_is_valid("4010232137"));
    assert!(!nhs_number_is_valid("401023213"));
    assert_eq!(
        found("943 476 5918").first().map(|f| f.0),
        None,
        "an invalid ten-digit number is not flagged as an NHS number"
    );
}

#[test]
fn phone_numbers_have_ten_or_eleven_national_digits() {
    assert!(uk_phone_is_plausible("07700 900123"));
    assert!(uk_phone_is_plausible("+44 (0)113 496 0000"));
    assert!(uk_phone_is_plausible("+44 113 496 0000"));
    assert!(!uk_phone_is_plausible("0800 1111"));
    assert!(!uk_phone_is_plausible("0113 496 0000 12"));
    assert!(!uk_phone_is_plausible("00 44 113 496 00"));
}

#[test]
fn places_professions_legislation_and_standards_are_not_flagged() {
    for text in [
        "I visited a family in Leeds and then drove back to the Midlands.",
        "The health visitor, the GP and the IRO agreed the plan.",
        "Under the Children Act 1989 and Section 47, and the Care Act 2014.",
        "The Mental Capacity Act 2005 two-stage test; the PCF; Gibbs' cycle.",
        "This maps to standard 4.2 and to standards 3.1 and 4.8.",
        "Reading Kolb and Schön, and the Munro Review, in May 2024.",
        "Arthur Labinjo-Hughes and Star Hobson: the national review.",
    ] {
        assert_eq!(found(text), vec![], "{text}");
    }
}

#[test]
fn offsets_count_characters_not_bytes() {
    let text = "Zoë 🙂 met Jade at 14 Oak Road";
    let flags = find_identifying_details(text);
    let spans: Vec<(usize, usize, &str)> = flags
        .iter()
        .map(|f| (f.start, f.end, f.text.as_str()))
        .collect();
    assert_eq!(
        spans,
        vec![(0, 3, "Zoë"), (10, 14, "Jade"), (18, 29, "14 Oak Road")]
    );
    for flag in &flags {
        let by_chars: String = text
            .chars()
            .skip(flag.start)
            .take(flag.end - flag.start)
            .collect();
        assert_eq!(by_chars, flag.text);
    }
}

#[test]
fn a_match_inside_a_word_is_not_flagged() {
    assert_eq!(found("Benedictine and Jadeite"), vec![]);
    assert_eq!(found("x07700900123"), vec![]);
}

#[test]
fn every_flag_says_why() {
    let flags = find_identifying_details(
        "Mrs Okafor, DOB 1/2/2015, 14 Oak Road LS8 2QT, 07700 900123, a@b.org, \
         943 476 5919, AB 12 34 56 C, case no. 55512, Harehills Primary School, on 3 May 2024",
    );
    let mut kinds: Vec<FlagKind> = flags.iter().map(|f| f.kind).collect();
    kinds.sort();
    kinds.dedup();
    assert_eq!(kinds, FlagKind::ALL.to_vec(), "{flags:#?}");
    for flag in flags {
        assert!(flag.why.len() > 30, "{flag:?}");
    }
}

fn rules_with(rule: &str) -> String {
    format!(
        r#"{{"version": 1, "word_char": "[\\p{{L}}]", "fragments": {{"f": "x"}},
            "lists": {{"l": ["Mr", "Mrs"]}}, "exclusions": {{"phrases": []}},
            "rules": [{rule}]}}"#
    )
}

#[test]
fn bad_rules_are_refused_with_the_rule_named() {
    let rule = |body: &str| {
        rules_with(&format!(
            r#"{{"id": "r", "kind": "name", "why": "w", {body}}}"#
        ))
    };
    let error = |body: &str| Detector::from_json(&rule(body)).err().unwrap();
    assert!(matches!(
        error(r#""pattern": "{nope}""#),
        RulesError::UnknownPlaceholder { name, .. } if name == "nope"
    ));
    assert!(matches!(
        error(r#""pattern": "a(""#),
        RulesError::Pattern { .. }
    ));
    assert!(matches!(
        error(r#""pattern": "a", "group": 1"#),
        RulesError::NoSuchGroup { .. }
    ));
    assert!(matches!(
        error(r#""pattern": "(a)", "require_group_in": [{"group": 2, "lists": ["l"]}]"#),
        RulesError::NoSuchGroup { group: 2, .. }
    ));
    assert!(matches!(
        error(r#""pattern": "a*""#),
        RulesError::MatchesEmpty { .. }
    ));
    assert!(matches!(
        error(r#""pattern": "a", "trim_leading": ["none"]"#),
        RulesError::UnknownList { .. }
    ));
    assert!(matches!(
        error(r#""pattern": "a", "frobnicate": true"#),
        RulesError::Json(_)
    ));
    // Lists are alternatives, longest first; repetitions are not placeholders.
    let detector = Detector::from_json(&rule(r#""pattern": "{l} [0-9]{2}{f}""#)).unwrap();
    let flags = detector.find("Mrs 12x");
    assert_eq!(flags.len(), 1);
    assert_eq!(flags[0].text, "Mrs 12x");
    // A group looked up in a list: only listed words are flagged.
    let detector = Detector::from_json(&rule(
        r#""pattern": "([A-Z][a-z]+) [0-9]", "require_group_in": [{"group": 1, "lists": ["l"]}]"#,
    ))
    .unwrap();
    let texts: Vec<String> = detector
        .find("Mrs 1, Mr 2, Dr 3")
        .into_iter()
        .map(|f| f.text)
        .collect();
    assert_eq!(texts, ["Mrs 1", "Mr 2"]);
}

// ---------------------------------------------------------------- corpus

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn regenerate() -> bool {
    std::env::var_os("FIELDBOOK_REGENERATE").is_some()
}

/// Compares `actual` with a committed file, or rewrites the file when
/// FIELDBOOK_REGENERATE is set.
fn check_file(name: &str, actual: &str) {
    let path = fixture(name);
    if regenerate() {
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap();
    let first_difference = expected
        .lines()
        .zip(actual.lines())
        .find(|(e, a)| e != a)
        .map(|(e, a)| format!("\nexpected {e}\n  actual {a}"));
    assert!(
        expected == actual,
        "{name} is out of date (FIELDBOOK_REGENERATE=1 rewrites it):{}",
        first_difference.unwrap_or_else(|| " line count differs".to_owned())
    );
}

fn marked_up(name: &str) -> Vec<Snippet> {
    let source = std::fs::read_to_string(fixture(&format!("{name}.txt"))).unwrap();
    measure::parse_marked_up(&source).unwrap()
}

fn corpus() -> Vec<Snippet> {
    marked_up("anonymisation_corpus")
}

#[test]
fn corpus_jsonl_is_generated_from_its_marked_up_source() {
    for name in ["anonymisation_corpus", "anonymisation_heldout"] {
        let corpus = marked_up(name);
        let jsonl_name = format!("{name}.jsonl");
        check_file(&jsonl_name, &measure::to_jsonl(&corpus));
        if !regenerate() {
            let jsonl = std::fs::read_to_string(fixture(&jsonl_name)).unwrap();
            assert_eq!(measure::parse_corpus(&jsonl).unwrap(), corpus);
        }
    }
}

#[test]
fn corpus_is_big_enough_and_balanced() {
    let corpus = corpus();
    let with = corpus.iter().filter(|s| !s.labels.is_empty()).count();
    let without = corpus.len() - with;
    assert!(corpus.len() >= 150, "{} snippets", corpus.len());
    assert!(
        with >= 75 && without >= 75,
        "{with} with, {without} without"
    );
    let mut ids: Vec<&str> = corpus.iter().map(|s| s.id.as_str()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), corpus.len(), "snippet ids are unique");
    for kind in FlagKind::ALL {
        assert!(
            corpus
                .iter()
                .flat_map(|s| &s.labels)
                .any(|l| l.kind == kind),
            "no {kind} in the corpus"
        );
    }
}

#[test]
fn output_on_the_corpus_equals_the_committed_expected_output() {
    check_file(
        "anonymisation_expected.jsonl",
        &measure::flags_jsonl(Detector::builtin(), &corpus()),
    );
    // The held-out set too: more text on which the two engines must agree.
    check_file(
        "anonymisation_heldout_expected.jsonl",
        &measure::flags_jsonl(Detector::builtin(), &marked_up("anonymisation_heldout")),
    );
}

#[test]
fn precision_and_recall_meet_the_targets() {
    let report = measure::measure(Detector::builtin(), &corpus());
    let misses: Vec<String> = report
        .misses
        .iter()
        .map(|m| {
            let what = if m.false_positive {
                "flagged"
            } else {
                "missed"
            };
            format!("{} {what} {} {:?}", m.snippet, m.kind, m.text)
        })
        .collect();
    let summary = format!("{report}\n{}", misses.join("\n"));
    for kind in [
        FlagKind::Name,
        FlagKind::DateOfBirth,
        FlagKind::Postcode,
        FlagKind::Phone,
        FlagKind::Email,
        FlagKind::NhsNumber,
        FlagKind::NiNumber,
    ] {
        let recall = report.kind(kind).recall().unwrap();
        assert!(
            recall >= 0.95,
            "recall for {kind} is {recall:.3}\n{summary}"
        );
    }
    let precision = report.overall().precision().unwrap();
    assert!(
        precision >= 0.9,
        "overall precision is {precision:.3}\n{summary}"
    );
}

/// Texts built from pieces that exercise the engines' edges — astral
/// characters next to matches, combining marks, newlines, near-miss numbers,
/// case changes — from a fixed seed, so the file below never changes unless
/// the rules do.
fn edge_texts() -> Vec<String> {
    const PIECES: &[&str] = &[
        "Jade",
        "Mrs Okafor",
        "Dr. Sarah Lindqvist",
        "her son Kaydenz",
        "Zoë",
        "Łukasz",
        "JADE",
        "jade",
        "Ellie-May",
        "O'Brien",
        "McDonald",
        "the Kowalski family",
        "Will",
        "Grace Adeyemi",
        "Sandra and Phyl",
        "then Tiegann told me",
        "Brogann (7)",
        "aged 9",
        "DOB",
        "d.o.b.",
        "born on",
        "14 February 2025",
        "03/07/2016",
        "3.7.16",
        "31/02/2024",
        "May 2024",
        "14 Oakwood Road",
        "Flat 3, Beech House",
        "George Street",
        "LS8 2QT",
        "ls8 2qt",
        "M1",
        "07700 900123",
        "+44 (0)113 496 0000",
        "(0113) 496 0721",
        "0800 1111",
        "07700900123456",
        "a@b.org",
        "j.hartley@oakfield-academy.sch.uk",
        "@",
        "943 476 5919",
        "943 476 5918",
        "9434765919",
        "AB 12 34 56 C",
        "GB 12 34 56 C",
        "ab123456c",
        "case no. 55512",
        "court ref LS24C00123",
        "CR/2024/118273",
        "1234567",
        "#12345678",
        "Harehills Primary School",
        "The Primary School",
        "St James's Hospital",
        "works at Greggs",
        "HMP Leeds",
        "Children Act 1989",
        "children act 1989",
        "Gibbs'",
        "standard 4.2",
        "Section 47",
        "the Midlands",
        "Leeds",
        "health visitor",
        "GP",
        "🙂",
        "𝐀",
        "👩\u{200d}👧",
        "e\u{301}",
        "中文",
        "Ω",
        "\n",
        "\t",
        ",",
        ".",
        "-",
        "'",
        "’",
        "(",
        ")",
        " ",
        " ",
        " ",
        "  ",
        "x",
        "ß",
        "İ",
        "K",
        "ſ",
    ];
    let mut seed: u64 = 0x5eed_f1e1_db00_c0de;
    let mut next = move |n: usize| {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (seed >> 33) as usize % n
    };
    (0..400)
        .map(|_| {
            const SEPARATORS: &[&str] = &[" ", " ", " ", "", ", ", ". ", "\n", "🙂", "é"];
            let count = 1 + next(12);
            let mut text = String::new();
            for _ in 0..count {
                text.push_str(PIECES[next(PIECES.len())]);
                text.push_str(SEPARATORS[next(SEPARATORS.len())]);
            }
            text
        })
        .collect()
}

#[test]
fn output_on_edge_cases_equals_the_committed_expected_output() {
    #[derive(serde::Serialize)]
    struct Line {
        id: String,
        text: String,
        flags: Vec<Flag>,
    }
    let jsonl: String = edge_texts()
        .into_iter()
        .enumerate()
        .map(|(i, text)| {
            let flags = find_identifying_details(&text);
            let line = Line {
                id: format!("edge{i:03}"),
                text,
                flags,
            };
            serde_json::to_string(&line).unwrap() + "\n"
        })
        .collect();
    // Not vacuous: most of these texts have flags.
    assert!(jsonl.matches("\"kind\"").count() > 300);
    check_file("anonymisation_edge_expected.jsonl", &jsonl);
}
