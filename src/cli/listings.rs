//! `import`, `sync`, `cleanup`: the operator's side of the sync engine.

use std::path::PathBuf;

use clap::Args;
use serde_json::json;

use crate::cli::choices::ImportModeChoice;
use crate::cli::{output, summary};
use crate::config::Config;
use crate::domain::audit::Actor;
use crate::domain::catalog;
use crate::domain::import::{ImportOptions, ImportSession};
use crate::domain::snapshots::{self, DEFAULT_RETENTION_DAYS};
use crate::domain::sync::{self, SyncOptions};
use crate::entity::{source, sync_log, target};
use crate::ids::{SourceId, TargetId};
use crate::stream::feed::Feed;
use crate::stream::{JsonReading, NamedFile};

/// Arguments of `import`.
#[derive(Args, Debug)]
pub(crate) struct ImportArgs {
    /// The tenant: its id as `--json` printed it, its numeric id, or its slug.
    tenant: String,
    /// The source: its id as `--json` printed it, its numeric id, or its name.
    source: String,
    /// Files to import, as one batch: `.json` (an object or an array), `.ndjson`/`.jsonl`
    /// (one object a line), or `-` for standard input.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// `full`: the files are the whole scrape, listings they lack are marked removed.
    #[arg(long, value_enum, default_value = "incremental")]
    mode: ImportModeChoice,
    /// Check and count only; write nothing but the import run.
    #[arg(long)]
    dry_run: bool,
    /// With `--mode full`: let the import remove more than the source's
    /// `config.max_removal_percent` (default 20) of its live listings, or all of them.
    /// Without it such an import is refused (exit code 8) and writes only its import run.
    #[arg(long)]
    allow_mass_removal: bool,
    /// Print one JSON object, as GraphQL's `importProperties` answers: `importRun` (and
    /// `listings`, how many were read).
    #[arg(long)]
    pub(super) json: bool,
}

/// Arguments of `sync`.
#[derive(Args, Debug)]
pub(crate) struct SyncArgs {
    /// The tenant: its id as `--json` printed it, its numeric id, or its slug.
    tenant: String,
    /// The source: its id as `--json` printed it, its numeric id, or its name.
    source: String,
    /// The target: its id as `--json` printed it, its numeric id, or its name.
    target: String,
    /// Count and report only; write nothing but the sync log.
    #[arg(long)]
    dry_run: bool,
    /// Let the sync remove more than the target's `config.max_removal_percent` (default 20)
    /// of the live listings this source feeds it, or all of them. Without it such a sync is
    /// refused (exit code 8) and writes only its sync log.
    #[arg(long)]
    allow_mass_removal: bool,
    /// Print one JSON object, as GraphQL's `syncSource` answers: `syncLog`.
    #[arg(long)]
    pub(super) json: bool,
}

/// Arguments of `cleanup`.
#[derive(Args, Debug)]
pub(crate) struct CleanupArgs {
    /// The tenant: its id as `--json` printed it, its numeric id, or its slug.
    tenant: String,
    /// Delete snapshots older than this many days.
    #[arg(long, default_value_t = DEFAULT_RETENTION_DAYS)]
    days: i64,
    /// Count only; delete nothing.
    #[arg(long)]
    dry_run: bool,
    /// Print one JSON object, as GraphQL's `cleanupSnapshots` answers.
    #[arg(long)]
    pub(super) json: bool,
}

