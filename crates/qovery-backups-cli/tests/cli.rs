//! End to end: the `qovery-backups` binary against the mock on 127.0.0.1.
//!
//! The binary runs as a child process on the real clock, so retry waits are kept to a
//! millisecond with `--initial-backoff 1ms`; nothing here depends on the machine's speed.

mod common;

use std::collections::HashSet;

use assert_cmd::cargo::CommandCargoExt as _;
use common::{mock, ndjson, run, run_with_env, stderr, stdout};
use qovery_backups_mock::{Fault, FaultPlan, MockServer};
use uuid::Uuid;

fn ids_of(server: &MockServer, database_id: Uuid) -> Vec<String> {
    server.backups(database_id).iter().map(|b| b.id.to_string()).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn list_ndjson_writes_every_backup_once_with_its_database() {
    let server = mock(vec![21, 3], FaultPlan::none()).await;
    let ids: Vec<String> = server.database_ids().iter().map(Uuid::to_string).collect();
    let output = run(&server, &["list", &ids[0], &ids[1], "--output", "ndjson"]).await;
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));

    let lines = ndjson(&output);
    assert_eq!(lines.len(), 24);
    for database_id in server.database_ids() {
        let listed: Vec<String> = lines
            .iter()
            .filter(|l| l["database_id"] == database_id.to_string())
            .map(|l| l["id"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(listed, ids_of(&server, database_id));
    }
    // The API's own field names.
    for field in ["id", "created_at", "name", "message", "status"] {
        assert!(lines[0].get(field).is_some(), "{field}");
    }
    assert!(lines[0]["status"]["status_details"]["sub_action"].is_string());
}

#[tokio::test(flavor = "multi_thread")]
async fn limit_holds_for_each_database_in_every_format() {
    let server = mock(vec![30, 30], FaultPlan::none()).await;
    let ids: Vec<String> = server.database_ids().iter().map(Uuid::to_string).collect();
    // ndjson lists the databases together, the table one after the other: two code paths.
    for format in ["ndjson", "table"] {
        let output = run(&server, &["list", &ids[0], &ids[1], "--limit", "2", "--output", format]).await;
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        let text = stdout(&output);
        for database_id in server.database_ids() {
            let newest = &ids_of(&server, database_id)[..3];
            assert!(text.contains(&newest[0]) && text.contains(&newest[1]), "{format}: {text}");
            assert!(!text.contains(&newest[2]), "{format}: a third backup of {database_id}: {text}");
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn unknown_enum_values_are_written_verbatim() {
    let server = mock(vec![4], FaultPlan::none().at(1, Fault::UnknownEnum)).await;
    let id = server.database_ids()[0].to_string();
    let output = run(&server, &["list", &id, "--output", "ndjson"]).await;
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let states: Vec<String> =
        ndjson(&output).iter().map(|l| l["status"]["state"].as_str().unwrap().to_owned()).collect();
    assert!(states.iter().any(|s| s.starts_with("FUTURE_STATE_")), "{states:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn list_json_is_one_array_and_csv_one_row_per_backup() {
    let server = mock(vec![25], FaultPlan::none()).await;
    let id = server.database_ids()[0].to_string();

    let json = run(&server, &["list", &id, "--output", "json"]).await;
    assert_eq!(json.status.code(), Some(0), "{}", stderr(&json));
    let array: Vec<serde_json::Value> = serde_json::from_slice(&json.stdout).unwrap();
    let listed: Vec<&str> = array.iter().map(|b| b["id"].as_str().unwrap()).collect();
    assert_eq!(listed, ids_of(&server, server.database_ids()[0]));

    let csv = run(&server, &["list", &id, "--output", "csv"]).await;
    let text = stdout(&csv);
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("database_id,id,created_at,updated_at,name,message,state,action_status,total_duration_sec")
    );
    assert_eq!(lines.count(), 25);
}

#[tokio::test(flavor = "multi_thread")]
async fn list_table_fits_80_columns() {
    let server = mock(vec![25], FaultPlan::none()).await;
    let id = server.database_ids()[0].to_string();
    let env = [("QOVERY_API_TOKEN", server.token()), ("COLUMNS", "80")];
    let output = run_with_env(&server, &["list", &id, "--output", "table"], &env).await;
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(
        text.contains("ID") && text.contains("CREATED") && text.contains("STATUS") && text.contains("AGE")
    );
    // The status column is the backup's own outcome, what `check` judges by.
    let newest = &server.backups(server.database_ids()[0])[0];
    let outcome = newest.action_status().unwrap().to_string();
    let row = text.lines().find(|line| line.starts_with(&newest.id.to_string())).unwrap();
    assert!(row.contains(&outcome), "{outcome} in {row}");
    for line in text.lines() {
        assert!(line.chars().count() <= 80, "{} columns: {line}", line.chars().count());
    }
    let first = &ids_of(&server, server.database_ids()[0])[0];
    assert!(text.contains(first.as_str()), "full ids, so they can be passed to delete");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_listing_under_faults_gives_every_backup_exactly_once_database_after_database() {
    let faults: FaultPlan =
        "p=0.4,kinds=500|502|503|504|429s:0|reset|close|truncate|badjson,max=3,seed=11".parse().unwrap();
    let server = mock(vec![0, 20, 41, 67], faults).await;
    let ids: Vec<String> = server.database_ids().iter().map(Uuid::to_string).collect();
    let mut args = vec!["list", "--output", "ndjson", "--max-attempts", "4", "--concurrency", "3"];
    args.extend(ids.iter().map(String::as_str));
    let output = run(&server, &args).await;
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));

    let lines = ndjson(&output);
    let unique: HashSet<String> = lines.iter().map(|l| l["id"].as_str().unwrap().to_owned()).collect();
    assert_eq!(unique.len(), lines.len(), "nothing repeated");
    assert_eq!(lines.len(), 128, "nothing lost");
    assert!(server.requests().iter().any(|r| r.fault.is_some()), "faults were injected");
    // Three databases at once, and still the output of one after another: the same bytes
    // whatever order the answers came in.
    let listed: Vec<&str> = lines.iter().map(|l| l["id"].as_str().unwrap()).collect();
    let in_order: Vec<String> =
        server.database_ids().into_iter().flat_map(|db| ids_of(&server, db)).collect();
    assert_eq!(listed, in_order);
}

#[tokio::test(flavor = "multi_thread")]
async fn items_received_are_written_before_the_error() {
    let server = mock(vec![45], FaultPlan::none().at(2, Fault::Status(503))).await;
    let id = server.database_ids()[0].to_string();
    let output = run(&server, &["list", &id, "--output", "json", "--max-attempts", "1"]).await;
    assert_eq!(output.status.code(), Some(1));
    let array: Vec<serde_json::Value> = serde_json::from_slice(&output.stdout).expect("a closed JSON array");
    assert_eq!(array.len(), 20, "the first page was written");
    let message = stderr(&output);
    assert!(message.starts_with("error: "), "{message}");
    assert!(message.contains("--start-after"), "says where to resume: {message}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wrong_token_exits_1_after_one_request_naming_the_fix() {
    let server = mock(vec![5], FaultPlan::none()).await;
    let id = server.database_ids()[0].to_string();
    let output = run_with_env(&server, &["list", &id], &[("QOVERY_API_TOKEN", "wrong-token")]).await;
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(server.requests().len(), 1);
    let message = stderr(&output);
    let lines: Vec<&str> = message.lines().collect();
    assert_eq!(lines.len(), 2, "what failed, then what to do: {message}");
    assert!(lines[0].starts_with("error: ") && lines[0].contains("401"), "{message}");
    assert!(lines[1].starts_with("hint: "), "{message}");
    for needle in ["QOVERY_API_TOKEN", "QOVERY_CLI_ACCESS_TOKEN", "Token", "Bearer"] {
        assert!(message.contains(needle), "{needle}: {message}");
    }
    assert!(!message.contains("wrong-token"));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_token_never_appears_at_any_verbosity() {
    for flags in [&["-v"][..], &["-vv"], &["-vvv"]] {
        // A fresh server each time: its fault schedule counts requests from its start.
        let server = mock(vec![25], FaultPlan::none().at(1, Fault::Status(503)).at(3, Fault::Reset)).await;
        let id = server.database_ids()[0].to_string();
        let token = server.token().to_owned();
        let mut args = vec!["list", &id, "--output", "ndjson"];
        args.extend_from_slice(flags);
        let output =
            run_with_env(&server, &args, &[("QOVERY_API_TOKEN", &token), ("RUST_LOG", "trace")]).await;
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        let everything = format!("{}{}", stdout(&output), stderr(&output));
        assert!(everything.contains("retrying"), "traces were printed with {flags:?}");
        assert!(!everything.contains(&token), "token leaked with {flags:?}");
    }
    let server = mock(vec![1], FaultPlan::none()).await;
    let id = server.database_ids()[0].to_string();
    // A token given on the command line does not leak either, even when it is refused.
    let output =
        run_with_env(&server, &["latest", &id, "--token", "s3cr3t-on-the-command-line", "-vvv"], &[]).await;
    assert_eq!(output.status.code(), Some(1));
    assert!(!format!("{}{}", stdout(&output), stderr(&output)).contains("s3cr3t-on-the-command-line"));
}

#[tokio::test(flavor = "multi_thread")]
async fn create_whose_answer_is_lost_leaves_exactly_one_backup() {
    // Request 1 reads the existing backups; request 2 is the POST, applied then cut.
    let server = mock(vec![5], FaultPlan::none().at(2, Fault::Lost)).await;
    let database_id = server.database_ids()[0];
    let output = run(
        &server,
        &["create", &database_id.to_string(), "--name", "nightly", "--message", "cron", "--output", "json"],
    )
    .await;
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let created: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let held = ids_of(&server, database_id);
    assert_eq!(held.len(), 6, "exactly one backup was created");
    assert_eq!(created["id"], held[0]);
    assert_eq!(server.requests().iter().filter(|r| r.method == "POST").count(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn delete_whose_answer_is_lost_exits_0() {
    let server = mock(vec![5], FaultPlan::none().at(1, Fault::Lost)).await;
    let database_id = server.database_ids()[0];
    let victim = ids_of(&server, database_id)[2].clone();
    let output = run(&server, &["delete", &database_id.to_string(), &victim]).await;
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(stdout(&output).contains(&format!("deleted backup {victim}")));
    assert!(!ids_of(&server, database_id).contains(&victim));
}

#[tokio::test(flavor = "multi_thread")]
async fn an_invalid_json_answer_exits_1_saying_it_could_not_be_decoded() {
    let always_bad: FaultPlan = "p=1,kinds=badjson,max=100".parse().unwrap();
    let server = mock(vec![5], always_bad).await;
    let output = run(&server, &["latest", &server.database_ids()[0].to_string()]).await;
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("could not be decoded"), "{}", stderr(&output));
    assert_eq!(server.requests().len(), 3, "tried --max-attempts (3) times");
}

#[tokio::test(flavor = "multi_thread")]
async fn latest_prints_the_newest_backup_of_each_database() {
    let server = mock(vec![30, 2], FaultPlan::none()).await;
    let ids = server.database_ids();
    let output =
        run(&server, &["latest", &ids[0].to_string(), &ids[1].to_string(), "--output", "ndjson"]).await;
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let lines = ndjson(&output);
    assert_eq!(lines.len(), 2);
    for (line, database_id) in lines.iter().zip(&ids) {
        assert_eq!(line["id"], ids_of(&server, *database_id)[0]);
        assert_eq!(line["database_id"], database_id.to_string());
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn check_exit_codes_tell_fresh_from_stale_from_missing() {
    // The mock's backups are from November 2026 and older.
    let server = mock(vec![10, 0], FaultPlan::none()).await;
    let ids: Vec<String> = server.database_ids().iter().map(Uuid::to_string).collect();

    let fresh = run(&server, &["check", &ids[0], "--max-age", "3650d"]).await;
    assert_eq!(fresh.status.code(), Some(0), "{}", stderr(&fresh));
    assert!(stdout(&fresh).starts_with("OK "));

    let stale = run(&server, &["check", &ids[0], "--max-age", "1h"]).await;
    assert_eq!(stale.status.code(), Some(3));
    assert!(stdout(&stale).starts_with("STALE "));

    let missing = run(&server, &["check", &ids[1], "--max-age", "3650d"]).await;
    assert_eq!(missing.status.code(), Some(3));
    assert!(stdout(&missing).starts_with("MISSING "));

    // Qovery answers 404 for a database whose backups the cloud provider manages, and for an
    // id that names no database: a lookup of the database tells which.
    let environment =
        server.add_environment(server.add_project(server.add_organization("o"), "p").unwrap(), "e");
    let rds = server
        .add_database_in(environment.unwrap(), "rds", qovery_backups::types::DatabaseModeEnum::Managed, 0, 0)
        .unwrap()
        .to_string();
    let unmanaged = run(&server, &["check", &ids[0], &rds, "--max-age", "3650d"]).await;
    assert_eq!(unmanaged.status.code(), Some(0), "{}", stderr(&unmanaged));
    assert!(
        stdout(&unmanaged).lines().any(|l| l.starts_with("UNMANAGED ") && l.contains(&rds)),
        "{}",
        stdout(&unmanaged)
    );

    // A mistyped id never passes: it is named, and the check exits 1.
    let mistyped = Uuid::new_v4().to_string();
    let not_found = run(&server, &["check", &ids[0], &mistyped, "--max-age", "3650d"]).await;
    assert_eq!(not_found.status.code(), Some(1), "{}", stderr(&not_found));
    assert!(
        stdout(&not_found).lines().any(|l| l.starts_with("NOT_FOUND ") && l.contains(&mistyped)),
        "{}",
        stdout(&not_found)
    );
    assert!(stderr(&not_found).contains(&mistyped), "{}", stderr(&not_found));
    for command in ["latest", "list"] {
        let output = run(&server, &[command, &mistyped]).await;
        assert_eq!(output.status.code(), Some(1), "{command}: {}", stderr(&output));
        assert!(
            stderr(&output).contains(&format!("{mistyped}: no such database")),
            "{command}: {}",
            stderr(&output)
        );
    }
}

/// Out-of-range durations are usage errors, never a panic; zero is refused where it means
/// nothing.
#[tokio::test(flavor = "multi_thread")]
async fn durations_past_a_century_or_zero_are_usage_errors_not_panics() {
    let server = mock(vec![1], FaultPlan::none()).await;
    let id = server.database_ids()[0].to_string();
    for max_age in ["265000y", "1000000000d", "0s"] {
        let output = run(&server, &["check", &id, "--max-age", max_age]).await;
        assert_eq!(output.status.code(), Some(2), "--max-age {max_age}: {}", stderr(&output));
        assert!(!stderr(&output).contains("panicked"), "{}", stderr(&output));
    }
    let output = run(&server, &["list", &id, "--timeout", "500000y"]).await;
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
}

#[tokio::test(flavor = "multi_thread")]
async fn usage_errors_exit_2() {
    let server = mock(vec![1, 1], FaultPlan::none()).await;
    let ids: Vec<String> = server.database_ids().iter().map(Uuid::to_string).collect();
    let not_a_uuid = run(&server, &["list", "not-a-uuid"]).await;
    assert_eq!(not_a_uuid.status.code(), Some(2));

    let start_after_two = run(&server, &["list", &ids[0], &ids[1], "--start-after", &ids[0]]).await;
    assert_eq!(start_after_two.status.code(), Some(2));
    assert!(stderr(&start_after_two).contains("exactly one"));

    let no_token = run_with_env(&server, &["list", &ids[0]], &[]).await;
    assert_eq!(no_token.status.code(), Some(2));
    assert!(stderr(&no_token).contains("QOVERY_API_TOKEN"));
    assert_eq!(server.requests().len(), 0, "nothing was sent");
}

#[cfg(feature = "mock")]
#[test]
fn mock_prints_its_address_first_and_serves() {
    use std::io::{BufRead as _, BufReader};
    let mut child = std::process::Command::cargo_bin("qovery-backups")
        .unwrap()
        .args(["mock", "--addr", "127.0.0.1:0", "--token", "t", "--databases", "2", "--backups", "3"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut first).unwrap();
    let result = std::panic::catch_unwind(|| {
        let base = first.trim().strip_prefix("listening on ").expect("first line names the address");
        assert!(base.starts_with("http://127.0.0.1:"), "{first}");
        // The server answers: an unknown database is 404 with the token, 401 without.
        let url = format!("{base}/database/{}/backup", Uuid::nil());
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let (authorized, anonymous) = runtime.block_on(async {
            let http = reqwest::Client::new();
            let authorized = http.get(&url).header("Authorization", "Token t").send().await.unwrap().status();
            let anonymous = http.get(&url).send().await.unwrap().status();
            (authorized.as_u16(), anonymous.as_u16())
        });
        assert_eq!((authorized, anonymous), (404, 401));
    });
    child.kill().unwrap();
    child.wait().unwrap();
    result.unwrap();
}

#[cfg(feature = "mock")]
#[test]
fn demo_lists_through_faults_and_proves_nothing_was_lost() {
    let output = std::process::Command::cargo_bin("qovery-backups").unwrap().arg("demo").output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(text.contains("nothing lost, nothing repeated"), "{text}");
    let retries_line = text.lines().find(|l| l.starts_with("retries")).unwrap();
    assert!(!retries_line.starts_with("retries    0"), "the demo's faults were retried: {retries_line}");
    // The fleet check shows each kind of verdict a monitored organization has.
    for verdict in ["OK ", "STALE ", "UNMANAGED "] {
        assert!(text.lines().any(|l| l.starts_with(verdict)), "{verdict}: {text}");
    }
}

/// Run by `cargo test -p qovery-backups-cli --no-default-features`: the tool builds and lists
/// without the mock, and says plainly that the mock's commands are not in this build.
#[cfg(not(feature = "mock"))]
#[test]
fn without_the_mock_feature_mock_and_demo_are_unknown_commands() {
    for command in ["mock", "demo"] {
        let output =
            std::process::Command::cargo_bin("qovery-backups").unwrap().arg(command).output().unwrap();
        assert_eq!(output.status.code(), Some(2), "{command}");
        assert!(stderr(&output).contains("unrecognized subcommand"), "{}", stderr(&output));
    }
}

#[test]
fn completion_scripts_come_from_the_same_definitions() {
    let run_with = |args: &[&str]| {
        let output = std::process::Command::cargo_bin("qovery-backups").unwrap().args(args).output().unwrap();
        assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8(output.stdout).unwrap()
    };
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let script = run_with(&["completions", shell]);
        for word in ["qovery-backups", "prune", "max-age", "wait-timeout"] {
            assert!(script.contains(word), "{shell} completion lacks {word}");
        }
    }
}

fn deletes(server: &MockServer) -> usize {
    server.requests().iter().filter(|r| r.method.as_str() == "DELETE").count()
}

/// A prune without a rule would delete every backup but the newest: it is refused before any
/// request, with what is wrong and, on its own line, which flags would fix it.
#[tokio::test(flavor = "multi_thread")]
async fn prune_without_a_keep_rule_is_a_usage_error_naming_the_flags() {
    let server = mock(vec![5], FaultPlan::none()).await;
    let id = server.database_ids()[0].to_string();
    let output = run(&server, &["prune", &id]).await;
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    let text = stderr(&output);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(lines[0].starts_with("error: ") && lines[0].contains("no keep rule"), "{text}");
    assert!(
        lines[1].starts_with("hint: ")
            && lines[1].contains("--keep-daily")
            && lines[1].contains("--keep-within"),
        "{text}"
    );
    assert!(server.requests().is_empty(), "nothing asked of the API");
}

/// The setup that once deleted every real backup: 30 nightlies, and one answer whose newest
/// backup claims 9999-12-31. The prune names the backup and both dates, deletes nothing, exits 1.
#[tokio::test(flavor = "multi_thread")]
async fn prune_refuses_a_listing_with_a_backup_dated_in_the_future() {
    for rules in [["--keep-within", "7d"], ["--keep-daily", "7"]] {
        let server = mock(vec![30], FaultPlan::none().at(1, Fault::Future)).await;
        let id = server.database_ids()[0].to_string();
        let output = run(&server, &["prune", &id, rules[0], rules[1], "--output", "ndjson"]).await;
        assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
        let text = stderr(&output);
        assert!(text.contains("refused, nothing deleted") && text.contains("9999-12-31T23:59:59Z"), "{text}");
        assert!(text.contains("after now ("), "both dates: {text}");
        assert_eq!(deletes(&server), 0);
        assert_eq!(server.backup_count(server.database_ids()[0]), Some(30));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn prune_max_delete_refuses_a_bigger_plan_whole_and_names_the_count() {
    let server = mock(vec![30], FaultPlan::none()).await;
    let id = server.database_ids()[0].to_string();
    let output =
        run(&server, &["prune", &id, "--keep-last", "5", "--max-delete", "3", "--output", "ndjson"]).await;
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let text = stderr(&output);
    let planned: usize = text
        .split("the plan deletes ")
        .nth(1)
        .and_then(|rest| rest.split(" backups, more than the 3 allowed").next())
        .and_then(|count| count.parse().ok())
        .unwrap_or_else(|| panic!("the count is named: {text}"));
    assert!(planned > 3, "{text}");
    assert_eq!(deletes(&server), 0);

    let max = planned.to_string();
    let within =
        run(&server, &["prune", &id, "--keep-last", "5", "--max-delete", &max, "--output", "ndjson"]).await;
    assert_eq!(within.status.code(), Some(0), "{}", stderr(&within));
    assert_eq!(deletes(&server), planned);
}
