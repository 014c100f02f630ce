//! The machinery the rules of [`crate::domain`] stand on: the tenant gate every query goes
//! through ([`scope`]) and the write transaction that bumps a tenant's data version
//! ([`tenant_write`]); keyset paging ([`pager`]) with the filters and orders of list screens
//! ([`list_filter`]) and of listing connections ([`listing_filter`], over [`json_path`]),
//! with the indexes an operator declares on a path ([`path_index`]);
//! numbers kept exactly as sent ([`numbers`]); the set-based SQL of imports and syncs
//! ([`statements`]), the locks and planner settings around it ([`locks`]); idempotency
//! keys ([`idempotency`]); and a request's reads on one connection ([`read_session`]).
//! Nothing here decides what a sync or an import does.

pub(crate) mod idempotency;
pub(crate) mod json_path;
pub(crate) mod key_columns;
pub(crate) mod list_filter;
pub(crate) mod listing_filter;
pub(crate) mod locks;
pub(crate) mod numbers;
pub(crate) mod pager;
pub(crate) mod path_index;
pub(crate) mod pg_write;
pub mod read_session;
pub mod scope;
pub(crate) mod statements;
pub(crate) mod tenant_write;
