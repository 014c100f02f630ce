//! Field-level differences between two versions of a listing, for history screens
//! ("price 250,000 → 239,000 on 3 May").
//!
//! Values are compared in their canonical form, the one the content hash is computed over
//! (RFC 8785, with integers beyond a double kept exact): `1.0` and `1` are the same value, as
//! they are the same content, and `1500000000000000001` and `…002` are not. A field that is absent
//! and a field that is `null` are different: going from one to the other is a change, and
//! [`ChangeKind`] says which.

use serde_json::Value;

use crate::hashing::canonical_json;

/// How a field changed between two versions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChangeKind {
    /// The field was absent before (`before` is null), and is present now (possibly `null`).
    Added,
    /// The field was present before (possibly `null`), and is absent now (`after` is null).
    Removed,
    /// The field is present in both versions with different values.
    Changed,
}

/// One changed value.
#[derive(Clone, Debug, PartialEq)]
pub struct FieldChange {
    /// Dotted path of the value (`price`, `address.city`); arrays are compared whole.
    pub path: String,
    /// Added, removed or changed.
    pub kind: ChangeKind,
    /// The value before (`None`: absent).
    pub before: Option<Value>,
    /// The value after (`None`: absent).
    pub after: Option<Value>,
}

/// The changes from `before` to `after`, in path order.
pub fn changes(before: &Value, after: &Value) -> Vec<FieldChange> {
    let mut found = Vec::new();
    walk("", Some(before), Some(after), &mut found);
    found.sort_by(|a, b| a.path.cmp(&b.path));
    found
}

/// Whether two values are the same content: equal, or equal in canonical form (numbers
/// spelled differently, such as `1.0` and `1`).
pub fn same(a: &Value, b: &Value) -> bool {
    if a == b {
        return true;
    }
    canonical_json(a) == canonical_json(b)
}

fn walk(path: &str, before: Option<&Value>, after: Option<&Value>, found: &mut Vec<FieldChange>) {
    let kind = match (before, after) {
        (Some(Value::Object(old)), Some(Value::Object(new))) => {
            for key in old
                .keys()
                .chain(new.keys().filter(|k| !old.contains_key(*k)))
            {
                let child = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                walk(&child, old.get(key), new.get(key), found);
            }
            return;
        }
        (None, None) => return,
        (None, Some(_)) => ChangeKind::Added,
        (Some(_), None) => ChangeKind::Removed,
        (Some(old), Some(new)) if same(old, new) => return,
        (Some(_), Some(_)) => ChangeKind::Changed,
    };
    found.push(FieldChange {
        path: path.to_owned(),
        kind,
        before: before.cloned(),
        after: after.cloned(),
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn nested_values_are_compared_by_path() {
        let before = json!({ "price": 250000, "address": { "city": "Lyon", "zip": "69001" }, "tags": [1], "old": true });
        let after = json!({ "price": 239000, "address": { "city": "Lyon", "zip": "69002" }, "tags": [1, 2], "new": "x" });
        let paths: Vec<_> = changes(&before, &after)
            .into_iter()
            .map(|c| (c.path, c.kind, c.before, c.after))
            .collect();
        assert_eq!(
            paths,
            vec![
                (
                    "address.zip".into(),
                    ChangeKind::Changed,
                    Some(json!("69001")),
                    Some(json!("69002"))
                ),
                ("new".into(), ChangeKind::Added, None, Some(json!("x"))),
                ("old".into(), ChangeKind::Removed, Some(json!(true)), None),
                (
                    "price".into(),
                    ChangeKind::Changed,
                    Some(json!(250000)),
                    Some(json!(239000))
                ),
                (
                    "tags".into(),
                    ChangeKind::Changed,
                    Some(json!([1])),
                    Some(json!([1, 2]))
                ),
            ]
        );
        assert!(changes(&before, &before).is_empty());
    }

    #[test]
    fn values_are_compared_in_canonical_form_and_absent_is_not_null() {
        let before = json!({ "price": 1.0, "rooms": [2.0, { "m2": 10.50 }], "gone": null });
        let after = json!({ "price": 1, "rooms": [2, { "m2": 10.5 }], "note": null });
        let found = changes(&before, &after);
        assert_eq!(
            found,
            vec![
                FieldChange {
                    path: "gone".into(),
                    kind: ChangeKind::Removed,
                    before: Some(Value::Null),
                    after: None,
                },
                FieldChange {
                    path: "note".into(),
                    kind: ChangeKind::Added,
                    before: None,
                    after: Some(Value::Null),
                },
            ]
        );
    }

    #[test]
    fn integers_beyond_a_double_are_compared_exactly() {
        let before: Value =
            serde_json::from_str(r#"{"a":1500000000000000001,"b":18446744073709551616}"#).unwrap();
        let after: Value =
            serde_json::from_str(r#"{"a":1500000000000000002,"b":1.8446744073709551616e19}"#)
                .unwrap();
        let found = changes(&before, &after);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].path, "a");
        assert_eq!(found[0].kind, ChangeKind::Changed);
        assert_eq!(
            found[0].after.as_ref().unwrap().to_string(),
            "1500000000000000002"
        );
    }
}
