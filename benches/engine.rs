//! Benchmark of the import and sync engine against hand-written set-based SQL.
//!
//! For each database (SQLite in a temporary file, PostgreSQL in a freshly created database) and
//! each size N, it runs an operator's two days — first import, unchanged re-import, first sync,
//! next-day `FULL` import (10% changed, 2% new, 1% gone), sync after it — once through the
//! domain (`import::import_listings`, `sync::sync_source_to_target`) and once as the plain SQL a
//! person would write by hand, each in a database of its own, and prints both timings.
//!
//! ```sh
//! cargo bench --bench engine -- --sizes 10000,100000 --db sqlite,postgres
//! ```
//!
//! PostgreSQL: `BENCH_POSTGRES_URL` (default `postgres://postgres@127.0.0.1:5432/postgres`)
//! names a server where the user may create databases; every database the benchmark creates is
//! dropped afterwards (SQLite files are deleted).
//!
//! Options: `--sizes 10000,100000` (default), `--db sqlite,postgres` (default both),
//! `--repeat R` (runs per size, median shown; default 3 up to 20,000 listings, else 1),
//! `--breakdown` (where each step's time goes: the baseline's statements, a timed replica of the
//! domain's statements, the CPU cost of hashing), `--explain` (PostgreSQL plans of the replica's
//! statements), `--stats auto|fresh|none` (planner statistics: left to autovacuum, `ANALYZE`d
//! before every step, or autovacuum off), `--naive-baseline` (the baseline without the domain's
//! planner hygiene), `--pg-set name=value` (`ALTER DATABASE … SET` on the benchmark databases),
//! `--keep` (keep the databases).
//!
//! The replica behind `--breakdown` copies src/domain/import.rs and src/domain/sync.rs statement
//! for statement; when those change, update it (the table itself always runs the real domain).

use std::collections::HashSet;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{OnConflict, Query};
use sea_orm::{
    ColumnTrait, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbBackend,
    EntityTrait, QueryFilter, QuerySelect, Value,
};
use serde_json::{Value as Json, json};
use sync_manager::db;
use sync_manager::domain::audit::Actor;
use sync_manager::domain::hashing::content_hash;
use sync_manager::domain::import::{ImportMode, ImportOptions, import_listings};
use sync_manager::domain::listing::check_batch;
use sync_manager::domain::scope::TenantScope;
use sync_manager::domain::sources::{NewSource, SourceKind, create_source};
use sync_manager::domain::sql::{
    LockKind, lock, placeholders, prefer_set_joins, refresh_statistics, statement,
};
use sync_manager::domain::sync::{SyncOptions, sync_source_to_target};
use sync_manager::domain::targets::{ConflictPolicy, NewTarget, TargetKind, create_target};
use sync_manager::domain::tenants::{NewTenant, create_tenant, scope_for_cli};
use sync_manager::entity::source_property;
use sync_manager::ids::{SourceId, TargetId};

type BoxError = Box<dyn std::error::Error>;
type Res<T> = Result<T, BoxError>;

/// Rows per multi-row statement of the baseline (the domain's `CHUNK_ROWS`).
const CHUNK: usize = 1_000;

/// The product owner's targets.
const MAX_RATIO: f64 = 2.0;
const MIN_PG_FIRST_IMPORT_RATE: f64 = 15_000.0;

// ---------------------------------------------------------------------------------------------
// Command line

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Sqlite,
    Postgres,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Self::Sqlite => "SQLite",
            Self::Postgres => "PostgreSQL",
        }
    }
}

struct Args {
    sizes: Vec<usize>,
    kinds: Vec<Kind>,
    breakdown: bool,
    /// Keep the databases (and print their URLs) instead of removing them.
    keep: bool,
    /// Runs per size; the table shows each step's median.
    repeat: Option<usize>,
}

fn parse_args() -> Res<Args> {
    let mut args = Args {
        sizes: vec![10_000, 100_000],
        kinds: vec![Kind::Sqlite, Kind::Postgres],
        breakdown: false,
        keep: false,
        repeat: None,
    };
    let mut raw = std::env::args().skip(1);
    while let Some(arg) = raw.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) => (flag.to_owned(), Some(value.to_owned())),
            None => (arg.clone(), None),
        };
        let mut value = |name: &str| -> Res<String> {
            match inline.clone().or_else(|| raw.next()) {
                Some(v) => Ok(v),
                None => Err(format!("{name} needs a value").into()),
            }
        };
        match flag.as_str() {
            "--sizes" | "--size" | "-n" => {
                args.sizes = value("--sizes")?
                    .split(',')
                    .map(|s| s.trim().replace('_', "").parse::<usize>())
                    .collect::<Result<_, _>>()
                    .map_err(|e| format!("--sizes: {e}"))?;
                if args.sizes.iter().any(|&n| n < 100) {
                    return Err("--sizes: every size must be at least 100".into());
                }
            }
            "--db" => {
                args.kinds = value("--db")?
                    .split(',')
                    .map(|s| match s.trim() {
                        "sqlite" => Ok(Kind::Sqlite),
                        "postgres" | "postgresql" | "pg" => Ok(Kind::Postgres),
                        other => Err(format!("--db: unknown database `{other}`")),
                    })
                    .collect::<Result<_, _>>()?;
            }
            "--breakdown" => args.breakdown = true,
            "--keep" => args.keep = true,
            "--naive-baseline" => NAIVE_BASELINE.store(true, Ordering::Relaxed),
            "--stats" => {
                let mode = match value("--stats")?.as_str() {
                    "auto" => STATS_AUTO,
                    "fresh" => STATS_FRESH,
                    "none" => STATS_NONE,
                    other => {
                        return Err(format!("--stats: `{other}` is not auto, fresh or none").into());
                    }
                };
                STATS.store(mode, Ordering::Relaxed);
            }
            "--pg-set" => {
                let setting = value("--pg-set")?;
                let (name, val) = setting.split_once('=').ok_or("--pg-set takes name=value")?;
                if !name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
                {
                    return Err(format!("--pg-set: `{name}` is not a setting name").into());
                }
                if let Ok(mut settings) = PG_SETTINGS.lock() {
                    settings.push((name.to_owned(), val.replace('\'', "''")));
                }
            }
            "--explain" => {
                args.breakdown = true;
                EXPLAIN.store(true, Ordering::Relaxed);
            }
            "--repeat" => {
                let r = value("--repeat")?
                    .parse::<usize>()
                    .map_err(|e| format!("--repeat: {e}"))?;
                args.repeat = Some(r.max(1));
            }
            // `cargo bench` passes `--bench` to every bench target.
            "--bench" => {}
            "-h" | "--help" => {
                println!(
                    "usage: cargo bench --bench engine -- [--sizes 10000,100000] \
                     [--db sqlite,postgres] [--repeat R] [--stats auto|fresh|none] [--pg-set name=value]… [--naive-baseline] [--breakdown] [--explain] [--keep]"
                );
                std::process::exit(0);
            }
            other => eprintln!("ignoring argument `{other}`"),
        }
    }
    Ok(args)
}

// ---------------------------------------------------------------------------------------------
// Listings: deterministic, realistic, about 1.7 KB of JSON each

/// SplitMix64: a small, good, deterministic generator.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Self(seed)
    }

    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix(self.0)
    }

    /// Uniform in `lo..=hi`.
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next_u64() % (hi - lo + 1)
    }

    fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.next_u64() % items.len() as u64) as usize]
    }
}

/// The SplitMix64 finaliser.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

