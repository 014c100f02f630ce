//! The schema's types as the spec's execution rules need them: which fields each object has and
//! of which type, which objects implement which interface, which input types are enums.
//!
//! async-graphql keeps its registry private, so [`SchemaShape`] is read from the schema's own
//! SDL once, when the server starts. [`super::conform`] uses it to put a response in the
//! spec's shape and [`super::coercion`] to check argument literals against their types.

use std::collections::{HashMap, HashSet};

use async_graphql::parser::types::{
    BaseType, FieldDefinition, InputValueDefinition, Type, TypeKind, TypeSystemDefinition,
};
use async_graphql::parser::{Positioned, parse_schema};

/// One output field: its type and its arguments' types.
#[derive(Debug)]
pub struct FieldShape {
    /// The field's type, e.g. `[Source!]!`.
    pub ty: Type,
    /// Argument name → type.
    pub args: HashMap<String, Type>,
}

/// What the execution rules need to know of one named type.
#[derive(Debug)]
pub enum TypeShape {
    /// An object type: its fields and the interfaces it implements.
    Object {
        /// Field name → field.
        fields: HashMap<String, FieldShape>,
        /// The interfaces it implements.
        interfaces: HashSet<String>,
    },
    /// An interface: its fields.
    Interface {
        /// Field name → field.
        fields: HashMap<String, FieldShape>,
    },
    /// A union.
    Union,
    /// An input object: field name → type.
    InputObject(HashMap<String, Type>),
    /// An enum type.
    Enum,
    /// A scalar.
    Scalar,
}

/// Every named type of the schema, and the roots.
#[derive(Debug, Default)]
pub struct SchemaShape {
    types: HashMap<String, TypeShape>,
    possible: HashMap<String, Vec<String>>,
    /// The arguments (`Type.field(arg:)`) and input fields (`Input.field`) with a default value.
    defaulted: HashSet<String>,
}

impl SchemaShape {
    /// Reads the shape from SDL text (the schema's `sdl()`).
    ///
    /// # Errors
    /// When the SDL does not parse (a bug: the schema printed it).
    pub fn from_sdl(sdl: &str) -> Result<Self, async_graphql::parser::Error> {
        let document = parse_schema(sdl)?;
        let mut shape = Self::default();
        for definition in document.definitions {
            let TypeSystemDefinition::Type(definition) = definition else {
                continue;
            };
            let definition = definition.node;
            let name = definition.name.node.to_string();
            match &definition.kind {
                TypeKind::Object(object) => shape.note_argument_defaults(&name, &object.fields),
                TypeKind::Interface(interface) => {
                    shape.note_argument_defaults(&name, &interface.fields);
                }
                TypeKind::InputObject(input) => {
                    shape.defaulted.extend(
                        input
                            .fields
                            .iter()
                            .filter(|f| f.node.default_value.is_some())
                            .map(|f| format!("{name}.{}", f.node.name.node)),
                    );
                }
                _ => {}
            }
            let kind = match definition.kind {
                TypeKind::Object(object) => {
                    let interfaces: HashSet<String> = object
                        .implements
                        .iter()
                        .map(|i| i.node.to_string())
                        .collect();
                    for interface in &interfaces {
                        shape
                            .possible
                            .entry(interface.clone())
                            .or_default()
                            .push(name.clone());
                    }
                    TypeShape::Object {
                        fields: fields_of(object.fields),
                        interfaces,
                    }
                }
                TypeKind::Interface(interface) => TypeShape::Interface {
                    fields: fields_of(interface.fields),
                },
                TypeKind::Union(union) => {
                    shape.possible.insert(
                        name.clone(),
                        union.members.iter().map(|m| m.node.to_string()).collect(),
                    );
                    TypeShape::Union
                }
                TypeKind::InputObject(input) => TypeShape::InputObject(inputs_of(input.fields)),
                TypeKind::Enum(_) => TypeShape::Enum,
                TypeKind::Scalar => TypeShape::Scalar,
            };
            shape.types.insert(name, kind);
        }
        Ok(shape)
    }

    /// The named type `name`.
    pub fn get(&self, name: &str) -> Option<&TypeShape> {
        self.types.get(name)
    }

    /// The field `field` of the object or interface `type_name`.
    pub fn field(&self, type_name: &str, field: &str) -> Option<&FieldShape> {
        match self.types.get(type_name)? {
            TypeShape::Object { fields, .. } | TypeShape::Interface { fields } => fields.get(field),
            _ => None,
        }
    }

    /// Whether `name` is an interface or a union, whose values have an object type of their
    /// own.
    pub fn is_abstract(&self, name: &str) -> bool {
        matches!(
            self.types.get(name),
            Some(TypeShape::Interface { .. } | TypeShape::Union)
        )
    }

    /// Whether values of `name` are objects with a selection set.
    pub fn is_composite(&self, name: &str) -> bool {
        matches!(
            self.types.get(name),
            Some(TypeShape::Object { .. } | TypeShape::Interface { .. } | TypeShape::Union)
        )
    }

    /// The object types a value of the abstract type `name` may have.
    pub fn possible_types(&self, name: &str) -> &[String] {
        self.possible.get(name).map_or(&[], Vec::as_slice)
    }

    /// Whether a fragment on `condition` applies to an object of type `object_type`.
    pub fn applies(&self, condition: &str, object_type: &str) -> bool {
        condition == object_type
            || match self.types.get(object_type) {
                Some(TypeShape::Object { interfaces, .. }) => interfaces.contains(condition),
                _ => false,
            }
            || self
                .possible
                .get(condition)
                .is_some_and(|members| members.iter().any(|m| m == object_type))
    }

    /// Whether argument `argument` of `type_name.field` has a default value.
    pub fn argument_has_default(&self, type_name: &str, field: &str, argument: &str) -> bool {
        self.defaulted
            .contains(&format!("{type_name}.{field}({argument}:)"))
    }

    /// Whether field `field` of input object `input` has a default value.
    pub fn input_field_has_default(&self, input: &str, field: &str) -> bool {
        self.defaulted.contains(&format!("{input}.{field}"))
    }

    fn note_argument_defaults(&mut self, type_name: &str, fields: &[Positioned<FieldDefinition>]) {
        for field in fields {
            for argument in &field.node.arguments {
                if argument.node.default_value.is_some() {
                    self.defaulted.insert(format!(
                        "{type_name}.{}({}:)",
                        field.node.name.node, argument.node.name.node
                    ));
                }
            }
        }
    }
}

/// The innermost named type of `ty`.
pub fn named_type(ty: &Type) -> &str {
    match &ty.base {
        BaseType::Named(name) => name.as_str(),
        BaseType::List(inner) => named_type(inner),
    }
}

fn fields_of(fields: Vec<Positioned<FieldDefinition>>) -> HashMap<String, FieldShape> {
    fields
        .into_iter()
        .map(|field| {
            let field = field.node;
            (
                field.name.node.to_string(),
                FieldShape {
                    ty: field.ty.node,
                    args: inputs_of(field.arguments),
                },
            )
        })
        .collect()
}

fn inputs_of(inputs: Vec<Positioned<InputValueDefinition>>) -> HashMap<String, Type> {
    inputs
        .into_iter()
        .map(|input| (input.node.name.node.to_string(), input.node.ty.node))
        .collect()
}
