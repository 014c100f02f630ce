//! The real `sync-manager` binary: `init`, the `create-*` commands with the ids they print,
//! their exit codes, `export-schema`, `--help`, and `serve` answering on a socket.
//! `setup` covers repeating `init` and reaching PostgreSQL, `json` the `--json` vocabulary,
//! `demo` the key of `serve --demo`, `shutdown` what SIGTERM does to requests in flight,
//! `import_sync_cleanup` the engine's commands, `import_files` the files `import` reads,
//! `migrate_json` the folder migration, `index_path` the indexed paths, and `human_output` what the commands print for people
//! (an `insta` snapshot).

mod demo;
mod human_output;
mod import_files;
mod import_sync_cleanup;
mod index_path;
mod json;
mod migrate_json;
mod setup;
mod shutdown;

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};

use axum::body::Body;
use axum::http::Request;
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::common::{TestDatabase, decode_id, sync_manager, test_config, unique_name};

/// A fresh database and an empty working directory (so no `.env` is read) for the binary.
pub(super) struct Cli {
    pub(super) url: String,
    pub(super) dir: PathBuf,
    // Last, so it is dropped after everything that uses it.
    _database: TestDatabase,
}

impl Cli {
    pub(super) async fn new() -> Self {
        let (database, url) = TestDatabase::create().await;
        let dir = std::env::temp_dir().join(format!("{}_cwd", unique_name()));
        std::fs::create_dir_all(&dir).expect("working directory");
        Self {
            url,
            dir,
            _database: database,
        }
    }

    pub(super) fn command(&self, args: &[&str]) -> Command {
        let mut command = sync_manager(&self.url);
        command.args(args).current_dir(&self.dir);
        command
    }

    pub(super) fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("run sync-manager")
    }

    /// Runs a command that must succeed and print one JSON object.
    pub(super) fn json(&self, args: &[&str]) -> Value {
        let output = self.run(args);
        assert_eq!(
            output.status.code(),
            Some(0),
            "{args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let stdout = String::from_utf8(output.stdout).expect("UTF-8");
        assert_eq!(stdout.lines().count(), 1, "one line of JSON: {stdout}");
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {stdout}"))
    }

    /// Runs a command that must fail with `code`; returns its stderr.
    pub(super) fn fails(&self, args: &[&str], code: i32) -> String {
        let output = self.run(args);
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        assert_eq!(output.status.code(), Some(code), "{args:?}: {stderr}");
        assert!(!stderr.trim().is_empty(), "{args:?}: a message on stderr");
        stderr
    }

    /// Sends a GraphQL request to a router over this database, as the server would.
    pub(super) async fn graphql(&self, key: &str, query: &str) -> Value {
        let db = sync_manager::db::connect(&self.url).await.expect("connect");
        let config = test_config();
        let state = sync_manager::http::AppState::new(db.clone(), &config, None);
        let router = sync_manager::http::router(state, &config);
        let request = Request::post("/graphql")
            .header("content-type", "application/json")
            .header("x-api-key", key)
            .body(Body::from(json!({ "query": query }).to_string()))
            .expect("request");
        let response = router.oneshot(request).await.expect("response");
        let bytes = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        db.close().await.expect("close");
        serde_json::from_slice(&bytes).expect("JSON")
    }

    /// How many rows `table` has.
    pub(super) async fn count(&self, table: &str) -> i64 {
        use sea_orm::ConnectionTrait;
        let db = sync_manager::db::connect(&self.url).await.expect("connect");
        let statement = sea_orm::Statement::from_string(
            db.get_database_backend(),
            format!("SELECT COUNT(*) AS n FROM {table}"),
        );
        let row = db
            .query_one_raw(statement)
            .await
            .expect("count")
            .expect("a row");
        let n: i64 = row.try_get("", "n").expect("n");
        db.close().await.expect("close");
        n
    }
}

impl Drop for Cli {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

pub(super) fn str_of<'a>(value: &'a Value, key: &str) -> &'a str {
    value[key]
        .as_str()
        .unwrap_or_else(|| panic!("`{key}` in {value}"))
}