const CITIES: &[(&str, &str, f64, f64)] = &[
    ("Lisbon", "PT", 38.7223, -9.1393),
    ("Porto", "PT", 41.1579, -8.6291),
    ("Madrid", "ES", 40.4168, -3.7038),
    ("Valencia", "ES", 39.4699, -0.3763),
    ("Barcelona", "ES", 41.3874, 2.1686),
    ("Lyon", "FR", 45.7640, 4.8357),
    ("Bordeaux", "FR", 44.8378, -0.5792),
    ("Berlin", "DE", 52.5200, 13.4050),
    ("Hamburg", "DE", 53.5511, 9.9937),
    ("Amsterdam", "NL", 52.3676, 4.9041),
    ("Rotterdam", "NL", 51.9244, 4.4777),
    ("Milan", "IT", 45.4642, 9.1900),
];
const STREETS: &[&str] = &[
    "Rua Augusta",
    "Calle Mayor",
    "Avenue Jean Jaurès",
    "Hauptstraße",
    "Prinsengracht",
    "Via Torino",
    "Rua de Santa Catarina",
    "Gran Via",
    "Rue de la République",
    "Schillerstraße",
    "Keizersgracht",
    "Corso Buenos Aires",
];
const TYPES: &[&str] = &[
    "apartment",
    "house",
    "studio",
    "townhouse",
    "penthouse",
    "villa",
    "duplex",
];
const FEATURES: &[&str] = &[
    "balcony",
    "terrace",
    "garden",
    "garage",
    "parking",
    "elevator",
    "air_conditioning",
    "central_heating",
    "fireplace",
    "swimming_pool",
    "sea_view",
    "storage_room",
    "furnished",
    "double_glazing",
    "concierge",
    "solar_panels",
    "wheelchair_access",
    "pets_allowed",
];
const WORDS: &[&str] = &[
    "bright",
    "spacious",
    "renovated",
    "quiet",
    "sunny",
    "charming",
    "modern",
    "open-plan",
    "kitchen",
    "living",
    "room",
    "bedroom",
    "bathroom",
    "with",
    "and",
    "the",
    "a",
    "close",
    "to",
    "schools",
    "shops",
    "public",
    "transport",
    "park",
    "views",
    "over",
    "city",
    "river",
    "fully",
    "equipped",
    "high",
    "ceilings",
    "wooden",
    "floors",
    "large",
    "windows",
    "south-facing",
    "built-in",
    "wardrobes",
    "recently",
    "painted",
    "excellent",
    "condition",
    "ideal",
    "for",
    "families",
    "investors",
    "walking",
    "distance",
    "beach",
    "metro",
    "station",
    "storage",
    "heating",
    "in",
    "a",
    "well-kept",
    "building",
    "of",
    "neighbourhood",
];
const FIRST_NAMES: &[&str] = &[
    "Ana", "João", "Marta", "Luis", "Sofia", "Pierre", "Claire", "Jonas", "Eva", "Marco", "Giulia",
    "Daan", "Lotte", "Carlos", "Inês",
];
const LAST_NAMES: &[&str] = &[
    "Silva",
    "Garcia",
    "Martin",
    "Müller",
    "de Vries",
    "Rossi",
    "Costa",
    "Fernández",
    "Dubois",
    "Schmidt",
    "Bakker",
    "Ferreira",
];

fn round6(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

fn date(rng: &mut Rng, year: u32, months: (u64, u64)) -> String {
    format!(
        "{year}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        rng.range(months.0, months.1),
        rng.range(1, 28),
        rng.range(0, 23),
        rng.range(0, 59),
        rng.range(0, 59)
    )
}

/// Listing number `i` as the first day's scrape sees it.
fn listing(i: u64) -> Json {
    let mut rng = Rng::new(mix(i ^ 0x5EED_0000_0000_0001));
    let id = format!("LST-{i:08}");
    let (city, country, lat, lng) = CITIES[(rng.next_u64() % CITIES.len() as u64) as usize];
    let kind = rng.pick(TYPES);
    let bedrooms = rng.range(0, 6);
    let bathrooms = rng.range(1, 1 + bedrooms.max(1) / 2 + 1);
    let area = rng.range(25 + bedrooms * 15, 60 + bedrooms * 40);
    let price = (area * rng.range(1_800, 7_500)) / 1_000 * 1_000;
    let street = format!("{} {}", rng.pick(STREETS), rng.range(1, 250));

    let target_len = rng.range(300, 800) as usize;
    let mut description = String::with_capacity(target_len + 16);
    let mut capital = true;
    while description.len() < target_len {
        let word = rng.pick(WORDS);
        if !description.is_empty() {
            description.push(' ');
        }
        if capital {
            let mut chars = word.chars();
            if let Some(first) = chars.next() {
                description.extend(first.to_uppercase());
                description.push_str(chars.as_str());
            }
            capital = false;
        } else {
            description.push_str(word);
        }
        if rng.range(0, 11) == 0 {
            description.push('.');
            capital = true;
        }
    }
    while !description.is_char_boundary(target_len.min(description.len())) {
        description.pop();
    }
    description.truncate(target_len.min(description.len()));
    description.push('.');

    let mut features: Vec<&str> = Vec::new();
    for _ in 0..rng.range(2, 8) {
        let feature = rng.pick(FEATURES);
        if !features.contains(&feature) {
            features.push(feature);
        }
    }
    let images: Vec<String> = (0..rng.range(3, 15))
        .map(|k| {
            format!(
                "https://cdn.listings-example.com/img/{id}/{k:02}-{:012x}.jpg",
                rng.next_u64() & 0xFFFF_FFFF_FFFF
            )
        })
        .collect();
    let first = rng.pick(FIRST_NAMES);
    let last = rng.pick(LAST_NAMES);
    let email_name = format!("{first}.{last}")
        .to_lowercase()
        .replace(' ', "")
        .chars()
        .filter(char::is_ascii)
        .collect::<String>();
    let listed_at = date(&mut rng, 2026, (1, 6));
    let updated_at = date(&mut rng, 2026, (7, 10));

    json!({
        "id": id,
        "title": format!("{}-bedroom {kind} in {city}", bedrooms),
        "description": description,
        "price": price,
        "currency": "EUR",
        "address": {
            "street": street,
            "city": city,
            "postcode": format!("{:05}", rng.range(1_000, 99_999)),
            "country": country,
            "lat": round6(lat + (rng.unit() - 0.5) * 0.1),
            "lng": round6(lng + (rng.unit() - 0.5) * 0.1),
        },
        "bedrooms": bedrooms,
        "bathrooms": bathrooms,
        "area_m2": area,
        "type": kind,
        "features": features,
        "images": images,
        "agent": {
            "name": format!("{first} {last}"),
            "phone": format!("+{} {:03} {:03} {:03}", rng.range(30, 49), rng.range(100, 999), rng.range(100, 999), rng.range(100, 999)),
            "email": format!("{email_name}@agency-example.com"),
        },
        "listed_at": listed_at,
        "updated_at": updated_at,
    })
}

/// What happens to listing `i` on the second day.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Fate {
    Unchanged,
    Changed,
    Gone,
}

fn fate(i: u64) -> Fate {
    match mix(i ^ 0xDA7_0000_0000_0002) % 1_000 {
        0..100 => Fate::Changed,
        100..110 => Fate::Gone,
        _ => Fate::Unchanged,
    }
}

/// A listing as the next day's scrape sees it when it changed: new price, new date.
fn change(listing: &mut Json, i: u64) {
    let mut rng = Rng::new(mix(i ^ 0xC4A_0000_0000_0003));
    if let Some(object) = listing.as_object_mut() {
        let price = object
            .get("price")
            .and_then(Json::as_u64)
            .unwrap_or(100_000);
        let factor = 900 + rng.range(0, 150);
        object.insert("price".into(), json!(price * factor / 1_000 / 500 * 500));
        object.insert(
            "updated_at".into(),
            json!(format!(
                "2026-11-25T{:02}:{:02}:00Z",
                rng.range(0, 23),
                rng.range(0, 59)
            )),
        );
    }
}

struct Workload {
    day1: Vec<Json>,
    day2: Vec<Json>,
    changed: usize,
    gone: usize,
    new: usize,
    mean_bytes: f64,
}

fn workload(n: usize) -> Res<Workload> {
    let day1: Vec<Json> = (0..n as u64).map(listing).collect();
    let mut bytes = 0usize;
    for item in &day1 {
        bytes += serde_json::to_vec(item)?.len();
    }
    let (mut changed, mut gone) = (0, 0);
    let mut day2 = Vec::with_capacity(n + n / 50);
    for (i, item) in day1.iter().enumerate() {
        match fate(i as u64) {
            Fate::Unchanged => day2.push(item.clone()),
            Fate::Changed => {
                let mut item = item.clone();
                change(&mut item, i as u64);
                day2.push(item);
                changed += 1;
            }
            Fate::Gone => gone += 1,
        }
    }
    let new = n / 50;
    day2.extend((n as u64..(n + new) as u64).map(listing));
    Ok(Workload {
        mean_bytes: bytes as f64 / n as f64,
        day1,
        day2,
        changed,
        gone,
        new,
    })
}

// ---------------------------------------------------------------------------------------------
// Databases

struct BenchDb {
    url: String,
    /// SQLite: the file. PostgreSQL: the server URL and the database's name.
    sqlite_path: Option<PathBuf>,
    pg: Option<(String, String)>,
}

fn unique_suffix() -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("{}_{}", std::process::id(), nanos % 1_000_000_000_000)
}

