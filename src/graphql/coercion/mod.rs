//! Input coercion rules async-graphql 7.2 does not keep, applied to the parsed document (and
//! the request's variables) before it runs. Each is a request error with `BAD_USER_INPUT` and
//! `extensions.field` naming the value (`input.mode`, `where[0].op`, `$since`).
//!
//! - **Enums are not strings.** The spec's enum input coercion: "GraphQL string literals must
//!   not be accepted as an enum input and instead raise a request error". async-graphql
//!   accepts `kind: "JSON"` because variables (JSON, which has no enum) arrive as strings;
//!   [`prepare`] refuses a string *literal* where the type is an enum, while a variable's
//!   JSON string stays accepted, as the spec allows for transports without enums.
//! - **An input object is an object.** async-graphql lets any non-object value through where
//!   an input object is expected (`input: "abc"`, or such a variable), and then fails inside
//!   the resolver; the spec's input object coercion says the value is refused.
//! - **An `Int` has 32 bits**, also inside an input object given as a variable (async-graphql
//!   checks the range of arguments only).
//! - **A `DateTime` is an RFC 3339 date-time.** Custom scalars are checked only when they
//!   run, so `createdAfter: "yesterday"` was a field error; the spec ("Values of Correct
//!   Type", and variable coercion) makes a value the scalar cannot coerce a request error.
//! - **Variables only where their type is allowed** (the spec's "All Variable Usages Are
//!   Allowed"): a nullable `$id: ID` cannot feed `id: ID!` unless the variable or the
//!   argument (or input field) has a default, nor a `String` a `[String!]`. async-graphql
//!   has this rule but its composed validator never calls it.
//! - **An omitted variable takes its default** (coercing variable values), also in `@skip`
//!   and `@include`, where async-graphql read it as absent and dropped the field.
//! - **A list argument is bounded.** A list (of an argument, or a list field of an input
//!   object, as a literal or a variable) holds at most `SYNC_MAX_LIST_ITEMS` items: 100,000
//!   `externalIds` used to reach the database as 100,000 bound values and fail as `INTERNAL`.
//!   JSON scalars (an import's `items`) are not lists of the schema: the body size bounds them.
//! - **An omitted variable is an omitted value.** Input object coercion: when a field's value
//!   is a variable that the request did not provide and that has no default, the field is
//!   absent, so the input field's own default applies (`mode: $m` without `$m` means
//!   `INCREMENTAL`). async-graphql reads it as `null`; [`prepare`] removes such fields (and
//!   such arguments, for the same rule on arguments) from the document.

mod checker;
mod variables;

use std::collections::HashSet;

use async_graphql::parser::types::{ExecutableDocument, OperationDefinition};
use async_graphql::{Name, ServerError, Variables};

use crate::graphql::conform::operation;
use crate::graphql::shape::SchemaShape;
use checker::Checker;
use variables::{drop_omitted, reachable_fragments};

/// Checks `document`'s literals and the request's `variables` against the schema and removes
/// values taken from variables the request left out. Returns the request errors when a value
/// breaks a rule.
pub fn prepare(
    document: &mut ExecutableDocument,
    shape: &SchemaShape,
    max_list_items: usize,
    variables: &mut Variables,
    operation_name: Option<&str>,
) -> Result<(), Vec<ServerError>> {
    let Some(op) = operation(document, operation_name) else {
        // async-graphql reports the missing or ambiguous operation itself.
        return Ok(());
    };
    check(document, op, shape, max_list_items, variables)?;
    apply_variable_defaults(op, variables);
    let omitted: HashSet<Name> = op
        .variable_definitions
        .iter()
        .filter(|d| d.node.default_value.is_none() && !variables.contains_key(&d.node.name.node))
        .map(|d| d.node.name.node.clone())
        .collect();
    if !omitted.is_empty() {
        drop_omitted(document, operation_name, &omitted);
    }
    Ok(())
}

/// Checks the values of `op` and of every fragment of `document`.
fn check(
    document: &ExecutableDocument,
    op: &OperationDefinition,
    shape: &SchemaShape,
    max_list_items: usize,
    variables: &Variables,
) -> Result<(), Vec<ServerError>> {
    let mut checker = Checker::new(shape, op, max_list_items);
    checker.check_operation(op, variables);
    let reachable = reachable_fragments(document, &op.selection_set.node);
    for (name, fragment) in &document.fragments {
        // A fragment the operation does not spread uses the variables of another one.
        let on = fragment.node.type_condition.node.on.node.as_str();
        checker.check_fragment(
            on,
            &fragment.node.selection_set.node,
            reachable.contains(name),
        );
    }
    let errors = checker.into_errors();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// Coercing variable values: a variable the request left out takes its default.
/// async-graphql applies defaults where it reads arguments, but not where it drops the
/// selections `@skip`/`@include` exclude, so `@include(if: $x)` with `$x = true` lost its
/// field.
fn apply_variable_defaults(op: &OperationDefinition, variables: &mut Variables) {
    for definition in &op.variable_definitions {
        let definition = &definition.node;
        if let Some(default) = &definition.default_value
            && !variables.contains_key(&definition.name.node)
        {
            variables.insert(definition.name.node.clone(), default.node.clone());
        }
    }
}
