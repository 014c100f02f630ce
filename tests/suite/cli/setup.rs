//! `init` run again and again, and `init` against PostgreSQL: a missing database is created,
//! an unreachable server is named at once.

use std::time::{Duration, Instant};

use sea_orm::{ConnectionTrait, Database, Statement};
use serde_json::{Value, json};

use super::Cli;
use crate::common::{TestDatabase, unique_name};

fn stdout_of(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr_of(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[tokio::test]
async fn init_import_run_twice_as_the_readme_says_imports_nothing_new() {
    let cli = Cli::new().await;
    std::fs::create_dir_all(cli.dir.join("scrapes")).unwrap();
    std::fs::write(
        cli.dir.join("scrapes/a.json"),
        r#"[{"id": 1, "price": 100}, {"id": 2, "price": 200}]"#,
    )
    .unwrap();
    std::fs::write(cli.dir.join("scrapes/b.ndjson"), "{\"id\": 3}\n").unwrap();
    // The README's command, word for word.
    let command = [
        "init",
        "--import",
        "./scrapes",
        "Acme Homes",
        "Nightly scrape",
    ];

    let first = cli.run(&command);
    let stdout = stdout_of(&first);
    assert_eq!(
        first.status.code(),
        Some(0),
        "{stdout}{}",
        stderr_of(&first)
    );
    assert!(
        stdout.contains("API key (shown once, store it now): smk_"),
        "{stdout}"
    );
    assert!(
        stdout.contains("created source `Nightly scrape`"),
        "{stdout}"
    );

    let second = cli.run(&command);
    let stdout = stdout_of(&second);
    assert_eq!(
        second.status.code(),
        Some(0),
        "{stdout}{}",
        stderr_of(&second)
    );
    let tenant_line = stdout
        .lines()
        .find(|line| line.starts_with("tenant "))
        .unwrap_or_else(|| panic!("a line on the tenant: {stdout}"));
    assert!(
        tenant_line.starts_with("tenant `Acme Homes` exists (slug `acme-homes`, id "),
        "{tenant_line}"
    );
    assert!(
        tenant_line.ends_with(
            "using it; no new API key was created (`sync-manager create-api-key acme-homes` makes one)"
        ),
        "{tenant_line}"
    );
    assert!(!stdout.contains("API key (shown once"), "{stdout}");
    assert!(!stdout.contains("created tenant"), "{stdout}");
    assert!(!stdout.contains("created source"), "{stdout}");
    assert!(
        stdout.contains("source `Nightly scrape` exists (id "),
        "{stdout}"
    );
    assert!(
        stdout.contains("nothing changed: all 3 listings were already up to date"),
        "{stdout}"
    );

    assert_eq!(cli.count("tenants").await, 1);
    assert_eq!(cli.count("api_keys").await, 1);
    assert_eq!(cli.count("sources").await, 1);
    assert_eq!(cli.count("source_properties").await, 1 + 2);
}

/// `postgres://…/NAME` on the server of `TEST_DATABASE_URL`.
fn on_test_server(admin_url: &str, name: &str) -> String {
    let mut url = url::Url::parse(admin_url).expect("TEST_DATABASE_URL is a URL");
    url.set_path(&format!("/{name}"));
    url.to_string()
}

#[tokio::test]
async fn init_creates_the_database_the_url_names() {
    let cli = Cli::new().await;
    // On PostgreSQL a database that does not exist yet, with a name that needs quoting; on
    // SQLite a file that does not exist yet.
    let (url, _guard) = match std::env::var("TEST_DATABASE_URL") {
        Ok(admin_url) if !admin_url.is_empty() => {
            let name = format!("{}_New-DB", unique_name());
            let url = on_test_server(&admin_url, &name);
            // Dropped at the end of the test, whatever happens.
            let guard = TestDatabase::Postgres {
                admin_url: admin_url.clone(),
                name: name.clone(),
            };
            let admin = Database::connect(&admin_url).await.unwrap();
            let exists = |admin: sea_orm::DatabaseConnection, name: String| async move {
                let found = admin
                    .query_one_raw(Statement::from_sql_and_values(
                        admin.get_database_backend(),
                        "SELECT datname FROM pg_database WHERE datname = $1",
                        [name.into()],
                    ))
                    .await
                    .unwrap();
                admin.close().await.unwrap();
                found.is_some()
            };
            assert!(!exists(admin, name.clone()).await);

            // Any other command says the database is missing and who creates it.
            let output = cli
                .command(&["create-tenant", "Acme"])
                .env("DATABASE_URL", &url)
                .output()
                .unwrap();
            assert_eq!(output.status.code(), Some(1));
            assert_eq!(
                stderr_of(&output),
                format!(
                    "error: cannot connect to PostgreSQL at {}:{}: database \"{name}\" does not \
                     exist (`sync-manager init` creates it)\n",
                    url::Url::parse(&url).unwrap().host_str().unwrap(),
                    url::Url::parse(&url).unwrap().port().unwrap_or(5432),
                )
            );

            let output = cli
                .command(&["init"])
                .env("DATABASE_URL", &url)
                .output()
                .unwrap();
            assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
            assert_eq!(
                stdout_of(&output),
                format!("database created and ready: {url}\n")
            );
            let admin = Database::connect(&admin_url).await.unwrap();
            assert!(exists(admin, name).await);
            (url, Some(guard))
        }
        _ => {
            let path = cli.dir.join("new.db");
            let url = format!("sqlite://{}?mode=rwc", path.display());
            let output = cli
                .command(&["init"])
                .env("DATABASE_URL", &url)
                .output()
                .unwrap();
            assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
            assert_eq!(stdout_of(&output), format!("database ready: {url}\n"));
            assert!(path.exists());
            (url, None)
        }
    };

    // Again: the database is there; and it is usable.
    let output = cli
        .command(&["init"])
        .env("DATABASE_URL", &url)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
    assert_eq!(stdout_of(&output), format!("database ready: {url}\n"));
    let output = cli
        .command(&["create-tenant", "Acme", "--json"])
        .env("DATABASE_URL", &url)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
    let created: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(created["tenant"]["slug"], "acme");
}

#[tokio::test]
async fn a_closed_port_fails_at_once_naming_the_address_and_the_cause() {
    let cli = Cli::new().await;
    // A port nobody listens on: bound, then freed.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("postgres://postgres@127.0.0.1:{port}/sync");
    let message = format!("cannot connect to PostgreSQL at 127.0.0.1:{port}: connection refused");

    let started = Instant::now();
    let output = cli
        .command(&["init"])
        .env("DATABASE_URL", &url)
        .output()
        .unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(output.status.code(), Some(7));
    // Said once, on one line, and nothing on stdout.
    assert_eq!(stderr_of(&output), format!("error: {message}\n"));
    assert!(output.stdout.is_empty());

    let output = cli
        .command(&["create-tenant", "Acme", "--json"])
        .env("DATABASE_URL", &url)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(7));
    let error: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(
        error,
        json!({ "error": { "code": "SERVICE_UNAVAILABLE", "message": message, "field": null } })
    );

    let output = cli
        .command(&["serve", "--bind", "127.0.0.1:0"])
        .env(
            "DATABASE_URL",
            format!("postgres://postgres:secret@127.0.0.1:{port}/sync"),
        )
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(7));
    assert_eq!(
        stderr_of(&output),
        format!(
            "error: cannot open the database postgres://postgres:***@127.0.0.1:{port}/sync: \
             {message}\n"
        )
    );
}

#[test]
fn the_readme_says_how_to_get_the_binary_before_its_first_command() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("README.md");
    let first_use = readme
        .lines()
        .position(|line| line.starts_with("sync-manager "))
        .expect("a command line starting with `sync-manager `");
    for way in [
        "`cargo install --path .`",
        "`cargo build --release`",
        "`target/release/sync-manager`",
        "`cargo run -- <command>`",
    ] {
        let said = readme
            .lines()
            .position(|line| line.contains(way))
            .unwrap_or_else(|| panic!("README names {way}"));
        assert!(said < first_use, "{way} is said after the first command");
    }
    // The command the test above runs twice is the README's.
    assert!(readme.lines().any(
        |line| line == r#"sync-manager init --import ./scrapes "Acme Homes" "Nightly scrape""#
    ));
}
