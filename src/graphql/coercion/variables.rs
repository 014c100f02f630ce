//! Finding the variables and fragments a document uses, and removing the values taken from
//! variables the request left out.

use std::collections::HashSet;

use async_graphql::Name;
use async_graphql::parser::types::{
    DocumentOperations, ExecutableDocument, OperationDefinition, Selection, SelectionSet,
};
use async_graphql_value::Value;

/// The fragments `set` spreads, directly or through other fragments.
pub(super) fn reachable_fragments<'a>(
    document: &'a ExecutableDocument,
    set: &'a SelectionSet,
) -> HashSet<&'a Name> {
    let mut reachable = HashSet::new();
    let mut sets = vec![set];
    while let Some(set) = sets.pop() {
        for selection in &set.items {
            match &selection.node {
                Selection::Field(field) => sets.push(&field.node.selection_set.node),
                Selection::InlineFragment(fragment) => sets.push(&fragment.node.selection_set.node),
                Selection::FragmentSpread(spread) => {
                    let name = &spread.node.fragment_name.node;
                    if let Some((name, fragment)) = document.fragments.get_key_value(name)
                        && reachable.insert(name)
                    {
                        sets.push(&fragment.node.selection_set.node);
                    }
                }
            }
        }
    }
    reachable
}

/// Removes the arguments and input fields whose value is one of the `omitted` variables (left
/// out by the request, without a default) from the operation `operation_name` names (or the
/// only one) and from the fragments, so the field's own default applies; then undeclares the
/// omitted variables nothing uses any more.
pub(super) fn drop_omitted(
    document: &mut ExecutableDocument,
    operation_name: Option<&str>,
    omitted: &HashSet<Name>,
) {
    let used_before = used_variables(document);
    match &mut document.operations {
        DocumentOperations::Single(op) => {
            drop_omitted_in_set(&mut op.node.selection_set.node, omitted)
        }
        DocumentOperations::Multiple(operations) => {
            if let Some(op) = operation_name.and_then(|name| operations.get_mut(name)) {
                drop_omitted_in_set(&mut op.node.selection_set.node, omitted);
            } else if operations.len() == 1
                && let Some(op) = operations.values_mut().next()
            {
                drop_omitted_in_set(&mut op.node.selection_set.node, omitted);
            }
        }
    }
    for fragment in document.fragments.values_mut() {
        drop_omitted_in_set(&mut fragment.node.selection_set.node, omitted);
    }
    // A variable whose every use went is no longer declared either (it had no value and no
    // default, so nothing changes), or validation would call it unused. One the document
    // never used stays, for validation to report.
    let used_after = used_variables(document);
    let undeclare = |op: &mut OperationDefinition| {
        op.variable_definitions.retain(|d| {
            let name = &d.node.name.node;
            !omitted.contains(name) || !used_before.contains(name) || used_after.contains(name)
        });
    };
    match &mut document.operations {
        DocumentOperations::Single(op) => undeclare(&mut op.node),
        DocumentOperations::Multiple(operations) => {
            operations
                .values_mut()
                .for_each(|op| undeclare(&mut op.node));
        }
    }
}

/// Every variable the operations and fragments of `document` use.
fn used_variables(document: &ExecutableDocument) -> HashSet<Name> {
    let mut used = HashSet::new();
    for (_, op) in document.operations.iter() {
        variables_in_set(&op.node.selection_set.node, &mut used);
    }
    for fragment in document.fragments.values() {
        variables_in_set(&fragment.node.selection_set.node, &mut used);
    }
    used
}

/// Every variable `set` uses, in arguments and directives, fragments' included.
fn variables_in_set(set: &SelectionSet, used: &mut HashSet<Name>) {
    for selection in &set.items {
        let (directives, child) = match &selection.node {
            Selection::Field(field) => {
                for (_, value) in &field.node.arguments {
                    variables_in_value(&value.node, used);
                }
                (&field.node.directives, Some(&field.node.selection_set.node))
            }
            Selection::InlineFragment(fragment) => (
                &fragment.node.directives,
                Some(&fragment.node.selection_set.node),
            ),
            Selection::FragmentSpread(spread) => (&spread.node.directives, None),
        };
        for directive in directives {
            for (_, value) in &directive.node.arguments {
                variables_in_value(&value.node, used);
            }
        }
        if let Some(child) = child {
            variables_in_set(child, used);
        }
    }
}

/// Every variable `value` uses, at any depth.
fn variables_in_value(value: &Value, used: &mut HashSet<Name>) {
    match value {
        Value::Variable(name) => {
            used.insert(name.clone());
        }
        Value::List(items) => items.iter().for_each(|item| variables_in_value(item, used)),
        Value::Object(fields) => fields
            .values()
            .for_each(|field| variables_in_value(field, used)),
        _ => {}
    }
}
/// Removes from `set` the arguments and input fields whose value is an omitted variable.
fn drop_omitted_in_set(set: &mut SelectionSet, omitted: &HashSet<Name>) {
    for selection in &mut set.items {
        match &mut selection.node {
            Selection::Field(field) => {
                let field = &mut field.node;
                field
                    .arguments
                    .retain(|(_, value)| !is_omitted(&value.node, omitted));
                for (_, value) in &mut field.arguments {
                    drop_omitted_in_value(&mut value.node, omitted);
                }
                drop_omitted_in_set(&mut field.selection_set.node, omitted);
            }
            Selection::InlineFragment(fragment) => {
                drop_omitted_in_set(&mut fragment.node.selection_set.node, omitted);
            }
            Selection::FragmentSpread(_) => {}
        }
    }
}

/// Removes from `value` the input fields whose value is an omitted variable.
fn drop_omitted_in_value(value: &mut Value, omitted: &HashSet<Name>) {
    match value {
        Value::Object(fields) => {
            fields.retain(|_, field| !is_omitted(field, omitted));
            for field in fields.values_mut() {
                drop_omitted_in_value(field, omitted);
            }
        }
        Value::List(items) => {
            for item in items {
                drop_omitted_in_value(item, omitted);
            }
        }
        _ => {}
    }
}

/// Whether `value` is one of the `omitted` variables.
fn is_omitted(value: &Value, omitted: &HashSet<Name>) -> bool {
    matches!(value, Value::Variable(name) if omitted.contains(name))
}
