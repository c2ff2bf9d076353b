//! Checks on a peer's sync message that automerge does not make itself.
//!
//! automerge 0.12 trusts the bloom filters a peer sends in `have`. One that
//! claims entries but has no bits makes automerge divide by zero (a panic,
//! mid-sync, holding the document); one that claims billions of probes makes
//! it allocate gigabytes for every change it checks, and a failed allocation
//! aborts the whole server. automerge itself writes 10 bits per entry and 7
//! probes, so such filters only come from hostile peers: they are refused
//! before automerge sees them.

use automerge::sync;

/// automerge writes 7 probes; up to this many cost nothing worth counting.
const MAX_PROBES: u64 = 64;
/// automerge computes `8 * bits` in a u32; keep far below that.
const MAX_BLOOM_BYTES: usize = 1 << 26;

/// Whether every bloom filter in `message` is one automerge can use safely.
pub(super) fn blooms_are_safe(message: &sync::Message) -> bool {
    message
        .have
        .iter()
        .all(|have| bloom_is_safe(&have.bloom.to_bytes()))
}

/// `bytes` as automerge writes a filter: nothing for an empty one, else the
/// number of entries, bits per entry and probes (LEB128), then the bits.
fn bloom_is_safe(mut bytes: &[u8]) -> bool {
    if bytes.is_empty() {
        return true;
    }
    let (Some(entries), Some(bits_per_entry), Some(probes)) =
        (leb128(&mut bytes), leb128(&mut bytes), leb128(&mut bytes))
    else {
        return false;
    };
    entries == 0
        || (bits_per_entry > 0
            && probes <= MAX_PROBES
            && !bytes.is_empty()
            && bytes.len() <= MAX_BLOOM_BYTES)
}

/// Reads one unsigned LEB128 number of at most 64 bits.
fn leb128(bytes: &mut &[u8]) -> Option<u64> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let (&byte, rest) = bytes.split_first()?;
        *bytes = rest;
        value |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Some(value);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use automerge::sync::{self, SyncDoc};
    use automerge::transaction::Transactable;
    use automerge::{Automerge, ROOT};

    use super::*;

    /// A sync message (format v1) with no heads, needs or changes and one
    /// `have` holding `bloom`.
    fn with_bloom(bloom: &[u8]) -> Vec<u8> {
        let mut bytes = vec![0x42, 0, 0, 1, 0, bloom.len() as u8];
        bytes.extend(bloom);
        bytes.push(0);
        bytes
    }

    #[test]
    fn filters_automerge_writes_are_safe() {
        let mut doc = Automerge::new();
        let mut tx = doc.transaction();
        tx.put(ROOT, "title", "notes").unwrap();
        tx.commit();
        // A peer's second message carries a filter of its changes.
        let mut ours = sync::State::new();
        let mut theirs = sync::State::new();
        let mut peer = Automerge::new();
        let first = doc.generate_sync_message(&mut ours).unwrap();
        peer.receive_sync_message(&mut theirs, first).unwrap();
        let reply = peer.generate_sync_message(&mut theirs).unwrap();
        assert!(blooms_are_safe(&reply));
        doc.receive_sync_message(&mut ours, reply).unwrap();
        let second = doc.generate_sync_message(&mut ours).unwrap();
        assert!(blooms_are_safe(&second));
        assert!(!second.have.is_empty() && !second.have[0].bloom.to_bytes().is_empty());
    }

    #[test]
    fn filters_that_would_crash_automerge_are_refused() {
        // One entry, no bits per entry: a division by zero in automerge.
        let no_bits = sync::Message::decode(&with_bloom(&[1, 0, 7])).unwrap();
        assert!(!blooms_are_safe(&no_bits));
        // 2^32 - 1 probes: gigabytes allocated per change checked.
        let probes = [1, 10, 0xff, 0xff, 0xff, 0xff, 0x0f, 0, 0];
        let many_probes = sync::Message::decode(&with_bloom(&probes)).unwrap();
        assert!(!blooms_are_safe(&many_probes));
        // The same with 7 probes is fine.
        let fine = sync::Message::decode(&with_bloom(&[1, 10, 7, 0, 0])).unwrap();
        assert!(blooms_are_safe(&fine));
    }

    #[test]
    fn leb128_reads_what_it_should() {
        let mut bytes: &[u8] = &[0xe5, 0x8e, 0x26, 9];
        assert_eq!(leb128(&mut bytes), Some(624_485));
        assert_eq!(bytes, &[9]);
        assert_eq!(leb128(&mut &[0x80][..]), None);
        assert_eq!(leb128(&mut &[0xff; 11][..]), None);
    }
}
