//! Prometheus metrics of one server: what `GET /metrics` shows (see the README's "Metrics").
//!
//! Each server owns its recorder (no process-wide one), so two servers in one process (the
//! tests) count apart. Requests are recorded by the HTTP layer; imports, syncs and cleanups
//! by the domain through [`crate::telemetry::with_metrics`]; the pool and cache figures are
//! read when the metrics are scraped.

use std::sync::Arc;
use std::time::Duration;

use ::metrics::{counter, describe_counter, describe_gauge, describe_histogram, gauge, histogram};
use metrics_exporter_prometheus::{
    BuildError, Matcher, PrometheusBuilder, PrometheusHandle, PrometheusRecorder,
};

/// Every metric's name.
pub mod name {
    /// Requests answered, by route, GraphQL operation type and HTTP status.
    pub const HTTP_REQUESTS: &str = "sync_manager_http_requests_total";
    /// Request latency in seconds, by route and operation type.
    pub const HTTP_REQUEST_DURATION: &str = "sync_manager_http_request_duration_seconds";
    /// GraphQL errors answered, by `extensions.code`.
    pub const GRAPHQL_ERRORS: &str = "sync_manager_graphql_errors_total";
    /// Requests refused with `429 Too Many Requests`.
    pub const RATE_LIMITED: &str = "sync_manager_rate_limited_requests_total";
    /// Imports finished, by mode and whether they were dry runs.
    pub const IMPORTS: &str = "sync_manager_imports_total";
    /// Listings handled by imports, by outcome.
    pub const IMPORT_LISTINGS: &str = "sync_manager_import_listings_total";
    /// Import duration in seconds.
    pub const IMPORT_DURATION: &str = "sync_manager_import_duration_seconds";
    /// Syncs finished, by whether they were dry runs.
    pub const SYNCS: &str = "sync_manager_syncs_total";
    /// Listings handled by syncs, by outcome.
    pub const SYNC_LISTINGS: &str = "sync_manager_sync_listings_total";
    /// Sync duration in seconds.
    pub const SYNC_DURATION: &str = "sync_manager_sync_duration_seconds";
    /// Conflicts flagged by syncs.
    pub const CONFLICTS_RAISED: &str = "sync_manager_conflicts_raised_total";
    /// Snapshots deleted by cleanups, by kind.
    pub const SNAPSHOTS_REMOVED: &str = "sync_manager_snapshots_removed_total";
    /// Database pool connections, by state.
    pub const DB_POOL_CONNECTIONS: &str = "sync_manager_db_pool_connections";
    /// The database pool's largest size.
    pub const DB_POOL_MAX: &str = "sync_manager_db_pool_max_connections";
    /// Response cache lookups, by result.
    pub const CACHE_REQUESTS: &str = "sync_manager_response_cache_requests_total";
    /// Bytes the response cache holds.
    pub const CACHE_BYTES: &str = "sync_manager_response_cache_bytes";
    /// The response cache's capacity in bytes.
    pub const CACHE_CAPACITY: &str = "sync_manager_response_cache_capacity_bytes";
    /// Answers the response cache holds.
    pub const CACHE_ENTRIES: &str = "sync_manager_response_cache_entries";
    /// Answers the response cache dropped to make room.
    pub const CACHE_EVICTIONS: &str = "sync_manager_response_cache_evictions_total";
}

const REQUEST_BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];
const WORK_BUCKETS: &[f64] = &[
    0.01, 0.05, 0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0,
];

/// The database pool as sqlx sees it.
#[derive(Clone, Copy, Debug)]
pub struct PoolStats {
    /// Open connections.
    pub size: u32,
    /// Open connections not lent out.
    pub idle: u32,
    /// The most connections the pool opens.
    pub max: u32,
}

/// The response cache's figures.
#[derive(Clone, Copy, Debug, Default)]
pub struct CacheStats {
    /// Bytes held (keys and answers).
    pub bytes: u64,
    /// The capacity in bytes.
    pub capacity: u64,
    /// Answers held.
    pub entries: u64,
    /// Answers dropped to make room since the start.
    pub evictions: u64,
}

/// What an import did, for its metrics.
#[derive(Clone, Debug)]
pub struct ImportFigures {
    /// `incremental` or `full`.
    pub mode: String,
    /// Nothing was written.
    pub dry_run: bool,
    /// Listings created, updated, unchanged and marked removed.
    pub created: u64,
    /// See `created`.
    pub updated: u64,
    /// See `created`.
    pub unchanged: u64,
    /// See `created`.
    pub removed: u64,
    /// How long it took.
    pub duration: Duration,
}

