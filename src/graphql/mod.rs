//! The GraphQL API: a thin door over [`crate::domain`].
//!
//! [`build_schema`] knows nothing of HTTP: the server attaches the request's
//! [`context::RequestAuth`] per request, and resolvers turn it into a tenant scope with
//! [`context::scope`]. Types in [`types`] convert from entities with `From`, so the database
//! can change without changing the API.

pub(crate) mod args;
pub(crate) mod catalog;
pub(crate) mod coercion;
pub(crate) mod conform;
pub(crate) mod connection;
pub(crate) mod connection_lists;
pub(crate) mod context;
pub(crate) mod idempotency;
pub(crate) mod input_errors;
pub(crate) mod invalid_input;
pub(crate) mod json;
pub(crate) mod limits;
pub(crate) mod loaders;
pub(crate) mod mutation;
pub(crate) mod node;
pub(crate) mod parsed;
pub(crate) mod passes;
pub(crate) mod persisted;
pub(crate) mod query;
pub mod sdl;
pub(crate) mod shape;
pub(crate) mod storable;
pub(crate) mod subscription;
pub(crate) mod types;
pub(crate) mod width;
pub(crate) mod wire;

use std::sync::Arc;

use async_graphql::{Request, Response, Schema};
use sea_orm::DatabaseConnection;

use crate::store::pager::PageLimits;
use shape::SchemaShape;

/// The schema type the server executes.
pub(crate) type AppSchema =
    Schema<query::QueryRoot, mutation::MutationRoot, subscription::SubscriptionRoot>;

/// What the schema needs beyond the database.
#[derive(Clone, Copy, Debug)]
pub(crate) struct SchemaConfig {
    /// Paging limits of every connection.
    pub(crate) page_limits: PageLimits,
    /// Deepest query accepted.
    pub(crate) max_depth: usize,
    /// Most complex query accepted.
    pub(crate) max_complexity: usize,
    /// Whether introspection queries are answered.
    pub(crate) introspection: bool,
    /// Most items a list argument may hold.
    pub(crate) max_list_items: usize,
    /// How many fields, aliases and root fields a request may select.
    pub(crate) width: width::WidthLimits,
    /// How many hours idempotency keys are kept.
    pub(crate) idempotency_key_hours: u32,
}

impl Default for SchemaConfig {
    fn default() -> Self {
        Self {
            page_limits: PageLimits::default(),
            max_depth: 16,
            max_complexity: 250_000,
            introspection: true,
            max_list_items: 1_000,
            width: width::WidthLimits::default(),
            idempotency_key_hours: crate::store::idempotency::DEFAULT_KEY_HOURS,
        }
    }
}

/// Builds the schema over `db`. It registers no extensions: [`connection_lists`] resolves
/// plain fields without the per-field hooks an extension would add.
pub(crate) fn build_schema(db: DatabaseConnection, config: SchemaConfig) -> AppSchema {
    let mut builder = Schema::build(
        query::QueryRoot,
        mutation::MutationRoot::default(),
        subscription::SubscriptionRoot,
    )
    // A request's own session (attached by the HTTP handler) comes before this one.
    .data(crate::store::read_session::ReadSession::pooled(db.clone()))
    .data(db)
    .data(config.page_limits)
    .data(idempotency::KeyHours(config.idempotency_key_hours))
    .limit_depth(config.max_depth)
    .limit_complexity(config.max_complexity);
    if !config.introspection {
        builder = builder.disable_introspection();
    }
    builder.finish()
}

pub use sdl::schema_sdl;

/// The schema as the server runs it: async-graphql's executor, with the spec's input
/// coercion applied before ([`coercion`]) and its response shape after ([`conform`]).
#[derive(Clone)]
pub(crate) struct Api {
    schema: AppSchema,
    shape: Arc<SchemaShape>,
    max_list_items: usize,
    width: width::WidthLimits,
}

