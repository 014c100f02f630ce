//! Depth and complexity limits whose errors say by how much a query is over them.
//!
//! The schema keeps async-graphql's own limits ([`super::build_schema`]): they cost nothing on
//! the requests that pass. Their errors say only `Query is too complex.` or `Query is nested
//! too deep.`, so when one trips, [`QueryLimits::explain`] validates the request again on a
//! second copy of the schema whose only extension measures it and stops there: the error
//! then names the query's cost or depth, the limit, and the connections that ask for no
//! `first`/`last` (each counts as a whole default page). The main schema stays without
//! extensions, which would add per-field hooks to every request (see [`super::connection_lists`]).
//!
//! async-graphql's parser gives up on deep nesting with its own error (its recursion limit
//! of 32 selection sets) before the depth limit can speak, so [`QueryLimits::check_nesting`]
//! measures the nesting on the query text first, without parsing it. It counts the fields
//! and aliases written there too: parsing costs as much as the text is long (seconds for a
//! body of 50,000 aliases in a debug build), so a query already too wide on its text is
//! refused before it is parsed; [`super::width`] measures the parsed document, fragments
//! expanded, before it runs.

mod nesting;

use std::collections::HashSet;
use std::sync::{Arc, Mutex, PoisonError};

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextParseQuery, NextValidation,
};
use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};
use async_graphql::registry::{MetaTypeName, Registry};
use async_graphql::{
    ErrorExtensionValues, Request, Schema, ServerError, ServerResult, ValidationResult, Variables,
};

use super::width::WidthLimits;
use super::{AppSchema, SchemaConfig, args, mutation, query};
use crate::error::code;
use nesting::Nesting;

/// async-graphql's messages for its two limits.
const TOO_COMPLEX: &str = "Query is too complex.";
const TOO_DEEP: &str = "Query is nested too deep.";

/// The depth and complexity limits of the server, and the schema that measures a refused query.
pub struct QueryLimits {
    max_depth: usize,
    width: WidthLimits,
    measure: AppSchema,
}

impl QueryLimits {
    /// The limits of `config`.
    pub fn new(config: &SchemaConfig) -> Self {
        let measure = Schema::build(
            query::QueryRoot,
            mutation::MutationRoot::default(),
            crate::graphql::subscription::SubscriptionRoot,
        )
        .extension(Measure {
            max_depth: config.max_depth,
            max_complexity: config.max_complexity,
        })
        .finish();
        Self {
            max_depth: config.max_depth,
            width: config.width,
            measure,
        }
    }

    /// Refuses, before it is parsed, a query whose fields nest deeper than the limit (counted
    /// on its text: the selection sets of its operations and fragments, not inline fragments),
    /// or whose text alone has more fields or aliases than the width limits allow.
    pub fn check_nesting(&self, query: &str) -> Result<(), ServerError> {
        let nesting = Nesting::of(query);
        self.width
            .check_written(nesting.fields, nesting.aliases, nesting.named_spreads)?;
        if nesting.depth <= self.max_depth {
            return Ok(());
        }
        let levels = if nesting.named_spreads {
            format!("at least {} levels", nesting.depth)
        } else {
            format!("{} levels", nesting.depth)
        };
        Err(too_deep(&levels, nesting.depth, self.max_depth))
    }

    /// Whether `error` is one of async-graphql's bare limit errors, which
    /// [`QueryLimits::explain`] can say more about.
    pub fn is_limit_error(error: &ServerError) -> bool {
        error.message == TOO_COMPLEX || error.message == TOO_DEEP
    }

    /// The error of a `request` async-graphql refused as too complex or too deep, with its
    /// numbers; `None` when it passes the limits after all.
    pub async fn explain(&self, request: Request) -> Option<ServerError> {
        let response = self.measure.execute(request).await;
        response.errors.into_iter().find(|error| {
            error.extensions.as_ref().is_some_and(|ext| {
                ext.get("code").is_some_and(|code| {
                    *code == async_graphql::Value::from(code::QUERY_TOO_DEEP)
                        || *code == async_graphql::Value::from(code::QUERY_TOO_COMPLEX)
                })
            })
        })
    }
}

fn too_deep(levels: &str, depth: usize, limit: usize) -> ServerError {
    let mut error = ServerError::new(
        format!(
            "Query is nested too deep: its fields nest {levels}, more than the limit of {limit}."
        ),
        None,
    );
    let mut extensions = ErrorExtensionValues::default();
    extensions.set("code", code::QUERY_TOO_DEEP);
    extensions.set("depth", depth);
    extensions.set("maxDepth", limit);
    error.extensions = Some(extensions);
    error
}

