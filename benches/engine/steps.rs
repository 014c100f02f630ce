//! The five steps of an operator's two days, and a clock that runs only while a contender
//! works (never while the next part of the workload is being generated).

use std::time::{Duration, Instant};

use crate::workload::{Day, Workload};

/// One step of the benchmark.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// The first day's listings into an empty source (`INCREMENTAL`).
    FirstImport,
    /// The same listings again: nothing changes.
    Reimport,
    /// Every listing into the empty target.
    FirstSync,
    /// The next day's scrape, `FULL`: changed, new and gone listings.
    NextImport,
    /// The next day's changes into the target.
    NextSync,
}

impl Step {
    /// The steps in the order they run.
    pub const ALL: [Self; 5] = [
        Self::FirstImport,
        Self::Reimport,
        Self::FirstSync,
        Self::NextImport,
        Self::NextSync,
    ];

    /// Its name in tables.
    pub fn label(self) -> &'static str {
        match self {
            Self::FirstImport => "1. first import (INCREMENTAL)",
            Self::Reimport => "2. unchanged re-import",
            Self::FirstSync => "3. first sync (empty target)",
            Self::NextImport => "4. next-day import (FULL)",
            Self::NextSync => "5. sync after next-day import",
        }
    }

    /// The scrape an import step reads; `None` for a sync.
    pub fn day(self) -> Option<Day> {
        match self {
            Self::FirstImport | Self::Reimport => Some(Day::First),
            Self::NextImport => Some(Day::Next),
            Self::FirstSync | Self::NextSync => None,
        }
    }

    /// Whether the import is `FULL` (marks what the scrape lacks removed).
    pub fn full(self) -> bool {
        self == Self::NextImport
    }

    /// The listings the step handles (for listings/s).
    pub fn listings(self, work: &Workload) -> usize {
        match self {
            Self::FirstImport | Self::Reimport | Self::FirstSync => work.n,
            Self::NextImport => work.len(Day::Next),
            Self::NextSync => work.n + work.new,
        }
    }
}

/// Sums the time spent inside [`Stopwatch::time`].
#[derive(Debug, Default)]
pub struct Stopwatch(Duration);

impl Stopwatch {
    /// Awaits `work` with the clock running.
    pub async fn time<T>(&mut self, work: impl Future<Output = T>) -> T {
        let clock = Instant::now();
        let out = work.await;
        self.0 += clock.elapsed();
        out
    }

    /// Runs `work` with the clock running.
    pub fn time_sync<T>(&mut self, work: impl FnOnce() -> T) -> T {
        let clock = Instant::now();
        let out = work();
        self.0 += clock.elapsed();
        out
    }

    /// The time so far.
    pub fn total(&self) -> Duration {
        self.0
    }
}
