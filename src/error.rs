//! The one error type of the crate, its stable codes, and how it maps to GraphQL and exit codes.
//!
//! Database errors are classified here once: a unique-constraint violation becomes
//! [`Error::Conflict`], anything else is [`Error::Internal`], logged and never shown.

use async_graphql::ErrorExtensions;
use sea_orm::{DbErr, SqlErr};

/// The stable error codes of `extensions.code`.
pub(crate) mod code {
    /// No valid API key (or admin token) for what was asked.
    pub(crate) const UNAUTHENTICATED: &str = "UNAUTHENTICATED";
    /// The key is valid but lacks the scope the operation needs.
    pub(crate) const FORBIDDEN: &str = "FORBIDDEN";
    /// No such object in the caller's tenant.
    pub(crate) const NOT_FOUND: &str = "NOT_FOUND";
    /// The input is invalid; `extensions.field` names the part.
    pub(crate) const BAD_USER_INPUT: &str = "BAD_USER_INPUT";
    /// The operation clashes with existing data (a duplicate name, a running sync).
    pub(crate) const CONFLICT: &str = "CONFLICT";
    /// Something failed on our side; details are in the server log.
    pub(crate) const INTERNAL: &str = "INTERNAL";
    /// The database does not answer (down, restarting, or every connection busy): retry
    /// later. HTTP 503 with `Retry-After`.
    pub(crate) const SERVICE_UNAVAILABLE: &str = "SERVICE_UNAVAILABLE";
    /// The query is nested deeper than `SYNC_MAX_DEPTH`.
    pub(crate) const QUERY_TOO_DEEP: &str = "QUERY_TOO_DEEP";
    /// The query costs more than `SYNC_MAX_COMPLEXITY`.
    pub(crate) const QUERY_TOO_COMPLEX: &str = "QUERY_TOO_COMPLEX";
    /// The query selects more fields, aliases or root fields than `SYNC_MAX_FIELDS`,
    /// `SYNC_MAX_ALIASES` or `SYNC_MAX_ROOT_FIELDS` allow.
    pub(crate) const QUERY_TOO_WIDE: &str = "QUERY_TOO_WIDE";
    /// Too many requests of one API key at once or per second, or too many failed
    /// authentications from one address (HTTP 429 with `Retry-After`).
    pub(crate) const RATE_LIMITED: &str = "RATE_LIMITED";
    /// The request body is larger than `SYNC_MAX_BODY_BYTES`.
    pub(crate) const PAYLOAD_TOO_LARGE: &str = "PAYLOAD_TOO_LARGE";
    /// The request ran longer than `SYNC_REQUEST_TIMEOUT_MS`.
    pub(crate) const TIMEOUT: &str = "TIMEOUT";
    /// An automatic persisted query's hash is unknown: send the query with it once.
    pub(crate) const PERSISTED_QUERY_NOT_FOUND: &str = "PERSISTED_QUERY_NOT_FOUND";
    /// An idempotency key sent again with a different input (a `CONFLICT`): use a new key
    /// for a new request.
    pub(crate) const IDEMPOTENCY_KEY_REUSED: &str = "IDEMPOTENCY_KEY_REUSED";
    /// A POST body sent without `Content-Type: application/json` (HTTP 415).
    pub(crate) const UNSUPPORTED_MEDIA_TYPE: &str = "UNSUPPORTED_MEDIA_TYPE";
    /// The `Accept` header allows no media type the server answers in (HTTP 406).
    pub(crate) const NOT_ACCEPTABLE: &str = "NOT_ACCEPTABLE";
    /// A `FULL` import or a sync would remove more live listings than the source's or
    /// target's `config.max_removal_percent` allows (or all of them); `allowMassRemoval: true`
    /// lets it through.
    pub(crate) const MASS_REMOVAL: &str = "MASS_REMOVAL";
    /// The listing changed since the version the caller read (`expectedVersion`);
    /// `extensions.currentVersion` says the version it has now.
    pub(crate) const STALE_VERSION: &str = "STALE_VERSION";
    /// A mutation (or subscription) sent with `GET`, which runs only queries (HTTP 405 with
    /// `Allow: POST`).
    pub(crate) const METHOD_NOT_ALLOWED: &str = "METHOD_NOT_ALLOWED";
    /// A subscription's client read its events too slowly and fell behind: the subscription
    /// was ended; subscribe again.
    pub(crate) const SUBSCRIBER_TOO_SLOW: &str = "SUBSCRIBER_TOO_SLOW";
}

