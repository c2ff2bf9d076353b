//! Backups: one file holding the whole database as it stood at one moment,
//! taken while the server runs and serves (see `crate::store::Gated` for how
//! the moment is made consistent), and restored into an empty directory.
//!
//! The file, all integers big-endian:
//!
//! ```text
//! magic    "FIELDBOOK-BACKUP\n"
//! version  u32: this file layout, 1
//! header   u32 length, then JSON {"dataFormat", "createdAt", "fieldbook"}
//! records  'P' u32 key length, key, u32 value length, value   (a key and its value)
//!          'D' u32 key length, key                             (a key gone by the end)
//! end      'E' u64 number of records, then the SHA-256 of every byte before it
//! ```
//!
//! Records apply in order, a later one for a key replacing an earlier one:
//! first the walk of every key, then what was written during the walk.
//!
//! Left out: the sync state kept per device and document, and the server's
//! storageId. A restored server is a new storage peer with a new storageId,
//! so every device syncs each document in full once; that also brings back
//! whatever changes the devices made after the backup was taken.

use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::Path;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::format;
use crate::store::keys;
use crate::store::{Batch, Gated, SledStore, Store, StoreError};

const MAGIC: &[u8] = b"FIELDBOOK-BACKUP\n";
const FILE_VERSION: u32 = 1;
const PAGE: usize = 1000;
/// Bounds that no real record comes near, so a damaged length cannot make
/// the reader allocate gigabytes before the checksum has a chance to fail.
const MAX_KEY_BYTES: u32 = 64 * 1024;
const MAX_VALUE_BYTES: u32 = 1 << 30;
const MAX_HEADER_BYTES: u32 = 64 * 1024;
/// Records restored per write batch.
const RESTORE_BATCH: usize = 500;

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("{0}")]
    Io(#[from] io::Error),
    #[error("not a Fieldbook backup file")]
    NotABackup,
    #[error("backup file layout version {0} is newer than this Fieldbook reads (1)")]
    UnsupportedFile(u32),
    #[error("the backup file is incomplete (cut short)")]
    Truncated,
    #[error("the backup file is damaged: its checksum does not match")]
    Checksum,
    #[error("the backup file is damaged: {0}")]
    Corrupt(String),
    #[error("the backup holds data format version {found}; this Fieldbook reads up to version {supported}")]
    NewerData { found: u32, supported: u32 },
    #[error("a backup is already being taken; try again when it has finished")]
    Busy,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Format(#[from] format::FormatError),
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Header {
    pub data_format: u32,
    pub created_at: String,
    pub fieldbook: String,
}

/// What a backup holds, or what was restored.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    pub header: Header,
    pub records: u64,
    pub users: u64,
    pub documents: u64,
}

#[derive(Debug, PartialEq, Eq)]
pub enum Record {
    Put(Vec<u8>, Vec<u8>),
    Delete(Vec<u8>),
}

fn included(key: &[u8]) -> bool {
    !(key.starts_with(b"doc-sync/") || key == keys::SERVER_STORAGE_ID.as_bytes())
}

/// Writes a backup of `store` to `out`.
pub fn write(store: &Gated, out: impl Write) -> Result<Summary, BackupError> {
    write_paged(store, out, PAGE, &mut || {})
}

/// [`write`], walking `page` keys at a time and calling `between_pages`
/// after each page (tests write there, as a busy server would).
pub(crate) fn write_paged(
    store: &Gated,
    out: impl Write,
    page: usize,
    between_pages: &mut dyn FnMut(),
) -> Result<Summary, BackupError> {
    let tracking = store.track_writes().ok_or(BackupError::Busy)?;
    let header = Header {
        data_format: format::read(store)?.unwrap_or(format::CURRENT),
        created_at: crate::clock::now_rfc3339(),
        fieldbook: env!("CARGO_PKG_VERSION").to_owned(),
    };
    let mut out = Hashing::new(BufWriter::new(out));
    out.write_all(MAGIC)?;
    out.write_all(&FILE_VERSION.to_be_bytes())?;
    let header_json = serde_json::to_vec(&header).expect("header serialises");
    out.write_all(&(header_json.len() as u32).to_be_bytes())?;
    out.write_all(&header_json)?;

    let mut counts = Counts::default();
    let mut start = Vec::new();
    loop {
        let entries = store.scan_from(&start, page)?;
        let Some((last, _)) = entries.last() else {
            break;
        };
        // The smallest key after the last one read.
        start = [last.as_slice(), &[0]].concat();
        for (key, value) in &entries {
            if included(key) {
                put_record(&mut out, key, value)?;
                counts.see(key, true);
            }
        }
        between_pages();
    }
    // Everything written during the walk, as it stands now.
    let rewritten = tracking.finish(|inner, keys| {
        keys.into_iter()
            .filter(|key| included(key))
            .map(|key| inner.get(&key).map(|value| (key, value)))
            .collect::<Result<Vec<_>, _>>()
    })?;
    for (key, value) in &rewritten {
        match value {
            Some(value) => put_record(&mut out, key, value)?,
            None => delete_record(&mut out, key)?,
        }
        counts.see(key, value.is_some());
    }
    out.write_all(b"E")?;
    out.write_all(&counts.records.to_be_bytes())?;
    let digest = out.hasher.clone().finalize();
    let mut inner = out.inner;
    inner.write_all(&digest)?;
    inner.flush()?;
    Ok(Summary {
        header,
        records: counts.records,
        users: counts.users(),
        documents: counts.documents(),
    })
}

fn put_record(out: &mut impl Write, key: &[u8], value: &[u8]) -> io::Result<()> {
    out.write_all(b"P")?;
    out.write_all(&(key.len() as u32).to_be_bytes())?;
    out.write_all(key)?;
    out.write_all(&(value.len() as u32).to_be_bytes())?;
    out.write_all(value)
}

fn delete_record(out: &mut impl Write, key: &[u8]) -> io::Result<()> {
    out.write_all(b"D")?;
    out.write_all(&(key.len() as u32).to_be_bytes())?;
    out.write_all(key)
}

/// Counts records, and the accounts and documents they hold (for the
/// summary): a key seen again, or deleted at the end, is counted right.
#[derive(Default)]
struct Counts {
    records: u64,
    users: std::collections::BTreeSet<Vec<u8>>,
    documents: std::collections::BTreeSet<Vec<u8>>,
}

impl Counts {
    fn see(&mut self, key: &[u8], present: bool) {
        self.records += 1;
        // Whole keys, so an account moving between `user/` and
        // `disabled-user/` is counted once, under its final key.
        let set = if key.starts_with(b"user/") || key.starts_with(b"disabled-user/") {
            &mut self.users
        } else if key.starts_with(b"doc-owner/") {
            &mut self.documents
        } else {
            return;
        };
        if present {
            set.insert(key.to_vec());
        } else {
            set.remove(key);
        }
    }

    fn users(&self) -> u64 {
        self.users.len() as u64
    }

    fn documents(&self) -> u64 {
        self.documents.len() as u64
    }
}

/// Reads a backup from `input`, handing each record to `each` in order,
/// and checks its end and checksum. Records handed over before a damaged
/// end was found must be thrown away: verify first (see [`verify`]).
pub fn read(
    input: impl Read,
    mut each: impl FnMut(Record) -> Result<(), BackupError>,
) -> Result<Summary, BackupError> {
    let mut input = Hashing::new(BufReader::new(input));
    let mut magic = vec![0; MAGIC.len()];
    read_exact(&mut input, &mut magic).map_err(|err| match err {
        BackupError::Truncated => BackupError::NotABackup,
        other => other,
    })?;
    if magic != MAGIC {
        return Err(BackupError::NotABackup);
    }
    let version = read_u32(&mut input)?;
    if version != FILE_VERSION {
        return Err(BackupError::UnsupportedFile(version));
    }
    let header_len = read_u32(&mut input)?;
    if header_len > MAX_HEADER_BYTES {
        return Err(BackupError::Corrupt("header too long".into()));
    }
    let mut header = vec![0; header_len as usize];
    read_exact(&mut input, &mut header)?;
    let header: Header = serde_json::from_slice(&header)
        .map_err(|err| BackupError::Corrupt(format!("header: {err}")))?;
    let mut counts = Counts::default();
    loop {
        let mut tag = [0u8];
        read_exact(&mut input, &mut tag)?;
        match tag[0] {
            b'P' => {
                let key = read_bytes(&mut input, MAX_KEY_BYTES)?;
                let value = read_bytes(&mut input, MAX_VALUE_BYTES)?;
                counts.see(&key, true);
                each(Record::Put(key, value))?;
            }
            b'D' => {
                let key = read_bytes(&mut input, MAX_KEY_BYTES)?;
                counts.see(&key, false);
                each(Record::Delete(key))?;
            }
            b'E' => break,
            other => return Err(BackupError::Corrupt(format!("unknown record tag {other}"))),
        }
    }
    let mut count = [0u8; 8];
    read_exact(&mut input, &mut count)?;
    let expected = input.hasher.clone().finalize();
    let mut digest = [0u8; 32];
    let mut raw = input.inner;
    raw.read_exact(&mut digest)
        .map_err(|_| BackupError::Truncated)?;
    if digest[..] != expected[..] {
        return Err(BackupError::Checksum);
    }
    if u64::from_be_bytes(count) != counts.records {
        return Err(BackupError::Corrupt("record count does not match".into()));
    }
    if raw.read(&mut [0u8])? != 0 {
        return Err(BackupError::Corrupt("bytes after the end".into()));
    }
    Ok(Summary {
        header,
        records: counts.records,
        users: counts.users(),
        documents: counts.documents(),
    })
}

/// Reads the whole file and checks it, storing nothing.
pub fn verify(path: &Path) -> Result<Summary, BackupError> {
    read(File::open(path)?, |_| Ok(()))
}

/// Loads the backup at `from` into `data_dir`, which must be empty or
/// absent. The file is checked whole before anything is written; if loading
/// fails part-way, what was written is removed again.
pub async fn restore(from: &Path, data_dir: &Path) -> Result<Summary, super::AdminError> {
    if super::has_entries(data_dir)? {
        return Err(super::AdminError::NotEmpty(data_dir.to_owned()));
    }
    let summary = verify(from)?;
    if summary.header.data_format > format::CURRENT {
        return Err(BackupError::NewerData {
            found: summary.header.data_format,
            supported: format::CURRENT,
        }
        .into());
    }
    super::create_private_dir(data_dir)?;
    let loaded = load(from, data_dir).await;
    if loaded.is_err() {
        // We made everything in it: leave it empty, as it was.
        for entry in std::fs::read_dir(data_dir)?.flatten() {
            let path = entry.path();
            let _ = if path.is_dir() {
                std::fs::remove_dir_all(&path)
            } else {
                std::fs::remove_file(&path)
            };
        }
    }
    loaded?;
    Ok(summary)
}

async fn load(from: &Path, data_dir: &Path) -> Result<(), BackupError> {
    let store = SledStore::open(data_dir)?;
    let mut batch = Batch::default();
    let mut in_batch = 0;
    read(File::open(from)?, |record| {
        match record {
            Record::Put(key, value) => batch.put(key, value),
            Record::Delete(key) => batch.delete(key),
        };
        in_batch += 1;
        if in_batch == RESTORE_BATCH {
            store.apply(std::mem::take(&mut batch))?;
            in_batch = 0;
        }
        Ok(())
    })?;
    store.apply(batch)?;
    store.flush().await?;
    Ok(())
}

fn read_exact(input: &mut impl Read, buf: &mut [u8]) -> Result<(), BackupError> {
    input.read_exact(buf).map_err(|err| match err.kind() {
        io::ErrorKind::UnexpectedEof => BackupError::Truncated,
        _ => BackupError::Io(err),
    })
}

fn read_u32(input: &mut impl Read) -> Result<u32, BackupError> {
    let mut bytes = [0u8; 4];
    read_exact(input, &mut bytes)?;
    Ok(u32::from_be_bytes(bytes))
}

fn read_bytes(input: &mut impl Read, max: u32) -> Result<Vec<u8>, BackupError> {
    let len = read_u32(input)?;
    if len > max {
        return Err(BackupError::Corrupt(format!("a record of {len} bytes")));
    }
    let mut bytes = vec![0; len as usize];
    read_exact(input, &mut bytes)?;
    Ok(bytes)
}

/// A `Write` that checks a backup as it is written: the bytes go to
/// `inner` and, through a channel, to [`read`] on another thread, so a
/// backup streamed to standard output is verified as surely as a file.
pub struct Verifying<W> {
    inner: W,
    tx: Option<std::sync::mpsc::SyncSender<Vec<u8>>>,
    checker: Option<std::thread::JoinHandle<Result<Summary, BackupError>>>,
}

impl<W: Write> Verifying<W> {
    pub fn new(inner: W) -> Self {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<u8>>(16);
        let checker = std::thread::spawn(move || {
            let reader = ChannelReader {
                rx,
                chunk: Vec::new(),
                at: 0,
            };
            read(reader, |_| Ok(()))
        });
        Self {
            inner,
            tx: Some(tx),
            checker: Some(checker),
        }
    }

    /// Flushes and returns what the backup holds, or why it is not whole.
    pub fn finish(mut self) -> Result<(W, Summary), BackupError> {
        self.inner.flush()?;
        drop(self.tx.take());
        let summary = self
            .checker
            .take()
            .expect("finished once")
            .join()
            .map_err(|_| BackupError::Corrupt("the checker failed".into()))??;
        Ok((self.inner, summary))
    }
}

impl<W: Write> Write for Verifying<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        if let Some(tx) = &self.tx {
            // A checker that stopped has found the backup broken; it
            // reports that at `finish`.
            let _ = tx.send(buf[..n].to_vec());
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

struct ChannelReader {
    rx: std::sync::mpsc::Receiver<Vec<u8>>,
    chunk: Vec<u8>,
    at: usize,
}

impl Read for ChannelReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.at == self.chunk.len() {
            match self.rx.recv() {
                Ok(chunk) => {
                    self.chunk = chunk;
                    self.at = 0;
                }
                // The writer finished: end of file.
                Err(_) => return Ok(0),
            }
        }
        let n = buf.len().min(self.chunk.len() - self.at);
        buf[..n].copy_from_slice(&self.chunk[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

/// Hashes every byte that passes through, either way.
struct Hashing<T> {
    inner: T,
    hasher: Sha256,
}

impl<T> Hashing<T> {
    fn new(inner: T) -> Self {
        Self {
            inner,
            hasher: Sha256::new(),
        }
    }
}

impl<T: Write> Write for Hashing<T> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

impl<T: Read> Read for Hashing<T> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::sync::Arc;

    use super::*;
    use crate::store::MemoryStore;

    fn gated_with(entries: &[(&str, &str)]) -> Gated {
        let store = Gated::new(Arc::new(MemoryStore::new()));
        for (key, value) in entries {
            store.put(key.as_bytes(), value.as_bytes()).unwrap();
        }
        store
    }

    /// Applies a backup's records to a map, as a restore does.
    fn replay(bytes: &[u8]) -> (Summary, BTreeMap<Vec<u8>, Vec<u8>>) {
        let mut map = BTreeMap::new();
        let summary = read(bytes, |record| {
            match record {
                Record::Put(key, value) => map.insert(key, value),
                Record::Delete(key) => map.remove(&key),
            };
            Ok(())
        })
        .unwrap();
        (summary, map)
    }

    fn contents(store: &dyn Store) -> BTreeMap<Vec<u8>, Vec<u8>> {
        store
            .scan_prefix(b"")
            .unwrap()
            .into_iter()
            .filter(|(key, _)| included(key))
            .collect()
    }

    #[test]
    fn a_quiet_store_round_trips_without_sync_states_or_storage_id() {
        let store = gated_with(&[
            ("server/storage-id", "fieldbook-1"),
            ("server/format-version", "1"),
            ("user/u1", "{}"),
            ("doc-owner/d1", "u1"),
            ("doc-chunk/d1/s/aa", "bytes"),
            ("doc-sync/d1/phone", "state"),
        ]);
        let mut file = Vec::new();
        let summary = write(&store, &mut file).unwrap();
        assert_eq!((summary.users, summary.documents), (1, 1));
        let (read_back, map) = replay(&file);
        assert_eq!(read_back.records, 4);
        assert_eq!(read_back.header.data_format, 1);
        assert_eq!(map, contents(&store));
        assert!(!map.contains_key(&b"doc-sync/d1/phone"[..]));
        assert!(!map.contains_key(&b"server/storage-id"[..]));
    }

    /// The case a plain walk gets wrong: compaction replaces chunks with a
    /// snapshot whose key sorts before the walk's position, and deletes
    /// chunks the walk has not reached yet. The backup must hold the
    /// database as it stood at the end, not a mix.
    #[test]
    fn writes_during_the_walk_give_the_state_at_the_end() {
        let store = gated_with(&[
            ("doc-chunk/d1/i/11", "change 1"),
            ("doc-chunk/d1/i/22", "change 2"),
            ("doc-chunk/d1/s/99", "old snapshot"),
            ("doc-owner/d1", "u1"),
            ("user/u1", "{}"),
        ]);
        let mut pages = 0;
        let mut file = Vec::new();
        write_paged(&store, &mut file, 2, &mut || {
            pages += 1;
            if pages == 1 {
                // Compaction, after the walk has read the two "i" chunks.
                let mut batch = Batch::default();
                batch.delete(b"doc-chunk/d1/i/11".to_vec());
                batch.delete(b"doc-chunk/d1/i/22".to_vec());
                batch.delete(b"doc-chunk/d1/s/99".to_vec());
                batch.put(b"doc-chunk/d1/s/00".to_vec(), b"new snapshot".to_vec());
                store.apply(batch).unwrap();
                // A new account, behind the walk's position, and an
                // account disabled (its record moves) after it.
                store.put(b"user/u2", b"{}").unwrap();
                let mut batch = Batch::default();
                batch.put(b"disabled-user/u1".to_vec(), b"{}".to_vec());
                batch.delete(b"user/u1".to_vec());
                store.apply(batch).unwrap();
            }
        })
        .unwrap();
        let (summary, map) = replay(&file);
        assert_eq!(map, contents(&store));
        assert_eq!(
            map.get(&b"doc-chunk/d1/s/00"[..]).map(Vec::as_slice),
            Some(&b"new snapshot"[..])
        );
        assert_eq!(summary.users, 2);
    }

    #[test]
    fn damage_anywhere_is_found() {
        let store = gated_with(&[("user/u1", "{\"email\":\"a@b.org\"}"), ("x", "y")]);
        let mut file = Vec::new();
        write(&store, &mut file).unwrap();
        for at in [
            MAGIC.len() + 10,
            file.len() / 2,
            file.len() - 40,
            file.len() - 1,
        ] {
            let mut damaged = file.clone();
            damaged[at] ^= 0x20;
            assert!(
                read(&damaged[..], |_| Ok(())).is_err(),
                "a flipped byte at {at} went unnoticed"
            );
        }
        assert!(matches!(
            read(&file[..file.len() - 5], |_| Ok(())),
            Err(BackupError::Truncated)
        ));
        assert!(matches!(
            read(&b"PK\x03\x04 a zip file"[..], |_| Ok(())),
            Err(BackupError::NotABackup)
        ));
        let mut longer = file.clone();
        longer.push(0);
        assert!(read(&longer[..], |_| Ok(())).is_err());
    }

    #[test]
    fn a_backup_is_checked_as_it_is_written() {
        let store = gated_with(&[("user/u1", "{}"), ("x", "y")]);
        let mut out = Verifying::new(Vec::new());
        write(&store, &mut out).unwrap();
        let (bytes, summary) = out.finish().unwrap();
        assert_eq!(summary.records, 2);
        assert_eq!(replay(&bytes).1, contents(&store));

        let mut cut = Verifying::new(Vec::new());
        cut.write_all(&bytes[..bytes.len() - 1]).unwrap();
        assert!(matches!(cut.finish(), Err(BackupError::Truncated)));
    }

    #[test]
    fn one_backup_at_a_time() {
        let store = gated_with(&[]);
        let _running = store.track_writes().unwrap();
        assert!(matches!(write(&store, Vec::new()), Err(BackupError::Busy)));
    }
}
