//! The door's side of idempotency keys ([`crate::store::idempotency`]): the key comes from the
//! mutation's `idempotencyKey` input field or from the HTTP header `Idempotency-Key`, and the
//! request hash from the mutation's whole input, coerced (variables resolved, defaults
//! applied), so the same input sent as literals or as variables matches.
//!
//! A mutation takes keys when its `input` has an `idempotencyKey` field; wiring one up is
//! that field plus [`keyed`] and [`crate::store::idempotency::once`] around its domain call.

use async_graphql::parser::types::{OperationType, Selection};
use async_graphql::{Context, ErrorExtensionValues, InputType, Request, ServerError};

use crate::error::{ApiResult, Error, code};
use crate::graphql::conform;
use crate::graphql::json::to_json;
use crate::graphql::shape::{SchemaShape, TypeShape, named_type};
use crate::store::idempotency::{DEFAULT_KEY_HOURS, KeyedRequest};
use crate::store::scope::Permission;

/// The HTTP header that carries a key.
pub const HEADER: &str = "idempotency-key";

/// The input field that carries a key.
const INPUT_FIELD: &str = "idempotencyKey";

/// The `Idempotency-Key` header of the request, attached by the HTTP door after
/// [`check_header`] accepted it.
#[derive(Clone, Debug)]
pub struct HeaderKey(pub String);

/// How many hours keys are kept (`SYNC_IDEMPOTENCY_KEY_HOURS`).
#[derive(Clone, Copy, Debug)]
pub struct KeyHours(pub u32);

/// The keyed request of mutation `operation`, which needs `permission`, whose `input` carries
/// `key` (its `idempotencyKey`); `None` when neither it nor the header holds a key. A key in
/// both places must be the same (`BAD_USER_INPUT` otherwise).
pub fn keyed<I: InputType>(
    ctx: &Context<'_>,
    operation: &'static str,
    permission: Permission,
    input: &I,
    key: Option<&str>,
) -> async_graphql::Result<Option<KeyedRequest>> {
    let field = format!("input.{INPUT_FIELD}");
    let header = ctx.data_opt::<HeaderKey>().map(|h| h.0.as_str());
    let key = match (key, header) {
        (Some(given), Some(sent)) if given != sent => {
            return Err(Error::invalid(
                field,
                "differs from the Idempotency-Key header; send the key in one place",
            ))
            .api();
        }
        (Some(key), _) | (None, Some(key)) => key,
        (None, None) => return Ok(None),
    };
    let mut value = to_json(input.to_value())
        .map_err(|reason| Error::invalid("input", reason))
        .api()?;
    if let Some(object) = value.as_object_mut() {
        object.remove(INPUT_FIELD);
    }
    let hours = ctx
        .data_opt::<KeyHours>()
        .map_or(DEFAULT_KEY_HOURS, |h| h.0);
    KeyedRequest::new(operation, key, &field, &value, permission, hours)
        .api()
        .map(Some)
}

/// Checks that a request sent with the `Idempotency-Key` header is one mutation with a single
/// root field that takes keys; `BAD_USER_INPUT` naming the header otherwise. A request that
/// does not parse, or names no operation, is left to execution to refuse.
pub fn check_header(shape: &SchemaShape, request: &mut Request) -> Result<(), ServerError> {
    let operation_name = request.operation_name.clone();
    let Ok(document) = request.parsed_query() else {
        return Ok(());
    };
    let Some(operation) = conform::operation(document, operation_name.as_deref()) else {
        return Ok(());
    };
    let refuse = |reason: &str| {
        let mut error = ServerError::new(format!("invalid Idempotency-Key header: {reason}"), None);
        let mut extensions = ErrorExtensionValues::default();
        extensions.set("code", code::BAD_USER_INPUT);
        extensions.set("field", "Idempotency-Key");
        error.extensions = Some(extensions);
        Err(error)
    };
    if operation.ty != OperationType::Mutation {
        return refuse("it applies to mutations only");
    }
    let field = match operation.selection_set.node.items.as_slice() {
        [item] => match &item.node {
            Selection::Field(field) => field,
            _ => return refuse("it applies to a single mutation field, written out (no fragment)"),
        },
        _ => {
            return refuse(
                "it applies to a request with a single mutation field; send one request per \
                 mutation, or give each its `idempotencyKey` input",
            );
        }
    };
    let name = field.node.name.node.as_str();
    let takes_keys = shape
        .field("Mutation", name)
        .and_then(|f| f.args.get("input"))
        .and_then(|input| shape.get(named_type(input)))
        .is_some_and(|input| {
            matches!(input, TypeShape::InputObject(fields) if fields.contains_key(INPUT_FIELD))
        });
    if takes_keys {
        Ok(())
    } else {
        refuse(&format!("`{name}` does not take idempotency keys"))
    }
}
