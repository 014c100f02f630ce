//! Import (rule 2): listings into a source, in one transaction.
//!
//! New listings are created, listings with the same hash are left alone (no write), changed
//! ones are snapshotted and then updated, and a `FULL` import marks the source's listings it
//! lacks as removed (and brings back a removed one that returns). Every item is checked before
//! its part is written, and any error rolls the whole import back; every import, dry runs
//! included, leaves an `import_runs` row. Work is set-based: a few statements per thousand
//! listings, no statement per listing.
//!
//! A `FULL` import that would remove more than the source's `config.max_removal_percent` of
//! its live listings, or all of them, is refused (see [`removal_guard`]): rolled back, it
//! leaves only its import run.
//!
//! [`ImportSession`] takes a large import in parts (a file streamed in batches) inside one
//! transaction; [`import_listings`] is the one-call form.

pub mod batch;
pub(crate) mod part;

use std::collections::HashSet;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveEnum, ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection,
    DeriveActiveEnum, EnumIter, PaginatorTrait, QueryFilter, QuerySelect, Set,
};
use serde_json::Value;
use tracing::{Span, instrument};

use self::batch::{PreparedPart, SeenIds};
use self::part::{PartOf, write_part};
use crate::domain::audit::{self, Actor};
use crate::domain::removal_guard;
use crate::domain::sources::get_source;
use crate::entity::{import_run, source, source_property};
use crate::error::{Error, MassRemoval};
use crate::ids::{ImportRunId, SourceId};
use crate::store::locks::{self, CHUNK_IDS, LockKind};
use crate::store::scope::{Permission, TenantScope};
use crate::store::statements::{self, Listing, Table};
use crate::store::tenant_write::TenantWrite;

/// Items checked, hashed and written at a time: [`ImportSession::add`] splits larger parts.
/// Small enough that hashing the first of them, which nothing overlaps, is short (a batch of
/// 10,000 used to wait for all of its hashes before writing one listing); large enough that
/// each takes a few statements.
const STAGE_ITEMS: usize = 2_000;

/// Whether a batch is the whole scrape.
// Stored in `import_runs.mode` as the `string_value`; a stored value this version does not
// know fails the read (an internal error), never a guess.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "Text")]
pub enum ImportMode {
    /// The batch adds and changes listings; listings it lacks stay as they are.
    #[default]
    #[sea_orm(string_value = "incremental")]
    Incremental,
    /// The batch is the whole scrape: listings it lacks are marked removed.
    #[sea_orm(string_value = "full")]
    Full,
}

/// How to run an import.
#[derive(Clone, Debug)]
pub struct ImportOptions {
    /// Incremental or full.
    pub mode: ImportMode,
    /// Check and count, write nothing but the import run.
    pub dry_run: bool,
    /// Let a `FULL` import remove more than the source's `config.max_removal_percent` of its
    /// live listings (see [`removal_guard`]).
    pub allow_mass_removal: bool,
    /// Who runs it.
    pub actor: Actor,
}

/// Counts of an import so far.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ImportCounts {
    /// Listings created.
    pub created: usize,
    /// Listings updated (changed, or back after a removal).
    pub updated: usize,
    /// Listings left alone.
    pub unchanged: usize,
    /// Listings marked removed (known only when the import finishes).
    pub removed: usize,
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
    let mut session = ImportSession::begin(db, scope, source_id, options).await?;
    session.add(items, label).await?;
    session.finish().await
}

/// One import in progress: its transaction, the source lock, and what it has seen.
/// Dropping a session without [`ImportSession::finish`] rolls everything back.
pub struct ImportSession {
    /// The pool, for the record of a refused import (written after the rollback) and the
    /// progress events (published outside the transaction).
    db: DatabaseConnection,
    txn: TenantWrite,
    scope: TenantScope,
    source: source::Model,
    id_field: String,
    options: ImportOptions,
    /// The external ids carried so far, to refuse an id twice.
    seen_external: SeenIds,
    /// Stored listings the import listed (for `FULL` removals).
    seen_ids: HashSet<i64>,
    /// The source's live listings when a `FULL` import began (for the mass-removal guard).
    live_before: u64,
    /// The source held no listing, live or removed, when the import began.
    source_was_empty: bool,
    next_index: usize,
    /// The last stage checked, written by the next [`ImportSession::add`] or by `finish`.
    pending: Option<Vec<Listing>>,
    /// Items of the stages written so far.
    stored_items: usize,
    counts: ImportCounts,
    started_at: DateTime<Utc>,
    clock: Instant,
    phases: Phases,
    /// The `import` span: the parts and the end of the import are logged in it.
    span: Span,
}

