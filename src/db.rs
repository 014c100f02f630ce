//! Connecting, migrating, and starting write transactions.
//!
//! Every PostgreSQL session of the pool gets a statement timeout and an idle-in-transaction
//! timeout ([`SessionLimits`]), so a statement nobody waits for any more (its request timed
//! out, its CLI process was killed) cannot hold its locks for long; and JIT compilation only
//! for statements expensive enough to repay it ([`JIT_ABOVE_COST`]). Migrations run without
//! them, on a pool of their own: a long migration must not be cut short. SQLite has no
//! equivalent: a statement runs to its end, and its busy timeout bounds only the wait for the
//! write lock.
//!
//! SQLite runs in WAL mode with a busy timeout, and every write transaction starts with
//! `BEGIN IMMEDIATE`, so two writers queue on the database's write lock instead of failing
//! when a read transaction tries to become a write one.
//!
//! A PostgreSQL server is first reached with one plain connection and a short timeout, so a
//! wrong host, port or database name fails at once with a message naming them, instead of the
//! pool retrying silently until its acquire timeout. `init` creates a missing PostgreSQL
//! database through the server's `postgres` maintenance database, as SQLite creates its file.

use std::str::FromStr as _;
use std::time::Duration;

use migration::{Migrator, MigratorTrait};
use sea_orm::sqlx::postgres::{PgConnectOptions, PgConnection};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::sqlx::{self, Connection as _};
use sea_orm::{
    ConnectOptions, Database, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr,
    SqliteTransactionMode, TransactionOptions, TransactionTrait,
};

/// How long reaching the database server may take before the attempt is given up.
pub(crate) const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// The plan cost above which PostgreSQL compiles a statement's expressions (`jit_above_cost`;
/// its default is 100,000). A page of 10 parents × 100 listings ordered by a path can be
/// estimated above the default, and compiling took 10–40 ms of a statement that runs in 5 ms
/// (BENCHMARKS.md, "PostgreSQL's JIT and pages"). At this cost a statement works through
/// hundreds of thousands of rows and runs for seconds, so compiling still pays where it can.
pub const JIT_ABOVE_COST: u64 = 10_000_000;

/// The memory, in kB, each hash or sort of a sync may use on PostgreSQL before it spills to
/// disk (`work_mem`, 4 MB by default), unless the server allows more
/// (`store::locks::give_sync_memory`). At 64 MB the hash of a target of 1,000,000 listings
/// still spilled, and the sync after a next-day import of 1,000,000 cost 1.4 times as much
/// per listing as one of 10,000; at 128 MB, 1.03 (BENCHMARKS.md, "Goal 6: statistics
/// refreshed by the import that made them stale, and syncs with 128 MB").
pub const SYNC_WORK_MEM_KB: u32 = 128 * 1024;

/// How long a pooled connection may sit idle before it is checked (a round trip) on its way
/// out of the pool. The pool checks every connection as it comes back, so only one that has
/// waited since can have been lost (a database restart, an ended session, a proxy's idle
/// timeout). sqlx's default checks on every acquire: three more round trips for a request of
/// three statements, when sending to the database already took a tenth of the server's CPU
/// (BENCHMARKS.md, "A faster allocator, and pooled connections checked only after a pause").
pub const PING_AFTER_IDLE: Duration = Duration::from_secs(1);

/// Limits of every PostgreSQL session the pool opens (SQLite has no equivalent).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SessionLimits {
    /// `statement_timeout` in milliseconds; 0 for none.
    pub statement_timeout_ms: u64,
    /// `idle_in_transaction_session_timeout` in milliseconds; 0 for none.
    pub idle_in_transaction_timeout_ms: u64,
}

impl SessionLimits {
    /// No limits: what migrations run with.
    pub(crate) const NONE: Self = Self {
        statement_timeout_ms: 0,
        idle_in_transaction_timeout_ms: 0,
    };
}

impl Default for SessionLimits {
    /// A minute each: well above the server's request timeout (30 s), short enough that an
    /// abandoned statement or transaction soon lets go of its locks.
    fn default() -> Self {
        Self {
            statement_timeout_ms: 60_000,
            idle_in_transaction_timeout_ms: 60_000,
        }
    }
}