/// What a sync did, for its metrics.
#[derive(Clone, Copy, Debug)]
pub struct SyncFigures {
    /// Nothing was written.
    pub dry_run: bool,
    /// Listings created, updated, skipped, marked removed, and left as conflicts.
    pub created: u64,
    /// See `created`.
    pub updated: u64,
    /// See `created`.
    pub skipped: u64,
    /// See `created`.
    pub removed: u64,
    /// See `created`.
    pub conflicts: u64,
    /// Conflicts this sync flagged.
    pub new_conflicts: u64,
    /// How long it took.
    pub duration: Duration,
}

/// One server's metrics; cheap to clone.
#[derive(Clone)]
pub struct Metrics {
    inner: Arc<Inner>,
}

struct Inner {
    recorder: PrometheusRecorder,
    handle: PrometheusHandle,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// A fresh set of metrics, every counter at zero.
    pub fn new() -> Self {
        // Only an empty bucket list is refused, and ours are constants.
        let recorder = with_buckets()
            .unwrap_or_else(|_| PrometheusBuilder::new())
            .build_recorder();
        let handle = recorder.handle();
        let metrics = Self {
            inner: Arc::new(Inner { recorder, handle }),
        };
        metrics.record(describe);
        metrics
    }

    fn record(&self, f: impl FnOnce()) {
        ::metrics::with_local_recorder(&self.inner.recorder, f);
    }

    /// Records an answered HTTP request.
    pub fn request(
        &self,
        route: &'static str,
        operation: &'static str,
        status: u16,
        duration: Duration,
    ) {
        self.record(|| {
            counter!(name::HTTP_REQUESTS, "route" => route, "operation" => operation, "status" => status.to_string())
                .increment(1);
            histogram!(name::HTTP_REQUEST_DURATION, "route" => route, "operation" => operation)
                .record(duration.as_secs_f64());
            if status == 429 {
                counter!(name::RATE_LIMITED).increment(1);
            }
        });
    }

    /// Records the GraphQL error codes of an answer.
    pub fn graphql_errors(&self, codes: &[String]) {
        self.record(|| {
            for code in codes {
                counter!(name::GRAPHQL_ERRORS, "code" => code.clone()).increment(1);
            }
        });
    }

    /// Records a response cache lookup.
    pub fn cache_lookup(&self, hit: bool) {
        let result = if hit { "hit" } else { "miss" };
        self.record(|| counter!(name::CACHE_REQUESTS, "result" => result).increment(1));
    }

    /// Records a finished import.
    pub fn import(&self, figures: ImportFigures) {
        self.record(|| {
            let dry_run = if figures.dry_run { "true" } else { "false" };
            counter!(name::IMPORTS, "mode" => figures.mode, "dry_run" => dry_run).increment(1);
            histogram!(name::IMPORT_DURATION).record(figures.duration.as_secs_f64());
            if !figures.dry_run {
                for (outcome, n) in [
                    ("created", figures.created),
                    ("updated", figures.updated),
                    ("unchanged", figures.unchanged),
                    ("removed", figures.removed),
                ] {
                    counter!(name::IMPORT_LISTINGS, "outcome" => outcome).increment(n);
                }
            }
        });
    }

    /// Records a finished sync.
    pub fn sync(&self, figures: SyncFigures) {
        self.record(|| {
            let dry_run = if figures.dry_run { "true" } else { "false" };
            counter!(name::SYNCS, "dry_run" => dry_run).increment(1);
            histogram!(name::SYNC_DURATION).record(figures.duration.as_secs_f64());
            if !figures.dry_run {
                for (outcome, n) in [
                    ("created", figures.created),
                    ("updated", figures.updated),
                    ("skipped", figures.skipped),
                    ("removed", figures.removed),
                    ("conflict", figures.conflicts),
                ] {
                    counter!(name::SYNC_LISTINGS, "outcome" => outcome).increment(n);
                }
                counter!(name::CONFLICTS_RAISED).increment(figures.new_conflicts);
            }
        });
    }

    /// Records the snapshots a cleanup deleted.
    pub fn snapshots_removed(&self, source: u64, target: u64) {
        self.record(|| {
            counter!(name::SNAPSHOTS_REMOVED, "kind" => "source").increment(source);
            counter!(name::SNAPSHOTS_REMOVED, "kind" => "target").increment(target);
        });
    }