/// Time spent in each phase of an import, over all its parts.
#[derive(Clone, Copy, Debug, Default)]
struct Phases {
    /// Waiting for items to be checked (ids, duplicates) and hashed, beyond the time that
    /// writing the previous stage hid.
    check: Duration,
    /// Reading the stored listings of the part's ids.
    load: Duration,
    /// Writing creations, updates and snapshots.
    write: Duration,
}

fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

impl ImportSession {
    /// Starts an import: checks the source, opens the transaction, takes the source's lock.
    #[instrument(name = "import", skip_all, fields(
        tenant = scope.tenant_id().0,
        source = source_id.0,
        mode = options.mode.to_value(),
        dry_run = options.dry_run,
    ))]
    pub async fn begin(
        db: &DatabaseConnection,
        scope: &TenantScope,
        source_id: SourceId,
        options: ImportOptions,
    ) -> Result<Self, Error> {
        scope.require(Permission::Import)?;
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
        let txn = TenantWrite::begin(db, scope.tenant_id()).await?;
        locks::lock(&txn, LockKind::Source, source.id).await?;
        locks::refresh_table_statistics(&txn, Table::SourceProperties).await?;
        let live_before = if options.mode == ImportMode::Full {
            scope
                .select::<source_property::Entity>()
                .filter(source_property::Column::SourceId.eq(source.id))
                .filter(source_property::Column::RemovedAt.is_null())
                .count(&txn)
                .await?
        } else {
            0
        };
        let source_was_empty = scope
            .select::<source_property::Entity>()
            .filter(source_property::Column::SourceId.eq(source.id))
            .limit(1)
            .count(&txn)
            .await?
            == 0;
        Ok(Self {
            db: db.clone(),
            txn,
            scope: scope.clone(),
            source,
            id_field,
            options,
            seen_external: SeenIds::default(),
            seen_ids: HashSet::new(),
            live_before,
            source_was_empty,
            next_index: 0,
            pending: None,
            stored_items: 0,
            counts: ImportCounts::default(),
            started_at,
            clock,
            phases: Phases::default(),
            span: Span::current(),
        })
    }

    /// The counts so far.
    pub fn counts(&self) -> ImportCounts {
        self.counts
    }

    /// Checks and imports the next part of the batch. Item indexes continue from the previous
    /// part, so `label` can name any item of the whole import.
    ///
    /// A part goes through a pipeline one stage deep, in stages of [`STAGE_ITEMS`]: a stage's
    /// items are checked and hashed on blocking threads (every core, off the async runtime)
    /// while the previous stage is written, and the last stage is written by the next call,
    /// or by [`Self::finish`]. An error is the same, for the same item, as if each stage were
    /// written before the next is checked; [`Self::counts`] and the progress events follow
    /// the stages written.
    #[instrument(name = "import_part", level = "debug", parent = &self.span, skip_all, fields(
        first = self.next_index,
        items = items.len(),
    ))]
    pub async fn add(
        &mut self,
        items: Vec<Value>,
        label: &(dyn Fn(usize) -> String + Sync),
    ) -> Result<(), Error> {
        let mut items = items.into_iter();
        while items.len() > 0 {
            let stage: Vec<Value> = items.by_ref().take(STAGE_ITEMS).collect();
            self.add_stage(stage, label).await?;
        }
        Ok(())
    }

    /// Starts checking and hashing a stage, writes the previous one meanwhile, and keeps
    /// this one for the next stage (see [`Self::add`]).
    async fn add_stage(
        &mut self,
        items: Vec<Value>,
        label: &(dyn Fn(usize) -> String + Sync),
    ) -> Result<(), Error> {
        let first_index = self.next_index;
        self.next_index += items.len();
        let prepared = PreparedPart::start(items, self.id_field.clone());
        if let Some(previous) = self.pending.take() {
            self.store(previous).await?;
        }
        let waiting = Instant::now();
        let listings = prepared
            .settle(first_index, &mut self.seen_external, label)
            .await?;
        // Only the checking the write of the previous stage did not hide.
        self.phases.check += waiting.elapsed();
        self.pending = Some(listings);
        Ok(())
    }

    /// Looks up, plans and writes a checked stage (the second step of [`Self::add`]).
    async fn store(&mut self, listings: Vec<Listing>) -> Result<(), Error> {
        let clock = Instant::now();
        let items = listings.len();
        let part = PartOf {
            tenant_id: self.scope.tenant_id().0,
            source_id: self.source.id,
            dry_run: self.options.dry_run,
            source_was_empty: self.source_was_empty,
        };
        let outcome = write_part(&self.txn, part, listings, clock).await?;
        let loaded = outcome.classified;
        self.counts.created += outcome.created;
        self.counts.updated += outcome.updated;
        self.counts.unchanged += outcome.unchanged;
        if self.options.mode == ImportMode::Full {
            self.seen_ids.extend(outcome.stored_ids);
        }
        self.phases.load += loaded;
        self.phases.write += clock.elapsed() - loaded;
        self.stored_items += items;
        crate::events::import_progress(
            &self.db,
            &self.scope,
            self.source.id,
            self.stored_items,
            self.counts,
        )
        .await;
        Ok(())
    }

    /// Marks what a `FULL` import lacked, writes the import run, and commits. A `FULL` import
    /// the mass-removal guard refuses is rolled back instead, and leaves only its import run
    /// (counts zero, `mass_removal_refused` set): the error names that run.
    pub async fn finish(mut self) -> Result<import_run::Model, Error> {
        if let Some(last) = self.pending.take() {
            self.store(last).await?;
        }
        let finishing = Instant::now();
        let mut guard = Guarded::default();
        if self.options.mode == ImportMode::Full {
            let removed = self.missing_ids().await?;
            self.counts.removed = removed.len();
            guard.would_remove = Some(removed.len() as i32);
            guard.refused = !self.options.allow_mass_removal
                && removal_guard::refuses(
                    removed.len() as u64,
                    self.live_before,
                    removal_guard::max_removal_percent(&self.source.config),
                );
            if guard.refused && !self.options.dry_run {
                return Err(self.refuse(removed.len() as u64).await);
            }
            if !self.options.dry_run {
                mark_removed(&self.txn, &self.scope, &removed, Utc::now()).await?;
            }
        }
        let counts = self.counts;
        let run = self.run_record(counts, guard).insert(&self.txn).await?;
        let (span, phases, items) = (self.span.clone(), self.phases, self.next_index);
        self.txn
            .publish_after_commit([crate::events::import_finished(&run)]);
        let written = (counts.created + counts.updated + counts.removed) as u64;
        let stale = !self.options.dry_run
            && locks::statistics_stale_after(&self.txn, Table::SourceProperties, written).await?;
        self.txn.commit().await?;
        if stale {
            // The import has committed: a failed refresh leaves it to the next import (or
            // autovacuum), it does not fail the import.
            if let Err(err) = locks::analyze(&self.db, Table::SourceProperties).await {
                tracing::warn!(parent: &span, error = %err, "refreshing the listings' statistics failed");
            }
        }
        let duration = self.clock.elapsed();
        tracing::info!(
            parent: &span,
            items,
            created = counts.created,
            updated = counts.updated,
            unchanged = counts.unchanged,
            removed = counts.removed,
            check_ms = millis(phases.check),
            load_ms = millis(phases.load),
            write_ms = millis(phases.write),
            finish_ms = millis(finishing.elapsed()),
            analyzed = stale,
            duration_ms = millis(duration),
            "import committed"
        );
        let mode = self.options.mode.to_value();
        let dry_run = self.options.dry_run;
        crate::telemetry::with_metrics(|metrics| {
            metrics.import(crate::metrics::ImportFigures {
                mode,
                dry_run,
                created: counts.created as u64,
                updated: counts.updated as u64,
                unchanged: counts.unchanged as u64,
                removed: counts.removed as u64,
                duration,
            });
        });
        Ok(run)
    }

    /// The import run of this import, with `counts`, finished now.
    fn run_record(&self, counts: ImportCounts, guard: Guarded) -> import_run::ActiveModel {
        let finished_at = audit::finished_at(self.started_at, self.clock);
        import_run::ActiveModel {
            tenant_id: Set(self.scope.tenant_id().0),
            source_id: Set(self.source.id),
            mode: Set(self.options.mode),
            dry_run: Set(self.options.dry_run),
            created: Set(counts.created as i32),
            updated: Set(counts.updated as i32),
            unchanged: Set(counts.unchanged as i32),
            removed: Set(counts.removed as i32),
            warnings: Set(Value::Array(Vec::new())),
            actor: Set(self.options.actor.label()),
            started_at: Set(self.started_at),
            finished_at: Set(finished_at),
            would_remove: Set(guard.would_remove),
            mass_removal_refused: Set(guard.refused),
            ..Default::default()
        }
    }

    /// Rolls the import back and records it as refused by the mass-removal guard, in a
    /// transaction of its own; the error to return names the record.
    async fn refuse(self, would_remove: u64) -> Error {
        let record = self.run_record(
            ImportCounts::default(),
            Guarded {
                would_remove: i32::try_from(would_remove).ok(),
                refused: true,
            },
        );
        let refused = MassRemoval {
            operation: "this FULL import",
            owner: "source",
            would_remove,
            live: self.live_before,
            max_percent: removal_guard::max_removal_percent(&self.source.config),
            record_id: String::new(),
        };
        let Self { db, txn, scope, .. } = self;
        let recorded = async {
            txn.rollback().await?;
            let write = TenantWrite::begin(&db, scope.tenant_id()).await?;
            let run = record.insert(&write).await?;
            write.commit().await?;
            Ok::<_, Error>(run)
        };
        match recorded.await {
            Ok(run) => Error::MassRemoval(Box::new(MassRemoval {
                record_id: ImportRunId(run.id).to_global(),
                ..refused
            })),
            Err(err) => err,
        }
    }

    /// Ids of the source's listed (not removed) listings that this import did not carry.
    /// Listings it created are new rows and carry none of those ids.
    async fn missing_ids(&self) -> Result<Vec<i64>, Error> {
        let listed: Vec<i64> = self
            .scope
            .select::<source_property::Entity>()
            .filter(source_property::Column::SourceId.eq(self.source.id))
            .filter(source_property::Column::RemovedAt.is_null())
            .filter(source_property::Column::UpdatedAt.lt(self.started_at))
            .select_only()
            .column(source_property::Column::Id)
            .into_tuple()
            .all(&self.txn)
            .await?;
        let mut missing: Vec<i64> = listed
            .into_iter()
            .filter(|id| !self.seen_ids.contains(id))
            .collect();
        missing.sort_unstable();
        Ok(missing)
    }
}

/// What the mass-removal guard made of a run.
#[derive(Clone, Copy, Debug, Default)]
struct Guarded {
    /// Listings a `FULL` import would mark removed.
    would_remove: Option<i32>,
    /// The guard refuses it (or, in a dry run, would).
    refused: bool,
}

/// Marks listings a full scrape no longer lists.
async fn mark_removed(
    txn: &TenantWrite,
    scope: &TenantScope,
    ids: &[i64],
    now: DateTime<Utc>,
) -> Result<(), Error> {
    for chunk in ids.chunks(CHUNK_IDS) {
        txn.execute(&statements::import::mark_source_listings_removed(
            scope.tenant_id().0,
            chunk,
            now,
        ))
        .await?;
    }
    Ok(())
}
