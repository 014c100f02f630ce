//! The response cache: answers to queries, reused while the tenant's data stays the same.
//!
//! An entry is keyed by the API key, the tenant's `data_version` read with that key (see
//! [`crate::store::tenant_write`]) and the request body byte for byte. Every
//! write increases the version in its own transaction, so once it commits no request can
//! read the old version and hit an old entry — in this process or any other replica.
//! Only queries that answered without errors are kept; never mutations. Memory is bounded
//! in bytes; the oldest entries go first.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use axum::body::Bytes;

/// What a cached answer is keyed by.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CacheKey {
    key_id: i64,
    data_version: i64,
    body: Bytes,
}

impl CacheKey {
    /// The key of request `body` sent with API key `key_id` at `data_version`.
    pub fn new(key_id: i64, data_version: i64, body: Bytes) -> Self {
        Self {
            key_id,
            data_version,
            body,
        }
    }

    /// What an entry with this key and an answer of `answer` bytes holds in memory: both
    /// byte strings (copied to allocations of their own size when kept, see
    /// [`ResponseCache::put`]) and the bookkeeping around them.
    fn entry_size(&self, answer: usize) -> usize {
        self.body.len() + answer + ENTRY_OVERHEAD
    }
}

/// The memory an entry takes besides its two byte strings: the key behind its `Arc` (with
/// the two counts), the map's slot (key pointer, answer handle, control byte), the queue's
/// slot, and the allocator's headers of the three allocations.
const ENTRY_OVERHEAD: usize = std::mem::size_of::<CacheKey>()
    + 2 * std::mem::size_of::<usize>()
    + std::mem::size_of::<(Arc<CacheKey>, Bytes)>()
    + 1
    + std::mem::size_of::<Arc<CacheKey>>()
    + 3 * 16;

#[derive(Default)]
struct Entries {
    answers: HashMap<Arc<CacheKey>, Bytes>,
    order: VecDeque<Arc<CacheKey>>,
    bytes: usize,
    evictions: u64,
}

/// Answers by [`CacheKey`], at most `capacity` bytes of them.
pub struct ResponseCache {
    capacity: usize,
    entries: Mutex<Entries>,
}

impl ResponseCache {
    /// A cache of up to `capacity` bytes; `None` when `capacity` is 0 (switched off).
    pub fn new(capacity: usize) -> Option<Self> {
        (capacity > 0).then(|| Self {
            capacity,
            entries: Mutex::new(Entries::default()),
        })
    }

    /// The answer kept for `key`.
    pub fn get(&self, key: &CacheKey) -> Option<Bytes> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.answers.get(key).cloned()
    }

    /// Its size, entries and evictions so far (for the metrics).
    pub fn stats(&self) -> crate::metrics::CacheStats {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        crate::metrics::CacheStats {
            bytes: entries.bytes as u64,
            capacity: self.capacity as u64,
            entries: entries.answers.len() as u64,
            evictions: entries.evictions,
        }
    }

    /// Keeps `answer` for `key`, forgetting the oldest entries to make room. An answer larger
    /// than a quarter of the capacity is not kept.
    ///
    /// Both byte strings are copied into allocations of exactly their length: the answer
    /// comes from a `Vec` that grew by doubling (up to twice its length), and the key's body
    /// is a slice of the whole request buffer. Kept as they came, they would hold up to twice
    /// what the accounting counts, and the setting would not bound the memory.
    pub fn put(&self, key: CacheKey, answer: Bytes) {
        let size = key.entry_size(answer.len());
        if size > self.capacity / 4 {
            return;
        }
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.answers.contains_key(&key) {
            return;
        }
        while entries.bytes + size > self.capacity {
            let Some(oldest) = entries.order.pop_front() else {
                break;
            };
            if let Some(answer) = entries.answers.remove(&oldest) {
                entries.bytes -= oldest.entry_size(answer.len());
                entries.evictions += 1;
            }
        }
        let key = Arc::new(CacheKey {
            body: Bytes::copy_from_slice(&key.body),
            ..key
        });
        let answer = Bytes::copy_from_slice(&answer);
        entries.order.push_back(key.clone());
        entries.answers.insert(key, answer);
        entries.bytes += size;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(version: i64) -> CacheKey {
        CacheKey::new(
            1,
            version,
            Bytes::from_static(b"{\"query\":\"{ viewer { id } }\"}"),
        )
    }

    #[test]
    fn a_new_data_version_misses() {
        let cache = ResponseCache::new(10_000).unwrap();
        cache.put(key(1), Bytes::from_static(b"{\"data\":1}"));
        assert_eq!(cache.get(&key(1)).as_deref(), Some(&b"{\"data\":1}"[..]));
        assert_eq!(cache.get(&key(2)), None);
    }

    #[test]
    fn the_oldest_entries_make_room() {
        let entry = key(0).entry_size(100);
        let cache = ResponseCache::new(entry * 4).unwrap();
        for version in 0..6 {
            cache.put(key(version), Bytes::from(vec![b'x'; 100]));
        }
        assert_eq!(cache.get(&key(0)), None);
        assert_eq!(cache.get(&key(1)), None);
        assert!(cache.get(&key(2)).is_some());
        assert!(cache.get(&key(5)).is_some());
        assert!(cache.entries.lock().unwrap().bytes <= entry * 4);
    }

    /// The cache holds copies of exactly the counted size: neither the request buffer its
    /// key's body was sliced from, nor the spare capacity of the answer's buffer.
    #[test]
    fn an_entry_holds_only_the_bytes_it_counts() {
        let request = Bytes::from(vec![b' '; 1 << 20]);
        let body = request.slice(0..30);
        let mut buffer = Vec::with_capacity(1 << 20);
        buffer.extend_from_slice(b"{\"data\":1}");
        let answer = Bytes::from(buffer);
        let cache = ResponseCache::new(10_000).unwrap();
        cache.put(CacheKey::new(1, 1, body), answer.clone());
        assert!(
            request.is_unique(),
            "the cache keeps the whole request buffer"
        );
        assert!(
            answer.is_unique(),
            "the cache keeps the answer's oversized buffer"
        );
        let stats = cache.stats();
        assert_eq!(stats.bytes as usize, 30 + 10 + ENTRY_OVERHEAD);
        assert_eq!(
            cache
                .get(&CacheKey::new(1, 1, request.slice(0..30)))
                .as_deref(),
            Some(&b"{\"data\":1}"[..])
        );
    }

    #[test]
    fn switched_off_with_no_capacity() {
        assert!(ResponseCache::new(0).is_none());
    }
}
