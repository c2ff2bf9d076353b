//! A samod sync server, built as samod's documentation builds one: a Repo
//! on tokio with filesystem storage, and an axum route that hands every
//! WebSocket to the Repo's acceptor. Like the Node reference server
//! (`bench/reference/`), it accepts and stores every document any peer
//! sends, announces none, and has no authentication.
//!   samod-sync-server --port 0 --data-dir DIR
//! prints "listening on http://127.0.0.1:PORT" once ready.

use axum::extract::ws::WebSocketUpgrade;
use axum::extract::State;
use axum::routing::get;
use axum::serve::ListenerExt;
use samod::storage::TokioFilesystemStorage;
use samod::{AcceptorHandle, Repo, ShareConfig, Url};

#[tokio::main]
async fn main() {
    let (port, data_dir) = arguments();
    let repo = Repo::build_tokio()
        .with_storage(TokioFilesystemStorage::new(data_dir))
        // Every peer may read and write every document; nothing is announced
        // (automerge-repo's `sharePolicy: false`, as the Node reference).
        .with_share_policy(ShareConfig::read_write().with_announce(false))
        .load()
        .await;
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .expect("binding the port");
    let addr = listener.local_addr().expect("local address");
    // Nagle off, as Node's HTTP server has it by default: otherwise each
    // small sync message can wait for the peer's delayed ACK.
    let listener = listener.tap_io(|stream| {
        let _ = stream.set_nodelay(true);
    });
    let acceptor = repo
        .make_acceptor(Url::parse(&format!("ws://{addr}/sync")).expect("url"))
        .expect("making the acceptor");
    let app = axum::Router::new()
        .route("/sync", get(websocket))
        .with_state(acceptor);
    println!("listening on http://{addr}");
    let shutdown = async {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("SIGTERM handler");
        term.recv().await;
    };
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
        .expect("serving");
    repo.stop().await;
}

async fn websocket(
    ws: WebSocketUpgrade,
    State(acceptor): State<AcceptorHandle>,
) -> axum::response::Response {
    ws.on_upgrade(|socket| async move {
        if let Err(error) = acceptor.accept_axum(socket, None) {
            eprintln!("accepting a connection: {error:?}");
        }
    })
}

/// `--port N` (0 for any free port) and `--data-dir DIR`.
fn arguments() -> (u16, std::path::PathBuf) {
    let mut port = 0;
    let mut data_dir = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match (arg.as_str(), args.next()) {
            ("--port", Some(value)) => port = value.parse().expect("--port takes a number"),
            ("--data-dir", Some(value)) => data_dir = Some(value.into()),
            _ => panic!("usage: samod-sync-server --port N --data-dir DIR"),
        }
    }
    (port, data_dir.expect("--data-dir is required"))
}
