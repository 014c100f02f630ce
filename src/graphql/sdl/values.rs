//! Literals in the SDL: strings, block strings, and default values, printed as graphql-js 16
//! prints them.
//!
//! graphql-js does not print a default value as introspection gives it: `buildClientSchema`
//! parses and coerces it to the argument's type (`valueFromAST`), and `printSchema` prints the
//! coerced value back (`astFromValue`). So `[READ]` for `[ApiKeyScope!]` stays `[READ]`, `READ`
//! becomes `[READ]`, `1.50` for a `Float` becomes `1.5`, an input object gains the defaults of its
//! fields in their declared order, and a value that does not coerce is not printed at all.
//! [`DefaultValues`] does the same.

use std::collections::HashMap;

use async_graphql::parser::parse_query;
use async_graphql::parser::types::DocumentOperations;
use async_graphql::{Name, Value as ConstValue};

use super::introspection::{FullType, Kind, TypeRef};

/// A value as graphql-js holds it after coercion (a JavaScript value).
#[derive(Clone, Debug, PartialEq)]
enum Coerced {
    Null,
    Boolean(bool),
    Number(f64),
    String(String),
    List(Vec<Coerced>),
    Object(Vec<(String, Coerced)>),
}

/// Prints default values against the types of one schema.
pub(super) struct DefaultValues<'a> {
    types: &'a HashMap<&'a str, &'a FullType>,
}

impl<'a> DefaultValues<'a> {
    pub(super) fn new(types: &'a HashMap<&'a str, &'a FullType>) -> Self {
        Self { types }
    }

    /// The default value `raw` (GraphQL syntax, as introspection gives it) of an input of type
    /// `ty`, as `printSchema` prints it; `None` when graphql-js prints none (it does not
    /// coerce).
    pub(super) fn print(&self, ty: &TypeRef, raw: &str) -> Result<Option<String>, String> {
        let value = parse_value(ty, raw)?;
        match self.coerce(&value, ty)? {
            None => Ok(None),
            Some(coerced) => self.literal(&coerced, ty),
        }
    }

    /// graphql-js's `valueFromAST`: the value of `value` as an input of type `ty`, `None` when it
    /// is not one.
    fn coerce(&self, value: &ConstValue, ty: &TypeRef) -> Result<Option<Coerced>, String> {
        match (ty.kind, &ty.of_type) {
            (Kind::NonNull, Some(inner)) => {
                if *value == ConstValue::Null {
                    Ok(None)
                } else {
                    self.coerce(value, inner)
                }
            }
            _ if *value == ConstValue::Null => Ok(Some(Coerced::Null)),
            (Kind::List, Some(item)) => match value {
                ConstValue::List(items) => {
                    let mut coerced = Vec::with_capacity(items.len());
                    for value in items {
                        match self.coerce(value, item)? {
                            Some(value) => coerced.push(value),
                            None => return Ok(None),
                        }
                    }
                    Ok(Some(Coerced::List(coerced)))
                }
                _ => Ok(self.coerce(value, item)?.map(|v| Coerced::List(vec![v]))),
            },
            _ => {
                let named = self.named(ty)?;
                match named.kind {
                    Kind::InputObject => self.coerce_object(value, named),
                    Kind::Enum => Ok(match value {
                        ConstValue::Enum(name)
                            if named
                                .enum_values
                                .as_deref()
                                .unwrap_or_default()
                                .iter()
                                .any(|v| v.name == name.as_str()) =>
                        {
                            Some(Coerced::String(name.to_string()))
                        }
                        _ => None,
                    }),
                    Kind::Scalar => Ok(coerce_scalar(&named.name, value)),
                    _ => Err(format!("`{}` is not an input type", named.name)),
                }
            }
        }
    }

    fn coerce_object(&self, value: &ConstValue, ty: &FullType) -> Result<Option<Coerced>, String> {
        let ConstValue::Object(given) = value else {
            return Ok(None);
        };
        let mut fields = Vec::new();
        for field in ty.input_fields.as_deref().unwrap_or_default() {
            match given.get(field.name.as_str()) {
                Some(value) => match self.coerce(value, &field.ty)? {
                    Some(value) => fields.push((field.name.clone(), value)),
                    None => return Ok(None),
                },
                None => {
                    // A default that does not coerce counts as none, as in `buildClientSchema`.
                    let default = match &field.default_value {
                        Some(raw) => self.coerce(&parse_value(&field.ty, raw)?, &field.ty)?,
                        None => None,
                    };
                    match default {
                        Some(value) => fields.push((field.name.clone(), value)),
                        None if field.ty.kind == Kind::NonNull => return Ok(None),
                        None => {}
                    }
                }
            }
        }
        if ty.is_one_of == Some(true)
            && (fields.len() != 1 || fields.first().is_some_and(|(_, v)| *v == Coerced::Null))
        {
            return Ok(None);
        }
        Ok(Some(Coerced::Object(fields)))
    }

