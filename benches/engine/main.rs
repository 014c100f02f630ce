//! Benchmark of the import and sync engine against independent set-based SQL.
//!
//! For each database (SQLite in a temporary file, PostgreSQL in a freshly created database)
//! and each size N it runs an operator's two days — first import, unchanged re-import, first
//! sync, next-day `FULL` import (10 % changed, 2 % new, 1 % gone), sync after it — through the
//! domain (`ImportSession`, `sync_source_to_target`) and through each baseline (see
//! [`baseline`]), each in a database of its own, and prints the timings, the ratios and ours
//! in listings/s. After the last step every database must hold the same listings, hashes,
//! removals and snapshot counts, and the domain must have reported the expected counts.
//!
//! ```sh
//! cargo bench --bench engine -- --sizes 10000,100000 --db sqlite,postgres
//! cargo bench --bench engine -- --sizes 1000000 --db postgres     # on demand, ~20 min
//! ```
//!
//! PostgreSQL: `BENCH_POSTGRES_URL` (default `postgres://postgres@127.0.0.1:5432/postgres`)
//! names a server where the user may create databases; every database the run creates is
//! dropped afterwards (SQLite files are deleted). `--help` lists the options.
//!
//! Run without `--bench` (as `cargo test` runs it), it is a smoke test instead: 300 listings
//! on SQLite, and on PostgreSQL when `TEST_DATABASE_URL` is set, with every check above.

mod args;
mod baseline;
mod check;
mod databases;
mod ours;
mod report;
mod steps;
mod words;
mod workload;

use std::time::Duration;

use clap::Parser;

use args::{Args, Baseline, Kind};
use check::State;
use databases::{BenchDb, Env, Settings};
use report::{Case, Timings, thousands};
use steps::Step;
use sync_manager::db::SessionLimits;
use workload::Workload;

/// The benchmark's error: anything, reported once by `main`.
type Res<T> = Result<T, Box<dyn std::error::Error>>;

/// Listings whose JSON size is averaged for the tables.
const SIZE_SAMPLE: usize = 10_000;

#[tokio::main]
async fn main() -> Res<()> {
    if !std::env::args().any(|arg| arg == "--bench") {
        return smoke().await;
    }
    let args = Args::parse();
    let settings = Settings {
        stats: args.stats,
        pg_set: args.pg_set.clone(),
        keep: args.keep,
        baselines: args.baselines.clone(),
        limits: SessionLimits {
            statement_timeout_ms: args.statement_timeout_ms,
            ..SessionLimits::default()
        },
        admin_url: databases::admin_url(),
    };
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "sync-manager engine benchmark: sizes {:?}, databases {:?}, {} listings a part, {cores} cores",
        args.sizes, args.db, args.part
    );
    let mut cases = Vec::new();
    for &kind in &args.db {
        for &n in &args.sizes {
            let work = Workload::new(n, args.part);
            let mut runs = Vec::new();
            for run in 1..=args.runs(n) {
                eprintln!("running {} N = {n}, run {run} …", kind.name());
                runs.push(run_case(kind, &work, &settings).await?);
            }
            let case = Case::new(kind, work, work.mean_bytes(SIZE_SAMPLE), &runs);
            print!("{}", report::table(&case));
            cases.push(case);
        }
    }
    print!("{}", report::linearity(&cases));
    Ok(())
}

/// The `cargo test` run: a small workload through every check, nothing timed.
async fn smoke() -> Res<()> {
    let test_url = std::env::var("TEST_DATABASE_URL").ok();
    let mut kinds = vec![Kind::Sqlite];
    kinds.extend(test_url.iter().map(|_| Kind::Postgres));
    let settings = Settings {
        stats: args::Stats::Auto,
        pg_set: Vec::new(),
        keep: false,
        baselines: vec![Baseline::Insert, Baseline::Copy],
        limits: SessionLimits::default(),
        admin_url: test_url.unwrap_or_else(databases::admin_url),
    };
    for kind in kinds {
        run_case(kind, &Workload::new(300, 128), &settings).await?;
        println!("engine benchmark smoke test on {}: ok", kind.name());
    }
    Ok(())
}

