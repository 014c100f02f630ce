//! The baselines: the set-based SQL a person would write by hand for the same two days,
//! independent of the domain's statements. Both hash every listing with the domain's
//! `content_hash` (timed, on every core), so the stored hashes can be compared.
//!
//! - [`insert`]: multi-row `INSERT … ON CONFLICT` of 1,000 rows a statement, on both
//!   databases, and four `INSERT … SELECT` / `UPDATE … FROM` statements per sync.
//! - [`copy`] (PostgreSQL): `COPY … FROM STDIN` into a temporary table, then a few set-based
//!   statements from it; a sync is one statement.

pub mod copy;
pub mod insert;

use std::fmt::Write as _;

use sea_orm::{DbBackend, Statement, Value};
use serde_json::Value as Json;
use sync_manager::hashing::content_hash;

use crate::Res;

/// One listing ready to write.
pub struct Row {
    /// Its `id`.
    pub external_id: String,
    /// `hashing::content_hash` of it.
    pub hash: String,
    /// The listing.
    pub data: Json,
}

fn external_id(item: &Json) -> Res<String> {
    match item.get("id") {
        Some(Json::String(s)) => Ok(s.clone()),
        Some(Json::Number(n)) => Ok(n.to_string()),
        _ => Err("a listing without an id".into()),
    }
}

fn rows(items: Vec<Json>) -> Result<Vec<Row>, String> {
    items
        .into_iter()
        .map(|data| {
            let external_id = external_id(&data).map_err(|e| e.to_string())?;
            let hash = content_hash(&data);
            Ok(Row {
                external_id,
                hash,
                data,
            })
        })
        .collect()
}

/// Hashes a part on every core.
pub fn hash_part(mut items: Vec<Json>) -> Res<Vec<Row>> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let per_thread = items.len().div_ceil(threads).max(1);
    let mut chunks = Vec::with_capacity(threads);
    while items.len() > per_thread {
        let rest = items.split_off(per_thread);
        chunks.push(std::mem::replace(&mut items, rest));
    }
    chunks.push(items);
    let hashed: Vec<Result<Vec<Row>, String>> = std::thread::scope(|s| {
        let handles: Vec<_> = chunks
            .into_iter()
            .map(|chunk| s.spawn(move || rows(chunk)))
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err("a hashing thread panicked".into()))
            })
            .collect()
    });
    let mut out = Vec::new();
    for rows in hashed {
        out.extend(rows?);
    }
    Ok(out)
}

/// A statement built fragment by fragment, each value bound where it is pushed, with the
/// backend's placeholders (`$n` or `?`).
pub struct Sql {
    backend: DbBackend,
    text: String,
    values: Vec<Value>,
}

impl Sql {
    /// An empty statement.
    pub fn new(backend: DbBackend) -> Self {
        Self {
            backend,
            text: String::new(),
            values: Vec::new(),
        }
    }

    /// Appends SQL text.
    pub fn push(&mut self, text: &str) -> &mut Self {
        self.text.push_str(text);
        self
    }

    /// Appends a placeholder bound to `value`.
    pub fn bind(&mut self, value: impl Into<Value>) -> &mut Self {
        self.values.push(value.into());
        match self.backend {
            DbBackend::Postgres => {
                let _ = write!(self.text, "${}", self.values.len());
            }
            _ => self.text.push('?'),
        }
        self
    }

    /// The statement to run.
    pub fn build(self) -> Statement {
        Statement::from_sql_and_values(self.backend, self.text, self.values)
    }
}
