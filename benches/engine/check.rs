//! The correctness check: after the last step, every contender's database holds the same
//! listings, hashes, removals and snapshot counts.

use sea_orm::{ConnectionTrait, QueryResult};
use sha2::{Digest, Sha256};

use crate::Res;
use crate::baseline::Sql;
use crate::databases::Env;

/// Rows read per query while digesting.
const PAGE: i64 = 50_000;

/// What a database ended with, in a form that compares cheaply.
#[derive(Debug, PartialEq, Eq)]
pub struct State {
    /// Source listings, and a digest of their ids, hashes and removals.
    pub sources: (u64, String),
    /// Target listings, and a digest of their ids, hashes, base hashes and removals.
    pub targets: (u64, String),
    /// Rows in `source_snapshots`.
    pub source_snapshots: i64,
    /// Rows in `target_snapshots`.
    pub target_snapshots: i64,
}

/// The listing table read, in keyset pages by external id.
struct Listings {
    table: &'static str,
    owner: &'static str,
    columns: &'static str,
}

const SOURCES: Listings = Listings {
    table: "source_properties",
    owner: "source_id",
    columns: "external_id, content_hash, '' AS base_hash",
};

const TARGETS: Listings = Listings {
    table: "target_properties",
    owner: "target_id",
    columns: "external_id, content_hash, COALESCE(base_hash, '-') AS base_hash",
};

impl State {
    /// Reads `env`'s state.
    pub async fn of(env: &Env) -> Res<Self> {
        Ok(Self {
            sources: digest(env, &SOURCES, env.source).await?,
            targets: digest(env, &TARGETS, env.target).await?,
            source_snapshots: count(env, "source_snapshots").await?,
            target_snapshots: count(env, "target_snapshots").await?,
        })
    }
}

async fn digest(env: &Env, listings: &Listings, owner: i64) -> Res<(u64, String)> {
    let mut hasher = Sha256::new();
    let (mut rows, mut after) = (0u64, String::new());
    loop {
        let mut sql = Sql::new(env.backend());
        sql.push(&format!(
            "SELECT {}, CAST(CASE WHEN removed_at IS NULL THEN 0 ELSE 1 END AS BIGINT) \
             FROM {} WHERE tenant_id = ",
            listings.columns, listings.table
        ))
        .bind(env.tenant)
        .push(&format!(" AND {} = ", listings.owner))
        .bind(owner)
        .push(" AND external_id > ")
        .bind(after.as_str())
        .push(" ORDER BY external_id LIMIT ")
        .bind(PAGE);
        let page: Vec<QueryResult> = env.db.query_all_raw(sql.build()).await?;
        for row in &page {
            let (id, hash, base): (String, String, String) = (
                row.try_get_by_index(0)?,
                row.try_get_by_index(1)?,
                row.try_get_by_index(2)?,
            );
            let removed: i64 = row.try_get_by_index(3)?;
            hasher.update(format!("{id} {hash} {base} {removed}\n"));
            after = id;
        }
        rows += page.len() as u64;
        if page.len() < PAGE as usize {
            return Ok((rows, hex::encode(hasher.finalize())));
        }
    }
}

async fn count(env: &Env, table: &str) -> Res<i64> {
    let mut sql = Sql::new(env.backend());
    sql.push(&format!("SELECT COUNT(*) FROM {table} WHERE tenant_id = "))
        .bind(env.tenant);
    let row = env
        .db
        .query_one_raw(sql.build())
        .await?
        .ok_or("COUNT(*) returned no row")?;
    Ok(row.try_get_by_index::<i64>(0)?)
}
