//! The binary against servers that are broken or hostile: what reaches the terminal, what
//! reaches a proxy, and what `check` believes. Real HTTP on 127.0.0.1; every server here stops.

mod common;

use std::io::Read as _;
use std::net::TcpListener;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use assert_cmd::cargo::CommandCargoExt as _;
use common::{mock, run, run_with_env, stderr, stdout};
use qovery_backups_mock::{Fault, FaultPlan, testing};
use uuid::Uuid;

#[tokio::test(flavor = "multi_thread")]
async fn a_success_dated_in_the_future_is_suspect_not_fresh() {
    let server = mock(vec![30], FaultPlan::none().at(1, Fault::Future)).await;
    let id = server.database_ids()[0].to_string();
    let output = run(&server, &["check", &id, "--max-age", "26h"]).await;
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    let line = stdout(&output);
    assert!(line.starts_with("SUSPECT ") && line.contains(&id), "{line}");
    assert!(line.contains("9999-12-31T23:59:59Z") && line.contains("after now ("), "both dates: {line}");
}

/// A backup made `hours_ago`, with this outcome.
fn backup(status: &str, hours_ago: i64) -> qovery_backups::Backup {
    let created_at = chrono::Utc::now() - chrono::Duration::hours(hours_ago);
    testing::backup((hours_ago.unsigned_abs() + 1).into(), &created_at.to_rfc3339(), status)
}

#[tokio::test(flavor = "multi_thread")]
async fn check_stops_paging_at_the_edge_of_the_window() {
    // 100 failed backups an hour apart, then the only success, 101 hours old: six pages deep.
    let server = mock(vec![], FaultPlan::none()).await;
    let mut history: Vec<_> = (0..100).map(|hours| backup("ERROR", hours)).collect();
    history.push(backup("SUCCESS", 101));
    let database_id = server.add_database_with(history).unwrap();

    let output = run(&server, &["check", &database_id.to_string(), "--max-age", "30h"]).await;
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    let line = stdout(&output);
    assert!(line.starts_with("STALE "), "{line}");
    assert!(line.contains("none of the 40 newest backups succeeded"), "{line}");
    // 30 hours of backups fill one page and a half: two requests, not the whole history.
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_escape_laden_error_detail_is_one_printable_line() {
    // A backup the mock does not have: a 404 whose `detail` carries ESC, BEL, CR and LF.
    let server = mock(vec![5], FaultPlan::none().at(1, Fault::Escape)).await;
    let (database, unknown) = (server.database_ids()[0].to_string(), Uuid::new_v4().to_string());
    let output = run(&server, &["delete", &database, &unknown, "--max-attempts", "1"]).await;
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(server.requests()[0].fault, Some(Fault::Escape));
    let text = stderr(&output);
    assert!(!text.contains('\u{1b}') && !text.contains('\u{7}') && !text.contains('\r'), "{text:?}");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "the error, then its hint: {text}");
    assert!(lines[0].starts_with("error: ") && lines[1].starts_with("hint: "), "{text}");
    assert!(lines[0].contains("\\u{1b}"), "the escape is shown, not obeyed: {text}");
}

/// A listener that counts the connections made to it and answers none: a proxy that must not
/// be used. Its thread takes at most 16 connections, then ends.
fn counting_listener() -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = format!("http://{}", listener.local_addr().unwrap());
    let count = Arc::new(AtomicUsize::new(0));
    let seen = count.clone();
    std::thread::spawn(move || {
        // Bounded: the test process ends it; each connection is read briefly and dropped.
        for stream in listener.incoming().take(16) {
            seen.fetch_add(1, Ordering::SeqCst);
            if let Ok(mut stream) = stream {
                let _ = stream.set_read_timeout(Some(std::time::Duration::from_millis(100)));
                let _ = stream.read(&mut [0; 1024]);
            }
        }
    });
    (address, count)
}

#[tokio::test(flavor = "multi_thread")]
async fn plain_http_never_goes_through_a_proxy() {
    let server = mock(vec![5], FaultPlan::none()).await;
    let (proxy, connections) = counting_listener();
    let id = server.database_ids()[0].to_string();
    let env = [
        ("QOVERY_API_TOKEN", server.token()),
        ("HTTP_PROXY", proxy.as_str()),
        ("http_proxy", proxy.as_str()),
        ("ALL_PROXY", proxy.as_str()),
    ];
    let output = run_with_env(&server, &["list", &id, "--output", "ndjson"], &env).await;
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(stdout(&output).lines().count(), 5);
    assert_eq!(connections.load(Ordering::SeqCst), 0, "the proxy would have seen the token in clear");
}

