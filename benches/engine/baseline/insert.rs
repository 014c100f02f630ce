//! Baseline (a): multi-row `INSERT … ON CONFLICT`, 1,000 rows a statement, through SeaORM's
//! raw statements, on SQLite and PostgreSQL alike; each step one transaction.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DatabaseTransaction, DbBackend, TransactionTrait};

use super::{Row, Sql, hash_part};
use crate::Res;
use crate::databases::Env;
use crate::steps::{Step, Stopwatch};
use crate::workload::Workload;

/// Rows per multi-row statement.
const CHUNK: usize = 1_000;

/// Runs `step` as baseline (a).
pub async fn run(env: &Env, work: &Workload, step: Step) -> Res<Duration> {
    let mut clock = Stopwatch::default();
    let now = Utc::now();
    let txn = clock.time(env.db.begin()).await?;
    match step.day() {
        Some(day) => {
            if step.full() {
                clock.time(seen_table(&txn, true)).await?;
            }
            for part in work.parts(day) {
                clock
                    .time(import_part(env, &txn, part, step.full(), now))
                    .await?;
            }
            if step.full() {
                clock.time(mark_gone(env, &txn, now)).await?;
                clock.time(seen_table(&txn, false)).await?;
            }
        }
        None => clock.time(sync(env, &txn, now)).await?,
    }
    clock.time(txn.commit()).await?;
    Ok(clock.total())
}

/// Creates (or drops) the temporary table of the ids a `FULL` import saw.
async fn seen_table(txn: &DatabaseTransaction, create: bool) -> Res<()> {
    let sql = if create {
        "CREATE TEMPORARY TABLE bench_seen (external_id TEXT PRIMARY KEY)"
    } else {
        "DROP TABLE bench_seen"
    };
    txn.execute_unprepared(sql).await?;
    Ok(())
}

/// Hashes a part, then per 1,000 rows: snapshots the stored versions that differ, upserts
/// the rows, and (`FULL`) remembers their ids.
async fn import_part(
    env: &Env,
    txn: &DatabaseTransaction,
    part: Vec<serde_json::Value>,
    full: bool,
    now: DateTime<Utc>,
) -> Res<()> {
    let mut rows = hash_part(part)?;
    while !rows.is_empty() {
        let chunk: Vec<Row> = rows.drain(..CHUNK.min(rows.len())).collect();
        txn.execute_raw(snapshot_changed(env, &chunk, now)).await?;
        if full {
            let mut sql = Sql::new(env.backend());
            sql.push("INSERT INTO bench_seen (external_id) VALUES ");
            for (i, row) in chunk.iter().enumerate() {
                sql.push(if i == 0 { "(" } else { ", (" });
                sql.bind(row.external_id.as_str()).push(")");
            }
            txn.execute_raw(sql.build()).await?;
        }
        txn.execute_raw(upsert(env, chunk, now)).await?;
    }
    Ok(())
}

/// The stored versions of the chunk's listings whose hash differs, into `source_snapshots`.
fn snapshot_changed(env: &Env, chunk: &[Row], now: DateTime<Utc>) -> sea_orm::Statement {
    let mut sql = Sql::new(env.backend());
    sql.push(
        "INSERT INTO source_snapshots \
         (tenant_id, source_property_id, data, content_hash, reason, created_at) \
         SELECT sp.tenant_id, sp.id, sp.data, sp.content_hash, 'import', ",
    );
    sql.bind(now)
        .push(" FROM source_properties sp JOIN (VALUES ");
    for (i, row) in chunk.iter().enumerate() {
        sql.push(if i == 0 { "(" } else { ", (" });
        sql.bind(row.external_id.as_str()).push(", ");
        sql.bind(row.hash.as_str()).push(")");
    }
    // VALUES names its columns column1, column2 on both databases.
    sql.push(") AS batch ON batch.column1 = sp.external_id ")
        .push("WHERE sp.tenant_id = ")
        .bind(env.tenant)
        .push(" AND sp.source_id = ")
        .bind(env.source)
        .push(" AND sp.content_hash <> batch.column2");
    sql.build()
}

/// One multi-row upsert that writes only new, changed or returning rows.
fn upsert(env: &Env, chunk: Vec<Row>, now: DateTime<Utc>) -> sea_orm::Statement {
    let mut sql = Sql::new(env.backend());
    sql.push(
        "INSERT INTO source_properties (tenant_id, source_id, external_id, data, content_hash, \
         removed_at, created_at, updated_at) VALUES ",
    );
    for (i, row) in chunk.into_iter().enumerate() {
        sql.push(if i == 0 { "(" } else { ", (" });
        sql.bind(env.tenant).push(", ").bind(env.source).push(", ");
        sql.bind(row.external_id)
            .push(", ")
            .bind(row.data)
            .push(", ");
        sql.bind(row.hash).push(", NULL, ").bind(now).push(", ");
        sql.bind(now).push(")");
    }
    sql.push(
        " ON CONFLICT (tenant_id, source_id, external_id) DO UPDATE SET \
         data = excluded.data, content_hash = excluded.content_hash, removed_at = NULL, \
         updated_at = excluded.updated_at \
         WHERE source_properties.content_hash <> excluded.content_hash \
            OR source_properties.removed_at IS NOT NULL",
    );
    sql.build()
}