/// What the mass-removal guard refused (see [`Error::MassRemoval`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MassRemoval {
    /// What was refused, e.g. `this FULL import` or `this sync`.
    pub operation: &'static str,
    /// Whose `config.max_removal_percent` applies: `source` or `target`.
    pub owner: &'static str,
    /// Live listings it would mark removed.
    pub would_remove: u64,
    /// Live (not removed) listings before it.
    pub live: u64,
    /// The limit, a percentage of `live`.
    pub max_percent: u64,
    /// Global id of the record the refused run left (an import run or a sync log).
    pub record_id: String,
}

impl MassRemoval {
    /// `would_remove` as a whole percentage of `live`, rounded down.
    pub(crate) fn percent(&self) -> u64 {
        (self.would_remove * 100)
            .checked_div(self.live)
            .unwrap_or(0)
    }
}

impl std::fmt::Display for MassRemoval {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let Self {
            operation,
            owner,
            would_remove,
            live,
            max_percent,
            ..
        } = self;
        let why = if would_remove == live {
            "every one of them".to_owned()
        } else {
            format!("more than the {owner}'s max_removal_percent of {max_percent}")
        };
        write!(
            f,
            "{operation} would remove {would_remove} of {live} live listings ({}%), {why}; \
             nothing was changed. If that is intended, pass allowMassRemoval: true \
             (CLI: --allow-mass-removal), or raise the {owner}'s config.max_removal_percent",
            self.percent()
        )
    }
}

/// Everything a domain operation can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No such object in the caller's tenant (another tenant's object is "not found" too).
    #[error("{entity} not found: {id}")]
    NotFound {
        /// The kind of object, e.g. `Source`.
        entity: &'static str,
        /// The id as the caller gave it.
        id: String,
    },
    /// The input is invalid.
    #[error("invalid {field}: {reason}")]
    InvalidInput {
        /// The input that is wrong, e.g. `input.name` or `items[3].id`.
        field: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The operation clashes with existing data.
    #[error("{0}")]
    Conflict(String),
    /// An idempotency key already used with another input (a kind of conflict).
    #[error("{0}")]
    IdempotencyKeyReused(String),
    /// No valid credentials.
    #[error("{0}")]
    Unauthenticated(String),
    /// Valid credentials without the needed scope.
    #[error("{0}")]
    Forbidden(String),
    /// The mass-removal guard refused a `FULL` import or a sync.
    #[error("{0}")]
    MassRemoval(Box<MassRemoval>),
    /// The caller's `expectedVersion` is not the listing's version.
    #[error(
        "{entity} `{id}` is at version {current}, not the expected version {expected}: it changed since you read it; reload it and apply your change again"
    )]
    StaleVersion {
        /// The kind of object, e.g. `TargetProperty`.
        entity: &'static str,
        /// Its external id.
        id: String,
        /// The version the caller expected.
        expected: i64,
        /// The version it has.
        current: i64,
    },
    /// The database cannot be reached or has no connection to spare: nothing the caller sent
    /// is wrong, and the same request may succeed a moment later.
    #[error("the database is unavailable; retry shortly")]
    Unavailable(#[source] DbErr),
    /// A database failure.
    #[error("internal error")]
    Internal(#[source] DbErr),
}

impl Error {
    /// An [`Error::InvalidInput`] for `field`.
    pub(crate) fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::InvalidInput {
            field: field.into(),
            reason: reason.into(),
        }
    }

    /// An [`Error::NotFound`] for an object of type `entity` named `id`.
    pub(crate) fn not_found(entity: &'static str, id: impl ToString) -> Self {
        Self::NotFound {
            entity,
            id: id.to_string(),
        }
    }

    /// Maps a unique-constraint violation to a [`Error::Conflict`] saying `message`;
    /// any other database error as [`From<DbErr>`] does.
    pub(crate) fn on_unique(err: DbErr, message: impl FnOnce() -> String) -> Self {
        match err.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(_)) => Self::Conflict(message()),
            _ => Self::from(err),
        }
    }

    /// The stable code of `extensions.code`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotFound { .. } => code::NOT_FOUND,
            Self::InvalidInput { .. } => code::BAD_USER_INPUT,
            Self::Conflict(_) => code::CONFLICT,
            Self::IdempotencyKeyReused(_) => code::IDEMPOTENCY_KEY_REUSED,
            Self::Unauthenticated(_) => code::UNAUTHENTICATED,
            Self::Forbidden(_) => code::FORBIDDEN,
            Self::Unavailable(_) => code::SERVICE_UNAVAILABLE,
            Self::Internal(_) => code::INTERNAL,
            Self::MassRemoval(_) => code::MASS_REMOVAL,
            Self::StaleVersion { .. } => code::STALE_VERSION,
        }
    }

    /// The process exit code the CLI ends with (documented in the README).
    pub(crate) fn exit_code(&self) -> u8 {
        match self {
            Self::Internal(_) => 1,
            Self::Unavailable(_) => 7,
            Self::InvalidInput { .. } => 3,
            Self::NotFound { .. } => 4,
            Self::Conflict(_) | Self::StaleVersion { .. } | Self::IdempotencyKeyReused(_) => 5,
            Self::MassRemoval(_) => 8,
            Self::Unauthenticated(_) | Self::Forbidden(_) => 6,
        }
    }
}

