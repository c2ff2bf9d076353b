//! Group commit: many tasks that each need "my write is on disk" share one
//! flush instead of queueing a flush each. A caller takes a ticket after its
//! write; any flush that *starts* after the ticket covers it. While a flush
//! runs, new callers wait for the next one, which covers all of them at once.

use std::sync::{Arc, Mutex};

use tokio::sync::watch;

use crate::store::{Store, StoreError};

pub struct GroupFlush {
    store: Arc<dyn Store>,
    state: Mutex<State>,
    /// The highest ticket known to be on disk.
    done: watch::Sender<u64>,
}

#[derive(Default)]
struct State {
    issued: u64,
    flushing: bool,
}

impl GroupFlush {
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self {
            store,
            state: Mutex::default(),
            done: watch::channel(0).0,
        }
    }

    /// Resolves once every write made before the call is on disk.
    pub async fn flush(&self) -> Result<(), StoreError> {
        let ticket = {
            let mut state = self.lock();
            state.issued += 1;
            state.issued
        };
        let mut done = self.done.subscribe();
        loop {
            if *done.borrow_and_update() >= ticket {
                return Ok(());
            }
            let lead = {
                let mut state = self.lock();
                if state.flushing {
                    None
                } else {
                    state.flushing = true;
                    Some(state.issued)
                }
            };
            match lead {
                Some(covers) => {
                    let result = self.store.flush().await;
                    self.lock().flushing = false;
                    match result {
                        Ok(()) => {
                            self.done.send_modify(|done| *done = (*done).max(covers));
                            return Ok(());
                        }
                        Err(err) => {
                            // Wake the others so one of them retries.
                            self.done.send_modify(|_| {});
                            return Err(err);
                        }
                    }
                }
                None => {
                    // Closed only if `self` is gone, which cannot be while we borrow it.
                    let _ = done.changed().await;
                }
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Batch, KeyValue, StoreResult};
    use std::future::Future;
    use std::pin::Pin;
    use std::sync::atomic::{AtomicU64, Ordering};

    /// Counts flushes; each takes a little while so callers pile up.
    #[derive(Default)]
    struct CountingStore {
        flushes: AtomicU64,
    }

    impl Store for CountingStore {
        fn get(&self, _: &[u8]) -> StoreResult<Option<Vec<u8>>> {
            Ok(None)
        }
        fn put(&self, _: &[u8], _: &[u8]) -> StoreResult<()> {
            Ok(())
        }
        fn put_if_absent(&self, _: &[u8], _: &[u8]) -> StoreResult<bool> {
            Ok(true)
        }
        fn delete(&self, _: &[u8]) -> StoreResult<()> {
            Ok(())
        }
        fn scan_prefix(&self, _: &[u8]) -> StoreResult<Vec<KeyValue>> {
            Ok(Vec::new())
        }
        fn apply(&self, _: Batch) -> StoreResult<()> {
            Ok(())
        }
        fn flush(&self) -> Pin<Box<dyn Future<Output = StoreResult<()>> + Send + '_>> {
            Box::pin(async {
                self.flushes.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                Ok(())
            })
        }
    }

    #[tokio::test]
    async fn concurrent_callers_share_flushes() {
        let store = Arc::new(CountingStore::default());
        let group = Arc::new(GroupFlush::new(store.clone()));
        let callers: Vec<_> = (0..50)
            .map(|_| {
                let group = group.clone();
                tokio::spawn(async move { group.flush().await })
            })
            .collect();
        for caller in callers {
            caller.await.unwrap().unwrap();
        }
        let flushes = store.flushes.load(Ordering::SeqCst);
        assert!(
            (1..=3).contains(&flushes),
            "{flushes} flushes for 50 callers"
        );
    }

    #[tokio::test]
    async fn a_later_caller_waits_for_a_flush_that_started_after_it() {
        let store = Arc::new(CountingStore::default());
        let group = GroupFlush::new(store.clone());
        group.flush().await.unwrap();
        group.flush().await.unwrap();
        assert_eq!(
            store.flushes.load(Ordering::SeqCst),
            2,
            "sequential callers each get a flush"
        );
    }
}
