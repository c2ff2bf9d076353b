//! The in-memory twin of the sled store: same contract, nothing on disk.
//! Used where a test needs storage but not persistence.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;

use super::{Batch, BatchOp, KeyValue, Store, StoreResult};

#[derive(Default)]
pub struct MemoryStore {
    map: Mutex<BTreeMap<Vec<u8>, Vec<u8>>>,
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    fn map(&self) -> std::sync::MutexGuard<'_, BTreeMap<Vec<u8>, Vec<u8>>> {
        // A panic while holding the lock cannot leave the map half-written
        // (every operation is a single map call), so poisoning is ignored.
        self.map
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Store for MemoryStore {
    fn get(&self, key: &[u8]) -> StoreResult<Option<Vec<u8>>> {
        Ok(self.map().get(key).cloned())
    }

    fn put(&self, key: &[u8], value: &[u8]) -> StoreResult<()> {
        self.map().insert(key.to_vec(), value.to_vec());
        Ok(())
    }

    fn put_if_absent(&self, key: &[u8], value: &[u8]) -> StoreResult<bool> {
        let mut map = self.map();
        if map.contains_key(key) {
            return Ok(false);
        }
        map.insert(key.to_vec(), value.to_vec());
        Ok(true)
    }

    fn delete(&self, key: &[u8]) -> StoreResult<()> {
        self.map().remove(key);
        Ok(())
    }

    fn scan_prefix(&self, prefix: &[u8]) -> StoreResult<Vec<KeyValue>> {
        Ok(self
            .map()
            .range(prefix.to_vec()..)
            .take_while(|(key, _)| key.starts_with(prefix))
            .map(|(key, value)| (key.clone(), value.clone()))
            .collect())
    }

    fn scan_from(&self, start: &[u8], limit: usize) -> StoreResult<Vec<KeyValue>> {
        Ok(self
            .map()
            .range(start.to_vec()..)
            .take(limit)
            .map(|(key, value)| (key.clone(), value.clone()))
            .collect())
    }

    fn apply(&self, batch: Batch) -> StoreResult<()> {
        let mut map = self.map();
        for op in batch.into_ops() {
            match op {
                BatchOp::Put(key, value) => {
                    map.insert(key, value);
                }
                BatchOp::Delete(key) => {
                    map.remove(&key);
                }
            }
        }
        Ok(())
    }

    fn flush(&self) -> Pin<Box<dyn Future<Output = StoreResult<()>> + Send + '_>> {
        Box::pin(async { Ok(()) })
    }
}
