//! The GraphQL API: a thin door over [`crate::domain`].
//!
//! [`build_schema`] knows nothing of HTTP: the server attaches the request's
//! [`context::RequestAuth`] per request, and resolvers turn it into a tenant scope with
//! [`context::scope`]. Types in [`types`] convert from entities with `From`, so the database
//! can change without changing the API.

pub mod args;
pub mod connection;
pub mod context;
pub mod loaders;
pub mod mutation;
pub mod node;
pub mod query;
pub mod types;

use async_graphql::{EmptySubscription, Schema};
use sea_orm::DatabaseConnection;

use crate::domain::pagination::PageLimits;

/// The schema type the server executes.
pub type AppSchema = Schema<query::QueryRoot, mutation::MutationRoot, EmptySubscription>;

/// What the schema needs beyond the database.
#[derive(Clone, Copy, Debug, Default)]
pub struct SchemaConfig {
    /// Paging limits of every connection.
    pub page_limits: PageLimits,
}

/// Builds the schema over `db`.
pub fn build_schema(db: DatabaseConnection, config: SchemaConfig) -> AppSchema {
    Schema::build(
        query::QueryRoot,
        mutation::MutationRoot::default(),
        EmptySubscription,
    )
    .data(db)
    .data(config.page_limits)
    .finish()
}

/// The SDL of the schema, as `schema.graphql` holds it.
pub fn schema_sdl() -> String {
    Schema::build(
        query::QueryRoot,
        mutation::MutationRoot::default(),
        EmptySubscription,
    )
    .finish()
    .sdl()
}
