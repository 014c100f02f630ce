//! The `edges` and `nodes` lists of connections, written directly when the selection is plain.
//!
//! async-graphql resolves every object through boxed futures, one per field, gathered in a
//! `FuturesUnordered`. For a page of 100 listings that is 200 objects and 600 futures, and
//! on a response of 1,000 listings it costs more CPU than the database does. Most list
//! selections ask only for scalars (`edges { cursor node { id externalId updatedAt } }`), and
//! those need no futures at all: [`Edges`] and [`Nodes`] check the selection once per list
//! and, when it is plain, build each item's value directly. Anything else — a field with
//! arguments, a nested connection, a fragment, a directive, a repeated response key — takes
//! async-graphql's own path, so the answer is always the same; a test compares the two paths
//! field by field.
//!
//! The schema registers no extensions: an extension's per-field hooks would not see the
//! fields resolved here.

use std::borrow::Cow;

use async_graphql::indexmap::IndexMap;
use async_graphql::parser::types::{Field, Selection, SelectionSet};
use async_graphql::registry::Registry;
use async_graphql::resolver_utils::resolve_list;
use async_graphql::{
    ContextSelectionSet, ID, InputType, Name, OutputType, Positioned, ServerResult, Value,
};

use async_graphql::connection::{CursorType, OpaqueCursor};

use crate::store::pager::Cursor;

/// The scalar fields a type can answer without async-graphql's per-field machinery.
pub trait ScalarFields {
    /// The value of the argument-less scalar field `name` (its GraphQL name); `None` when the
    /// type has no such field or it needs resolving (arguments, objects, the database).
    fn scalar_field(&self, name: &str) -> Option<Value> {
        let _ = name;
        None
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

/// A field value a plain list selection writes directly: the value it resolves to.
pub trait ScalarValue {
    /// The GraphQL value.
    fn scalar_value(&self) -> Value;
}

/// Input types (scalars, enums, options and lists of them) resolve to their `to_value`.
impl<T: InputType> ScalarValue for T {
    fn scalar_value(&self) -> Value {
        self.to_value()
    }
}

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
    fn scalar_value(&self) -> Value {
        Value::String(self.encode())
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
        Ok(self.scalar_value())
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
/// field's type must be a [`ScalarValue`] (input types: scalars, enums, options of them; and
/// [`GlobalId`]).
macro_rules! scalar_fields {
    ($type:ty { $($name:literal => $field:ident),* $(,)? }) => {
        impl $crate::graphql::connection_lists::ScalarFields for $type {
            fn scalar_field(&self, name: &str) -> Option<async_graphql::Value> {
                match name {
                    $($name => Some($crate::graphql::connection_lists::ScalarValue::scalar_value(&self.$field)),)*
                    _ => None,
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
            Some(plan) => Ok(Value::List(
                self.0.iter().map(|edge| plan.render(edge)).collect(),
            )),
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
            Some(plan) => Ok(Value::List(
                self.0.iter().map(|node| plan.render(*node)).collect(),
            )),
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

/// What one requested field of a node is.
enum NodeField {
    Typename,
    Scalar(Name),
}

/// How to build a node's value for one selection set.
struct NodePlan {
    type_name: Value,
    fields: Vec<(Name, NodeField)>,
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
                sample.scalar_field(name)?;
                NodeField::Scalar(name.clone())
            };
            fields.push((field.response_key().node.clone(), kind));
        }
        Some(Self {
            type_name: Value::String(sample.introspection_type_name().into_owned()),
            fields,
        })
    }

    fn render<N: ScalarFields>(&self, node: &N) -> Value {
        let mut map = IndexMap::with_capacity(self.fields.len());
        for (key, field) in &self.fields {
            let value = match field {
                NodeField::Typename => self.type_name.clone(),
                NodeField::Scalar(name) => node.scalar_field(name).unwrap_or(Value::Null),
            };
            map.insert(key.clone(), value);
        }
        Value::Object(map)
    }
}

/// What one requested field of an edge is.
enum EdgeField {
    Typename,
    Cursor,
    Node(NodePlan),
}

/// How to build an edge's value for one selection set.
struct EdgePlan {
    type_name: Value,
    fields: Vec<(Name, EdgeField)>,
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
            fields.push((field.response_key().node.clone(), kind));
        }
        Some(Self {
            type_name: Value::String(sample.introspection_type_name().into_owned()),
            fields,
        })
    }

    fn render<E: Edge>(&self, edge: &E) -> Value {
        let mut map = IndexMap::with_capacity(self.fields.len());
        for (key, field) in &self.fields {
            let value = match field {
                EdgeField::Typename => self.type_name.clone(),
                EdgeField::Cursor => Value::String(edge.cursor()),
                EdgeField::Node(plan) => plan.render(edge.node()),
            };
            map.insert(key.clone(), value);
        }
        Value::Object(map)
    }
}
