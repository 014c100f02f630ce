//! The SDL of the schema as a client sees it: `schema.graphql` and `sync-manager export-schema`.
//!
//! A client that builds its schema by introspection (graphql-js `buildClientSchema` and
//! `printSchema`, and the code generators and IDEs built on them) must get exactly the file we
//! publish. async-graphql's own `sdl()` differs from that (it drops `@specifiedBy`, prints the
//! standard scalars, indents with tabs), so [`schema_sdl`] runs graphql-js's introspection query
//! ([`INTROSPECTION_QUERY`]) against the schema and prints the answer the way graphql-js 16's
//! `printSchema(buildClientSchema(answer))` does: types in the order introspection lists them,
//! the standard scalars, directives and introspection types left out, descriptions as block
//! strings where they can be, default values re-printed from their coerced value, and no
//! `schema { … }` block while the root types are named `Query`, `Mutation` and `Subscription`.
//! A test runs graphql-js itself on the served introspection and compares (README,
//! Development).

mod introspection;
mod values;

use std::collections::HashMap;
use std::fmt::Write as _;

use async_graphql::Schema;
use introspection::{Answer, Directive, FullType, InputValue, IntrospectionSchema, Kind};

use super::{mutation, query};

/// The introspection query graphql-js sends, with every option this server answers.
pub const INTROSPECTION_QUERY: &str = include_str!("introspection.graphql");

/// Why the SDL could not be printed (a bug of the schema or of this printer, never of a client).
#[derive(Debug, thiserror::Error)]
pub enum SdlError {
    /// The introspection query failed.
    #[error("introspection failed: {0}")]
    Introspection(String),
    /// The answer is not what the introspection query asks for.
    #[error("unexpected introspection answer: {0}")]
    Answer(#[from] serde_json::Error),
    /// A default value that graphql-js cannot print either.
    #[error("cannot print the default value `{value}` of {owner}: {reason}")]
    DefaultValue {
        /// Where the default value is, e.g. `Query.sources(first:)`.
        owner: String,
        /// The default value as introspection gives it.
        value: String,
        /// What is wrong with it.
        reason: String,
    },
}

/// The SDL of the schema the server serves, as `schema.graphql` holds it (with a final newline,
/// as `console.log(printSchema(…))` writes it).
pub async fn schema_sdl() -> Result<String, SdlError> {
    let schema = Schema::build(
        query::QueryRoot,
        mutation::MutationRoot::default(),
        super::subscription::SubscriptionRoot,
    )
    .finish();
    let response = schema.execute(INTROSPECTION_QUERY).await;
    if let Some(err) = response.errors.first() {
        return Err(SdlError::Introspection(err.message.clone()));
    }
    let data = response
        .data
        .into_json()
        .map_err(|err| SdlError::Introspection(err.to_string()))?;
    let mut sdl = print_introspection(data)?;
    sdl.push('\n');
    Ok(sdl)
}

/// Prints the `data` of an answer to [`INTROSPECTION_QUERY`] as graphql-js's
/// `printSchema(buildClientSchema(data))` does (without a final newline).
pub fn print_introspection(data: serde_json::Value) -> Result<String, SdlError> {
    let answer: Answer = serde_json::from_value(data)?;
    Printer::new(&answer.schema).print()
}

/// The scalars, directives and types graphql-js's `printSchema` leaves out (by name, as it
/// does).
const SPECIFIED_SCALARS: [&str; 5] = ["String", "Int", "Float", "Boolean", "ID"];
const SPECIFIED_DIRECTIVES: [&str; 5] = ["include", "skip", "deprecated", "specifiedBy", "oneOf"];
const INTROSPECTION_TYPES: [&str; 8] = [
    "__Schema",
    "__Directive",
    "__DirectiveLocation",
    "__Type",
    "__Field",
    "__InputValue",
    "__EnumValue",
    "__TypeKind",
];
/// The reason `@deprecated` stands for when it has no argument.
const DEFAULT_DEPRECATION_REASON: &str = "No longer supported";

struct Printer<'a> {
    schema: &'a IntrospectionSchema,
    types: HashMap<&'a str, &'a FullType>,
}

impl<'a> Printer<'a> {
    fn new(schema: &'a IntrospectionSchema) -> Self {
        let types = schema.types.iter().map(|t| (t.name.as_str(), t)).collect();
        Self { schema, types }
    }

