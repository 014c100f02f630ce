//! Puts an executed response into the shape the GraphQL spec requires.
//!
//! async-graphql 7.2 leaves two gaps (upstream issue #612 and its field-error handling): it
//! writes an object's fields in the order they finished rather than the order of the query,
//! and it drops a field whose resolver failed instead of writing `null` there and, when the
//! field is non-null, nulling its nearest nullable ancestor. [`conform`] walks the response
//! once, driven by the operation's selection sets (fragments, `@skip`/`@include`) and the
//! schema's types: it orders each object's fields as the spec's CollectFields does, writes
//! `null` for every failed field, and carries a null in a non-null position up to the nearest
//! nullable parent (up to `data: null`). Objects already in order are walked in place.

use std::collections::{HashMap, HashSet};
use std::rc::Rc;

use async_graphql::indexmap::IndexMap;
use async_graphql::parser::types::{
    BaseType, Directive, ExecutableDocument, OperationDefinition, OperationType, Selection,
    SelectionSet, Type,
};
use async_graphql::{Name, PathSegment, Response, ServerError, Value};

use crate::error::code;
use crate::graphql::shape::SchemaShape;

mod operation;

pub use operation::{directive_variables, named_operation, operation};

/// Orders `response`'s fields as `operation` selects them and propagates nulls as the spec
/// says. `variables` are those [`directive_variables`] took.
pub fn conform(
    response: &mut Response,
    shape: &SchemaShape,
    document: &ExecutableDocument,
    operation: &OperationDefinition,
    variables: &HashMap<Name, Value>,
) {
    let root = match operation.ty {
        OperationType::Query => "Query",
        OperationType::Mutation => "Mutation",
        OperationType::Subscription => return,
    };
    let mut walk = Walk {
        shape,
        document,
        variables,
        error_paths: response.errors.iter().map(|e| path_key(&e.path)).collect(),
        path: Vec::new(),
        unexplained: Vec::new(),
        memo: HashMap::new(),
    };
    let root_set = [&operation.selection_set.node];
    if response.data == Value::Null
        && response.errors.is_empty()
        && walk.collect(root, &root_set).is_empty()
    {
        // Every root field skipped: async-graphql writes an empty object as null.
        response.data = Value::Object(IndexMap::new());
        return;
    }
    let Value::Object(data) = &mut response.data else {
        return;
    };
    let complete = walk.object(data, root, &root_set);
    let unexplained = std::mem::take(&mut walk.unexplained);
    if !complete {
        response.data = Value::Null;
    }
    response.errors.extend(unexplained);
}

/// A step of the path to the value being walked.
#[derive(Clone, Copy)]
enum Step<'a> {
    Key(&'a str),
    Index(usize),
}

/// One response key of an object: the field it answers and every selection set merged
/// under it.
struct Collected<'a> {
    key: &'a str,
    field: &'a str,
    /// The field's type; `None` for `__typename` and introspection's fields.
    ty: Option<&'a Type>,
    sets: Vec<&'a SelectionSet>,
}

struct Walk<'a> {
    shape: &'a SchemaShape,
    document: &'a ExecutableDocument,
    variables: &'a HashMap<Name, Value>,
    error_paths: HashSet<String>,
    path: Vec<Step<'a>>,
    /// Errors for fields missing with no error of their own (none expected; kept honest).
    unexplained: Vec<ServerError>,
    memo: HashMap<(&'a str, Vec<usize>), Rc<[Collected<'a>]>>,
}

