//! End to end: `wait`, `create --wait` and `prune` of the `qovery-backups` binary against the
//! mock on 127.0.0.1.
//!
//! The binary is a child process on the real clock, so the mock's lifecycles are a few hundred
//! milliseconds and polls start at 20 ms. No assertion depends on the machine's speed: a test
//! that must act while the binary waits watches the mock's request log for the moment, and
//! every timeout asked for is far shorter than the lifecycle it interrupts.

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use common::{authorized as command, ndjson, run, run_with_env, stderr, stdout};
use qovery_backups::types::ServiceActionStatusEnum;
use qovery_backups::{Backup, KeepRule, Plan, RetentionPolicy, Utc, decide};
use qovery_backups_mock::testing::{self, mock_with_lifecycle};
use qovery_backups_mock::{Fault, FaultPlan, Lifecycle, MockConfig, MockServer};
use uuid::Uuid;

fn short(queued_ms: u64, ongoing_ms: u64) -> Lifecycle {
    Lifecycle { queued: Duration::from_millis(queued_ms), ongoing: Duration::from_millis(ongoing_ms) }
}

fn requests(server: &MockServer, method: &str) -> usize {
    server.requests().iter().filter(|r| r.method.as_str() == method).count()
}

/// Waits (on the real clock) until the mock has answered `n` listings: the moment to act while
/// the binary waits, whatever the machine's speed.
/// Gives up after a minute, so that a binary that never lists fails the test instead of hanging
/// it.
async fn until_listed(server: &MockServer, n: usize) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while server.requests().iter().filter(|r| r.method.as_str() == "GET" && r.status == Some(200)).count() < n
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the mock answered fewer than {n} listings in a minute"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// A backup named `name`, as a listing carries it.
fn backup(id: u128, created_at: &str, outcome: &str, name: &str) -> Backup {
    Backup { name: name.to_owned(), ..testing::backup(id, created_at, outcome) }
}

/// 45 nightly successful backups, ids 1 (newest) to 45, and one failed one: three pages.
fn nightly() -> Vec<Backup> {
    let mut backups = testing::daily(1, 45, "2026-11-27T03:00:00Z", "SUCCESS");
    backups.push(backup(100, "2026-11-20T05:00:00Z", "ERROR", "failed"));
    backups
}

const POLL: [&str; 2] = ["--poll-interval", "20ms"];

// ---------------------------------------------------------------------------------------------
// create --wait, wait

#[tokio::test(flavor = "multi_thread")]
async fn create_wait_succeeds_prints_the_backup_and_one_line_per_status_change() {
    let server = mock_with_lifecycle(short(40, 400), FaultPlan::none()).await;
    let database_id = server.database_ids()[0].to_string();

    let output = run(
        &server,
        &[
            "create",
            &database_id,
            "--name",
            "n",
            "--message",
            "m",
            "--wait",
            POLL[0],
            POLL[1],
            "--output",
            "json",
        ],
    )
    .await;

    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let printed = ndjson(&output);
    assert_eq!(printed.len(), 1);
    assert_eq!(printed[0]["database_id"], database_id);
    assert_eq!(printed[0]["status"]["status_details"]["status"], "SUCCESS");
    assert_eq!(printed[0]["id"], server.backup_ids(server.database_ids()[0])[0].to_string());
    let err = stderr(&output);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 3, "{err}");
    for (line, status) in lines.iter().zip(["QUEUED", "ONGOING", "SUCCESS"]) {
        assert!(line.contains(&format!(": {status} after ")), "{err}");
    }
    assert!(!err.contains('\r') && !err.contains('\u{1b}'), "plain text off a terminal: {err:?}");
    // Polls after 20, 40, 80, 160 ms…: at least five listings (the create's look and four polls
    // before the 440 ms lifecycle can end) made three lines: one per change, not per poll.
    assert!(requests(&server, "GET") >= 5, "{}", requests(&server, "GET"));
}

