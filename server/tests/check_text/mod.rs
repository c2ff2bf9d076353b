//! `fieldbook check-text FILE`: the real binary on temporary files, printing
//! the anonymisation flags as JSON lines with the shared crate's rules.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use fieldbook_shared::anonymise::{find_identifying_details, Flag, FlagKind};

fn check_text(args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_fieldbook"))
        .arg("check-text")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.unwrap_or("").as_bytes()).unwrap();
    drop(input);
    child.wait_with_output().unwrap()
}

fn flags(output: &Output) -> Vec<Flag> {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout.clone())
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

const TEXT: &str = "Visited Zoë 🙂 and Mrs Okafor at 14 Oakwood Road, LS8 2QT.\n\
                    Her NHS number is 943 476 5919; mobile 07700 900123.\n\
                    We used the Children Act 1989 and Gibbs' cycle in Leeds.\n";

#[test]
fn check_text_prints_flags_as_json_lines_with_character_offsets() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("entry.txt");
    std::fs::write(&path, TEXT).unwrap();
    let output = check_text(&[path.to_str().unwrap()], None);
    let stdout = String::from_utf8(output.stdout.clone()).unwrap();
    let found = flags(&output);

    let summary: Vec<(FlagKind, &str)> = found.iter().map(|f| (f.kind, f.text.as_str())).collect();
    assert_eq!(
        summary,
        vec![
            (FlagKind::Name, "Zoë"),
            (FlagKind::Name, "Mrs Okafor"),
            (FlagKind::Address, "14 Oakwood Road"),
            (FlagKind::Postcode, "LS8 2QT"),
            (FlagKind::NhsNumber, "943 476 5919"),
            (FlagKind::Phone, "07700 900123"),
        ]
    );
    // Offsets count characters: the emoji before "Mrs Okafor" is one.
    let chars: Vec<char> = TEXT.chars().collect();
    for flag in &found {
        let text: String = chars[flag.start..flag.end].iter().collect();
        assert_eq!(text, flag.text);
        assert!(!flag.why.is_empty());
    }
    assert_eq!(found[1].start, 18);
    // Exactly the shared crate's flags, one JSON object a line, with the
    // agreed keys in order.
    assert_eq!(found, find_identifying_details(TEXT));
    assert_eq!(stdout.lines().count(), found.len());
    assert!(
        stdout.starts_with(r#"{"kind":"name","start":8,"end":11,"text":"Zoë","why":""#),
        "{stdout}"
    );
}

#[test]
fn check_text_reads_standard_input_and_prints_nothing_for_clean_text() {
    let output = check_text(&["-"], Some("Call Jade on 0113 496 0721."));
    let found = flags(&output);
    assert_eq!(found.len(), 2, "{found:?}");
    assert_eq!(found[0].kind, FlagKind::Name);
    assert_eq!(found[1].kind, FlagKind::Phone);

    let clean = check_text(
        &["-"],
        Some("A health visitor in the Midlands; the Care Act 2014; standard 4.2."),
    );
    assert!(clean.status.success());
    assert!(clean.stdout.is_empty(), "{:?}", clean.stdout);
}

#[test]
fn check_text_explains_a_missing_file() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.txt");
    let output = check_text(&[missing.to_str().unwrap()], None);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("nope.txt"), "{stderr}");
    assert!(output.stdout.is_empty());
}
