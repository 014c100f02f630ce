//! Baseline (b), PostgreSQL only: each part hashed on every core and streamed with
//! `COPY … FROM STDIN` (sqlx's `copy_in_raw` on SeaORM's pool) into a temporary table, then
//! a few set-based statements from it; a sync is one statement with data-modifying `WITH`
//! clauses. Each step is one sqlx transaction.

use std::time::Duration;

use sea_orm::sqlx::{self, PgConnection, Postgres, Transaction};
use serde_json::Value as Json;

use super::hash_part;
use crate::Res;
use crate::databases::Env;
use crate::steps::{Step, Stopwatch};
use crate::workload::Workload;

/// Runs `step` as baseline (b).
pub async fn run(env: &Env, work: &Workload, step: Step) -> Res<Duration> {
    let mut clock = Stopwatch::default();
    let pool = env.db.get_postgres_connection_pool();
    let mut txn: Transaction<'_, Postgres> = clock.time(pool.begin()).await?;
    // Statistics lag a large load; hash joins whatever they say.
    let plain = "SET LOCAL enable_nestloop = off";
    clock.time(sqlx::query(plain).execute(&mut *txn)).await?;
    match step.day() {
        Some(day) => {
            let stage = "CREATE TEMPORARY TABLE bench_stage (external_id text NOT NULL, \
                 content_hash text NOT NULL, data jsonb NOT NULL) ON COMMIT DROP";
            clock.time(sqlx::query(stage).execute(&mut *txn)).await?;
            for part in work.parts(day) {
                let text = clock.time_sync(|| copy_text(part))?;
                clock.time(copy_in(&mut txn, text)).await?;
            }
            clock.time(import(env, &mut txn, step.full())).await?;
        }
        None => {
            clock.time(sync(env, &mut txn)).await?;
        }
    }
    clock.time(txn.commit()).await?;
    Ok(clock.total())
}

/// A part, hashed, as `COPY` text: external id, hash, listing, tab-separated.
fn copy_text(part: Vec<Json>) -> Res<Vec<u8>> {
    let rows = hash_part(part)?;
    let mut text = Vec::with_capacity(rows.len() * 2_048);
    for row in rows {
        escape(&mut text, &row.external_id);
        text.push(b'\t');
        text.extend_from_slice(row.hash.as_bytes());
        text.push(b'\t');
        escape(&mut text, &row.data.to_string());
        text.push(b'\n');
    }
    Ok(text)
}

/// `COPY`'s text format: backslash, tab, newline and carriage return escaped.
fn escape(out: &mut Vec<u8>, field: &str) {
    for byte in field.bytes() {
        match byte {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\t' => out.extend_from_slice(b"\\t"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            _ => out.push(byte),
        }
    }
}

async fn copy_in(conn: &mut PgConnection, text: Vec<u8>) -> Res<()> {
    let mut copy = conn.copy_in_raw("COPY bench_stage FROM STDIN").await?;
    copy.send(text).await?;
    copy.finish().await?;
    Ok(())
}