fn admin_url() -> String {
    std::env::var("BENCH_POSTGRES_URL")
        .ok()
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

impl BenchDb {
    async fn create(kind: Kind, label: &str) -> Res<Self> {
        let name = format!("sm_bench_{label}_{}", unique_suffix());
        match kind {
            Kind::Sqlite => {
                let path = std::env::temp_dir().join(format!("{name}.db"));
                Ok(Self {
                    url: format!("sqlite://{}?mode=rwc", path.display()),
                    sqlite_path: Some(path),
                    pg: None,
                })
            }
            Kind::Postgres => {
                let admin_url = admin_url();
                let admin = Database::connect(&admin_url)
                    .await
                    .map_err(|e| format!("cannot reach PostgreSQL at {admin_url}: {e}"))?;
                admin
                    .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
                    .await?;
                let settings = PG_SETTINGS.lock().map(|s| s.clone()).unwrap_or_default();
                for (setting, value) in settings {
                    admin
                        .execute_unprepared(&format!(
                            "ALTER DATABASE \"{name}\" SET {setting} = '{value}'"
                        ))
                        .await?;
                }
                admin.close().await?;
                let mut url = url::Url::parse(&admin_url)?;
                url.set_path(&format!("/{name}"));
                Ok(Self {
                    url: url.to_string(),
                    sqlite_path: None,
                    pg: Some((admin_url, name)),
                })
            }
        }
    }

    /// Deletes the file or drops the database; reports but survives failures.
    async fn remove(self, keep: bool) {
        if keep {
            println!("kept database: {}", self.url);
            return;
        }
        if let Some(path) = &self.sqlite_path {
            for suffix in ["", "-wal", "-shm"] {
                let mut file = path.clone().into_os_string();
                file.push(suffix);
                let _ = std::fs::remove_file(file);
            }
        }
        if let Some((admin_url, name)) = &self.pg {
            let dropped = async {
                let admin = Database::connect(admin_url).await?;
                admin
                    .execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                    .await?;
                admin.close().await
            }
            .await;
            if let Err(e) = dropped {
                eprintln!("warning: could not drop database {name}: {e}");
            }
        }
    }
}

/// A migrated database with a tenant, a source and a target.
struct Env {
    db: DatabaseConnection,
    scope: TenantScope,
    tenant: i64,
    source: i64,
    target: i64,
}

async fn setup(url: &str) -> Res<Env> {
    let db = db::connect_and_migrate(url).await?;
    if db.get_database_backend() == DbBackend::Postgres
        && STATS.load(Ordering::Relaxed) == STATS_NONE
    {
        for table in [
            "source_properties",
            "target_properties",
            "source_snapshots",
            "target_snapshots",
        ] {
            db.execute_unprepared(&format!(
                "ALTER TABLE {table} SET (autovacuum_enabled = false)"
            ))
            .await?;
        }
    }
    create_tenant(
        &db,
        NewTenant {
            name: "Bench Agency".into(),
            slug: Some("bench-agency".into()),
        },
    )
    .await?;
    let scope = scope_for_cli(&db, "bench-agency").await?;
    let source = create_source(
        &db,
        &scope,
        NewSource {
            name: "Nightly scrape".into(),
            kind: SourceKind::Scraped,
            active: true,
            config: json!({ "id_field": "id" }),
        },
    )
    .await?;
    let target = create_target(
        &db,
        &scope,
        NewTarget {
            name: "Website".into(),
            kind: TargetKind::Website,
            active: true,
            config: json!({}),
            conflict_policy: ConflictPolicy::Flag,
        },
    )
    .await?;
    Ok(Env {
        tenant: scope.tenant_id().0,
        scope,
        source: source.id,
        target: target.id,
        db,
    })
}

/// Untimed, before every timed step, on both databases alike: a checkpoint, so a step never
/// pays for flushing what its predecessor wrote; with `--stats fresh`, `ANALYZE` too.
async fn settle(env: &Env) -> Res<()> {
    match env.db.get_database_backend() {
        DbBackend::Postgres => {
            if STATS.load(Ordering::Relaxed) == STATS_FRESH {
                env.db
                    .execute_unprepared(
                        "ANALYZE source_properties, target_properties, source_snapshots, target_snapshots",
                    )
                    .await?;
            }
            env.db.execute_unprepared("CHECKPOINT").await?;
        }
        _ => {
            env.db
                .execute_unprepared("PRAGMA wal_checkpoint(TRUNCATE)")
                .await?;
        }
    }
    Ok(())
}

/// PostgreSQL's planner statistics during the run (`--stats`): `auto` leaves them to autovacuum
/// (as in production, but timing-dependent); `fresh` runs `ANALYZE` before every step (the state
/// once autovacuum has caught up); `none` switches autovacuum off on the listing tables (the
/// state right after migrations, or when a sync follows a big import before autovacuum ran).
static STATS: AtomicU8 = AtomicU8::new(STATS_AUTO);
const STATS_AUTO: u8 = 0;
const STATS_FRESH: u8 = 1;
const STATS_NONE: u8 = 2;

/// `--naive-baseline`: the baseline skips the planner hygiene the domain does on PostgreSQL
/// (`sql::refresh_statistics`, an `ANALYZE` when a table's statistics are stale, and
/// `sql::prefer_set_joins`, `SET LOCAL enable_nestloop = off` in syncs). Without it, right after
/// a large import the planner takes the tables for empty and its `NOT EXISTS`, `UPDATE … FROM`
/// and `IN (…)` plans go quadratic.
static NAIVE_BASELINE: AtomicBool = AtomicBool::new(false);

/// `--pg-set name=value`: `ALTER DATABASE … SET` on every PostgreSQL database the run creates.
static PG_SETTINGS: Mutex<Vec<(String, String)>> = Mutex::new(Vec::new());

async fn scalar(conn: &impl ConnectionTrait, sql: &str, values: Vec<Value>) -> Res<i64> {
    let backend = conn.get_database_backend();
    let row = conn
        .query_one_raw(statement(backend, sql, values))
        .await?
        .ok_or("no row")?;
    Ok(row.try_get_by_index::<i64>(0)?)
}

// ---------------------------------------------------------------------------------------------
// Ours: the domain

fn label(i: usize) -> String {
    format!("items[{i}]")
}

async fn ours_import(env: &Env, items: Vec<Json>, mode: ImportMode) -> Res<[i32; 4]> {
    let run = import_listings(
        &env.db,
        &env.scope,
        SourceId(env.source),
        items,
        &label,
        ImportOptions {
            mode,
            dry_run: false,
            allow_mass_removal: true,
            actor: Actor::Cli,
        },
    )
    .await?;
    Ok([run.created, run.updated, run.unchanged, run.removed])
}

async fn ours_sync(env: &Env) -> Res<[i32; 5]> {
    let log = sync_source_to_target(
        &env.db,
        &env.scope,
        SourceId(env.source),
        TargetId(env.target),
        SyncOptions {
            dry_run: false,
            allow_mass_removal: true,
            actor: Actor::Cli,
        },
    )
    .await?;
    Ok([
        log.created,
        log.updated,
        log.skipped,
        log.conflicts,
        log.removed,
    ])
}

// ---------------------------------------------------------------------------------------------
// The baseline: the set-based SQL a person would write by hand

/// Where a baseline step spent its time.
#[derive(Default)]
struct Split {
    hashing: Duration,
    /// Statement label and how long each run of it took.
    statements: Vec<(&'static str, Duration)>,
    commit: Duration,
}

impl Split {
    fn add(&mut self, what: &'static str, took: Duration) {
        self.statements.push((what, took));
    }
}

fn external_id(item: &Json) -> Res<String> {
    match item.get("id") {
        Some(Json::String(s)) => Ok(s.clone()),
        Some(Json::Number(n)) => Ok(n.to_string()),
        _ => Err("a listing without an id".into()),
    }
}

const UPSERT_HEAD: &str = "INSERT INTO source_properties \
     (tenant_id, source_id, external_id, data, content_hash, removed_at, created_at, updated_at) VALUES ";
const UPSERT_TAIL: &str = " ON CONFLICT (tenant_id, source_id, external_id) DO UPDATE SET \
     data = excluded.data, content_hash = excluded.content_hash, removed_at = NULL, \
     updated_at = excluded.updated_at \
     WHERE source_properties.content_hash <> excluded.content_hash \
        OR source_properties.removed_at IS NOT NULL";

fn rows_sql(head: &str, row: &str, n: usize, tail: &str) -> String {
    let mut sql = String::with_capacity(head.len() + tail.len() + n * (row.len() + 2));
    sql.push_str(head);
    for i in 0..n {
        if i > 0 {
            sql.push_str(", ");
        }
        sql.push_str(row);
    }
    sql.push_str(tail);
    sql
}

/// Hash, then (`full`: snapshot the changed rows first) upsert in chunks of 1,000, then
/// (`full`: mark the rows the batch lacks removed), in one transaction.
async fn sql_import(env: &Env, items: Vec<Json>, full: bool, split: &mut Split) -> Res<()> {
    let backend = env.db.get_database_backend();
    let now: DateTime<Utc> = Utc::now();
    let (tenant, source) = (env.tenant, env.source);

    let clock = Instant::now();
    let mut rows = Vec::with_capacity(items.len());
    for data in items {
        let id = external_id(&data)?;
        let hash = content_hash(&data);
        rows.push((id, hash, data));
    }
    split.hashing += clock.elapsed();

    let txn = db::begin_write(&env.db).await?;
    if !NAIVE_BASELINE.load(Ordering::Relaxed) {
        // The same planner hygiene as the domain (see `--naive-baseline`).
        refresh_statistics(&txn, "source_properties").await?;
    }
    if full {
        // The stored versions of the batch's listings whose hash differs, found through the
        // unique index (external id IN …) and compared pairwise with the batch.
        for chunk in rows.chunks(CHUNK) {
            let sql = format!(
                "INSERT INTO source_snapshots (tenant_id, source_property_id, data, content_hash, reason, created_at) \
                 SELECT sp.tenant_id, sp.id, sp.data, sp.content_hash, 'import', ? \
                 FROM source_properties sp \
                 WHERE sp.tenant_id = ? AND sp.source_id = ? AND sp.external_id IN ({}) \
                   AND (sp.external_id, sp.content_hash) NOT IN (VALUES {})",
                placeholders(chunk.len()),
                rows_sql("", "(?, ?)", chunk.len(), "")
            );
            let mut values: Vec<Value> = Vec::with_capacity(chunk.len() * 3 + 3);
            values.extend([now.into(), tenant.into(), source.into()]);
            for (id, _, _) in chunk {
                values.push(id.as_str().into());
            }
            for (id, hash, _) in chunk {
                values.push(id.as_str().into());
                values.push(hash.as_str().into());
            }
            let clock = Instant::now();
            txn.execute_raw(statement(backend, &sql, values)).await?;
            split.add("snapshot changed (INSERT … SELECT)", clock.elapsed());
        }
    }
    let ids: Vec<String> = if full {
        rows.iter().map(|(id, _, _)| id.clone()).collect()
    } else {
        Vec::new()
    };

    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<_> = rows.by_ref().take(CHUNK).collect();
        let sql = rows_sql(
            UPSERT_HEAD,
            "(?, ?, ?, ?, ?, NULL, ?, ?)",
            chunk.len(),
            UPSERT_TAIL,
        );
        let mut values: Vec<Value> = Vec::with_capacity(chunk.len() * 7);
        for (id, hash, data) in chunk {
            values.extend([
                tenant.into(),
                source.into(),
                id.into(),
                data.into(),
                hash.into(),
                now.into(),
                now.into(),
            ]);
        }
        let clock = Instant::now();
        txn.execute_raw(statement(backend, &sql, values)).await?;
        split.add("upsert 1,000 rows", clock.elapsed());
    }

    if full {
        let clock = Instant::now();
        let stored = txn
            .query_all_raw(statement(
                backend,
                "SELECT external_id FROM source_properties \
                 WHERE tenant_id = ? AND source_id = ? AND removed_at IS NULL",
                vec![tenant.into(), source.into()],
            ))
            .await?;
        let batch: HashSet<&str> = ids.iter().map(String::as_str).collect();
        let mut gone = Vec::new();
        for row in stored {
            let id: String = row.try_get_by_index(0)?;
            if !batch.contains(id.as_str()) {
                gone.push(id);
            }
        }
        split.add("read live ids, diff", clock.elapsed());
        for chunk in gone.chunks(CHUNK) {
            let sql = format!(
                "UPDATE source_properties SET removed_at = ?, updated_at = ? \
                 WHERE tenant_id = ? AND source_id = ? AND external_id IN ({})",
                placeholders(chunk.len())
            );
            let mut values: Vec<Value> = vec![now.into(), now.into(), tenant.into(), source.into()];
            values.extend(chunk.iter().map(|id| Value::from(id.as_str())));
            let clock = Instant::now();
            txn.execute_raw(statement(backend, &sql, values)).await?;
            split.add("mark gone removed (UPDATE)", clock.elapsed());
        }
    }
    let clock = Instant::now();
    txn.commit().await?;
    split.commit += clock.elapsed();
    Ok(())
}

/// The four statements of a sync, in one transaction.
async fn sql_sync(env: &Env, split: &mut Split) -> Res<()> {
    let backend = env.db.get_database_backend();
    let now: DateTime<Utc> = Utc::now();
    let (tenant, source, target) = (env.tenant, env.source, env.target);
    let changed = "sp.removed_at IS NULL AND NOT tp.manually_modified \
         AND (tp.base_hash IS NULL OR tp.base_hash <> sp.content_hash OR tp.removed_at IS NOT NULL)";
    let txn = db::begin_write(&env.db).await?;
    if !NAIVE_BASELINE.load(Ordering::Relaxed) {
        // The same planner hygiene as the domain (see `--naive-baseline`): fresh statistics
        // and hash joins, whatever autovacuum has or has not done yet.
        refresh_statistics(&txn, "source_properties").await?;
        refresh_statistics(&txn, "target_properties").await?;
        prefer_set_joins(&txn).await?;
    }
    let run = |sql: String, values: Vec<Value>| {
        let stmt = statement(backend, &sql, values);
        let txn = &txn;
        async move {
            let clock = Instant::now();
            txn.execute_raw(stmt).await.map(|_| clock.elapsed())
        }
    };

    let took = run(
        format!(
            "INSERT INTO target_snapshots (tenant_id, target_property_id, data, content_hash, reason, created_at) \
             SELECT tp.tenant_id, tp.id, tp.data, tp.content_hash, 'sync', ? \
             FROM target_properties tp JOIN source_properties sp \
               ON sp.tenant_id = tp.tenant_id AND sp.source_id = ? AND sp.external_id = tp.external_id \
             WHERE tp.tenant_id = ? AND tp.target_id = ? AND {changed}"
        ),
        vec![now.into(), source.into(), tenant.into(), target.into()],
    )
    .await?;
    split.add("snapshot changed (INSERT … SELECT)", took);

    let took = run(
        format!(
            "UPDATE target_properties AS tp SET data = sp.data, content_hash = sp.content_hash, \
               base_hash = sp.content_hash, source_property_id = sp.id, removed_at = NULL, \
               last_synced_at = ?, updated_at = ? \
             FROM source_properties sp \
             WHERE sp.tenant_id = tp.tenant_id AND sp.source_id = ? AND sp.external_id = tp.external_id \
               AND tp.tenant_id = ? AND tp.target_id = ? AND {changed}"
        ),
        vec![
            now.into(),
            now.into(),
            source.into(),
            tenant.into(),
            target.into(),
        ],
    )
    .await?;
    split.add("update changed (UPDATE … FROM)", took);

    let took = run(
        "INSERT INTO target_properties (tenant_id, target_id, source_property_id, external_id, data, \
           content_hash, base_hash, manually_modified, conflict, last_synced_at, created_at, updated_at) \
         SELECT sp.tenant_id, ?, sp.id, sp.external_id, sp.data, sp.content_hash, sp.content_hash, \
           ?, ?, ?, ?, ? \
         FROM source_properties sp \
         WHERE sp.tenant_id = ? AND sp.source_id = ? AND sp.removed_at IS NULL \
           AND NOT EXISTS (SELECT 1 FROM target_properties tp \
             WHERE tp.tenant_id = sp.tenant_id AND tp.target_id = ? AND tp.external_id = sp.external_id)"
            .to_owned(),
        vec![
            target.into(),
            false.into(),
            false.into(),
            now.into(),
            now.into(),
            now.into(),
            tenant.into(),
            source.into(),
            target.into(),
        ],
    )
    .await?;
    split.add("create missing (INSERT … SELECT)", took);

    let took = run(
        "UPDATE target_properties AS tp SET removed_at = ?, updated_at = ? \
         FROM source_properties sp \
         WHERE sp.tenant_id = tp.tenant_id AND sp.source_id = ? AND sp.external_id = tp.external_id \
           AND tp.tenant_id = ? AND tp.target_id = ? \
           AND sp.removed_at IS NOT NULL AND tp.removed_at IS NULL"
            .to_owned(),
        vec![
            now.into(),
            now.into(),
            source.into(),
            tenant.into(),
            target.into(),
        ],
    )
    .await?;
    split.add("mark removed (UPDATE … FROM)", took);

    let clock = Instant::now();
    txn.commit().await?;
    split.commit += clock.elapsed();
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Checking that both did the same work

async fn state(env: &Env) -> Res<String> {
    let backend = env.db.get_database_backend();
    let mut sources: Vec<(String, String, i64)> = env
        .db
        .query_all_raw(statement(
            backend,
            "SELECT external_id, content_hash, \
               CAST(CASE WHEN removed_at IS NULL THEN 0 ELSE 1 END AS BIGINT) \
             FROM source_properties WHERE tenant_id = ?",
            vec![env.tenant.into()],
        ))
        .await?
        .into_iter()
        .map(|r| {
            Ok((
                r.try_get_by_index(0)?,
                r.try_get_by_index(1)?,
                r.try_get_by_index(2)?,
            ))
        })
        .collect::<Result<_, sea_orm::DbErr>>()?;
    sources.sort();
    let mut targets: Vec<(String, String, Option<String>, i64)> = env
        .db
        .query_all_raw(statement(
            backend,
            "SELECT external_id, content_hash, base_hash, \
               CAST(CASE WHEN removed_at IS NULL THEN 0 ELSE 1 END AS BIGINT) \
             FROM target_properties WHERE tenant_id = ?",
            vec![env.tenant.into()],
        ))
        .await?
        .into_iter()
        .map(|r| {
            Ok((
                r.try_get_by_index(0)?,
                r.try_get_by_index(1)?,
                r.try_get_by_index(2)?,
                r.try_get_by_index(3)?,
            ))
        })
        .collect::<Result<_, sea_orm::DbErr>>()?;
    targets.sort();
    let mut digest = String::new();
    for s in &sources {
        let _ = writeln!(digest, "S {} {} {}", s.0, s.1, s.2);
    }
    for t in &targets {
        let _ = writeln!(digest, "T {} {} {:?} {}", t.0, t.1, t.2, t.3);
    }
    for table in ["source_snapshots", "target_snapshots"] {
        let n = scalar(
            &env.db,
            &format!("SELECT COUNT(*) FROM {table} WHERE tenant_id = ?"),
            vec![env.tenant.into()],
        )
        .await?;
        let _ = writeln!(digest, "{table} {n}");
    }
    Ok(digest)
}

fn expect_counts<const K: usize>(step: &str, got: [i32; K], want: [usize; K]) -> Res<()> {
    let want = want.map(|w| w as i32);
    if got == want {
        Ok(())
    } else {
        Err(format!("{step}: the domain reported {got:?}, expected {want:?}").into())
    }
}

// ---------------------------------------------------------------------------------------------
// One database, one size

struct Row {
    step: &'static str,
    listings: usize,
    ours: Duration,
    sql: Duration,
    split: Split,
}

struct Case {
    kind: Kind,
    n: usize,
    mean_bytes: f64,
    changed: usize,
    gone: usize,
    new: usize,
    rows: Vec<Row>,
    /// How many runs the timings are the median of.
    runs: usize,
    /// Where the domain's steps spent their time (`--breakdown` only).
    breakdown: Vec<(&'static str, Vec<(String, Duration)>)>,
}

async fn run_case(kind: Kind, n: usize, breakdown: bool, keep: bool) -> Res<Case> {
    let mut dbs = Vec::new();
    for label in ["ours", "sql", "replica"] {
        if label == "replica" && !breakdown {
            break;
        }
        match BenchDb::create(kind, label).await {
            Ok(db) => dbs.push(db),
            Err(e) => {
                for db in dbs {
                    db.remove(keep).await;
                }
                return Err(e);
            }
        }
    }
    let result = run_steps(
        kind,
        n,
        &dbs[0].url,
        &dbs[1].url,
        dbs.get(2).map(|d| d.url.as_str()),
    )
    .await;
    for db in dbs {
        db.remove(keep).await;
    }
    result
}

/// One line on stderr per finished step, so a long run shows where it is.
fn progress(kind: Kind, n: usize, row: Option<&Row>) {
    if let Some(row) = row {
        eprintln!(
            "  {} N={n} {}: ours {:.1} ms, SQL {:.1} ms",
            kind.name(),
            row.step,
            ms(row.ours),
            ms(row.sql)
        );
    }
}

async fn run_steps(
    kind: Kind,
    n: usize,
    ours_url: &str,
    sql_url: &str,
    replica_url: Option<&str>,
) -> Res<Case> {
    let work = workload(n)?;
    let ours = setup(ours_url).await?;
    let base = setup(sql_url).await?;
    let mut rows = Vec::new();
    let (changed, gone, new) = (work.changed, work.gone, work.new);
    let day2_len = work.day2.len();

    // 1. First import.
    let items = work.day1.clone();
    settle(&ours).await?;
    let clock = Instant::now();
    let got = ours_import(&ours, items, ImportMode::Incremental).await?;
    let ours_took = clock.elapsed();
    expect_counts("first import", got, [n, 0, 0, 0])?;
    let items = work.day1.clone();
    let mut split = Split::default();
    settle(&base).await?;
    let clock = Instant::now();
    sql_import(&base, items, false, &mut split).await?;
    rows.push(Row {
        step: "1. first import (INCREMENTAL)",
        listings: n,
        ours: ours_took,
        sql: clock.elapsed(),
        split,
    });
    progress(kind, n, rows.last());

    // 2. The same listings again.
    let items = work.day1.clone();
    settle(&ours).await?;
    let clock = Instant::now();
    let got = ours_import(&ours, items, ImportMode::Incremental).await?;
    let ours_took = clock.elapsed();
    expect_counts("unchanged re-import", got, [0, 0, n, 0])?;
    let items = work.day1.clone();
    let mut split = Split::default();
    settle(&base).await?;
    let clock = Instant::now();
    sql_import(&base, items, false, &mut split).await?;
    rows.push(Row {
        step: "2. unchanged re-import",
        listings: n,
        ours: ours_took,
        sql: clock.elapsed(),
        split,
    });
    progress(kind, n, rows.last());

    // 3. First sync into the empty target.
    settle(&ours).await?;
    let clock = Instant::now();
    let got = ours_sync(&ours).await?;
    let ours_took = clock.elapsed();
    expect_counts("first sync", got, [n, 0, 0, 0, 0])?;
    let mut split = Split::default();
    settle(&base).await?;
    let clock = Instant::now();
    sql_sync(&base, &mut split).await?;
    rows.push(Row {
        step: "3. first sync (empty target)",
        listings: n,
        ours: ours_took,
        sql: clock.elapsed(),
        split,
    });
    progress(kind, n, rows.last());

    // 4. Next day, FULL: 10% changed, 2% new, 1% gone.
    let items = work.day2.clone();
    settle(&ours).await?;
    let clock = Instant::now();
    let got = ours_import(&ours, items, ImportMode::Full).await?;
    let ours_took = clock.elapsed();
    expect_counts(
        "next-day import",
        got,
        [new, changed, n - changed - gone, gone],
    )?;
    let items = work.day2.clone();
    let mut split = Split::default();
    settle(&base).await?;
    let clock = Instant::now();
    sql_import(&base, items, true, &mut split).await?;
    rows.push(Row {
        step: "4. next-day import (FULL)",
        listings: day2_len,
        ours: ours_took,
        sql: clock.elapsed(),
        split,
    });
    progress(kind, n, rows.last());

    // 5. Sync the next day's changes.
    settle(&ours).await?;
    let clock = Instant::now();
    let got = ours_sync(&ours).await?;
    let ours_took = clock.elapsed();
    expect_counts(
        "sync after next-day import",
        got,
        [new, changed, n - changed - gone, 0, gone],
    )?;
    let mut split = Split::default();
    settle(&base).await?;
    let clock = Instant::now();
    sql_sync(&base, &mut split).await?;
    rows.push(Row {
        step: "5. sync after next-day import",
        listings: n + new,
        ours: ours_took,
        sql: clock.elapsed(),
        split,
    });
    progress(kind, n, rows.last());

    if state(&ours).await? != state(&base).await? {
        return Err(format!(
            "{} N={n}: the domain and the baseline ended in different states",
            kind.name()
        )
        .into());
    }
    ours.db.close().await?;
    base.db.close().await?;

    let breakdown = match replica_url {
        Some(url) => replica(url, &work).await?,
        None => Vec::new(),
    };

    Ok(Case {
        kind,
        n,
        mean_bytes: work.mean_bytes,
        changed,
        gone,
        new,
        rows,
        runs: 1,
        breakdown,
    })
}

// ---------------------------------------------------------------------------------------------
// `--breakdown`: the domain's statements, replayed one by one with a clock on each

/// A copy of what `import::import_listings` and `sync::sync_source_to_target` do, statement for
/// statement (see src/domain/import.rs and src/domain/sync.rs), timed phase by phase.
async fn replica(url: &str, work: &Workload) -> Res<Vec<(&'static str, Vec<(String, Duration)>)>> {
    let env = setup(url).await?;
    let mut out = Vec::new();
    settle(&env).await?;
    let first = replica_import(&env, work.day1.clone(), ImportMode::Incremental).await?;
    out.push(("1. first import", first));
    settle(&env).await?;
    let again = replica_import(&env, work.day1.clone(), ImportMode::Incremental).await?;
    out.push(("2. unchanged re-import", again));
    settle(&env).await?;
    out.push(("3. first sync", replica_sync(&env).await?));
    settle(&env).await?;
    let next = replica_import(&env, work.day2.clone(), ImportMode::Full).await?;
    out.push(("4. next-day import", next));
    settle(&env).await?;
    out.push(("5. sync after next-day", replica_sync(&env).await?));
    env.db.close().await?;
    Ok(out)
}

struct Phases(Vec<(String, Duration)>, Instant);

impl Phases {
    fn new() -> Self {
        Self(Vec::new(), Instant::now())
    }

    /// Records the time since the last mark under `name` (summed with earlier marks of it).
    fn mark(&mut self, name: &str) {
        let took = self.1.elapsed();
        match self.0.iter_mut().find(|(n, _)| n == name) {
            Some((_, total)) => *total += took,
            None => self.0.push((name.to_owned(), took)),
        }
        self.1 = Instant::now();
    }
}

async fn replica_import(
    env: &Env,
    items: Vec<Json>,
    mode: ImportMode,
) -> Res<Vec<(String, Duration)>> {
    use source_property::Column as C;
    let mut p = Phases::new();
    let tenant = env.tenant;
    let started_at = Utc::now();
    let source =
        sync_manager::domain::sources::get_source(&env.db, &env.scope, SourceId(env.source))
            .await?;
    let txn = db::begin_write(&env.db).await?;
    lock(&txn, LockKind::Source, source.id).await?;
    p.mark("get source, begin, lock");
    refresh_statistics(&txn, "source_properties").await?;
    p.mark("refresh statistics (ANALYZE when stale)");
    let backend = txn.get_database_backend();
    let mut seen_ids: HashSet<i64> = HashSet::new();
    let mut build = Duration::ZERO;
    let mut chunks = Vec::new();
    let mut items = items.into_iter();
    loop {
        // The domain's parts of PART_ITEMS (10,000) items.
        let part: Vec<Json> = items.by_ref().take(10_000).collect();
        if part.is_empty() {
            break;
        }
        let listings = check_batch(part, "id", &label)?;
        p.mark("check_batch (ids, NUL check, content_hash)");
        let mut stored: std::collections::HashMap<String, (i64, String, bool)> =
            std::collections::HashMap::with_capacity(listings.len());
        for chunk in listings.chunks(5_000) {
            let sql = format!(
                "SELECT sp.id AS id, sp.external_id AS external_id, sp.content_hash AS content_hash, \
                   sp.removed_at AS removed_at \
                 FROM source_properties sp JOIN (VALUES {}) AS batch ON sp.external_id = batch.column1 \
                 WHERE sp.tenant_id = ? AND sp.source_id = ?",
                vec!["(?)"; chunk.len()].join(", ")
            );
            let mut params: Vec<Value> =
                chunk.iter().map(|l| l.external_id.clone().into()).collect();
            params.push(tenant.into());
            params.push(source.id.into());
            for row in txn.query_all_raw(statement(backend, &sql, params)).await? {
                let removed_at: Option<DateTime<Utc>> = row.try_get("", "removed_at")?;
                stored.insert(
                    row.try_get("", "external_id")?,
                    (
                        row.try_get("", "id")?,
                        row.try_get("", "content_hash")?,
                        removed_at.is_some(),
                    ),
                );
            }
        }
        p.mark("load stored (SELECT … JOIN (VALUES 5,000 ids))");
        let mut upserts = Vec::new();
        let mut changed_ids = Vec::new();
        for listing in listings {
            match stored.get(&listing.external_id) {
                None => upserts.push(listing),
                Some((id, hash, removed)) => {
                    if mode == ImportMode::Full {
                        seen_ids.insert(*id);
                    }
                    if *hash != listing.hash {
                        changed_ids.push(*id);
                        upserts.push(listing);
                    } else if *removed {
                        upserts.push(listing);
                    }
                }
            }
        }
        p.mark("plan");
        let now = Utc::now();
        for chunk in changed_ids.chunks(5_000) {
            let sql = format!(
                "INSERT INTO source_snapshots (tenant_id, source_property_id, data, content_hash, reason, created_at) \
                 SELECT tenant_id, id, data, content_hash, ?, ? FROM source_properties \
                 WHERE tenant_id = ? AND id IN ({})",
                placeholders(chunk.len())
            );
            let mut values: Vec<Value> = vec!["import".into(), now.into(), tenant.into()];
            values.extend(chunk.iter().map(|id| (*id).into()));
            txn.execute_raw(statement(backend, &sql, values)).await?;
        }
        p.mark("snapshot changed (INSERT … SELECT … id IN)");
        let mut upserts = upserts.into_iter().peekable();
        while upserts.peek().is_some() {
            let clock = Instant::now();
            let mut insert = Query::insert();
            insert.into_table(source_property::Entity).columns([
                C::TenantId,
                C::SourceId,
                C::ExternalId,
                C::Data,
                C::ContentHash,
                C::RemovedAt,
                C::CreatedAt,
                C::UpdatedAt,
            ]);
            for listing in upserts.by_ref().take(CHUNK) {
                insert.values_panic([
                    tenant.into(),
                    source.id.into(),
                    listing.external_id.into(),
                    listing.data.into(),
                    listing.hash.into(),
                    Option::<DateTime<Utc>>::None.into(),
                    now.into(),
                    now.into(),
                ]);
            }
            insert.on_conflict(
                OnConflict::columns([C::TenantId, C::SourceId, C::ExternalId])
                    .update_columns([C::Data, C::ContentHash, C::RemovedAt, C::UpdatedAt])
                    .to_owned(),
            );
            build += clock.elapsed();
            let clock = Instant::now();
            if EXPLAIN.load(Ordering::Relaxed) && chunks.len() % 50 == 0 {
                // The first and every 50th chunk, with its plan and timing on the server.
                run_timed(&txn, backend.build(&insert)).await?;
            } else {
                txn.execute(&insert).await?;
            }
            chunks.push(clock.elapsed());
        }
        p.mark("upsert (multi-row INSERT … ON CONFLICT, 1,000 rows each)");
    }
    if mode == ImportMode::Full {
        let listed: Vec<i64> = env
            .scope
            .select::<source_property::Entity>()
            .filter(C::SourceId.eq(source.id))
            .filter(C::RemovedAt.is_null())
            .filter(C::UpdatedAt.lt(started_at))
            .select_only()
            .column(C::Id)
            .into_tuple()
            .all(&txn)
            .await?;
        let mut missing: Vec<i64> = listed
            .into_iter()
            .filter(|id| !seen_ids.contains(id))
            .collect();
        missing.sort_unstable();
        p.mark("missing ids (SELECT id … updated_at < start)");
        let now = Utc::now();
        for chunk in missing.chunks(5_000) {
            source_property::Entity::update_many()
                .col_expr(C::RemovedAt, sea_orm::sea_query::Expr::value(now))
                .col_expr(C::UpdatedAt, sea_orm::sea_query::Expr::value(now))
                .filter(C::TenantId.eq(tenant))
                .filter(C::Id.is_in(chunk.iter().copied()))
                .exec(&txn)
                .await?;
        }
        p.mark("mark removed (UPDATE … id IN)");
    }
    audit_row(&txn, tenant, "INSERT INTO import_runs (tenant_id, source_id, mode, dry_run, created, updated, unchanged, removed, warnings, actor, started_at, finished_at) VALUES (?, ?, 'x', ?, 0, 0, 0, 0, ?, 'cli', ?, ?)", source.id).await?;
    p.mark("import_runs row");
    txn.commit().await?;
    p.mark("commit");
    let mut phases = p.0;
    if !chunks.is_empty() {
        let total: Duration = chunks.iter().sum();
        let max = chunks.iter().max().copied().unwrap_or_default();
        phases.push((
            format!(
                "  of which: building {} upsert statements (sea-query)",
                chunks.len()
            ),
            build,
        ));
        phases.push((
            format!(
                "  of which: executing them, mean {:.1} ms, max {:.1} ms",
                ms(total) / chunks.len() as f64,
                ms(max)
            ),
            total,
        ));
    }
    Ok(phases)
}

async fn audit_row(txn: &DatabaseTransaction, tenant: i64, sql: &str, owner: i64) -> Res<()> {
    let now = Utc::now();
    txn.execute_raw(statement(
        txn.get_database_backend(),
        sql,
        vec![
            tenant.into(),
            owner.into(),
            false.into(),
            Json::Array(Vec::new()).into(),
            now.into(),
            now.into(),
        ],
    ))
    .await?;
    Ok(())
}

/// The domain's sync SQL (src/domain/sync.rs), statement by statement.
/// With `--explain`, on PostgreSQL: runs `stmt` under `EXPLAIN (ANALYZE, BUFFERS, WAL)` (which
/// executes it) and keeps the plan for the report; otherwise just runs it.
async fn run_timed(txn: &DatabaseTransaction, stmt: sea_orm::Statement) -> Res<()> {
    if EXPLAIN.load(Ordering::Relaxed) && stmt.db_backend == DbBackend::Postgres {
        let first_line = stmt
            .sql
            .split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ");
        let explained = sea_orm::Statement {
            sql: format!("EXPLAIN (ANALYZE, BUFFERS, WAL) {}", stmt.sql),
            ..stmt
        };
        let rows = txn.query_all_raw(explained).await?;
        let mut plan = format!("{first_line} …\n");
        for row in rows {
            let line: String = row.try_get_by_index(0)?;
            plan.push_str("    ");
            plan.push_str(&line);
            plan.push('\n');
        }
        if let Ok(mut plans) = PLANS.lock() {
            plans.push(plan);
        }
    } else if stmt.sql.trim_start().starts_with("SELECT") {
        txn.query_all_raw(stmt).await?;
    } else {
        txn.execute_raw(stmt).await?;
    }
    Ok(())
}

/// `--explain`: plans of the replica's sync statements.
static EXPLAIN: AtomicBool = AtomicBool::new(false);
static PLANS: Mutex<Vec<String>> = Mutex::new(Vec::new());

async fn replica_sync(env: &Env) -> Res<Vec<(String, Duration)>> {
    const PAIRS: &str = "FROM source_properties sp \
         LEFT JOIN target_properties tp \
           ON tp.tenant_id = sp.tenant_id AND tp.target_id = ? AND tp.external_id = sp.external_id \
         WHERE sp.tenant_id = ? AND sp.source_id = ?";
    const SOURCE_CHANGED: &str = "(tp.base_hash IS NULL OR tp.base_hash <> sp.content_hash)";
    const UPDATE_JOIN: &str = "FROM source_properties sp \
         WHERE sp.tenant_id = target_properties.tenant_id AND sp.source_id = ? \
           AND sp.external_id = target_properties.external_id \
           AND target_properties.tenant_id = ? AND target_properties.target_id = ?";
    const TARGET_CHANGED: &str =
        "(target_properties.base_hash IS NULL OR target_properties.base_hash <> sp.content_hash)";
    let mut p = Phases::new();
    let (tenant, source, target) = (env.tenant, env.source, env.target);
    let pairs = || -> Vec<Value> { vec![target.into(), tenant.into(), source.into()] };
    let join = || -> Vec<Value> { vec![source.into(), tenant.into(), target.into()] };
    sync_manager::domain::sources::get_source(&env.db, &env.scope, SourceId(source)).await?;
    sync_manager::domain::targets::get_target(&env.db, &env.scope, TargetId(target)).await?;
    p.mark("get source + target");
    let txn = db::begin_write(&env.db).await?;
    lock(&txn, LockKind::Source, source).await?;
    lock(&txn, LockKind::Target, target).await?;
    p.mark("begin + locks");
    refresh_statistics(&txn, "source_properties").await?;
    refresh_statistics(&txn, "target_properties").await?;
    p.mark("refresh statistics (ANALYZE when stale)");
    prefer_set_joins(&txn).await?;
    p.mark("SET LOCAL enable_nestloop = off");
    let backend = txn.get_database_backend();
    let count = format!(
        "SELECT category, COUNT(*) AS n FROM (SELECT CASE \
           WHEN sp.removed_at IS NOT NULL THEN \
             CASE WHEN tp.id IS NOT NULL AND tp.removed_at IS NULL THEN 'removed' ELSE 'gone' END \
           WHEN tp.id IS NULL THEN 'created' \
           WHEN tp.manually_modified AND {SOURCE_CHANGED} THEN 'conflict' \
           WHEN NOT tp.manually_modified AND ({SOURCE_CHANGED} OR tp.removed_at IS NOT NULL) THEN 'updated' \
           ELSE 'skipped' END AS category {PAIRS}) pairs GROUP BY category"
    );
    run_timed(&txn, statement(backend, &count, pairs())).await?;
    p.mark("count (SELECT … GROUP BY category)");
    let warnings = format!(
        "SELECT tp.id AS id, tp.external_id AS external_id {PAIRS} \
         AND sp.removed_at IS NULL AND tp.manually_modified AND {SOURCE_CHANGED} ORDER BY tp.id"
    );
    run_timed(&txn, statement(backend, &warnings, pairs())).await?;
    p.mark("conflict warnings (SELECT)");
    let now = Utc::now();
    let to_update = format!(
        "sp.removed_at IS NULL AND NOT target_properties.manually_modified \
         AND ({TARGET_CHANGED} OR target_properties.removed_at IS NOT NULL)"
    );
    let mut values: Vec<Value> = vec!["sync".into(), now.into()];
    values.extend(join());
    run_timed(&txn, statement(backend, &format!(
        "INSERT INTO target_snapshots (tenant_id, target_property_id, data, content_hash, reason, created_at) \
         SELECT target_properties.tenant_id, target_properties.id, target_properties.data, \
                target_properties.content_hash, ?, ? \
         FROM target_properties, source_properties sp \
         WHERE sp.tenant_id = target_properties.tenant_id AND sp.source_id = ? \
           AND sp.external_id = target_properties.external_id \
           AND target_properties.tenant_id = ? AND target_properties.target_id = ? AND {to_update}"
    ), values)).await?;
    p.mark("snapshot changed (INSERT … SELECT)");
    let mut values: Vec<Value> = vec![now.into(), now.into()];
    values.extend(join());
    run_timed(
        &txn,
        statement(
            backend,
            &format!(
                "UPDATE target_properties SET data = sp.data, content_hash = sp.content_hash, \
           base_hash = sp.content_hash, source_property_id = sp.id, removed_at = NULL, \
           last_synced_at = ?, updated_at = ? \
         {UPDATE_JOIN} AND {to_update}"
            ),
            values,
        ),
    )
    .await?;
    p.mark("update changed (UPDATE … FROM)");
    run_timed(&txn, statement(backend,
        "INSERT INTO target_properties (tenant_id, target_id, source_property_id, external_id, data, \
           content_hash, base_hash, manually_modified, conflict, last_synced_at, created_at, updated_at) \
         SELECT sp.tenant_id, ?, sp.id, sp.external_id, sp.data, sp.content_hash, sp.content_hash, \
           ?, ?, ?, ?, ? \
         FROM source_properties sp \
         WHERE sp.tenant_id = ? AND sp.source_id = ? AND sp.removed_at IS NULL \
           ON CONFLICT (tenant_id, target_id, external_id) DO NOTHING",
        vec![target.into(), false.into(), false.into(), now.into(), now.into(), now.into(), tenant.into(), source.into()],
    )).await?;
    p.mark("create missing (INSERT … SELECT … ON CONFLICT DO NOTHING)");
    let mut values: Vec<Value> = vec![true.into(), now.into()];
    values.extend(join());
    run_timed(&txn, statement(
        backend,
        &format!(
            "UPDATE target_properties SET conflict = ?, source_property_id = sp.id, updated_at = ? \
         {UPDATE_JOIN} AND sp.removed_at IS NULL AND target_properties.manually_modified \
         AND {TARGET_CHANGED} AND NOT target_properties.conflict"
        ),
        values,
    ))
    .await?;
    p.mark("flag conflicts (UPDATE … FROM)");
    let mut values: Vec<Value> = vec![now.into(), now.into()];
    values.extend(join());
    run_timed(
        &txn,
        statement(
            backend,
            &format!(
                "UPDATE target_properties SET removed_at = ?, updated_at = ? \
         {UPDATE_JOIN} AND sp.removed_at IS NOT NULL AND target_properties.removed_at IS NULL"
            ),
            values,
        ),
    )
    .await?;
    p.mark("mark removed (UPDATE … FROM)");
    let now = Utc::now();
    run_timed(&txn, statement(
        backend,
        "INSERT INTO sync_logs (tenant_id, source_id, target_id, dry_run, created, updated, skipped, conflicts, removed, warnings, actor, started_at, finished_at) \
         VALUES (?, ?, ?, ?, 0, 0, 0, 0, 0, ?, 'cli', ?, ?)",
        vec![tenant.into(), source.into(), target.into(), false.into(), Json::Array(Vec::new()).into(), now.into(), now.into()],
    )).await?;
    p.mark("sync_logs row");
    txn.commit().await?;
    p.mark("commit");
    Ok(p.0)
}

// ---------------------------------------------------------------------------------------------
// Output

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1_000.0
}

fn thousands(x: f64) -> String {
    let digits = format!("{:.0}", x.max(0.0));
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn median(mut runs: Vec<Duration>) -> Duration {
    runs.sort_unstable();
    runs[runs.len() / 2]
}

/// Replaces each step's timings with their medians over `case` and `more` (the splits stay
/// those of the first run).
fn merge(case: &mut Case, more: Vec<Case>) {
    if more.is_empty() {
        return;
    }
    case.runs = 1 + more.len();
    for (i, row) in case.rows.iter_mut().enumerate() {
        let ours = more
            .iter()
            .map(|c| c.rows[i].ours)
            .chain([row.ours])
            .collect();
        let sql = more
            .iter()
            .map(|c| c.rows[i].sql)
            .chain([row.sql])
            .collect();
        row.ours = median(ours);
        row.sql = median(sql);
    }
}

fn table(case: &Case) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "\n{} — N = {}, {} (mean listing {} bytes of JSON; next day: {} changed, {} new, {} gone)\n",
        case.kind.name(),
        thousands(case.n as f64),
        if case.runs == 1 {
            "one run".to_owned()
        } else {
            format!("median of {} runs", case.runs)
        },
        thousands(case.mean_bytes),
        thousands(case.changed as f64),
        thousands(case.new as f64),
        thousands(case.gone as f64),
    );
    let _ = writeln!(
        out,
        "| step                            |  ours (ms) |   SQL (ms) | ours/SQL | listings/s (ours) |"
    );
    let _ = writeln!(
        out,
        "|---------------------------------|-----------:|-----------:|---------:|------------------:|"
    );
    for row in &case.rows {
        let ratio = row.ours.as_secs_f64() / row.sql.as_secs_f64();
        let _ = writeln!(
            out,
            "| {:<31} | {:>10.1} | {:>10.1} | {:>8.2} | {:>17} |",
            row.step,
            ms(row.ours),
            ms(row.sql),
            ratio,
            thousands(row.listings as f64 / row.ours.as_secs_f64()),
        );
    }
    out
}

fn baseline_split(case: &Case) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "\nBaseline split (first run), {} N = {}:",
        case.kind.name(),
        thousands(case.n as f64)
    );
    for row in &case.rows {
        let _ = writeln!(out, "  {}  (total {:.1} ms)", row.step, ms(row.sql));
        if !row.split.hashing.is_zero() {
            let _ = writeln!(
                out,
                "    {:<44} {:>9.1} ms",
                "hashing (content_hash)",
                ms(row.split.hashing)
            );
        }
        let mut seen: Vec<&str> = Vec::new();
        for (what, _) in &row.split.statements {
            if seen.contains(what) {
                continue;
            }
            seen.push(what);
            let runs: Vec<Duration> = row
                .split
                .statements
                .iter()
                .filter(|(w, _)| w == what)
                .map(|(_, d)| *d)
                .collect();
            let total: Duration = runs.iter().sum();
            let max = runs.iter().max().copied().unwrap_or_default();
            let label = if runs.len() > 1 {
                format!("{what} ×{} (max {:.1} ms)", runs.len(), ms(max))
            } else {
                (*what).to_owned()
            };
            let _ = writeln!(out, "    {label:<44} {:>9.1} ms", ms(total));
        }
        let _ = writeln!(out, "    {:<44} {:>9.1} ms", "commit", ms(row.split.commit));
    }
    out
}

