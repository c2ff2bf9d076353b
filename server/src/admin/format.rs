//! The data format version: which layout of keys and records the data
//! directory holds. Written when a data directory is first used, checked at
//! every start: older data is migrated in place, step by step, before the
//! server serves anything; newer data (written by a later Fieldbook) is
//! refused, because this binary cannot know what it means.
//!
//! Version 1 is the layout in `crate::store::keys`. Data from before versioning
//! existed has that layout too, so it is read as version 1.
//!
//! To change the layout: add a step to [`MIGRATIONS`] that takes data from
//! the newest version to the next, and raise [`CURRENT`]. A step must be
//! safe to run again (the version is written after the step, and a crash in
//! between runs it twice); the server flushes before it acknowledges
//! anything, and that flush makes the migration durable too.

use crate::store::keys;
use crate::store::{Store, StoreError};

/// The format this build reads and writes.
pub const CURRENT: u32 = 1;

/// One migration step: from version `n` (its index + 1) to `n + 1`.
pub type Migration = fn(&dyn Store) -> Result<(), StoreError>;

/// Steps from each version to the next; `MIGRATIONS[0]` takes 1 to 2.
pub const MIGRATIONS: &[Migration] = &[];

#[derive(Debug, thiserror::Error)]
pub enum FormatError {
    #[error(
        "the data directory holds data format version {found}, written by a newer \
         Fieldbook; this one reads up to version {supported}. Run the newer Fieldbook \
         again, or restore a backup taken by this version"
    )]
    Newer { found: u32, supported: u32 },
    #[error("the data format version record is unreadable: {0:?}")]
    Unreadable(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What [`prepare`] found and did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Prepared {
    /// The version the data had before (`None`: a new, empty directory).
    pub found: Option<u32>,
    pub now: u32,
}

/// Checks the data's format version at start-up and migrates it to
/// [`CURRENT`], or refuses newer data. A new, empty store is stamped.
pub fn prepare(store: &dyn Store) -> Result<Prepared, FormatError> {
    prepare_with(store, CURRENT, MIGRATIONS)
}

/// The version recorded in `store`, if any.
pub fn read(store: &dyn Store) -> Result<Option<u32>, FormatError> {
    match store.get(keys::FORMAT_VERSION.as_bytes())? {
        None => Ok(None),
        Some(bytes) => {
            let text = String::from_utf8_lossy(&bytes).into_owned();
            text.trim()
                .parse()
                .map(Some)
                .map_err(|_| FormatError::Unreadable(text))
        }
    }
}

fn prepare_with(
    store: &dyn Store,
    current: u32,
    migrations: &[Migration],
) -> Result<Prepared, FormatError> {
    let recorded = read(store)?;
    let found = match recorded {
        Some(version) => Some(version),
        // Unversioned: empty (new) or from before versions were recorded.
        None if store.scan_from(b"", 1)?.is_empty() => None,
        None => Some(1),
    };
    let mut version = match found {
        None => current,
        Some(version) if version > current => {
            return Err(FormatError::Newer {
                found: version,
                supported: current,
            })
        }
        Some(version) => version,
    };
    while version < current {
        let step = migrations
            .get(version as usize - 1)
            .expect("a migration for every version below the current one");
        tracing::info!(from = version, to = version + 1, "migrating data format");
        step(store)?;
        version += 1;
        write(store, version)?;
    }
    if recorded != Some(version) {
        write(store, version)?;
    }
    Ok(Prepared {
        found,
        now: version,
    })
}

fn write(store: &dyn Store, version: u32) -> Result<(), StoreError> {
    store.put(
        keys::FORMAT_VERSION.as_bytes(),
        version.to_string().as_bytes(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::MemoryStore;

    #[test]
    fn a_new_store_is_stamped_with_the_current_version() {
        let store = MemoryStore::new();
        let prepared = prepare(&store).unwrap();
        assert_eq!(
            prepared,
            Prepared {
                found: None,
                now: CURRENT
            }
        );
        assert_eq!(read(&store).unwrap(), Some(CURRENT));
        // And the next start finds it.
        assert_eq!(prepare(&store).unwrap().found, Some(CURRENT));
    }

    #[test]
    fn unversioned_data_is_version_one() {
        let store = MemoryStore::new();
        store.put(b"user/abc", b"{}").unwrap();
        assert_eq!(prepare(&store).unwrap().found, Some(1));
        assert_eq!(read(&store).unwrap(), Some(1));
    }

    #[test]
    fn newer_data_is_refused_and_left_alone() {
        let store = MemoryStore::new();
        store.put(keys::FORMAT_VERSION.as_bytes(), b"7").unwrap();
        let err = prepare(&store).unwrap_err();
        let message = err.to_string();
        assert!(message.contains("version 7"), "{message}");
        assert!(message.contains("newer Fieldbook"), "{message}");
        assert_eq!(read(&store).unwrap(), Some(7));
    }

    #[test]
    fn older_data_runs_every_step_in_order_and_records_each() {
        fn one_to_two(store: &dyn Store) -> Result<(), StoreError> {
            assert_eq!(read(store).unwrap(), Some(1));
            store.put(b"steps", b"1")
        }
        fn two_to_three(store: &dyn Store) -> Result<(), StoreError> {
            assert_eq!(read(store).unwrap(), Some(2), "the first step was recorded");
            let before = store.get(b"steps")?.unwrap();
            store.put(b"steps", &[before, b",2".to_vec()].concat())
        }
        let store = MemoryStore::new();
        store.put(keys::FORMAT_VERSION.as_bytes(), b"1").unwrap();
        let prepared = prepare_with(&store, 3, &[one_to_two, two_to_three]).unwrap();
        assert_eq!(
            prepared,
            Prepared {
                found: Some(1),
                now: 3
            }
        );
        assert_eq!(store.get(b"steps").unwrap().unwrap(), b"1,2");
        assert_eq!(read(&store).unwrap(), Some(3));
    }

    #[test]
    fn a_garbled_version_is_an_error_not_a_guess() {
        let store = MemoryStore::new();
        store.put(keys::FORMAT_VERSION.as_bytes(), b"one").unwrap();
        assert!(matches!(
            prepare(&store),
            Err(FormatError::Unreadable(text)) if text == "one"
        ));
    }
}
