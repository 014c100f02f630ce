//! Content hashes that keep integers exact: rehashes the stored rows the new canonical form
//! changes (see `src/hashing.rs`, compiled into this crate as [`crate::hashing`]).
//!
//! The canonical form differs from RFC 8785 only for a number whose RFC 8785 text is not its
//! exact value, i.e. one with 16 or more significant digits. So only rows whose JSON holds a
//! run of 16 digits are read (a pattern match in the database), and of those only the rows
//! whose hash changes are written: in `source_properties`, `target_properties` and both
//! snapshot tables. A target listing's `base_hash` (the source's hash at the last sync) is
//! mapped to the new hash of the same version, found as the application finds that version
//! (the listing itself, its snapshots, its source listing, that listing's snapshots), so a
//! rehashed source listing does not look changed to the next sync, and a hand-edited one
//! raises no conflict. Nothing else (timestamps, data) is touched.
//!
//! `down` leaves the hashes as they are: the new hashes of ordinary listings are the old ones.

use std::collections::{HashMap, HashSet};

use sea_orm::{ConnectionTrait, DbBackend, Statement, Value};
use sea_orm_migration::prelude::*;

use crate::hashing::content_hash;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Rows read or written per statement.
const CHUNK: usize = 500;

/// A changed row: its old hash and its new one, by row id.
type Rehashed = HashMap<i64, (String, String)>;

/// A statement with `?` placeholders, numbered for PostgreSQL.
fn statement(backend: DbBackend, sql: &str, values: Vec<Value>) -> Statement {
    let sql = if backend == DbBackend::Postgres {
        let mut numbered = String::with_capacity(sql.len() + 16);
        let mut n = 0;
        for c in sql.chars() {
            if c == '?' {
                n += 1;
                numbered.push_str(&format!("${n}"));
            } else {
                numbered.push(c);
            }
        }
        numbered
    } else {
        sql.to_owned()
    };
    Statement::from_sql_and_values(backend, sql, values)
}

fn placeholders(n: usize) -> String {
    vec!["?"; n].join(", ")
}

/// Rows of `table` whose hash the canonical form changes: id → (old hash, new hash).
async fn rehash(db: &SchemaManagerConnection<'_>, table: &str) -> Result<Rehashed, DbErr> {
    let backend = db.get_database_backend();
    // A number with 16 or more significant digits has a run of 16 digits in its text.
    let candidate = match backend {
        DbBackend::Postgres => "data::text ~ '[0-9]{16}'".to_owned(),
        _ => format!("data GLOB '*{}*'", "[0-9]".repeat(16)),
    };
    let mut changed = Rehashed::new();
    let mut after = 0_i64;
    loop {
        let rows = db
            .query_all_raw(statement(
                backend,
                &format!(
                    "SELECT id, data, content_hash FROM {table} \
                     WHERE id > ? AND {candidate} ORDER BY id LIMIT {CHUNK}"
                ),
                vec![after.into()],
            ))
            .await?;
        let Some(last) = rows.last() else { break };
        after = last.try_get("", "id")?;
        for row in &rows {
            let id: i64 = row.try_get("", "id")?;
            let data: serde_json::Value = row.try_get("", "data")?;
            let old: String = row.try_get("", "content_hash")?;
            let new = content_hash(&data);
            if new != old {
                changed.insert(id, (old, new));
            }
        }
        if rows.len() < CHUNK {
            break;
        }
    }
    Ok(changed)
}

/// `column` ← the given text, by row id.
async fn write(
    db: &SchemaManagerConnection<'_>,
    table: &str,
    column: &str,
    rows: &[(i64, String)],
) -> Result<(), DbErr> {
    let backend = db.get_database_backend();
    for chunk in rows.chunks(CHUNK) {
        let values_sql = vec!["(?, ?)"; chunk.len()].join(", ");
        let mut values: Vec<Value> = Vec::with_capacity(chunk.len() * 2);
        for (id, text) in chunk {
            values.push((*id).into());
            values.push(text.clone().into());
        }
        db.execute_raw(statement(
            backend,
            &format!(
                "UPDATE {table} SET {column} = v.column2 FROM (VALUES {values_sql}) AS v \
                 WHERE {table}.id = v.column1"
            ),
            values,
        ))
        .await?;
    }
    Ok(())
}

/// One row of a hash lookup: (id, owner id, hash as stored).
async fn hashes(
    db: &SchemaManagerConnection<'_>,
    sql: &str,
    ids: &[i64],
) -> Result<Vec<(i64, Option<i64>, String)>, DbErr> {
    let backend = db.get_database_backend();
    let mut found = Vec::new();
    for chunk in ids.chunks(CHUNK) {
        let sql = sql.replace("{ids}", &placeholders(chunk.len()));
        let values = chunk.iter().map(|id| Value::from(*id)).collect();
        for row in db.query_all_raw(statement(backend, &sql, values)).await? {
            found.push((
                row.try_get("", "id")?,
                row.try_get("", "owner")?,
                row.try_get("", "content_hash")?,
            ));
        }
    }
    Ok(found)
}

