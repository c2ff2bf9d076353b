//! Hostile input: a fuzzer for the wire decoder and the connection's message
//! handler (a short run here, a million executions with `make fuzz`), and a
//! corpus of attacks over real sockets against the real server, each made
//! while another user's device keeps syncing.

mod bystander;
mod cbor;
mod fuzz;
mod http;
mod logs;
mod sockets;

use fieldbook_testkit::seed_from_env;

/// A short fuzzing run in every test run; cheap, and it catches the obvious.
#[tokio::test]
async fn fuzz_the_decoder_and_the_handler_briefly() {
    let seed = seed_from_env("FIELDBOOK_FUZZ_SEED");
    let report = fuzz::run(seed, 20_000).await;
    println!("fuzz: {report:?}");
    assert!(
        report.decoded > 1000,
        "the fuzzer reaches valid messages: {report:?}"
    );
    assert!(
        report.accepted > 100,
        "and the handler accepts some: {report:?}"
    );
}

/// The long run: `make fuzz`, which is `cargo test -p fieldbook-server --test
/// integration hostile::fuzz_a_million -- --ignored --nocapture`
/// (`FIELDBOOK_FUZZ_EXECS` and `FIELDBOOK_FUZZ_SEED` change the count and
/// replay a run).
#[tokio::test]
#[ignore = "a million executions take minutes; run it on purpose with make fuzz"]
async fn fuzz_a_million() {
    let seed = seed_from_env("FIELDBOOK_FUZZ_SEED");
    let executions = std::env::var("FIELDBOOK_FUZZ_EXECS")
        .ok()
        .map(|n| n.parse().expect("FIELDBOOK_FUZZ_EXECS is a number"))
        .unwrap_or(1_000_000);
    let report = fuzz::run(seed, executions).await;
    println!(
        "fuzz: seed {seed}: {} executions in {:.1} s ({} decoded, {} accepted by the handler, \
         {} refused), no panic, no leak",
        report.executions,
        report.elapsed.as_secs_f64(),
        report.decoded,
        report.accepted,
        report.refused
    );
    assert_eq!(report.executions, executions);
}
