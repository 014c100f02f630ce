//! What one request did, gathered while it runs: its id, the SQL statements it issued, what
//! the GraphQL handler learnt (operation, tenant, key prefix, error codes), and where its
//! domain work reports to metrics. Also the log output set-up (`SYNC_LOG_FORMAT`).
//!
//! The record lives in a tokio task-local set by the HTTP layer (see `http::observe`) for
//! the request's future, so code deep in the domain reaches it without a parameter. Work
//! spawned for the request (DataLoader batches) is spawned with [`spawn`], which carries the
//! record along. Outside a request (the CLI) every function here does nothing.

use std::future::Future;
use std::io::IsTerminal as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

use crate::metrics::Metrics;

/// How log lines are written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line, for log shippers.
    Json,
}

/// Sends `tracing` output to standard error, filtered by `filter` (env-filter syntax), in
/// `format`.
pub(crate) fn init_logging(filter: &str, format: LogFormat) {
    let ansi = std::io::stderr().is_terminal();
    let _ =
        tracing::subscriber::set_global_default(subscriber(filter, format, std::io::stderr, ansi));
}

/// The subscriber [`init_logging`] installs, writing to `writer` (tests capture the lines).
pub fn subscriber<W>(
    filter: &str,
    format: LogFormat,
    writer: W,
    ansi: bool,
) -> Box<dyn tracing::Subscriber + Send + Sync>
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer);
    match format {
        LogFormat::Text => Box::new(builder.with_ansi(ansi).finish()),
        // Each line: the event's fields at the top level, `span` with the innermost span's
        // fields (an import's tenant and source), and `spans` from the outermost in.
        LogFormat::Json => Box::new(
            builder
                .json()
                .flatten_event(true)
                .with_current_span(true)
                .with_span_list(true)
                .finish(),
        ),
    }
}

/// What the handler learnt about a request, for its log line.
#[derive(Clone, Debug, Default)]
pub(crate) struct Notes {
    /// The GraphQL operation's name, if it has one.
    pub(crate) operation_name: Option<String>,
    /// `query`, `mutation` or `subscription`; `None` before (or without) a parsed operation.
    pub(crate) operation_type: Option<&'static str>,
    /// The tenant of the API key.
    pub(crate) tenant_id: Option<i64>,
    /// The visible prefix of the API key (what `apiKeys` shows), never more of it.
    pub(crate) key_prefix: Option<String>,
    /// Whether the admin token was given and accepted.
    pub(crate) admin: bool,
    /// The `extensions.code` of every error answered, in order.
    pub(crate) error_codes: Vec<String>,
}

/// One request's record.
#[derive(Debug)]
pub(crate) struct RequestRecord {
    id: String,
    statements: AtomicU64,
    notes: Mutex<Notes>,
    metrics: Option<Metrics>,
}

impl RequestRecord {
    /// A record for the request with id `id`, reporting domain work to `metrics` if given.
    pub(crate) fn new(id: String, metrics: Option<Metrics>) -> Arc<Self> {
        Arc::new(Self {
            id,
            statements: AtomicU64::new(0),
            notes: Mutex::new(Notes::default()),
            metrics,
        })
    }

    /// The request id.
    pub(crate) fn id(&self) -> &str {
        &self.id
    }

    /// SQL statements issued so far.
    pub(crate) fn statements(&self) -> u64 {
        self.statements.load(Ordering::Relaxed)
    }

    /// A copy of the notes so far.
    pub(crate) fn notes(&self) -> Notes {
        self.notes.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn note(&self, f: impl FnOnce(&mut Notes)) {
        f(&mut self.notes.lock().unwrap_or_else(|e| e.into_inner()));
    }
}

tokio::task_local! {
    static CURRENT: Arc<RequestRecord>;
}

/// Runs `future` as the request of `record`.
pub(crate) async fn scope<F: Future>(record: Arc<RequestRecord>, future: F) -> F::Output {
    CURRENT.scope(record, future).await
}

fn with_current(f: impl FnOnce(&RequestRecord)) {
    let _ = CURRENT.try_with(|record| f(record));
}

/// The current request's id (none outside a request).
pub(crate) fn request_id() -> Option<String> {
    CURRENT.try_with(|record| record.id.clone()).ok()
}

/// Counts one SQL statement for the current request: the database connection's metric
/// callback (see [`crate::db`]).
pub fn on_statement(_info: &sea_orm::metric::Info<'_>) {
    with_current(|record| {
        record.statements.fetch_add(1, Ordering::Relaxed);
    });
}

/// `tokio::spawn`, keeping the current request's record for the spawned task (so the
/// statements a DataLoader batch issues count for the request that asked for them).
pub(crate) fn spawn<F>(future: F) -> tokio::task::JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    match CURRENT.try_with(Arc::clone) {
        Ok(record) => tokio::spawn(CURRENT.scope(record, future)),
        Err(_) => tokio::spawn(future),
    }
}

/// Notes the GraphQL operation the request runs.
pub(crate) fn note_operation(name: Option<&str>, operation_type: &'static str) {
    with_current(|record| {
        record.note(|notes| {
            notes.operation_name = name.map(str::to_owned);
            notes.operation_type = Some(operation_type);
        });
    });
}

/// Notes who the request acts for: the key's tenant and visible prefix, and whether the
/// admin token was accepted.
pub(crate) fn note_caller(tenant_id: Option<i64>, key_prefix: Option<&str>, admin: bool) {
    with_current(|record| {
        record.note(|notes| {
            notes.tenant_id = tenant_id;
            notes.key_prefix = key_prefix.map(str::to_owned);
            notes.admin = admin;
        });
    });
}

/// Notes the code of an error the request answers with.
pub(crate) fn note_error_code(code: &str) {
    with_current(|record| record.note(|notes| notes.error_codes.push(code.to_owned())));
}

/// Runs `f` with the metrics the current request reports to (none outside a request or when
/// metrics are off).
pub(crate) fn with_metrics(f: impl FnOnce(&Metrics)) {
    with_current(|record| {
        if let Some(metrics) = &record.metrics {
            f(metrics);
        }
    });
}
