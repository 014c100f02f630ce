//! Sync Manager keeps scraped real-estate listings in step with the places that publish them.
//!
//! How the modules fit: [`entity`] maps the tables that `migration` creates; [`domain`] holds
//! every rule and, with the machinery of [`store`] under it, is the only code that queries
//! them, always through a [`store::scope::TenantScope`]; [`graphql`] and [`cli`] are two thin
//! doors over the domain; [`http`] serves the GraphQL schema over axum, and a streamed listing
//! upload that reads its body through [`stream`], the reader of the CLI's listing files.
//! [`error`] is the one error type, mapped once to GraphQL codes and exit codes; [`ids`] holds
//! typed and global ids, and [`hashing`] the content hash of a listing (its canonical JSON),
//! which the migrations compile in too. [`telemetry`] follows each request (id, SQL
//! statements, log line) and [`metrics`] counts what the server does for `GET /metrics`.

pub mod cli;
pub mod config;
pub mod db;
pub mod demo;
pub mod domain;
pub mod entity;
pub mod error;
pub(crate) mod events;
pub mod graphql;
pub mod hashing;
pub mod http;
pub mod ids;
pub(crate) mod metrics;
pub mod store;
pub(crate) mod stream;
pub mod telemetry;
