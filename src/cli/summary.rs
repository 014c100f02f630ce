//! What `migrate-json` prints: the files it found, a line per file as it ends, and at the end
//! a table per file with totals (or, with `--json`, one report object).

use std::time::Duration;

use indicatif::HumanBytes;
use serde_json::{Value, json};

use crate::cli::discover::FoundFile;
use crate::cli::migrate::{FileReport, FileStatus, error_json};
use crate::cli::progress::ProgressMode;
use crate::domain::import::ImportMode;
use crate::entity::source;
use crate::ids::{ImportRunId, SourceId};

/// Totals over the files of a migration.
#[derive(Debug, Default)]
pub(crate) struct Summary {
    /// Files imported whole.
    pub imported_files: usize,
    /// Files that failed (nothing of them imported).
    pub failed_files: usize,
    /// Files not reached.
    pub skipped_files: usize,
    /// Listings of the imported files.
    pub listings: usize,
    /// Listings created.
    pub created: usize,
    /// Listings updated.
    pub updated: usize,
    /// Listings left unchanged.
    pub unchanged: usize,
    /// Listings marked removed (`--mode full`).
    pub removed: usize,
    /// Listings read from failed files, none of them imported.
    pub failed: usize,
    /// A dry run.
    pub dry_run: bool,
    /// How long the whole migration took.
    pub duration: Duration,
}

impl Summary {
    /// Adds up `reports`.
    pub fn new(reports: &[FileReport], dry_run: bool, duration: Duration) -> Self {
        let mut summary = Self {
            dry_run,
            duration,
            ..Self::default()
        };
        for report in reports {
            match report.status {
                FileStatus::Imported => summary.imported_files += 1,
                FileStatus::Failed => summary.failed_files += 1,
                FileStatus::Skipped => summary.skipped_files += 1,
            }
            let [created, updated, unchanged, removed] = counts(report);
            summary.created += created;
            summary.updated += updated;
            summary.unchanged += unchanged;
            summary.removed += removed;
            summary.failed += failed(report);
            if report.status == FileStatus::Imported {
                summary.listings += report.listings;
            }
        }
        summary
    }

    /// Whether the migration changed (or, dry, would change) any listing.
    pub fn changed(&self) -> bool {
        self.created + self.updated + self.removed > 0
    }

    /// Prints the table per file, the errors, and a closing sentence.
    pub fn print_table(&self, reports: &[FileReport], mode: ImportMode, out: ProgressMode) {
        if reports.is_empty() {
            return;
        }
        out.say("");
        print_aligned(&self.table_rows(reports, mode == ImportMode::Full), out);
        out.say("");
        for report in reports {
            if let Some(error) = &report.error {
                out.say(&format!(
                    "failed: {}: {error} (nothing of the file was imported)",
                    report.file.name()
                ));
            }
        }
        out.say(&self.closing_sentence(reports.len()));
    }

    /// The table's cells: a header, a row per file, and the totals; a `removed` column only
    /// in a full import.
    fn table_rows(&self, reports: &[FileReport], full: bool) -> Vec<Vec<String>> {
        let header = [
            "file",
            "status",
            "listings",
            "created",
            "updated",
            "unchanged",
        ];
        let mut rows = vec![table_row(
            header.map(str::to_owned),
            "removed".to_owned(),
            "failed".to_owned(),
            full,
        )];
        for report in reports {
            let [created, updated, unchanged, removed] = counts(report);
            let cells = [
                report.file.name(),
                status(report, self.dry_run).to_owned(),
                report.listings.to_string(),
                created.to_string(),
                updated.to_string(),
                unchanged.to_string(),
            ];
            let failed = failed(report).to_string();
            rows.push(table_row(cells, removed.to_string(), failed, full));
        }
        let total = [
            format!("total ({})", files_count(reports.len())),
            format!("{} ok", self.imported_files),
            (self.listings + self.failed).to_string(),
            self.created.to_string(),
            self.updated.to_string(),
            self.unchanged.to_string(),
        ];
        let (removed, failed) = (self.removed.to_string(), self.failed.to_string());
        rows.push(table_row(total, removed, failed, full));
        rows
    }

    fn closing_sentence(&self, files: usize) -> String {
        let took = took(self.duration);
        let counts = format!(
            "{} created, {} updated, {} unchanged{}",
            self.created,
            self.updated,
            self.unchanged,
            if self.removed > 0 {
                format!(", {} removed", self.removed)
            } else {
                String::new()
            }
        );
        let mut text = match (self.dry_run, self.changed()) {
            (true, true) => format!(
                "dry run, nothing was written: importing {} would leave {counts}",
                listings(self.listings)
            ),
            (true, false) => format!(
                "dry run, nothing was written: nothing would change, all {} listings are up to date",
                self.listings
            ),
            (false, true) => format!(
                "imported {} from {} in {took}: {counts}",
                listings(self.listings),
                files_count(self.imported_files)
            ),
            (false, false) => format!(
                "nothing changed: all {} listings were already up to date ({took})",
                self.listings
            ),
        };
        if self.failed_files > 0 {
            text.push_str(&format!("; {} of {files} files failed", self.failed_files));
        }
        if self.skipped_files > 0 {
            text.push_str(&format!(
                "; {} not reached",
                files_count(self.skipped_files)
            ));
        }
        text
    }

