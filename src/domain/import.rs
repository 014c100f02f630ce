//! Import (rule 2): a batch of listings into a source, in one transaction.
//!
//! New listings are created, listings with the same hash are left alone (no write), changed
//! ones are snapshotted and then updated, and a `FULL` import marks the source's listings it
//! lacks as removed (and brings back a removed one that returns). A batch is checked whole
//! before anything is written; every import, dry runs included, leaves an `import_runs` row.
//! Work is set-based: a few statements per thousand listings, no statement per listing.

use std::collections::HashMap;
use std::time::Instant;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{OnConflict, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction,
    EntityTrait, QueryFilter, QuerySelect, Set,
};
use serde_json::Value;

use crate::db;
use crate::domain::audit::Actor;
use crate::domain::listing::{Listing, check_batch};
use crate::domain::scope::TenantScope;
use crate::domain::sources::get_source;
use crate::domain::sql::{self, CHUNK_IDS, CHUNK_ROWS, LockKind};
use crate::entity::{import_run, source_property};
use crate::error::Error;
use crate::ids::SourceId;

/// Whether a batch is the whole scrape.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, async_graphql::Enum, clap::ValueEnum)]
pub enum ImportMode {
    /// The batch adds and changes listings; listings it lacks stay as they are.
    #[default]
    Incremental,
    /// The batch is the whole scrape: listings it lacks are marked removed.
    Full,
}

impl ImportMode {
    fn as_str(self) -> &'static str {
        match self {
            Self::Incremental => "incremental",
            Self::Full => "full",
        }
    }

    /// The mode stored in a row.
    pub fn of(model: &import_run::Model) -> Self {
        if model.mode == "full" {
            Self::Full
        } else {
            Self::Incremental
        }
    }
}

/// How to run an import.
#[derive(Clone, Debug)]
pub struct ImportOptions {
    /// Incremental or full.
    pub mode: ImportMode,
    /// Check and count, write nothing but the import run.
    pub dry_run: bool,
    /// Who runs it.
    pub actor: Actor,
}

/// What a stored listing looks like to the import.
struct Stored {
    id: i64,
    hash: String,
    removed: bool,
}

/// What the import will do, listing by listing.
#[derive(Default)]
struct Plan {
    /// New listings and changed or returning ones, to upsert.
    upserts: Vec<Listing>,
    /// Ids of stored listings whose data changes (snapshot first).
    changed_ids: Vec<i64>,
    /// Ids of stored listings to mark removed.
    removed_ids: Vec<i64>,
    created: usize,
    updated: usize,
    unchanged: usize,
}