#[tokio::test]
async fn init_then_every_create_command_takes_the_ids_it_printed() {
    let cli = Cli::new().await;
    let output = cli.run(&["init"]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("database ready"));
    // Twice is harmless.
    assert_eq!(cli.run(&["init"]).status.code(), Some(0));

    let created = cli.json(&["create-tenant", "Acme Homes", "--json"]);
    let mut keys: Vec<&String> = created.as_object().unwrap().keys().collect();
    keys.sort();
    assert_eq!(keys, ["apiKey", "key", "tenant"]);
    let tenant = &created["tenant"];
    assert_eq!(tenant["name"], "Acme Homes");
    assert_eq!(tenant["slug"], "acme-homes");
    let tenant_id = str_of(tenant, "id");
    let (type_name, tenant_key) = decode_id(tenant_id);
    assert_eq!(type_name, "Tenant");
    assert_eq!(decode_id(str_of(&created["apiKey"], "id")).0, "ApiKey");
    let first_key = str_of(&created, "key");
    assert!(first_key.starts_with("smk_"), "{first_key}");

    // The tenant by its printed global id, by its numeric id, and by its slug.
    let scraper = cli.json(&["create-api-key", tenant_id, "--name", "scraper", "--json"]);
    assert_eq!(scraper["apiKey"]["name"], "scraper");
    let scraper_key = str_of(&scraper, "key");
    assert_eq!(scraper["apiKey"]["prefix"], json!(&scraper_key[..12]));
    assert_eq!(scraper["apiKey"]["scopes"], json!(["READ", "WRITE"]));
    assert_eq!(decode_id(str_of(&scraper["apiKey"], "id")).0, "ApiKey");
    let numeric = tenant_key.to_string();
    let reader = cli.json(&["create-api-key", &numeric, "--read-only", "--json"]);
    assert_eq!(reader["apiKey"]["name"], "cli");
    assert_eq!(reader["apiKey"]["scopes"], json!(["READ"]));
    let reader_key = str_of(&reader, "key");

    let source = cli.json(&[
        "create-source",
        tenant_id,
        "Feed",
        "--kind",
        "scraped",
        "--config",
        r#"{"id_field":"ref"}"#,
        "--json",
    ])["source"]
        .clone();
    assert_eq!(source["name"], "Feed");
    assert_eq!(source["kind"], "SCRAPED");
    assert_eq!(decode_id(str_of(&source, "id")).0, "Source");
    let target = cli.json(&[
        "create-target",
        "acme-homes",
        "Site",
        "--kind",
        "website",
        "--json",
    ])["target"]
        .clone();
    assert_eq!(target["name"], "Site");
    assert_eq!(target["kind"], "WEBSITE");
    let inactive = cli.json(&[
        "create-target",
        &numeric,
        "Partner",
        "--kind",
        "api",
        "--conflict-policy",
        "keep-target",
        "--config",
        r#"{"url":"https://partner.example"}"#,
        "--inactive",
        "--json",
    ])["target"]
        .clone();
    assert_eq!(inactive["kind"], "API");
    assert_eq!(inactive["conflictPolicy"], "KEEP_TARGET");
    assert_eq!(inactive["active"], false);

    // Every printed key authenticates, and the API shows what the CLI made.
    let query = "{ viewer { id name slug apiKeys { nodes { name scopes } } }
                   sources { nodes { id name kind active config } }
                   targets { nodes { id name kind active config conflictPolicy } } }";
    let body = cli.graphql(first_key, query).await;
    assert!(body.get("errors").is_none(), "{body}");
    assert_eq!(
        body["data"],
        json!({
            "viewer": {
                "id": tenant_id,
                "name": "Acme Homes",
                "slug": "acme-homes",
                "apiKeys": { "nodes": [
                    { "name": "default", "scopes": ["READ", "WRITE"] },
                    { "name": "scraper", "scopes": ["READ", "WRITE"] },
                    { "name": "cli", "scopes": ["READ"] },
                ] },
            },
            "sources": { "nodes": [{
                "id": source["id"], "name": "Feed", "kind": "SCRAPED", "active": true,
                "config": { "id_field": "ref" },
            }] },
            "targets": { "nodes": [
                {
                    "id": target["id"], "name": "Site", "kind": "WEBSITE", "active": true,
                    "config": {}, "conflictPolicy": "FLAG",
                },
                {
                    "id": inactive["id"], "name": "Partner", "kind": "API", "active": false,
                    "config": { "url": "https://partner.example" }, "conflictPolicy": "KEEP_TARGET",
                },
            ] },
        })
    );
    let body = cli.graphql(scraper_key, "{ viewer { slug } }").await;
    assert_eq!(body["data"], json!({ "viewer": { "slug": "acme-homes" } }));
    let body = cli.graphql(reader_key, "{ viewer { slug } }").await;
    assert_eq!(body["data"], json!({ "viewer": { "slug": "acme-homes" } }));
    let body = cli
        .graphql(
            reader_key,
            r#"mutation { createSource(input: { name: "x", kind: JSON }) { source { id } } }"#,
        )
        .await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "FORBIDDEN");
}

