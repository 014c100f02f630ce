//! A batch of listings as a scraper sends it, checked and hashed before anything is written.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hash, Hasher};

use serde_json::Value;

use crate::domain::validate;
use crate::error::Error;
use crate::hashing::content_hash;
use crate::store::numbers;
use crate::store::statements::Listing;

/// Reads a listing's id: a non-empty string or a number.
fn external_id(value: &Value, id_field: &str) -> Result<String, String> {
    match value.get(id_field) {
        None | Some(Value::Null) => Err(format!("has no `{id_field}` field")),
        Some(Value::String(s)) if s.trim().is_empty() => Err(format!("has an empty `{id_field}`")),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(Value::Number(n)) => Ok(numeric_id(n)),
        Some(other) => Err(format!(
            "has a `{id_field}` that is neither a string nor a number: {other}"
        )),
    }
}

/// The external id of a numeric id: an integer's digits, exactly (`1500000000000000001`);
/// any other number as the shortest text of its double (`1.5` for `1.50`), as ids were
/// always read, so the ids of stored listings do not change.
fn numeric_id(number: &serde_json::Number) -> String {
    let text = number.as_str();
    if !text.contains(['.', 'e', 'E']) && text != "-0" {
        return text.to_owned();
    }
    number
        .as_f64()
        .and_then(serde_json::Number::from_f64)
        .map_or_else(|| text.to_owned(), |n| n.to_string())
}

/// The ids a batch has carried so far, to refuse an id twice. Only a 128-bit fingerprint
/// of each id is kept (with the index of its item), so memory stays small for imports of
/// millions of listings; two different ids share a fingerprint with negligible probability.
/// A slot takes 24 bytes (two `u64` and the index; a `u128` key would align it to 32), and
/// the map does not hash the fingerprint again: its first word is already a hash.
#[derive(Debug, Default)]
pub(crate) struct SeenIds(HashMap<Fingerprint, u32, BuildHasherDefault<FirstWord>>);

/// Two independent 64-bit hashes of an id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Fingerprint([u64; 2]);

impl Hash for Fingerprint {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.0[0]);
    }
}

/// The hasher of [`SeenIds`]: a fingerprint's first word, as it is.
#[derive(Debug, Default)]
struct FirstWord(u64);

impl Hasher for FirstWord {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(byte);
        }
    }

    fn write_u64(&mut self, word: u64) {
        self.0 = word;
    }
}

impl SeenIds {
    fn fingerprint(id: &str) -> Fingerprint {
        use std::hash::{BuildHasher, DefaultHasher};
        let low = BuildHasherDefault::<DefaultHasher>::default().hash_one(id);
        let high = BuildHasherDefault::<DefaultHasher>::default().hash_one((id, 0x5eed_u32));
        Fingerprint([low, high])
    }

    /// Records `id` at `index`; returns the index of an earlier item with the same id.
    fn insert(&mut self, id: &str, index: usize) -> Option<usize> {
        let index = u32::try_from(index).unwrap_or(u32::MAX);
        self.0
            .insert(Self::fingerprint(id), index)
            .map(|first| first as usize)
    }
}

/// Checks a batch: every item an object with an id, no id twice. `label(i)` names item `i` in
/// errors (GraphQL: `input.items[i]`; CLI: `file:line`). Hashes every listing.
#[cfg(test)]
pub(crate) fn check_batch(
    items: Vec<Value>,
    id_field: &str,
    label: &(dyn Fn(usize) -> String + Sync),
) -> Result<Vec<Listing>, Error> {
    let mut seen = SeenIds::default();
    check_items(items, 0, id_field, &mut seen, label)
}

/// [`check_batch`] for one part of a larger batch: `first_index` is the index of its first
/// item, and `seen` carries the ids of the earlier parts.
#[cfg(test)]
pub(crate) fn check_items(
    items: Vec<Value>,
    first_index: usize,
    id_field: &str,
    seen: &mut SeenIds,
    label: &(dyn Fn(usize) -> String + Sync),
) -> Result<Vec<Listing>, Error> {
    let prepared = items.into_iter().map(|data| prepare(data, id_field));
    settle(prepared, first_index, seen, label)
}

