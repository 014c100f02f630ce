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

use std::collections::{HashMap, HashSet};

use async_graphql::indexmap::IndexMap;
use async_graphql::parser::types::{
    BaseType, Directive, DocumentOperations, ExecutableDocument, OperationDefinition, Selection,
    SelectionSet, Type,
};
use async_graphql::{
    ErrorExtensionValues, Name, Pos, Positioned, ScalarType, ServerError, Variables,
};
use async_graphql_value::{ConstValue, Number, Value};
use chrono::{DateTime, Utc};

use crate::error::code;
use crate::graphql::conform::operation;
use crate::graphql::shape::{SchemaShape, TypeShape, named_type};

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
    let mut checker = Checker {
        shape,
        variables: op
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
            .collect(),
        usages: true,
        max_list_items,
        errors: Vec::new(),
    };
    checker.check_variables(op, variables);
    let root = match op.ty {
        async_graphql::parser::types::OperationType::Query => "Query",
        async_graphql::parser::types::OperationType::Mutation => "Mutation",
        async_graphql::parser::types::OperationType::Subscription => "Subscription",
    };
    checker.check_set(root, &op.selection_set.node);
    let reachable = reachable_fragments(document, &op.selection_set.node);
    for (name, fragment) in &document.fragments {
        // A fragment the operation does not spread uses the variables of another one.
        checker.usages = reachable.contains(name);
        let on = fragment.node.type_condition.node.on.node.as_str();
        checker.check_set(on, &fragment.node.selection_set.node);
    }
    if !checker.errors.is_empty() {
        return Err(checker.errors);
    }
    // Coercing variable values: a variable the request left out takes its default.
    // async-graphql applies defaults where it reads arguments, but not where it drops the
    // selections `@skip`/`@include` exclude, so `@include(if: $x)` with `$x = true` lost
    // its field.
    for definition in &op.variable_definitions {
        let definition = &definition.node;
        if let Some(default) = &definition.default_value
            && !variables.contains_key(&definition.name.node)
        {
            variables.insert(definition.name.node.clone(), default.node.clone());
        }
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
    let used_before = used_variables(document);
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
    Ok(())
}

/// The fragments `set` spreads, directly or through other fragments.
fn reachable_fragments<'a>(
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
struct Checker<'a> {
    shape: &'a SchemaShape,
    /// Each declared variable: its type, and whether it has a default other than `null`.
    variables: HashMap<&'a str, (&'a Type, bool)>,
    /// Whether variable usages are checked against those variables.
    usages: bool,
    /// Most items a list may hold.
    max_list_items: usize,
    errors: Vec<ServerError>,
}

impl Checker<'_> {
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

    fn check_named<V: InputValue>(
        &mut self,
        value: View<'_, V>,
        type_name: &str,
        origin: Origin,
        path: &str,
        pos: Pos,
    ) {
        let shape = self.shape;
        match (shape.get(type_name), value) {
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
                for (name, field) in values {
                    if let Some(field_type) = fields.get(name.as_str()) {
                        let has_default = shape.input_field_has_default(type_name, name);
                        let path = format!("{path}.{name}");
                        self.check_value(field, field_type, has_default, origin, &path, pos);
                    }
                }
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
                let parsed = match value {
                    View::String(text) => {
                        <DateTime<Utc> as ScalarType>::parse(ConstValue::String(text.to_owned()))
                            .is_ok()
                    }
                    _ => false,
                };
                if !parsed {
                    self.refuse(
                        format!(
                            "DateTime cannot represent {}: expected an RFC 3339 date-time \
                             such as 2026-01-31T09:30:00Z",
                            describe(&value)
                        ),
                        path,
                        pos,
                    );
                }
            }
            _ => {}
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
