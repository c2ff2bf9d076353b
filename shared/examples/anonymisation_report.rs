//! Prints the anonymisation check's precision and recall per kind on the
//! labelled corpus, as the Markdown table in BENCHMARKS.md:
//!
//! ```sh
//! cargo run -q -p fieldbook-shared --example anonymisation_report
//! cargo run -q -p fieldbook-shared --example anonymisation_report -- --misses
//! ```
//!
//! `--misses` also lists every missed label and every flag with no label.

use fieldbook_shared::anonymise::{measure, Detector};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/anonymisation_corpus.jsonl"
    );
    let corpus = measure::parse_corpus(&std::fs::read_to_string(path)?)?;
    let report = measure::measure(Detector::builtin(), &corpus);
    print!("{report}");
    if std::env::args().any(|a| a == "--misses") {
        println!();
        for miss in &report.misses {
            let what = if miss.false_positive {
                "flagged, not labelled"
            } else {
                "labelled, missed"
            };
            println!("{}: {what}: {} {:?}", miss.snippet, miss.kind, miss.text);
        }
    }
    Ok(())
}