    /// The metrics in the Prometheus text format, with the pool and cache as they are now.
    pub fn render(&self, pool: PoolStats, cache: Option<CacheStats>) -> String {
        self.record(|| {
            let in_use = pool.size.saturating_sub(pool.idle);
            gauge!(name::DB_POOL_CONNECTIONS, "state" => "in_use").set(in_use);
            gauge!(name::DB_POOL_CONNECTIONS, "state" => "idle").set(pool.idle);
            gauge!(name::DB_POOL_MAX).set(pool.max);
            let cache = cache.unwrap_or_default();
            gauge!(name::CACHE_BYTES).set(cache.bytes as f64);
            gauge!(name::CACHE_CAPACITY).set(cache.capacity as f64);
            gauge!(name::CACHE_ENTRIES).set(cache.entries as f64);
            counter!(name::CACHE_EVICTIONS).absolute(cache.evictions);
        });
        self.inner.handle.render()
    }
}

/// A builder with our histograms' buckets.
fn with_buckets() -> Result<PrometheusBuilder, BuildError> {
    PrometheusBuilder::new()
        .set_buckets_for_metric(
            Matcher::Full(name::HTTP_REQUEST_DURATION.to_owned()),
            REQUEST_BUCKETS,
        )?
        .set_buckets_for_metric(
            Matcher::Full(name::IMPORT_DURATION.to_owned()),
            WORK_BUCKETS,
        )?
        .set_buckets_for_metric(Matcher::Full(name::SYNC_DURATION.to_owned()), WORK_BUCKETS)
}

/// Help texts, and a zero for every counter without labels so it shows before it counts.
fn describe() {
    describe_requests();
    describe_work();
    describe_pool_and_cache();
    counter!(name::RATE_LIMITED).absolute(0);
    counter!(name::CONFLICTS_RAISED).absolute(0);
}

/// Help texts of the HTTP and GraphQL metrics.
fn describe_requests() {
    describe_counter!(
        name::HTTP_REQUESTS,
        "HTTP requests answered, by route, GraphQL operation type and status"
    );
    describe_histogram!(
        name::HTTP_REQUEST_DURATION,
        ::metrics::Unit::Seconds,
        "HTTP request latency, by route and GraphQL operation type"
    );
    describe_counter!(
        name::GRAPHQL_ERRORS,
        "GraphQL errors answered, by extensions.code"
    );
    describe_counter!(
        name::RATE_LIMITED,
        "Requests refused with 429 Too Many Requests"
    );
}

/// Help texts of the imports', syncs' and cleanups' metrics.
fn describe_work() {
    describe_counter!(name::IMPORTS, "Imports committed, by mode and dry run");
    describe_counter!(
        name::IMPORT_LISTINGS,
        "Listings handled by imports (not dry runs), by outcome"
    );
    describe_histogram!(
        name::IMPORT_DURATION,
        ::metrics::Unit::Seconds,
        "Import duration"
    );
    describe_counter!(name::SYNCS, "Syncs committed, by dry run");
    describe_counter!(
        name::SYNC_LISTINGS,
        "Listings handled by syncs (not dry runs), by outcome"
    );
    describe_histogram!(
        name::SYNC_DURATION,
        ::metrics::Unit::Seconds,
        "Sync duration"
    );
    describe_counter!(name::CONFLICTS_RAISED, "Conflicts flagged by syncs");
    describe_counter!(
        name::SNAPSHOTS_REMOVED,
        "Snapshots deleted by cleanups, by kind"
    );
}

/// Help texts of the database pool's and the response cache's metrics.
fn describe_pool_and_cache() {
    describe_gauge!(
        name::DB_POOL_CONNECTIONS,
        "Database pool connections, by state (in_use, idle)"
    );
    describe_gauge!(
        name::DB_POOL_MAX,
        "Most connections the database pool opens"
    );
    describe_counter!(
        name::CACHE_REQUESTS,
        "Response cache lookups of queries, by result (hit, miss)"
    );
    describe_gauge!(
        name::CACHE_BYTES,
        ::metrics::Unit::Bytes,
        "Bytes the response cache holds"
    );
    describe_gauge!(
        name::CACHE_CAPACITY,
        ::metrics::Unit::Bytes,
        "Capacity of the response cache (0: off)"
    );
    describe_gauge!(name::CACHE_ENTRIES, "Answers the response cache holds");
    describe_counter!(
        name::CACHE_EVICTIONS,
        "Answers the response cache dropped to make room"
    );
}