/// Imports `items` (checked and labelled with `label`) into a source of the scope's tenant.
pub async fn import_listings(
    db: &DatabaseConnection,
    scope: &TenantScope,
    source_id: SourceId,
    items: Vec<Value>,
    label: &(dyn Fn(usize) -> String + Sync),
    options: ImportOptions,
) -> Result<import_run::Model, Error> {
    scope.require_write()?;
    let started_at = Utc::now();
    let clock = Instant::now();
    let source = get_source(db, scope, source_id).await?;
    if !source.active {
        return Err(Error::Conflict(format!(
            "source `{}` is inactive; activate it (updateSource with active: true) before importing",
            source.name
        )));
    }
    let id_field = source
        .config
        .get("id_field")
        .and_then(Value::as_str)
        .unwrap_or("id")
        .to_owned();
    let listings = check_batch(items, &id_field, label)?;

    let txn = db::begin_write(db).await?;
    sql::lock(&txn, LockKind::Source, source.id).await?;
    let stored = load_stored(&txn, scope, source.id, &listings, options.mode).await?;
    let plan = plan(listings, &stored, options.mode);
    let removed = plan.removed_ids.len();
    let (created, updated, unchanged) = (plan.created, plan.updated, plan.unchanged);
    if !options.dry_run {
        write(&txn, scope, source.id, plan, Utc::now()).await?;
    }
    let run = import_run::ActiveModel {
        tenant_id: Set(scope.tenant_id().0),
        source_id: Set(source.id),
        mode: Set(options.mode.as_str().to_owned()),
        dry_run: Set(options.dry_run),
        created: Set(created as i32),
        updated: Set(updated as i32),
        unchanged: Set(unchanged as i32),
        removed: Set(removed as i32),
        warnings: Set(Value::Array(Vec::new())),
        actor: Set(options.actor.label()),
        started_at: Set(started_at),
        finished_at: Set(
            started_at + chrono::Duration::from_std(clock.elapsed()).unwrap_or_default()
        ),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    txn.commit().await?;
    Ok(run)
}

/// The stored listings the batch can touch: all of the source's for `FULL`, else those with
/// the batch's ids (looked up in chunks).
async fn load_stored(
    txn: &DatabaseTransaction,
    scope: &TenantScope,
    source_id: i64,
    listings: &[Listing],
    mode: ImportMode,
) -> Result<HashMap<String, Stored>, Error> {
    let base = || {
        scope
            .select::<source_property::Entity>()
            .filter(source_property::Column::SourceId.eq(source_id))
            .select_only()
            .columns([
                source_property::Column::Id,
                source_property::Column::ExternalId,
                source_property::Column::ContentHash,
                source_property::Column::RemovedAt,
            ])
    };
    type Row = (i64, String, String, Option<DateTime<Utc>>);
    let mut rows: Vec<Row> = Vec::new();
    match mode {
        ImportMode::Full => rows = base().into_tuple::<Row>().all(txn).await?,
        ImportMode::Incremental => {
            for chunk in listings.chunks(CHUNK_IDS) {
                let ids = chunk.iter().map(|l| l.external_id.as_str());
                rows.extend(
                    base()
                        .filter(source_property::Column::ExternalId.is_in(ids))
                        .into_tuple::<Row>()
                        .all(txn)
                        .await?,
                );
            }
        }
    }
    Ok(rows
        .into_iter()
        .map(|(id, external_id, hash, removed_at)| {
            (
                external_id,
                Stored {
                    id,
                    hash,
                    removed: removed_at.is_some(),
                },
            )
        })
        .collect())
}

fn plan(listings: Vec<Listing>, stored: &HashMap<String, Stored>, mode: ImportMode) -> Plan {
    let mut plan = Plan::default();
    let mut seen = std::collections::HashSet::with_capacity(listings.len());
    for listing in listings {
        match stored.get(&listing.external_id) {
            None => {
                plan.created += 1;
                plan.upserts.push(listing);
            }
            Some(row) => {
                seen.insert(row.id);
                if row.hash != listing.hash {
                    plan.updated += 1;
                    plan.changed_ids.push(row.id);
                    plan.upserts.push(listing);
                } else if row.removed {
                    // Back after a removal, unchanged: only `removed_at` is cleared.
                    plan.updated += 1;
                    plan.upserts.push(listing);
                } else {
                    plan.unchanged += 1;
                }
            }
        }
    }
    if mode == ImportMode::Full {
        plan.removed_ids = stored
            .values()
            .filter(|row| !row.removed && !seen.contains(&row.id))
            .map(|row| row.id)
            .collect();
        plan.removed_ids.sort_unstable();
    }
    plan
}

async fn write(
    txn: &DatabaseTransaction,
    scope: &TenantScope,
    source_id: i64,
    plan: Plan,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let backend = txn.get_database_backend();
    let tenant_id = scope.tenant_id().0;

    // 1. Snapshot the versions about to be replaced, copied inside the database.
    for chunk in plan.changed_ids.chunks(CHUNK_IDS) {
        let sql = format!(
            "INSERT INTO source_snapshots (tenant_id, source_property_id, data, content_hash, reason, created_at) \
             SELECT tenant_id, id, data, content_hash, ?, ? FROM source_properties \
             WHERE tenant_id = ? AND id IN ({})",
            sql::placeholders(chunk.len())
        );
        let mut values = vec!["import".into(), now.into(), tenant_id.into()];
        values.extend(chunk.iter().map(|id| (*id).into()));
        txn.execute_raw(sql::statement(backend, &sql, values))
            .await?;
    }

    // 2. Create and update in one multi-row upsert per chunk.
    use source_property::Column as C;
    let mut upserts = plan.upserts.into_iter().peekable();
    while upserts.peek().is_some() {
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
        for listing in upserts.by_ref().take(CHUNK_ROWS) {
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
        txn.execute(&insert).await?;
    }

    // 3. Mark what a full scrape no longer lists.
    for chunk in plan.removed_ids.chunks(CHUNK_IDS) {
        source_property::Entity::update_many()
            .col_expr(C::RemovedAt, sea_orm::sea_query::Expr::value(now))
            .col_expr(C::UpdatedAt, sea_orm::sea_query::Expr::value(now))
            .filter(C::TenantId.eq(tenant_id))
            .filter(C::Id.is_in(chunk.iter().copied()))
            .exec(txn)
            .await?;
    }
    Ok(())
}
