//! `sync-manager import` streaming its files into one import: items named across files, a
//! `.json` file read as one document, standard input and extension-less files told apart by
//! content, and a bad item or file anywhere writing nothing.

use std::io::Write as _;
use std::process::{Output, Stdio};

use serde_json::json;

use super::Cli;

/// A database with tenant `acme` and source `Feed`.
async fn acme() -> Cli {
    let cli = Cli::new().await;
    cli.json(&["create-tenant", "Acme", "--json"]);
    cli.json(&["create-source", "acme", "Feed", "--json"]);
    cli
}

fn write(cli: &Cli, name: &str, text: &str) {
    std::fs::write(cli.dir.join(name), text).unwrap();
}

/// Runs `import acme Feed ARGS…` with `stdin` on standard input.
fn import_stdin(cli: &Cli, args: &[&str], stdin: &str) -> Output {
    let mut command = cli.command(&[&["import", "acme", "Feed"], args].concat());
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).trim().to_owned()
}

/// What the source holds: (listings, import runs).
async fn written(cli: &Cli) -> (i64, i64) {
    (
        cli.count("source_properties").await,
        cli.count("import_runs").await,
    )
}

#[tokio::test]
async fn files_of_every_form_are_one_import_and_a_bad_item_anywhere_writes_nothing() {
    let cli = acme().await;
    write(&cli, "a.json", "[\n  {\"id\": 1},\n  {\"id\": 2}\n]\n");
    write(&cli, "b.ndjson", "{\"id\": 3}\n\n{\"id\": 4}\n");
    // No extension: NDJSON, or JSON when the whole file is one value.
    write(&cli, "c", "{\"id\": 5}\n{\"id\": 6}\n");
    write(&cli, "d.data", "{\n  \"id\": 7\n}\n");
    write(&cli, "empty.jsonl", "");
    let report = cli.json(&[
        "import",
        "acme",
        "Feed",
        "a.json",
        "b.ndjson",
        "c",
        "empty.jsonl",
        "d.data",
        "--json",
    ]);
    assert_eq!(report["listings"], 7);
    assert_eq!(report["importRun"]["created"], 7);
    assert_eq!(written(&cli).await, (7, 1));

    // Items are named by their own file, across files.
    write(&cli, "e.json", "[{\"id\": 8}]");
    write(&cli, "f.ndjson", "{\"id\": 9}\n\n{\"id\": 8}\n");
    let message = cli.fails(&["import", "acme", "Feed", "e.json", "f.ndjson"], 3);
    assert_eq!(
        message.trim(),
        "error: invalid f.ndjson:3: repeats id `8` of e.json item 0 in the same batch"
    );
    write(&cli, "g.jsonl", "{\"id\": 10}\n{\"price\": 1}\n");
    let message = cli.fails(&["import", "acme", "Feed", "e.json", "g.jsonl"], 3);
    assert_eq!(
        message.trim(),
        "error: invalid g.jsonl:2: has no `id` field"
    );
    write(&cli, "h.json", "{\"id\": 11}");
    let message = cli.fails(&["import", "acme", "Feed", "a.json", "h.json", "h.json"], 3);
    assert_eq!(
        message.trim(),
        "error: invalid h.json item 0: repeats id `11` of h.json item 0 in the same batch"
    );

    // A `.json` file is one document: its syntax errors name the file, with serde_json's
    // position in the whole text, and a second value after the first is refused.
    write(&cli, "two.json", "{\"id\": 12} {\"id\": 13}");
    let message = cli.fails(&["import", "acme", "Feed", "e.json", "two.json"], 3);
    assert_eq!(
        message.trim(),
        "error: invalid two.json: is not valid JSON: trailing characters at line 1 column 12"
    );
    write(&cli, "broken.json", "\n\n[{\"id\": 14},\n {\"id\": 15");
    let message = cli.fails(&["import", "acme", "Feed", "b.ndjson", "broken.json"], 3);
    assert_eq!(
        message.trim(),
        "error: invalid broken.json: is not valid JSON: EOF while parsing an object at line 4 column 10"
    );
    assert_eq!(
        written(&cli).await,
        (7, 1),
        "the failed imports wrote nothing"
    );

    // A missing file is named before the tenant is looked up; a folder cannot be read.
    let message = cli.fails(&["import", "nobody", "Feed", "a.json", "nope.json"], 3);
    assert_eq!(
        message.trim(),
        "error: invalid nope.json: cannot be read: No such file or directory (os error 2)"
    );
    std::fs::create_dir(cli.dir.join("folder.ndjson")).unwrap();
    let message = cli.fails(&["import", "acme", "Feed", "folder.ndjson"], 3);
    assert_eq!(
        message.trim(),
        "error: invalid folder.ndjson: cannot be read: Is a directory (os error 21)"
    );
    assert_eq!(written(&cli).await, (7, 1));
}

#[tokio::test]
async fn standard_input_is_json_when_it_is_one_value_and_ndjson_otherwise() {
    let cli = acme().await;
    let output = import_stdin(
        &cli,
        &["-", "--json"],
        "{\n  \"id\": 1,\n  \"price\": 5\n}\n",
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(
        [&report["listings"], &report["importRun"]["created"]],
        [&json!(1), &json!(1)]
    );

    let output = import_stdin(&cli, &["-"], "{\n  \"price\": 5\n}\n");
    assert_eq!(output.status.code(), Some(3));
    assert_eq!(
        stderr(&output),
        "error: invalid - item 0: has no `id` field"
    );
    let output = import_stdin(&cli, &["-"], "{\"id\": 2}\n{\"price\": 5}\n");
    assert_eq!(output.status.code(), Some(3));
    assert_eq!(stderr(&output), "error: invalid -:2: has no `id` field");
    assert_eq!(written(&cli).await, (1, 1));

    // An array, as a full scrape: listing 1 is gone, 2 and 3 are new.
    let output = import_stdin(
        &cli,
        &["-", "--mode", "full", "--allow-mass-removal", "--json"],
        "[{\"id\": 2}, {\"id\": 3}]",
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let run = &report["importRun"];
    assert_eq!(
        [&run["mode"], &run["created"], &run["removed"]],
        [&json!("FULL"), &json!(2), &json!(1)]
    );
    assert_eq!(written(&cli).await, (3, 2));
}
