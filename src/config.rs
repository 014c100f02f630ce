//! Configuration: every setting is a flag with an env var (and `.env` is read at start-up),
//! and every default just works: a SQLite file in the working directory, port 8000 on loopback.

use std::net::SocketAddr;

use clap::Args;
use secrecy::{ExposeSecret, SecretString};

use crate::telemetry::LogFormat;

/// Where the database lives when `DATABASE_URL` is not set.
pub(crate) const DEFAULT_DATABASE_URL: &str = "sqlite://sync-manager.db?mode=rwc";

/// Settings every command shares.
#[derive(Args, Clone, Debug)]
pub(crate) struct Config {
    /// Database to use: `sqlite://FILE?mode=rwc` or `postgres://USER@HOST/DB`.
    #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL, global = true, hide_env_values = true)]
    pub(crate) database_url: DatabaseUrl,

    /// Log filter, in `tracing` env-filter syntax (e.g. `info`, `sync_manager=debug`).
    #[arg(
        long = "log",
        env = "RUST_LOG",
        default_value = "info,sea_orm_migration=warn,sqlx=warn",
        global = true
    )]
    pub(crate) log_filter: String,

    /// Log line format: `text` for people, `json` for one JSON object per line.
    #[arg(long, env = "SYNC_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text, global = true)]
    pub(crate) log_format: LogFormat,

    /// Milliseconds one SQL statement may run on PostgreSQL before the server cancels it
    /// (`statement_timeout`); 0 for no limit. SQLite has no equivalent.
    #[arg(
        long,
        env = "SYNC_STATEMENT_TIMEOUT_MS",
        default_value_t = 60_000,
        global = true
    )]
    pub(crate) statement_timeout_ms: u64,

    /// Milliseconds a PostgreSQL session may sit idle inside a transaction before the server
    /// ends it and releases its locks (`idle_in_transaction_session_timeout`); 0 for no limit.
    #[arg(
        long,
        env = "SYNC_IDLE_IN_TRANSACTION_TIMEOUT_MS",
        default_value_t = 60_000,
        global = true
    )]
    pub(crate) idle_in_transaction_timeout_ms: u64,
}

impl Config {
    /// The session limits every database connection gets.
    pub(crate) fn session_limits(&self) -> crate::db::SessionLimits {
        crate::db::SessionLimits {
            statement_timeout_ms: self.statement_timeout_ms,
            idle_in_transaction_timeout_ms: self.idle_in_transaction_timeout_ms,
        }
    }

    /// Opens the configured database without session limits (as migrations run), for an
    /// operator's schema change that takes as long as reading a table, its schema brought up
    /// to date.
    pub(crate) async fn open_database_for_ddl(
        &self,
    ) -> Result<sea_orm::DatabaseConnection, crate::db::OpenError> {
        crate::db::connect_and_migrate_with(
            self.database_url.expose_secret(),
            &crate::db::SessionLimits::NONE,
        )
        .await
    }

    /// Opens the configured database with [`Self::session_limits`], its schema brought up to
    /// date.
    pub(crate) async fn open_database(
        &self,
    ) -> Result<sea_orm::DatabaseConnection, crate::db::OpenError> {
        crate::db::connect_and_migrate_with(
            self.database_url.expose_secret(),
            &self.session_limits(),
        )
        .await
    }
}

/// A database URL. It may hold a password, so `Debug` shows it with the password replaced by
/// `***`, and the URL itself only comes out through [`ExposeSecret`].
#[derive(Clone)]
pub(crate) struct DatabaseUrl(SecretString);

impl DatabaseUrl {
    /// The URL, fit to print: the password, if any, replaced by `***`.
    pub(crate) fn redacted(&self) -> String {
        crate::db::redacted_url(self.0.expose_secret())
    }
}

impl ExposeSecret<str> for DatabaseUrl {
    fn expose_secret(&self) -> &str {
        self.0.expose_secret()
    }
}

impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("DatabaseUrl")
            .field(&self.redacted())
            .finish()
    }
}

impl std::str::FromStr for DatabaseUrl {
    type Err = std::convert::Infallible;

    fn from_str(url: &str) -> Result<Self, Self::Err> {
        Ok(Self(SecretString::from(url)))
    }
}

fn parse_secret(value: &str) -> Result<SecretString, std::convert::Infallible> {
    Ok(SecretString::from(value))
}

/// Settings of the GraphQL server.
#[derive(Args, Clone, Debug)]
pub struct ServerConfig {
    /// Address to listen on.
    #[arg(long, env = "BIND", default_value = "127.0.0.1:8000")]
    pub bind: SocketAddr,

    /// Token that allows `createTenant` over GraphQL (sent as `X-Admin-Token`). Without it,
    /// tenants are created with the CLI only.
    #[arg(long, env = "SYNC_ADMIN_TOKEN", hide_env_values = true, value_parser = parse_secret)]
    pub admin_token: Option<SecretString>,