    /// The `--json` report: the files in import order with their counts, and the totals.
    pub fn to_json(
        &self,
        reports: &[FileReport],
        source: &source::Model,
        mode: ImportMode,
    ) -> Value {
        let files: Vec<Value> = reports
            .iter()
            .map(|report| {
                let [created, updated, unchanged, removed] = counts(report);
                json!({
                    "path": report.file.name(),
                    "format": report.file.format.as_str(),
                    "bytes": report.file.bytes,
                    "status": match report.status {
                        FileStatus::Imported => "imported",
                        FileStatus::Failed => "failed",
                        FileStatus::Skipped => "skipped",
                    },
                    "importRunId": report.run.as_ref().map(|run| ImportRunId(run.id).to_global()),
                    "listings": report.listings,
                    "created": created,
                    "updated": updated,
                    "unchanged": unchanged,
                    "removed": removed,
                    "failed": failed(report),
                    "durationMs": report.duration.as_millis() as u64,
                    "error": report.error.as_ref().map(error_json),
                })
            })
            .collect();
        json!({
            "sourceId": SourceId(source.id).to_global(),
            "mode": crate::cli::output::import_mode_json(mode),
            "dryRun": self.dry_run,
            "files": files,
            "totals": {
                "files": reports.len(),
                "importedFiles": self.imported_files,
                "failedFiles": self.failed_files,
                "skippedFiles": self.skipped_files,
                "listings": self.listings,
                "created": self.created,
                "updated": self.updated,
                "unchanged": self.unchanged,
                "removed": self.removed,
                "failed": self.failed,
            },
            "changed": self.changed(),
            "durationMs": self.duration.as_millis() as u64,
        })
    }
}

/// Prints the files about to be imported, in order.
pub(crate) fn print_found(files: &[FoundFile], dry_run: bool, out: ProgressMode) {
    if files.is_empty() {
        out.say("no .json, .ndjson or .jsonl files found: nothing to import");
        return;
    }
    let bytes: u64 = files.iter().map(|f| f.bytes).sum();
    out.say(&format!(
        "{} {} ({}):",
        if dry_run { "checking" } else { "importing" },
        files_count(files.len()),
        HumanBytes(bytes)
    ));
    let names: Vec<String> = files.iter().map(FoundFile::name).collect();
    let width = names.iter().map(|n| n.chars().count()).max().unwrap_or(0);
    for (file, name) in files.iter().zip(&names) {
        out.say(&format!(
            "  {name:<width$}  {:<6}  {:>10}",
            file.format.as_str(),
            HumanBytes(file.bytes).to_string()
        ));
    }
}

/// One line on how a file went, as it ends.
pub(crate) fn file_outcome(report: &FileReport) -> String {
    let name = report.file.name();
    match (&report.error, &report.run) {
        (Some(error), _) => format!("{name}: failed, nothing of it was imported: {error}"),
        (None, Some(run)) => format!(
            "{name}: {} {}: {} created, {} updated, {} unchanged{} ({})",
            if run.dry_run { "checked" } else { "imported" },
            listings(report.listings),
            run.created,
            run.updated,
            run.unchanged,
            if run.removed > 0 {
                format!(", {} removed", run.removed)
            } else {
                String::new()
            },
            took(report.duration)
        ),
        (None, None) => format!("{name}: not imported"),
    }
}

/// `[created, updated, unchanged, removed]` of a file: zeros unless it was imported.
fn counts(report: &FileReport) -> [usize; 4] {
    match &report.run {
        Some(run) => [run.created, run.updated, run.unchanged, run.removed]
            .map(|n| usize::try_from(n).unwrap_or(0)),
        None => [0; 4],
    }
}

/// Listings of a failed file (none of them imported).
fn failed(report: &FileReport) -> usize {
    if report.status == FileStatus::Failed {
        report.listings
    } else {
        0
    }
}

fn status(report: &FileReport, dry_run: bool) -> &'static str {
    match report.status {
        FileStatus::Imported if dry_run => "checked",
        FileStatus::Imported => "ok",
        FileStatus::Failed => "FAILED",
        FileStatus::Skipped => "skipped",
    }
}

/// `1 listing`, `2 listings`.
pub(crate) fn listings(n: usize) -> String {
    if n == 1 {
        "1 listing".to_owned()
    } else {
        format!("{n} listings")
    }
}

/// `1 file`, `2 files`.
fn files_count(n: usize) -> String {
    if n == 1 {
        "1 file".to_owned()
    } else {
        format!("{n} files")
    }
}

/// A duration as people read it: `340 ms`, `12.5 s`, `3 min 20 s`.
pub(crate) fn took(duration: Duration) -> String {
    let ms = duration.as_millis();
    if ms < 1_000 {
        format!("{ms} ms")
    } else if ms < 60_000 {
        format!("{:.1} s", duration.as_secs_f64())
    } else {
        let secs = duration.as_secs();
        format!("{} min {} s", secs / 60, secs % 60)
    }
}

/// A row of the table: the file, its status and four counts, then `removed` (only in a full
/// import) and `failed`.
fn table_row(cells: [String; 6], removed: String, failed: String, full: bool) -> Vec<String> {
    let mut row = cells.to_vec();
    if full {
        row.push(removed);
    }
    row.push(failed);
    row
}

/// Prints rows as columns: the first two left-aligned, the counts right-aligned.
fn print_aligned(rows: &[Vec<String>], out: ProgressMode) {
    let columns = rows.first().map_or(0, Vec::len);
    let widths: Vec<usize> = (0..columns)
        .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    for row in rows {
        let cells: Vec<String> = row
            .iter()
            .zip(&widths)
            .enumerate()
            .map(|(c, (cell, width))| {
                if c < 2 {
                    format!("{cell:<width$}")
                } else {
                    format!("{cell:>width$}")
                }
            })
            .collect();
        out.say(cells.join("  ").trim_end());
    }
}
