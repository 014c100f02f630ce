//! `migrate-json` and `init --import` through the real binary: which files discovery finds,
//! dry runs, a corrupt file among good ones, re-runs, mixed formats, exit codes and the
//! `--json` report. The listings are checked through GraphQL on the same database.

use std::path::PathBuf;
use std::process::Output;

use serde_json::{Value, json};

use crate::common::{TestApp, TestDatabase, sync_manager, unique_name};

/// A database with tenant `acme` and source `Feed`, and a folder of its own to migrate.
struct Migrate {
    app: TestApp,
    key: String,
    source: String,
    dir: PathBuf,
}

impl Migrate {
    async fn new() -> Self {
        let app = TestApp::spawn().await;
        let (_, key) = app.create_tenant("Acme").await;
        let source = app.create_source(&key, "Feed").await;
        Self {
            app,
            key,
            source,
            dir: folder(),
        }
    }

    /// Writes `text` to `path` (relative to the folder), creating folders.
    fn file(&self, path: &str, text: &str) {
        write(&self.dir, path, text);
    }

    /// Runs `migrate-json --tenant acme --source Feed ARGS…` in the folder.
    fn migrate(&self, args: &[&str]) -> Output {
        let mut all = vec!["migrate-json", "--tenant", "acme", "--source", "Feed"];
        all.extend_from_slice(args);
        run(&self.app.database_url, &self.dir, &all)
    }

    /// Runs `migrate-json … ARGS… --json`; returns the exit code and the report.
    fn report(&self, args: &[&str]) -> (i32, Value) {
        let mut all = args.to_vec();
        all.push("--json");
        let out = self.migrate(&all);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(stdout.lines().count(), 1, "one JSON line: {stdout}");
        let report = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"));
        (out.status.code().unwrap(), report)
    }

    /// The source's listings: external id → data, in id order.
    async fn listings(&self) -> Vec<(String, Value)> {
        let data = self
            .app
            .data(
                &self.key,
                "query($s: ID!) { source(id: $s) { properties(first: 500) { totalCount nodes { externalId data removedAt } } } }",
                json!({ "s": self.source }),
            )
            .await;
        let mut listings: Vec<(String, Value)> = data["source"]["properties"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| {
                (
                    n["externalId"].as_str().unwrap().to_owned(),
                    n["data"].clone(),
                )
            })
            .collect();
        listings.sort_by(|a, b| a.0.cmp(&b.0));
        listings
    }

    async fn listing_ids(&self) -> Vec<String> {
        self.listings()
            .await
            .into_iter()
            .map(|(id, _)| id)
            .collect()
    }

    async fn listing_count(&self) -> i64 {
        let data = self
            .app
            .data(
                &self.key,
                "query($s: ID!) { source(id: $s) { properties(first: 1) { totalCount } } }",
                json!({ "s": self.source }),
            )
            .await;
        data["source"]["properties"]["totalCount"].as_i64().unwrap()
    }

    /// The import runs of the source, newest first: `[dryRun, created, updated, unchanged]`.
    async fn import_runs(&self) -> Vec<Value> {
        let data = self
            .app
            .data(
                &self.key,
                "query($s: ID!) { source(id: $s) { importRuns(first: 100) { nodes { dryRun created updated unchanged removed actor } } } }",
                json!({ "s": self.source }),
            )
            .await;
        data["source"]["importRuns"]["nodes"]
            .as_array()
            .unwrap()
            .clone()
    }
}

