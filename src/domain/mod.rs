//! The rules of Sync Manager, one module per area. GraphQL resolvers and CLI commands call
//! these functions and nothing else touches the database: each takes the caller's
//! [`scope::TenantScope`], and each write is one transaction.

pub mod api_keys;
pub mod hashing;
pub mod pagination;
pub mod scope;
pub mod sources;
pub mod targets;
pub mod tenants;
mod validate;