fn too_complex(complexity: usize, limit: usize, unpaged: &[String]) -> ServerError {
    let page = args::page_cost(None, None);
    let mut message = format!(
        "Query is too complex: it costs {complexity}, more than the limit of {limit}. Each \
         field costs 1, and a connection costs 1 plus the cost of what it selects times its \
         page size (`first` or `last`, else {page})."
    );
    if !unpaged.is_empty() {
        let names: Vec<String> = unpaged.iter().map(|path| format!("`{path}`")).collect();
        message.push_str(&format!(
            " Without `first` or `last`, {} {} as a page of {page}: add `first` with the \
             number of items you need.",
            names.join(", "),
            if names.len() == 1 { "counts" } else { "count" }
        ));
    }
    let mut error = ServerError::new(message, None);
    let mut extensions = ErrorExtensionValues::default();
    extensions.set("code", code::QUERY_TOO_COMPLEX);
    extensions.set("complexity", complexity);
    extensions.set("maxComplexity", limit);
    error.extensions = Some(extensions);
    error
}

/// The extension of the measuring schema: it keeps the parsed document, and at validation
/// turns the measured depth and complexity into the limit's error. It never lets a request
/// execute.
struct Measure {
    max_depth: usize,
    max_complexity: usize,
}

impl ExtensionFactory for Measure {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(MeasureRequest {
            max_depth: self.max_depth,
            max_complexity: self.max_complexity,
            document: Mutex::new(None),
        })
    }
}

struct MeasureRequest {
    max_depth: usize,
    max_complexity: usize,
    document: Mutex<Option<ExecutableDocument>>,
}

#[async_graphql::async_trait::async_trait]
impl Extension for MeasureRequest {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let document = next.run(ctx, query, variables).await?;
        *self.document.lock().unwrap_or_else(PoisonError::into_inner) = Some(document.clone());
        Ok(document)
    }

    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        let measured = next.run(ctx).await?;
        let error = if measured.complexity > self.max_complexity {
            let document = self
                .document
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .take();
            let unpaged = document
                .map(|doc| unpaged_connections(&ctx.schema_env.registry, &doc))
                .unwrap_or_default();
            too_complex(measured.complexity, self.max_complexity, &unpaged)
        } else if measured.depth > self.max_depth {
            too_deep(
                &format!("{} levels", measured.depth),
                measured.depth,
                self.max_depth,
            )
        } else {
            ServerError::new("within the limits", None)
        };
        Err(vec![error])
    }
}

/// The paths (response keys from the root, e.g. `sources.nodes.properties`) of the connection
/// fields in `document` that are given neither `first` nor `last`.
fn unpaged_connections(registry: &Registry, document: &ExecutableDocument) -> Vec<String> {
    let mut walk = Walk {
        registry,
        document,
        found: Vec::new(),
    };
    for (_, operation) in document.operations.iter() {
        let root = match operation.node.ty {
            async_graphql::parser::types::OperationType::Query => Some(&registry.query_type),
            async_graphql::parser::types::OperationType::Mutation => {
                registry.mutation_type.as_ref()
            }
            async_graphql::parser::types::OperationType::Subscription => {
                registry.subscription_type.as_ref()
            }
        };
        if let Some(root) = root {
            walk.selection_set(root, &operation.node.selection_set.node, "", 0);
        }
    }
    let mut seen = HashSet::new();
    walk.found.retain(|path| seen.insert(path.clone()));
    walk.found
}

struct Walk<'a> {
    registry: &'a Registry,
    document: &'a ExecutableDocument,
    found: Vec<String>,
}

impl Walk<'_> {
    fn selection_set(&mut self, type_name: &str, set: &SelectionSet, path: &str, depth: usize) {
        // Validation has refused fragment cycles; this only bounds the walk.
        if depth > 64 {
            return;
        }
        for selection in &set.items {
            match &selection.node {
                Selection::Field(field) => {
                    let field = &field.node;
                    let Some(meta) = self
                        .registry
                        .types
                        .get(type_name)
                        .and_then(|ty| ty.field_by_name(field.name.node.as_str()))
                    else {
                        continue;
                    };
                    let key = field.response_key().node.as_str();
                    let here = if path.is_empty() {
                        key.to_owned()
                    } else {
                        format!("{path}.{key}")
                    };
                    let paged = |name: &str| meta.args.contains_key(name);
                    let given = |name: &str| field.arguments.iter().any(|(n, _)| n.node == name);
                    if paged("first") && paged("last") && !given("first") && !given("last") {
                        self.found.push(here.clone());
                    }
                    let child = MetaTypeName::concrete_typename(&meta.ty);
                    self.selection_set(child, &field.selection_set.node, &here, depth + 1);
                }
                Selection::FragmentSpread(spread) => {
                    let name = &spread.node.fragment_name.node;
                    if let Some(fragment) = self.document.fragments.get(name) {
                        let on = fragment.node.type_condition.node.on.node.as_str();
                        self.selection_set(on, &fragment.node.selection_set.node, path, depth + 1);
                    }
                }
                Selection::InlineFragment(inline) => {
                    let on = inline
                        .node
                        .type_condition
                        .as_ref()
                        .map_or(type_name, |c| c.node.on.node.as_str());
                    self.selection_set(on, &inline.node.selection_set.node, path, depth + 1);
                }
            }
        }
    }
}
