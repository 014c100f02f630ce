//! The black-box test suite: one binary, one module per area. Every test gets a fresh
//! database: a SQLite file by default, a new PostgreSQL database when `TEST_DATABASE_URL`
//! names a server (e.g. `postgres://postgres@127.0.0.1:5432/postgres`).

#![expect(clippy::unwrap_used, reason = "test code: a panic is a failed test")]

mod common;

mod auth;
mod browser;
mod catalog;
mod cli;
mod coercion;
mod conformance;
mod engine;
mod errors;
mod http;
mod http_get;
mod idempotency;
mod limits;
mod malformed;
mod mass_removal;
mod merge;
mod numbers;
mod observe;
mod outage;
mod pagination;
mod reads;
mod rules;
mod schema;
mod schema_migrations;
mod scopes;
mod snapshot_history;
mod stored_enums;
mod subscriptions;
mod tenant_isolation;
mod upload;
mod versions;