impl From<DbErr> for Error {
    fn from(err: DbErr) -> Self {
        match err.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(detail)) => {
                // The database's wording names tables and indexes: it goes to the log only.
                tracing::warn!(%detail, "unique constraint violated");
                Self::Conflict(
                    "another object with the same unique value already exists (it may have \
                     been created at the same moment); reload and try again"
                        .into(),
                )
            }
            _ if is_unavailable(&err) => Self::Unavailable(err),
            _ => Self::Internal(err),
        }
    }
}

/// Whether `err` says the database is out of reach (connection refused or lost, the pool
/// closed or exhausted, the server shutting down or starting up) rather than that a statement
/// failed.
pub(crate) fn is_unavailable(err: &DbErr) -> bool {
    use sea_orm::sqlx;
    if matches!(err, DbErr::ConnectionAcquire(_) | DbErr::Conn(_)) {
        return true;
    }
    let Some(sqlx_error) = crate::db::sqlx_error(err) else {
        return false;
    };
    match sqlx_error {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed
        | sqlx::Error::BeginFailed => true,
        // PostgreSQL's connection exceptions (class 08) and operator interventions such as a
        // shutdown or a server still starting (57P01-57P03).
        sqlx::Error::Database(db) => db
            .code()
            .is_some_and(|code| code.starts_with("08") || code.starts_with("57P")),
        _ => false,
    }
}

impl ErrorExtensions for Error {
    fn extend(&self) -> async_graphql::Error {
        match self {
            Self::Internal(err) => tracing::error!(error = %err, "internal error"),
            Self::Unavailable(err) => tracing::error!(error = %err, "database unavailable"),
            _ => {}
        }
        async_graphql::Error::new(self.to_string()).extend_with(|_, ext| {
            ext.set("code", self.code());
            match self {
                Self::InvalidInput { field, .. } => ext.set("field", field.as_str()),
                Self::MassRemoval(refused) => {
                    ext.set("wouldRemove", refused.would_remove);
                    ext.set("liveListings", refused.live);
                    ext.set("maxRemovalPercent", refused.max_percent);
                    ext.set("recordId", refused.record_id.as_str());
                }
                Self::StaleVersion {
                    expected, current, ..
                } => {
                    ext.set("expectedVersion", *expected);
                    ext.set("currentVersion", *current);
                }
                _ => {}
            }
        })
    }
}

/// Converts a domain result into a GraphQL one, with `extensions.code` set.
pub(crate) trait ApiResult<T> {
    /// The GraphQL form of this result.
    fn api(self) -> async_graphql::Result<T>;
}

impl<T> ApiResult<T> for Result<T, Error> {
    fn api(self) -> async_graphql::Result<T> {
        self.map_err(|err| err.extend())
    }
}