impl Api {
    /// The API over `db`.
    ///
    /// # Panics
    /// When the schema's own SDL does not parse, a bug found by every test.
    #[expect(clippy::expect_used, reason = "start-up: the schema's SDL is ours")]
    pub(crate) fn new(db: DatabaseConnection, config: SchemaConfig) -> Self {
        let schema = build_schema(db, config);
        let shape = SchemaShape::from_sdl(&schema.sdl()).expect("the schema's SDL parses");
        Self {
            schema,
            shape: Arc::new(shape),
            max_list_items: config.max_list_items,
            width: config.width,
        }
    }

    /// Checks a request sent with the `Idempotency-Key` header ([`idempotency::check_header`]).
    pub(crate) fn check_idempotency_header(
        &self,
        request: &mut Request,
    ) -> Result<(), async_graphql::ServerError> {
        idempotency::check_header(&self.shape, request)
    }

    /// Runs `request`: refused before anything runs when it is wider than the limits allow
    /// ([`width`]), else its literals checked and its omitted variables dropped as the spec's
    /// input coercion says, then executed, then its fields ordered as the query selects them
    /// and failed fields nulled up to their nearest nullable parent.
    pub(crate) async fn execute(&self, request: Request) -> Response {
        match self.prepare(request) {
            Err(refused) => *refused,
            Ok(Prepared::AsIs(request)) => self.schema.execute(request).await,
            Ok(Prepared::Shaped(request, shaping)) => {
                let mut response = self.schema.execute(request).await;
                shaping.apply(&mut response, &self.shape);
                response
            }
        }
    }

    /// The checks and input coercion of [`Api::execute`], before a request runs: the
    /// request to run and how to shape its answers, or the answer refusing it.
    fn prepare(&self, mut request: Request) -> Result<Prepared, Box<Response>> {
        let Ok(parsed) = request.parsed_query() else {
            // async-graphql answers the syntax error itself.
            return Ok(Prepared::AsIs(request));
        };
        // First: every later pass (and async-graphql's validation) costs as much as the
        // document is wide once its fragments are expanded.
        if let Err(error) = self.width.check(parsed) {
            return Err(Box::new(Response::from_errors(vec![error])));
        }
        let mut document = parsed.clone();
        let operation_name = request.operation_name.clone();
        if let Some(operation) = conform::operation(&document, operation_name.as_deref()) {
            let fragments = document
                .fragments
                .values()
                .map(|f| &f.node.selection_set.node);
            if let Err(error) = storable::refuse_nul(operation, fragments, &request.variables) {
                return Err(Box::new(Response::from_errors(vec![error])));
            }
        }
        if let Err(errors) = coercion::prepare(
            &mut document,
            &self.shape,
            self.max_list_items,
            &mut request.variables,
            operation_name.as_deref(),
        ) {
            return Err(Box::new(Response::from_errors(errors)));
        }
        let Some(operation) = conform::operation(&document, operation_name.as_deref()) else {
            return Ok(Prepared::AsIs(request));
        };
        let variables = conform::directive_variables(&document, operation, &request.variables);
        request.set_parsed_query(document.clone());
        Ok(Prepared::Shaped(
            request,
            Box::new(Shaping {
                document,
                operation_name,
                variables,
            }),
        ))
    }
}

/// A request that passed [`Api::prepare`].
enum Prepared {
    /// Run as it is (async-graphql answers what is wrong with it).
    AsIs(Request),
    /// Run, then shape each answer.
    Shaped(Request, Box<Shaping>),
}

/// What shaping an answer as the query selects it needs.
struct Shaping {
    document: async_graphql::parser::types::ExecutableDocument,
    operation_name: Option<String>,
    variables: std::collections::HashMap<async_graphql::Name, async_graphql::Value>,
}

impl Shaping {
    /// Names the arguments of input errors, orders fields as selected and nulls failed ones.
    fn apply(&self, response: &mut Response, shape: &SchemaShape) {
        input_errors::name_argument_errors(response, &self.document);
        if let Some(operation) = conform::operation(&self.document, self.operation_name.as_deref())
        {
            conform::conform(response, shape, &self.document, operation, &self.variables);
        }
    }
}
