//! The benchmark scenarios. Each sets up what it needs untimed, then times
//! only the part a user waits for, and returns its figures.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::report::{quantile, Figure, PEAK_MEMORY};
use crate::target::{Login, MemoryPeak, Target};
use anyhow::Context;
use automerge::transaction::Transactable;
use automerge::{ReadDoc, ROOT};
use fieldbook_shared::entry::keys;
use fieldbook_shared::DocumentId;
use fieldbook_testkit::conn::open_socket_retrying;
use fieldbook_testkit::entry::{draft, listed_entries, new_doc_id, root_listing};
use fieldbook_testkit::{Conn, Replica, Replicas, Traffic};

const MIB: f64 = 1024.0 * 1024.0;

/// Connects and joins as `peer_id`, retrying as a real client's adapter
/// does, as a device with storage of its own.
async fn open(
    url: &str,
    token: Option<&str>,
    peer_id: String,
    traffic: Arc<Traffic>,
) -> anyhow::Result<Conn> {
    let socket = open_socket_retrying(url, token)
        .await
        .with_context(|| format!("connecting {peer_id}"))?;
    let storage_id = Some(format!("storage-{peer_id}"));
    let (conn, _) = Conn::join(socket, &peer_id, storage_id, traffic).await?;
    Ok(conn)
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e3
}

/// Morning sync: `devices` devices, each holding `drafts` drafts written
/// offline, connect at once; timed until the server has acknowledged every
/// draft of every device.
pub async fn morning_sync(
    target: &Target,
    devices: usize,
    drafts: usize,
) -> anyhow::Result<Vec<Figure>> {
    let logins = target.logins(devices, 50).await?;
    let traffic = Arc::new(Traffic::default());
    let prepared: Vec<(Login, Replicas)> = logins
        .into_iter()
        .map(|login| {
            let replicas = (0..drafts)
                .map(|n| Replica::new(new_doc_id(), draft(n)))
                .map(|replica| (replica.id, replica))
                .collect();
            (login, Replicas(replicas))
        })
        .collect();
    let cpu_before = target.cpu();
    let peak = MemoryPeak::start(target);
    let started = Instant::now();
    let url = target.ws_url();
    let tasks: Vec<_> = prepared
        .into_iter()
        .enumerate()
        .map(|(n, (login, mut replicas))| {
            let (url, traffic) = (url.clone(), traffic.clone());
            tokio::spawn(async move {
                let mut conn = open(
                    &url,
                    login.token.as_deref(),
                    format!("morning-{n}"),
                    traffic,
                )
                .await?;
                conn.open_all(&mut replicas).await?;
                conn.converge(&mut replicas, Replica::pushed).await?;
                anyhow::Ok(conn.leave().await?)
            })
        })
        .collect();
    for task in tasks {
        task.await??;
    }
    let elapsed = started.elapsed();
    let peak = peak.finish().await;
    Ok(vec![
        Figure::new("time to converge", ms(elapsed), "ms"),
        Figure::new("server CPU time", ms(target.cpu() - cpu_before), "ms"),
        Figure::new(PEAK_MEMORY, peak as f64 / MIB, "MiB"),
        Figure::new("messages", traffic.messages() as f64, ""),
        Figure::new("bytes moved", traffic.bytes() as f64 / MIB, "MiB"),
    ])
}

/// New laptop: an account holds `entries` entries listed in its root
/// document; a device with empty storage signs in and fetches the root,
/// then every entry; timed until all are local.
pub async fn new_laptop(target: &Target, entries: usize) -> anyhow::Result<Vec<Figure>> {
    let login = target.logins(1, 1).await?.remove(0);
    let url = target.ws_url();
    let ids: Vec<DocumentId> = (0..entries).map(|_| new_doc_id()).collect();
    let mut phone = Replicas(
        ids.iter()
            .enumerate()
            .map(|(n, id)| (*id, Replica::new(*id, draft(n))))
            .collect(),
    );
    // The root: Fieldbook's is made by the server at registration; for the
    // reference server a device makes one.
    let root_id = login.root.unwrap_or_else(new_doc_id);
    let setup_traffic = Arc::new(Traffic::default());
    let mut conn = open(&url, login.token.as_deref(), "phone".into(), setup_traffic).await?;
    conn.open_all(&mut phone).await?;
    conn.converge(&mut phone, Replica::pushed).await?;
    let mut root = Replicas::default();
    if login.root.is_some() {
        root.insert(Replica::empty(root_id));
        conn.open_all(&mut root).await?;
        conn.converge(&mut root, Replica::fetched).await?;
        let replica = root.0.get_mut(&root_id).context("root")?;
        let mut tx = replica.doc.transaction();
        let (_, map) = tx.get(ROOT, keys::ENTRIES)?.context("root lists entries")?;
        for id in &ids {
            let item = tx.put_object(&map, id.to_string(), automerge::ObjType::Map)?;
            tx.put(&item, keys::ADDED_AT, 1_i64)?;
        }
        tx.commit();
        conn.send_changes(&mut root, root_id).await?;
    } else {
        root.insert(Replica::new(root_id, root_listing(&ids)));
        conn.open_all(&mut root).await?;
    }
    conn.converge(&mut root, Replica::pushed).await?;
    conn.leave().await?;

    let traffic = Arc::new(Traffic::default());
    let started = Instant::now();
    let mut laptop = open(
        &url,
        login.token.as_deref(),
        "new-laptop".into(),
        traffic.clone(),
    )
    .await?;
    let mut fetched = Replicas::default();
    fetched.insert(Replica::empty(root_id));
    laptop.open_all(&mut fetched).await?;
    laptop.converge(&mut fetched, Replica::fetched).await?;
    let listed = listed_entries(&fetched.0[&root_id].doc);
    anyhow::ensure!(
        listed.len() == entries,
        "root lists {} of {entries} entries",
        listed.len()
    );
    let mut entries_here = Replicas(
        listed
            .into_iter()
            .map(|id| (id, Replica::empty(id)))
            .collect(),
    );
    laptop.open_all(&mut entries_here).await?;
    laptop.converge(&mut entries_here, Replica::fetched).await?;
    let elapsed = started.elapsed();
    laptop.leave().await?;
    Ok(vec![
        Figure::new("time until all local", ms(elapsed), "ms"),
        Figure::new(
            "bytes received",
            traffic.bytes_in.load(std::sync::atomic::Ordering::Relaxed) as f64 / MIB,
            "MiB",
        ),
    ])
}