    fn print(&self) -> Result<String, SdlError> {
        let mut blocks = Vec::new();
        if let Some(definition) = self.schema_definition() {
            blocks.push(definition);
        }
        for directive in &self.schema.directives {
            if !SPECIFIED_DIRECTIVES.contains(&directive.name.as_str()) {
                blocks.push(self.directive(directive)?);
            }
        }
        for ty in &self.schema.types {
            let name = ty.name.as_str();
            if !SPECIFIED_SCALARS.contains(&name) && !INTROSPECTION_TYPES.contains(&name) {
                blocks.push(self.named_type(ty)?);
            }
        }
        Ok(blocks.join("\n\n"))
    }

    fn schema_definition(&self) -> Option<String> {
        let roots = [
            ("query", &self.schema.query_type, "Query"),
            ("mutation", &self.schema.mutation_type, "Mutation"),
            (
                "subscription",
                &self.schema.subscription_type,
                "Subscription",
            ),
        ];
        let common_names = roots
            .iter()
            .all(|(_, root, common)| root.as_ref().is_none_or(|r| r.name == *common));
        if self.schema.description.is_none() && common_names {
            return None;
        }
        let operations: Vec<String> = roots
            .iter()
            .filter_map(|(operation, root, _)| {
                root.as_ref().map(|r| format!("  {operation}: {}", r.name))
            })
            .collect();
        Some(format!(
            "{}schema {{\n{}\n}}",
            description(self.schema.description.as_deref(), "", true),
            operations.join("\n")
        ))
    }

    fn directive(&self, directive: &Directive) -> Result<String, SdlError> {
        let owner = format!("@{}", directive.name);
        Ok(format!(
            "{}directive @{}{}{}{} on {}",
            description(directive.description.as_deref(), "", true),
            directive.name,
            self.arguments(&owner, &directive.args, "")?,
            deprecated(directive.deprecation_reason.as_deref()),
            if directive.is_repeatable == Some(true) {
                " repeatable"
            } else {
                ""
            },
            directive.locations.join(" | ")
        ))
    }

    /// The definition of a named type, with its description.
    fn named_type(&self, ty: &FullType) -> Result<String, SdlError> {
        let mut out = description(ty.description.as_deref(), "", true);
        match ty.kind {
            Kind::Scalar => {
                let _ = write!(out, "scalar {}", ty.name);
                if let Some(url) = &ty.specified_by_url {
                    let _ = write!(out, " @specifiedBy(url: {})", values::string_literal(url));
                }
            }
            Kind::Object | Kind::Interface => self.object_type(ty, &mut out)?,
            Kind::Union => {
                let _ = write!(out, "union {}", ty.name);
                let members = ty.possible_types.as_deref().unwrap_or_default();
                if !members.is_empty() {
                    let names: Vec<String> = members.iter().map(ToString::to_string).collect();
                    let _ = write!(out, " = {}", names.join(" | "));
                }
            }
            Kind::Enum => enum_type(ty, &mut out),
            Kind::InputObject => self.input_object_type(ty, &mut out)?,
            Kind::List | Kind::NonNull => {
                return Err(SdlError::Introspection(format!(
                    "`{}` is listed as a type but is a wrapper",
                    ty.name
                )));
            }
        }
        Ok(out)
    }

    /// An object type or interface: its name, interfaces and fields, appended to `out`.
    fn object_type(&self, ty: &FullType, out: &mut String) -> Result<(), SdlError> {
        let keyword = if ty.kind == Kind::Object {
            "type"
        } else {
            "interface"
        };
        let _ = write!(out, "{keyword} {}", ty.name);
        let interfaces = ty.interfaces.as_deref().unwrap_or_default();
        if !interfaces.is_empty() {
            let names: Vec<String> = interfaces.iter().map(ToString::to_string).collect();
            let _ = write!(out, " implements {}", names.join(" & "));
        }
        let mut lines = Vec::new();
        for (i, field) in ty.fields.as_deref().unwrap_or_default().iter().enumerate() {
            let owner = format!("{}.{}", ty.name, field.name);
            lines.push(format!(
                "{}  {}{}: {}{}",
                description(field.description.as_deref(), "  ", i == 0),
                field.name,
                self.arguments(&owner, &field.args, "  ")?,
                field.ty,
                deprecated(field.deprecation_reason.as_deref())
            ));
        }
        out.push_str(&block(&lines));
        Ok(())
    }

