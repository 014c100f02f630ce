//! Progress of `migrate-json`: bars on a terminal, plain lines otherwise.
//!
//! On a terminal two bars are drawn on stderr (indicatif): the whole migration, by bytes read,
//! with its ETA, and the current file with its listings, their rate and its own ETA. Bytes
//! measure progress because a streamed file's listing count is known only at its end. When
//! stdout is not a terminal (cron, a pipe, a log file) the same news comes as plain lines:
//! one as each file starts and ends, and one every few seconds in between.

use std::io::Write;
use std::time::{Duration, Instant};

use indicatif::{
    HumanBytes, HumanCount, MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle,
};

use crate::cli::discover::FoundFile;
use crate::domain::import::ImportCounts;

/// How often a plain progress line is written during a long file.
const LINE_EVERY: Duration = Duration::from_secs(5);

/// Where progress goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ProgressMode {
    /// Bars on stderr.
    Bars,
    /// Plain lines on stdout.
    Lines,
    /// Plain lines on stderr (stdout is kept for the `--json` report).
    LinesToStderr,
}

impl ProgressMode {
    /// Bars when stdout and stderr are terminals; else lines, on stderr under `--json`.
    pub fn detect(json: bool) -> Self {
        use std::io::IsTerminal;
        if std::io::stdout().is_terminal() && std::io::stderr().is_terminal() {
            Self::Bars
        } else if json {
            Self::LinesToStderr
        } else {
            Self::Lines
        }
    }

    /// Writes one line where this mode's text goes (stdout, or stderr under `--json`). A
    /// closed pipe (`| head`) does not stop the migration.
    pub fn say(self, line: &str) {
        let _ = if self == Self::LinesToStderr {
            writeln!(std::io::stderr(), "{line}")
        } else {
            writeln!(std::io::stdout(), "{line}")
        };
    }
}

/// What progress shows for the file being imported.
struct CurrentFile {
    number: usize,
    name: String,
    bytes: u64,
    started: Instant,
}

/// The progress display of one migration.
pub(crate) struct Progress {
    mode: ProgressMode,
    bars: Option<Bars>,
    files: usize,
    total_bytes: u64,
    /// Bytes of the files already done.
    done_bytes: u64,
    /// Listings of the files already done.
    done_listings: usize,
    current: Option<CurrentFile>,
    last_line: Instant,
}

struct Bars {
    multi: MultiProgress,
    overall: ProgressBar,
    file: ProgressBar,
}

impl Progress {
    /// Progress over `files`, shown as `mode` says.
    pub fn new(files: &[FoundFile], mode: ProgressMode) -> Self {
        let total_bytes: u64 = files.iter().map(|f| f.bytes).sum();
        let bars = (mode == ProgressMode::Bars).then(|| {
            let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
            let overall = multi.add(ProgressBar::new(total_bytes.max(1)).with_style(style(
                "{prefix:.bold} [{elapsed_precise}] {bar:30.cyan/blue} {percent:>3}% · ETA {eta:>3} · {wide_msg}",
            )));
            let file = multi.add(ProgressBar::new(1).with_style(style(
                "  {bytes:>10}/{total_bytes:<10} · ETA {eta:>3} · {wide_msg}",
            )));
            overall.enable_steady_tick(Duration::from_millis(200));
            Bars {
                multi,
                overall,
                file,
            }
        });
        Self {
            mode,
            bars,
            files: files.len(),
            total_bytes,
            done_bytes: 0,
            done_listings: 0,
            current: None,
            last_line: Instant::now(),
        }
    }

    /// A file starts (`number` counts from 1).
    pub fn start_file(&mut self, number: usize, file: &FoundFile) {
        let current = CurrentFile {
            number,
            name: file.name(),
            bytes: file.bytes,
            started: Instant::now(),
        };
        match &self.bars {
            Some(bars) => {
                bars.overall
                    .set_prefix(format!("file {number}/{}", self.files));
                bars.file.reset();
                bars.file.set_length(file.bytes.max(1));
                bars.file
                    .set_message(format!("0 listings · {}", current.name));
            }
            None => self.mode.say(&format!(
                "[{number}/{}] {} ({}, {})",
                self.files,
                current.name,
                file.format.as_str(),
                HumanBytes(file.bytes)
            )),
        }
        self.last_line = Instant::now();
        self.current = Some(current);
    }

    /// The current file has had `bytes_read` bytes read and `listings` listings imported.
    pub fn update(&mut self, bytes_read: u64, listings: usize, counts: ImportCounts) {
        let Some(current) = &self.current else {
            return;
        };
        let bytes_read = bytes_read.min(current.bytes);
        let elapsed = current.started.elapsed().as_secs_f64();
        let rate = if elapsed > 0.0 {
            (listings as f64 / elapsed) as u64
        } else {
            0
        };
        match &self.bars {
            Some(bars) => {
                bars.file.set_position(bytes_read);
                bars.file.set_message(format!(
                    "{} listings · {}/s · {} new, {} changed, {} unchanged · {}",
                    HumanCount(listings as u64),
                    HumanCount(rate),
                    HumanCount(counts.created as u64),
                    HumanCount(counts.updated as u64),
                    HumanCount(counts.unchanged as u64),
                    current.name,
                ));
                bars.overall.set_position(self.done_bytes + bytes_read);
                bars.overall.set_message(format!(
                    "{} listings in all",
                    HumanCount((self.done_listings + listings) as u64)
                ));
            }
            None if self.last_line.elapsed() >= LINE_EVERY => {
                self.last_line = Instant::now();
                let percent = bytes_read * 100 / current.bytes.max(1);
                let eta = if bytes_read > 0 {
                    let left = (current.bytes - bytes_read) as f64 / bytes_read as f64;
                    format!(", ETA {}s", (elapsed * left).ceil() as u64)
                } else {
                    String::new()
                };
                self.mode.say(&format!(
                    "[{}/{}] {}: {} listings, {percent}% of {}, {}/s{eta}",
                    current.number,
                    self.files,
                    current.name,
                    HumanCount(listings as u64),
                    HumanBytes(current.bytes),
                    HumanCount(rate)
                ));
            }
            None => {}
        }
    }

    /// The current file is done, after `listings` listings; `outcome` says how it went.
    pub fn end_file(&mut self, listings: usize, outcome: &str) {
        let Some(current) = self.current.take() else {
            return;
        };
        self.done_bytes += current.bytes;
        self.done_listings += listings;
        let line = format!("[{}/{}] {outcome}", current.number, self.files);
        match &self.bars {
            Some(bars) => {
                bars.overall
                    .set_position(self.done_bytes.min(self.total_bytes));
                // A line printed above the bars; a closed terminal is not worth failing for.
                let _ = bars.multi.println(line);
            }
            None => self.mode.say(&line),
        }
    }

    /// Removes the bars, so the summary prints below clean output.
    pub fn finish(self) {
        if let Some(bars) = self.bars {
            bars.file.finish_and_clear();
            bars.overall.finish_and_clear();
            let _ = bars.multi.clear();
        }
        let _ = std::io::stdout().flush();
    }
}

fn style(template: &str) -> ProgressStyle {
    ProgressStyle::with_template(template)
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ")
}
