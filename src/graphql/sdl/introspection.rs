//! The answer to [`super::INTROSPECTION_QUERY`], as the printer reads it.

use serde::Deserialize;

#[derive(Deserialize)]
pub(super) struct Answer {
    #[serde(rename = "__schema")]
    pub(super) schema: IntrospectionSchema,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct IntrospectionSchema {
    #[serde(default)]
    pub(super) description: Option<String>,
    pub(super) query_type: Option<NamedRef>,
    pub(super) mutation_type: Option<NamedRef>,
    pub(super) subscription_type: Option<NamedRef>,
    pub(super) types: Vec<FullType>,
    pub(super) directives: Vec<Directive>,
}

#[derive(Deserialize)]
pub(super) struct NamedRef {
    pub(super) name: String,
}

#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub(super) enum Kind {
    Scalar,
    Object,
    Interface,
    Union,
    Enum,
    InputObject,
    List,
    NonNull,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct FullType {
    pub(super) kind: Kind,
    pub(super) name: String,
    pub(super) description: Option<String>,
    #[serde(rename = "specifiedByURL", default)]
    pub(super) specified_by_url: Option<String>,
    #[serde(default)]
    pub(super) is_one_of: Option<bool>,
    pub(super) fields: Option<Vec<Field>>,
    pub(super) input_fields: Option<Vec<InputValue>>,
    pub(super) interfaces: Option<Vec<TypeRef>>,
    pub(super) enum_values: Option<Vec<EnumValue>>,
    pub(super) possible_types: Option<Vec<TypeRef>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Field {
    pub(super) name: String,
    pub(super) description: Option<String>,
    pub(super) args: Vec<InputValue>,
    #[serde(rename = "type")]
    pub(super) ty: TypeRef,
    pub(super) deprecation_reason: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct InputValue {
    pub(super) name: String,
    pub(super) description: Option<String>,
    #[serde(rename = "type")]
    pub(super) ty: TypeRef,
    pub(super) default_value: Option<String>,
    #[serde(default)]
    pub(super) deprecation_reason: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct EnumValue {
    pub(super) name: String,
    pub(super) description: Option<String>,
    pub(super) deprecation_reason: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Directive {
    pub(super) name: String,
    pub(super) description: Option<String>,
    #[serde(default)]
    pub(super) is_repeatable: Option<bool>,
    pub(super) locations: Vec<String>,
    pub(super) args: Vec<InputValue>,
    #[serde(default)]
    pub(super) deprecation_reason: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct TypeRef {
    pub(super) kind: Kind,
    pub(super) name: Option<String>,
    pub(super) of_type: Option<Box<TypeRef>>,
}

impl std::fmt::Display for TypeRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.kind, &self.of_type) {
            (Kind::NonNull, Some(inner)) => write!(f, "{inner}!"),
            (Kind::List, Some(inner)) => write!(f, "[{inner}]"),
            _ => f.write_str(self.name.as_deref().unwrap_or_default()),
        }
    }
}