/// The contenders of a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Contender {
    Ours,
    Insert,
    Copy,
}

impl Contender {
    fn label(self) -> &'static str {
        match self {
            Self::Ours => "ours",
            Self::Insert => "insert",
            Self::Copy => "copy",
        }
    }
}

/// One run of the five steps in fresh databases, which are removed afterwards.
async fn run_case(kind: Kind, work: &Workload, settings: &Settings) -> Res<Vec<Timings>> {
    let mut contenders = vec![Contender::Ours];
    if settings.baselines.contains(&Baseline::Insert) {
        contenders.push(Contender::Insert);
    }
    if kind == Kind::Postgres && settings.baselines.contains(&Baseline::Copy) {
        contenders.push(Contender::Copy);
    }
    let mut dbs = Vec::new();
    let mut result = Ok(Vec::new());
    for contender in &contenders {
        match BenchDb::create(kind, contender.label(), settings).await {
            Ok(db) => dbs.push(db),
            Err(e) => {
                result = Err(e);
                break;
            }
        }
    }
    if result.is_ok() {
        result = run_steps(kind, work, settings, &contenders, &dbs).await;
    }
    for db in dbs {
        db.remove(settings.keep).await;
    }
    result
}

async fn run_steps(
    kind: Kind,
    work: &Workload,
    settings: &Settings,
    contenders: &[Contender],
    dbs: &[BenchDb],
) -> Res<Vec<Timings>> {
    let mut envs = Vec::new();
    for db in dbs {
        envs.push(Env::setup(&db.url, settings.stats, &settings.limits).await?);
    }
    let mut timings = Vec::new();
    for step in Step::ALL {
        let mut t = Timings {
            ours: Default::default(),
            insert: None,
            copy: None,
        };
        for (contender, env) in contenders.iter().zip(&envs) {
            env.settle().await?;
            match contender {
                Contender::Ours => {
                    let (took, counts) = ours::run(env, work, step).await?;
                    let want = ours::expected(step, work).map(|c| c as i32);
                    if counts != want {
                        let step = step.label();
                        return Err(format!(
                            "{step}: the domain reported {counts:?}, not {want:?}"
                        )
                        .into());
                    }
                    t.ours = took;
                }
                Contender::Insert => {
                    t.insert = Some(baseline::insert::run(env, work, step).await?);
                }
                Contender::Copy => t.copy = Some(baseline::copy::run(env, work, step).await?),
            }
        }
        progress(kind, work.n, step, &t);
        timings.push(t);
    }
    let ours = State::of(&envs[0]).await?;
    for (contender, env) in contenders.iter().zip(&envs).skip(1) {
        let theirs = State::of(env).await?;
        if theirs != ours {
            return Err(format!(
                "{} N={}: the domain and the {} baseline ended in different states:\n  ours:   {ours:?}\n  theirs: {theirs:?}",
                kind.name(),
                work.n,
                contender.label()
            )
            .into());
        }
    }
    for env in envs {
        env.db.close().await?;
    }
    Ok(timings)
}

/// One line on stderr per finished step, so a long run shows where it is.
fn progress(kind: Kind, n: usize, step: Step, t: &Timings) {
    let of = |name: &str, d: Option<Duration>| {
        d.map_or(String::new(), |d| {
            format!(", {name} {:.1} ms", d.as_secs_f64() * 1e3)
        })
    };
    eprintln!(
        "  {} N={} {}: ours {:.1} ms{}{}",
        kind.name(),
        thousands(n as f64),
        step.label(),
        t.ours.as_secs_f64() * 1e3,
        of("INSERT", t.insert),
        of("COPY", t.copy),
    );
}
