//! The response cache: answers to queries, reused while the tenant's data stays the same.
//!
//! An entry is keyed by the API key, the tenant's `data_version` read with that key (see
//! [`crate::store::tenant_write`]) and the request body byte for byte. Every
//! write increases the version in its own transaction, so once it commits no request can
//! read the old version and hit an old entry — in this process or any other replica.
//! Only queries that answered without errors are kept; never mutations. Memory is bounded
//! in bytes by `quick_cache` (a sharded cache with a weigher and S3-FIFO-like eviction:
//! entries read once go before entries read again).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::body::Bytes;
use quick_cache::sync::Cache;
use quick_cache::{DefaultHashBuilder, Lifecycle, OptionsBuilder, Weighter};

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

/// The memory an entry takes besides its two byte strings: the key and the answer's handle
/// in the cache's slot, its place in the shard's index and queue, and the allocator's
/// headers of the two allocations.
const ENTRY_OVERHEAD: usize =
    std::mem::size_of::<(CacheKey, Bytes)>() + 4 * std::mem::size_of::<usize>() + 2 * 16;

/// Shards of the cache, each with its own lock and a quarter of the capacity; an answer
/// larger than a shard's capacity is not kept.
const SHARDS: usize = 4;

/// Weighs an entry by [`CacheKey::entry_size`].
#[derive(Clone)]
struct EntrySize;

impl Weighter<CacheKey, Bytes> for EntrySize {
    fn weight(&self, key: &CacheKey, answer: &Bytes) -> u64 {
        key.entry_size(answer.len()) as u64
    }
}

/// Counts the entries the cache let go to make room.
#[derive(Clone, Default)]
struct CountEvictions(Arc<AtomicU64>);

impl Lifecycle<CacheKey, Bytes> for CountEvictions {
    type RequestState = ();

    fn on_evict(&self, _: &mut (), _: CacheKey, _: Bytes) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
}

/// Answers by [`CacheKey`], at most `capacity` bytes of them.
pub struct ResponseCache {
    capacity: usize,
    entries: Cache<CacheKey, Bytes, EntrySize, DefaultHashBuilder, CountEvictions>,
    evictions: Arc<AtomicU64>,
}

impl ResponseCache {
    /// A cache of up to `capacity` bytes; `None` when `capacity` is 0 (switched off).
    pub fn new(capacity: usize) -> Option<Self> {
        if capacity == 0 {
            return None;
        }
        let options = OptionsBuilder::new()
            .shards(SHARDS)
            // An answer of a few KiB is typical; the estimate only sizes the index.
            .estimated_items_capacity((capacity / 4096).max(SHARDS * 32))
            .weight_capacity(capacity as u64)
            .build()
            .ok()?;
        let evictions = CountEvictions::default();
        Some(Self {
            capacity,
            entries: Cache::with_options(
                options,
                EntrySize,
                DefaultHashBuilder::default(),
                evictions.clone(),
            ),
            evictions: evictions.0,
        })
    }

    /// The answer kept for `key`.
    pub fn get(&self, key: &CacheKey) -> Option<Bytes> {
        self.entries.get(key)
    }

    /// Its size, entries and evictions so far (for the metrics).
    pub fn stats(&self) -> crate::metrics::CacheStats {
        crate::metrics::CacheStats {
            bytes: self.entries.weight(),
            capacity: self.capacity as u64,
            entries: self.entries.len() as u64,
            evictions: self.evictions.load(Ordering::Relaxed),
        }
    }

    /// Keeps `answer` for `key`, letting older entries go to make room. An answer larger
    /// than a shard's capacity (a quarter of the whole) is not kept.
    ///
    /// Both byte strings are copied into allocations of exactly their length: the answer
    /// comes from a `Vec` that grew by doubling (up to twice its length), and the key's body
    /// is a slice of the whole request buffer. Kept as they came, they would hold up to twice
    /// what the accounting counts, and the setting would not bound the memory.
    pub fn put(&self, key: CacheKey, answer: Bytes) {
        if key.entry_size(answer.len()) as u64 > self.entries.shard_capacity() {
            return;
        }
        let key = CacheKey {
            body: Bytes::copy_from_slice(&key.body),
            ..key
        };
        self.entries.insert(key, Bytes::copy_from_slice(&answer));
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

    /// Past the capacity, older entries go, the count of evictions says how many, and the
    /// newest entry is kept.
    #[test]
    fn older_entries_make_room() {
        let entry = key(0).entry_size(100);
        let capacity = entry * 4 * SHARDS;
        let cache = ResponseCache::new(capacity).unwrap();
        for version in 0..200 {
            cache.put(key(version), Bytes::from(vec![b'x'; 100]));
            assert!(cache.stats().bytes as usize <= capacity);
        }
        let stats = cache.stats();
        assert!(
            stats.entries <= 4 * SHARDS as u64,
            "{} entries",
            stats.entries
        );
        assert_eq!(stats.entries + stats.evictions, 200);
        assert!(cache.get(&key(199)).is_some());
    }

    #[test]
    fn an_answer_larger_than_a_shard_is_not_kept() {
        let cache = ResponseCache::new(40_000).unwrap();
        cache.put(key(1), Bytes::from(vec![b'x'; 10_001]));
        assert_eq!(cache.get(&key(1)), None);
        assert_eq!(cache.stats().evictions, 0);
        cache.put(key(2), Bytes::from(vec![b'x'; 9_000]));
        assert!(cache.get(&key(2)).is_some());
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