/// The database cannot be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// The PostgreSQL server could not be reached (down, refused, no answer in time): the
    /// same command may work later.
    #[error("cannot connect to PostgreSQL at {address}: {cause}")]
    Unreachable {
        /// `host:port` as the URL gives them.
        address: String,
        /// Why, e.g. `connection refused`.
        cause: String,
    },
    /// The PostgreSQL server answered and did not let us in (wrong credentials, no such
    /// database): the configuration needs fixing, retrying will not help.
    #[error("cannot connect to PostgreSQL at {address}: {cause}")]
    Refused {
        /// `host:port` as the URL gives them.
        address: String,
        /// Why, e.g. `database "sync" does not exist`.
        cause: String,
    },
    /// `DATABASE_URL` is not a URL the database driver understands.
    #[error("invalid DATABASE_URL: {0}")]
    InvalidUrl(String),
    /// Anything else the database answered (a failed migration, a pool error).
    #[error(transparent)]
    Database(#[from] DbErr),
}

/// What [`prepare`] found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Prepared {
    /// The database was there already (or is a SQLite file, created on connect).
    Existing,
    /// The PostgreSQL database named in the URL did not exist and was created.
    Created,
}

fn is_postgres(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// `url` with its password, if any, replaced by `***`: fit to print.
pub(crate) fn redacted_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => url.to_owned(),
    }
}

fn pg_options(url: &str) -> Result<PgConnectOptions, OpenError> {
    PgConnectOptions::from_str(url).map_err(|e| OpenError::InvalidUrl(e.to_string()))
}

/// One connection to the server of `options`, within [`CONNECT_TIMEOUT`], or why not.
async fn pg_connect(options: &PgConnectOptions) -> Result<PgConnection, (OpenError, bool)> {
    let address = format!("{}:{}", options.get_host(), options.get_port());
    let unreachable = |cause: String| OpenError::Unreachable {
        address: address.clone(),
        cause,
    };
    match tokio::time::timeout(CONNECT_TIMEOUT, PgConnection::connect_with(options)).await {
        Ok(Ok(connection)) => Ok(connection),
        Ok(Err(sqlx::Error::Database(err))) => {
            // 3D000 invalid_catalog_name: the server is up, the database is not there.
            let missing = err.code().as_deref() == Some("3D000");
            let refused = OpenError::Refused {
                address: address.clone(),
                cause: err.message().to_owned(),
            };
            Err((refused, missing))
        }
        // An OS error reads as its kind, `connection refused`, without the error number;
        // others (a host name that does not resolve) carry their own message.
        Ok(Err(sqlx::Error::Io(err))) => {
            let cause = match err.raw_os_error() {
                Some(_) => err.kind().to_string(),
                None => err.to_string(),
            };
            Err((unreachable(cause), false))
        }
        Ok(Err(err)) => Err((unreachable(err.to_string()), false)),
        Err(_) => Err((
            unreachable(format!(
                "no answer within {} seconds",
                CONNECT_TIMEOUT.as_secs()
            )),
            false,
        )),
    }
}

/// Checks that the database of `url` can be reached; with `create`, creates a missing
/// PostgreSQL database first. SQLite needs nothing: its file is created on connect.
pub(crate) async fn prepare(url: &str, create: bool) -> Result<Prepared, OpenError> {
    if !is_postgres(url) {
        return Ok(Prepared::Existing);
    }
    let options = pg_options(url)?;
    let error = match pg_connect(&options).await {
        Ok(connection) => {
            let _ = connection.close().await;
            return Ok(Prepared::Existing);
        }
        Err((error, missing)) if missing && create => error,
        Err((OpenError::Refused { address, cause }, true)) => {
            return Err(OpenError::Refused {
                address,
                cause: format!("{cause} (`sync-manager init` creates it)"),
            });
        }
        Err((error, _)) => return Err(error),
    };
    let Some(name) = options.get_database().map(str::to_owned) else {
        return Err(error);
    };
    let mut admin = pg_connect(&options.clone().database("postgres"))
        .await
        .map_err(|(error, _)| error)?;
    let statement = format!("CREATE DATABASE \"{}\"", name.replace('"', "\"\""));
    let created = sqlx::raw_sql(sqlx::AssertSqlSafe(statement))
        .execute(&mut admin)
        .await;
    let _ = admin.close().await;
    match created {
        Ok(_) => Ok(Prepared::Created),
        // 42P04 duplicate_database: another `init` was quicker; the database is there.
        Err(sqlx::Error::Database(err)) if err.code().as_deref() == Some("42P04") => {
            Ok(Prepared::Existing)
        }
        Err(err) => Err(OpenError::Unreachable {
            address: format!("{}:{}", options.get_host(), options.get_port()),
            cause: format!("cannot create the database `{name}`: {err}"),
        }),
    }
}

