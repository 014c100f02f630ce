//! Input coercion rules async-graphql 7.2 does not keep, applied to the parsed document before
//! it runs.
//!
//! - **Enums are not strings.** The spec's enum input coercion: "GraphQL string literals must
//!   not be accepted as an enum input and instead raise a request error". async-graphql
//!   accepts `kind: "JSON"` because variables (JSON, which has no enum) arrive as strings;
//!   [`prepare`] refuses a string *literal* where the type is an enum, while a variable's
//!   JSON string stays accepted, as the spec allows for transports without enums.
//! - **An omitted variable is an omitted value.** Input object coercion: when a field's value
//!   is a variable that the request did not provide and that has no default, the field is
//!   absent, so the input field's own default applies (`mode: $m` without `$m` means
//!   `INCREMENTAL`). async-graphql reads it as `null`; [`prepare`] removes such fields (and
//!   such arguments, for the same rule on arguments) from the document.

use std::collections::HashSet;

use async_graphql::parser::types::{
    BaseType, DocumentOperations, ExecutableDocument, OperationDefinition, Selection, SelectionSet,
    Type,
};
use async_graphql::{ErrorExtensionValues, Name, Pos, ServerError, Variables};
use async_graphql_value::Value;

use crate::error::code;
use crate::graphql::conform::operation;
use crate::graphql::shape::{SchemaShape, TypeShape, named_type};

