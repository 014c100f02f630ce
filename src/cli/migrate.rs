//! `migrate-json`: import a folder of scraped files, each file in its own transaction, with
//! progress, in bounded memory. `init --import` runs the same code on a fresh database.
//!
//! Every file goes through the domain's [`ImportSession`], the import behind
//! `importProperties`, streamed in batches by [`crate::stream::feed`]: a file is imported
//! whole or not at all. A bad file (unreadable, not JSON, a listing without an id, an id
//! twice) is reported with its file, line or item and reason, and the other files go on; the
//! command then ends with exit code 3. Any other failure (a source made inactive, the
//! database gone) stops the migration where it is, reports what was done, and exits with
//! that error's code.
//!
//! `--mode full` says a file is the whole scrape and marks what it lacks as removed; with two
//! files each would remove the other's listings, so it is refused unless exactly one file is
//! found.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use clap::Args;
use sea_orm::DatabaseConnection;
use serde_json::Value;

use crate::cli::choices::ImportModeChoice;
use crate::cli::discover::{self, FoundFile};
use crate::cli::progress::{Progress, ProgressMode};
use crate::cli::{Reported, summary};
use crate::config::Config;
use crate::domain::audit::Actor;
use crate::domain::catalog;
use crate::domain::import::{ImportMode, ImportOptions, ImportSession};
use crate::entity::{import_run, source};
use crate::error::Error;
use crate::ids::SourceId;
use crate::store::scope::TenantScope;
use crate::stream::feed::Feed;
use crate::stream::{JsonReading, ListingFile};

/// Arguments of `migrate-json`.
#[derive(Args, Debug)]
pub(crate) struct MigrateJsonArgs {
    /// The tenant: its id as `--json` printed it, its numeric id, or its slug.
    #[arg(long)]
    tenant: String,
    /// The source: its id as `--json` printed it, its numeric id, or its name.
    #[arg(long)]
    source: String,
    /// Files to import; with `--auto`, folders to search (default: the working directory).
    #[arg(required_unless_present = "auto")]
    paths: Vec<PathBuf>,
    /// Find the `*.json`, `*.ndjson` and `*.jsonl` files under the folders, skipping hidden
    /// folders, `target/`, `node_modules/` and what a `.gitignore` names.
    #[arg(long)]
    auto: bool,
    /// Check every file and count what would be created, updated or left unchanged; write
    /// no listing (each file still leaves a dry-run import record).
    #[arg(long)]
    dry_run: bool,
    /// `full`: the file is the whole scrape, listings it lacks are marked removed (needs
    /// exactly one file).
    #[arg(long, value_enum, default_value = "incremental")]
    mode: ImportModeChoice,
    /// With `--mode full`: let the file remove more than the source's
    /// `config.max_removal_percent` (default 20) of its live listings, or all of them.
    #[arg(long)]
    allow_mass_removal: bool,
    /// Print one JSON report at the end instead of the table (progress goes to stderr).
    #[arg(long)]
    pub(super) json: bool,
}

/// What to import, and how.
pub(crate) struct Migration<'a> {
    /// The tenant's scope.
    pub scope: &'a TenantScope,
    /// The source listings go into.
    pub source: &'a source::Model,
    /// The files, in import order.
    pub files: Vec<FoundFile>,
    /// Incremental or full.
    pub mode: ImportMode,
    /// Count only.
    pub dry_run: bool,
    /// Let a `FULL` import pass the mass-removal guard.
    pub allow_mass_removal: bool,
    /// One JSON report instead of the table.
    pub json: bool,
}

/// How one file went.
#[derive(Debug)]
pub(crate) struct FileReport {
    /// The file.
    pub file: FoundFile,
    /// Imported, failed, or not reached.
    pub status: FileStatus,
    /// Listings read from it (for a failed file: read before it stopped).
    pub listings: usize,
    /// The import run it left (none for a failed file).
    pub run: Option<import_run::Model>,
    /// Why it failed.
    pub error: Option<Error>,
    /// How long it took.
    pub duration: Duration,
}