    /// Page size of a connection when neither `first` nor `last` is given.
    #[arg(long, env = "SYNC_DEFAULT_PAGE_SIZE", default_value_t = 100)]
    pub default_page_size: u64,

    /// Largest `first` or `last` a connection accepts; more is a `BAD_USER_INPUT` error.
    #[arg(long, env = "SYNC_MAX_PAGE_SIZE", default_value_t = 500)]
    pub max_page_size: u64,

    /// Largest request body accepted, in bytes (imports of many listings are large).
    #[arg(long, env = "SYNC_MAX_BODY_BYTES", default_value_t = 64 * 1024 * 1024)]
    pub max_body_bytes: usize,

    /// Largest listing upload streamed to `POST /sources/{id}/import`, in bytes (its body is
    /// never held whole, so this bounds the work, not the memory).
    #[arg(long, env = "SYNC_MAX_UPLOAD_BYTES", default_value_t = 4 * 1024 * 1024 * 1024)]
    pub max_upload_bytes: u64,

    /// Deepest query accepted (GraphiQL's introspection needs about 13).
    #[arg(long, env = "SYNC_MAX_DEPTH", default_value_t = 16)]
    pub max_depth: usize,

    /// Most complex query accepted: each field costs 1, and a connection multiplies what it
    /// selects by its page size (`first`/`last`, else the default page size).
    #[arg(long, env = "SYNC_MAX_COMPLEXITY", default_value_t = 250_000)]
    pub max_complexity: usize,

    /// Most items a list argument (or list field of an input object) may hold, e.g.
    /// `externalIds`, `ids`, `where`, `fields`; more is a `BAD_USER_INPUT` error naming the
    /// argument. JSON arguments (an import's `items`) are bounded by the body size instead.
    #[arg(long, env = "SYNC_MAX_LIST_ITEMS", default_value_t = 1_000)]
    pub max_list_items: usize,

    /// Most fields a request may select, a fragment counted each time it is spread; more is
    /// `QUERY_TOO_WIDE`, refused before anything runs.
    #[arg(long, env = "SYNC_MAX_FIELDS", default_value_t = 1_000)]
    pub max_fields: usize,

    /// Most aliased fields (`a: viewer { id }`) a request may select; more is `QUERY_TOO_WIDE`.
    #[arg(long, env = "SYNC_MAX_ALIASES", default_value_t = 100)]
    pub max_aliases: usize,

    /// Most fields an operation may select at its root; more is `QUERY_TOO_WIDE`.
    #[arg(long, env = "SYNC_MAX_ROOT_FIELDS", default_value_t = 50)]
    pub max_root_fields: usize,

    /// Requests of one API key that may run at once; more wait (see `--key-queue-ms`).
    #[arg(long, env = "SYNC_KEY_MAX_CONCURRENT", default_value_t = 16)]
    pub key_max_concurrent: usize,

    /// Milliseconds a request of a key already running `--key-max-concurrent` requests waits
    /// for its turn (as many again may wait) before it is answered `429` (`RATE_LIMITED`).
    #[arg(long, env = "SYNC_KEY_QUEUE_MS", default_value_t = 2_000)]
    pub key_queue_ms: u64,

    /// Requests per second one API key may send (bursts of as many at once); more are
    /// answered `429` (`RATE_LIMITED`); 0 for no limit.
    #[arg(long, env = "SYNC_KEY_REQUESTS_PER_SECOND", default_value_t = 25_000)]
    pub key_requests_per_second: u32,

    /// Failed authentications (unknown or revoked keys) one client address may make per
    /// minute (bursts of as many); past it, that address's unknown keys are answered `429`
    /// (`RATE_LIMITED`) while valid keys still pass; 0 for no limit.
    #[arg(long, env = "SYNC_AUTH_FAILURES_PER_MINUTE", default_value_t = 30)]
    pub auth_failures_per_minute: u32,

    /// Milliseconds a GraphQL request may run before it is answered with a `TIMEOUT` error.
    #[arg(long, env = "SYNC_REQUEST_TIMEOUT_MS", default_value_t = 30_000)]
    pub request_timeout_ms: u64,

    /// Seconds in-flight requests may run on after SIGTERM or Ctrl-C (new connections are
    /// refused at once); past it the process exits and the database rolls back what was left
    /// unfinished (an import or sync is then not written at all).
    #[arg(long, env = "SYNC_SHUTDOWN_GRACE_SECS", default_value_t = 30)]
    pub shutdown_grace_secs: u64,

    /// Answer introspection queries (GraphiQL needs them); `false` switches them off.
    #[arg(long, env = "SYNC_INTROSPECTION", default_value_t = true, action = clap::ArgAction::Set)]
    pub introspection: bool,

    /// Origins allowed to call the API from a browser, comma-separated (`*` for any);
    /// none by default.
    #[arg(long, env = "SYNC_CORS_ORIGINS", value_delimiter = ',')]
    pub cors_origins: Vec<String>,

