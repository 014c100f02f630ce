//! The statements of an import: its listings sent as bound values, on both databases.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, InsertStatement, OnConflict, Query, UpdateStatement};
use sea_orm::{DbBackend, Statement};

use super::Sql;
use crate::domain::import::batch::Listing;
use crate::domain::snapshots::SnapshotReason;
use crate::entity::source_property::{self, Column as C};

/// The stored listings of a source with these external ids: `id`, `external_id`,
/// `content_hash`, `removed_at`.
///
/// The ids are joined as a `VALUES` list rather than tested with `IN (…)`: right after a
/// large import PostgreSQL's statistics may still call the table empty, and it then
/// filters every listing of the source against the whole list, once per chunk.
pub fn stored_listings_by_external_id(
    backend: DbBackend,
    tenant_id: i64,
    source_id: i64,
    external_ids: &[&str],
) -> Statement {
    let mut sql = Sql::new(backend).push(
        "SELECT sp.id AS id, sp.external_id AS external_id, sp.content_hash AS content_hash, \
           sp.removed_at AS removed_at \
         FROM source_properties sp JOIN (VALUES ",
    );
    for (i, id) in external_ids.iter().enumerate() {
        sql = sql
            .push(if i == 0 { "(" } else { ", (" })
            .bind(*id)
            .push(")");
    }
    sql.push(") AS batch ON sp.external_id = batch.column1 WHERE sp.tenant_id = ")
        .bind(tenant_id)
        .push(" AND sp.source_id = ")
        .bind(source_id)
        .build()
}

/// Copies the current version of these source listings into `source_snapshots`, inside the
/// database, before an import replaces them.
pub fn snapshot_source_listings(
    backend: DbBackend,
    tenant_id: i64,
    ids: &[i64],
    now: DateTime<Utc>,
) -> Statement {
    Sql::new(backend)
        .push(
            "INSERT INTO source_snapshots \
               (tenant_id, source_property_id, data, content_hash, reason, created_at) \
             SELECT tenant_id, id, data, content_hash, ",
        )
        .bind(SnapshotReason::Import)
        .push(", ")
        .bind(now)
        .push(" FROM source_properties WHERE tenant_id = ")
        .bind(tenant_id)
        .push(" AND id IN (")
        .bind_list(ids.iter().copied())
        .push(")")
        .build()
}

/// Creates new listings and overwrites changed or returning ones, in one multi-row upsert.
pub fn upsert_source_listings(
    tenant_id: i64,
    source_id: i64,
    listings: impl IntoIterator<Item = Listing>,
    now: DateTime<Utc>,
) -> InsertStatement {
    let mut insert = Query::insert();
    insert.into_table(source_property::Entity).columns([
        C::TenantId,
        C::SourceId,
        C::ExternalId,
        C::Data,
        C::ContentHash,
        C::RemovedAt,
        C::CreatedAt,
        C::UpdatedAt,
    ]);
    for listing in listings {
        insert.values_panic([
            tenant_id.into(),
            source_id.into(),
            listing.external_id.into(),
            listing.data.into(),
            listing.hash.into(),
            Option::<DateTime<Utc>>::None.into(),
            now.into(),
            now.into(),
        ]);
    }
    insert.on_conflict(
        OnConflict::columns([C::TenantId, C::SourceId, C::ExternalId])
            .update_columns([C::Data, C::ContentHash, C::RemovedAt, C::UpdatedAt])
            .to_owned(),
    );
    insert
}

/// Marks these listings removed: a `FULL` import did not list them.
pub fn mark_source_listings_removed(
    tenant_id: i64,
    ids: &[i64],
    now: DateTime<Utc>,
) -> UpdateStatement {
    Query::update()
        .table(source_property::Entity)
        .value(C::RemovedAt, Expr::value(now))
        .value(C::UpdatedAt, Expr::value(now))
        .and_where(Expr::col(C::TenantId).eq(tenant_id))
        .and_where(Expr::col(C::Id).is_in(ids.iter().copied()))
        .to_owned()
}
