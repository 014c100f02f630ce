//! The `edges` and `nodes` lists of connections, written directly when the selection is plain.
//!
//! async-graphql resolves every object through boxed futures, one per field, gathered in a
//! `FuturesUnordered`. For a page of 100 listings that is 200 objects and 600 futures, and
//! on a response of 1,000 listings it costs more CPU than the database does. Most list
//! selections ask only for scalars (`edges { cursor node { id externalId updatedAt } }`), and
//! those need no futures at all: [`Edges`] and [`Nodes`] check the selection once per list
//! and, when it is plain, write the list's JSON text directly ([`wire`]). Anything else — a
//! field with arguments, a nested connection, a fragment, a directive, a repeated response
//! key — takes async-graphql's own path, so the answer is always the same; a test compares
//! the two paths field by field.
//!
//! The schema registers no extensions: an extension's per-field hooks would not see the
//! fields resolved here.

use std::borrow::Cow;

use async_graphql::parser::types::{Field, Selection, SelectionSet};
use async_graphql::registry::Registry;
use async_graphql::resolver_utils::resolve_list;
use async_graphql::{
    ContextSelectionSet, ID, OutputType, Positioned, ServerError, ServerResult, Value,
};
use chrono::{DateTime, Utc};

use async_graphql::connection::{CursorType, OpaqueCursor};

use crate::graphql::wire;
use crate::store::pager::Cursor;

/// The scalar fields a type can answer without async-graphql's per-field machinery.
pub trait ScalarFields {
    /// The number of the argument-less scalar field `name` (its GraphQL name), for
    /// [`Self::write_scalar_field`]; `None` when the type has no such field or it needs
    /// resolving (arguments, objects, the database).
    fn scalar_field(&self, name: &str) -> Option<usize> {
        let _ = name;
        None
    }

    /// Appends the JSON text of the field [`Self::scalar_field`] numbered `index`: what
    /// async-graphql would answer for it.
    fn write_scalar_field(&self, index: usize, out: &mut Vec<u8>) -> serde_json::Result<()> {
        let _ = index;
        out.extend_from_slice(b"null");
        Ok(())
    }
}

/// An edge of a connection: a cursor and a node.
pub trait Edge: OutputType {
    /// The node type.
    type Node: OutputType + ScalarFields;
    /// The edge's opaque cursor.
    fn cursor(&self) -> String;
    /// The edge's node.
    fn node(&self) -> &Self::Node;
}

/// A field value a plain list selection writes directly: its JSON text, byte for byte what
/// async-graphql's serialization of its value writes, without building the value (a page of
/// 1,000 listings would build and free a few thousand strings).
pub trait ScalarValue {
    /// Appends the value's JSON text.
    fn write_json(&self, out: &mut Vec<u8>) -> serde_json::Result<()>;
}

impl ScalarValue for String {
    fn write_json(&self, out: &mut Vec<u8>) -> serde_json::Result<()> {
        wire::write_str(out, self)
    }
}

impl ScalarValue for ID {
    fn write_json(&self, out: &mut Vec<u8>) -> serde_json::Result<()> {
        wire::write_str(out, self)
    }
}

impl ScalarValue for bool {
    fn write_json(&self, out: &mut Vec<u8>) -> serde_json::Result<()> {
        out.extend_from_slice(if *self { b"true" } else { b"false" });
        Ok(())
    }
}

/// Integers, written as their digits.
macro_rules! integer_scalar_values {
    ($($type:ty),+) => {
        $(impl ScalarValue for $type {
            fn write_json(&self, out: &mut Vec<u8>) -> serde_json::Result<()> {
                out.extend_from_slice(itoa::Buffer::new().format(*self).as_bytes());
                Ok(())
            }
        })+
    };
}
integer_scalar_values!(i32, i64);

impl ScalarValue for DateTime<Utc> {
    fn write_json(&self, out: &mut Vec<u8>) -> serde_json::Result<()> {
        wire::write_rfc3339(out, self);
        Ok(())
    }
}