/// Idle fleet: `connections` devices connect and stay idle; the server's
/// memory per connection is the growth over its memory before they came.
pub async fn idle_fleet(target: &Target, connections: usize) -> anyhow::Result<Vec<Figure>> {
    let logins = target.logins(connections, 500).await?;
    let traffic = Arc::new(Traffic::default());
    let before = target.rss();
    let url = target.ws_url();
    let (leave, _) = tokio::sync::broadcast::channel::<()>(1);
    let mut held = Vec::with_capacity(connections);
    for (n, login) in logins.into_iter().enumerate() {
        let conn = open(
            &url,
            login.token.as_deref(),
            format!("idle-{n}"),
            traffic.clone(),
        )
        .await?;
        held.push(tokio::spawn(stay_idle(conn, leave.subscribe())));
    }
    let after = target.rss();
    let _ = leave.send(());
    for task in held {
        task.await??;
    }
    let per_connection = after.saturating_sub(before) as f64 / connections as f64;
    Ok(vec![Figure::new(
        "server memory per connection",
        per_connection / 1024.0,
        "KiB",
    )])
}

/// Keeps a connection open and read (so keep-alive pings are answered, as
/// a browser does) until told to leave.
async fn stay_idle(
    mut conn: Conn,
    mut leave: tokio::sync::broadcast::Receiver<()>,
) -> anyhow::Result<()> {
    loop {
        tokio::select! {
            _ = leave.recv() => return Ok(conn.leave().await?),
            message = conn.recv() => { message?; }
        }
    }
}

/// Steady typing: `editors` devices in pairs, each pair on one shared
/// entry, each device typing `rate` edits a second for `seconds`; measured:
/// the time from an edit on one device to its arrival on the other.
pub async fn steady_typing(
    target: &Target,
    editors: usize,
    rate: f64,
    seconds: f64,
) -> anyhow::Result<Vec<Figure>> {
    let pairs = editors.div_ceil(2);
    let logins = target.logins(pairs * 2, 2).await?;
    let url = target.ws_url();
    let traffic = Arc::new(Traffic::default());
    // When each edit was made, by (device, sequence number).
    let sent: Arc<Mutex<HashMap<(usize, i64), Instant>>> = Arc::default();
    let latencies: Arc<Mutex<Vec<f64>>> = Arc::default();
    let mut tasks = Vec::new();
    // Devices set up earlier keep reading while the rest are set up, and
    // all start typing together when the start time is sent.
    let (start, started) = tokio::sync::watch::channel(None::<Instant>);
    for pair in 0..pairs {
        let entry = new_doc_id();
        // The first device of the pair uploads the entry before typing starts.
        let mut first = open(
            &url,
            logins[2 * pair].token.as_deref(),
            format!("typist-{}", 2 * pair),
            traffic.clone(),
        )
        .await?;
        let mut first_docs = Replicas(
            [(entry, Replica::new(entry, draft(pair)))]
                .into_iter()
                .collect(),
        );
        first.open_all(&mut first_docs).await?;
        first
            .converge(&mut first_docs, Replica::pushed)
            .await
            .context("first device uploading")?;
        let mut second = open(
            &url,
            logins[2 * pair + 1].token.as_deref(),
            format!("typist-{}", 2 * pair + 1),
            traffic.clone(),
        )
        .await?;
        let mut second_docs = Replicas([(entry, Replica::empty(entry))].into_iter().collect());
        second.open_all(&mut second_docs).await?;
        second
            .converge(&mut second_docs, Replica::fetched)
            .await
            .context("second device fetching")?;
        for (me, partner, conn, docs) in [
            (2 * pair, 2 * pair + 1, first, first_docs),
            (2 * pair + 1, 2 * pair, second, second_docs),
        ] {
            let (sent, latencies) = (sent.clone(), latencies.clone());
            let typing = Typing {
                me,
                partner,
                entry,
                rate,
                seconds,
                start: started.clone(),
            };
            tasks.push(tokio::spawn(type_and_listen(
                typing, conn, docs, sent, latencies,
            )));
        }
    }
    // CPU used while typing, by the server and by the simulated devices
    // (this process): on a small machine both share the same cores, so the
    // latency figures are only as good as the CPU left to the server.
    let (server_cpu, devices_cpu) = (target.cpu(), Target::load_generator_cpu());
    let typing_started = Instant::now();
    start.send_replace(Some(Instant::now()));
    for (n, task) in tasks.into_iter().enumerate() {
        task.await?.with_context(|| format!("typing device {n}"))?;
    }
    let wall = ms(typing_started.elapsed());
    let server_cpu = ms(target.cpu() - server_cpu);
    let devices_cpu = ms(Target::load_generator_cpu() - devices_cpu);
    let mut values = latencies.lock().expect("latencies").clone();
    let made = sent.lock().expect("sent").len();
    anyhow::ensure!(!values.is_empty(), "no edit arrived");
    values.sort_by(f64::total_cmp);
    Ok(vec![
        Figure::new("edit latency p50", quantile(&values, 0.5), "ms"),
        Figure::new("edit latency p99", quantile(&values, 0.99), "ms"),
        Figure::new("edit latency max", quantile(&values, 1.0), "ms"),
        // Edits still missing on the other device 2 s after typing stopped;
        // their latency is not in the figures above.
        Figure::new(
            "edits not arrived after 2 s",
            made.saturating_sub(values.len()) as f64,
            "",
        ),
        // As a share of one core over the typing period (200% is both of
        // two cores busy).
        Figure::new("server CPU while typing", 100.0 * server_cpu / wall, "%"),
        Figure::new(
            "load generator CPU while typing",
            100.0 * devices_cpu / wall,
            "%",
        ),
    ])
}