impl Drop for Migrate {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn folder() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("{}_migrate", unique_name()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn write(dir: &std::path::Path, path: &str, text: &str) {
    let path = dir.join(path);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn run(database_url: &str, dir: &std::path::Path, args: &[&str]) -> Output {
    sync_manager(database_url)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The paths of a report's files, in order.
fn paths(report: &Value) -> Vec<&str> {
    report["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect()
}

/// `[listings, created, updated, unchanged, removed, failed]` of a report's file or totals.
fn counts(value: &Value) -> [i64; 6] {
    [
        "listings",
        "created",
        "updated",
        "unchanged",
        "removed",
        "failed",
    ]
    .map(|k| value[k].as_i64().unwrap())
}

/// `n` NDJSON lines `{"id": "<prefix>-<i>", "price": i}`.
fn ndjson(prefix: &str, n: usize) -> String {
    (0..n)
        .map(|i| format!("{{\"id\": \"{prefix}-{i}\", \"price\": {i}}}\n"))
        .collect()
}

#[tokio::test]
async fn discovery_skips_hidden_ignored_and_build_folders() {
    let m = Migrate::new().await;
    for path in [
        "a.json",
        "UPPER.JSON",
        "z.jsonl",
        "sub/b.ndjson",
        "sub/deeper/c.json",
        // Skipped: hidden files and folders, build folders, ignore files, other extensions.
        ".dot.json",
        ".cache/d.json",
        "sub/.git-like/e.json",
        "target/f.json",
        "node_modules/g.json",
        "sub/node_modules/h.json",
        "sub/target/i.ndjson",
        "ignored/j.json",
        "k.skip.json",
        "sub/l.tmp.json",
        "notes.txt",
        "data.json.bak",
    ] {
        m.file(path, "{\"id\": 1}");
    }
    // The folder is not a git repository; its .gitignore files count all the same.
    m.file(".gitignore", "ignored/\n*.skip.json\n");
    m.file("sub/.gitignore", "*.tmp.json\n");

    let (code, report) = m.report(&["--auto", "--dry-run"]);
    assert_eq!(code, 0, "{report}");
    assert_eq!(
        paths(&report),
        [
            "UPPER.JSON",
            "a.json",
            "sub/b.ndjson",
            "sub/deeper/c.json",
            "z.jsonl"
        ]
    );
    assert_eq!(report["files"][2]["format"], "ndjson");
    assert_eq!(report["files"][4]["format"], "ndjson");

    // The listing people see is the same, in the same order.
    let out = m.migrate(&["--auto", "--dry-run"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let listed: Vec<&str> = stdout
        .lines()
        .skip_while(|l| !l.starts_with("checking 5 files"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .map(|l| l.split_whitespace().next().unwrap())
        .collect();
    assert_eq!(listed, paths(&report), "{stdout}");

    // Folders named on the command line are searched instead of the working directory,
    // each file once; a file named there is taken even if an ignore file names it.
    let (code, report) = m.report(&["--auto", "--dry-run", "sub", "sub/deeper", "k.skip.json"]);
    assert_eq!(code, 0, "{report}");
    assert_eq!(
        paths(&report),
        ["k.skip.json", "sub/b.ndjson", "sub/deeper/c.json"]
    );

    // Nothing found is not an error.
    std::fs::create_dir_all(m.dir.join("empty")).unwrap();
    let out = m.migrate(&["--auto", "empty"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out.stdout).contains("no .json, .ndjson or .jsonl files found"));
}

#[tokio::test]
async fn a_dry_run_writes_no_listing() {
    let m = Migrate::new().await;
    m.file(
        "a.json",
        r#"[{"id": 1, "price": 100}, {"id": 2, "price": 200}]"#,
    );
    m.file("b.ndjson", "{\"id\": 3, \"price\": 300}\n");

    let (code, report) = m.report(&["--auto", "--dry-run"]);
    assert_eq!(code, 0, "{report}");
    assert_eq!(report["dryRun"], true);
    assert_eq!(report["changed"], true);
    assert_eq!(counts(&report["totals"]), [3, 3, 0, 0, 0, 0]);
    assert_eq!(m.listing_count().await, 0);
    // Each file leaves its dry-run record, as every import does.
    let runs = m.import_runs().await;
    assert_eq!(runs.len(), 2);
    assert!(
        runs.iter()
            .all(|r| r["dryRun"] == true && r["actor"] == "cli")
    );

    let (code, _) = m.report(&["--auto"]);
    assert_eq!(code, 0);
    let before = m.listings().await;
    assert_eq!(before.len(), 3);

    // A change, dry: counted, not written.
    m.file("b.ndjson", "{\"id\": 3, \"price\": 333}\n{\"id\": 4}\n");
    let out = m.migrate(&["--auto", "--dry-run"]);
    assert_eq!(out.status.code(), Some(0));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains(
            "dry run, nothing was written: importing 4 listings would leave 1 created, 1 updated, 2 unchanged"
        ),
        "{stdout}"
    );
    let row: Vec<&str> = stdout
        .lines()
        .find(|l| l.starts_with("b.ndjson "))
        .unwrap()
        .split_whitespace()
        .collect();
    assert_eq!(
        row,
        ["b.ndjson", "checked", "2", "1", "1", "0", "0"],
        "{stdout}"
    );
    assert_eq!(m.listings().await, before);
}

#[tokio::test]
async fn a_corrupt_file_among_good_ones_fails_alone() {
    let m = Migrate::new().await;
    m.file("1-good.json", r#"[{"id": "a"}, {"id": "b"}]"#);
    m.file("2-broken.json", r#"[{"id": "c"}, {"id": "d"}, {"id": "#);
    m.file("3-no-id.ndjson", "{\"id\": \"e\"}\n\n{\"price\": 1}\n");
    m.file(
        "4-twice.jsonl",
        "{\"id\": \"f\"}\n{\"id\": \"g\"}\n{\"id\": \"f\"}\n",
    );
    m.file("5-not-json.ndjson", "{\"id\": \"h\"}\nnot json\n");
    m.file("6-good.ndjson", "{\"id\": \"i\"}\n");

    let (code, report) = m.report(&["--auto"]);
    assert_eq!(code, 3, "{report}");
    let errors: Vec<(&str, &Value)> = report["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["status"].as_str().unwrap(), &f["error"]["field"]))
        .collect();
    assert_eq!(
        errors,
        [
            ("imported", &Value::Null),
            ("failed", &json!("2-broken.json item 2")),
            ("failed", &json!("3-no-id.ndjson:3")),
            ("failed", &json!("4-twice.jsonl:3")),
            ("failed", &json!("5-not-json.ndjson:2")),
            ("imported", &Value::Null),
        ]
    );
    assert_eq!(
        report["files"][3]["error"]["message"],
        "invalid 4-twice.jsonl:3: repeats id `f` of 4-twice.jsonl:1 in the same batch"
    );
    assert_eq!(report["files"][2]["error"]["code"], "BAD_USER_INPUT");
    assert!(
        report["files"][1]["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("invalid 2-broken.json item 2: is not valid JSON: EOF while parsing")
    );
    assert_eq!(counts(&report["totals"]), [3, 3, 0, 0, 0, 8]);
    assert_eq!(report["totals"]["failedFiles"], 4);
    // Nothing of a bad file is written, not even its good lines.
    assert_eq!(m.listing_ids().await, ["a", "b", "i"]);

    let out = m.migrate(&["--auto"]);
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(
        text(&out.stderr).trim(),
        "error: invalid files: 4 of 6 files failed, and nothing of a failed file was written; \
         imported: 1-good.json, 6-good.ndjson; \
         not imported: 2-broken.json, 3-no-id.ndjson, 4-twice.jsonl, 5-not-json.ndjson"
    );
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains(
            "failed: 3-no-id.ndjson: invalid 3-no-id.ndjson:3: has no `id` field (nothing of the file was imported)"
        ),
        "{stdout}"
    );
    assert!(stdout.contains("; 4 of 6 files failed"), "{stdout}");
}

#[tokio::test]
async fn a_rerun_changes_nothing_and_says_so() {
    let m = Migrate::new().await;
    m.file("a.json", r#"[{"id": 1, "p": 1}, {"id": 2, "p": 2}]"#);
    m.file("b/c.ndjson", &ndjson("c", 3));

    let (code, first) = m.report(&["--auto"]);
    assert_eq!(code, 0);
    assert_eq!(counts(&first["totals"]), [5, 5, 0, 0, 0, 0]);
    let listings = m.listings().await;

    let (code, again) = m.report(&["--auto"]);
    assert_eq!(code, 0);
    assert_eq!(again["changed"], false);
    assert_eq!(counts(&again["totals"]), [5, 0, 0, 5, 0, 0]);
    for file in again["files"].as_array().unwrap() {
        assert_eq!(
            file["created"].as_i64().unwrap() + file["updated"].as_i64().unwrap(),
            0
        );
    }
    assert_eq!(m.listings().await, listings);

    let out = m.migrate(&["--auto"]);
    assert_eq!(out.status.code(), Some(0));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("nothing changed: all 5 listings were already up to date"),
        "{stdout}"
    );
    // Three imports of two files: only the first created anything.
    let runs = m.import_runs().await;
    assert_eq!(runs.len(), 6);
    let quiet = runs
        .iter()
        .filter(|r| r["created"] == 0 && r["updated"] == 0 && r["removed"] == 0)
        .count();
    assert_eq!(quiet, 4);
}

#[tokio::test]
async fn mixed_formats_and_files_longer_than_a_batch() {
    let m = Migrate::new().await;
    m.file("array.json", r#"[{"id": "x1", "n": 1.0}, {"id": "x2"}]"#);
    m.file(
        "one.json",
        "\u{feff}\n  {\"id\": \"solo\", \"rooms\": [1, 2]}\n",
    );
    m.file(
        "crlf.ndjson",
        "\u{feff}{\"id\": \"w1\"}\r\n\r\n{\"id\": \"w2\"}\r\n",
    );
    let (code, report) = m.report(&["--auto"]);
    assert_eq!(code, 0, "{report}");
    assert_eq!(
        m.listings().await,
        [
            ("solo".to_owned(), json!({"id": "solo", "rooms": [1, 2]})),
            ("w1".to_owned(), json!({"id": "w1"})),
            ("w2".to_owned(), json!({"id": "w2"})),
            ("x1".to_owned(), json!({"id": "x1", "n": 1.0})),
            ("x2".to_owned(), json!({"id": "x2"})),
        ]
    );

    // 4,500 lines: three batches.
    m.file("big.jsonl", &ndjson("big", 4_500));
    // A large array: streamed element by element across batches.
    let array: Vec<Value> = (0..4_100).map(|i| json!({ "id": i, "v": i })).collect();
    m.file("big-array.json", &serde_json::to_string(&array).unwrap());

    let (code, report) = m.report(&["--auto"]);
    assert_eq!(code, 0, "{report}");
    assert_eq!(
        report["files"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| (f["path"].as_str().unwrap(), counts(f)))
            .collect::<Vec<_>>(),
        [
            ("array.json", [2, 0, 0, 2, 0, 0]),
            ("big-array.json", [4_100, 4_100, 0, 0, 0, 0]),
            ("big.jsonl", [4_500, 4_500, 0, 0, 0, 0]),
            ("crlf.ndjson", [2, 0, 0, 2, 0, 0]),
            ("one.json", [1, 0, 0, 1, 0, 0]),
        ]
    );
    assert_eq!(m.listing_count().await, 8_605);

    // Line numbers stay right past batches and blank lines, for the first occurrence too.
    let mut lines = String::new();
    for i in 0..5_000 {
        if i % 1_000 == 999 {
            lines.push('\n');
        }
        let id = if i == 4_200 { 10 } else { i };
        lines.push_str(&format!("{{\"id\": {id}}}\n"));
    }
    m.file("dup.ndjson", &lines);
    let (code, report) = m.report(&["dup.ndjson"]);
    assert_eq!(code, 3);
    assert_eq!(
        report["files"][0]["error"]["message"],
        "invalid dup.ndjson:4205: repeats id `10` of dup.ndjson:11 in the same batch"
    );
}

#[tokio::test]
async fn exit_codes() {
    let m = Migrate::new().await;
    m.file("a.json", r#"[{"id": 1}, {"id": 2}, {"id": 3}]"#);
    m.file("b.ndjson", "{\"id\": 2}\n");
    m.file("notes.txt", "hello");
    std::fs::create_dir_all(m.dir.join("folder")).unwrap();

    let code = |args: &[&str]| {
        let out = m.migrate(args);
        (out.status.code().unwrap(), text(&out.stderr))
    };
    let (c, err) = code(&["--auto", "--mode", "full"]);
    assert_eq!(c, 3);
    assert!(
        err.contains("invalid --mode: `full` needs exactly one file, and 2 were found"),
        "{err}"
    );
    assert_eq!(m.listing_count().await, 0);
    assert_eq!(code(&["a.json"]).0, 0);
    // One file, full: what it lacks is removed.
    let (c, report) = m.report(&["b.ndjson", "--mode", "full", "--allow-mass-removal"]);
    assert_eq!(c, 0);
    assert_eq!(report["mode"], "FULL");
    assert_eq!(counts(&report["totals"]), [1, 0, 0, 1, 2, 0]);

    assert_eq!(code(&[]).0, 2, "no path and no --auto is a usage error");
    let (c, err) = code(&["missing.json"]);
    assert_eq!(
        (c, err.trim()),
        (
            3,
            "error: invalid missing.json: cannot be read: No such file or directory (os error 2)"
        )
    );
    let (c, err) = code(&["folder"]);
    assert_eq!(
        (c, err.trim()),
        (
            3,
            "error: invalid folder: is a folder; pass --auto to import the files in it"
        )
    );
    assert_eq!(code(&["notes.txt"]).0, 3);
    assert_eq!(code(&["--auto", "nowhere"]).0, 3);

    let out = run(
        &m.app.database_url,
        &m.dir,
        &[
            "migrate-json",
            "--tenant",
            "nobody",
            "--source",
            "Feed",
            "a.json",
        ],
    );
    assert_eq!(out.status.code(), Some(4));
    let out = run(
        &m.app.database_url,
        &m.dir,
        &[
            "migrate-json",
            "--tenant",
            "acme",
            "--source",
            "Nope",
            "a.json",
        ],
    );
    assert_eq!(out.status.code(), Some(4));

    // An inactive source stops the migration at its first file.
    m.app
        .data(
            &m.key,
            "mutation($id: ID!) { updateSource(input: { id: $id, active: false }) { source { active } } }",
            json!({ "id": m.source }),
        )
        .await;
    let (c, report) = m.report(&["a.json", "b.ndjson"]);
    assert_eq!(c, 5);
    assert_eq!(report["files"][0]["status"], "failed");
    assert_eq!(report["files"][0]["error"]["code"], "CONFLICT");
    assert_eq!(report["files"][1]["status"], "skipped");
    assert_eq!(report["totals"]["skippedFiles"], 1);
    assert_eq!(report["error"], report["files"][0]["error"]);
    // Without --json, the last line names the files imported and not.
    let out = m.migrate(&["a.json", "b.ndjson"]);
    assert_eq!(out.status.code(), Some(5));
    assert_eq!(
        text(&out.stderr).trim(),
        "error: stopped at a.json (imported: none; not imported: a.json, b.ndjson): \
         source `Feed` is inactive; activate it (updateSource with active: true) before importing"
    );
}

#[tokio::test]
async fn the_json_report() {
    let m = Migrate::new().await;
    m.file("a.json", r#"[{"id": 1}, {"id": 2}]"#);
    m.file("b.ndjson", "{\"id\": 3}\n{\"id\": 3}\n");
    let (code, mut report) = m.report(&["--auto"]);
    assert_eq!(code, 3);
    let run_id = report["files"][0]["importRunId"].take();
    assert!(run_id.as_str().unwrap().len() > 4);
    for file in report["files"].as_array_mut().unwrap() {
        assert!(file["durationMs"].take().is_u64());
    }
    assert!(report["durationMs"].take().is_u64());
    assert_eq!(
        report,
        json!({
            "sourceId": m.source,
            "mode": "INCREMENTAL",
            "dryRun": false,
            "changed": true,
            "error": {
                "code": "BAD_USER_INPUT",
                "field": "files",
                "message": "invalid files: 1 of 2 files failed, and nothing of a failed file \
                            was written; imported: a.json; not imported: b.ndjson",
            },
            "durationMs": null,
            "files": [
                {
                    "path": "a.json", "format": "json", "bytes": 22, "status": "imported",
                    "importRunId": null, "listings": 2, "created": 2, "updated": 0,
                    "unchanged": 0, "removed": 0, "failed": 0, "durationMs": null,
                    "error": null,
                },
                {
                    "path": "b.ndjson", "format": "ndjson", "bytes": 20, "status": "failed",
                    "importRunId": null, "listings": 2, "created": 0, "updated": 0,
                    "unchanged": 0, "removed": 0, "failed": 2, "durationMs": null,
                    "error": {
                        "code": "BAD_USER_INPUT",
                        "field": "b.ndjson:2",
                        "message": "invalid b.ndjson:2: repeats id `3` of b.ndjson:1 in the same batch",
                    },
                },
            ],
            "totals": {
                "files": 2, "importedFiles": 1, "failedFiles": 1, "skippedFiles": 0,
                "listings": 2, "created": 2, "updated": 0, "unchanged": 0, "removed": 0,
                "failed": 2,
            },
        })
    );
}

#[tokio::test]
async fn init_imports_a_folder_on_a_first_install() {
    let (_database, url) = TestDatabase::create().await;
    let dir = folder();
    write(&dir, "scrapes/2024.json", r#"[{"id": 1}, {"id": 2}]"#);
    write(&dir, "scrapes/2025.ndjson", "{\"id\": 3}\n");
    write(&dir, "scrapes/.old/x.json", "{\"id\": 4}");

    let out = run(
        &url,
        &dir,
        &["init", "--import", "scrapes", "Acme Homes", "Scrape"],
    );
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    assert!(stdout.contains("database ready"), "{stdout}");
    assert!(
        stdout.contains("created tenant `Acme Homes` (slug `acme-homes`"),
        "{stdout}"
    );
    assert!(
        stdout.contains("API key (shown once, store it now): "),
        "{stdout}"
    );
    assert!(stdout.contains("created source `Scrape`"), "{stdout}");
    assert!(stdout.contains("3 created"), "{stdout}");

    // Again: the tenant and source exist now, and the files are imported already.
    let out = run(
        &url,
        &dir,
        &["init", "--import", "scrapes", "acme-homes", "Scrape"],
    );
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(!stdout.contains("created tenant"), "{stdout}");
    assert!(
        stdout.contains("nothing changed: all 3 listings were already up to date"),
        "{stdout}"
    );

    let out = run(
        &url,
        &dir,
        &[
            "migrate-json",
            "--tenant",
            "acme-homes",
            "--source",
            "Scrape",
            "--auto",
            "--json",
        ],
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(paths(&report), ["scrapes/2024.json", "scrapes/2025.ndjson"]);
    assert_eq!(counts(&report["totals"]), [3, 0, 0, 3, 0, 0]);

    // A folder that does not exist creates nothing.
    let out = run(
        &url,
        &dir,
        &["init", "--import", "nowhere", "Other", "Feed"],
    );
    assert_eq!(out.status.code(), Some(3));
    let out = run(&url, &dir, &["create-api-key", "other"]);
    assert_eq!(out.status.code(), Some(4));
    let out = run(&url, &dir, &["init", "--import", "scrapes"]);
    assert_eq!(out.status.code(), Some(2));
    let _ = std::fs::remove_dir_all(&dir);
}
