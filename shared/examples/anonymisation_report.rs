//! Prints the anonymisation check's precision and recall per kind on the
//! labelled corpus (the rules were tuned on it) and on the held-out set (never
//! used for tuning), as the Markdown tables in BENCHMARKS.md:
//!
//! ```sh
//! cargo run -q -p fieldbook-shared --example anonymisation_report
//! cargo run -q -p fieldbook-shared --example anonymisation_report -- --misses
//! ```
//!
//! `--misses` also lists every missed label and every flag with no label.

use fieldbook_shared::anonymise::{measure, Detector};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let show_misses = std::env::args().any(|a| a == "--misses");
    for (title, name) in [
        ("Labelled corpus", "anonymisation_corpus"),
        ("Held-out set", "anonymisation_heldout"),
    ] {
        let path = format!("{}/tests/fixtures/{name}.jsonl", env!("CARGO_MANIFEST_DIR"));
        let corpus = measure::parse_corpus(&std::fs::read_to_string(path)?)?;
        let report = measure::measure(Detector::builtin(), &corpus);
        println!("### {title} (`shared/tests/fixtures/{name}.jsonl`)\n");
        print!("{report}");
        if show_misses {
            print_misses(&report);
        }
        println!();
    }
    Ok(())
}

fn print_misses(report: &measure::Report) {
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
