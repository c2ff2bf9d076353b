//! What an Automerge document costs in the server's memory (BENCHMARKS.md,
//! "Memory: where it went and what changed"): resident memory per empty
//! document, per small draft saved and loaded, and per sync state after a
//! full sync, each over 20,000 of them, with the server's allocator.
//!
//!     cargo run --release -p fieldbook-server --example document_memory

use automerge::sync::{self, SyncDoc};
use automerge::transaction::Transactable;
use automerge::{Automerge, ObjType, ROOT};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const COUNT: usize = 20_000;

/// Anonymous resident memory of this process, in bytes.
fn resident() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("Linux /proc");
    let kib: f64 = status
        .lines()
        .find_map(|line| line.strip_prefix("RssAnon:"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|kib| kib.parse().ok())
        .expect("RssAnon in /proc/self/status");
    kib * 1024.0
}

/// A draft like the benchmark's: a title and two notes of a sentence each.
fn draft(n: usize) -> Automerge {
    let mut doc = Automerge::new();
    let mut tx = doc.transaction();
    tx.put(ROOT, "title", format!("Draft {n}")).unwrap();
    let notes = tx.put_object(ROOT, "notes", ObjType::List).unwrap();
    for i in 0..2 {
        let note = tx.insert_object(&notes, i, ObjType::Map).unwrap();
        let text = tx.put_object(&note, "text", ObjType::Text).unwrap();
        let words = "A thought after the visit about how the family took the plan.";
        tx.splice_text(&text, 0, 0, words).unwrap();
    }
    tx.commit();
    doc
}

/// The server's sync state for a peer that has just received all of `doc`.
fn synced_state(doc: &Automerge) -> sync::State {
    let (mut server, mut peer) = (sync::State::new(), sync::State::new());
    let (mut server_doc, mut peer_doc) = (doc.clone(), Automerge::new());
    loop {
        let offer = server_doc.generate_sync_message(&mut server);
        if let Some(message) = offer.clone() {
            peer_doc.receive_sync_message(&mut peer, message).unwrap();
        }
        let answer = peer_doc.generate_sync_message(&mut peer);
        if let Some(message) = answer.clone() {
            server_doc
                .receive_sync_message(&mut server, message)
                .unwrap();
        }
        if offer.is_none() && answer.is_none() {
            return server;
        }
    }
}

fn main() {
    let each = |before: f64| format!("{:.0} bytes", (resident() - before) / COUNT as f64);
    let start = resident();
    let empty: Vec<Automerge> = (0..COUNT).map(|_| Automerge::new()).collect();
    println!("empty document: {}", each(start));
    let start = resident();
    let saved: Vec<Vec<u8>> = (0..COUNT).map(|n| draft(n).save()).collect();
    println!(
        "small draft saved: {} bytes on disk, {} in memory",
        saved[0].len(),
        each(start)
    );
    let start = resident();
    let loaded: Vec<Automerge> = saved
        .iter()
        .map(|bytes| Automerge::load(bytes).unwrap())
        .collect();
    println!("small draft loaded: {}", each(start));
    let start = resident();
    let states: Vec<sync::State> = loaded.iter().map(synced_state).collect();
    println!("sync state after a full sync: {}", each(start));
    std::hint::black_box((empty, saved, loaded, states));
}
