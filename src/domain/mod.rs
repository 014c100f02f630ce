//! The rules of Sync Manager, one module per area. GraphQL resolvers and CLI commands call
//! these functions and nothing else touches the database: each takes the caller's
//! [`scope::TenantScope`], and each write is one transaction.

pub mod api_keys;
pub mod audit;
pub mod changes;
pub mod conflicts;
pub mod diff;
pub mod edits;
pub mod hashing;
pub mod history;
pub mod idempotency;
pub mod import;
pub mod import_part;
pub mod json_path;
pub mod list_filter;
pub mod listing;
pub mod listing_query;
pub mod merge;
pub mod numbers;
pub mod pager;
pub mod properties;
pub mod removal_guard;
pub mod scope;
pub mod snapshots;
pub mod sources;
pub mod sql;
pub mod statements;
pub mod sync;
pub mod sync_merge;
pub mod targets;
pub mod tenant_write;
pub mod tenants;
pub mod validate;
