//! Printing results: a line for people, or one JSON object with `--json` for scripts.

use serde_json::Value;

/// Prints `json` as one line when `as_json`, else the human `text`.
pub fn print(as_json: bool, json: &Value, text: &str) {
    if as_json {
        println!("{json}");
    } else {
        println!("{text}");
    }
}
