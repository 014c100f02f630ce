//! `serve` on SIGTERM: it refuses new connections at once, lets requests in flight finish for
//! up to `SYNC_SHUTDOWN_GRACE_SECS`, then exits 0; an import it cut off is all or nothing.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::{Cli, Served, str_of};

/// Listings in the import that is in flight when SIGTERM comes.
const LISTINGS: usize = 20_000;

/// A tenant (its key) and a source (its id), made with the CLI.
fn tenant_and_source(cli: &Cli) -> (String, String) {
    let tenant = cli.json(&["create-tenant", "Acme", "--json"]);
    let source = cli.json(&["create-source", "acme", "Feed", "--json"]);
    (
        str_of(&tenant, "key").to_owned(),
        source["source"]["id"].as_str().unwrap().to_owned(),
    )
}

/// Starts `serve` with `grace` seconds of grace, logging each request's start on stderr;
/// returns it with a channel of its stderr lines.
fn serve(cli: &Cli, grace: u64) -> (Served, std::sync::mpsc::Receiver<String>) {
    let mut command = cli.command(&["serve", "--bind", "127.0.0.1:0"]);
    command
        .env("RUST_LOG", "warn,tower_http=debug")
        .env("SYNC_SHUTDOWN_GRACE_SECS", grace.to_string());
    let mut served = Served::start_with_stderr(command, "health:", Stdio::piped());
    let stderr = served.child.stderr.take().unwrap();
    let (lines, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if lines.send(line).is_err() {
                break;
            }
        }
    });
    (served, receiver)
}

/// Waits for a stderr line holding `needle` (blocking: the tests run on several threads).
fn wait_for_line(lines: &std::sync::mpsc::Receiver<String>, needle: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let line = lines
            .recv_timeout(left)
            .unwrap_or_else(|_| panic!("no log line with `{needle}`"));
        if line.contains(needle) {
            return;
        }
    }
}

fn sigterm(child: &Child) {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("run kill");
    assert!(status.success());
}

/// Waits for the server to exit, at most `limit`.
async fn exit_within(child: &mut Child, limit: Duration) -> (ExitStatus, Duration) {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            return (status, start.elapsed());
        }
        assert!(
            start.elapsed() < limit,
            "the server still runs {limit:?} after SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Sends the import of [`LISTINGS`] listings in the background.
fn send_import(
    base: &str,
    key: &str,
    source: &str,
) -> tokio::task::JoinHandle<Result<(reqwest::StatusCode, String), reqwest::Error>> {
    let items: Vec<Value> = (0..LISTINGS)
        .map(|i| json!({ "id": format!("l{i}"), "price": i, "title": format!("Flat {i}") }))
        .collect();
    let body = json!({
        "query": "mutation($s: ID!, $items: JSON!) { importProperties(input: { sourceId: $s, items: $items }) { importRun { created } } }",
        "variables": { "s": source, "items": items },
    })
    .to_string();
    let request = reqwest::Client::builder()
        .no_proxy()
        .build()
        .unwrap()
        .post(format!("{base}/graphql"))
        .header("content-type", "application/json")
        .header("x-api-key", key)
        .body(body);
    tokio::spawn(async move {
        let response = request.send().await?;
        let status = response.status();
        // A body cut short is an error here, not a short string.
        let text = response.text().await?;
        Ok((status, text))
    })
}

/// With the default grace period, an import in flight at SIGTERM completes: the client gets
/// its whole answer, all listings are written, new connections are refused meanwhile, and
/// the server exits 0.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_lets_an_import_in_flight_finish() {
    let cli = Cli::new().await;
    let (key, source) = tenant_and_source(&cli);
    let (mut served, lines) = serve(&cli, 30);
    let import = send_import(&served.base, &key, &source);
    wait_for_line(&lines, "started processing request");
    tokio::time::sleep(Duration::from_millis(100)).await;
    sigterm(&served.child);
    let (status, elapsed) = exit_within(&mut served.child, Duration::from_secs(30)).await;
    assert_eq!(status.code(), Some(0), "exit status {status}");
    let (http_status, text) = import.await.unwrap().expect("a whole answer");
    assert_eq!(http_status, reqwest::StatusCode::OK, "{text}");
    let answer: Value = serde_json::from_str(&text).expect("JSON");
    assert_eq!(
        answer,
        json!({ "data": { "importProperties": { "importRun": { "created": LISTINGS } } } }),
        "after {elapsed:?}"
    );
    assert_eq!(cli.count("source_properties").await, LISTINGS as i64);
    assert_eq!(cli.count("import_runs").await, 1);
    // Stopped: nothing listens any more.
    let address = served.base.trim_start_matches("http://");
    assert!(TcpStream::connect(address).is_err());
}

/// A request that does not finish within the grace period does not keep the server up: it
/// exits 0 once the period is over, and an import cut off is all or nothing; its client gets
/// a whole answer or a closed connection, never half an answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_the_grace_period_the_server_exits_and_an_unfinished_import_is_rolled_back() {
    let cli = Cli::new().await;
    let (key, source) = tenant_and_source(&cli);
    let (mut served, lines) = serve(&cli, 1);
    let address = served.base.trim_start_matches("http://").to_owned();
    // A client that never finishes its request body.
    let mut stalled = TcpStream::connect(&address).unwrap();
    stalled
        .write_all(
            b"POST /graphql HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{\"query\":",
        )
        .unwrap();
    wait_for_line(&lines, "started processing request");
    let import = send_import(&served.base, &key, &source);
    wait_for_line(&lines, "started processing request");
    tokio::time::sleep(Duration::from_millis(50)).await;
    sigterm(&served.child);
    let (status, elapsed) = exit_within(&mut served.child, Duration::from_secs(6)).await;
    assert_eq!(status.code(), Some(0), "exit status {status}");
    assert!(elapsed >= Duration::from_millis(900), "{elapsed:?}");

    let listings = cli.count("source_properties").await;
    let runs = cli.count("import_runs").await;
    match import.await.unwrap() {
        Ok((http_status, text)) => {
            // It finished within the grace period: the whole answer, all written.
            assert_eq!(http_status, reqwest::StatusCode::OK, "{text}");
            let answer: Value = serde_json::from_str(&text).expect("whole JSON");
            assert_eq!(
                answer["data"]["importProperties"]["importRun"]["created"],
                LISTINGS
            );
            assert_eq!((listings, runs), (LISTINGS as i64, 1));
        }
        Err(err) => {
            // Cut off: the connection closed before any answer, and the import is all or
            // nothing: either not written, or (its commit landed just as the period ended,
            // before the answer went out; seen once under a loaded test run) written whole.
            assert!(!err.is_decode() && !err.is_body(), "half an answer: {err}");
            assert!(
                [(0, 0), (LISTINGS as i64, 1)].contains(&(listings, runs)),
                "cut off ({err}) with {listings} listings and {runs} import runs"
            );
        }
    }
}
