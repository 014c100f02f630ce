//! `serve` and `export-schema`.

use std::path::PathBuf;

use std::io::Write as _;

use anyhow::Context as _;
use clap::Args;

use crate::config::{Config, ServerConfig};
use crate::{db, demo, graphql, http};

/// Arguments of `serve`.
#[derive(Args, Debug)]
pub struct ServeArgs {
    #[command(flatten)]
    server: ServerConfig,
    /// Create (or reuse) a demo tenant with sources, targets and listings, print a fresh API
    /// key for it, and fill that key into GraphiQL's headers.
    #[arg(long)]
    demo: bool,
}

/// Arguments of `export-schema`.
#[derive(Args, Debug)]
pub struct ExportSchemaArgs {
    /// Write the SDL to this file (e.g. `schema.graphql`) instead of standard output.
    #[arg(long, short)]
    output: Option<PathBuf>,
}

/// Runs the server until Ctrl-C or SIGTERM.
pub async fn serve(config: &Config, args: ServeArgs) -> anyhow::Result<()> {
    let db = db::connect_and_migrate(&config.database_url)
        .await
        .with_context(|| format!("cannot open the database {}", config.database_url))?;
    let demo_key = if args.demo {
        let demo = demo::seed(&db).await?;
        Some(demo.api_key)
    } else {
        None
    };
    let state = http::AppState::new(db, &args.server, demo_key.as_deref());
    let router = http::router(state, &args.server);
    let listener = tokio::net::TcpListener::bind(args.server.bind)
        .await
        .with_context(|| format!("cannot listen on {}", args.server.bind))?;
    let address = listener.local_addr()?;
    let mut banner = format!(
        "Sync Manager is listening on http://{address}\n  GraphiQL: http://{address}/graphql\n  health:   http://{address}/health\n"
    );
    if let Some(key) = &demo_key {
        banner.push_str(&format!(
            "  try: curl -s http://{address}/graphql -H 'Content-Type: application/json' \\\n         -H 'X-API-Key: {key}' -d '{{\"query\":\"{{ viewer {{ name }} }}\"}}'\n  demo tenant API key (already in GraphiQL's headers): {key}\n"
        ));
    }
    // Whoever started us may stop reading stdout; serving matters more than the banner.
    let mut stdout = std::io::stdout().lock();
    let _ = stdout
        .write_all(banner.as_bytes())
        .and_then(|()| stdout.flush());
    drop(stdout);
    http::serve(listener, router).await?;
    Ok(())
}

/// Prints or writes the SDL.
pub async fn export_schema(args: ExportSchemaArgs) -> anyhow::Result<()> {
    let sdl = graphql::schema_sdl().await?;
    match args.output {
        Some(path) => std::fs::write(&path, sdl)
            .with_context(|| format!("cannot write {}", path.display()))?,
        None => print!("{sdl}"),
    }
    Ok(())
}
