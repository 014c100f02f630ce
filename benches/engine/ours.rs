//! Ours: the domain's public functions, as the CLI and GraphQL call them.

use std::time::Duration;

use sync_manager::domain::audit::Actor;
use sync_manager::domain::import::{ImportMode, ImportOptions, ImportSession};
use sync_manager::domain::sync::{SyncOptions, sync_source_to_target};
use sync_manager::ids::{SourceId, TargetId};

use crate::Res;
use crate::databases::Env;
use crate::steps::{Step, Stopwatch};
use crate::workload::Workload;

/// What the domain reported: created, updated, unchanged (or skipped), conflicts, removed.
pub type Counts = [i32; 5];

fn label(i: usize) -> String {
    format!("items[{i}]")
}

/// Runs `step` through the domain: an import streams the scrape into one `ImportSession`
/// part by part (as `sync-manager import` does), a sync is one `sync_source_to_target`.
pub async fn run(env: &Env, work: &Workload, step: Step) -> Res<(Duration, Counts)> {
    let mut clock = Stopwatch::default();
    let Some(day) = step.day() else {
        let options = SyncOptions {
            allow_mass_removal: true,
            ..SyncOptions::new(Actor::Cli)
        };
        let (source, target) = (SourceId(env.source), TargetId(env.target));
        let sync = sync_source_to_target(&env.db, &env.scope, source, target, options);
        let log = clock.time(sync).await?;
        let counts = [
            log.created,
            log.updated,
            log.skipped,
            log.conflicts,
            log.removed,
        ];
        return Ok((clock.total(), counts));
    };
    let options = ImportOptions {
        mode: if step.full() {
            ImportMode::Full
        } else {
            ImportMode::Incremental
        },
        dry_run: false,
        allow_mass_removal: true,
        actor: Actor::Cli,
    };
    let begin = ImportSession::begin(&env.db, &env.scope, SourceId(env.source), options);
    let mut session = clock.time(begin).await?;
    for part in work.parts(day) {
        clock.time(session.add(part, &label)).await?;
    }
    let run = clock.time(session.finish()).await?;
    let counts = [run.created, run.updated, run.unchanged, 0, run.removed];
    Ok((clock.total(), counts))
}

/// The counts the domain must report for `step`.
pub fn expected(step: Step, work: &Workload) -> [usize; 5] {
    let (n, changed, gone, new) = (work.n, work.changed, work.gone, work.new);
    match step {
        Step::FirstImport | Step::FirstSync => [n, 0, 0, 0, 0],
        Step::Reimport => [0, 0, n, 0, 0],
        Step::NextImport | Step::NextSync => [new, changed, n - changed - gone, 0, gone],
    }
}
