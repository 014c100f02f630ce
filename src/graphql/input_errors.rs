//! Arguments that do not parse are the client's mistake, and say which argument.
//!
//! When a value passes validation but its type refuses it at execution (a `DateTime` variable
//! holding `"yesterday"`, an input object's field out of range), async-graphql raises a field
//! error without a code, which would read as `INTERNAL`. [`name_argument_errors`] gives each
//! such error `BAD_USER_INPUT` and `extensions.field`: the argument whose value sits at the
//! error's location.

use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};
use async_graphql::{Pos, Response};

use crate::error::code;
use crate::graphql::invalid_input::selection_sets;

/// The beginnings of async-graphql's messages for an argument its type refused.
const PARSE_FAILURES: [&str; 3] = [
    "Failed to parse \"",
    "Invalid value for argument",
    "Expected input type",
];

/// Marks `response`'s argument-parsing errors as `BAD_USER_INPUT` naming the argument.
pub fn name_argument_errors(response: &mut Response, document: &ExecutableDocument) {
    for error in &mut response.errors {
        let coded = error
            .extensions
            .as_ref()
            .is_some_and(|extensions| extensions.get("code").is_some());
        if coded || !PARSE_FAILURES.iter().any(|p| error.message.starts_with(p)) {
            continue;
        }
        let argument = error
            .locations
            .first()
            .and_then(|pos| argument_at(document, *pos));
        let extensions = error.extensions.get_or_insert_with(Default::default);
        extensions.set("code", code::BAD_USER_INPUT);
        if let Some(argument) = argument {
            extensions.set("field", argument);
        }
    }
}

/// The name of the argument whose value starts at `pos`.
fn argument_at(document: &ExecutableDocument, pos: Pos) -> Option<String> {
    selection_sets(document).find_map(|set| argument_in(set, pos))
}

fn argument_in(set: &SelectionSet, pos: Pos) -> Option<String> {
    set.items
        .iter()
        .find_map(|selection| match &selection.node {
            Selection::Field(field) => field
                .node
                .arguments
                .iter()
                .find(|(_, value)| value.pos == pos)
                .map(|(name, _)| name.node.to_string())
                .or_else(|| argument_in(&field.node.selection_set.node, pos)),
            Selection::InlineFragment(fragment) => {
                argument_in(&fragment.node.selection_set.node, pos)
            }
            Selection::FragmentSpread(_) => None,
        })
}
