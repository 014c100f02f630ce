//! The command line: `cargo bench --bench engine -- [options]`.

use clap::{Parser, ValueEnum};

/// A database the benchmark runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Kind {
    /// SQLite in a temporary file.
    #[value(name = "sqlite")]
    Sqlite,
    /// PostgreSQL, a fresh database on `BENCH_POSTGRES_URL`'s server.
    #[value(name = "postgres", alias = "postgresql", alias = "pg")]
    Postgres,
}

impl Kind {
    /// The database's name in tables.
    pub fn name(self) -> &'static str {
        match self {
            Self::Sqlite => "SQLite",
            Self::Postgres => "PostgreSQL",
        }
    }
}

/// PostgreSQL's planner statistics during the run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum Stats {
    /// Left to autovacuum, as in production (timing-dependent).
    #[default]
    Auto,
    /// `ANALYZE`d, untimed, before every step (autovacuum has caught up).
    Fresh,
    /// Autovacuum off on the listing tables (the state right after a big load).
    None,
}

/// A baseline the domain is measured against.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Baseline {
    /// Multi-row `INSERT`s (both databases; its lookups grow quadratically past 100,000).
    #[value(name = "insert")]
    Insert,
    /// `COPY` into a temporary table, then set-based statements (PostgreSQL only).
    #[value(name = "copy")]
    Copy,
}

/// The import and sync engine against independent set-based SQL, step by step.
#[derive(Debug, Parser)]
#[command(name = "engine")]
pub struct Args {
    /// Listings on the first day, one run per size (each at least 100).
    #[arg(long, short = 'n', alias = "size", value_delimiter = ',', default_values_t = [10_000, 100_000], value_parser = size)]
    pub sizes: Vec<usize>,
    /// Databases to run on.
    #[arg(long, value_enum, value_delimiter = ',', default_values_t = [Kind::Sqlite, Kind::Postgres])]
    pub db: Vec<Kind>,
    /// Baselines to run beside the domain (`--baselines copy` leaves out the INSERT one,
    /// which takes hours at 1,000,000 listings).
    #[arg(long, value_enum, value_delimiter = ',', default_values_t = [Baseline::Insert, Baseline::Copy])]
    pub baselines: Vec<Baseline>,
    /// Runs per size; the table shows each step's median (default: 3 up to 20,000 listings,
    /// else 1).
    #[arg(long)]
    pub repeat: Option<usize>,
    /// Listings per part: what each contender is handed at a time (bounds memory).
    #[arg(long, default_value_t = 10_000, value_parser = size)]
    pub part: usize,
    /// PostgreSQL planner statistics: auto, fresh or none.
    #[arg(long, value_enum, default_value_t)]
    pub stats: Stats,
    /// `ALTER DATABASE … SET name = value` on every PostgreSQL database of the run.
    #[arg(long = "pg-set", value_name = "NAME=VALUE", value_parser = setting)]
    pub pg_set: Vec<(String, String)>,
    /// PostgreSQL's `statement_timeout` for the domain's sessions, as the server's
    /// `SYNC_STATEMENT_TIMEOUT_MS` (default the same 60,000; `0` for none).
    #[arg(long, default_value_t = 60_000)]
    pub statement_timeout_ms: u64,
    /// Keep the databases (and print their URLs) instead of removing them.
    #[arg(long)]
    pub keep: bool,
    /// Passed by `cargo bench` to every bench target; absent under `cargo test`.
    #[arg(long, hide = true)]
    pub bench: bool,
}

impl Args {
    /// Runs of size `n`.
    pub fn runs(&self, n: usize) -> usize {
        self.repeat
            .unwrap_or(if n <= 20_000 { 3 } else { 1 })
            .max(1)
    }
}

fn size(text: &str) -> Result<usize, String> {
    let n: usize = text
        .trim()
        .replace('_', "")
        .parse()
        .map_err(|e| format!("`{text}`: {e}"))?;
    if n < 100 {
        return Err(format!("`{text}`: at least 100"));
    }
    Ok(n)
}

fn setting(text: &str) -> Result<(String, String), String> {
    let (name, value) = text
        .split_once('=')
        .ok_or_else(|| format!("`{text}` is not name=value"))?;
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
    {
        return Err(format!("`{name}` is not a setting name"));
    }
    Ok((name.to_owned(), value.replace('\'', "''")))
}