/// Marks the live listings the `FULL` import did not see removed.
async fn mark_gone(env: &Env, txn: &DatabaseTransaction, now: DateTime<Utc>) -> Res<()> {
    let mut sql = Sql::new(env.backend());
    sql.push("UPDATE source_properties SET removed_at = ")
        .bind(now)
        .push(", updated_at = ")
        .bind(now)
        .push(" WHERE tenant_id = ")
        .bind(env.tenant)
        .push(" AND source_id = ")
        .bind(env.source)
        .push(
            " AND removed_at IS NULL AND NOT EXISTS (SELECT 1 FROM bench_seen s \
             WHERE s.external_id = source_properties.external_id)",
        );
    txn.execute_raw(sql.build()).await?;
    Ok(())
}

/// The listing pairs a sync looks at, by external id, and which of them changed.
const PAIR: &str = "sp.tenant_id = tp.tenant_id AND sp.external_id = tp.external_id";
const CHANGED: &str = "sp.removed_at IS NULL AND NOT tp.manually_modified \
     AND (tp.base_hash IS NULL OR tp.base_hash <> sp.content_hash OR tp.removed_at IS NOT NULL)";

/// A sync in four statements: snapshot the changed target rows, update them, create the
/// missing ones, mark the ones removed at the source.
async fn sync(env: &Env, txn: &DatabaseTransaction, now: DateTime<Utc>) -> Res<()> {
    if env.backend() == DbBackend::Postgres {
        // Right after a large load the statistics still say "empty": keep the planner off
        // nested loops over whole tables.
        txn.execute_unprepared("SET LOCAL enable_nestloop = off")
            .await?;
    }
    let (tenant, source, target) = (env.tenant, env.source, env.target);
    let join = |sql: &mut Sql| {
        sql.push(" FROM source_properties sp WHERE ")
            .push(PAIR)
            .push(" AND sp.source_id = ")
            .bind(source)
            .push(" AND tp.tenant_id = ")
            .bind(tenant)
            .push(" AND tp.target_id = ")
            .bind(target);
    };
    let mut snapshot = Sql::new(env.backend());
    snapshot
        .push(
            "INSERT INTO target_snapshots \
             (tenant_id, target_property_id, data, content_hash, reason, created_at) \
             SELECT tp.tenant_id, tp.id, tp.data, tp.content_hash, 'sync', ",
        )
        .bind(now)
        .push(" FROM target_properties tp JOIN source_properties sp ON ")
        .push(PAIR)
        .push(" AND sp.source_id = ")
        .bind(source)
        .push(" WHERE tp.tenant_id = ")
        .bind(tenant)
        .push(" AND tp.target_id = ")
        .bind(target)
        .push(" AND ")
        .push(CHANGED);
    txn.execute_raw(snapshot.build()).await?;

    let mut update = Sql::new(env.backend());
    update
        .push(
            "UPDATE target_properties AS tp SET data = sp.data, content_hash = sp.content_hash, \
             base_hash = sp.content_hash, source_property_id = sp.id, removed_at = NULL, \
             version = tp.version + 1, last_synced_at = ",
        )
        .bind(now)
        .push(", updated_at = ")
        .bind(now);
    join(&mut update);
    update.push(" AND ").push(CHANGED);
    txn.execute_raw(update.build()).await?;

    txn.execute_raw(create_missing(env, now)).await?;

    let mut removed = Sql::new(env.backend());
    removed
        .push("UPDATE target_properties AS tp SET version = tp.version + 1, removed_at = ")
        .bind(now)
        .push(", updated_at = ")
        .bind(now);
    join(&mut removed);
    removed.push(" AND sp.removed_at IS NOT NULL AND tp.removed_at IS NULL");
    txn.execute_raw(removed.build()).await?;
    Ok(())
}

/// The live source listings the target lacks, created on it.
fn create_missing(env: &Env, now: DateTime<Utc>) -> sea_orm::Statement {
    let mut sql = Sql::new(env.backend());
    sql.push(
        "INSERT INTO target_properties (tenant_id, target_id, source_property_id, external_id, \
         data, content_hash, base_hash, manually_modified, conflict, last_synced_at, \
         created_at, updated_at) SELECT sp.tenant_id, ",
    )
    .bind(env.target)
    .push(", sp.id, sp.external_id, sp.data, sp.content_hash, sp.content_hash, ")
    .bind(false)
    .push(", ")
    .bind(false);
    for _ in 0..3 {
        sql.push(", ").bind(now);
    }
    sql.push(" FROM source_properties sp WHERE sp.tenant_id = ")
        .bind(env.tenant)
        .push(" AND sp.source_id = ")
        .bind(env.source)
        .push(
            " AND sp.removed_at IS NULL AND NOT EXISTS (SELECT 1 FROM target_properties tp \
             WHERE tp.tenant_id = sp.tenant_id AND tp.external_id = sp.external_id \
             AND tp.target_id = ",
        )
        .bind(env.target)
        .push(")");
    sql.build()
}
