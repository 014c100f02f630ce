//! The response cache: answers to queries, reused while the tenant's data stays the same.
//!
//! An entry is keyed by the API key, the tenant's `data_version` read with that key (see
//! [`crate::domain::tenant_write`]) and the request body byte for byte. Every
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

    fn size(&self) -> usize {
        self.body.len() + std::mem::size_of::<Self>()
    }
}

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
    pub fn put(&self, key: CacheKey, answer: Bytes) {
        let size = key.size() + answer.len();
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
                entries.bytes -= oldest.size() + answer.len();
                entries.evictions += 1;
            }
        }
        let key = Arc::new(key);
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
        let entry = key(0).size() + 100;
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

    #[test]
    fn switched_off_with_no_capacity() {
        assert!(ResponseCache::new(0).is_none());
    }
}