/// Imports files into a source, as one transaction: the files are streamed one after another
/// into one import session, so memory holds a few batches whatever their size.
pub(crate) async fn import(config: &Config, args: ImportArgs) -> anyhow::Result<()> {
    // Every file is checked, and standard input read, before the database is touched.
    let files = args
        .files
        .iter()
        .map(|path| NamedFile::check(path))
        .collect::<Result<Vec<_>, _>>()?;
    let (db, scope) = super::open_tenant(config, &args.tenant).await?;
    let source = catalog::find_for_cli::<source::Entity>(&db, &scope, &args.source).await?;
    let options = ImportOptions {
        mode: args.mode.into(),
        dry_run: args.dry_run,
        allow_mass_removal: args.allow_mass_removal,
        actor: Actor::Cli,
    };
    let session = ImportSession::begin(&db, &scope, SourceId(source.id), options).await?;
    let mut feed = Feed::new(session);
    for file in files {
        feed.add(file.open()?, JsonReading::Document, |_, _, _| {})
            .await?;
    }
    let count = feed.listings();
    let run = feed.finish().await?;
    let duration_ms = (run.finished_at - run.started_at).num_milliseconds();
    let verb = if run.dry_run {
        "would import"
    } else {
        "imported"
    };
    let mut text = format!(
        "{verb} {} into `{}`: {} created, {} updated, {} unchanged, {} removed ({duration_ms} ms)",
        summary::listings(count),
        source.name,
        run.created,
        run.updated,
        run.unchanged,
        run.removed
    );
    if run.mass_removal_refused {
        text.push_str("\nwarning: the mass-removal guard would refuse this import without --allow-mass-removal");
    }
    output::print(
        args.json,
        &json!({ "importRun": output::import_run_json(&run), "listings": count }),
        &text,
    );
    Ok(())
}

/// Syncs a source into a target.
pub(crate) async fn sync(config: &Config, args: SyncArgs) -> anyhow::Result<()> {
    let (db, scope) = super::open_tenant(config, &args.tenant).await?;
    let source = catalog::find_for_cli::<source::Entity>(&db, &scope, &args.source).await?;
    let target = catalog::find_for_cli::<target::Entity>(&db, &scope, &args.target).await?;
    let log = sync::sync_source_to_target(
        &db,
        &scope,
        SourceId(source.id),
        TargetId(target.id),
        SyncOptions {
            dry_run: args.dry_run,
            allow_mass_removal: args.allow_mass_removal,
            ..SyncOptions::new(Actor::Cli)
        },
    )
    .await?;
    output::print(
        args.json,
        &json!({ "syncLog": output::sync_log_json(&log) }),
        &sync_text(&log, &source.name, &target.name),
    );
    Ok(())
}

/// What `sync` says to people: the counts, then a line per warning.
fn sync_text(log: &sync_log::Model, source: &str, target: &str) -> String {
    let duration_ms = (log.finished_at - log.started_at).num_milliseconds();
    let mut text = format!(
        "{} `{source}` → `{target}`: {} created, {} updated, {} skipped, {} removed; conflicts: {} new, {} open; {} hand edits kept, {} merged ({duration_ms} ms)",
        if log.dry_run { "would sync" } else { "synced" },
        log.created,
        log.updated,
        log.skipped,
        log.removed,
        log.new_conflicts.unwrap_or_default(),
        log.open_conflicts.unwrap_or_default(),
        log.kept_edits.unwrap_or_default(),
        log.merged,
    );
    if log.mass_removal_refused {
        text.push_str(
            "\nwarning: the mass-removal guard would refuse this sync without --allow-mass-removal",
        );
    }
    for warning in log.warnings.as_array().into_iter().flatten() {
        text.push_str(&format!(
            "\nwarning: listing `{}`: {}",
            warning["externalId"].as_str().unwrap_or_default(),
            warning["message"].as_str().unwrap_or_default()
        ));
    }
    text
}

/// Deletes a tenant's old snapshots.
pub(crate) async fn cleanup(config: &Config, args: CleanupArgs) -> anyhow::Result<()> {
    let (db, scope) = super::open_tenant(config, &args.tenant).await?;
    let report =
        snapshots::cleanup_snapshots(&db, &scope, args.days, args.dry_run, Actor::Cli).await?;
    output::print(
        args.json,
        &json!({
            "dryRun": report.dry_run,
            "cutoff": report.cutoff.to_rfc3339(),
            "sourceSnapshotsDeleted": report.source_snapshots,
            "targetSnapshotsDeleted": report.target_snapshots,
            "keptPinned": report.kept_pinned,
            "cleanupRun": output::cleanup_run_json(&report.run),
        }),
        &format!(
            "{} {} source and {} target snapshots older than {} days (before {}); kept {} pinned",
            if report.dry_run {
                "would delete"
            } else {
                "deleted"
            },
            report.source_snapshots,
            report.target_snapshots,
            args.days,
            report.cutoff.to_rfc3339(),
            report.kept_pinned,
        ),
    );
    Ok(())
}