#[tokio::test]
async fn without_json_the_output_is_for_people() {
    let cli = Cli::new().await;
    let output = cli.run(&["create-tenant", "Acme", "--slug", "acme-1"]);
    assert_eq!(output.status.code(), Some(0));
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(
        stdout.starts_with("created tenant `Acme` (slug `acme-1`, id "),
        "{stdout}"
    );
    assert!(
        stdout.contains("API key (shown once, store it now): smk_"),
        "{stdout}"
    );
    let output = cli.run(&["create-source", "acme-1", "Feed"]);
    assert_eq!(output.status.code(), Some(0));
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(stdout.starts_with("created source `Feed` ("), "{stdout}");
}

#[tokio::test]
async fn failures_have_their_exit_codes_and_write_nothing() {
    let cli = Cli::new().await;
    let tenant = cli.json(&["create-tenant", "Acme", "--json"]);
    let tenant_id = str_of(&tenant["tenant"], "id");
    cli.json(&["create-source", "acme", "Feed", "--json"]);

    // 4: no such tenant, by slug, numeric id or the global id of something else.
    let api_key_id = str_of(&tenant["apiKey"], "id");
    for reference in ["nobody", "999999", api_key_id] {
        let stderr = cli.fails(&["create-api-key", reference, "--json"], 4);
        assert!(stderr.contains("not found"), "{stderr}");
        assert!(stderr.contains(reference), "{stderr}");
        cli.fails(&["create-source", reference, "Other"], 4);
        cli.fails(&["create-target", reference, "Other"], 4);
    }

    // 5: a duplicate name or slug.
    let stderr = cli.fails(&["create-source", tenant_id, "Feed", "--json"], 5);
    assert!(stderr.contains("already exists"), "{stderr}");
    cli.fails(&["create-source", "acme", " Feed ", "--kind", "manual"], 5);
    cli.json(&["create-target", "acme", "Site", "--json"]);
    cli.fails(&["create-target", "acme", "Site"], 5);
    let stderr = cli.fails(&["create-tenant", "Acme again", "--slug", "acme"], 5);
    assert!(stderr.contains("acme"), "{stderr}");

    // 3: invalid input.
    let stderr = cli.fails(
        &["create-source", "acme", "Other", "--config", "{not json"],
        3,
    );
    assert!(stderr.contains("--config"), "{stderr}");
    cli.fails(&["create-source", "acme", "Other", "--config", "[1, 2]"], 3);
    let stderr = cli.fails(
        &[
            "create-source",
            "acme",
            "Other",
            "--config",
            r#"{"id_field": 5}"#,
        ],
        3,
    );
    assert!(stderr.contains("id_field"), "{stderr}");
    cli.fails(&["create-target", "acme", "Other", "--config", "nope"], 3);
    cli.fails(&["create-source", "acme", "   "], 3);
    cli.fails(&["create-tenant", ""], 3);
    cli.fails(&["create-tenant", "Bad", "--slug", "Bad Slug"], 3);
    cli.fails(&["create-tenant", "!!!"], 3);

    // 2: usage errors, from the argument parser.
    cli.fails(&["create-source", "acme"], 2);
    cli.fails(&["create-tenant"], 2);
    cli.fails(&["create-api-key"], 2);
    cli.fails(
        &["create-source", "acme", "Other", "--kind", "telepathy"],
        2,
    );
    cli.fails(
        &[
            "create-target",
            "acme",
            "Other",
            "--conflict-policy",
            "ignore",
        ],
        2,
    );
    cli.fails(&["no-such-command"], 2);
    cli.fails(&[], 2);

    // Nothing of that was written.
    assert_eq!(cli.count("tenants").await, 1);
    assert_eq!(cli.count("api_keys").await, 1);
    assert_eq!(cli.count("sources").await, 1);
    assert_eq!(cli.count("targets").await, 1);
}

