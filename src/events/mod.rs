//! Live events: what subscriptions (`importProgress`, `syncProgress`, `listingChanges`) are
//! made of, and how they travel between processes.
//!
//! The domain publishes an [`Event`] when an import or sync makes progress and, after a
//! transaction commits, when target listings change (never before a commit, never for a
//! rolled-back one). On PostgreSQL an event is a `NOTIFY` on [`CHANNEL`] sent on a pool
//! connection outside the writing transaction, so every server replica (and the CLI, a process
//! of its own) reaches every other; the payload holds ids and counts only (well under
//! PostgreSQL's 8,000-byte limit) and subscribers fetch the rest. On SQLite the bus is a
//! channel inside the process, so only events of the same process are seen (see the README).
//! [`hub::EventHub`] is the receiving end a server keeps.
//!
//! Publishing never fails the operation that publishes: the data is already committed, and a
//! lost notification is logged.

pub mod hub;

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DatabaseBackend, DatabaseConnection, Statement};
use serde::{Deserialize, Serialize};

use crate::domain::import::ImportCounts;
use crate::entity::{import_run, sync_log, target_property};
use crate::store::scope::TenantScope;

/// The one PostgreSQL channel every event goes through (the tenant is in the payload).
pub const CHANNEL: &str = "sync_manager_events";

/// Listing changes per notification: 200 of the largest (a 19-digit id and `conflict`) stay
/// far below PostgreSQL's 8,000-byte payload limit.
const CHANGES_PER_EVENT: usize = 200;

/// One event of a tenant.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// The tenant whose data it is about: subscribers see their tenant's events only.
    #[serde(rename = "t")]
    pub tenant: i64,
    /// What happened.
    #[serde(rename = "e")]
    pub body: EventBody,
}

/// What an event says.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventBody {
    /// An import into `source` made progress; `run` is set on its last event, after commit.
    Import {
        /// The source's key.
        source: i64,
        /// Where it is and the counts so far.
        progress: Progress,
        /// The finished import run's key.
        run: Option<i64>,
    },
    /// A sync of `source` into `target` made progress; `log` is set on its last event.
    Sync {
        /// The source's key.
        source: i64,
        /// The target's key.
        target: i64,
        /// Where it is and the counts so far.
        progress: Progress,
        /// The finished sync log's key.
        log: Option<i64>,
    },
    /// Committed changes of target listings of `target`.
    Listings {
        /// The target's key.
        target: i64,
        /// What made them.
        cause: ChangeCause,
        /// The sync log of the sync that made them, if a sync did.
        log: Option<i64>,
        /// When they were committed.
        at: DateTime<Utc>,
        /// Each listing's key and what became of it, in the order they happened.
        changes: Vec<(i64, ChangeKind)>,
    },
}

/// Where an import or sync is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunPhase {
    /// Started: the source (and target) are locked and, for a sync, the counts are known.
    Started,
    /// Writing: a part of an import has been checked and written (not committed yet), or a
    /// sync is writing its changes.
    Writing,
    /// Committed: the event carries the import run or sync log.
    Finished,
}

/// The counts of a run so far.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Progress {
    /// Where the run is.
    pub phase: RunPhase,
    /// Listings handled so far.
    pub processed: u64,
    /// Listings the run will handle, when known (a sync knows it once started; a streamed
    /// import only at its end).
    pub total: Option<u64>,
    /// Listings created so far.
    pub created: u64,
    /// Listings updated so far.
    pub updated: u64,
    /// Listings left alone so far (an import's `unchanged`, a sync's `skipped`).
    pub unchanged: u64,
    /// Hand-edited listings whose source changed (a sync's `conflicts`).
    pub conflicts: u64,
    /// Listings marked removed.
    pub removed: u64,
}

/// What became of a target listing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    /// Created by a sync.
    Created,
    /// Its data changed (a sync, or a manual edit).
    Updated,
    /// Marked removed, because its source listing was.
    Removed,
    /// Flagged as a conflict: edited by hand while its source changed.
    Conflict,
    /// Its conflict was resolved.
    Resolved,
}

/// What made a change.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeCause {
    /// A sync (its sync log is given).
    Sync,
    /// A manual edit (`updateTargetProperty`).
    ManualEdit,
    /// A conflict resolution (`resolveConflict`).
    ConflictResolution,
}

/// Sends `events`, in order, to every subscriber of every process on this database. Errors
/// are logged: the changes they report are already committed. On PostgreSQL they go in one
/// statement (`pg_notify` over an array of payloads), not one round trip each: a sync of
/// 10,000 new listings has about fifty.
pub async fn publish(db: &DatabaseConnection, events: Vec<Event>) {
    if events.is_empty() {
        return;
    }
    match db.get_database_backend() {
        DatabaseBackend::Postgres => {
            let payloads = match events
                .iter()
                .map(serde_json::to_string)
                .collect::<Result<Vec<String>, _>>()
            {
                Ok(payloads) => payloads,
                Err(err) => {
                    tracing::error!(error = %err, "events not encoded");
                    return;
                }
            };
            let notify = Statement::from_sql_and_values(
                DatabaseBackend::Postgres,
                "SELECT pg_notify($1, payload) \
                 FROM unnest($2::text[]) WITH ORDINALITY AS sent(payload, n) ORDER BY n",
                [CHANNEL.into(), payloads.into()],
            );
            if let Err(err) = db.execute_raw(notify).await {
                tracing::warn!(error = %err, "events not published (NOTIFY failed)");
            }
        }
        _ => {
            for event in events {
                hub::publish_local(db, event);
            }
        }
    }
}