/// The fate of one file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FileStatus {
    /// Imported (or, in a dry run, checked) whole.
    Imported,
    /// Nothing of it was imported; [`FileReport::error`] says why.
    Failed,
    /// Not reached: the migration stopped on an earlier error.
    Skipped,
}

impl FileReport {
    fn new(file: FoundFile, status: FileStatus) -> Self {
        Self {
            file,
            status,
            listings: 0,
            run: None,
            error: None,
            duration: Duration::ZERO,
        }
    }
}

/// Runs `migrate-json`.
pub(crate) async fn migrate_json(config: &Config, args: MigrateJsonArgs) -> anyhow::Result<()> {
    let files = if args.auto {
        discover::discover(&args.paths)?
    } else {
        discover::named(&args.paths)?
    };
    let mode = ImportMode::from(args.mode);
    check_mode(mode, files.len())?;
    let (db, scope) = super::open_tenant(config, &args.tenant).await?;
    let source = catalog::find_for_cli::<source::Entity>(&db, &scope, &args.source).await?;
    let migration = Migration {
        scope: &scope,
        source: &source,
        files,
        mode,
        dry_run: args.dry_run,
        allow_mass_removal: args.allow_mass_removal,
        json: args.json,
    };
    run(&db, migration).await
}

/// Refuses `--mode full` over several files: each would remove the others' listings.
pub(crate) fn check_mode(mode: ImportMode, files: usize) -> Result<(), Error> {
    if mode == ImportMode::Full && files > 1 {
        return Err(Error::invalid(
            "--mode",
            format!(
                "`full` needs exactly one file, and {files} were found: a full import marks \
                 what its file lacks as removed, so each file would remove the others' \
                 listings; import them with `--mode incremental`, or merge them into one file"
            ),
        ));
    }
    Ok(())
}

/// Imports `migration.files` one by one, with progress, then prints the summary table or
/// the JSON report. Fails (after the report) when a file failed.
pub(crate) async fn run(db: &DatabaseConnection, migration: Migration<'_>) -> anyhow::Result<()> {
    let started = Instant::now();
    let mode = ProgressMode::detect(migration.json);
    if !migration.json {
        summary::print_found(&migration.files, migration.dry_run, mode);
    }
    let options = ImportOptions {
        mode: migration.mode,
        dry_run: migration.dry_run,
        allow_mass_removal: migration.allow_mass_removal,
        actor: Actor::Cli,
    };
    let (scope, source, json) = (migration.scope, migration.source, migration.json);
    let (mut reports, stopped_at) =
        import_files(db, scope, source, &options, migration.files, mode).await;
    let summary = summary::Summary::new(&reports, options.dry_run, started.elapsed());
    let files = which_files(&reports, options.dry_run);
    // The error the command ends with: the one that stopped it, or one naming the failed files.
    let failed = summary.failed_files;
    let invalid_files = (stopped_at.is_none() && failed > 0).then(|| {
        Error::invalid(
            "files",
            format!(
                "{failed} of {} files failed, and nothing of a failed file was written; {files}",
                reports.len()
            ),
        )
    });
    if json {
        let stop_error = stopped_at.and_then(|i| reports.get(i)?.error.as_ref());
        let mut report = summary.to_json(&reports, source, options.mode);
        report["error"] = stop_error
            .or(invalid_files.as_ref())
            .map_or(Value::Null, error_json);
        println!("{report}");
    } else {
        summary.print_table(&reports, options.mode, mode);
    }
    let failure = match stopped_at {
        Some(i) => Failure::StoppedAt(reports.get_mut(i), files),
        None => Failure::InvalidFiles(invalid_files),
    };
    failure.into_result(json)
}

