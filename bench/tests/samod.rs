//! samod's sync server (`bench/reference-samod/`) at small sizes: it starts,
//! and the scenarios converge against it, so its column in BENCHMARKS.md
//! cannot rot unnoticed. Its binary is built by `make test-rust` (debug);
//! set SAMOD_SYNC_SERVER to use another build.

use std::path::PathBuf;

use fieldbook_bench::scenarios;
use fieldbook_bench::target::{Kind, Target};

fn binary() -> PathBuf {
    let path = std::env::var_os("SAMOD_SYNC_SERVER").map_or_else(
        || {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("../target/reference-samod/debug/samod-sync-server")
        },
        PathBuf::from,
    );
    assert!(
        path.exists(),
        "{} is missing: build it with `cargo build --manifest-path bench/reference-samod/Cargo.toml \
         --target-dir target/reference-samod` (make test-rust does)",
        path.display()
    );
    path
}

fn value(figures: &[fieldbook_bench::report::Figure], name: &str) -> f64 {
    figures.iter().find(|f| f.name == name).unwrap().value
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn samod_takes_every_draft_and_serves_it_to_a_new_device() {
    let target = Target::start_samod(&binary()).await.unwrap();
    assert_eq!(target.kind, Kind::Samod);
    let figures = scenarios::morning_sync(&target, 3, 4).await.unwrap();
    // A join, an offer, the changes and the acknowledgement per draft.
    assert!(
        value(&figures, "messages") >= (3 + 3 * 4 * 3) as f64,
        "{figures:?}"
    );
    assert!(value(&figures, "server peak memory") > 0.0, "{figures:?}");
    // New laptop checks that the server stored what it acknowledged: the
    // root's list of entries, then every entry, comes back to an empty device.
    let figures = scenarios::new_laptop(&target, 12).await.unwrap();
    assert!(value(&figures, "bytes received") > 0.0, "{figures:?}");
    target.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn samod_relays_every_edit_between_two_devices() {
    let target = Target::start_samod(&binary()).await.unwrap();
    let figures = scenarios::steady_typing(&target, 2, 10.0, 1.0)
        .await
        .unwrap();
    assert_eq!(
        value(&figures, "edits not arrived after 2 s"),
        0.0,
        "{figures:?}"
    );
    target.stop().await.unwrap();
}