/// Progress of an import into `source`: `processed` items checked and written (not yet
/// committed), with `counts` so far.
pub async fn import_progress(
    db: &DatabaseConnection,
    scope: &TenantScope,
    source: i64,
    processed: usize,
    counts: ImportCounts,
) {
    let n = |count: usize| u64::try_from(count).unwrap_or(u64::MAX);
    let progress = Progress {
        phase: RunPhase::Writing,
        processed: n(processed),
        total: None,
        created: n(counts.created),
        updated: n(counts.updated),
        unchanged: n(counts.unchanged),
        conflicts: 0,
        removed: n(counts.removed),
    };
    let body = EventBody::Import {
        source,
        progress,
        run: None,
    };
    let tenant = scope.tenant_id().0;
    publish(db, vec![Event { tenant, body }]).await;
}

/// The last event of an import, to publish once `run` is committed.
pub fn import_finished(run: &import_run::Model) -> Event {
    let counts = |n: i32| u64::try_from(n).unwrap_or(0);
    let handled = counts(run.created) + counts(run.updated) + counts(run.unchanged);
    let progress = Progress {
        phase: RunPhase::Finished,
        processed: handled,
        total: Some(handled),
        created: counts(run.created),
        updated: counts(run.updated),
        unchanged: counts(run.unchanged),
        conflicts: 0,
        removed: counts(run.removed),
    };
    let body = EventBody::Import {
        source: run.source_id,
        progress,
        run: Some(run.id),
    };
    Event {
        tenant: run.tenant_id,
        body,
    }
}

/// Progress of a sync of `source` into `target` of `tenant`.
pub async fn sync_progress(
    db: &DatabaseConnection,
    tenant: i64,
    (source, target): (i64, i64),
    progress: Progress,
) {
    let body = EventBody::Sync {
        source,
        target,
        progress,
        log: None,
    };
    publish(db, vec![Event { tenant, body }]).await;
}

/// The last events of a sync, to publish once it has committed: the listing changes
/// `changes` it made (in parts of [`CHANGES_PER_EVENT`]), then its progress event with `log`.
pub fn sync_finished(log: &sync_log::Model, changes: Vec<(i64, ChangeKind)>) -> Vec<Event> {
    let tenant = log.tenant_id;
    let mut events: Vec<Event> = changes
        .chunks(CHANGES_PER_EVENT)
        .map(|part| Event {
            tenant,
            body: EventBody::Listings {
                target: log.target_id,
                cause: ChangeCause::Sync,
                log: Some(log.id),
                at: log.finished_at,
                changes: part.to_vec(),
            },
        })
        .collect();
    let counts = |n: i32| u64::try_from(n).unwrap_or(0);
    let total = counts(log.created)
        + counts(log.updated)
        + counts(log.skipped)
        + counts(log.conflicts)
        + counts(log.removed);
    let progress = Progress {
        phase: RunPhase::Finished,
        processed: total,
        total: Some(total),
        created: counts(log.created),
        updated: counts(log.updated),
        unchanged: counts(log.skipped),
        conflicts: counts(log.conflicts),
        removed: counts(log.removed),
    };
    let body = EventBody::Sync {
        source: log.source_id,
        target: log.target_id,
        progress,
        log: Some(log.id),
    };
    events.push(Event { tenant, body });
    events
}

/// The event of one change of a target listing made by hand (`cause`), e.g. an edit, to
/// publish once it is committed.
pub fn listing_changed(
    listing: &target_property::Model,
    kind: ChangeKind,
    cause: ChangeCause,
) -> Event {
    let body = EventBody::Listings {
        target: listing.target_id,
        cause,
        log: None,
        at: listing.updated_at,
        changes: vec![(listing.id, kind)],
    };
    Event {
        tenant: listing.tenant_id,
        body,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_largest_listing_event_fits_a_notify_payload() {
        let event = Event {
            tenant: i64::MAX,
            body: EventBody::Listings {
                target: i64::MAX,
                cause: ChangeCause::ConflictResolution,
                log: Some(i64::MAX),
                at: Utc::now(),
                changes: vec![(i64::MAX, ChangeKind::Conflict); CHANGES_PER_EVENT],
            },
        };
        let payload = serde_json::to_string(&event).unwrap_or_default();
        assert!(payload.len() < 8_000, "{} bytes", payload.len());
        assert_eq!(serde_json::from_str::<Event>(&payload).ok(), Some(event));
    }
}
