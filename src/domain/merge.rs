//! Field-level three-way merge of a hand-edited target listing with its changed source.
//!
//! Three versions are compared field by field: the **base** (the source's version at the last
//! sync or resolution), the **source** as it is now, and the **target** as the person left it.
//! Objects are walked key by key and give dotted paths (`address.city`); arrays and scalars are
//! leaf values, compared whole. Values are compared in canonical form (see [`diff::same`]):
//! `1.0` and `1`, or two objects with their keys in another order, are the same value. An
//! absent field and a `null` are different values, so removing a field is a change.
//!
//! Each field that differs somewhere gets a [`FieldStatus`]: changed at the source only, by the
//! person only, on both sides alike, or on both sides differently. When the base is gone
//! (retention deleted it), nothing says which side changed a field, so every field where
//! source and target differ is [`FieldStatus::BothDifferent`].
//!
//! [`merge`] builds the merged listing: the target, with the source's value for fields only
//! the source changed, and the caller's [`Choice`] for fields changed on both sides differently.
//! The module also keeps a listing's *edited paths*: the fields a person edited by hand.

use std::collections::{BTreeSet, HashMap};

use serde_json::{Map, Value};

use crate::domain::{diff, validate};
use crate::error::Error;
use crate::store::numbers;

/// How a field differs between the base, the source and the target of a merge.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FieldStatus {
    /// Only the source changed it since the base: a merge takes the source's value.
    SourceOnly,
    /// Only the person changed it on the target: a merge keeps the person's value.
    TargetOnly,
    /// Both changed it to the same value: a merge keeps it.
    BothSame,
    /// Both changed it, to different values (or the base is gone and they differ): a merge
    /// needs a choice.
    BothDifferent,
}

/// One field that differs between the base, the source and the target.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct FieldDiff {
    /// Dotted path (`price`, `address.city`).
    pub(crate) path: String,
    /// The keys of the path, one per level.
    segments: Vec<String>,
    /// The value in the base (`None`: absent, or the base is gone).
    pub(crate) base: Option<Value>,
    /// The value at the source (`None`: absent).
    pub(crate) source: Option<Value>,
    /// The value on the target (`None`: absent).
    pub(crate) target: Option<Value>,
    /// Which side changed it.
    pub(crate) status: FieldStatus,
}

/// The fields that differ between `base` (`None`: gone), `source` and `target`, in path order.
pub(crate) fn three_way(base: Option<&Value>, source: &Value, target: &Value) -> Vec<FieldDiff> {
    let mut found = Vec::new();
    let base = match base {
        Some(value) => Base::Known(Some(value)),
        None => Base::Gone,
    };
    walk(
        &mut Vec::new(),
        base,
        Some(source),
        Some(target),
        &mut found,
    );
    found.sort_by(|a, b| a.path.cmp(&b.path));
    found
}

/// The base of a merge at one path.
#[derive(Clone, Copy)]
enum Base<'a> {
    /// Known: the value there (`None`: absent).
    Known(Option<&'a Value>),
    /// Retention deleted it.
    Gone,
}

fn equal(a: Option<&Value>, b: Option<&Value>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => diff::same(a, b),
        _ => false,
    }
}

fn walk(
    segments: &mut Vec<String>,
    base: Base<'_>,
    source: Option<&Value>,
    target: Option<&Value>,
    found: &mut Vec<FieldDiff>,
) {
    // Objects present on every side are compared key by key; anything else is one value.
    if let (Some(Value::Object(source)), Some(Value::Object(target))) = (source, target) {
        let base = match base {
            Base::Known(Some(Value::Object(base))) => Some(Some(base)),
            Base::Gone => Some(None),
            Base::Known(_) => None,
        };
        if let Some(base) = base {
            let mut keys: BTreeSet<&String> = source.keys().chain(target.keys()).collect();
            keys.extend(base.into_iter().flat_map(Map::keys));
            for key in keys {
                segments.push(key.clone());
                let base_value = match base {
                    Some(base) => Base::Known(base.get(key)),
                    None => Base::Gone,
                };
                walk(
                    segments,
                    base_value,
                    source.get(key),
                    target.get(key),
                    found,
                );
                segments.pop();
            }
            return;
        }
    }
    let (status, base) = match base {
        Base::Known(base) => {
            let by_source = !equal(base, source);
            let by_target = !equal(base, target);
            let status = match (by_source, by_target) {
                (false, false) => return,
                (true, false) => FieldStatus::SourceOnly,
                (false, true) => FieldStatus::TargetOnly,
                (true, true) if equal(source, target) => FieldStatus::BothSame,
                (true, true) => FieldStatus::BothDifferent,
            };
            (status, base)
        }
        Base::Gone if equal(source, target) => return,
        Base::Gone => (FieldStatus::BothDifferent, None),
    };
    found.push(FieldDiff {
        path: segments.join("."),
        segments: segments.clone(),
        base: base.cloned(),
        source: source.cloned(),
        target: target.cloned(),
        status,
    });
}

