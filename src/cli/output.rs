//! Printing results: a line for people, or one JSON object with `--json` for scripts.

use serde_json::Value;

/// Prints `json` as one line when `as_json`, else the human `text`. A closed stdout (`| head`)
/// is not an error worth a panic.
pub fn print(as_json: bool, json: &Value, text: &str) {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    let _ = if as_json {
        writeln!(out, "{json}")
    } else {
        writeln!(out, "{text}")
    };
}
