//! What the CLI prints for people (no `--json`), as an `insta` snapshot of one session:
//! every command of a day's work with its standard output, its standard error and its exit
//! code when not 0. Ids, keys, times, durations and the database URL are redacted, so the
//! same snapshot holds on SQLite and PostgreSQL. A changed line fails the test; review it
//! with `cargo insta review` (or accept the `.snap.new` by hand) when the change is meant.

use std::fmt::Write as _;

use sea_orm::ConnectionTrait;

use super::Cli;

/// Runs commands and writes down what each printed.
struct Session {
    cli: Cli,
    transcript: String,
}

impl Session {
    /// Runs `sync-manager ARGS` and adds it to the transcript.
    fn run(&mut self, args: &[&str]) {
        let output = self.cli.run(args);
        let _ = writeln!(self.transcript, "$ sync-manager {}", args.join(" "));
        self.transcript
            .push_str(&String::from_utf8_lossy(&output.stdout));
        for line in String::from_utf8_lossy(&output.stderr).lines() {
            let _ = writeln!(self.transcript, "[stderr] {line}");
        }
        match output.status.code() {
            Some(0) => {}
            Some(code) => {
                let _ = writeln!(self.transcript, "[exit code {code}]");
            }
            None => self.transcript.push_str("[killed by a signal]\n"),
        }
        self.transcript.push('\n');
    }

    /// Writes a listing file into the working directory.
    fn file(&self, name: &str, text: &str) {
        let path = self.cli.dir.join(name);
        if let Some(folder) = path.parent() {
            std::fs::create_dir_all(folder).unwrap();
        }
        std::fs::write(path, text).unwrap();
    }

    /// The global id of the newest target snapshot.
    async fn newest_target_snapshot(&self) -> String {
        let db = sync_manager::db::connect(&self.cli.url).await.unwrap();
        let row = db
            .query_one_raw(sea_orm::Statement::from_string(
                db.get_database_backend(),
                "SELECT MAX(id) AS id FROM target_snapshots",
            ))
            .await
            .unwrap()
            .unwrap();
        let id: i64 = row.try_get("", "id").unwrap();
        db.close().await.unwrap();
        sync_manager::ids::encode_global("TargetSnapshot", id)
    }
}

/// `text` with each global id replaced by `[Type id]`: ids depend on the database's
/// sequences, which PostgreSQL does not reuse after a rollback.
fn without_ids(text: &str) -> String {
    let is_id_char = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find(is_id_char) {
        out.push_str(&rest[..start]);
        let token_len = rest[start..]
            .find(|c: char| !is_id_char(c))
            .unwrap_or(rest.len() - start);
        let token = &rest[start..start + token_len];
        match sync_manager::ids::decode_global(token, "id") {
            Ok((kind, _)) if token.len() >= 8 => {
                let _ = write!(out, "[{kind} id]");
            }
            _ => out.push_str(token),
        }
        rest = &rest[start + token_len..];
    }
    out.push_str(rest);
    out
}

#[tokio::test]
async fn a_days_work_prints_this_for_people() {
    let mut s = Session {
        cli: Cli::new().await,
        transcript: String::new(),
    };
    s.file(
        "listings.json",
        r#"[{"id": "a", "price": 1}, {"id": "b", "price": 2}]"#,
    );
    s.file("changed.ndjson", "{\"id\": \"a\", \"price\": 3}\n");
    s.file("again.ndjson", "{\"id\": \"a\", \"price\": 4}\n");
    s.file("empty.json", "[]");
    s.file("folder/listings.json", r#"[{"id": "c"}]"#);

    s.run(&["init"]);
    s.run(&["create-tenant", "Acme", "--slug", "acme"]);
    s.run(&[
        "create-api-key",
        "acme",
        "--name",
        "reader",
        "--scope",
        "read",
    ]);
    s.run(&["create-source", "acme", "Feed"]);
    s.run(&["create-target", "acme", "Site"]);
    s.run(&["import", "acme", "Feed", "listings.json"]);
    s.run(&["import", "acme", "Feed", "listings.json", "--dry-run"]);
    s.run(&["sync", "acme", "Feed", "Site", "--dry-run"]);
    s.run(&["sync", "acme", "Feed", "Site"]);
    s.run(&["import", "acme", "Feed", "changed.ndjson"]);
    s.run(&["sync", "acme", "Feed", "Site"]);
    // Restoring the replaced version is a hand edit: the next change at the source conflicts.
    let snapshot = s.newest_target_snapshot().await;
    s.run(&["restore-snapshot", "acme", &snapshot]);
    s.run(&["import", "acme", "Feed", "again.ndjson"]);
    s.run(&["sync", "acme", "Feed", "Site"]);
    s.run(&["pin-snapshot", "acme", &snapshot]);
    s.run(&["pin-snapshot", "acme", &snapshot, "--unpin"]);
    s.run(&["import", "acme", "Feed", "empty.json", "--mode", "full"]);
    s.run(&["cleanup", "acme", "--days", "0", "--dry-run"]);
    s.run(&["cleanup", "acme"]);
    s.run(&[
        "migrate-json",
        "--tenant",
        "acme",
        "--source",
        "Feed",
        "folder/listings.json",
    ]);

    let mut settings = insta::Settings::clone_current();
    settings.add_filter(r"smk_[0-9a-f]+", "smk_[key]");
    settings.add_filter(r"database ready: \S+", "database ready: [database url]");
    settings.add_filter(
        r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(\+00:00|Z)",
        "[time]",
    );
    settings.add_filter(r"\b\d+ ms\b", "[duration]");
    settings.bind(|| {
        insta::assert_snapshot!("a_days_work", without_ids(&s.transcript));
    });
}