fn domain_breakdown(case: &Case) -> String {
    let mut out = String::new();
    if case.breakdown.is_empty() {
        return out;
    }
    let _ = writeln!(
        out,
        "\nDomain replica split (same statements as src/domain, separate database, first run), {} N = {}:",
        case.kind.name(),
        thousands(case.n as f64)
    );
    for (step, phases) in &case.breakdown {
        let total: Duration = phases
            .iter()
            .filter(|(n, _)| !n.starts_with(' '))
            .map(|(_, d)| *d)
            .sum();
        let _ = writeln!(out, "  {step}  (total {:.1} ms)", ms(total));
        for (name, took) in phases {
            let _ = writeln!(out, "    {name:<60} {:>9.1} ms", ms(*took));
        }
    }
    out
}

/// Pure CPU costs of N listings, for the diagnosis: what hashing is made of.
fn cpu_costs(n: usize) -> Res<String> {
    use sha2::{Digest, Sha256};
    let items: Vec<Json> = (0..n as u64).map(listing).collect();
    let clock = Instant::now();
    let mut bytes = 0;
    for item in &items {
        bytes += serde_json::to_vec(item)?.len();
    }
    let serialise = clock.elapsed();
    let clock = Instant::now();
    let mut canonical = Vec::with_capacity(n);
    for item in &items {
        canonical.push(serde_json_canonicalizer::to_vec(item)?);
    }
    let canonicalise = clock.elapsed();
    let clock = Instant::now();
    let mut digests = 0;
    for bytes in &canonical {
        digests += hex::encode(Sha256::digest(bytes)).len();
    }
    let sha = clock.elapsed();
    let clock = Instant::now();
    for item in &items {
        digests += content_hash(item).len();
    }
    let hash = clock.elapsed();
    let clock = Instant::now();
    let cloned = items.clone();
    let clone = clock.elapsed();
    drop(cloned);
    Ok(format!(
        "\nCPU costs for {} listings ({} bytes of JSON, {} hex digits hashed), one core:\n  \
         content_hash            {:>9.1} ms ({:.1} µs a listing)\n  \
         of which JCS (serde_json_canonicalizer::to_vec) {:>9.1} ms\n  \
         of which SHA-256 + hex  {:>9.1} ms\n  \
         serde_json::to_vec      {:>9.1} ms (what binding the data costs)\n  \
         Vec<Value> clone        {:>9.1} ms\n",
        thousands(n as f64),
        thousands(bytes as f64),
        thousands(digests as f64),
        ms(hash),
        hash.as_secs_f64() * 1e6 / n as f64,
        ms(canonicalise),
        ms(sha),
        ms(serialise),
        ms(clone),
    ))
}

