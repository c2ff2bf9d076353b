//! The embedded default: one sled database in the data directory.

use std::future::Future;
use std::path::Path;
use std::pin::Pin;

use super::{Batch, BatchOp, KeyValue, Store, StoreError, StoreResult};

pub struct SledStore {
    db: sled::Db,
}

impl SledStore {
    pub fn open(dir: &Path) -> StoreResult<Self> {
        let db = sled::Config::new()
            .path(dir)
            // Durability comes from our explicit flushes, not a timer.
            .flush_every_ms(None)
            .open()
            .map_err(|err| {
                StoreError::new(format!("cannot open database in {}: {err}", dir.display()))
            })?;
        Ok(Self { db })
    }
}

fn fail(err: sled::Error) -> StoreError {
    StoreError::new(err.to_string())
}

impl Store for SledStore {
    fn get(&self, key: &[u8]) -> StoreResult<Option<Vec<u8>>> {
        Ok(self.db.get(key).map_err(fail)?.map(|value| value.to_vec()))
    }

    fn put(&self, key: &[u8], value: &[u8]) -> StoreResult<()> {
        self.db.insert(key, value).map_err(fail)?;
        Ok(())
    }

    fn put_if_absent(&self, key: &[u8], value: &[u8]) -> StoreResult<bool> {
        let swapped = self
            .db
            .compare_and_swap(key, None as Option<&[u8]>, Some(value))
            .map_err(fail)?;
        Ok(swapped.is_ok())
    }

    fn delete(&self, key: &[u8]) -> StoreResult<()> {
        self.db.remove(key).map_err(fail)?;
        Ok(())
    }

    fn scan_prefix(&self, prefix: &[u8]) -> StoreResult<Vec<KeyValue>> {
        self.db
            .scan_prefix(prefix)
            .map(|item| {
                item.map(|(key, value)| (key.to_vec(), value.to_vec()))
                    .map_err(fail)
            })
            .collect()
    }

    fn scan_from(&self, start: &[u8], limit: usize) -> StoreResult<Vec<KeyValue>> {
        self.db
            .range(start..)
            .take(limit)
            .map(|item| {
                item.map(|(key, value)| (key.to_vec(), value.to_vec()))
                    .map_err(fail)
            })
            .collect()
    }

    fn apply(&self, batch: Batch) -> StoreResult<()> {
        let mut sled_batch = sled::Batch::default();
        for op in batch.into_ops() {
            match op {
                BatchOp::Put(key, value) => sled_batch.insert(key, value),
                BatchOp::Delete(key) => sled_batch.remove(key),
            }
        }
        self.db.apply_batch(sled_batch).map_err(fail)
    }

    fn flush(&self) -> Pin<Box<dyn Future<Output = StoreResult<()>> + Send + '_>> {
        Box::pin(async move {
            self.db.flush_async().await.map_err(fail)?;
            Ok(())
        })
    }
}
