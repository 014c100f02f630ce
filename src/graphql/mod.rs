//! The GraphQL API: a thin door over [`crate::domain`].
//!
//! [`build_schema`] knows nothing of HTTP: the server attaches the request's
//! [`context::RequestAuth`] per request, and resolvers turn it into a tenant scope with
//! [`context::scope`]. Types in [`types`] convert from entities with `From`, so the database
//! can change without changing the API.

pub mod args;
pub mod connection;
pub mod context;
pub mod fast;
pub mod invalid_input;
pub mod limits;
pub mod loaders;
pub mod mutation;
pub mod node;
pub mod persisted;
pub mod query;
pub mod sdl;
pub mod types;

use async_graphql::{EmptySubscription, Schema};
use sea_orm::DatabaseConnection;

use crate::domain::pagination::PageLimits;

/// The schema type the server executes.
pub type AppSchema = Schema<query::QueryRoot, mutation::MutationRoot, EmptySubscription>;

/// What the schema needs beyond the database.
#[derive(Clone, Copy, Debug)]
pub struct SchemaConfig {
    /// Paging limits of every connection.
    pub page_limits: PageLimits,
    /// Deepest query accepted.
    pub max_depth: usize,
    /// Most complex query accepted.
    pub max_complexity: usize,
    /// Whether introspection queries are answered.
    pub introspection: bool,
}

impl Default for SchemaConfig {
    fn default() -> Self {
        Self {
            page_limits: PageLimits::default(),
            max_depth: 16,
            max_complexity: 250_000,
            introspection: true,
        }
    }
}

/// Builds the schema over `db`. It registers no extensions: the list fast path in [`fast`]
/// resolves plain fields without the per-field hooks an extension would add.
pub fn build_schema(db: DatabaseConnection, config: SchemaConfig) -> AppSchema {
    let mut builder = Schema::build(
        query::QueryRoot,
        mutation::MutationRoot::default(),
        EmptySubscription,
    )
    .data(db)
    .data(config.page_limits)
    .limit_depth(config.max_depth)
    .limit_complexity(config.max_complexity);
    if !config.introspection {
        builder = builder.disable_introspection();
    }
    builder.finish()
}

pub use sdl::schema_sdl;
