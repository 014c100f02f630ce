//! Finding the operation a request runs, and the variables its `@skip`/`@include` read.

use std::collections::{HashMap, HashSet};

use async_graphql::parser::types::{
    Directive, ExecutableDocument, OperationDefinition, Selection, SelectionSet,
};
use async_graphql::{Name, Value, Variables};

/// The operation a request runs: the one named, or the only one.
pub fn operation<'d>(
    document: &'d ExecutableDocument,
    operation_name: Option<&str>,
) -> Option<&'d OperationDefinition> {
    named_operation(document, operation_name).map(|(_, operation)| operation)
}

/// The operation a request runs, with its name (the one asked for, or the only operation's
/// own name); `None` when the name matches nothing or several operations leave it open.
pub fn named_operation<'d>(
    document: &'d ExecutableDocument,
    operation_name: Option<&str>,
) -> Option<(Option<&'d str>, &'d OperationDefinition)> {
    use async_graphql::parser::types::DocumentOperations;
    match (&document.operations, operation_name) {
        (DocumentOperations::Single(operation), _) => Some((None, &operation.node)),
        (DocumentOperations::Multiple(operations), Some(name)) => operations
            .get_key_value(name)
            .map(|(name, op)| (Some(name.as_str()), &op.node)),
        (DocumentOperations::Multiple(operations), None) if operations.len() == 1 => operations
            .iter()
            .next()
            .map(|(name, op)| (Some(name.as_str()), &op.node)),
        (DocumentOperations::Multiple(_), None) => None,
    }
}

/// The values of the variables that `@skip`/`@include` read (and only those: an import's
/// variables may be megabytes), taken before the request is handed to execution.
pub fn directive_variables(
    document: &ExecutableDocument,
    operation: &OperationDefinition,
    variables: &Variables,
) -> HashMap<Name, Value> {
    let mut names = HashSet::new();
    let mut sets: Vec<&SelectionSet> = vec![&operation.selection_set.node];
    sets.extend(
        document
            .fragments
            .values()
            .map(|f| &f.node.selection_set.node),
    );
    while let Some(set) = sets.pop() {
        for selection in &set.items {
            let (directives, child) = match &selection.node {
                Selection::Field(field) => (&field.node.directives, &field.node.selection_set.node),
                Selection::InlineFragment(fragment) => {
                    (&fragment.node.directives, &fragment.node.selection_set.node)
                }
                Selection::FragmentSpread(spread) => {
                    names.extend(condition_variables(&spread.node.directives));
                    continue;
                }
            };
            names.extend(condition_variables(directives));
            sets.push(child);
        }
    }
    names
        .into_iter()
        .filter_map(|name| {
            let value = variables.get(&name).cloned().or_else(|| {
                operation
                    .variable_definitions
                    .iter()
                    .find(|d| d.node.name.node == name)
                    .and_then(|d| d.node.default_value.as_ref())
                    .map(|v| v.node.clone())
            })?;
            Some((name, value))
        })
        .collect()
}

/// The variables the arguments of `directives` name.
fn condition_variables(
    directives: &[async_graphql::Positioned<Directive>],
) -> impl Iterator<Item = Name> + '_ {
    directives.iter().flat_map(|d| {
        d.node
            .arguments
            .iter()
            .filter_map(|(_, value)| match &value.node {
                async_graphql_value::Value::Variable(name) => Some(name.clone()),
                _ => None,
            })
    })
}