/// Imports the files in order, each in its own session, with progress. Returns a report per
/// file and the index of the report whose error stopped the migration, if one did (the
/// files after it are reported skipped).
async fn import_files(
    db: &DatabaseConnection,
    scope: &TenantScope,
    source: &source::Model,
    options: &ImportOptions,
    files: Vec<FoundFile>,
    mode: ProgressMode,
) -> (Vec<FileReport>, Option<usize>) {
    let mut progress = Progress::new(&files, mode);
    let mut reports = Vec::with_capacity(files.len());
    let mut stopped_at: Option<usize> = None;
    for (number, file) in files.into_iter().enumerate() {
        if stopped_at.is_some() {
            reports.push(FileReport::new(file, FileStatus::Skipped));
            continue;
        }
        progress.start_file(number + 1, &file);
        let mut report = FileReport::new(file, FileStatus::Imported);
        let clock = Instant::now();
        let outcome = import_file(db, scope, source, options, &mut report, &mut progress).await;
        report.duration = clock.elapsed();
        match outcome {
            Ok(run) => report.run = Some(run),
            Err(error) => {
                // A bad file is the file's problem; anything else stops the migration.
                if !matches!(error, Error::InvalidInput { .. }) {
                    stopped_at = Some(number);
                }
                report.status = FileStatus::Failed;
                report.error = Some(error);
            }
        }
        progress.end_file(report.listings, &summary::file_outcome(&report));
        reports.push(report);
    }
    progress.finish();
    (reports, stopped_at)
}

/// How a migration that did not import every file ends.
enum Failure<'r> {
    /// A file's error stopped it (the report, and which files were imported).
    StoppedAt(Option<&'r mut FileReport>, String),
    /// It went through every file, and these failed (none: it succeeded).
    InvalidFiles(Option<Error>),
}

impl Failure<'_> {
    /// The command's result; with `--json` the error is already in the printed report.
    fn into_result(self, json: bool) -> anyhow::Result<()> {
        let (failure, context) = match self {
            Self::StoppedAt(report, files) => {
                let at = report.as_ref().map(|r| r.file.name()).unwrap_or_default();
                let error = report.and_then(|r| r.error.take());
                (error, Some(format!("stopped at {at} ({files})")))
            }
            Self::InvalidFiles(error) => (error, None),
        };
        let Some(error) = failure else {
            return Ok(());
        };
        let error = if json {
            anyhow::Error::new(Reported(error))
        } else {
            anyhow::Error::new(error)
        };
        Err(match context {
            Some(context) => error.context(context),
            None => error,
        })
    }
}

/// Which files were imported and which were not, by name: `imported: a.json, c.json; not
/// imported: b.json`.
fn which_files(reports: &[FileReport], dry_run: bool) -> String {
    let names = |imported: bool| {
        let names: Vec<String> = reports
            .iter()
            .filter(|r| (r.status == FileStatus::Imported) == imported)
            .map(|r| r.file.name())
            .collect();
        if names.is_empty() {
            "none".to_owned()
        } else {
            names.join(", ")
        }
    };
    let (done, not_done) = if dry_run {
        ("checked", "not checked")
    } else {
        ("imported", "not imported")
    };
    format!("{done}: {}; {not_done}: {}", names(true), names(false))
}

/// Imports one file in one session: batches come from the reader thread as it parses.
async fn import_file(
    db: &DatabaseConnection,
    scope: &TenantScope,
    source: &source::Model,
    options: &ImportOptions,
    report: &mut FileReport,
    progress: &mut Progress,
) -> Result<import_run::Model, Error> {
    let file = ListingFile::open(&report.file.path, &report.file.name(), report.file.format)?;
    let session = ImportSession::begin(db, scope, SourceId(source.id), options.clone()).await?;
    let mut feed = Feed::new(session);
    let fed = feed
        .add(file, JsonReading::Items, |bytes_read, listings, counts| {
            progress.update(bytes_read, listings, counts);
        })
        .await;
    report.listings = feed.listings();
    fed?;
    // The session's own `finish` commits; dropping it on an error above rolls back.
    feed.finish().await
}

/// The JSON of an error in a report: its code, its message, and the part it names.
pub(crate) fn error_json(error: &Error) -> Value {
    crate::cli::output::domain_error_json(error)
}