#[tokio::test]
async fn an_unusable_database_is_exit_code_1() {
    let cli = Cli::new().await;
    let missing = cli.dir.join("no/such/dir/x.db");
    let output = cli
        .command(&["init"])
        .env(
            "DATABASE_URL",
            format!("sqlite://{}?mode=rwc", missing.display()),
        )
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("error"));
    assert!(output.stdout.is_empty());
}

#[tokio::test]
async fn export_schema_prints_the_schema_file() {
    let cli = Cli::new().await;
    let output = cli.run(&["export-schema"]);
    assert_eq!(output.status.code(), Some(0));
    let file = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql"))
        .expect("schema.graphql");
    let stdout = String::from_utf8(output.stdout).expect("UTF-8");
    assert!(stdout == file, "export-schema differs from schema.graphql");

    let written = cli.dir.join("out.graphql");
    let output = cli.run(&["export-schema", "-o", written.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(0));
    assert!(output.stdout.is_empty());
    assert!(std::fs::read_to_string(&written).unwrap() == file);
}

#[tokio::test]
async fn help_names_every_environment_variable_without_secrets() {
    let cli = Cli::new().await;
    let output = cli
        .command(&["serve", "--help"])
        .env("SYNC_ADMIN_TOKEN", "very-secret-token")
        .env(
            "DATABASE_URL",
            "postgres://sync:very-secret-password@db/sync",
        )
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(0));
    let help = String::from_utf8(output.stdout).expect("UTF-8");
    for needle in [
        "[env: DATABASE_URL]",
        "[env: BIND=",
        "[env: SYNC_ADMIN_TOKEN",
        "[env: RUST_LOG=",
        "[env: SYNC_DEFAULT_PAGE_SIZE=",
        "[env: SYNC_MAX_PAGE_SIZE=",
        "[env: SYNC_MAX_BODY_BYTES=",
        "--demo",
    ] {
        assert!(help.contains(needle), "`{needle}` in:\n{help}");
    }
    assert!(!help.contains("very-secret-token"), "{help}");
    assert!(!help.contains("very-secret-password"), "{help}");

    let output = cli.run(&["--help"]);
    assert_eq!(output.status.code(), Some(0));
    let help = String::from_utf8(output.stdout).expect("UTF-8");
    for command in [
        "init",
        "create-tenant",
        "create-api-key",
        "create-source",
        "create-target",
        "serve",
        "export-schema",
    ] {
        assert!(help.contains(command), "`{command}` in:\n{help}");
    }
    let output = cli.run(&["--version"]);
    assert_eq!(output.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&output.stdout).starts_with("sync-manager "));
}

/// A `serve` child process, killed when dropped.
pub(super) struct Served {
    pub(super) child: Child,
    pub(super) lines: Vec<String>,
    pub(super) base: String,
}

impl Served {
    /// Starts `serve` and reads its banner up to the line starting with `until`.
    pub(super) fn start(command: Command, until: &str) -> Self {
        Self::start_with_stderr(command, until, Stdio::null())
    }