impl<T: ScalarValue> ScalarValue for Option<T> {
    fn write_json(&self, out: &mut Vec<u8>) -> serde_json::Result<()> {
        match self {
            Some(value) => value.write_json(out),
            None => {
                out.extend_from_slice(b"null");
                Ok(())
            }
        }
    }
}

impl<T: ScalarValue> ScalarValue for Vec<T> {
    fn write_json(&self, out: &mut Vec<u8>) -> serde_json::Result<()> {
        wire::write_seq(out, b'[', b']', self, |item, out| item.write_json(out))
    }
}

/// Implements [`ScalarValue`] for GraphQL enums (and other input types) through their value.
macro_rules! scalar_value_of_input {
    ($($type:ty),+ $(,)?) => {
        $(impl $crate::graphql::connection_lists::ScalarValue for $type {
            fn write_json(&self, out: &mut Vec<u8>) -> serde_json::Result<()> {
                $crate::graphql::wire::write_value(out, &async_graphql::InputType::to_value(self))
            }
        })+
    };
}
pub(crate) use scalar_value_of_input;

/// A global `ID`, encoded only when it is written out: a page of listings would otherwise
/// format and encode two ids per row whether the query asks for them or not.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GlobalId {
    type_name: &'static str,
    key: i64,
}

impl GlobalId {
    /// The id of row `key` of type `type_name`.
    pub fn new(type_name: &'static str, key: i64) -> Self {
        Self { type_name, key }
    }

    fn encode(&self) -> String {
        crate::ids::encode_global(self.type_name, self.key)
    }
}

impl From<GlobalId> for ID {
    fn from(id: GlobalId) -> Self {
        ID(id.encode())
    }
}

impl ScalarValue for GlobalId {
    fn write_json(&self, out: &mut Vec<u8>) -> serde_json::Result<()> {
        // Base64url: nothing to escape.
        out.push(b'"');
        crate::ids::write_pair(out, self.type_name, self.key);
        out.push(b'"');
        Ok(())
    }
}

impl OutputType for GlobalId {
    fn type_name() -> Cow<'static, str> {
        <ID as OutputType>::type_name()
    }

    fn create_type_info(registry: &mut Registry) -> String {
        <ID as OutputType>::create_type_info(registry)
    }

    async fn resolve(
        &self,
        _ctx: &ContextSelectionSet<'_>,
        _field: &Positioned<Field>,
    ) -> ServerResult<Value> {
        Ok(Value::String(self.encode()))
    }
}

/// An edge's cursor, encoded only when it is written out.
#[derive(Clone, Debug, PartialEq)]
pub struct EdgeCursor(pub Cursor);

impl EdgeCursor {
    /// The opaque cursor text.
    pub fn encode(&self) -> String {
        OpaqueCursor(self.0.clone()).encode_cursor()
    }
}

impl OutputType for EdgeCursor {
    fn type_name() -> Cow<'static, str> {
        <String as OutputType>::type_name()
    }

    fn create_type_info(registry: &mut Registry) -> String {
        <String as OutputType>::create_type_info(registry)
    }

    async fn resolve(
        &self,
        _ctx: &ContextSelectionSet<'_>,
        _field: &Positioned<Field>,
    ) -> ServerResult<Value> {
        Ok(Value::String(self.encode()))
    }
}

/// Implements [`ScalarFields`] for `$type` from `"graphqlName" => rust_field` pairs; every
/// field's type must be a [`ScalarValue`].
macro_rules! scalar_fields {
    ($type:ty { $($name:literal => $field:ident),* $(,)? }) => {
        impl $crate::graphql::connection_lists::ScalarFields for $type {
            fn scalar_field(&self, name: &str) -> Option<usize> {
                [$($name),*].iter().position(|field| *field == name)
            }

            fn write_scalar_field(&self, index: usize, out: &mut Vec<u8>) -> serde_json::Result<()> {
                // One writer per field, in the order of the names above.
                type Write = fn(&$type, &mut Vec<u8>) -> serde_json::Result<()>;
                const WRITERS: &[Write] = &[$(
                    |node, out| $crate::graphql::connection_lists::ScalarValue::write_json(&node.$field, out)
                ),*];
                match WRITERS.get(index) {
                    Some(write) => write(self, out),
                    None => {
                        out.extend_from_slice(b"null");
                        Ok(())
                    }
                }
            }
        }
    };
}
pub(crate) use scalar_fields;

