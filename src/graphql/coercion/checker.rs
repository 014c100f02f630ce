//! The checks of one operation: each literal and variable value against the type expected
//! where it stands, collecting a request error for each value that breaks a rule.

use std::collections::HashMap;

use async_graphql::indexmap::IndexMap;
use async_graphql::parser::types::{
    BaseType, Directive, OperationDefinition, OperationType, Selection, SelectionSet, Type,
};
use async_graphql::{
    ErrorExtensionValues, Name, Pos, Positioned, ScalarType, ServerError, Variables,
};
use async_graphql_value::{ConstValue, Number, Value};
use chrono::{DateTime, Utc};

use crate::error::code;
use crate::graphql::shape::{SchemaShape, TypeShape, named_type};

/// Where a value being checked was written.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Origin {
    /// In the document: a literal, which may hold variables.
    Literal,
    /// In the request's variables (JSON): enums arrive as strings.
    Variable,
}

/// A literal ([`Value`]) or a variable's value ([`ConstValue`]) as the rules see it, so a
/// large variable (an import's items) is checked where it lies, not copied.
enum View<'a, V> {
    Null,
    Variable(&'a Name),
    String(&'a str),
    List(&'a [V]),
    Object(&'a IndexMap<Name, V>),
    Number(&'a Number),
    /// A boolean, an enum value or binary data: async-graphql checks those itself.
    Other(&'static str),
}

trait InputValue: Sized {
    fn view(&self) -> View<'_, Self>;
}

impl InputValue for Value {
    fn view(&self) -> View<'_, Self> {
        match self {
            Self::Null => View::Null,
            Self::Variable(name) => View::Variable(name),
            Self::String(text) => View::String(text),
            Self::List(items) => View::List(items),
            Self::Object(fields) => View::Object(fields),
            Self::Number(number) => View::Number(number),
            Self::Boolean(_) => View::Other("a boolean"),
            Self::Enum(_) => View::Other("an enum value"),
            Self::Binary(_) => View::Other("binary data"),
        }
    }
}

impl InputValue for ConstValue {
    fn view(&self) -> View<'_, Self> {
        match self {
            Self::Null => View::Null,
            Self::String(text) => View::String(text),
            Self::List(items) => View::List(items),
            Self::Object(fields) => View::Object(fields),
            Self::Number(number) => View::Number(number),
            Self::Boolean(_) => View::Other("a boolean"),
            Self::Enum(_) => View::Other("an enum value"),
            Self::Binary(_) => View::Other("binary data"),
        }
    }
}

/// The operation's checks and the errors they found.
pub(super) struct Checker<'a> {
    shape: &'a SchemaShape,
    /// Each declared variable: its type, and whether it has a default other than `null`.
    variables: HashMap<&'a str, (&'a Type, bool)>,
    /// Whether variable usages are checked against those variables.
    usages: bool,
    /// Most items a list may hold.
    max_list_items: usize,
    errors: Vec<ServerError>,
}

impl<'a> Checker<'a> {
    /// A checker of `op`'s values, which knows the variables `op` declares.
    pub(super) fn new(
        shape: &'a SchemaShape,
        op: &'a OperationDefinition,
        max_list_items: usize,
    ) -> Self {
        let variables = op
            .variable_definitions
            .iter()
            .map(|d| {
                let non_null_default = d
                    .node
                    .default_value
                    .as_ref()
                    .is_some_and(|v| v.node != ConstValue::Null);
                (
                    d.node.name.node.as_str(),
                    (&d.node.var_type.node, non_null_default),
                )
            })
            .collect();
        Self {
            shape,
            variables,
            usages: true,
            max_list_items,
            errors: Vec::new(),
        }
    }

    /// Checks the variables' defaults and values, then the operation's selections.
    pub(super) fn check_operation(&mut self, op: &OperationDefinition, variables: &Variables) {
        self.check_variables(op, variables);
        let root = match op.ty {
            OperationType::Query => "Query",
            OperationType::Mutation => "Mutation",
            OperationType::Subscription => "Subscription",
        };
        self.check_set(root, &op.selection_set.node);
    }

    /// Checks a fragment definition under its type condition `on`; `reachable`: the
    /// operation spreads it, so its variable usages are the operation's.
    pub(super) fn check_fragment(&mut self, on: &str, set: &SelectionSet, reachable: bool) {
        self.usages = reachable;
        self.check_set(on, set);
    }

    /// The request errors found.
    pub(super) fn into_errors(self) -> Vec<ServerError> {
        self.errors
    }

    /// Checks each variable's default (a literal) and the value the request gives it.
    fn check_variables(&mut self, op: &OperationDefinition, variables: &Variables) {
        for definition in &op.variable_definitions {
            let definition = &definition.node;
            let ty = &definition.var_type.node;
            let name = format!("${}", definition.name.node);
            if let Some(default) = &definition.default_value {
                self.check_value(
                    &default.node,
                    ty,
                    false,
                    Origin::Literal,
                    &name,
                    default.pos,
                );
            }
            if let Some(value) = variables.get(&definition.name.node) {
                let pos = definition.var_type.pos;
                self.check_value(value, ty, false, Origin::Variable, &name, pos);
            }
        }
    }

    /// Checks the arguments and directives of `set`'s selections on the type `parent`.
    fn check_set(&mut self, parent: &str, set: &SelectionSet) {
        for selection in &set.items {
            match &selection.node {
                Selection::Field(field) => {
                    let field = &field.node;
                    self.check_directives(&field.directives);
                    let field_name = field.name.node.as_str();
                    let Some(definition) = self.shape.field(parent, field_name) else {
                        continue;
                    };
                    for (name, value) in &field.arguments {
                        let name = name.node.as_str();
                        if let Some(ty) = definition.args.get(name) {
                            let has_default =
                                self.shape.argument_has_default(parent, field_name, name);
                            self.check_value(
                                &value.node,
                                ty,
                                has_default,
                                Origin::Literal,
                                name,
                                value.pos,
                            );
                        }
                    }
                    self.check_set(named_type(&definition.ty), &field.selection_set.node);
                }
                Selection::InlineFragment(fragment) => {
                    self.check_directives(&fragment.node.directives);
                    let on = fragment
                        .node
                        .type_condition
                        .as_ref()
                        .map_or(parent, |c| c.node.on.node.as_str());
                    self.check_set(on, &fragment.node.selection_set.node);
                }
                // Fragment definitions are checked once each, under their own type condition.
                Selection::FragmentSpread(spread) => self.check_directives(&spread.node.directives),
            }
        }
    }

    /// The `if: Boolean!` of `@skip` and `@include`, the only directives a query may use here.
    fn check_directives(&mut self, directives: &[Positioned<Directive>]) {
        let boolean = Type {
            base: BaseType::Named(Name::new("Boolean")),
            nullable: false,
        };
        for directive in directives {
            let directive = &directive.node;
            if !matches!(directive.name.node.as_str(), "skip" | "include") {
                continue;
            }
            for (name, value) in &directive.arguments {
                if name.node == "if" {
                    self.check_value(
                        &value.node,
                        &boolean,
                        false,
                        Origin::Literal,
                        "if",
                        value.pos,
                    );
                }
            }
        }
    }

    /// Checks `value` where `ty` is expected (`has_default`: that place has a default value),
    /// at any depth of lists and input objects; `path` names the value (`input.mode`, `ids[2]`).
    fn check_value<V: InputValue>(
        &mut self,
        value: &V,
        ty: &Type,
        has_default: bool,
        origin: Origin,
        path: &str,
        pos: Pos,
    ) {
        match (value.view(), &ty.base) {
            // Whether null may stand here, async-graphql checks.
            (View::Null, _) => {}
            (View::Variable(name), _) => self.check_usage(name, ty, has_default, path, pos),
            (View::List(items), BaseType::List(_)) if items.len() > self.max_list_items => {
                self.refuse(
                    format!(
                        "{path} holds {} items, more than the limit of {}; send fewer per \
                         request",
                        items.len(),
                        self.max_list_items
                    ),
                    path,
                    pos,
                );
            }
            (View::List(items), BaseType::List(item_type)) => {
                for (index, item) in items.iter().enumerate() {
                    let path = format!("{path}[{index}]");
                    self.check_value(item, item_type, false, origin, &path, pos);
                }
            }
            // List input coercion: one value where a list is expected is a list of one.
            (_, BaseType::List(item_type)) => {
                self.check_value(value, item_type, false, origin, path, pos);
            }
            (view, BaseType::Named(name)) => self.check_named(view, name, origin, path, pos),
        }
    }

    /// Checks `value` where the named type `type_name` is expected.
    fn check_named<V: InputValue>(
        &mut self,
        value: View<'_, V>,
        type_name: &str,
        origin: Origin,
        path: &str,
        pos: Pos,
    ) {
        match (self.shape.get(type_name), value) {
            (Some(TypeShape::Enum), View::String(text)) if origin == Origin::Literal => {
                self.refuse(
                    format!(
                        "Enum \"{type_name}\" cannot represent non-enum value: \"{text}\"; \
                         write an enum value without quotes (e.g. {text})"
                    ),
                    path,
                    pos,
                );
            }
            (Some(TypeShape::InputObject(fields)), View::Object(values)) => {
                self.check_input_fields(fields, values, type_name, origin, path, pos);
            }
            (Some(TypeShape::InputObject(_)), other) => {
                self.refuse(
                    format!(
                        "Expected an input object of type \"{type_name}\" (`{{ … }}`), found {}",
                        describe(&other)
                    ),
                    path,
                    pos,
                );
            }
            // async-graphql checks an Int's range in arguments but not inside an input object
            // given as a variable, where the resolver then failed with `INTERNAL`.
            // (The SDL, and so the shape, leaves the built-in scalars out.)
            (None, View::Number(number)) if type_name == "Int" && outside_int(number) => {
                self.refuse(
                    format!(
                        "Int cannot represent {number}: Only integers from -2147483648 to \
                         2147483647 are accepted."
                    ),
                    path,
                    pos,
                );
            }
            (Some(TypeShape::Scalar), value) if type_name == "DateTime" => {
                self.check_date_time(&value, path, pos);
            }
            _ => {}
        }
    }

    /// Checks each field of an input object of type `type_name` against `fields`, its
    /// declared field types.
    fn check_input_fields<V: InputValue>(
        &mut self,
        fields: &HashMap<String, Type>,
        values: &IndexMap<Name, V>,
        type_name: &str,
        origin: Origin,
        path: &str,
        pos: Pos,
    ) {
        for (name, field) in values {
            if let Some(field_type) = fields.get(name.as_str()) {
                let has_default = self.shape.input_field_has_default(type_name, name);
                let path = format!("{path}.{name}");
                self.check_value(field, field_type, has_default, origin, &path, pos);
            }
        }
    }

    /// Refuses a `DateTime` value that is not an RFC 3339 date-time.
    fn check_date_time<V>(&mut self, value: &View<'_, V>, path: &str, pos: Pos) {
        let parsed = match value {
            View::String(text) => {
                <DateTime<Utc> as ScalarType>::parse(ConstValue::String((*text).to_owned())).is_ok()
            }
            _ => false,
        };
        if !parsed {
            self.refuse(
                format!(
                    "DateTime cannot represent {}: expected an RFC 3339 date-time such as \
                     2026-01-31T09:30:00Z",
                    describe(value)
                ),
                path,
                pos,
            );
        }
    }

    /// The spec's "All Variable Usages Are Allowed": `$name` may stand where `location` is
    /// expected.
    fn check_usage(
        &mut self,
        name: &Name,
        location: &Type,
        has_default: bool,
        path: &str,
        pos: Pos,
    ) {
        let Some(&(variable, non_null_default)) = self.variables.get(name.as_str()) else {
            // An undefined variable is async-graphql's error.
            return;
        };
        if !self.usages {
            return;
        }
        if !usage_allowed(variable, non_null_default, location, has_default) {
            self.refuse(
                format!(
                    "Variable \"${name}\" of type \"{variable}\" used in position expecting type \"{location}\""
                ),
                path,
                pos,
            );
        }
    }

    fn refuse(&mut self, message: String, path: &str, pos: Pos) {
        let mut error = ServerError::new(message, Some(pos));
        let mut extensions = ErrorExtensionValues::default();
        extensions.set("code", code::BAD_USER_INPUT);
        extensions.set("field", path);
        error.extensions = Some(extensions);
        self.errors.push(error);
    }
}

/// Whether `number` is an integer out of the 32 bits of a GraphQL `Int` (other numbers are
/// async-graphql's to refuse).
fn outside_int(number: &Number) -> bool {
    match number.as_i64() {
        Some(integer) => i32::try_from(integer).is_err(),
        None => number.is_u64(),
    }
}

/// What a refused value is, for a message.
fn describe<V>(value: &View<'_, V>) -> String {
    match value {
        View::Null => "null".to_owned(),
        View::Variable(name) => format!("${name}"),
        View::String(text) => format!("\"{text}\""),
        View::List(_) => "a list".to_owned(),
        View::Object(_) => "an object".to_owned(),
        View::Number(_) => "a number".to_owned(),
        View::Other(kind) => (*kind).to_owned(),
    }
}

/// IsVariableUsageAllowed: a nullable variable may feed a non-null place only when it or
/// the place has a default.
fn usage_allowed(
    variable: &Type,
    non_null_default: bool,
    location: &Type,
    location_has_default: bool,
) -> bool {
    if !location.nullable && variable.nullable {
        if !non_null_default && !location_has_default {
            return false;
        }
        let nullable_location = Type {
            base: location.base.clone(),
            nullable: true,
        };
        return types_compatible(variable, &nullable_location);
    }
    types_compatible(variable, location)
}

/// AreTypesCompatible.
fn types_compatible(variable: &Type, location: &Type) -> bool {
    if !location.nullable && variable.nullable {
        return false;
    }
    match (&variable.base, &location.base) {
        (BaseType::List(variable_item), BaseType::List(location_item)) => {
            types_compatible(variable_item, location_item)
        }
        (BaseType::Named(variable_name), BaseType::Named(location_name)) => {
            variable_name == location_name
        }
        _ => false,
    }
}