/// A part's items checked one by one and hashed, on blocking threads: the work of
/// [`check_items`] that needs no other item. It starts at once, on every core, off the async
/// runtime; [`PreparedPart::settle`] then finishes the checks in item order.
pub(crate) struct PreparedPart {
    task: tokio::task::JoinHandle<Vec<Result<Listing, String>>>,
}

/// Items a thread prepares at least: below that, a thread costs more than it saves.
const MIN_ITEMS_PER_THREAD: usize = 256;

impl PreparedPart {
    /// Starts preparing `items` (must be called within a Tokio runtime).
    pub(crate) fn start(items: Vec<Value>, id_field: String) -> Self {
        Self {
            task: tokio::task::spawn_blocking(move || prepare_on_every_core(items, &id_field)),
        }
    }

    /// Waits for the part, then checks ids across items as [`check_items`] does, with the
    /// same errors in the same order: the first item that fails, by index, names the error.
    pub(crate) async fn settle(
        self,
        first_index: usize,
        seen: &mut SeenIds,
        label: &(dyn Fn(usize) -> String + Sync),
    ) -> Result<Vec<Listing>, Error> {
        let prepared = match self.task.await {
            Ok(prepared) => prepared,
            Err(failed) => match failed.try_into_panic() {
                Ok(panic) => std::panic::resume_unwind(panic),
                // The runtime is shutting down: the import ends unwritten.
                Err(_) => {
                    return Err(Error::Internal(sea_orm::DbErr::Custom(
                        "the hashing of an import part was cancelled".into(),
                    )));
                }
            },
        };
        settle(prepared.into_iter(), first_index, seen, label)
    }
}

/// [`prepare`] over `items`, split in one run of items per core; results in item order.
fn prepare_on_every_core(items: Vec<Value>, id_field: &str) -> Vec<Result<Listing, String>> {
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let per_thread = items.len().div_ceil(cores).max(MIN_ITEMS_PER_THREAD);
    let prepare_run = |run: Vec<Value>| -> Vec<Result<Listing, String>> {
        run.into_iter()
            .map(|data| prepare(data, id_field))
            .collect()
    };
    let mut items = items.into_iter();
    let first: Vec<Value> = items.by_ref().take(per_thread).collect();
    let mut runs = Vec::new();
    loop {
        let run: Vec<Value> = items.by_ref().take(per_thread).collect();
        if run.is_empty() {
            break;
        }
        runs.push(run);
    }
    std::thread::scope(|threads| {
        let others: Vec<_> = runs
            .into_iter()
            .map(|run| threads.spawn(move || prepare_run(run)))
            .collect();
        let mut prepared = prepare_run(first);
        for other in others {
            let run = other
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            prepared.extend(run);
        }
        prepared
    })
}

/// The checks of one item that need no other item, and its hash; the reason it fails.
fn prepare(mut data: Value, id_field: &str) -> Result<Listing, String> {
    if !data.is_object() {
        return Err("is not a JSON object".to_owned());
    }
    let external_id = external_id(&data, id_field)?;
    if validate::has_nul(&data) {
        return Err(validate::NUL_REASON.to_owned());
    }
    // After the id is read: a numeric id keeps the text ids were always read from.
    numbers::store_exactly(&mut data)?;
    let hash = content_hash(&data);
    Ok(Listing {
        external_id,
        data,
        hash,
    })
}