    /// An input object type: its name and fields, appended to `out`.
    fn input_object_type(&self, ty: &FullType, out: &mut String) -> Result<(), SdlError> {
        let _ = write!(out, "input {}", ty.name);
        if ty.is_one_of == Some(true) {
            out.push_str(" @oneOf");
        }
        let mut lines = Vec::new();
        for (i, field) in ty
            .input_fields
            .as_deref()
            .unwrap_or_default()
            .iter()
            .enumerate()
        {
            let owner = format!("{}.{}", ty.name, field.name);
            lines.push(format!(
                "{}  {}",
                description(field.description.as_deref(), "  ", i == 0),
                self.input_value(&owner, field)?
            ));
        }
        out.push_str(&block(&lines));
        Ok(())
    }

    /// The argument list of a field or directive: on one line when no argument has a
    /// description, else one argument a line.
    fn arguments(
        &self,
        owner: &str,
        args: &[InputValue],
        indentation: &str,
    ) -> Result<String, SdlError> {
        if args.is_empty() {
            return Ok(String::new());
        }
        let undescribed = args
            .iter()
            .all(|a| a.description.as_deref().is_none_or(str::is_empty));
        if undescribed {
            let printed = args
                .iter()
                .map(|arg| self.input_value(&format!("{owner}({}:)", arg.name), arg))
                .collect::<Result<Vec<_>, _>>()?;
            return Ok(format!("({})", printed.join(", ")));
        }
        let inner = format!("  {indentation}");
        let mut lines = Vec::new();
        for (i, arg) in args.iter().enumerate() {
            lines.push(format!(
                "{}{inner}{}",
                description(arg.description.as_deref(), &inner, i == 0),
                self.input_value(&format!("{owner}({}:)", arg.name), arg)?
            ));
        }
        Ok(format!("(\n{}\n{indentation})", lines.join("\n")))
    }

    /// `name: Type = default @deprecated(…)`.
    fn input_value(&self, owner: &str, value: &InputValue) -> Result<String, SdlError> {
        let mut out = format!("{}: {}", value.name, value.ty);
        if let Some(default) = &value.default_value {
            let printed = values::DefaultValues::new(&self.types)
                .print(&value.ty, default)
                .map_err(|reason| SdlError::DefaultValue {
                    owner: owner.to_owned(),
                    value: default.clone(),
                    reason,
                })?;
            if let Some(printed) = printed {
                let _ = write!(out, " = {printed}");
            }
        }
        out.push_str(&deprecated(value.deprecation_reason.as_deref()));
        Ok(out)
    }
}

/// An enum type: its name and values, appended to `out`.
fn enum_type(ty: &FullType, out: &mut String) {
    let _ = write!(out, "enum {}", ty.name);
    let lines: Vec<String> = ty
        .enum_values
        .as_deref()
        .unwrap_or_default()
        .iter()
        .enumerate()
        .map(|(i, value)| {
            format!(
                "{}  {}{}",
                description(value.description.as_deref(), "  ", i == 0),
                value.name,
                deprecated(value.deprecation_reason.as_deref())
            )
        })
        .collect();
    out.push_str(&block(&lines));
}

/// ` {\n…\n}` around the lines of a type, or nothing when there are none.
fn block(lines: &[String]) -> String {
    if lines.is_empty() {
        String::new()
    } else {
        format!(" {{\n{}\n}}", lines.join("\n"))
    }
}

/// ` @deprecated`, with the reason unless it is the default one.
fn deprecated(reason: Option<&str>) -> String {
    match reason {
        None => String::new(),
        Some(DEFAULT_DEPRECATION_REASON) => " @deprecated".to_owned(),
        Some(reason) => format!(" @deprecated(reason: {})", values::string_literal(reason)),
    }
}

/// A description above a definition: a block string where one can hold it, indented; a
/// description that is not the first of its block gets an empty line before it.
fn description(text: Option<&str>, indentation: &str, first_in_block: bool) -> String {
    let Some(text) = text else {
        return String::new();
    };
    let literal = if values::printable_as_block_string(text) {
        values::block_string(text)
    } else {
        values::string_literal(text)
    };
    let prefix = if !indentation.is_empty() && !first_in_block {
        format!("\n{indentation}")
    } else {
        indentation.to_owned()
    };
    format!(
        "{prefix}{}\n",
        literal.replace('\n', &format!("\n{indentation}"))
    )
}