/// Opens a pool on `url` with the default [`SessionLimits`] (SQLite files are created when
/// missing; a PostgreSQL server is checked first, see [`prepare`]).
pub async fn connect(url: &str) -> Result<DatabaseConnection, OpenError> {
    connect_with(url, &SessionLimits::default()).await
}

/// Opens a pool on `url` whose PostgreSQL sessions have `limits`.
pub async fn connect_with(
    url: &str,
    limits: &SessionLimits,
) -> Result<DatabaseConnection, OpenError> {
    prepare(url, false).await?;
    open_pool(url, limits).await
}

async fn open_pool(url: &str, limits: &SessionLimits) -> Result<DatabaseConnection, OpenError> {
    let mut options = ConnectOptions::new(url.to_owned());
    let limits = *limits;
    options.map_sqlx_postgres_opts(move |opts| {
        // Sent at connection start-up, so every pooled session has them from its first
        // statement; they come after any `options` of the URL and so take precedence.
        opts.options([
            ("statement_timeout", limits.statement_timeout_ms),
            (
                "idle_in_transaction_session_timeout",
                limits.idle_in_transaction_timeout_ms,
            ),
            ("jit_above_cost", JIT_ABOVE_COST),
        ])
    });
    options
        .sqlx_logging(false)
        .connect_timeout(CONNECT_TIMEOUT)
        .acquire_timeout(Duration::from_secs(10))
        .test_before_acquire_if_idle_for(PING_AFTER_IDLE)
        .map_sqlx_sqlite_opts(|opts| {
            opts.create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(30))
                .foreign_keys(true)
        });
    if url.starts_with("sqlite:") {
        // WAL lets readers run beside the one writer; more connections would only queue.
        options.max_connections(4);
    } else {
        options.max_connections(16);
    }
    let mut db = Database::connect(options).await?;
    // Counts each statement for the request that issued it (the request log's `sql_statements`).
    db.set_metric_callback(crate::telemetry::on_statement);
    Ok(db)
}

/// Brings the schema up to date.
pub(crate) async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    Migrator::up(db, None).await
}

/// Connects and migrates with the default [`SessionLimits`].
pub async fn connect_and_migrate(url: &str) -> Result<DatabaseConnection, OpenError> {
    connect_and_migrate_with(url, &SessionLimits::default()).await
}

/// Connects and migrates: what every command does first. The pool's sessions have `limits`;
/// migrations run without them.
pub async fn connect_and_migrate_with(
    url: &str,
    limits: &SessionLimits,
) -> Result<DatabaseConnection, OpenError> {
    prepare(url, false).await?;
    migrate_then_open(url, limits).await
}

/// What `init` does: creates a missing PostgreSQL database, then connects and migrates.
pub(crate) async fn create_and_migrate(
    url: &str,
    limits: &SessionLimits,
) -> Result<(DatabaseConnection, Prepared), OpenError> {
    let prepared = prepare(url, true).await?;
    let db = migrate_then_open(url, limits).await?;
    Ok((db, prepared))
}

/// Migrates on a pool without session limits, then opens the pool with `limits` (one pool
/// for both when there are no limits to leave out: SQLite, or limits of 0).
async fn migrate_then_open(
    url: &str,
    limits: &SessionLimits,
) -> Result<DatabaseConnection, OpenError> {
    let unbounded = open_pool(url, &SessionLimits::NONE).await?;
    migrate(&unbounded).await?;
    if !is_postgres(url) || *limits == SessionLimits::NONE {
        return Ok(unbounded);
    }
    let _ = unbounded.close().await;
    open_pool(url, limits).await
}