    /// graphql-js's `astFromValue`, printed: the literal of `value` as an input of type `ty`.
    fn literal(&self, value: &Coerced, ty: &TypeRef) -> Result<Option<String>, String> {
        match (ty.kind, &ty.of_type) {
            (Kind::NonNull, Some(inner)) => Ok(self
                .literal(value, inner)?
                .filter(|literal| literal != "null")),
            _ if *value == Coerced::Null => Ok(Some("null".to_owned())),
            (Kind::List, Some(item)) => match value {
                Coerced::List(items) => {
                    let mut printed = Vec::with_capacity(items.len());
                    for value in items {
                        if let Some(literal) = self.literal(value, item)? {
                            printed.push(literal);
                        }
                    }
                    Ok(Some(format!("[{}]", printed.join(", "))))
                }
                _ => self.literal(value, item),
            },
            _ => {
                let named = self.named(ty)?;
                match (named.kind, value) {
                    (Kind::InputObject, Coerced::Object(given)) => {
                        let mut printed = Vec::new();
                        for field in named.input_fields.as_deref().unwrap_or_default() {
                            let Some((_, value)) = given.iter().find(|(n, _)| *n == field.name)
                            else {
                                continue;
                            };
                            if let Some(literal) = self.literal(value, &field.ty)? {
                                printed.push(format!("{}: {literal}", field.name));
                            }
                        }
                        Ok(Some(format!("{{{}}}", printed.join(", "))))
                    }
                    (Kind::InputObject, _) => Ok(None),
                    (Kind::Enum, Coerced::String(name)) => Ok(Some(name.clone())),
                    (_, Coerced::Boolean(b)) => Ok(Some(b.to_string())),
                    (_, Coerced::Number(n)) if n.is_finite() => Ok(Some(js_number(*n))),
                    (_, Coerced::String(s)) if named.name == "ID" && is_integer_text(s) => {
                        Ok(Some(s.clone()))
                    }
                    (_, Coerced::String(s)) => Ok(Some(string_literal(s))),
                    _ => Err(format!(
                        "graphql-js cannot print this value of `{}` either",
                        named.name
                    )),
                }
            }
        }
    }

    fn named(&self, ty: &TypeRef) -> Result<&'a FullType, String> {
        let name = ty.name.as_deref().unwrap_or_default();
        self.types
            .get(name)
            .copied()
            .ok_or_else(|| format!("unknown type `{name}`"))
    }
}

/// A scalar's `parseLiteral` in graphql-js: the standard scalars accept their own literals,
/// a custom scalar takes any literal as plain data.
fn coerce_scalar(name: &str, value: &ConstValue) -> Option<Coerced> {
    match (name, value) {
        ("Int", ConstValue::Number(n)) => n
            .as_i64()
            .and_then(|i| i32::try_from(i).ok())
            .map(|i| Coerced::Number(f64::from(i))),
        ("Float", ConstValue::Number(n)) => n.as_f64().map(Coerced::Number),
        ("String", ConstValue::String(s)) => Some(Coerced::String(s.clone())),
        ("Boolean", ConstValue::Boolean(b)) => Some(Coerced::Boolean(*b)),
        ("ID", ConstValue::String(s)) => Some(Coerced::String(s.clone())),
        ("ID", ConstValue::Number(n)) if n.is_i64() || n.is_u64() => {
            Some(Coerced::String(n.to_string()))
        }
        ("Int" | "Float" | "String" | "Boolean" | "ID", _) => None,
        (_, value) => Some(untyped(value)),
    }
}

/// graphql-js's `valueFromASTUntyped`.
fn untyped(value: &ConstValue) -> Coerced {
    match value {
        ConstValue::Null => Coerced::Null,
        ConstValue::Number(n) => Coerced::Number(n.as_f64().unwrap_or(f64::NAN)),
        ConstValue::String(s) => Coerced::String(s.clone()),
        ConstValue::Boolean(b) => Coerced::Boolean(*b),
        ConstValue::Enum(name) => Coerced::String(name.to_string()),
        ConstValue::Binary(bytes) => Coerced::String(String::from_utf8_lossy(bytes).into_owned()),
        ConstValue::List(items) => Coerced::List(items.iter().map(untyped).collect()),
        ConstValue::Object(fields) => Coerced::Object(
            fields
                .iter()
                .map(|(name, value)| (name.to_string(), untyped(value)))
                .collect(),
        ),
    }
}

/// Parses a default value with async-graphql's own parser, as the default of a variable of
/// type `ty`.
fn parse_value(ty: &TypeRef, raw: &str) -> Result<ConstValue, String> {
    let document = parse_query(format!("query($v: {ty} = {raw}) {{ __typename }}"))
        .map_err(|err| format!("not a GraphQL value: {err}"))?;
    let operation = match document.operations {
        DocumentOperations::Single(operation) => operation,
        DocumentOperations::Multiple(_) => return Err("not a GraphQL value".to_owned()),
    };
    operation
        .node
        .variable_definitions
        .into_iter()
        .find(|v| v.node.name.node == Name::new("v"))
        .and_then(|v| v.node.default_value)
        .map(|v| v.node)
        .ok_or_else(|| "not a GraphQL value".to_owned())
}

