//! The machinery the rules of [`crate::domain`] stand on: the tenant gate every query goes
//! through ([`scope`]) and the write transaction that bumps a tenant's data version
//! ([`tenant_write`]); keyset paging ([`pager`]) with the filters and orders of list screens
//! ([`list_filter`]) and of listing connections ([`listing_filter`], over [`json_path`]);
//! numbers kept exactly as sent ([`numbers`]); the set-based SQL of imports and syncs
//! ([`statements`]), the locks and planner settings around it ([`locks`]); and idempotency
//! keys ([`idempotency`]). Nothing here decides what a sync or an import does.

pub mod idempotency;
pub mod json_path;
pub mod list_filter;
pub mod listing_filter;
pub mod locks;
pub mod numbers;
pub mod pager;
pub mod scope;
pub mod statements;
pub mod tenant_write;
