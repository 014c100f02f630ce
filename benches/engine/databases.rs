//! The benchmark's databases: each contender gets a fresh, migrated one, removed afterwards.

use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use sea_orm::{ConnectionTrait, Database, DatabaseConnection, DbBackend};
use serde_json::json;
use sync_manager::db::{self, SessionLimits};
use sync_manager::domain::sources::{NewSource, SourceKind, create_source};
use sync_manager::domain::targets::{ConflictPolicy, NewTarget, TargetKind, create_target};
use sync_manager::domain::tenants::{NewTenant, create_tenant, scope_for_cli};
use sync_manager::store::scope::TenantScope;

use crate::Res;
use crate::args::{Baseline, Kind, Stats};

/// The tables the steps write.
const LISTING_TABLES: [&str; 4] = [
    "source_properties",
    "target_properties",
    "source_snapshots",
    "target_snapshots",
];

/// How the run's databases are made and treated.
#[derive(Clone, Debug)]
pub struct Settings {
    /// PostgreSQL planner statistics (`--stats`).
    pub stats: Stats,
    /// `ALTER DATABASE … SET` pairs (`--pg-set`).
    pub pg_set: Vec<(String, String)>,
    /// Keep the databases.
    pub keep: bool,
    /// The baselines to run (`--baselines`).
    pub baselines: Vec<Baseline>,
    /// The domain's PostgreSQL session limits (`--statement-timeout-ms`).
    pub limits: SessionLimits,
    /// A PostgreSQL server's URL where the user may create databases.
    pub admin_url: String,
}

/// A database created for one contender.
pub struct BenchDb {
    /// Its URL.
    pub url: String,
    sqlite_path: Option<PathBuf>,
    /// PostgreSQL: the server's admin URL and the database's name.
    pg: Option<(String, String)>,
}

fn unique_suffix() -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("{}_{}", std::process::id(), nanos % 1_000_000_000_000)
}

/// `BENCH_POSTGRES_URL`, or the local server.
pub fn admin_url() -> String {
    std::env::var("BENCH_POSTGRES_URL")
        .ok()
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

impl BenchDb {
    /// A new empty database named after `label`.
    pub async fn create(kind: Kind, label: &str, settings: &Settings) -> Res<Self> {
        let name = format!("sm_bench_{label}_{}", unique_suffix());
        if kind == Kind::Sqlite {
            let path = std::env::temp_dir().join(format!("{name}.db"));
            return Ok(Self {
                url: format!("sqlite://{}?mode=rwc", path.display()),
                sqlite_path: Some(path),
                pg: None,
            });
        }
        let admin_url = settings.admin_url.clone();
        let admin = Database::connect(&admin_url)
            .await
            .map_err(|e| format!("cannot reach PostgreSQL at {admin_url}: {e}"))?;
        admin
            .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
            .await?;
        for (setting, value) in &settings.pg_set {
            let sql = format!("ALTER DATABASE \"{name}\" SET {setting} = '{value}'");
            admin.execute_unprepared(&sql).await?;
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

    /// Deletes the file or drops the database; reports but survives failures.
    pub async fn remove(self, keep: bool) {
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
                let sql = format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
                admin.execute_unprepared(&sql).await?;
                admin.close().await
            }
            .await;
            if let Err(e) = dropped {
                eprintln!("warning: could not drop database {name}: {e}");
            }
        }
    }
}

/// A migrated database with a tenant, a source and a target (made through the domain).
pub struct Env {
    /// The connection.
    pub db: DatabaseConnection,
    /// The tenant's scope, for the domain's calls.
    pub scope: TenantScope,
    /// The tenant's, source's and target's ids, for the baselines' SQL.
    pub tenant: i64,
    /// The source.
    pub source: i64,
    /// The target.
    pub target: i64,
    stats: Stats,
}

impl Env {
    /// Migrates the database at `url` and creates the tenant, source and target.
    pub async fn setup(url: &str, stats: Stats, limits: &SessionLimits) -> Res<Self> {
        let db = db::connect_and_migrate_with(url, limits).await?;
        if db.get_database_backend() == DbBackend::Postgres && stats == Stats::None {
            for table in LISTING_TABLES {
                let sql = format!("ALTER TABLE {table} SET (autovacuum_enabled = false)");
                db.execute_unprepared(&sql).await?;
            }
        }
        let tenant = NewTenant {
            name: "Bench Agency".into(),
            slug: Some("bench-agency".into()),
        };
        create_tenant(&db, tenant).await?;
        let scope = scope_for_cli(&db, "bench-agency").await?;
        let source = NewSource {
            name: "Nightly scrape".into(),
            kind: SourceKind::Scraped,
            active: true,
            config: json!({ "id_field": "id" }),
        };
        let source = create_source(&db, &scope, source).await?;
        let target = NewTarget {
            name: "Website".into(),
            kind: TargetKind::Website,
            active: true,
            config: json!({}),
            conflict_policy: ConflictPolicy::Flag,
        };
        let target = create_target(&db, &scope, target).await?;
        Ok(Self {
            tenant: scope.tenant_id().0,
            scope,
            source: source.id,
            target: target.id,
            db,
            stats,
        })
    }

    /// The database's backend.
    pub fn backend(&self) -> DbBackend {
        self.db.get_database_backend()
    }

    /// Untimed, before every timed step, alike for every contender: a checkpoint, so a step
    /// never pays for flushing what its predecessor wrote; with `--stats fresh`, `ANALYZE` too.
    pub async fn settle(&self) -> Res<()> {
        if self.backend() == DbBackend::Postgres {
            if self.stats == Stats::Fresh {
                let sql = format!("ANALYZE {}", LISTING_TABLES.join(", "));
                self.db.execute_unprepared(&sql).await?;
            }
            self.db.execute_unprepared("CHECKPOINT").await?;
        } else {
            let sql = "PRAGMA wal_checkpoint(TRUNCATE)";
            self.db.execute_unprepared(sql).await?;
        }
        Ok(())
    }
}
