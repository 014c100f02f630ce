//! The engine from the command line: `import` (files, NDJSON, stdin), `sync`, `cleanup`.

use std::io::Write;
use std::process::{Output, Stdio};

use serde_json::{Value, json};

use crate::common::{TestDatabase, sync_manager};

struct Cli {
    url: String,
    dir: std::path::PathBuf,
    _db: TestDatabase,
}

impl Cli {
    async fn new() -> Self {
        let (db, url) = TestDatabase::create().await;
        let dir = std::env::temp_dir().join(crate::common::unique_name());
        std::fs::create_dir_all(&dir).unwrap();
        Self { url, dir, _db: db }
    }

    fn run(&self, args: &[&str], stdin: Option<&str>) -> Output {
        let mut child = sync_manager(&self.url)
            .args(args)
            .current_dir(&self.dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut input = child.stdin.take().unwrap();
        input.write_all(stdin.unwrap_or("").as_bytes()).unwrap();
        drop(input);
        child.wait_with_output().unwrap()
    }

    fn json(&self, args: &[&str], stdin: Option<&str>) -> Value {
        let out = self.run(args, stdin);
        assert!(
            out.status.success(),
            "{args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    }

    fn file(&self, name: &str, text: &str) -> String {
        std::fs::write(self.dir.join(name), text).unwrap();
        name.to_owned()
    }
}

impl Drop for Cli {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[tokio::test]
async fn import_sync_and_cleanup_from_the_command_line() {
    let cli = Cli::new().await;
    let tenant = cli.json(&["create-tenant", "Acme", "--json"], None);
    let tenant = tenant["tenant"]["id"].as_str().unwrap();
    let source = cli.json(&["create-source", tenant, "Feed", "--json"], None);
    let source = source["source"]["id"].as_str().unwrap();
    let target = cli.json(&["create-target", tenant, "Site", "--json"], None);
    let target = target["target"]["id"].as_str().unwrap();

    let a = cli.file(
        "a.json",
        r#"[{"id": 1, "price": 100}, {"id": "2", "price": 200}]"#,
    );
    let b = cli.file(
        "b.ndjson",
        "{\"id\": 3, \"price\": 300}\n\n{\"id\": 4, \"price\": 400}\n",
    );
    let payload = cli.json(&["import", tenant, source, &a, &b, "--json"], None);
    assert_eq!(payload["listings"], 4);
    let run = &payload["importRun"];
    assert_eq!(run["mode"], "INCREMENTAL");
    assert_eq!(run["sourceId"], source);
    assert_eq!(
        [
            &run["created"],
            &run["updated"],
            &run["unchanged"],
            &run["removed"]
        ],
        [&json!(4), &json!(0), &json!(0), &json!(0)]
    );

    // A bad line is named by file and line; nothing is written.
    let bad = cli.file("bad.jsonl", "{\"id\": 5}\n{\"price\": 1}\n");
    let out = cli.run(&["import", "acme", "Feed", &bad], None);
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr).trim(),
        "error: invalid bad.jsonl:2: has no `id` field"
    );
    let broken = cli.file("broken.json", "[{\"id\": 1},");
    let out = cli.run(&["import", "acme", "Feed", &broken], None);
    assert_eq!(out.status.code(), Some(3));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("invalid broken.json: is not valid JSON")
    );

    // Standard input, a full scrape in NDJSON: one changed, one gone.
    let stdin = "{\"id\": 1, \"price\": 90}\n{\"id\": \"2\", \"price\": 200}\n{\"id\": 3, \"price\": 300}\n";
    let run = cli.json(
        &[
            "import",
            "acme",
            "Feed",
            "-",
            "--mode",
            "full",
            "--dry-run",
            "--json",
        ],
        Some(stdin),
    )["importRun"]
        .clone();
    assert_eq!(
        [
            &run["created"],
            &run["updated"],
            &run["unchanged"],
            &run["removed"],
            &run["dryRun"]
        ],
        [&json!(0), &json!(1), &json!(2), &json!(1), &json!(true)]
    );
    let run = cli.json(
        &[
            "import",
            "acme",
            "Feed",
            "-",
            "--mode",
            "full",
            "--allow-mass-removal",
            "--json",
        ],
        Some(stdin),
    )["importRun"]
        .clone();
    assert_eq!(run["mode"], "FULL");
    assert_eq!(
        [&run["updated"], &run["removed"], &run["dryRun"]],
        [&json!(1), &json!(1), &json!(false)]
    );

    let log = cli.json(&["sync", tenant, source, target, "--json"], None);
    let log = &log["syncLog"];
    assert_eq!([&log["sourceId"], &log["targetId"]], [source, target]);
    assert_eq!(
        [
            &log["created"],
            &log["updated"],
            &log["skipped"],
            &log["removed"],
            &log["newConflicts"],
            &log["openConflicts"],
            &log["keptEdits"],
            &log["conflicts"],
        ],
        [
            &json!(3),
            &json!(0),
            &json!(0),
            &json!(0),
            &json!(0),
            &json!(0),
            &json!(0),
            &json!(0)
        ]
    );
    let out = cli.run(&["sync", "acme", "Feed", "Site"], None);
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout)
            .split(" (")
            .next()
            .unwrap(),
        "synced `Feed` → `Site`: 0 created, 0 updated, 3 skipped, 0 removed; conflicts: 0 new, 0 open; 0 hand edits kept, 0 merged"
    );
    let out = cli.run(&["sync", "acme", "Feed", "Nope"], None);
    assert_eq!(out.status.code(), Some(4));

    let report = cli.json(
        &["cleanup", "acme", "--days", "0", "--dry-run", "--json"],
        None,
    );
    assert_eq!(
        [
            &report["sourceSnapshotsDeleted"],
            &report["targetSnapshotsDeleted"],
            &report["dryRun"]
        ],
        [&json!(1), &json!(0), &json!(true)]
    );
    let report = cli.json(&["cleanup", "acme", "--days", "0", "--json"], None);
    assert_eq!(report["sourceSnapshotsDeleted"], 1);
    let report = cli.json(&["cleanup", "acme", "--json"], None);
    assert_eq!(report["sourceSnapshotsDeleted"], 0);
    let out = cli.run(&["cleanup", "acme", "--days=-1"], None);
    assert_eq!(out.status.code(), Some(3));
}