    /// As [`Served::start`], with the server's stderr going to `stderr`.
    pub(super) fn start_with_stderr(mut command: Command, until: &str, stderr: Stdio) -> Self {
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .expect("spawn serve");
        let stdout = child.stdout.take().expect("stdout");
        let mut reader = BufReader::new(stdout);
        let mut lines = Vec::new();
        loop {
            let mut line = String::new();
            let read = reader.read_line(&mut line).expect("read the banner");
            assert!(read > 0, "serve ended early after {lines:?}");
            let done = line.trim_start().starts_with(until);
            lines.push(line.trim_end().to_owned());
            if done {
                break;
            }
        }
        let base = lines[0]
            .strip_prefix("Sync Manager is listening on ")
            .unwrap_or_else(|| panic!("banner: {lines:?}"))
            .to_owned();
        Self { child, lines, base }
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test]
async fn serve_answers_on_the_address_from_the_environment() {
    let cli = Cli::new().await;
    let mut command = cli.command(&["serve"]);
    command
        .env("BIND", "127.0.0.1:0")
        .env("SYNC_ADMIN_TOKEN", "admin-secret");
    let served = Served::start(command, "health:");
    assert!(
        served.base.starts_with("http://127.0.0.1:"),
        "{:?}",
        served.lines
    );
    assert_ne!(served.base, "http://127.0.0.1:0");

    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let health: Value = client
        .get(format!("{}/health", served.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health, json!({ "status": "ok", "database": "up" }));

    // SYNC_ADMIN_TOKEN came from the environment: createTenant works with it.
    let created: Value = client
        .post(format!("{}/graphql", served.base))
        .header("content-type", "application/json")
        .header("x-admin-token", "admin-secret")
        .body(
            json!({ "query": r#"mutation { createTenant(input: { name: "Acme" }) { tenant { slug } key } }"# })
                .to_string(),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(created["data"]["createTenant"]["tenant"]["slug"], "acme");
    let key = created["data"]["createTenant"]["key"].as_str().unwrap();
    let viewer: Value = client
        .post(format!("{}/graphql", served.base))
        .header("content-type", "application/json")
        .bearer_auth(key)
        .body(json!({ "query": "{ viewer { name } }" }).to_string())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(viewer, json!({ "data": { "viewer": { "name": "Acme" } } }));
}

#[tokio::test]
async fn serve_demo_prints_a_key_that_graphiql_already_has() {
    let cli = Cli::new().await;
    let command = cli.command(&["serve", "--demo", "--bind", "127.0.0.1:0"]);
    let served = Served::start(command, "demo tenant API key");
    let key = served
        .lines
        .last()
        .and_then(|line| line.rsplit(' ').next())
        .unwrap()
        .to_owned();
    assert!(key.starts_with("smk_"), "{:?}", served.lines);

    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let page = client
        .get(format!("{}/graphql", served.base))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains(&key));
    let viewer: Value = client
        .post(format!("{}/graphql", served.base))
        .header("content-type", "application/json")
        .header("x-api-key", &key)
        .body(json!({ "query": "{ viewer { name slug } }" }).to_string())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        viewer,
        json!({ "data": { "viewer": { "name": "Demo Agency", "slug": "demo" } } })
    );
}

#[tokio::test]
async fn a_tenant_with_a_numeric_slug_can_be_named_by_it() {
    let cli = Cli::new().await;
    // `valid_slug` accepts digits only; no tenant has the id 2024.
    let tenant = cli.json(&["create-tenant", "Vintage", "--slug", "2024", "--json"]);
    assert_eq!(tenant["tenant"]["slug"], "2024");
    let output = cli.run(&["create-source", "2024", "Feed", "--json"]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let source: Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(source["source"]["name"], "Feed");
    let listed = cli
        .graphql(str_of(&tenant, "key"), "{ sources { nodes { id } } }")
        .await;
    assert_eq!(
        listed["data"]["sources"]["nodes"][0]["id"],
        source["source"]["id"]
    );
}

#[tokio::test]
async fn a_source_with_a_numeric_name_can_be_named_by_it() {
    let cli = Cli::new().await;
    cli.json(&["create-tenant", "Acme", "--json"]);
    // No source has the id 2024; its name is all the operator knows.
    cli.json(&["create-source", "acme", "2024", "--json"]);
    let file = cli.dir.join("listings.json");
    std::fs::write(&file, r#"[{"id": "a1", "price": 100}]"#).expect("write");
    let output = cli.run(&["import", "acme", "2024", file.to_str().expect("path")]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(cli.count("source_properties").await, 1);
}