/// Names the first item that failed [`prepare`], and refuses an id seen before.
fn settle(
    prepared: impl Iterator<Item = Result<Listing, String>>,
    first_index: usize,
    seen: &mut SeenIds,
    label: &(dyn Fn(usize) -> String + Sync),
) -> Result<Vec<Listing>, Error> {
    let mut listings = Vec::with_capacity(prepared.size_hint().0);
    for (offset, listing) in prepared.enumerate() {
        let index = first_index + offset;
        let listing = listing.map_err(|reason| Error::invalid(label(index), reason))?;
        if let Some(first) = seen.insert(&listing.external_id, index) {
            return Err(Error::invalid(
                label(index),
                format!(
                    "repeats id `{}` of {} in the same batch",
                    listing.external_id,
                    label(first)
                ),
            ));
        }
        listings.push(listing);
    }
    Ok(listings)
}

/// The items of an `items` value: an array's elements, or one object as a batch of one.
pub fn items_of(value: Value) -> Vec<Value> {
    match value {
        Value::Array(items) => items,
        other => vec![other],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// What one id costs [`SeenIds`]: a 24-byte slot (and the table's control byte).
    #[test]
    fn a_seen_id_takes_24_bytes() {
        assert_eq!(std::mem::size_of::<(Fingerprint, u32)>(), 24);
        let mut seen = SeenIds::default();
        assert_eq!(seen.insert("a", 0), None);
        assert_eq!(seen.insert("b", 1), None);
        assert_eq!(seen.insert("a", 2), Some(0));
    }

    fn label(i: usize) -> String {
        format!("items[{i}]")
    }

    /// The parallel checks give what the sequential ones give: the same listings, and the
    /// same error for the same item (the first by index, a repeat across threads' runs too).
    #[tokio::test]
    async fn a_part_prepared_on_every_core_settles_as_checked_in_order() {
        let settle = |items: Vec<Value>| async move {
            let mut seen = SeenIds::default();
            PreparedPart::start(items, "id".into())
                .settle(5, &mut seen, &label)
                .await
                .map(|listings| listings.into_iter().map(|l| l.hash).collect::<Vec<_>>())
                .map_err(|e| e.to_string())
        };
        let many: Vec<Value> = (0..2000).map(|i| json!({"id": i, "n": 1.50})).collect();
        let mut seen = SeenIds::default();
        let sequential: Vec<String> = check_items(many.clone(), 5, "id", &mut seen, &label)
            .unwrap()
            .into_iter()
            .map(|l| l.hash)
            .collect();
        assert_eq!(settle(many.clone()).await, Ok(sequential));

        let mut bad = many.clone();
        bad[1900] = json!({"id": 3});
        bad[1950] = json!([1]);
        assert_eq!(
            settle(bad).await,
            Err("invalid items[1905]: repeats id `3` of items[8] in the same batch".into())
        );
        let mut bad = many;
        bad[1500] = json!({"no_id": 1});
        bad[1700] = json!({"id": 1});
        assert_eq!(
            settle(bad).await,
            Err("invalid items[1505]: has no `id` field".into())
        );
    }

    #[test]
    fn a_batch_is_checked_item_by_item() {
        let ok = check_batch(vec![json!({"id": 1}), json!({"id": "b"})], "id", &label).unwrap();
        assert_eq!(ok[0].external_id, "1");
        assert_eq!(ok[1].external_id, "b");

        let err = check_batch(vec![json!({"id": 1}), json!([1])], "id", &label).unwrap_err();
        assert_eq!(err.to_string(), "invalid items[1]: is not a JSON object");
        let err = check_batch(vec![json!({"ref": 1})], "id", &label).unwrap_err();
        assert_eq!(err.to_string(), "invalid items[0]: has no `id` field");
        let err = check_batch(vec![json!({"id": 1}), json!({"id": 1})], "id", &label).unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid items[1]: repeats id `1` of items[0] in the same batch"
        );
        let err = check_batch(vec![json!({"id": {"x": 1}})], "id", &label).unwrap_err();
        assert!(err.to_string().contains("neither a string nor a number"));
        let err = check_batch(vec![json!({"id": 1, "t": "a\u{0}b"})], "id", &label).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("invalid items[0]: contains a NUL character")
        );
    }
}
