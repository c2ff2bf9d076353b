//! Every scenario at a small size against an in-process Fieldbook server:
//! set-up works and convergence is detected (a scenario that never converged
//! would hang or fail; one that "converged" early would show no traffic).

use fieldbook_bench::scenarios;
use fieldbook_bench::target::Target;
use fieldbook_server::{Config, StorageKind};

async fn in_process() -> (Target, tokio::sync::oneshot::Sender<()>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let config = Config {
        data_dir: dir.path().to_owned(),
        storage: StorageKind::Sled,
        login_attempts_per_minute: 10_000,
        ..Config::default()
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(fieldbook_server::run(config, listener, async {
        let _ = stopped.await;
    }));
    (Target::running_fieldbook(addr), stop, dir)
}

fn value(figures: &[fieldbook_bench::report::Figure], name: &str) -> f64 {
    figures.iter().find(|f| f.name == name).unwrap().value
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn morning_sync_converges_and_counts_traffic() {
    let (target, _stop, _dir) = in_process().await;
    let figures = scenarios::morning_sync(&target, 3, 4).await.unwrap();
    // 3 devices x 4 drafts: at least a join, an offer, the changes and the
    // acknowledgement per draft.
    assert!(
        value(&figures, "messages") >= (3 + 3 * 4 * 3) as f64,
        "{figures:?}"
    );
    assert!(value(&figures, "time to converge") > 0.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_laptop_fetches_every_entry() {
    let (target, _stop, _dir) = in_process().await;
    let figures = scenarios::new_laptop(&target, 12).await.unwrap();
    assert!(value(&figures, "bytes received") > 0.0, "{figures:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn steady_typing_measures_every_edit() {
    let (target, _stop, _dir) = in_process().await;
    let figures = scenarios::steady_typing(&target, 4, 10.0, 1.0)
        .await
        .unwrap();
    let p50 = value(&figures, "edit latency p50");
    let max = value(&figures, "edit latency max");
    assert!(p50 > 0.0 && p50 <= max, "{figures:?}");
    assert_eq!(
        value(&figures, "edits not arrived after 2 s"),
        0.0,
        "{figures:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_fleet_connects_everyone() {
    let (target, _stop, _dir) = in_process().await;
    // In process there is no separate memory to read; this checks set-up.
    let figures = scenarios::idle_fleet(&target, 20).await.unwrap();
    assert_eq!(figures.len(), 1);
}