/// Whether `s` is an integer as graphql-js's `integerStringRegExp` has it.
fn is_integer_text(s: &str) -> bool {
    let digits = s.strip_prefix('-').unwrap_or(s);
    !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (digits == "0" || !digits.starts_with('0'))
}

/// A number as JavaScript's `String(number)` writes it.
fn js_number(n: f64) -> String {
    if n == 0.0 {
        return "0".to_owned();
    }
    let magnitude = n.abs();
    if (1e-6..1e21).contains(&magnitude) {
        return format!("{n}");
    }
    let text = format!("{n:e}");
    match text.split_once('e') {
        Some((mantissa, exponent)) if !exponent.starts_with('-') => {
            format!("{mantissa}e+{exponent}")
        }
        _ => text,
    }
}

/// A string literal with graphql-js's escapes (`printString`).
pub(super) fn string_literal(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '\u{8}' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\u{c}' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{0}'..='\u{1f}' | '\u{7f}'..='\u{9f}' => {
                out.push_str(&format!("\\u{:04X}", u32::from(c)));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// graphql-js's `isPrintableAsBlockString`: whether a block string holds `s` exactly.
pub(super) fn printable_as_block_string(s: &str) -> bool {
    if s.is_empty() {
        return true;
    }
    let mut is_empty_line = true;
    let mut has_indent = false;
    let mut has_common_indent = true;
    let mut seen_non_empty_line = false;
    for c in s.chars() {
        match c {
            '\u{0}'..='\u{8}' | '\u{b}' | '\u{c}' | '\u{e}' | '\u{f}' | '\r' => return false,
            '\n' => {
                if is_empty_line && !seen_non_empty_line {
                    return false;
                }
                seen_non_empty_line = true;
                is_empty_line = true;
                has_indent = false;
            }
            '\t' | ' ' => has_indent = has_indent || is_empty_line,
            _ => {
                has_common_indent = has_common_indent && has_indent;
                is_empty_line = false;
            }
        }
    }
    // Not with trailing empty lines, nor with an indentation common to every line.
    let common_indent = has_common_indent && seen_non_empty_line;
    !is_empty_line && !common_indent
}

/// graphql-js's `printBlockString` (not minimised).
pub(super) fn block_string(s: &str) -> String {
    let escaped = s.replace("\"\"\"", "\\\"\"\"");
    let lines: Vec<&str> = escaped.split('\n').collect();
    let single_line = lines.len() == 1;
    let starts_with_space = |line: &str| line.starts_with([' ', '\t']);
    let force_leading_newline = lines.len() > 1
        && lines[1..]
            .iter()
            .all(|l| l.is_empty() || starts_with_space(l));
    let trailing_triple_quotes = escaped.ends_with("\\\"\"\"");
    let trailing_quote = s.ends_with('"') && !trailing_triple_quotes;
    let trailing_slash = s.ends_with('\\');
    let force_trailing_newline = trailing_quote || trailing_slash;
    let multiple_lines = !single_line
        || s.encode_utf16().count() > 70
        || force_trailing_newline
        || force_leading_newline
        || trailing_triple_quotes;
    let skip_leading_newline = single_line && starts_with_space(s);
    let mut out = String::from("\"\"\"");
    if (multiple_lines && !skip_leading_newline) || force_leading_newline {
        out.push('\n');
    }
    out.push_str(&escaped);
    if multiple_lines || force_trailing_newline {
        out.push('\n');
    }
    out.push_str("\"\"\"");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_print_as_javascript_does() {
        assert_eq!(js_number(30.0), "30");
        assert_eq!(js_number(1.5), "1.5");
        assert_eq!(js_number(-0.25), "-0.25");
        assert_eq!(js_number(1e21), "1e+21");
        assert_eq!(js_number(1.5e-7), "1.5e-7");
        assert_eq!(js_number(0.000_001), "0.000001");
        assert_eq!(js_number(123_456_789_012.0), "123456789012");
    }

    #[test]
    fn strings_escape_as_graphql_js_does() {
        assert_eq!(
            string_literal("a\"b\\c\nd\u{1}\u{7f}é"),
            r#""a\"b\\c\nd\u0001\u007Fé""#
        );
    }

    #[test]
    fn block_strings_follow_graphql_js() {
        assert_eq!(block_string("Short."), r#""""Short.""""#);
        assert_eq!(block_string("One\ntwo"), "\"\"\"\nOne\ntwo\n\"\"\"");
        assert_eq!(block_string(" indented"), "\"\"\" indented\"\"\"");
        assert_eq!(block_string("ends with \""), "\"\"\"\nends with \"\n\"\"\"");
        assert!(!printable_as_block_string("\nleading newline"));
        assert!(!printable_as_block_string("trailing empty line\n"));
        assert!(!printable_as_block_string("  all\n  indented"));
        assert!(printable_as_block_string("first\n  then indented"));
    }
}