impl<'a> Walk<'a> {
    /// Completes `value` of type `ty`; false when it is null in a non-null position, so the
    /// parent must become null.
    fn value(&mut self, value: &mut Value, ty: &'a Type, sets: &[&'a SelectionSet]) -> bool {
        let complete = match (&mut *value, &ty.base) {
            (Value::List(items), BaseType::List(item_type)) => self.list(items, item_type, sets),
            (Value::Object(map), BaseType::Named(name)) if self.shape.is_composite(name) => {
                self.object(map, name, sets)
            }
            _ => true,
        };
        if !complete {
            *value = Value::Null;
        }
        ty.nullable || *value != Value::Null
    }

    /// Completes a list's items; false when one is null in a non-null position. Items of one
    /// object type share one collected selection (a page of 100 listings collects once).
    fn list(
        &mut self,
        items: &mut [Value],
        item_type: &'a Type,
        sets: &[&'a SelectionSet],
    ) -> bool {
        let shared = match &item_type.base {
            BaseType::Named(name)
                if self.shape.is_composite(name) && !self.shape.is_abstract(name) =>
            {
                Some(self.collect(name, sets))
            }
            _ => None,
        };
        for (index, item) in items.iter_mut().enumerate() {
            self.path.push(Step::Index(index));
            let complete = match (&shared, &mut *item) {
                (Some(fields), Value::Object(map)) => {
                    let complete = self.fields(map, fields);
                    if !complete {
                        *item = Value::Null;
                    }
                    item_type.nullable || *item != Value::Null
                }
                _ => self.value(item, item_type, sets),
            };
            self.path.pop();
            if !complete {
                return false;
            }
        }
        true
    }

    /// Completes the object `map` whose field type is `declared`; false when a non-null field
    /// of it is null.
    fn object(
        &mut self,
        map: &mut IndexMap<Name, Value>,
        declared: &'a str,
        sets: &[&'a SelectionSet],
    ) -> bool {
        let object_type = if self.shape.is_abstract(declared) {
            match self.object_type_of(map, declared, sets) {
                Some(object_type) => object_type,
                // Not knowable: leave the object as it came.
                None => return true,
            }
        } else {
            declared
        };
        let fields = self.collect(object_type, sets);
        self.fields(map, &fields)
    }

    /// Puts the object `map` in the order of `fields` (collected for its type) and completes
    /// each field; false when a non-null field of it is null.
    fn fields(&mut self, map: &mut IndexMap<Name, Value>, fields: &[Collected<'a>]) -> bool {
        let in_order = map.len() == fields.len()
            && map
                .keys()
                .zip(fields.iter())
                .all(|(key, field)| key.as_str() == field.key);
        if !in_order {
            let mut old = std::mem::take(map);
            map.reserve(fields.len());
            for field in fields {
                match old.swap_remove(field.key) {
                    Some(value) => {
                        map.insert(Name::new(field.key), value);
                    }
                    None => {
                        self.path.push(Step::Key(field.key));
                        self.missing(field.key);
                        self.path.pop();
                        map.insert(Name::new(field.key), Value::Null);
                    }
                }
            }
            // Nothing else is expected; keep it rather than lose it.
            map.extend(old);
        }
        for (index, field) in fields.iter().enumerate() {
            // `__typename`, and introspection's `__schema` and `__type`, which async-graphql
            // answers itself, have no type here.
            let Some(ty) = field.ty else {
                continue;
            };
            let Some((_, value)) = map.get_index_mut(index) else {
                continue;
            };
            self.path.push(Step::Key(field.key));
            let complete = self.value(value, ty, &field.sets);
            self.path.pop();
            if !complete {
                return false;
            }
        }
        true
    }

    /// Records a field missing from the response; it needs an error of its own unless
    /// execution already reported one there.
    fn missing(&mut self, key: &str) {
        let path = self.owned_path();
        if !self.error_paths.contains(&path_key(&path)) {
            let mut error = ServerError::new(format!("the field `{key}` was not resolved"), None);
            error.path = path;
            error
                .extensions
                .get_or_insert_with(Default::default)
                .set("code", code::INTERNAL);
            self.unexplained.push(error);
        }
    }

    fn owned_path(&self) -> Vec<PathSegment> {
        self.path
            .iter()
            .map(|step| match step {
                Step::Key(key) => PathSegment::Field((*key).to_owned()),
                Step::Index(index) => PathSegment::Index(*index),
            })
            .collect()
    }

    /// The object type of a value of the abstract type `declared`: `__typename` when the
    /// query asked for it, otherwise the one possible type whose selected fields are exactly
    /// the keys present plus those that failed.
    fn object_type_of(
        &mut self,
        map: &IndexMap<Name, Value>,
        declared: &'a str,
        sets: &[&'a SelectionSet],
    ) -> Option<&'a str> {
        let shape = self.shape;
        let possible = shape.possible_types(declared);
        let mut found = None;
        for candidate in possible {
            let fields = self.collect(candidate, sets);
            let typename = fields
                .iter()
                .find(|f| f.field == "__typename")
                .and_then(|f| map.get(f.key));
            if let Some(Value::String(typename)) = typename {
                if typename == candidate {
                    return Some(candidate.as_str());
                }
                continue;
            }
            let matches = map
                .keys()
                .all(|k| fields.iter().any(|f| f.key == k.as_str()))
                && fields.iter().all(|f| {
                    map.contains_key(f.key) || {
                        self.path.push(Step::Key(f.key));
                        let failed = self.error_paths.contains(&path_key(&self.owned_path()));
                        self.path.pop();
                        failed
                    }
                });
            if matches {
                if found.is_some() {
                    return None;
                }
                found = Some(candidate.as_str());
            }
        }
        found
    }

    /// The spec's CollectFields for an object of type `object_type`, memoised per selection.
    fn collect(&mut self, object_type: &'a str, sets: &[&'a SelectionSet]) -> Rc<[Collected<'a>]> {
        let key = (
            object_type,
            sets.iter()
                .map(|s| std::ptr::from_ref(*s) as usize)
                .collect(),
        );
        if let Some(fields) = self.memo.get(&key) {
            return Rc::clone(fields);
        }
        let mut fields: Vec<Collected<'a>> = Vec::new();
        let mut visited = HashSet::new();
        for set in sets {
            self.collect_into(object_type, set, &mut fields, &mut visited);
        }
        let fields: Rc<[Collected<'a>]> = fields.into();
        self.memo.insert(key, Rc::clone(&fields));
        fields
    }

    fn collect_into(
        &self,
        object_type: &'a str,
        set: &'a SelectionSet,
        fields: &mut Vec<Collected<'a>>,
        visited: &mut HashSet<&'a str>,
    ) {
        for selection in &set.items {
            match &selection.node {
                Selection::Field(field) => {
                    let field = &field.node;
                    if self.skipped(&field.directives) {
                        continue;
                    }
                    let key = field.response_key().node.as_str();
                    match fields.iter_mut().find(|f| f.key == key) {
                        Some(existing) => existing.sets.push(&field.selection_set.node),
                        None => fields.push(Collected {
                            key,
                            field: field.name.node.as_str(),
                            ty: self
                                .shape
                                .field(object_type, field.name.node.as_str())
                                .map(|f| &f.ty),
                            sets: vec![&field.selection_set.node],
                        }),
                    }
                }
                Selection::InlineFragment(fragment) => {
                    let fragment = &fragment.node;
                    if self.skipped(&fragment.directives) {
                        continue;
                    }
                    let applies = fragment.type_condition.as_ref().is_none_or(|condition| {
                        self.shape
                            .applies(condition.node.on.node.as_str(), object_type)
                    });
                    if applies {
                        self.collect_into(
                            object_type,
                            &fragment.selection_set.node,
                            fields,
                            visited,
                        );
                    }
                }
                Selection::FragmentSpread(spread) => {
                    let spread = &spread.node;
                    let name = spread.fragment_name.node.as_str();
                    if self.skipped(&spread.directives) || !visited.insert(name) {
                        continue;
                    }
                    let Some(fragment) = self.document.fragments.get(name) else {
                        continue;
                    };
                    let condition = fragment.node.type_condition.node.on.node.as_str();
                    if self.shape.applies(condition, object_type) {
                        self.collect_into(
                            object_type,
                            &fragment.node.selection_set.node,
                            fields,
                            visited,
                        );
                    }
                }
            }
        }
    }

    /// Whether `@skip(if: true)` or `@include(if: false)` leaves a selection out.
    fn skipped(&self, directives: &[async_graphql::Positioned<Directive>]) -> bool {
        directives.iter().any(|directive| {
            let name = directive.node.name.node.as_str();
            if name != "skip" && name != "include" {
                return false;
            }
            let condition = directive
                .node
                .get_argument("if")
                .and_then(|value| match &value.node {
                    async_graphql_value::Value::Boolean(b) => Some(*b),
                    async_graphql_value::Value::Variable(var) => match self.variables.get(var) {
                        Some(Value::Boolean(b)) => Some(*b),
                        _ => None,
                    },
                    _ => None,
                });
            matches!(
                (name, condition),
                ("skip", Some(true)) | ("include", Some(false))
            )
        })
    }
}

/// A path as one string (`sources.nodes.0.name`): field names never start with a digit, so
/// keys and indexes cannot be confused.
fn path_key(path: &[PathSegment]) -> String {
    let mut key = String::new();
    for segment in path {
        if !key.is_empty() {
            key.push('.');
        }
        match segment {
            PathSegment::Field(name) => key.push_str(name),
            PathSegment::Index(index) => key.push_str(&index.to_string()),
        }
    }
    key
}