/// What to take for a field changed on both sides differently.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Take {
    /// The source's value (absent if the source removed the field).
    Source,
    /// The person's value on the target (absent if the person removed the field).
    Target,
    /// This value.
    Value(Value),
}

/// A choice for one field of a merge.
#[derive(Clone, Debug, PartialEq)]
pub struct Choice {
    /// Dotted path of the field, as [`FieldDiff::path`] names it.
    pub(crate) path: String,
    /// What to take.
    pub(crate) take: Take,
}

/// What a [`Choice`] takes, as a caller names it (the value is checked by [`Choice::new`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TakeKind {
    /// The source's value (the field is removed if the source removed it).
    Source,
    /// The person's value on the target (the field stays removed if the person removed it).
    Target,
    /// The choice's `value`.
    Value,
}

impl Choice {
    /// A checked choice; `field` names it in errors (`input.choices[0]`). `value` is required
    /// with [`TakeKind::Value`] (JSON `null` sets the field to `null`) and refused otherwise;
    /// it is checked as imported JSON is (no NUL character, numbers in range).
    pub fn new(
        field: &str,
        path: String,
        take: TakeKind,
        value: Option<Value>,
    ) -> Result<Self, Error> {
        let take = match (take, value) {
            (TakeKind::Value, Some(mut value)) => {
                if validate::has_nul(&value) {
                    return Err(Error::invalid(
                        format!("{field}.value"),
                        validate::NUL_REASON,
                    ));
                }
                numbers::store_exactly(&mut value)
                    .map_err(|reason| Error::invalid(format!("{field}.value"), reason))?;
                Take::Value(value)
            }
            (TakeKind::Value, None) => {
                return Err(Error::invalid(
                    format!("{field}.value"),
                    format!("is required with `take: VALUE` (for `{path}`)"),
                ));
            }
            (_, Some(_)) => {
                return Err(Error::invalid(
                    format!("{field}.value"),
                    format!("is only accepted with `take: VALUE` (for `{path}`)"),
                ));
            }
            (TakeKind::Source, None) => Take::Source,
            (TakeKind::Target, None) => Take::Target,
        };
        Ok(Self { path, take })
    }
}

/// The paths of the fields changed on both sides differently: those a merge needs a choice for.
pub(crate) fn unresolved(fields: &[FieldDiff]) -> Vec<&str> {
    fields
        .iter()
        .filter(|f| f.status == FieldStatus::BothDifferent)
        .map(|f| f.path.as_str())
        .collect()
}

/// The target merged with the source: `target` with the source's value for every
/// [`FieldStatus::SourceOnly`] field and the choice for every [`FieldStatus::BothDifferent`]
/// one. `fields` are [`three_way`]'s for this target. Every such field needs exactly one choice,
/// and a choice for any other path is refused; errors name `input.choices` (or the choice).
pub(crate) fn merge(
    target: &Value,
    fields: &[FieldDiff],
    choices: &[Choice],
) -> Result<Value, Error> {
    let by_path: HashMap<&str, &FieldDiff> = fields.iter().map(|f| (f.path.as_str(), f)).collect();
    let mut chosen: HashMap<&str, &Take> = HashMap::new();
    for (index, choice) in choices.iter().enumerate() {
        let field = format!("input.choices[{index}].path");
        let path = choice.path.as_str();
        match by_path.get(path).map(|f| f.status) {
            None => {
                return Err(Error::invalid(
                    field,
                    format!(
                        "`{path}` is not a field that differs between the base, the source and the target; see `Conflict.fields`"
                    ),
                ));
            }
            Some(FieldStatus::BothDifferent) => {}
            Some(status) => {
                return Err(Error::invalid(
                    field,
                    format!(
                        "`{path}` is {}: it merges without a choice; only BOTH_DIFFERENT fields take one",
                        status_name(status)
                    ),
                ));
            }
        }
        if chosen.insert(path, &choice.take).is_some() {
            return Err(Error::invalid(
                field,
                format!("`{path}` has a choice already"),
            ));
        }
    }
    let missing: Vec<String> = unresolved(fields)
        .into_iter()
        .filter(|path| !chosen.contains_key(path))
        .map(|path| format!("`{path}`"))
        .collect();
    if !missing.is_empty() {
        return Err(Error::invalid(
            "input.choices",
            format!(
                "no choice for {}: changed on both sides differently; choose SOURCE, TARGET or VALUE for each",
                missing.join(", ")
            ),
        ));
    }
    let mut merged = target.clone();
    for field in fields {
        let value = match (field.status, chosen.get(field.path.as_str())) {
            (FieldStatus::SourceOnly, _) | (FieldStatus::BothDifferent, Some(Take::Source)) => {
                field.source.clone()
            }
            (FieldStatus::BothDifferent, Some(Take::Value(value))) => Some(value.clone()),
            _ => continue,
        };
        set(&mut merged, &field.segments, value);
    }
    Ok(merged)
}

