//! One suite of storage behaviour that every `Store` implementation must pass.

use super::{Batch, MemoryStore, SledStore, Store};

fn suite(store: &dyn Store) {
    missing_keys_read_as_none(store);
    put_then_get_and_overwrite(store);
    delete_removes(store);
    put_if_absent_writes_once(store);
    scan_prefix_is_ordered_and_bounded(store);
    batch_applies_puts_and_deletes(store);
    scan_from_pages_through_everything_in_order(store);
}

fn missing_keys_read_as_none(store: &dyn Store) {
    assert_eq!(store.get(b"nope").unwrap(), None);
}

fn put_then_get_and_overwrite(store: &dyn Store) {
    store.put(b"a/1", b"one").unwrap();
    assert_eq!(store.get(b"a/1").unwrap().as_deref(), Some(&b"one"[..]));
    store.put(b"a/1", b"uno").unwrap();
    assert_eq!(store.get(b"a/1").unwrap().as_deref(), Some(&b"uno"[..]));
}

fn delete_removes(store: &dyn Store) {
    store.put(b"d/1", b"x").unwrap();
    store.delete(b"d/1").unwrap();
    assert_eq!(store.get(b"d/1").unwrap(), None);
    // Deleting what is not there is not an error.
    store.delete(b"d/1").unwrap();
}

fn put_if_absent_writes_once(store: &dyn Store) {
    assert!(store.put_if_absent(b"u/1", b"first").unwrap());
    assert!(!store.put_if_absent(b"u/1", b"second").unwrap());
    assert_eq!(store.get(b"u/1").unwrap().as_deref(), Some(&b"first"[..]));
}

fn scan_prefix_is_ordered_and_bounded(store: &dyn Store) {
    store.put(b"s/b", b"2").unwrap();
    store.put(b"s/a", b"1").unwrap();
    store.put(b"s/c/deep", b"3").unwrap();
    store.put(b"s", b"outside").unwrap();
    store.put(b"t/a", b"outside").unwrap();
    store.put(b"r/z", b"outside").unwrap();
    let keys: Vec<Vec<u8>> = store
        .scan_prefix(b"s/")
        .unwrap()
        .into_iter()
        .map(|(key, _)| key)
        .collect();
    assert_eq!(
        keys,
        vec![b"s/a".to_vec(), b"s/b".to_vec(), b"s/c/deep".to_vec()]
    );
    assert!(store.scan_prefix(b"nothing/").unwrap().is_empty());
}

fn batch_applies_puts_and_deletes(store: &dyn Store) {
    store.put(b"b/old", b"x").unwrap();
    let mut batch = Batch::default();
    batch.put(b"b/new1".to_vec(), b"1".to_vec());
    batch.put(b"b/new2".to_vec(), b"2".to_vec());
    batch.delete(b"b/old".to_vec());
    store.apply(batch).unwrap();
    assert_eq!(store.get(b"b/old").unwrap(), None);
    assert_eq!(store.scan_prefix(b"b/").unwrap().len(), 2);
}

fn scan_from_pages_through_everything_in_order(store: &dyn Store) {
    let everything: Vec<Vec<u8>> = store
        .scan_prefix(b"")
        .unwrap()
        .into_iter()
        .map(|(key, _)| key)
        .collect();
    assert!(everything.len() > 3, "the earlier checks left keys behind");
    let mut paged = Vec::new();
    let mut start = Vec::new();
    loop {
        let page = store.scan_from(&start, 2).unwrap();
        assert!(page.len() <= 2);
        let Some((last, _)) = page.last() else { break };
        // The smallest key after `last`.
        start = [last.as_slice(), &[0]].concat();
        paged.extend(page.into_iter().map(|(key, _)| key));
    }
    assert_eq!(paged, everything);
    assert_eq!(store.scan_from(b"s/b", 1).unwrap()[0].0, b"s/b".to_vec());
}

#[tokio::test]
async fn memory_store_conforms() {
    let store = MemoryStore::new();
    suite(&store);
    store.flush().await.unwrap();
}

#[tokio::test]
async fn sled_store_conforms() {
    let dir = tempfile::tempdir().unwrap();
    let store = SledStore::open(dir.path()).unwrap();
    suite(&store);
    store.flush().await.unwrap();
}

#[tokio::test]
async fn sled_store_keeps_flushed_writes_across_reopen() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = SledStore::open(dir.path()).unwrap();
        store.put(b"k", b"v").unwrap();
        store.flush().await.unwrap();
    }
    let store = SledStore::open(dir.path()).unwrap();
    assert_eq!(store.get(b"k").unwrap().as_deref(), Some(&b"v"[..]));
}
