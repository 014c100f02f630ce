//! Text the database can store, checked once at the edge.
//!
//! PostgreSQL stores a NUL character (`\u0000`) in neither `text` nor `jsonb`; a value holding
//! one used to reach the database and come back as `INTERNAL`. Every string a request brings
//! (argument literals, keys of object literals, variables, whatever their type: names, JSON
//! configs, patches, filter values, ids, cursors) is checked before execution, and one with a
//! NUL is a request error with `BAD_USER_INPUT` naming where it is (`input.config.x`,
//! `$items[3].title`). The domain checks names and configs too, for the CLI.
//!
//! A literal nested deeper than [`MAX_LITERAL_DEPTH`] lists and objects is refused the same
//! way: stored as JSON (a config, a listing), it could not be read back, since reading JSON
//! stops at 128 levels. Variables need no check: the request body is read with that limit.

use async_graphql::parser::types::{OperationDefinition, Selection, SelectionSet};
use async_graphql::{ErrorExtensionValues, Pos, ServerError, Variables};
use async_graphql_value::{ConstValue, Value};

use crate::domain::validate::NUL_REASON;
use crate::error::code;

/// Deepest nesting of lists and objects a literal may have.
pub const MAX_LITERAL_DEPTH: usize = 100;

/// Refuses a request with a NUL character in any of its values, or a literal nested deeper
/// than [`MAX_LITERAL_DEPTH`].
pub fn refuse_nul<'a>(
    operation: &OperationDefinition,
    fragments: impl Iterator<Item = &'a SelectionSet>,
    variables: &Variables,
) -> Result<(), ServerError> {
    for (name, value) in variables.iter() {
        // A cheap scan first: an import's variables may hold megabytes of listings.
        if has_nul(value)
            && let Some(path) = nul_in_const(value, format!("${name}"))
        {
            return Err(refusal(&path, None));
        }
    }
    in_set(&operation.selection_set.node)?;
    for set in fragments {
        in_set(set)?;
    }
    Ok(())
}

fn in_set(set: &SelectionSet) -> Result<(), ServerError> {
    for selection in &set.items {
        match &selection.node {
            Selection::Field(field) => {
                for (name, value) in &field.node.arguments {
                    if let Some(path) = nul_in_literal(&value.node, name.node.to_string()) {
                        return Err(refusal(&path, Some(value.pos)));
                    }
                    if depth(&value.node) > MAX_LITERAL_DEPTH {
                        return Err(bad_input(
                            format!(
                                "invalid {}: nested deeper than {MAX_LITERAL_DEPTH} levels of \
                                 lists and objects",
                                name.node
                            ),
                            name.node.as_str(),
                            Some(value.pos),
                        ));
                    }
                }
                in_set(&field.node.selection_set.node)?;
            }
            Selection::InlineFragment(fragment) => in_set(&fragment.node.selection_set.node)?,
            Selection::FragmentSpread(_) => {}
        }
    }
    Ok(())
}

fn refusal(path: &str, pos: Option<Pos>) -> ServerError {
    bad_input(format!("invalid {path}: {NUL_REASON}"), path, pos)
}

fn bad_input(message: String, path: &str, pos: Option<Pos>) -> ServerError {
    let mut error = ServerError::new(message, pos);
    let mut extensions = ErrorExtensionValues::default();
    extensions.set("code", code::BAD_USER_INPUT);
    extensions.set("field", path);
    error.extensions = Some(extensions);
    error
}

/// How deeply lists and objects nest in a literal (a scalar is 0).
fn depth(value: &Value) -> usize {
    match value {
        Value::List(items) => 1 + items.iter().map(depth).max().unwrap_or(0),
        Value::Object(fields) => 1 + fields.values().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

/// The path of the first NUL in a literal, if any.
fn nul_in_literal(value: &Value, path: String) -> Option<String> {
    match value {
        Value::String(text) => text.contains('\0').then_some(path),
        Value::List(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, item)| nul_in_literal(item, format!("{path}[{i}]"))),
        Value::Object(fields) => fields.iter().find_map(|(key, field)| {
            let at = format!("{path}.{key}");
            if key.contains('\0') {
                Some(at)
            } else {
                nul_in_literal(field, at)
            }
        }),
        _ => None,
    }
}

/// Whether a variable's value holds a NUL anywhere, without building paths.
fn has_nul(value: &ConstValue) -> bool {
    match value {
        ConstValue::String(text) => text.contains('\0'),
        ConstValue::List(items) => items.iter().any(has_nul),
        ConstValue::Object(fields) => fields
            .iter()
            .any(|(key, field)| key.contains('\0') || has_nul(field)),
        _ => false,
    }
}

/// The path of the first NUL in a variable's value, if any.
fn nul_in_const(value: &ConstValue, path: String) -> Option<String> {
    match value {
        ConstValue::String(text) => text.contains('\0').then_some(path),
        ConstValue::List(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, item)| nul_in_const(item, format!("{path}[{i}]"))),
        ConstValue::Object(fields) => fields.iter().find_map(|(key, field)| {
            let at = format!("{path}.{key}");
            if key.contains('\0') {
                Some(at)
            } else {
                nul_in_const(field, at)
            }
        }),
        _ => None,
    }
}