/// The schema name of a status, for messages.
fn status_name(status: FieldStatus) -> &'static str {
    match status {
        FieldStatus::SourceOnly => "SOURCE_ONLY",
        FieldStatus::TargetOnly => "TARGET_ONLY",
        FieldStatus::BothSame => "BOTH_SAME",
        FieldStatus::BothDifferent => "BOTH_DIFFERENT",
    }
}

/// Sets (`Some`) or removes (`None`) the value at `segments`. The parent objects exist: a
/// field of [`three_way`] lies under objects present on the target.
fn set(value: &mut Value, segments: &[String], new: Option<Value>) {
    let Some((last, parents)) = segments.split_last() else {
        return;
    };
    let mut current = value;
    for segment in parents {
        match current.get_mut(segment) {
            Some(next) => current = next,
            None => return,
        }
    }
    if let Value::Object(map) = current {
        match new {
            Some(new) => {
                map.insert(last.clone(), new);
            }
            None => {
                map.remove(last);
            }
        }
    }
}

/// The paths a JSON Merge Patch touches when applied to `current`: each key it sets or removes
/// (`null`), nested objects giving nested paths (`address.city`) where they merge into an
/// object; an array, or an object that replaces a non-object, is one path.
pub(crate) fn patched_paths(patch: &Value, current: &Value) -> Vec<String> {
    fn walk(
        prefix: &str,
        patch: &Map<String, Value>,
        current: Option<&Value>,
        out: &mut Vec<String>,
    ) {
        for (key, value) in patch {
            let path = if prefix.is_empty() {
                key.clone()
            } else {
                format!("{prefix}.{key}")
            };
            let here = current.and_then(|c| c.get(key));
            match (value, here) {
                (Value::Object(nested), Some(Value::Object(_))) => {
                    walk(&path, nested, here, out);
                }
                _ => out.push(path),
            }
        }
    }
    let mut out = Vec::new();
    if let Value::Object(patch) = patch {
        walk("", patch, Some(current), &mut out);
    }
    out
}

/// The paths where `result` differs from `source`: after a resolution or a merge, the fields
/// that hold the person's values.
pub(crate) fn paths_differing(source: &Value, result: &Value) -> Vec<String> {
    diff::changes(source, result)
        .into_iter()
        .map(|change| change.path)
        .collect()
}

/// The edited paths stored on a listing (`edited_paths`, a JSON array of strings).
pub(crate) fn stored_paths(stored: &Value) -> Vec<String> {
    stored
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p.as_str().map(str::to_owned))
        .collect()
}

