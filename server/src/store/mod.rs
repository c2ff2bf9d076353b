//! Key-value storage behind one trait, so the server runs on an embedded sled
//! database by default, on memory in tests of the layers above, and later on a
//! shared database, without the rest of the server knowing which.
//!
//! Keys are byte strings ordered lexicographically; the layers above build them
//! as `/`-separated paths (see `crate::store::keys`) so a prefix scan lists a group.

mod gated;
pub mod keys;
mod memory;
mod sled_store;

#[cfg(test)]
mod conformance;

use std::future::Future;
use std::pin::Pin;

pub use gated::{Gated, WriteTracking};
pub use memory::MemoryStore;
pub use sled_store::SledStore;

/// A failure of the storage engine itself (I/O, corruption). Callers cannot
/// repair it; they report it and refuse the operation so nothing is acknowledged.
#[derive(Debug, thiserror::Error)]
#[error("storage failure: {0}")]
pub struct StoreError(String);

impl StoreError {
    pub fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }
}

pub type StoreResult<T> = Result<T, StoreError>;
pub type KeyValue = (Vec<u8>, Vec<u8>);

/// One write in a [`Batch`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BatchOp {
    Put(Vec<u8>, Vec<u8>),
    Delete(Vec<u8>),
}

/// Writes applied all together or not at all.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Batch {
    ops: Vec<BatchOp>,
}

impl Batch {
    pub fn put(&mut self, key: impl Into<Vec<u8>>, value: impl Into<Vec<u8>>) -> &mut Self {
        self.ops.push(BatchOp::Put(key.into(), value.into()));
        self
    }

    pub fn delete(&mut self, key: impl Into<Vec<u8>>) -> &mut Self {
        self.ops.push(BatchOp::Delete(key.into()));
        self
    }

    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }

    /// The keys the batch writes or deletes, in order.
    pub fn keys(&self) -> impl Iterator<Item = &[u8]> {
        self.ops.iter().map(|op| match op {
            BatchOp::Put(key, _) | BatchOp::Delete(key) => key.as_slice(),
        })
    }

    pub fn into_ops(self) -> Vec<BatchOp> {
        self.ops
    }
}

/// The storage contract every implementation passes (see `conformance`).
///
/// Reads and writes are synchronous because the embedded engines serve them
/// from memory; only `flush`, which waits for the disk, is asynchronous.
/// A write is durable only once a later `flush` has completed.
pub trait Store: Send + Sync + 'static {
    fn get(&self, key: &[u8]) -> StoreResult<Option<Vec<u8>>>;
    fn put(&self, key: &[u8], value: &[u8]) -> StoreResult<()>;
    /// Writes `value` only if `key` is absent; returns whether it wrote.
    fn put_if_absent(&self, key: &[u8], value: &[u8]) -> StoreResult<bool>;
    fn delete(&self, key: &[u8]) -> StoreResult<()>;
    /// Every entry whose key starts with `prefix`, in key order.
    fn scan_prefix(&self, prefix: &[u8]) -> StoreResult<Vec<KeyValue>>;
    /// At most `limit` entries whose key is `start` or after it, in key
    /// order: a page of the whole store, so a backup can walk a database
    /// larger than memory. The default reads everything; engines override it.
    fn scan_from(&self, start: &[u8], limit: usize) -> StoreResult<Vec<KeyValue>> {
        Ok(self
            .scan_prefix(b"")?
            .into_iter()
            .filter(|(key, _)| key.as_slice() >= start)
            .take(limit)
            .collect())
    }
    /// Applies every operation of `batch` atomically.
    fn apply(&self, batch: Batch) -> StoreResult<()>;
    /// Resolves once every write made before the call is on disk.
    fn flush(&self) -> Pin<Box<dyn Future<Output = StoreResult<()>> + Send + '_>>;
}