/// The `edges` list of a connection.
#[derive(Clone, Debug)]
pub struct Edges<E>(pub Vec<E>);

impl<E: Edge> OutputType for Edges<E> {
    fn type_name() -> Cow<'static, str> {
        <Vec<E> as OutputType>::type_name()
    }

    fn qualified_type_name() -> String {
        <Vec<E> as OutputType>::qualified_type_name()
    }

    fn create_type_info(registry: &mut Registry) -> String {
        <Vec<E> as OutputType>::create_type_info(registry)
    }

    async fn resolve(
        &self,
        ctx: &ContextSelectionSet<'_>,
        field: &Positioned<Field>,
    ) -> ServerResult<Value> {
        let Some(first) = self.0.first() else {
            return Ok(Value::List(Vec::new()));
        };
        match EdgePlan::new(&ctx.item.node, first) {
            Some(plan) => write_list(ctx, &self.0, |edge, out| plan.write(edge, out)),
            None => resolve_list(ctx, field, self.0.iter(), Some(self.0.len())).await,
        }
    }
}

/// The `nodes` list of a connection.
#[derive(Clone, Debug)]
pub struct Nodes<'a, N>(pub Vec<&'a N>);

impl<N: OutputType + ScalarFields> OutputType for Nodes<'_, N> {
    fn type_name() -> Cow<'static, str> {
        <Vec<N> as OutputType>::type_name()
    }

    fn qualified_type_name() -> String {
        <Vec<N> as OutputType>::qualified_type_name()
    }

    fn create_type_info(registry: &mut Registry) -> String {
        <Vec<N> as OutputType>::create_type_info(registry)
    }

    async fn resolve(
        &self,
        ctx: &ContextSelectionSet<'_>,
        field: &Positioned<Field>,
    ) -> ServerResult<Value> {
        let Some(first) = self.0.first() else {
            return Ok(Value::List(Vec::new()));
        };
        match NodePlan::new(&ctx.item.node, *first) {
            Some(plan) => write_list(ctx, &self.0, |node, out| plan.write(*node, out)),
            None => resolve_list(ctx, field, self.0.iter(), Some(self.0.len())).await,
        }
    }
}

/// The fields of a selection set when all are plain: no fragments, no directives, no
/// arguments, no response key twice.
fn plain_fields(set: &SelectionSet) -> Option<Vec<&Field>> {
    let mut fields: Vec<&Field> = Vec::with_capacity(set.items.len());
    for selection in &set.items {
        let Selection::Field(field) = &selection.node else {
            return None;
        };
        let field = &field.node;
        if !field.directives.is_empty() || !field.arguments.is_empty() {
            return None;
        }
        let key = &field.response_key().node;
        if fields.iter().any(|f| &f.response_key().node == key) {
            return None;
        }
        fields.push(field);
    }
    Some(fields)
}

/// The JSON text of a list, each item written by `write`, handed on as [`wire::prewritten`].
fn write_list<T>(
    ctx: &ContextSelectionSet<'_>,
    items: &[T],
    write: impl Fn(&T, &mut Vec<u8>) -> serde_json::Result<()>,
) -> ServerResult<Value> {
    // A listing's edge with a few scalars is some 200 bytes: room for that, so a page's
    // text is not copied as it grows.
    let mut out = Vec::with_capacity(2 + items.len() * 256);
    wire::write_seq(&mut out, b'[', b']', items, write)
        .map_err(|err| ServerError::new(err.to_string(), Some(ctx.item.pos)))?;
    Ok(wire::prewritten(out))
}