/// Starts a transaction that will write: `BEGIN IMMEDIATE` on SQLite, plain `BEGIN` elsewhere.
pub(crate) async fn begin_write(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    let mut options = TransactionOptions::default();
    if db.get_database_backend() == DbBackend::Sqlite {
        options.sqlite_transaction_mode = Some(SqliteTransactionMode::Immediate);
    }
    db.begin_with_options(options).await
}

/// A connection for writes that give way rather than wait (a key's `lastUsedAt`): on SQLite
/// a pool of one connection over the same file without a busy timeout, whose write
/// transactions fail at once ([`is_busy`]) while another connection holds the write lock, as
/// a long import does for its whole transaction; elsewhere `db` itself (PostgreSQL locks
/// rows, and such a write waits only for a transaction on the same rows).
pub fn without_waiting_for_writes(db: &DatabaseConnection) -> DatabaseConnection {
    if db.get_database_backend() != DbBackend::Sqlite {
        return db.clone();
    }
    let pool = db.get_sqlite_connection_pool();
    let options = (*pool.connect_options())
        .clone()
        .busy_timeout(Duration::ZERO);
    let pool = sqlx::sqlite::SqlitePoolOptions::new()
        .max_connections(1)
        .min_connections(0)
        .acquire_timeout(Duration::from_secs(1))
        .connect_lazy_with(options);
    sea_orm::SqlxSqliteConnector::from_sqlx_sqlite_pool(pool)
}

/// The sqlx error inside `err`, when a connection or a statement failed in sqlx.
pub(crate) fn sqlx_error(err: &DbErr) -> Option<&sqlx::Error> {
    use sea_orm::RuntimeErr;
    match err {
        DbErr::Conn(RuntimeErr::SqlxError(e))
        | DbErr::Exec(RuntimeErr::SqlxError(e))
        | DbErr::Query(RuntimeErr::SqlxError(e)) => Some(e.as_ref()),
        _ => None,
    }
}

/// The SQLSTATE of a statement's error from the database (`42703`, `55P03`), if it is one.
pub fn sqlstate(err: &DbErr) -> Option<String> {
    match sqlx_error(err)? {
        sqlx::Error::Database(db) => db.code().map(|code| code.into_owned()),
        _ => None,
    }
}

/// Whether `err` says SQLite's write lock is held by another connection (`SQLITE_BUSY` or
/// `SQLITE_LOCKED`, any extended code), or that the pool of
/// [`without_waiting_for_writes`] had no connection to spare in time.
pub fn is_busy(err: &DbErr) -> bool {
    if matches!(err, DbErr::ConnectionAcquire(_)) {
        return true;
    }
    match sqlx_error(err) {
        Some(sqlx::Error::PoolTimedOut) => true,
        Some(sqlx::Error::Database(db)) => db
            .code()
            .and_then(|code| code.parse::<u32>().ok())
            .is_some_and(|code| matches!(code & 0xff, 5 | 6)),
        _ => false,
    }
}

/// The connection pool's size, idle connections and limit (for the metrics).
pub(crate) fn pool_stats(db: &DatabaseConnection) -> crate::metrics::PoolStats {
    let (size, idle, max) = match db.get_database_backend() {
        DbBackend::Postgres => {
            let pool = db.get_postgres_connection_pool();
            (
                pool.size(),
                pool.num_idle(),
                pool.options().get_max_connections(),
            )
        }
        DbBackend::Sqlite => {
            let pool = db.get_sqlite_connection_pool();
            (
                pool.size(),
                pool.num_idle(),
                pool.options().get_max_connections(),
            )
        }
        _ => (0, 0, 0),
    };
    crate::metrics::PoolStats {
        size,
        idle: u32::try_from(idle).unwrap_or(u32::MAX),
        max,
    }
}

/// Whether the database answers a trivial query (for `/health`).
pub(crate) async fn ping(db: &DatabaseConnection) -> bool {
    db.ping().await.is_ok()
}

/// How many of the binary's migrations the database has not applied (for `/readyz`): a
/// replica of a newer release must not take traffic before `init` has migrated.
pub(crate) async fn pending_migrations(db: &DatabaseConnection) -> Result<usize, DbErr> {
    Ok(Migrator::get_pending_migrations(db).await?.len())
}
