//! `schema.graphql` is exactly the SDL the server serves, and exactly what a graphql-js client
//! makes of the server's introspection (`printSchema(buildClientSchema(…))`).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::{Value, json};

use crate::common::TestApp;

fn schema_file() -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql");
    std::fs::read_to_string(path).unwrap_or_default()
}

fn edge_cases() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/graphql-js/edge-cases/fixture.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[tokio::test]
async fn schema_file_matches_the_served_schema() {
    let served = sync_manager::graphql::schema_sdl()
        .await
        .expect("the schema prints");
    assert!(
        schema_file() == served,
        "schema.graphql differs from the served schema; run `cargo run -- export-schema -o schema.graphql`"
    );
}

#[test]
fn the_printer_prints_edge_cases_as_graphql_js_does() {
    // What graphql-js printed for tests/graphql-js/edge-cases/schema.graphql: deprecations,
    // described arguments, coerced default values, block strings, @oneOf, @specifiedBy,
    // custom directives and root names.
    let fixture = edge_cases();
    let printed = sync_manager::graphql::sdl::print_introspection(fixture["introspection"].clone())
        .expect("the edge cases print");
    assert_eq!(printed, fixture["sdl"].as_str().unwrap());
}

/// The folder with `print-schema.mjs` and graphql-js installed (`npm ci`), from
/// `GRAPHQL_JS_DIR`; `None` (and a note on stderr) when it is not set.
fn graphql_js() -> Option<PathBuf> {
    match std::env::var_os("GRAPHQL_JS_DIR") {
        Some(dir) if !dir.is_empty() => Some(PathBuf::from(dir)),
        _ => {
            eprintln!(
                "skipped: GRAPHQL_JS_DIR is not set. To compare schema.graphql with graphql-js, \
                 run `npm ci` in tests/graphql-js and set GRAPHQL_JS_DIR=$PWD/tests/graphql-js"
            );
            None
        }
    }
}

/// Runs `node print-schema.mjs <command>` in `dir` with `input` on stdin; returns stdout.
fn node(dir: &Path, command: &str, input: &str) -> String {
    let mut child = Command::new("node")
        .arg(dir.join("print-schema.mjs"))
        .arg(command)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("node runs (GRAPHQL_JS_DIR is set, so node and graphql-js must be there)");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "node print-schema.mjs {command} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// The query without comments and with all whitespace runs as one space.
fn normalized(query: &str) -> String {
    query
        .lines()
        .filter(|line| !line.trim_start().starts_with('#'))
        .flat_map(str::split_whitespace)
        .collect::<Vec<_>>()
        .join(" ")
}

#[tokio::test]
async fn schema_file_is_what_graphql_js_makes_of_the_introspection() {
    let Some(dir) = graphql_js() else {
        return;
    };
    // The query a graphql-js client sends, over HTTP to a running server.
    let query = node(&dir, "query", "");
    let app = TestApp::spawn().await;
    let (_, key) = app.create_tenant("Acme").await;
    let answer = app.graphql(&key, &query, json!({})).await;
    assert!(answer.get("errors").is_none(), "{answer}");
    let printed = node(&dir, "print", &answer.to_string());
    assert!(
        printed == schema_file(),
        "schema.graphql differs from what graphql-js prints of the served introspection; \
         run `cargo run -- export-schema -o schema.graphql`, and if it still differs, \
         compare with `node tests/graphql-js/print-schema.mjs print`"
    );
    // The printer's own query is that query, and its edge cases are what graphql-js prints.
    assert_eq!(
        normalized(sync_manager::graphql::sdl::INTROSPECTION_QUERY),
        normalized(&query)
    );
    let edge_cases_sdl = std::fs::read_to_string(dir.join("edge-cases/schema.graphql")).unwrap();
    let fixture: Value = serde_json::from_str(&node(&dir, "fixture", &edge_cases_sdl)).unwrap();
    assert!(
        fixture == edge_cases(),
        "tests/graphql-js/edge-cases/fixture.json is stale: regenerate it (see its schema.graphql)"
    );
}

/// The definitions of an SDL text whose first line starts with one of `starts`, each without
/// its descriptions (block strings and one-line strings) and blank lines, so that a snapshot
/// of the contract changes with names and types only.
fn definitions(sdl: &str, starts: &[&str]) -> Vec<String> {
    let mut kept = Vec::new();
    let mut current: Option<Vec<&str>> = None;
    let mut inside = false;
    for line in sdl.lines() {
        let text = line.trim();
        if inside {
            inside = !text.ends_with(r#"""""#);
            continue;
        }
        if let Some(rest) = text.strip_prefix(r#"""""#) {
            inside = !rest.ends_with(r#"""""#);
            continue;
        }
        if text.is_empty() || (text.len() >= 2 && text.starts_with('"') && text.ends_with('"')) {
            continue;
        }
        if !line.starts_with(' ') && line != "}" {
            // A definition starts at the left margin.
            if let Some(lines) = current.take() {
                kept.push(lines.join("\n"));
            }
            if starts.iter().any(|start| line.starts_with(start)) {
                current = Some(Vec::new());
            }
        }
        if let Some(lines) = current.as_mut() {
            lines.push(line);
        }
    }
    kept.extend(current.map(|lines| lines.join("\n")));
    kept
}

#[tokio::test]
async fn the_contract_the_server_serves_is_the_snapshot() {
    // What a client gets from the running router by introspection, printed as SDL; then only
    // what a client writes by name (the root fields, the enums, the input objects), without
    // descriptions: a change to the contract shows here as a short diff to review, while
    // `schema.graphql` (checked above) holds everything.
    let app = TestApp::spawn().await;
    let (_, key) = app.create_tenant("Acme").await;
    let answer = app
        .data(
            &key,
            sync_manager::graphql::sdl::INTROSPECTION_QUERY,
            json!({}),
        )
        .await;
    let sdl = sync_manager::graphql::sdl::print_introspection(answer).expect("the answer prints");
    let contract = definitions(
        &sdl,
        &[
            "type Query ",
            "type Mutation ",
            "type Subscription ",
            "enum ",
            "input ",
        ],
    );
    insta::assert_snapshot!("served_contract", contract.join("\n\n"));
}