#[tokio::test(flavor = "multi_thread")]
async fn create_wait_on_a_failed_or_canceled_backup_exits_1_with_the_backup_and_a_reason() {
    for (outcome, name) in
        [(ServiceActionStatusEnum::Error, "ERROR"), (ServiceActionStatusEnum::Canceled, "CANCELED")]
    {
        let server = mock_with_lifecycle(short(20, 60), FaultPlan::none()).await;
        let database_id = server.database_ids()[0];
        server.push_outcome(outcome);

        let output = run(
            &server,
            &[
                "create",
                &database_id.to_string(),
                "--name",
                "n",
                "--message",
                "m",
                "--wait",
                POLL[0],
                POLL[1],
            ],
        )
        .await;

        assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
        let created = server.backup_ids(database_id)[0];
        assert_eq!(stdout(&output), format!("backup {created} (n) of database {database_id}: {name}\n"));
        assert!(
            stderr(&output)
                .contains(&format!("error: backup {created} of database {database_id} ended {name}\n")),
            "{}",
            stderr(&output)
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn wait_on_a_backup_deleted_meanwhile_exits_1_saying_it_vanished() {
    let server = mock_with_lifecycle(Lifecycle::default(), FaultPlan::none()).await;
    let mut backups = nightly();
    backups.push(backup(200, "2026-11-27T09:00:00Z", "ONGOING", "running")); // never moves on
    let database_id = server.add_database_with(backups).unwrap();
    let running = Uuid::from_u128(200);

    let mut child =
        command(&server, &["wait", &database_id.to_string(), &running.to_string(), POLL[0], POLL[1]]);
    let child = tokio::task::spawn_blocking(move || child.output().unwrap());
    until_listed(&server, 1).await;
    assert!(server.remove_backup(database_id, running));
    let output = child.await.unwrap();

    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert_eq!(stdout(&output), format!("backup {running} (running) of database {database_id}: ONGOING\n"));
    assert!(stderr(&output).contains("disappeared while being waited on"), "{}", stderr(&output));
}

#[tokio::test(flavor = "multi_thread")]
async fn create_wait_times_out_with_the_backup_as_last_seen_and_leaves_it() {
    let server = mock_with_lifecycle(short(0, 3_600_000), FaultPlan::none()).await;
    let database_id = server.database_ids()[0];

    let output = run(
        &server,
        &[
            "create",
            &database_id.to_string(),
            "--name",
            "n",
            "--message",
            "m",
            "--wait",
            "--wait-timeout",
            "300ms",
        ],
    )
    .await;

    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let created = server.backup_ids(database_id)[0];
    assert!(stdout(&output).starts_with(&format!("backup {created} (n) of database {database_id}: ")));
    assert!(stderr(&output).contains("was still"), "{}", stderr(&output));
    assert_eq!(requests(&server, "DELETE"), 0, "a timeout leaves the backup");
    assert!(server.backup(database_id, created).is_some());
}

#[tokio::test(flavor = "multi_thread")]
async fn unavailable_answers_while_polling_are_retried() {
    // 1: the create's look at the newest page, 2: the POST, then polls.
    let faults =
        FaultPlan::none().at(3, Fault::Status(503)).at(5, Fault::Status(503)).at(6, Fault::Status(502));
    let server = mock_with_lifecycle(short(30, 60), faults).await;
    let database_id = server.database_ids()[0].to_string();

    let output =
        run(&server, &["create", &database_id, "--name", "n", "--message", "m", "--wait", POLL[0], POLL[1]])
            .await;

    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(stdout(&output).ends_with(": SUCCESS\n"), "{}", stdout(&output));
    assert_eq!(server.requests().iter().filter(|r| r.status.is_some_and(|s| s >= 500)).count(), 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn wait_on_an_id_the_database_does_not_have_exits_1_at_once() {
    let server = mock_with_lifecycle(Lifecycle::default(), FaultPlan::none()).await;
    let database_id = server.database_ids()[0];
    let missing = Uuid::from_u128(0xdead);

    let output = run(&server, &["wait", &database_id.to_string(), &missing.to_string()]).await;

    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert_eq!(stdout(&output), "", "no backup was seen");
    assert!(
        stderr(&output).contains(&format!("error: database {database_id} has no backup {missing}")),
        "{}",
        stderr(&output)
    );
    assert_eq!(requests(&server, "GET"), 3, "one look through the listing, no polling");
}

#[tokio::test(flavor = "multi_thread")]
async fn wait_on_a_finished_backup_reads_only_the_page_that_holds_it() {
    let server = mock_with_lifecycle(Lifecycle::default(), FaultPlan::none()).await;
    let database_id = server.add_database_with(nightly()).unwrap();
    let on_page_two = Uuid::from_u128(25);

    let output =
        run(&server, &["wait", &database_id.to_string(), &on_page_two.to_string(), "--output", "json"]).await;

    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(ndjson(&output)[0]["id"], on_page_two.to_string());
    assert_eq!(requests(&server, "GET"), 2, "pages 1 and 2 only");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_zero_wait_timeout_is_a_usage_error() {
    let server = mock_with_lifecycle(Lifecycle::default(), FaultPlan::none()).await;
    let database_id = server.database_ids()[0].to_string();
    for args in [
        vec!["wait", &database_id, "00000000-0000-0000-0000-000000000001", "--wait-timeout", "0s"],
        vec!["create", &database_id, "--name", "n", "--message", "m", "--wait", "--wait-timeout", "0s"],
    ] {
        let output = run(&server, &args).await;
        assert_eq!(output.status.code(), Some(2), "{args:?}: {}", stderr(&output));
        assert!(stderr(&output).contains("longer than zero"), "{}", stderr(&output));
    }
    assert!(server.requests().is_empty(), "nothing sent");
}

// ---------------------------------------------------------------------------------------------
// prune

fn expected_plan(server: &MockServer, database_id: Uuid) -> Plan {
    let policy = RetentionPolicy::builder().keep_daily(7).keep_weekly(2).build().unwrap();
    decide(&policy, &server.backups(database_id), Utc::now()).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn prune_dry_run_prints_the_plan_and_deletes_nothing() {
    let server = mock_with_lifecycle(Lifecycle::default(), FaultPlan::none()).await;
    let database_id = server.add_database_with(nightly()).unwrap();
    let expected = expected_plan(&server, database_id);

    let output = run(
        &server,
        &[
            "prune",
            &database_id.to_string(),
            "--keep-daily",
            "7",
            "--keep-weekly",
            "2",
            "--dry-run",
            "--output",
            "ndjson",
        ],
    )
    .await;

    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(requests(&server, "DELETE"), 0);
    assert_eq!(server.backup_count(database_id), Some(46));
    let lines = ndjson(&output);
    assert_eq!(lines.len(), 46);
    for (line, decision) in lines.iter().zip(expected.decisions()) {
        assert_eq!(line["database_id"], database_id.to_string());
        assert_eq!(line["id"], decision.backup.id.to_string());
        assert_eq!(line["name"], decision.backup.name);
        assert!(line["created_at"].is_string());
        assert_eq!(line["action"], if decision.is_keep() { "keep" } else { "delete" });
        let reasons = line["reasons"].as_array().unwrap();
        if decision.is_keep() {
            assert!(!reasons.is_empty(), "{line}");
        }
    }
    let failed_line = lines.iter().find(|l| l["name"] == "failed").unwrap();
    assert_eq!(failed_line["action"], "keep", "failed backups are kept without --delete-failed");
    assert!(
        stderr(&output).contains(&format!(
            "database {database_id}: kept {}, deleted 0, failed 0 (dry run: would delete {})",
            expected.keep_count(),
            expected.delete_count()
        )),
        "{}",
        stderr(&output)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn prune_deletes_exactly_the_plan_through_lost_answers() {
    // Requests 1 to 3 list the database; deletes start at 4.
    let faults = FaultPlan::none().at(4, Fault::Lost).at(7, Fault::Lost).at(9, Fault::Status(503));
    let server = mock_with_lifecycle(Lifecycle::default(), faults).await;
    let database_id = server.add_database_with(nightly()).unwrap();
    let expected = expected_plan(&server, database_id);
    let kept: Vec<Uuid> = expected.to_keep().map(|b| b.id).collect();

    let output =
        run(&server, &["prune", &database_id.to_string(), "--keep-daily", "7", "--keep-weekly", "2"]).await;

    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(server.backup_ids(database_id), kept);
    assert!(
        stderr(&output).contains(&format!(
            "database {database_id}: kept {}, deleted {}, failed 0",
            expected.keep_count(),
            expected.delete_count()
        )),
        "{}",
        stderr(&output)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_listing_failing_half_way_deletes_nothing_there_and_the_other_databases_go_on() {
    // Request 2 is the first database's second page (one database at a time: with more, the
    // second database's first page could come before it): refused (403 is not retried).
    let server = mock_with_lifecycle(Lifecycle::default(), FaultPlan::none().at(2, Fault::Status(403))).await;
    let broken = server.add_database_with(nightly()).unwrap();
    let fine = server.add_database_with(nightly()).unwrap();
    let expected_fine = expected_plan(&server, fine);

    let output = run(
        &server,
        &[
            "prune",
            &broken.to_string(),
            &fine.to_string(),
            "--keep-daily",
            "7",
            "--keep-weekly",
            "2",
            "--output",
            "ndjson",
            "--concurrency",
            "1",
        ],
    )
    .await;

    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert_eq!(server.backup_count(broken), Some(46), "nothing deleted where the listing failed");
    assert_eq!(server.backup_ids(fine), expected_fine.to_keep().map(|b| b.id).collect::<Vec<_>>());
    let err = stderr(&output);
    assert!(err.contains(&format!("error: listing the backups of database {broken}")), "{err}");
    assert!(err.contains(&format!("database {fine}: kept")), "{err}");
    assert!(
        ndjson(&output).iter().all(|l| l["database_id"] == fine.to_string()),
        "no plan printed for {broken}"
    );
}

/// The databases a request was about, in the order the mock received them, each run of
/// requests about one database counted once.
fn databases_in_request_order(server: &MockServer) -> Vec<Uuid> {
    let mut order: Vec<Uuid> = server
        .requests()
        .iter()
        .filter_map(|r| r.path.strip_prefix("/database/")?.split('/').next()?.parse().ok())
        .collect();
    order.dedup();
    order
}

/// Several databases pruned four at a time print, byte for byte, what one at a time prints (the
/// plans in the order given, each with its summary, the errors of an unknown id and of a plan
/// over --max-delete), and delete exactly what each plan says; the listings did overlap.
#[tokio::test(flavor = "multi_thread")]
async fn prune_with_concurrency_prints_what_one_at_a_time_prints_and_deletes_exactly_the_plans() {
    // Same seed, same data: one server per run. The first database has seven pages, so the
    // others' listings end before its own when they run together.
    let config = || MockConfig {
        latency: Duration::from_millis(5),
        ..testing::config(vec![130, 45, 3, 60, 20], FaultPlan::none())
    };
    let one_at_a_time = testing::start(config()).await;
    let four_at_a_time = testing::start(config()).await;
    let ids = one_at_a_time.database_ids();
    assert_eq!(four_at_a_time.database_ids(), ids);
    let before: Vec<Vec<Uuid>> = ids.iter().map(|&id| one_at_a_time.backup_ids(id)).collect();
    let policy = RetentionPolicy::builder().keep_daily(7).keep_weekly(4).build().unwrap();
    let plans: Vec<Plan> =
        ids.iter().map(|&id| decide(&policy, &one_at_a_time.backups(id), Utc::now()).unwrap()).collect();
    // --max-delete refuses the first database's plan, and only it.
    let max_delete = plans[1..].iter().map(Plan::delete_count).max().unwrap();
    assert!(plans[0].delete_count() > max_delete && max_delete > 0);
    let unknown = Uuid::from_u128(0xdead);

    let given: Vec<Uuid> = [&ids[..2], &[unknown], &ids[2..]].concat();
    let given_text: Vec<String> = given.iter().map(Uuid::to_string).collect();
    let max = max_delete.to_string();
    let prune = |concurrency: &'static str| {
        let mut args: Vec<&str> = vec!["prune"];
        args.extend(given_text.iter().map(String::as_str));
        args.extend(["--keep-daily", "7", "--keep-weekly", "4", "--max-delete", &max]);
        args.extend(["--output", "ndjson", "--concurrency", concurrency]);
        args
    };
    let sequential = run(&one_at_a_time, &prune("1")).await;
    let concurrent = run(&four_at_a_time, &prune("4")).await;

    assert_eq!(sequential.status.code(), Some(1), "{}", stderr(&sequential));
    assert_eq!(concurrent.status.code(), Some(1), "{}", stderr(&concurrent));
    assert_eq!(stdout(&concurrent), stdout(&sequential));
    assert_eq!(stderr(&concurrent), stderr(&sequential));
    assert_eq!((&concurrent.stdout, &concurrent.stderr), (&sequential.stdout, &sequential.stderr));

    // What that output is: the plans of the databases not refused, in the order given, then
    // an error for the refused plan and one for the unknown id, in that order.
    let printed: Vec<Uuid> =
        ndjson(&concurrent).iter().map(|l| l["database_id"].as_str().unwrap().parse().unwrap()).collect();
    let mut planned_order = printed.clone();
    planned_order.dedup();
    assert_eq!(planned_order, [ids[1], ids[2], ids[3], ids[4]]);
    assert_eq!(printed.len(), plans[1..].iter().map(Plan::len).sum::<usize>());
    let err = stderr(&concurrent);
    let errors: Vec<&str> = err.lines().filter(|l| l.starts_with("error: ")).collect();
    assert_eq!(errors.len(), 2, "{err}");
    assert!(errors[0].contains(&ids[0].to_string()) && errors[0].contains("more than the"), "{err}");
    assert!(errors[1].contains(&unknown.to_string()), "{err}");

    for server in [&one_at_a_time, &four_at_a_time] {
        assert_eq!(server.backup_ids(ids[0]), before[0], "the refused database keeps everything");
        for (&id, plan) in ids.iter().zip(&plans).skip(1) {
            let kept: BTreeSet<Uuid> = plan.to_keep().map(|b| b.id).collect();
            assert_eq!(server.backup_ids(id).into_iter().collect::<BTreeSet<_>>(), kept);
        }
        let planned_deletes: usize = plans[1..].iter().map(Plan::delete_count).sum();
        assert_eq!(requests(server, "DELETE"), planned_deletes);
    }
    // One at a time, each database's requests end before the next one's start; four at a time,
    // the first database's listing is still going when the others are asked for.
    assert_eq!(databases_in_request_order(&one_at_a_time), given);
    assert_ne!(databases_in_request_order(&four_at_a_time), given);
}

/// Each `--keep-*` flag sets the rule it names: alone, it gives that rule's plan.
#[tokio::test(flavor = "multi_thread")]
async fn every_keep_flag_sets_the_rule_it_names() {
    let server = mock_with_lifecycle(Lifecycle::default(), FaultPlan::none()).await;
    let database_id = server.add_database_with(nightly()).unwrap();
    let id = database_id.to_string();
    for rule in KeepRule::COUNTED {
        let flag = format!("--{rule}");
        let output = run(&server, &["prune", &id, &flag, "2", "--dry-run", "--output", "ndjson"]).await;
        assert_eq!(output.status.code(), Some(0), "{flag}: {}", stderr(&output));

        let policy = RetentionPolicy::builder().keep(rule, 2).build().unwrap();
        let expected = decide(&policy, &server.backups(database_id), Utc::now()).unwrap();
        let printed: Vec<(String, Vec<String>)> = ndjson(&output)
            .iter()
            .map(|l| {
                (l["id"].as_str().unwrap().to_owned(), serde_json::from_value(l["reasons"].clone()).unwrap())
            })
            .collect();
        let planned: Vec<(String, Vec<String>)> = expected
            .decisions()
            .iter()
            .map(|d| {
                let reasons = match &d.verdict {
                    qovery_backups::Verdict::Delete(why) => vec![why.to_string()],
                    _ => d.reasons().iter().map(ToString::to_string).collect(),
                };
                (d.backup.id.to_string(), reasons)
            })
            .collect();
        assert_eq!(printed, planned, "{flag}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn prune_usage_errors_exit_2_and_send_nothing() {
    let server = mock_with_lifecycle(Lifecycle::default(), FaultPlan::none()).await;
    let database_id = server.database_ids()[0].to_string();
    for args in [
        vec!["prune", &database_id],
        vec!["prune", &database_id, "--delete-failed"],
        vec!["prune", &database_id, "--keep-last", "0"],
        vec!["prune", &database_id, "--keep-within", "0s"],
        vec!["prune", "--keep-last", "3"],
    ] {
        let output = run(&server, &args).await;
        assert_eq!(output.status.code(), Some(2), "{args:?}: {}", stderr(&output));
    }
    assert!(server.requests().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn prune_table_escapes_control_characters_in_names() {
    let server = mock_with_lifecycle(Lifecycle::default(), FaultPlan::none()).await;
    let mut backups = nightly();
    backups[0].name = "\u{1b}[8mhidden\r".to_owned();
    let database_id = server.add_database_with(backups).unwrap();

    // Wide enough for the reasons beside the name.
    let output = run_with_env(
        &server,
        &["prune", &database_id.to_string(), "--keep-last", "1", "--dry-run", "--output", "table"],
        &[("QOVERY_API_TOKEN", server.token()), ("COLUMNS", "160")],
    )
    .await;

    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(!text.contains('\u{1b}') && !text.contains('\r'), "{text:?}");
    assert!(text.contains("\\u{1b}[8mhidden\\r"), "{text}");
    let row = text.lines().find(|l| l.contains(&Uuid::from_u128(1).to_string())).unwrap();
    assert!(row.starts_with("KEEP") && row.contains("newest successful"), "{row}");
}
