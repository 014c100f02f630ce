//! The statements of an import on PostgreSQL: each part is staged in a temporary table
//! (`import_staging`, dropped when the transaction ends), classified against the stored
//! listings, and written from there in a few set-based statements.

use chrono::{DateTime, Utc};
use sea_orm::{DbBackend, Statement, Value};

use super::Sql;
use crate::domain::listing::Listing;
use crate::domain::snapshots::SnapshotReason;

/// Creates the staging table of this transaction.
pub fn create_staging() -> Statement {
    Sql::new(DbBackend::Postgres)
        .push(
            "CREATE TEMPORARY TABLE import_staging \
               (external_id text NOT NULL, data jsonb NOT NULL, content_hash text NOT NULL, \
                ord bigint NOT NULL) \
             ON COMMIT DROP",
        )
        .build()
}

/// Empties the staging table for the next part.
pub fn clear_staging() -> Statement {
    Sql::new(DbBackend::Postgres)
        .push("TRUNCATE import_staging")
        .build()
}

/// Stages a part: three arrays, one statement, rows numbered in the part's order.
pub fn stage_listings(listings: Vec<Listing>) -> Statement {
    let mut ids = Vec::with_capacity(listings.len());
    let mut data = Vec::with_capacity(listings.len());
    let mut hashes = Vec::with_capacity(listings.len());
    for listing in listings {
        ids.push(listing.external_id);
        data.push(listing.data);
        hashes.push(listing.hash);
    }
    Sql::new(DbBackend::Postgres)
        .push(
            "INSERT INTO import_staging (external_id, data, content_hash, ord) \
             SELECT * FROM unnest(",
        )
        .bind(Value::from(ids))
        .push("::text[], ")
        .bind(Value::from(data))
        .push("::jsonb[], ")
        .bind(Value::from(hashes))
        .push("::text[]) WITH ORDINALITY")
        .build()
}

/// The staged listings the source holds already: `id`, `same` (the hash is unchanged) and
/// `removed` (the stored listing is marked removed). Staged listings it lacks are new.
pub fn classify_staged(tenant_id: i64, source_id: i64) -> Statement {
    Sql::new(DbBackend::Postgres)
        .push(
            "SELECT sp.id AS id, sp.content_hash = s.content_hash AS same, \
               sp.removed_at IS NOT NULL AS removed \
             FROM import_staging s JOIN source_properties sp \
               ON sp.external_id = s.external_id AND sp.tenant_id = ",
        )
        .bind(tenant_id)
        .push(" AND sp.source_id = ")
        .bind(source_id)
        .build()
}

/// Copies the stored version of each staged listing whose hash changed into
/// `source_snapshots`, in the part's order.
pub fn snapshot_staged_changes(tenant_id: i64, source_id: i64, now: DateTime<Utc>) -> Statement {
    Sql::new(DbBackend::Postgres)
        .push(
            "INSERT INTO source_snapshots \
               (tenant_id, source_property_id, data, content_hash, reason, created_at) \
             SELECT sp.tenant_id, sp.id, sp.data, sp.content_hash, ",
        )
        .bind(SnapshotReason::Import)
        .push(", ")
        .bind(now)
        .push(
            " FROM import_staging s JOIN source_properties sp \
               ON sp.external_id = s.external_id AND sp.tenant_id = ",
        )
        .bind(tenant_id)
        .push(" AND sp.source_id = ")
        .bind(source_id)
        .push(" WHERE sp.content_hash <> s.content_hash ORDER BY s.ord")
        .build()
}

/// Creates the new staged listings and overwrites the changed or returning ones (in the
/// part's order, so new ids follow it); unchanged listings are not written.
pub fn upsert_staged(tenant_id: i64, source_id: i64, now: DateTime<Utc>) -> Statement {
    Sql::new(DbBackend::Postgres)
        .push(
            "INSERT INTO source_properties \
               (tenant_id, source_id, external_id, data, content_hash, created_at, updated_at) \
             SELECT ",
        )
        .bind(tenant_id)
        .push(", ")
        .bind(source_id)
        .push(", s.external_id, s.data, s.content_hash, ")
        .bind(now)
        .push(", ")
        .bind(now)
        .push(
            " FROM import_staging s ORDER BY s.ord \
             ON CONFLICT (tenant_id, source_id, external_id) DO UPDATE \
               SET data = excluded.data, content_hash = excluded.content_hash, \
                   removed_at = NULL, updated_at = excluded.updated_at \
               WHERE source_properties.content_hash <> excluded.content_hash \
                  OR source_properties.removed_at IS NOT NULL",
        )
        .build()
}
