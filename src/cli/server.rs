//! `serve` and `export-schema`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use std::io::Write as _;

use anyhow::Context as _;
use clap::Args;

use crate::config::{Config, ServerConfig};
use crate::{demo, graphql, http};

/// Arguments of `serve`.
#[derive(Args, Debug)]
pub(crate) struct ServeArgs {
    #[command(flatten)]
    server: ServerConfig,
    /// Create (or reuse) a demo tenant with sources, targets and listings, print its API key
    /// and fill it into GraphiQL's headers. The key is kept in `sync-manager-demo.key` in the
    /// working directory (mode 0600) and reused by later starts.
    #[arg(long)]
    demo: bool,
}

/// Arguments of `export-schema`.
#[derive(Args, Debug)]
pub(crate) struct ExportSchemaArgs {
    /// Write the SDL to this file (e.g. `schema.graphql`) instead of standard output.
    #[arg(long, short)]
    output: Option<PathBuf>,
}

/// Runs the server until Ctrl-C or SIGTERM.
pub(crate) async fn serve(config: &Config, args: ServeArgs) -> anyhow::Result<()> {
    let db = config.open_database().await.with_context(|| {
        format!(
            "cannot open the database {}",
            config.database_url.redacted()
        )
    })?;
    let demo = if args.demo {
        Some(demo::seed_keeping_key(&db, Path::new(demo::DEMO_KEY_FILE)).await?)
    } else {
        None
    };
    let demo_key = demo.as_ref().map(|d| d.api_key.as_str());
    let state = http::AppState::new(db, &args.server, demo_key);
    let metrics_address = spawn_metrics_listener(&state, &args.server).await?;
    let router = http::router(state, &args.server);
    let listener = tokio::net::TcpListener::bind(args.server.bind)
        .await
        .with_context(|| format!("cannot listen on {}", args.server.bind))?;
    let address = listener.local_addr()?;
    if demo.is_some() && !address.ip().is_loopback() {
        eprintln!(
            "warning: --demo on {address}, which is not a loopback address: anyone who can \
             reach it gets the demo tenant's read-write API key from the GraphiQL page at \
             /graphql. Bind to 127.0.0.1 unless that is what you want."
        );
    }
    if let Some(not_kept) = demo.as_ref().and_then(|d| d.not_kept.as_deref()) {
        eprintln!("warning: {not_kept}; the next start will make another demo key");
    }
    let banner = banner(address, metrics_address, args.server.metrics, demo.as_ref());
    // Whoever started us may stop reading stdout; serving matters more than the banner.
    let mut stdout = std::io::stdout().lock();
    let _ = stdout
        .write_all(banner.as_bytes())
        .and_then(|()| stdout.flush());
    drop(stdout);
    let grace = std::time::Duration::from_secs(args.server.shutdown_grace_secs);
    http::serve(listener, router, grace).await?;
    Ok(())
}

/// With `--metrics-bind` (and metrics on), serves `/metrics` on a listener of its own and
/// returns its address.
async fn spawn_metrics_listener(
    state: &http::AppState,
    server: &ServerConfig,
) -> anyhow::Result<Option<SocketAddr>> {
    let Some(bind) = server.metrics_bind.filter(|_| server.metrics) else {
        return Ok(None);
    };
    let listener = tokio::net::TcpListener::bind(bind)
        .await
        .with_context(|| format!("cannot listen for metrics on {bind}"))?;
    let address = listener.local_addr()?;
    let metrics = http::observe::metrics_router(state.clone());
    tokio::spawn(async move {
        if let Err(err) = axum::serve(listener, metrics).await {
            tracing::error!(error = %err, "the metrics listener stopped");
        }
    });
    Ok(Some(address))
}

/// What `serve` prints on start: where to reach it, and with `--demo` how to try it.
fn banner(
    address: SocketAddr,
    metrics_address: Option<SocketAddr>,
    metrics: bool,
    demo: Option<&demo::Demo>,
) -> String {
    let mut banner = format!(
        "Sync Manager is listening on http://{address}\n  GraphiQL: http://{address}/graphql\n  health:   http://{address}/health\n"
    );
    match (metrics_address, metrics) {
        (Some(metrics), _) => banner.push_str(&format!("  metrics:  http://{metrics}/metrics\n")),
        (None, true) => banner.push_str(&format!("  metrics:  http://{address}/metrics\n")),
        (None, false) => {}
    }
    if let Some(demo) = demo {
        let key = &demo.api_key;
        let kept = match (demo.new_key, &demo.not_kept) {
            (false, _) => format!("reused from {}", demo::DEMO_KEY_FILE),
            (true, None) => format!("new, kept in {}", demo::DEMO_KEY_FILE),
            (true, Some(_)) => "new".to_owned(),
        };
        banner.push_str(&format!(
            "  try: curl -s http://{address}/graphql -H 'Content-Type: application/json' \\\n         -H 'X-API-Key: {key}' -d '{{\"query\":\"{{ viewer {{ name }} }}\"}}'\n  demo tenant API key ({kept}; already in GraphiQL's headers): {key}\n"
        ));
    }
    banner
}

/// Prints or writes the SDL.
pub(crate) async fn export_schema(args: ExportSchemaArgs) -> anyhow::Result<()> {
    let sdl = graphql::schema_sdl().await?;
    match args.output {
        Some(path) => std::fs::write(&path, sdl)
            .with_context(|| format!("cannot write {}", path.display()))?,
        None => print!("{sdl}"),
    }
    Ok(())
}