/// An object's JSON text: each field's `"key":` (as [`member`] wrote it), then its value.
fn write_object<F>(
    out: &mut Vec<u8>,
    fields: &[(Vec<u8>, F)],
    mut value: impl FnMut(&F, &mut Vec<u8>) -> serde_json::Result<()>,
) -> serde_json::Result<()> {
    wire::write_seq(out, b'{', b'}', fields, |(key, field), out| {
        out.extend_from_slice(key);
        value(field, out)
    })
}

/// `text` as a JSON string.
fn json_string(text: &str) -> Vec<u8> {
    let mut json = Vec::with_capacity(text.len() + 3);
    // Writing a string into a `Vec` cannot fail.
    let _ = wire::write_str(&mut json, text);
    json
}

/// `"key":`, the start of an object member, as JSON text.
fn member(key: &str) -> Vec<u8> {
    let mut text = json_string(key);
    text.push(b':');
    text
}

/// What one requested field of a node is.
enum NodeField {
    Typename,
    /// The field's number ([`ScalarFields::scalar_field`]).
    Scalar(usize),
}

/// How to write a node's JSON for one selection set.
struct NodePlan {
    /// `__typename`'s value, as JSON text.
    type_name: Vec<u8>,
    /// Each field's `"key":` and what it is.
    fields: Vec<(Vec<u8>, NodeField)>,
}

impl NodePlan {
    /// The plan for `set`, or `None` when it needs async-graphql's path; `sample` tells
    /// which fields are scalars.
    fn new<N: OutputType + ScalarFields>(set: &SelectionSet, sample: &N) -> Option<Self> {
        let mut fields = Vec::new();
        for field in plain_fields(set)? {
            let name = &field.name.node;
            let kind = if name == "__typename" {
                NodeField::Typename
            } else {
                NodeField::Scalar(sample.scalar_field(name)?)
            };
            fields.push((member(&field.response_key().node), kind));
        }
        Some(Self {
            type_name: json_string(&sample.introspection_type_name()),
            fields,
        })
    }

    fn write<N: ScalarFields>(&self, node: &N, out: &mut Vec<u8>) -> serde_json::Result<()> {
        write_object(out, &self.fields, |field, out| match field {
            NodeField::Typename => {
                out.extend_from_slice(&self.type_name);
                Ok(())
            }
            NodeField::Scalar(index) => node.write_scalar_field(*index, out),
        })
    }
}

/// What one requested field of an edge is.
enum EdgeField {
    Typename,
    Cursor,
    Node(NodePlan),
}

/// How to write an edge's JSON for one selection set.
struct EdgePlan {
    /// `__typename`'s value, as JSON text.
    type_name: Vec<u8>,
    /// Each field's `"key":` and what it is.
    fields: Vec<(Vec<u8>, EdgeField)>,
}

impl EdgePlan {
    fn new<E: Edge>(set: &SelectionSet, sample: &E) -> Option<Self> {
        let mut fields = Vec::new();
        for field in plain_fields(set)? {
            let kind = match field.name.node.as_str() {
                "__typename" => EdgeField::Typename,
                "cursor" => EdgeField::Cursor,
                "node" => EdgeField::Node(NodePlan::new(&field.selection_set.node, sample.node())?),
                _ => return None,
            };
            fields.push((member(&field.response_key().node), kind));
        }
        Some(Self {
            type_name: json_string(&sample.introspection_type_name()),
            fields,
        })
    }

    fn write<E: Edge>(&self, edge: &E, out: &mut Vec<u8>) -> serde_json::Result<()> {
        write_object(out, &self.fields, |field, out| match field {
            EdgeField::Typename => {
                out.extend_from_slice(&self.type_name);
                Ok(())
            }
            EdgeField::Cursor => wire::write_str(out, &edge.cursor()),
            EdgeField::Node(plan) => plan.write(edge.node(), out),
        })
    }
}
