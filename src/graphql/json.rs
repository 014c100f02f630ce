//! The `JSON` scalar, with numbers kept exactly as sent.
//!
//! serde_json's `arbitrary_precision` keeps every number's text, but async-graphql's own
//! `Json` goes through serde into its `Value`, which sees such a number as an object
//! `{"$serde_json::private::Number": "…"}` (async-graphql issues #1531 and #1719): listing
//! data would be answered as objects. This scalar converts between serde_json's and
//! async-graphql's values by hand, so a number travels as the `Number` it is, in both
//! directions, and is written out with its text.

use std::borrow::Cow;

use async_graphql::indexmap::IndexMap;
use async_graphql::parser::types::Field;
use async_graphql::registry::{MetaType, MetaTypeId, Registry};
use async_graphql::{
    ContextSelectionSet, InputType, InputValueError, InputValueResult, Name, OutputType,
    Positioned, ServerResult, Value as GqlValue,
};
use serde_json::Value;

/// The key under which serde_json's deserializer hands out a number it keeps as text.
const NUMBER_TOKEN: &str = "$serde_json::private::Number";

/// A JSON value as the `JSON` scalar: any JSON, numbers exactly as sent.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Json<T>(pub T);

fn scalar_type() -> MetaType {
    MetaType::Scalar {
        name: "JSON".to_owned(),
        description: Some("A scalar that can represent any JSON value.".to_owned()),
        is_valid: None,
        visible: None,
        inaccessible: false,
        tags: Vec::new(),
        specified_by_url: None,
        directive_invocations: Vec::new(),
        requires_scopes: Vec::new(),
    }
}

/// A GraphQL value (a literal or a variable) as serde_json's value.
pub fn to_json(value: GqlValue) -> Result<Value, String> {
    Ok(match value {
        GqlValue::Null => Value::Null,
        GqlValue::Boolean(b) => Value::Bool(b),
        GqlValue::Number(n) => Value::Number(n),
        GqlValue::String(s) => Value::String(s),
        GqlValue::Enum(name) => Value::String(name.to_string()),
        GqlValue::Binary(bytes) => Value::Array(bytes.iter().map(|b| Value::from(*b)).collect()),
        GqlValue::List(items) => Value::Array(
            items
                .into_iter()
                .map(to_json)
                .collect::<Result<Vec<_>, _>>()?,
        ),
        GqlValue::Object(map) => {
            if map.len() == 1
                && let Some(GqlValue::String(text)) = map.get(NUMBER_TOKEN)
            {
                // A variable's number that serde_json kept as text.
                return text
                    .parse::<serde_json::Number>()
                    .map(Value::Number)
                    .map_err(|_| format!("`{text}` is not a JSON number"));
            }
            let mut object = serde_json::Map::with_capacity(map.len());
            for (key, item) in map {
                object.insert(key.to_string(), to_json(item)?);
            }
            Value::Object(object)
        }
    })
}

/// Turns the numbers serde_json handed out as `{"$serde_json::private::Number": "…"}` objects
/// back into numbers, in a request's variables: so every argument sees a number where the
/// client sent one (an `Int` given `1.5` is refused as "found 1.5", not as an object).
pub fn exact_numbers(variables: &mut async_graphql::Variables) {
    for value in variables.values_mut() {
        restore_numbers(value);
    }
}

fn restore_numbers(value: &mut GqlValue) {
    match value {
        GqlValue::Object(map) => {
            if map.len() == 1
                && let Some(GqlValue::String(text)) = map.get(NUMBER_TOKEN)
                && let Ok(number) = text.parse::<serde_json::Number>()
            {
                *value = GqlValue::Number(number);
            } else {
                map.values_mut().for_each(restore_numbers);
            }
        }
        GqlValue::List(items) => items.iter_mut().for_each(restore_numbers),
        _ => {}
    }
}

/// serde_json's value as a GraphQL value.
pub fn from_json(value: &Value) -> GqlValue {
    match value {
        Value::Null => GqlValue::Null,
        Value::Bool(b) => GqlValue::Boolean(*b),
        Value::Number(n) => GqlValue::Number(n.clone()),
        Value::String(s) => GqlValue::String(s.clone()),
        Value::Array(items) => GqlValue::List(items.iter().map(from_json).collect()),
        Value::Object(map) => {
            let mut object = IndexMap::with_capacity(map.len());
            for (key, item) in map {
                object.insert(Name::new(key), from_json(item));
            }
            GqlValue::Object(object)
        }
    }
}

impl InputType for Json<Value> {
    type RawValueType = Value;

    fn type_name() -> Cow<'static, str> {
        Cow::Borrowed("JSON")
    }

    fn create_type_info(registry: &mut Registry) -> String {
        registry.create_input_type::<Self, _>(MetaTypeId::Scalar, |_| scalar_type())
    }

    fn parse(value: Option<GqlValue>) -> InputValueResult<Self> {
        to_json(value.unwrap_or_default())
            .map(Json)
            .map_err(InputValueError::custom)
    }

    fn to_value(&self) -> GqlValue {
        from_json(&self.0)
    }

    fn as_raw_value(&self) -> Option<&Self::RawValueType> {
        Some(&self.0)
    }
}

impl OutputType for Json<Value> {
    fn type_name() -> Cow<'static, str> {
        Cow::Borrowed("JSON")
    }

    fn create_type_info(registry: &mut Registry) -> String {
        registry.create_output_type::<Self, _>(MetaTypeId::Scalar, |_| scalar_type())
    }

    async fn resolve(
        &self,
        _ctx: &ContextSelectionSet<'_>,
        _field: &Positioned<Field>,
    ) -> ServerResult<GqlValue> {
        Ok(from_json(&self.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_keep_their_text_both_ways() {
        let text = r#"{"a":1500000000000000001,"b":[0.10,1e+400,-0],"c":{"d":null,"e":"x"}}"#;
        let value: Value = serde_json::from_str(text).unwrap();
        let gql = from_json(&value);
        assert_eq!(serde_json::to_string(&gql).unwrap(), text);
        // A request's variables, as the HTTP layer reads them, before and after
        // `exact_numbers`.
        let variables: GqlValue = serde_json::from_str(text).unwrap();
        assert_eq!(to_json(variables.clone()).unwrap(), value);
        let mut variables: async_graphql::Variables =
            serde_json::from_str(&format!(r#"{{"v":{text}}}"#)).unwrap();
        assert_ne!(variables["v"], gql);
        exact_numbers(&mut variables);
        assert_eq!(variables["v"], gql);
        assert_eq!(to_json(variables["v"].clone()).unwrap(), value);
    }
}
