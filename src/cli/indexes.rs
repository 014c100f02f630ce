//! `index-path add|list|drop`: the paths of listing JSON with an index.

use std::time::Duration;

use clap::{Args, Subcommand};
use serde_json::{Value, json};

use crate::cli::output;
use crate::config::Config;
use crate::domain::path_indexes::{self, IndexedPath};

/// Arguments of `index-path`.
#[derive(Args, Debug)]
pub(crate) struct IndexPathArgs {
    #[command(subcommand)]
    action: IndexPathAction,
}

#[derive(Subcommand, Debug)]
enum IndexPathAction {
    /// Index a path of the listing JSON on both listing tables, for filters (`LT`, `LTE`,
    /// `GT`, `GTE`, `EQ`, `IN`) and ascending orders on it; a path that has its index is left
    /// as it is.
    Add(PathArgs),
    /// List the indexed paths.
    List(ListArgs),
    /// Drop a path's indexes.
    Drop(PathArgs),
}

#[derive(Args, Debug)]
struct PathArgs {
    /// The path, keys separated by dots: `price`, `address.city`.
    path: String,
    /// Print one JSON object: `indexedPath` (`add`) or `droppedPath` (`drop`).
    #[arg(long)]
    json: bool,
    /// PostgreSQL: how long to keep trying to take each listing table's lock for its key
    /// column, in seconds, while an import or a sync holds the table (reads are let through
    /// between attempts).
    #[arg(long, value_name = "SECONDS", default_value_t = path_indexes::DEFAULT_LOCK_WAIT.as_secs())]
    wait: u64,
}

#[derive(Args, Debug)]
struct ListArgs {
    /// Print one JSON object: `indexedPaths`.
    #[arg(long)]
    json: bool,
}

impl IndexPathArgs {
    /// Whether the command was asked for `--json` output.
    pub(super) fn json(&self) -> bool {
        match &self.action {
            IndexPathAction::Add(args) | IndexPathAction::Drop(args) => args.json,
            IndexPathAction::List(args) => args.json,
        }
    }
}

fn indexed_path_json(indexed: &IndexedPath) -> Value {
    json!({ "path": indexed.path, "tables": indexed.tables, "ready": indexed.ready })
}

fn describe(indexed: &IndexedPath) -> String {
    let state = if indexed.ready {
        ""
    } else {
        " (not ready: a build failed, or it is of an earlier version; `index-path add` it again)"
    };
    format!("{} on {}{state}", indexed.path, indexed.tables.join(", "))
}

/// Runs `index-path`.
pub(crate) async fn index_path(config: &Config, args: IndexPathArgs) -> anyhow::Result<()> {
    match args.action {
        IndexPathAction::Add(args) => {
            let db = config.open_database_for_ddl().await?;
            let indexed =
                path_indexes::index_path(&db, &args.path, Duration::from_secs(args.wait)).await?;
            output::print(
                args.json,
                &json!({ "indexedPath": indexed_path_json(&indexed) }),
                &format!("indexed {}", describe(&indexed)),
            );
        }
        IndexPathAction::List(args) => {
            let db = config.open_database().await?;
            let paths = path_indexes::indexed_paths(&db).await?;
            let text = if paths.is_empty() {
                "no indexed paths".to_owned()
            } else {
                paths.iter().map(describe).collect::<Vec<_>>().join("\n")
            };
            let json: Vec<Value> = paths.iter().map(indexed_path_json).collect();
            output::print(args.json, &json!({ "indexedPaths": json }), &text);
        }
        IndexPathAction::Drop(args) => {
            let db = config.open_database_for_ddl().await?;
            path_indexes::drop_path_index(&db, &args.path, Duration::from_secs(args.wait)).await?;
            output::print(
                args.json,
                &json!({ "droppedPath": args.path }),
                &format!("dropped the indexes of {}", args.path),
            );
        }
    }
    Ok(())
}