    /// Queries kept by automatic persisted queries (APQ), by hash.
    #[arg(long, env = "SYNC_APQ_CACHE_SIZE", default_value_t = 1_000)]
    pub apq_cache_size: usize,

    /// Memory for cached query answers, in MiB; 0 switches the cache off. An answer is reused
    /// only for the same API key, request body and tenant data version (any write changes it).
    #[arg(long, env = "SYNC_RESPONSE_CACHE_MB", default_value_t = 64)]
    pub response_cache_mb: usize,

    /// Hours an idempotency key is kept (at least 24): a mutation repeated with its key
    /// within them returns its first answer; expired keys are deleted by the tenant's next
    /// keyed mutation.
    #[arg(long, env = "SYNC_IDEMPOTENCY_KEY_HOURS", default_value_t = 24, value_parser = clap::value_parser!(u32).range(24..))]
    pub idempotency_key_hours: u32,

    /// Serve Prometheus metrics at `GET /metrics`.
    #[arg(long, env = "SYNC_METRICS", default_value_t = false, action = clap::ArgAction::Set)]
    pub metrics: bool,

    /// Serve `GET /metrics` on this address instead of the API's (with `SYNC_METRICS=true`).
    #[arg(long, env = "SYNC_METRICS_BIND")]
    pub metrics_bind: Option<SocketAddr>,

    /// Seconds between the server's keep-alive `ping` messages on a subscription WebSocket;
    /// 0 sends none.
    #[arg(long, env = "SYNC_WS_PING_SECS", default_value_t = 15)]
    pub ws_ping_secs: u64,

    /// Seconds a WebSocket may take to send `connection_init` before it is closed (4408).
    #[arg(long, env = "SYNC_WS_INIT_TIMEOUT_SECS", default_value_t = 10)]
    pub ws_init_timeout_secs: u64,

    /// Seconds between checks that a WebSocket's API key is still valid; a revoked key's
    /// connection is closed (4403) at the next check.
    #[arg(long, env = "SYNC_WS_AUTH_RECHECK_SECS", default_value_t = 2)]
    pub ws_auth_recheck_secs: u64,

    /// Subscriptions one WebSocket connection may run at once; one more is refused with an
    /// `error` message (`RATE_LIMITED`).
    #[arg(
        long,
        env = "SYNC_WS_MAX_SUBSCRIPTIONS_PER_CONNECTION",
        default_value_t = 25
    )]
    pub ws_max_subscriptions_per_connection: usize,

    /// Subscriptions one API key may run at once over all its connections to this server;
    /// one more is refused with an `error` message (`RATE_LIMITED`).
    #[arg(long, env = "SYNC_WS_MAX_SUBSCRIPTIONS_PER_KEY", default_value_t = 100)]
    pub ws_max_subscriptions_per_key: usize,

    /// Messages waiting to be sent on one WebSocket; a client that reads so slowly that more
    /// pile up is disconnected (nothing is buffered without bound).
    #[arg(long, env = "SYNC_WS_SEND_BUFFER", default_value_t = 256)]
    pub ws_send_buffer: usize,
}

impl ServerConfig {
    /// What the GraphQL schema needs of this configuration.
    pub(crate) fn schema_config(&self) -> crate::graphql::SchemaConfig {
        crate::graphql::SchemaConfig {
            page_limits: self.page_limits(),
            max_depth: self.max_depth,
            max_complexity: self.max_complexity,
            introspection: self.introspection,
            max_list_items: self.max_list_items,
            idempotency_key_hours: self.idempotency_key_hours,
            width: crate::graphql::width::WidthLimits {
                max_fields: self.max_fields,
                max_aliases: self.max_aliases,
                max_root_fields: self.max_root_fields,
            },
        }
    }

    /// The paging limits of this configuration.
    pub(crate) fn page_limits(&self) -> crate::store::pager::PageLimits {
        crate::store::pager::PageLimits {
            default_size: self.default_page_size,
            max_size: self.max_page_size,
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    /// Both settings groups, parsed from flags as the binary does.
    #[derive(Parser, Debug)]
    struct Both {
        #[command(flatten)]
        config: Config,
        #[command(flatten)]
        server: ServerConfig,
    }

    #[test]
    fn debug_output_shows_neither_the_admin_token_nor_the_database_password() {
        let both = Both::try_parse_from([
            "sync-manager",
            "--admin-token",
            "s3cret-admin-token",
            "--database-url",
            "postgres://app:db-pa55word@db.internal/sync",
        ])
        .unwrap();
        assert_eq!(
            both.server
                .admin_token
                .as_ref()
                .map(|t| t.expose_secret().to_owned()),
            Some("s3cret-admin-token".to_owned())
        );
        let printed = format!("{both:?}");
        assert!(!printed.contains("s3cret-admin-token"), "{printed}");
        assert!(!printed.contains("db-pa55word"), "{printed}");
        assert!(printed.contains("admin_token: Some(SecretBox"), "{printed}");
        assert!(printed.contains("db.internal"), "{printed}");
    }
}