fn run_against(url: &str, args: &[&str]) -> std::process::Output {
    Command::cargo_bin("qovery-backups")
        .unwrap()
        .args(args)
        .args(["--api-url", url])
        .env("QOVERY_API_TOKEN", "qov_0123456789abcdef")
        .env_remove("QOVERY_CLI_ACCESS_TOKEN")
        .env_remove("RUST_LOG")
        .output()
        .unwrap()
}

#[test]
fn a_base_url_with_a_password_is_a_usage_error_that_does_not_print_it() {
    let id = Uuid::nil().to_string();
    let output = run_against("http://admin:hunter2-secret@127.0.0.1:9", &["list", &id]);
    assert_eq!(output.status.code(), Some(2));
    let text = String::from_utf8_lossy(&output.stderr);
    assert!(text.contains("user name or password"), "{text}");
    assert!(!text.contains("hunter2-secret"), "{text}");
}

#[test]
fn zero_durations_are_usage_errors_naming_the_option() {
    let id = Uuid::nil().to_string();
    let timeout = run_against("http://127.0.0.1:9", &["list", &id, "--timeout", "0s"]);
    assert_eq!(timeout.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&timeout.stderr).contains("--timeout"), "{:?}", timeout);
    let max_age = run_against("http://127.0.0.1:9", &["check", &id, "--max-age", "0s"]);
    assert_eq!(max_age.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&max_age.stderr).contains("--max-age"), "{:?}", max_age);
}

#[test]
fn each_refused_setting_gets_a_hint_naming_what_to_change_here() {
    let id = Uuid::nil().to_string();
    let cases = [
        ("http://10.0.0.8", "--api-url", "in clear"),
        ("https://admin:pw@api.example.com", "--api-url", "user name or password"),
        ("api.example.com", "--api-url", "not a URL"),
        ("http://127.0.0.1:9", "--timeout", "timeout is zero"),
    ];
    for (url, flag, what) in cases {
        let extra: &[&str] = if flag == "--timeout" { &["--timeout", "0s"] } else { &[] };
        let output = run_against(url, &[&["list", &id][..], extra].concat());
        let text = String::from_utf8_lossy(&output.stderr);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(output.status.code(), Some(2), "{url}: {text}");
        assert_eq!(lines.len(), 2, "the refusal, then its hint: {text}");
        assert!(lines[0].contains(what), "{url}: {text}");
        assert!(lines[1].starts_with("hint: ") && lines[1].contains(flag), "{url}: {text}");
        // The SDK's remedies name its builder methods; this tool's users have flags instead.
        assert!(!text.contains("ClientBuilder") && !text.contains("allow_insecure_http"), "{url}: {text}");
    }
}

/// What a user sees for a plain-http base URL to another machine: the problem once, then the
/// remedy once, in this tool's terms.
#[test]
fn a_plain_http_url_elsewhere_is_one_error_and_one_hint_naming_the_flag() {
    let output = run_against("http://example.com", &["list", &Uuid::nil().to_string()]);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&output.stderr),
        "error: invalid client configuration: refusing to send the token in clear over http:// to example.com, \
         which is not this machine\n\
         hint: use an https:// URL for --api-url (QOVERY_API_URL); plain http is allowed to this machine only\n"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn names_with_escape_sequences_are_shown_escaped_in_a_table_and_exact_in_ndjson() {
    let server = mock(vec![5], FaultPlan::none().at(1, Fault::Escape).at(2, Fault::Escape)).await;
    let id = server.database_ids()[0].to_string();

    let table = run(&server, &["list", &id, "--output", "table"]).await;
    assert_eq!(table.status.code(), Some(0), "{}", stderr(&table));
    let text = stdout(&table);
    assert!(!text.contains('\u{1b}') && !text.contains('\u{7}') && !text.contains('\r'), "{text:?}");
    assert_eq!(text.lines().count(), 2 + 5, "a heading, the columns, one row per backup: {text}");

    let ndjson = run(&server, &["list", &id, "--output", "ndjson"]).await;
    let names: Vec<String> = stdout(&ndjson)
        .lines()
        .map(|line| {
            serde_json::from_str::<serde_json::Value>(line).unwrap()["name"].as_str().unwrap().to_owned()
        })
        .collect();
    assert!(
        names.iter().all(|name| name.contains('\u{1b}')),
        "machine formats keep the data exact: {names:?}"
    );
}
