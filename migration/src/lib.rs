//! Database migrations of Sync Manager, one file per change.
//!
//! They run unchanged on SQLite and PostgreSQL. An applied migration is never edited:
//! a change to the schema is a new file added to [`Migrator::migrations`].

pub use sea_orm_migration::prelude::*;

mod m20261125_000001_tenants_and_api_keys;
mod m20261125_000002_sources_and_targets;
mod m20261125_000003_properties;
mod m20261125_000004_snapshots;
mod m20261125_000005_audit_trail;
mod m20261125_000006_tenant_data_version;
mod m20261125_000007_covering_listing_indexes;
mod m20261202_000008_conflict_counts_and_resolutions;
mod m20261202_000009_exact_number_hashes;
mod m20261202_000010_versions_pins_cleanup_runs;
mod m20261202_000011_field_level_merge;
mod m20261202_000012_idempotency_keys;
mod m20261202_000013_api_key_limits;
mod m20261205_000014_key_type_statistics;
mod tables;

/// The application's content hash (one source file, compiled into both crates), for the
/// migrations that rehash stored rows.
#[path = "../../src/hashing.rs"]
pub mod hashing;

/// Runs the migrations of this crate in order.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261125_000001_tenants_and_api_keys::Migration),
            Box::new(m20261125_000002_sources_and_targets::Migration),
            Box::new(m20261125_000003_properties::Migration),
            Box::new(m20261125_000004_snapshots::Migration),
            Box::new(m20261125_000005_audit_trail::Migration),
            Box::new(m20261125_000006_tenant_data_version::Migration),
            Box::new(m20261125_000007_covering_listing_indexes::Migration),
            Box::new(m20261202_000008_conflict_counts_and_resolutions::Migration),
            Box::new(m20261202_000009_exact_number_hashes::Migration),
            Box::new(m20261202_000010_versions_pins_cleanup_runs::Migration),
            Box::new(m20261202_000011_field_level_merge::Migration),
            Box::new(m20261202_000012_idempotency_keys::Migration),
            Box::new(m20261202_000013_api_key_limits::Migration),
            Box::new(m20261205_000014_key_type_statistics::Migration),
        ]
    }
}