/// One device's part in the steady-typing scenario.
struct Typing {
    me: usize,
    partner: usize,
    entry: DocumentId,
    rate: f64,
    seconds: f64,
    start: tokio::sync::watch::Receiver<Option<Instant>>,
}

type SentAt = Arc<Mutex<HashMap<(usize, i64), Instant>>>;

async fn type_and_listen(
    mut typing: Typing,
    mut conn: Conn,
    mut docs: Replicas,
    sent: SentAt,
    latencies: Arc<Mutex<Vec<f64>>>,
) -> anyhow::Result<()> {
    let (me, partner, entry) = (typing.me, typing.partner, typing.entry);
    let my_key = format!("seq-{me}");
    let partner_key = format!("seq-{partner}");
    let mut seq = 0_i64;
    let mut seen = 0_i64;
    // Read (and answer keep-alive pings) until everyone is set up.
    let begin = loop {
        if let Some(begin) = *typing.start.borrow_and_update() {
            break begin;
        }
        tokio::select! {
            changed = typing.start.changed() => changed?,
            message = conn.recv() => { conn.handle(&mut docs, &message.context("waiting to start")?).await?; }
        }
    };
    let stop_typing = begin + Duration::from_secs_f64(typing.seconds);
    let deadline = stop_typing + Duration::from_secs(2);
    // Stagger the devices so edits spread over each interval.
    let period = Duration::from_secs_f64(1.0 / typing.rate);
    let offset = period.mul_f64((me % 97) as f64 / 97.0);
    let mut ticker =
        tokio::time::interval_at(tokio::time::Instant::from_std(begin) + offset, period);
    loop {
        tokio::select! {
            _ = ticker.tick(), if Instant::now() < stop_typing => {
                seq += 1;
                let replica = docs.0.get_mut(&entry).context("entry")?;
                let mut tx = replica.doc.transaction();
                let (_, title) = tx.get(ROOT, keys::TITLE)?.context("title")?;
                tx.splice_text(&title, 0, 0, "a")?;
                tx.put(ROOT, my_key.as_str(), seq)?;
                tx.commit();
                sent.lock().expect("sent").insert((me, seq), Instant::now());
                conn.send_changes(&mut docs, entry).await?;
            }
            message = conn.recv() => {
                conn.handle(&mut docs, &message.context("while typing")?).await?;
                let doc = &docs.0[&entry].doc;
                let latest = match doc.get(ROOT, partner_key.as_str())? {
                    Some((automerge::Value::Scalar(value), _)) => value.as_i64().unwrap_or(0),
                    _ => 0,
                };
                if latest > seen {
                    let now = Instant::now();
                    let sent = sent.lock().expect("sent");
                    let mut latencies = latencies.lock().expect("latencies");
                    for n in seen + 1..=latest {
                        if let Some(at) = sent.get(&(partner, n)) {
                            latencies.push(ms(now - *at));
                        }
                    }
                    seen = latest;
                }
            }
            _ = tokio::time::sleep_until(deadline.into()) => break,
        }
    }
    Ok(conn.leave().await?)
}
