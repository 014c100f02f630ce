//! The rules of Sync Manager, one module per area: import, sync, conflicts, manual edits,
//! snapshots and their history, sources, targets, tenants and API keys. GraphQL resolvers and
//! CLI commands call these functions and nothing else; each takes the caller's
//! [`TenantScope`](crate::store::scope::TenantScope), and each write is one transaction. The
//! machinery the rules stand on (the tenant gate, paging, filters, SQL statements, locks)
//! lives in [`crate::store`].

pub(crate) mod api_keys;
pub mod audit;
pub mod catalog;
pub(crate) mod changes;
pub mod conflicts;
pub(crate) mod diff;
pub mod edits;
pub(crate) mod history;
pub mod import;
pub(crate) mod listings;
pub mod merge;
pub(crate) mod nodes;
pub mod path_indexes;
pub(crate) mod removal_guard;
pub mod snapshots;
pub mod sources;
pub mod sync;
pub mod targets;
pub mod tenants;
pub(crate) mod validate;