/// From the staged scrape: snapshot the stored versions that differ, insert or update what
/// is new, changed or returning, and (`FULL`) mark what the scrape lacks removed.
async fn import(env: &Env, conn: &mut PgConnection, full: bool) -> Res<()> {
    let snapshot = "INSERT INTO source_snapshots \
         (tenant_id, source_property_id, data, content_hash, reason, created_at) \
         SELECT sp.tenant_id, sp.id, sp.data, sp.content_hash, 'import', now() \
         FROM bench_stage s JOIN source_properties sp \
           ON sp.tenant_id = $1 AND sp.source_id = $2 AND sp.external_id = s.external_id \
         WHERE sp.content_hash <> s.content_hash";
    let upsert = "INSERT INTO source_properties \
         (tenant_id, source_id, external_id, data, content_hash, removed_at, created_at, updated_at) \
         SELECT $1, $2, s.external_id, s.data, s.content_hash, NULL, now(), now() \
         FROM bench_stage s WHERE NOT EXISTS (SELECT 1 FROM source_properties sp \
           WHERE sp.tenant_id = $1 AND sp.source_id = $2 AND sp.external_id = s.external_id \
             AND sp.content_hash = s.content_hash AND sp.removed_at IS NULL) \
         ON CONFLICT (tenant_id, source_id, external_id) DO UPDATE SET \
           data = excluded.data, content_hash = excluded.content_hash, removed_at = NULL, \
           updated_at = excluded.updated_at";
    let gone = "UPDATE source_properties sp SET removed_at = now(), updated_at = now() \
         WHERE sp.tenant_id = $1 AND sp.source_id = $2 AND sp.removed_at IS NULL \
           AND NOT EXISTS (SELECT 1 FROM bench_stage s WHERE s.external_id = sp.external_id)";
    let mut statements = vec![snapshot, upsert];
    if full {
        statements.push(gone);
    }
    for sql in statements {
        sqlx::query(sql)
            .bind(env.tenant)
            .bind(env.source)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// The whole sync in one statement: the pairs that need work are found once (by one join of
/// the source's listings with the target's), and every write reads them. All parts of the
/// statement see the rows as they were before it, so the snapshots hold the old versions.
const SYNC: &str = "WITH pairs AS MATERIALIZED ( \
       SELECT sp.id AS sp_id, sp.removed_at IS NOT NULL AS gone, tp.id AS tp_id \
       FROM source_properties sp LEFT JOIN target_properties tp \
         ON tp.tenant_id = sp.tenant_id AND tp.target_id = $3 AND tp.external_id = sp.external_id \
       WHERE sp.tenant_id = $1 AND sp.source_id = $2 AND CASE \
         WHEN tp.id IS NULL THEN sp.removed_at IS NULL \
         WHEN sp.removed_at IS NOT NULL THEN tp.removed_at IS NULL \
         ELSE NOT tp.manually_modified AND (tp.base_hash IS DISTINCT FROM sp.content_hash \
           OR tp.removed_at IS NOT NULL) END), \
     snapshots AS (INSERT INTO target_snapshots \
         (tenant_id, target_property_id, data, content_hash, reason, created_at) \
       SELECT tp.tenant_id, tp.id, tp.data, tp.content_hash, 'sync', now() \
       FROM pairs p JOIN target_properties tp ON tp.id = p.tp_id WHERE NOT p.gone), \
     updated AS (UPDATE target_properties tp SET data = sp.data, \
         content_hash = sp.content_hash, base_hash = sp.content_hash, source_property_id = sp.id, \
         removed_at = NULL, version = tp.version + 1, last_synced_at = now(), updated_at = now() \
       FROM pairs p JOIN source_properties sp ON sp.id = p.sp_id \
       WHERE tp.id = p.tp_id AND NOT p.gone), \
     removed AS (UPDATE target_properties tp SET removed_at = now(), updated_at = now(), \
         version = tp.version + 1 FROM pairs p WHERE tp.id = p.tp_id AND p.gone) \
     INSERT INTO target_properties (tenant_id, target_id, source_property_id, external_id, data, \
       content_hash, base_hash, manually_modified, conflict, last_synced_at, created_at, updated_at) \
     SELECT sp.tenant_id, $3, sp.id, sp.external_id, sp.data, sp.content_hash, sp.content_hash, \
       false, false, now(), now(), now() \
     FROM pairs p JOIN source_properties sp ON sp.id = p.sp_id WHERE p.tp_id IS NULL";

async fn sync(env: &Env, conn: &mut PgConnection) -> Res<()> {
    // The memory the domain's syncs give their joins (`db::SYNC_WORK_MEM_KB`).
    sqlx::query("SELECT set_config('work_mem', $1, true)")
        .bind(sync_manager::db::SYNC_WORK_MEM_KB.to_string())
        .execute(&mut *conn)
        .await?;
    sqlx::query(SYNC)
        .bind(env.tenant)
        .bind(env.source)
        .bind(env.target)
        .execute(conn)
        .await?;
    Ok(())
}
