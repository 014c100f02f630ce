//! Which input an invalid argument value came from, for `extensions.field`.
//!
//! async-graphql validates arguments with their variables substituted, and says only
//! `Invalid value for argument "input.mode", …` at the argument's position. A client that
//! sent `$mode` (or `$input` holding `mode`) needs to know the variable: [`invalid_value_field`]
//! follows the argument's path through the query's literal to the variable it names,
//! giving `$input.mode`, `$items[3].kind`, or the argument's own path (`input.mode`) when the
//! wrong value is written in the query.

use async_graphql::parser::types::{Directive, ExecutableDocument, Field, Selection, SelectionSet};
use async_graphql::{Pos, Positioned};
use async_graphql_value::Value;

/// The start of async-graphql's message for an argument value of the wrong type.
const INVALID_ARGUMENT: &str = "Invalid value for argument \"";

/// The input an `Invalid value for argument "…"` error at `pos` is about: the variable and the
/// path inside it (`$input.items[3].mode`), or the argument's path (`input.mode`) when the
/// value is a literal of the query. `None` for any other error.
pub fn invalid_value_field(
    document: &ExecutableDocument,
    message: &str,
    pos: Pos,
) -> Option<String> {
    let path = message.strip_prefix(INVALID_ARGUMENT)?.split('"').next()?;
    let mut segments = path.split('.');
    let argument = segments.next()?;
    let value = find_argument(document, argument, pos)?;
    let rest: Vec<&str> = segments.collect();
    let mut value = &value.node;
    let mut field = argument.to_owned();
    for (i, segment) in rest.iter().enumerate() {
        value = match (value, segment.parse::<usize>()) {
            (Value::Variable(name), _) => return Some(format!("${name}{}", suffix(&rest[i..]))),
            (Value::List(items), Ok(index)) => items.get(index)?,
            (Value::Object(fields), _) => fields.get(*segment)?,
            // The value was coerced (one item as a list): the path is the argument's.
            _ => return Some(format!("{field}{}", suffix(&rest[i..]))),
        };
        field.push_str(&suffix(&[segment]));
    }
    match value {
        Value::Variable(name) => Some(format!("${name}")),
        _ => Some(field),
    }
}

/// `.name` for names and `[i]` for indices, as the rest of the API writes paths.
fn suffix(segments: &[&str]) -> String {
    segments
        .iter()
        .map(|s| {
            if s.bytes().all(|b| b.is_ascii_digit()) {
                format!("[{s}]")
            } else {
                format!(".{s}")
            }
        })
        .collect()
}

/// The value of the argument `name` whose name is at `pos`, in any operation or fragment
/// (field and directive arguments).
fn find_argument<'a>(
    document: &'a ExecutableDocument,
    name: &str,
    pos: Pos,
) -> Option<&'a Positioned<Value>> {
    selection_sets(document).find_map(|set| in_selection_set(set, name, pos))
}

/// The top-level selection sets of `document`: each operation's, then each fragment's.
pub(crate) fn selection_sets(document: &ExecutableDocument) -> impl Iterator<Item = &SelectionSet> {
    let operations = document
        .operations
        .iter()
        .map(|(_, op)| &op.node.selection_set);
    let fragments = document.fragments.values().map(|f| &f.node.selection_set);
    operations.chain(fragments).map(|set| &set.node)
}

fn in_selection_set<'a>(
    set: &'a SelectionSet,
    name: &str,
    pos: Pos,
) -> Option<&'a Positioned<Value>> {
    set.items
        .iter()
        .find_map(|selection| match &selection.node {
            Selection::Field(field) => in_field(&field.node, name, pos),
            Selection::FragmentSpread(spread) => in_directives(&spread.node.directives, name, pos),
            Selection::InlineFragment(inline) => in_directives(&inline.node.directives, name, pos)
                .or_else(|| in_selection_set(&inline.node.selection_set.node, name, pos)),
        })
}

fn in_field<'a>(field: &'a Field, name: &str, pos: Pos) -> Option<&'a Positioned<Value>> {
    field
        .arguments
        .iter()
        .find(|(n, _)| n.pos == pos && n.node == name)
        .map(|(_, value)| value)
        .or_else(|| in_directives(&field.directives, name, pos))
        .or_else(|| in_selection_set(&field.selection_set.node, name, pos))
}

fn in_directives<'a>(
    directives: &'a [Positioned<Directive>],
    name: &str,
    pos: Pos,
) -> Option<&'a Positioned<Value>> {
    directives.iter().find_map(|d| {
        d.node
            .arguments
            .iter()
            .find(|(n, _)| n.pos == pos && n.node == name)
            .map(|(_, value)| value)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_graphql::parser::parse_query;

    fn field_of(query: &str, message: &str, line: usize, column: usize) -> Option<String> {
        let document = parse_query(query).unwrap();
        invalid_value_field(&document, message, Pos { line, column })
    }

    #[test]
    fn the_field_names_the_variable_or_the_argument() {
        let query = "query($k: SourceKind, $m: ImportMode) {\n  sources(kind: $k) { totalCount }\n  a: importProperties(input: { sourceId: \"x\", mode: $m, items: [{ kind: $k }] }) { x }\n}";
        let message = |path: &str| format!("Invalid value for argument \"{path}\", no");
        assert_eq!(
            field_of(query, &message("kind"), 2, 11).as_deref(),
            Some("$k")
        );
        assert_eq!(
            field_of(query, &message("input.mode"), 3, 23).as_deref(),
            Some("$m")
        );
        assert_eq!(
            field_of(query, &message("input.items.0.kind"), 3, 23).as_deref(),
            Some("$k")
        );
        assert_eq!(
            field_of(query, &message("input.sourceId"), 3, 23).as_deref(),
            Some("input.sourceId")
        );
        let whole = "query($i: In) { importProperties(input: $i) { x } }";
        assert_eq!(
            field_of(whole, &message("input.items.3.mode"), 1, 34).as_deref(),
            Some("$i.items[3].mode")
        );
        assert_eq!(field_of(whole, "Unknown field", 1, 34), None);
        assert_eq!(field_of(whole, &message("input"), 1, 1), None);
    }
}