/// The old and new hash of a row, rehashed or not.
fn old_and_new(rehashed: &Rehashed, id: i64, stored: &str) -> (String, String) {
    rehashed
        .get(&id)
        .cloned()
        .unwrap_or_else(|| (stored.to_owned(), stored.to_owned()))
}

/// New `base_hash`es of the target listings whose base is a version that was rehashed.
async fn rebase(
    db: &SchemaManagerConnection<'_>,
    source: &Rehashed,
    source_snapshots: &Rehashed,
    target: &Rehashed,
    target_snapshots: &Rehashed,
) -> Result<Vec<(i64, String)>, DbErr> {
    let old: Vec<String> = [source, source_snapshots, target, target_snapshots]
        .iter()
        .flat_map(|rows| rows.values().map(|(old, _)| old.clone()))
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    if old.is_empty() {
        return Ok(Vec::new());
    }
    let backend = db.get_database_backend();
    // (target listing id, its base hash, its hash as stored, its source listing).
    let mut listings: Vec<(i64, String, String, Option<i64>)> = Vec::new();
    for chunk in old.chunks(CHUNK) {
        let sql = format!(
            "SELECT id, base_hash, content_hash, source_property_id FROM target_properties \
             WHERE base_hash IN ({}) ORDER BY id",
            placeholders(chunk.len())
        );
        let values = chunk.iter().map(|h| Value::from(h.clone())).collect();
        for row in db.query_all_raw(statement(backend, &sql, values)).await? {
            listings.push((
                row.try_get("", "id")?,
                row.try_get("", "base_hash")?,
                row.try_get("", "content_hash")?,
                row.try_get("", "source_property_id")?,
            ));
        }
    }
    if listings.is_empty() {
        return Ok(Vec::new());
    }

    // Every version the bases may be among, newest last.
    let listing_ids: Vec<i64> = listings.iter().map(|l| l.0).collect();
    let mut target_versions: HashMap<i64, Vec<(String, String)>> = HashMap::new();
    for (id, owner, stored) in hashes(
        db,
        "SELECT id, target_property_id AS owner, content_hash FROM target_snapshots \
         WHERE target_property_id IN ({ids}) ORDER BY id",
        &listing_ids,
    )
    .await?
    {
        if let Some(owner) = owner {
            target_versions.entry(owner).or_default().push(old_and_new(
                target_snapshots,
                id,
                &stored,
            ));
        }
    }
    let source_ids: Vec<i64> = listings
        .iter()
        .filter_map(|l| l.3)
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let mut source_now: HashMap<i64, (String, String)> = HashMap::new();
    for (id, _, stored) in hashes(
        db,
        "SELECT id, id AS owner, content_hash FROM source_properties WHERE id IN ({ids})",
        &source_ids,
    )
    .await?
    {
        source_now.insert(id, old_and_new(source, id, &stored));
    }
    let mut source_versions: HashMap<i64, Vec<(String, String)>> = HashMap::new();
    for (id, owner, stored) in hashes(
        db,
        "SELECT id, source_property_id AS owner, content_hash FROM source_snapshots \
         WHERE source_property_id IN ({ids}) ORDER BY id",
        &source_ids,
    )
    .await?
    {
        if let Some(owner) = owner {
            source_versions.entry(owner).or_default().push(old_and_new(
                source_snapshots,
                id,
                &stored,
            ));
        }
    }

    let newest = |versions: Option<&Vec<(String, String)>>, base: &str| {
        versions.and_then(|v| {
            v.iter()
                .rev()
                .find(|(old, _)| old == base)
                .map(|(_, n)| n.clone())
        })
    };
    let mut rebased = Vec::new();
    for (id, base, stored, source_listing) in listings {
        let (own_old, own_new) = old_and_new(target, id, &stored);
        let new = if own_old == base {
            Some(own_new)
        } else {
            newest(target_versions.get(&id), &base).or_else(|| {
                let source_listing = source_listing?;
                match source_now.get(&source_listing) {
                    Some((old, new)) if *old == base => Some(new.clone()),
                    _ => newest(source_versions.get(&source_listing), &base),
                }
            })
        };
        if let Some(new) = new
            && new != base
        {
            rebased.push((id, new));
        }
    }
    Ok(rebased)
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let source = rehash(db, "source_properties").await?;
        let source_snapshots = rehash(db, "source_snapshots").await?;
        let target = rehash(db, "target_properties").await?;
        let target_snapshots = rehash(db, "target_snapshots").await?;
        // Bases are found by the hashes as stored, so before any is rewritten.
        let rebased = rebase(db, &source, &source_snapshots, &target, &target_snapshots).await?;
        for (table, rows) in [
            ("source_properties", &source),
            ("source_snapshots", &source_snapshots),
            ("target_properties", &target),
            ("target_snapshots", &target_snapshots),
        ] {
            let mut rows: Vec<(i64, String)> = rows
                .iter()
                .map(|(id, (_, new))| (*id, new.clone()))
                .collect();
            rows.sort_unstable();
            write(db, table, "content_hash", &rows).await?;
        }
        write(db, "target_properties", "base_hash", &rebased).await?;
        Ok(())
    }

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        Ok(())
    }
}