#[tokio::main]
async fn main() -> Res<()> {
    let args = parse_args()?;
    println!(
        "sync-manager engine benchmark: sizes {:?}, databases {:?}, {} cores",
        args.sizes,
        args.kinds.iter().map(|k| k.name()).collect::<Vec<_>>(),
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    );
    let mut cases = Vec::new();
    for &kind in &args.kinds {
        for &n in &args.sizes {
            eprintln!("running {} N = {n} …", kind.name());
            let runs = args.repeat.unwrap_or(if n <= 20_000 { 3 } else { 1 });
            let mut case = run_case(kind, n, args.breakdown, args.keep).await?;
            let mut more = Vec::new();
            for _ in 1..runs {
                more.push(run_case(kind, n, false, args.keep).await?);
            }
            merge(&mut case, more);
            print!("{}", table(&case));
            cases.push(case);
        }
    }

    println!(
        "\nTargets (every ratio ≤ {MAX_RATIO:.1}; PostgreSQL first import of 100,000 ≥ {} listings/s):",
        thousands(MIN_PG_FIRST_IMPORT_RATE)
    );
    let mut all_met = true;
    for case in &cases {
        for row in &case.rows {
            let ratio = row.ours.as_secs_f64() / row.sql.as_secs_f64();
            if ratio > MAX_RATIO {
                all_met = false;
                println!(
                    "  MISSED  {} N={} {}: ratio {ratio:.2}",
                    case.kind.name(),
                    case.n,
                    row.step
                );
            }
        }
        if case.kind == Kind::Postgres && case.n == 100_000 {
            let first = &case.rows[0];
            let rate = first.listings as f64 / first.ours.as_secs_f64();
            let verdict = if rate >= MIN_PG_FIRST_IMPORT_RATE {
                "met   "
            } else {
                all_met = false;
                "MISSED"
            };
            println!(
                "  {verdict}  PostgreSQL N=100,000 first import: {} listings/s",
                thousands(rate)
            );
        }
    }
    if all_met {
        println!("  all targets met");
    }

    if args.breakdown {
        for case in &cases {
            print!("{}", baseline_split(case));
            print!("{}", domain_breakdown(case));
        }
        if let Some(&n) = args.sizes.iter().max() {
            print!("{}", cpu_costs(n)?);
        }
        if let Ok(plans) = PLANS.lock() {
            for plan in plans.iter() {
                print!("\n{plan}");
            }
        }
    }
    Ok(())
}
