//! A batch of listings as a scraper sends it, checked and hashed before anything is written.

use std::collections::HashMap;

use serde_json::Value;

use crate::domain::hashing::content_hash;
use crate::domain::{numbers, validate};
use crate::error::Error;

/// One checked listing.
#[derive(Clone, Debug)]
pub struct Listing {
    /// Its id at the source (the id field's value, as text).
    pub external_id: String,
    /// The listing.
    pub data: Value,
    /// Its content hash.
    pub hash: String,
}

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
#[derive(Debug, Default)]
pub struct SeenIds(HashMap<u128, u32>);

impl SeenIds {
    fn fingerprint(id: &str) -> u128 {
        use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};
        let low = BuildHasherDefault::<DefaultHasher>::default().hash_one(id);
        let high = BuildHasherDefault::<DefaultHasher>::default().hash_one((id, 0x5eed_u32));
        (u128::from(high) << 64) | u128::from(low)
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
pub fn check_batch(
    items: Vec<Value>,
    id_field: &str,
    label: &(dyn Fn(usize) -> String + Sync),
) -> Result<Vec<Listing>, Error> {
    let mut seen = SeenIds::default();
    check_items(items, 0, id_field, &mut seen, label)
}

/// [`check_batch`] for one part of a larger batch: `first_index` is the index of its first
/// item, and `seen` carries the ids of the earlier parts.
pub fn check_items(
    items: Vec<Value>,
    first_index: usize,
    id_field: &str,
    seen: &mut SeenIds,
    label: &(dyn Fn(usize) -> String + Sync),
) -> Result<Vec<Listing>, Error> {
    let mut listings = Vec::with_capacity(items.len());
    for (offset, mut data) in items.into_iter().enumerate() {
        let index = first_index + offset;
        if !data.is_object() {
            return Err(Error::invalid(label(index), "is not a JSON object"));
        }
        let external_id =
            external_id(&data, id_field).map_err(|reason| Error::invalid(label(index), reason))?;
        if validate::has_nul(&data) {
            return Err(Error::invalid(label(index), validate::NUL_REASON));
        }
        // After the id is read: a numeric id keeps the text ids were always read from.
        numbers::store_exactly(&mut data).map_err(|reason| Error::invalid(label(index), reason))?;
        if let Some(first) = seen.insert(&external_id, index) {
            return Err(Error::invalid(
                label(index),
                format!(
                    "repeats id `{external_id}` of {} in the same batch",
                    label(first)
                ),
            ));
        }
        let hash = content_hash(&data);
        listings.push(Listing {
            external_id,
            data,
            hash,
        });
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

    fn label(i: usize) -> String {
        format!("items[{i}]")
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