/// Paths as stored: sorted, each once.
pub(crate) fn paths_value(paths: impl IntoIterator<Item = String>) -> Value {
    let paths: BTreeSet<String> = paths.into_iter().collect();
    Value::Array(paths.into_iter().map(Value::String).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn statuses(fields: &[FieldDiff]) -> Vec<(&str, FieldStatus)> {
        fields.iter().map(|f| (f.path.as_str(), f.status)).collect()
    }

    #[test]
    fn every_status_on_nested_paths_arrays_and_removals() {
        let base = json!({ "id": 1, "title": "Flat", "price": 100, "address": { "city": "Lyon", "zip": "69001" }, "tags": ["a"], "note": "x", "rooms": 3 });
        let source = json!({ "id": 1, "title": "Flat", "price": 110, "address": { "city": "Lyon", "zip": "69002" }, "tags": ["a", "b"], "rooms": 4 });
        let target = json!({ "id": 1, "title": "Nice flat", "price": 100, "address": { "city": "Paris", "zip": "69002" }, "tags": ["a", "c"], "rooms": 4, "note": "x" });
        let fields = three_way(Some(&base), &source, &target);
        assert_eq!(
            statuses(&fields),
            vec![
                ("address.city", FieldStatus::TargetOnly),
                ("address.zip", FieldStatus::BothSame),
                ("note", FieldStatus::SourceOnly),
                ("price", FieldStatus::SourceOnly),
                ("rooms", FieldStatus::BothSame),
                ("tags", FieldStatus::BothDifferent),
                ("title", FieldStatus::TargetOnly),
            ]
        );
        let note = &fields[2];
        assert_eq!(
            (&note.base, &note.source, &note.target),
            (&Some(json!("x")), &None, &Some(json!("x")))
        );
        assert_eq!(
            merge(&target, &fields, &[]).unwrap_err().to_string(),
            "invalid input.choices: no choice for `tags`: changed on both sides differently; choose SOURCE, TARGET or VALUE for each"
        );
        let merged = merge(
            &target,
            &fields,
            &[Choice {
                path: "tags".into(),
                take: Take::Value(json!(["a", "b", "c"])),
            }],
        )
        .unwrap();
        assert_eq!(
            merged,
            json!({ "id": 1, "title": "Nice flat", "price": 110, "address": { "city": "Paris", "zip": "69002" }, "tags": ["a", "b", "c"], "rooms": 4 })
        );
        assert_eq!(
            paths_differing(&source, &merged),
            vec!["address.city", "tags", "title"]
        );
    }

    #[test]
    fn canonical_values_are_equal_and_null_is_not_absent() {
        let base = json!({ "price": 1.0, "geo": { "lat": 1, "lng": 2 }, "gone": null });
        let source = json!({ "price": 1, "geo": { "lng": 2.0, "lat": 1 }, "gone": null });
        let target = json!({ "price": 1.00, "geo": { "lat": 1.0, "lng": 2 } });
        let fields = three_way(Some(&base), &source, &target);
        assert_eq!(statuses(&fields), vec![("gone", FieldStatus::TargetOnly)]);
        assert_eq!(fields[0].target, None);
        assert_eq!(fields[0].source, Some(Value::Null));
    }

    #[test]
    fn without_a_base_every_difference_needs_a_choice() {
        let source = json!({ "price": 2, "title": "a" });
        let target = json!({ "price": 1, "title": "a" });
        let fields = three_way(None, &source, &target);
        assert_eq!(
            statuses(&fields),
            vec![("price", FieldStatus::BothDifferent)]
        );
        let merged = merge(
            &target,
            &fields,
            &[Choice {
                path: "price".into(),
                take: Take::Source,
            }],
        )
        .unwrap();
        assert_eq!(merged, source);
    }

    #[test]
    fn choices_are_only_for_fields_changed_on_both_sides() {
        let base = json!({ "a": 1, "b": 1 });
        let source = json!({ "a": 2, "b": 2 });
        let target = json!({ "a": 1, "b": 3 });
        let fields = three_way(Some(&base), &source, &target);
        let choose = |path: &str| Choice {
            path: path.into(),
            take: Take::Target,
        };
        let err = merge(&target, &fields, &[choose("b"), choose("a")]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid input.choices[1].path: `a` is SOURCE_ONLY: it merges without a choice; only BOTH_DIFFERENT fields take one"
        );
        let err = merge(&target, &fields, &[choose("zz")]).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("invalid input.choices[0].path: `zz` is not a field")
        );
        let err = merge(&target, &fields, &[choose("b"), choose("b")]).unwrap_err();
        assert!(err.to_string().contains("`b` has a choice already"));
        assert_eq!(
            merge(&target, &fields, &[choose("b")]).unwrap(),
            json!({ "a": 2, "b": 3 })
        );
        // Taking a removal removes the field.
        let source = json!({ "a": 2 });
        let fields = three_way(Some(&base), &source, &target);
        let taken = Choice {
            path: "b".into(),
            take: Take::Source,
        };
        assert_eq!(
            merge(&target, &fields, &[taken]).unwrap(),
            json!({ "a": 2 })
        );
    }

    #[test]
    fn a_patch_touches_leaf_paths() {
        let current = json!({ "address": { "city": "Lyon" }, "price": 1, "tags": [1] });
        let patch = json!({ "address": { "city": "Paris", "geo": { "lat": 1 } }, "price": null, "tags": [2], "kind": { "a": 1 } });
        let mut paths = patched_paths(&patch, &current);
        paths.sort();
        assert_eq!(
            paths,
            vec!["address.city", "address.geo", "kind", "price", "tags"]
        );
        assert_eq!(
            paths_value(vec!["b".to_owned(), "a".to_owned(), "b".to_owned()]),
            json!(["a", "b"])
        );
        assert_eq!(stored_paths(&json!(["a", "b"])), vec!["a", "b"]);
    }

    #[test]
    fn a_choice_checks_its_value() {
        assert!(Choice::new("c", "a".into(), TakeKind::Value, None).is_err());
        assert!(Choice::new("c", "a".into(), TakeKind::Source, Some(json!(1))).is_err());
        let err = Choice::new("c", "a".into(), TakeKind::Value, Some(json!("x\u{0}"))).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("invalid c.value: contains a NUL")
        );
        assert_eq!(
            Choice::new("c", "a".into(), TakeKind::Value, Some(Value::Null))
                .unwrap()
                .take,
            Take::Value(Value::Null)
        );
    }
}
