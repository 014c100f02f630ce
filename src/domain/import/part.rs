//! One part of an import (see [`crate::domain::import`]), classified and written inside the
//! import's transaction: each listing is new, changed, unchanged, or back after a removal.
//!
//! The part's ids are looked up through the unique index, classified here, and what changed
//! is snapshotted, then written: on PostgreSQL streamed with `COPY` into a temporary table and
//! upserted from it in one statement, on SQLite in multi-row upserts (see
//! [`statements::import`]).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use sea_orm::ConnectionTrait;

use crate::error::Error;
use crate::store::locks::{CHUNK_IDS, CHUNK_ROWS};
use crate::store::pg_write::PgWrite;
use crate::store::statements::{self, Listing};
use crate::store::tenant_write::TenantWrite;

/// Where a part goes, and whether to write it.
#[derive(Clone, Copy, Debug)]
pub struct PartOf {
    /// The tenant.
    pub tenant_id: i64,
    /// The source.
    pub source_id: i64,
    /// Classify and count only.
    pub dry_run: bool,
    /// The source held no listing when the import began (and its lock keeps it so for
    /// others): every listing is new, since an id comes only once per import, and the
    /// lookup is skipped.
    pub source_was_empty: bool,
}

/// What a part held, and when it was classified.
#[derive(Debug, Default)]
pub struct PartOutcome {
    /// New listings.
    pub created: usize,
    /// Changed listings, and listings back after a removal.
    pub updated: usize,
    /// Listings stored with the same hash (not written).
    pub unchanged: usize,
    /// Ids of the stored listings the part carried (for a `FULL` import's removals).
    pub stored_ids: Vec<i64>,
    /// Time from the start of the part to the end of its classification.
    pub classified: Duration,
}

/// What the import knows of a stored listing.
struct Stored {
    id: i64,
    hash: String,
    removed: bool,
}

/// Classifies and (unless a dry run) writes a part: reads the stored listings of its ids,
/// classifies here, writes what changed. `clock` started with the part.
pub async fn write_part(
    txn: &TenantWrite,
    part: PartOf,
    listings: Vec<Listing>,
    clock: Instant,
) -> Result<PartOutcome, Error> {
    let stored = if part.source_was_empty {
        HashMap::new()
    } else {
        load_stored(txn, part, &listings).await?
    };
    let mut outcome = PartOutcome::default();
    // New listings; changed or returning ones, to upsert; ids of the changed ones, to
    // snapshot first.
    let mut writes = Writes::default();
    for listing in listings {
        match stored.get(&listing.external_id) {
            None => {
                outcome.created += 1;
                writes.new.push(listing);
            }
            Some(row) => {
                outcome.stored_ids.push(row.id);
                if row.hash != listing.hash {
                    outcome.updated += 1;
                    writes.changed_ids.push(row.id);
                    writes.upserts.push(listing);
                } else if row.removed {
                    // Back after a removal, unchanged: only `removed_at` is cleared.
                    outcome.updated += 1;
                    writes.upserts.push(listing);
                } else {
                    outcome.unchanged += 1;
                }
            }
        }
    }
    outcome.classified = clock.elapsed();
    if !part.dry_run {
        write(txn, part, writes, Utc::now()).await?;
    }
    Ok(outcome)
}

/// The stored listings with the part's ids, looked up in chunks.
async fn load_stored(
    txn: &TenantWrite,
    part: PartOf,
    listings: &[Listing],
) -> Result<HashMap<String, Stored>, Error> {
    let backend = txn.get_database_backend();
    let mut stored = HashMap::with_capacity(listings.len());
    for chunk in listings.chunks(CHUNK_IDS) {
        let external_ids: Vec<&str> = chunk.iter().map(|l| l.external_id.as_str()).collect();
        let rows = txn
            .query_all_raw(statements::import::stored_listings_by_external_id(
                backend,
                part.tenant_id,
                part.source_id,
                &external_ids,
            ))
            .await?;
        for row in rows {
            let removed_at: Option<DateTime<Utc>> = row.try_get("", "removed_at")?;
            stored.insert(
                row.try_get("", "external_id")?,
                Stored {
                    id: row.try_get("", "id")?,
                    hash: row.try_get("", "content_hash")?,
                    removed: removed_at.is_some(),
                },
            );
        }
    }
    Ok(stored)
}

/// What a part writes.
#[derive(Default)]
struct Writes {
    /// Listings the source lacks.
    new: Vec<Listing>,
    /// Changed listings, and listings back after a removal.
    upserts: Vec<Listing>,
    /// Ids of the changed listings, to snapshot before they are overwritten.
    changed_ids: Vec<i64>,
}

/// Snapshots the changed listings, then writes the part: on PostgreSQL the new listings are
/// streamed into the table with `COPY` (the source's lock keeps their ids free) and the rest
/// upserted; on SQLite all of them go in multi-row upserts.
async fn write(
    txn: &TenantWrite,
    part: PartOf,
    writes: Writes,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let backend = txn.get_database_backend();
    for chunk in writes.changed_ids.chunks(CHUNK_IDS) {
        txn.execute_raw(statements::import::snapshot_source_listings(
            backend,
            part.tenant_id,
            chunk,
            now,
        ))
        .await?;
    }
    let mut new = writes.new;
    if let Some(pg) = txn.postgres() {
        copy_new(pg, part, &new, now).await?;
        new.clear();
    }
    let mut upserts = new.into_iter().chain(writes.upserts).peekable();
    while upserts.peek().is_some() {
        let chunk = upserts.by_ref().take(CHUNK_ROWS);
        txn.execute(&statements::import::upsert_source_listings(
            part.tenant_id,
            part.source_id,
            chunk,
            now,
        ))
        .await?;
    }
    Ok(())
}

/// PostgreSQL: streams new listings into `source_properties` with `COPY`, in chunks of
/// [`CHUNK_ROWS`] encoded as the previous one is sent.
async fn copy_new(
    pg: &PgWrite,
    part: PartOf,
    new: &[Listing],
    now: DateTime<Utc>,
) -> Result<(), Error> {
    if new.is_empty() {
        return Ok(());
    }
    let rows = statements::import::NewRows::new(part.tenant_id, part.source_id, now);
    let chunks = new.chunks(CHUNK_ROWS).map(|chunk| {
        let mut text = Vec::with_capacity(chunk.len() * 2048);
        for listing in chunk {
            rows.push(&mut text, listing);
        }
        text
    });
    pg.copy_in(statements::import::COPY_NEW_LISTINGS, chunks)
        .await?;
    Ok(())
}
