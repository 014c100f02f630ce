//! Field-level differences between two versions of a listing, for history screens
//! ("price 250,000 → 239,000 on 3 May").

use serde_json::Value;

/// One changed value.
#[derive(Clone, Debug, PartialEq)]
pub struct FieldChange {
    /// Dotted path of the value (`price`, `address.city`); arrays are compared whole.
    pub path: String,
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

fn walk(path: &str, before: Option<&Value>, after: Option<&Value>, found: &mut Vec<FieldChange>) {
    match (before, after) {
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
        }
        (old, new) if old != new => found.push(FieldChange {
            path: path.to_owned(),
            before: old.cloned(),
            after: new.cloned(),
        }),
        _ => {}
    }
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
            .map(|c| (c.path, c.before, c.after))
            .collect();
        assert_eq!(
            paths,
            vec![
                (
                    "address.zip".into(),
                    Some(json!("69001")),
                    Some(json!("69002"))
                ),
                ("new".into(), None, Some(json!("x"))),
                ("old".into(), Some(json!(true)), None),
                ("price".into(), Some(json!(250000)), Some(json!(239000))),
                ("tags".into(), Some(json!([1])), Some(json!([1, 2]))),
            ]
        );
        assert!(changes(&before, &before).is_empty());
    }
}
