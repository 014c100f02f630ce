//! The tables the benchmark prints (Markdown, ready for BENCHMARKS.md).

use std::fmt::Write as _;
use std::time::Duration;

use crate::args::Kind;
use crate::steps::Step;
use crate::workload::Workload;

/// One step's times: ours and each baseline's.
#[derive(Clone, Copy, Debug)]
pub struct Timings {
    /// The domain.
    pub ours: Duration,
    /// Baseline (a), multi-row `INSERT` (unless left out).
    pub insert: Option<Duration>,
    /// Baseline (b), `COPY` (PostgreSQL only).
    pub copy: Option<Duration>,
}

/// One database and size: each step's median over the runs.
pub struct Case {
    /// The database.
    pub kind: Kind,
    /// The workload.
    pub work: Workload,
    /// Mean bytes of a listing's JSON.
    pub mean_bytes: f64,
    /// How many runs the medians are of.
    pub runs: usize,
    /// The medians, in step order.
    pub steps: Vec<(Step, Timings)>,
}

fn median(mut runs: Vec<Duration>) -> Duration {
    runs.sort_unstable();
    runs[runs.len() / 2]
}

impl Case {
    /// Each step's median over `runs` (each run a list of timings in step order).
    pub fn new(kind: Kind, work: Workload, mean_bytes: f64, runs: &[Vec<Timings>]) -> Self {
        let steps = Step::ALL
            .iter()
            .enumerate()
            .map(|(i, &step)| {
                let of = |pick: &dyn Fn(&Timings) -> Option<Duration>| {
                    let all: Vec<Duration> = runs.iter().filter_map(|r| pick(&r[i])).collect();
                    (!all.is_empty()).then(|| median(all))
                };
                let timings = Timings {
                    ours: of(&|t| Some(t.ours)).unwrap_or_default(),
                    insert: of(&|t| t.insert),
                    copy: of(&|t| t.copy),
                };
                (step, timings)
            })
            .collect();
        Self {
            kind,
            work,
            mean_bytes,
            runs: runs.len(),
            steps,
        }
    }

    /// Ours in listings per second at `step`.
    pub fn rate(&self, step: Step, ours: Duration) -> f64 {
        step.listings(&self.work) as f64 / ours.as_secs_f64()
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1_000.0
}

/// `1234567.8` as `1,234,568`.
pub fn thousands(x: f64) -> String {
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

fn ratio(ours: Duration, other: Option<Duration>) -> String {
    other.map_or("—".to_owned(), |o| {
        format!("{:.2}", ours.as_secs_f64() / o.as_secs_f64())
    })
}

/// The table of one case.
pub fn table(case: &Case) -> String {
    let work = &case.work;
    let runs = match case.runs {
        1 => "one run".to_owned(),
        n => format!("median of {n} runs"),
    };
    let mut out = format!(
        "\n{} — N = {}, {runs} (mean listing {} bytes of JSON; next day: {} changed, {} new, \
         {} gone)\n\n",
        case.kind.name(),
        thousands(work.n as f64),
        thousands(case.mean_bytes),
        thousands(work.changed as f64),
        thousands(work.new as f64),
        thousands(work.gone as f64),
    );
    out.push_str(
        "| step                          |  ours (ms) | INSERT (ms) |  COPY (ms) | ours/INSERT \
         | ours/COPY | listings/s (ours) |\n\
         |-------------------------------|-----------:|------------:|-----------:|------------:\
         |----------:|------------------:|\n",
    );
    for (step, t) in &case.steps {
        let copy = t.copy.map_or("—".to_owned(), |c| format!("{:.1}", ms(c)));
        let insert = t.insert.map_or("—".to_owned(), |c| format!("{:.1}", ms(c)));
        let _ = writeln!(
            out,
            "| {:<29} | {:>10.1} | {insert:>11} | {copy:>10} | {:>11} | {:>9} | {:>17} |",
            step.label(),
            ms(t.ours),
            ratio(t.ours, t.insert),
            ratio(t.ours, t.copy),
            thousands(case.rate(*step, t.ours)),
        );
    }
    out
}

/// Ours in listings/s per step across the sizes of each database, and how far apart.
pub fn linearity(cases: &[Case]) -> String {
    let mut out = String::new();
    for kind in [Kind::Sqlite, Kind::Postgres] {
        let of_kind: Vec<&Case> = cases.iter().filter(|c| c.kind == kind).collect();
        if of_kind.len() < 2 {
            continue;
        }
        let _ = write!(
            out,
            "\n{} — ours in listings/s by size\n\n| step |",
            kind.name()
        );
        for case in &of_kind {
            let _ = write!(out, " N = {} |", thousands(case.work.n as f64));
        }
        out.push_str(" max/min |\n|---|");
        out.push_str(&"---:|".repeat(of_kind.len() + 1));
        out.push('\n');
        for (i, step) in Step::ALL.iter().enumerate() {
            let rates: Vec<f64> = of_kind
                .iter()
                .map(|c| c.rate(*step, c.steps[i].1.ours))
                .collect();
            let _ = write!(out, "| {} |", step.label());
            for rate in &rates {
                let _ = write!(out, " {} |", thousands(*rate));
            }
            let max = rates.iter().copied().fold(f64::MIN, f64::max);
            let min = rates.iter().copied().fold(f64::MAX, f64::min);
            let _ = writeln!(out, " {:.2} |", max / min);
        }
    }
    out
}