/// Checks `document`'s literals against the schema and removes values taken from variables
/// the request left out. Returns the request errors when a literal breaks a rule.
pub fn prepare(
    document: &mut ExecutableDocument,
    shape: &SchemaShape,
    variables: &Variables,
    operation_name: Option<&str>,
) -> Result<(), Vec<ServerError>> {
    let Some(op) = operation(document, operation_name) else {
        // async-graphql reports the missing or ambiguous operation itself.
        return Ok(());
    };
    let mut errors = Vec::new();
    check_variable_defaults(op, shape, &mut errors);
    let root = match op.ty {
        async_graphql::parser::types::OperationType::Query => "Query",
        async_graphql::parser::types::OperationType::Mutation => "Mutation",
        async_graphql::parser::types::OperationType::Subscription => "Subscription",
    };
    check_set(shape, root, &op.selection_set.node, &mut errors);
    for fragment in document.fragments.values() {
        let on = fragment.node.type_condition.node.on.node.as_str();
        check_set(shape, on, &fragment.node.selection_set.node, &mut errors);
    }
    if !errors.is_empty() {
        return Err(errors);
    }

    let omitted: HashSet<Name> = op
        .variable_definitions
        .iter()
        .filter(|d| d.node.default_value.is_none() && !variables.contains_key(&d.node.name.node))
        .map(|d| d.node.name.node.clone())
        .collect();
    if omitted.is_empty() {
        return Ok(());
    }
    match &mut document.operations {
        DocumentOperations::Single(op) => {
            drop_omitted_in_set(&mut op.node.selection_set.node, &omitted)
        }
        DocumentOperations::Multiple(operations) => {
            if let Some(op) = operation_name.and_then(|name| operations.get_mut(name)) {
                drop_omitted_in_set(&mut op.node.selection_set.node, &omitted);
            } else if operations.len() == 1
                && let Some(op) = operations.values_mut().next()
            {
                drop_omitted_in_set(&mut op.node.selection_set.node, &omitted);
            }
        }
    }
    for fragment in document.fragments.values_mut() {
        drop_omitted_in_set(&mut fragment.node.selection_set.node, &omitted);
    }
    // A variable whose every use went is no longer declared either (it had no value and no
    // default, so nothing changes), or validation would call it unused.
    let mut used = HashSet::new();
    for (_, op) in document.operations.iter() {
        variables_in_set(&op.node.selection_set.node, &mut used);
    }
    for fragment in document.fragments.values() {
        variables_in_set(&fragment.node.selection_set.node, &mut used);
    }
    let undeclare = |op: &mut OperationDefinition| {
        op.variable_definitions
            .retain(|d| !omitted.contains(&d.node.name.node) || used.contains(&d.node.name.node));
    };
    match &mut document.operations {
        DocumentOperations::Single(op) => undeclare(&mut op.node),
        DocumentOperations::Multiple(operations) => {
            operations
                .values_mut()
                .for_each(|op| undeclare(&mut op.node));
        }
    }
    Ok(())
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

fn check_variable_defaults(
    op: &OperationDefinition,
    shape: &SchemaShape,
    errors: &mut Vec<ServerError>,
) {
    for definition in &op.variable_definitions {
        if let Some(default) = &definition.node.default_value {
            let value = default.node.clone().into_value();
            let name = format!("${}", definition.node.name.node);
            check_value(
                shape,
                &value,
                &definition.node.var_type.node,
                &name,
                default.pos,
                errors,
            );
        }
    }
}

fn check_set(shape: &SchemaShape, parent: &str, set: &SelectionSet, errors: &mut Vec<ServerError>) {
    for selection in &set.items {
        match &selection.node {
            Selection::Field(field) => {
                let field = &field.node;
                let Some(definition) = shape.field(parent, field.name.node.as_str()) else {
                    continue;
                };
                for (name, value) in &field.arguments {
                    if let Some(ty) = definition.args.get(name.node.as_str()) {
                        check_value(
                            shape,
                            &value.node,
                            ty,
                            name.node.as_str(),
                            value.pos,
                            errors,
                        );
                    }
                }
                check_set(
                    shape,
                    named_type(&definition.ty),
                    &field.selection_set.node,
                    errors,
                );
            }
            Selection::InlineFragment(fragment) => {
                let on = fragment
                    .node
                    .type_condition
                    .as_ref()
                    .map_or(parent, |c| c.node.on.node.as_str());
                check_set(shape, on, &fragment.node.selection_set.node, errors);
            }
            // Fragment definitions are checked once each, under their own type condition.
            Selection::FragmentSpread(_) => {}
        }
    }
}

/// Refuses a string literal where `ty` expects an enum, at any depth of lists and input
/// objects; `path` names the value (`input.mode`, `ids[2]`).
fn check_value(
    shape: &SchemaShape,
    value: &Value,
    ty: &Type,
    path: &str,
    pos: Pos,
    errors: &mut Vec<ServerError>,
) {
    match value {
        Value::List(items) => {
            if let BaseType::List(item_type) = &ty.base {
                for (index, item) in items.iter().enumerate() {
                    check_value(
                        shape,
                        item,
                        item_type,
                        &format!("{path}[{index}]"),
                        pos,
                        errors,
                    );
                }
            }
        }
        Value::Object(fields) => {
            if let Some(TypeShape::InputObject(types)) = shape.get(named_type(ty)) {
                for (name, field) in fields {
                    if let Some(field_type) = types.get(name.as_str()) {
                        check_value(
                            shape,
                            field,
                            field_type,
                            &format!("{path}.{name}"),
                            pos,
                            errors,
                        );
                    }
                }
            }
        }
        Value::String(text) => {
            let enum_name = named_type(ty);
            if matches!(shape.get(enum_name), Some(TypeShape::Enum)) {
                let mut error = ServerError::new(
                    format!(
                        "Enum \"{enum_name}\" cannot represent non-enum value: \"{text}\"; \
                         write an enum value without quotes (e.g. {text})"
                    ),
                    Some(pos),
                );
                let mut extensions = ErrorExtensionValues::default();
                extensions.set("code", code::BAD_USER_INPUT);
                extensions.set("field", path);
                error.extensions = Some(extensions);
                errors.push(error);
            }
        }
        _ => {}
    }
}

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

fn is_omitted(value: &Value, omitted: &HashSet<Name>) -> bool {
    matches!(value, Value::Variable(name) if omitted.contains(name))
}
