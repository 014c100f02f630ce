//! The command line: one module per command group, each thin over [`crate::domain`].
//!
//! Exit codes: 0 success, 1 internal or I/O failure, 2 usage error (from clap),
//! 3 invalid input, 4 not found, 5 conflict (also a stale `--expected-version`),
//! 6 unauthenticated or forbidden, 7 database unavailable, 8 refused by the mass-removal
//! guard (`--allow-mass-removal` lets it through).

mod catalog;
mod choices;
mod discover;
mod history;
mod indexes;
mod listings;
mod migrate;
pub(crate) mod output;
mod progress;
mod server;
mod setup;
mod summary;

use std::process::ExitCode;

use clap::{CommandFactory as _, FromArgMatches as _, Parser, Subcommand};

use crate::config::Config;
use crate::domain::tenants;
use crate::error::Error;
use crate::store::scope::TenantScope;

/// Keeps scraped real-estate listings in step with the sites and APIs that publish them.
#[derive(Parser, Debug)]
#[command(name = "sync-manager", version, about, propagate_version = true)]
pub struct Cli {
    #[command(flatten)]
    config: Config,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Create the database if needed (a SQLite file, or a PostgreSQL database) and bring its
    /// schema up to date.
    Init(setup::InitArgs),
    /// Create a tenant and its first API key.
    CreateTenant(setup::CreateTenantArgs),
    /// Create an API key for a tenant (the key is printed once).
    CreateApiKey(setup::CreateApiKeyArgs),
    /// Create a source, where listings come from.
    CreateSource(catalog::CreateSourceArgs),
    /// Create a target, where listings are synced to.
    CreateTarget(catalog::CreateTargetArgs),
    /// Import listing files into a source (one transaction; `-` reads standard input).
    Import(listings::ImportArgs),
    /// Import a folder of listing files, one transaction per file, with progress.
    MigrateJson(migrate::MigrateJsonArgs),
    /// Sync a source's listings into a target.
    Sync(listings::SyncArgs),
    /// Delete a tenant's unpinned snapshots older than N days (default 30).
    Cleanup(listings::CleanupArgs),
    /// Make a snapshot's data current again on its listing (a hand edit on a target).
    RestoreSnapshot(history::RestoreSnapshotArgs),
    /// Pin a snapshot so cleanup keeps it whatever its age (or unpin it).
    PinSnapshot(history::PinSnapshotArgs),
    /// Index a path of the listing JSON for filtered and ordered pages, list or drop such
    /// indexes (they serve every tenant).
    IndexPath(indexes::IndexPathArgs),
    /// Start the GraphQL server (GraphiQL at /graphql).
    Serve(server::ServeArgs),
    /// Print the GraphQL schema (SDL) the server serves, or write it to a file.
    ExportSchema(server::ExportSchemaArgs),
}

/// Runs the command line and returns the process exit code.
pub fn main() -> ExitCode {
    // `.env` first, so its values reach clap's `env` defaults.
    let _ = dotenvy::dotenv();
    let parsed = Cli::command()
        .try_get_matches()
        .and_then(|matches| Cli::from_arg_matches(&matches).map(|cli| (cli, matches)));
    let (cli, matches) = match parsed {
        Ok(parsed) => parsed,
        Err(err) => {
            if err.use_stderr() && std::env::args_os().any(|arg| arg == "--json") {
                output::print_usage_error(&err);
            }
            err.exit()
        }
    };
    // The server logs each import, sync and cleanup; a command prints its own summary, so
    // by default it leaves those lines out (`--log`/`RUST_LOG` bring them back).
    let mut filter = cli.config.log_filter.clone();
    if !matches!(cli.command, Command::Serve(_))
        && matches.value_source("log_filter") == Some(clap::parser::ValueSource::DefaultValue)
    {
        filter.push_str(",sync_manager::domain=warn");
    }
    crate::telemetry::init_logging(&filter, cli.config.log_format);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("error: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    let json = cli.command.prints_json();
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            let message = output::error_message(&err);
            eprintln!("error: {message}");
            let reported = err.downcast_ref::<Reported>();
            if json && reported.is_none() {
                output::print_error(&err, &message);
            }
            let domain = reported
                .map(|r| &r.0)
                .or_else(|| err.downcast_ref::<Error>());
            let unreachable = matches!(
                err.downcast_ref::<crate::db::OpenError>(),
                Some(crate::db::OpenError::Unreachable { .. })
            );
            ExitCode::from(match domain {
                Some(domain) => domain.exit_code(),
                // The same code as a database that goes away mid-command: retry later.
                None if unreachable => 7,
                None => 1,
            })
        }
    }
}

/// A failure whose `--json` report, error included, is already on stdout.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub(crate) struct Reported(pub(crate) Error);

impl Command {
    /// Whether the command was asked for `--json` output (and so for a JSON error object).
    fn prints_json(&self) -> bool {
        match self {
            Self::CreateTenant(args) => args.json,
            Self::CreateApiKey(args) => args.json,
            Self::CreateSource(args) => args.json,
            Self::CreateTarget(args) => args.json,
            Self::Import(args) => args.json,
            Self::MigrateJson(args) => args.json,
            Self::Sync(args) => args.json,
            Self::Cleanup(args) => args.json,
            Self::RestoreSnapshot(args) => args.json,
            Self::PinSnapshot(args) => args.json,
            Self::IndexPath(args) => args.json(),
            Self::Init(_) | Self::Serve(_) | Self::ExportSchema(_) => false,
        }
    }
}

/// Opens the database and the scope of the tenant a command names (an id, a numeric id or a
/// slug).
async fn open_tenant(
    config: &Config,
    tenant: &str,
) -> anyhow::Result<(sea_orm::DatabaseConnection, TenantScope)> {
    let db = config.open_database().await?;
    let scope = tenants::scope_for_cli(&db, tenant).await?;
    Ok((db, scope))
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let config = cli.config;
    match cli.command {
        Command::Init(args) => setup::init(&config, args).await,
        Command::CreateTenant(args) => setup::create_tenant(&config, args).await,
        Command::CreateApiKey(args) => setup::create_api_key(&config, args).await,
        Command::CreateSource(args) => catalog::create_source(&config, args).await,
        Command::CreateTarget(args) => catalog::create_target(&config, args).await,
        Command::Import(args) => listings::import(&config, args).await,
        Command::MigrateJson(args) => migrate::migrate_json(&config, args).await,
        Command::Sync(args) => listings::sync(&config, args).await,
        Command::Cleanup(args) => listings::cleanup(&config, args).await,
        Command::RestoreSnapshot(args) => history::restore_snapshot(&config, args).await,
        Command::PinSnapshot(args) => history::pin_snapshot(&config, args).await,
        Command::IndexPath(args) => indexes::index_path(&config, args).await,
        Command::Serve(args) => server::serve(&config, args).await,
        Command::ExportSchema(args) => server::export_schema(args).await,
    }
}
