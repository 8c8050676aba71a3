//! The fleet: `databases`, and `list`, `latest`, `check`, `prune` given organizations, projects
//! and environments, end to end against the mock.

mod common;

use std::collections::HashSet;

use common::{ndjson, run, stderr, stdout};
use qovery_backups::types::{Backup, DatabaseModeEnum, ServiceActionStatusEnum};
use qovery_backups_mock::{FaultPlan, Fleet, MockConfig, MockServer, testing};
use uuid::Uuid;

async fn fleet(faults: FaultPlan) -> MockServer {
    testing::start(MockConfig { databases: 1, fleet: Fleet::sample(), faults, ..MockConfig::default() }).await
}

fn id_of(value: &serde_json::Value) -> Uuid {
    value["database_id"].as_str().unwrap().parse().unwrap()
}

/// Requests for the backups of these databases, as the mock logged them.
fn backup_requests(server: &MockServer, databases: &[Uuid]) -> usize {
    server
        .requests()
        .iter()
        .filter(|r| databases.iter().any(|id| r.path.starts_with(&format!("/database/{id}/"))))
        .count()
}

#[tokio::test(flavor = "multi_thread")]
async fn databases_lists_every_organization_by_default_and_each_scope_once() {
    let server = fleet(FaultPlan::new()).await;
    let every: Vec<Uuid> =
        server.organization_ids().into_iter().flat_map(|o| server.organization_database_ids(o)).collect();

    let output = run(&server, &["databases", "--output", "ndjson"]).await;
    assert!(output.status.success(), "{}", stderr(&output));
    let rows = ndjson(&output);
    assert_eq!(rows.iter().map(id_of).collect::<Vec<_>>(), every);
    let managed: Vec<Uuid> = rows.iter().filter(|r| r["managed_by_provider"] == true).map(id_of).collect();
    assert_eq!(managed, server.managed_database_ids());
    assert!(rows.iter().all(|r| r["mode"] == "MANAGED" || r["mode"] == "CONTAINER"));
    assert_eq!(rows[0]["organization"], "default");

    // Overlapping scopes: an organization and one of its projects.
    let organization = server.organization_ids()[1];
    let project = server.project_ids(organization)[0];
    let (o, p) = (organization.to_string(), project.to_string());
    let output = run(&server, &["databases", "--organization", &o, "--project", &p, "--output", "csv"]).await;
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    let mut lines = text.lines();
    assert!(lines.next().unwrap().starts_with("database_id,database,type,version,mode,"));
    let ids: Vec<Uuid> = lines.map(|l| l.split(',').next().unwrap().parse().unwrap()).collect();
    assert_eq!(ids, server.organization_database_ids(organization));
}

#[tokio::test(flavor = "multi_thread")]
async fn an_empty_scope_is_a_usage_error() {
    let server = fleet(FaultPlan::new()).await;
    let empty = server.add_organization("empty").to_string();
    for args in [
        vec!["databases", "--organization", &empty],
        vec!["check", "--max-age", "1d", "--organization", &empty],
        vec!["list", "--organization", &empty],
    ] {
        let output = run(&server, &args).await;
        assert_eq!(output.status.code(), Some(2), "{args:?}: {}", stderr(&output));
        assert!(
            stderr(&output).contains(&format!("error: no database found in organization {empty}")),
            "{}",
            stderr(&output)
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn discovery_calls_that_fail_are_retried() {
    let server = fleet("1=503,2=reset,4=429s:0".parse().unwrap()).await;
    let output = run(&server, &["databases", "--output", "ndjson"]).await;
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(ndjson(&output).len(), 1 + 24);

    server.set_faults("p=1,kinds=503,max=100".parse().unwrap());
    let output = run(&server, &["databases", "--max-attempts", "2"]).await;
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("error: listing the organizations"), "{}", stderr(&output));
}

#[tokio::test(flavor = "multi_thread")]
async fn list_latest_and_prune_skip_managed_databases_with_a_note_and_touch_them_never() {
    let server = fleet(FaultPlan::new()).await;
    let organization = server.organization_ids()[1];
    let o = organization.to_string();
    let listed = server.organization_database_ids(organization);
    let managed: Vec<Uuid> =
        listed.iter().copied().filter(|id| server.managed_database_ids().contains(id)).collect();
    let container: Vec<Uuid> = listed.iter().copied().filter(|id| !managed.contains(id)).collect();
    assert!(!managed.is_empty());

    let explicit = container[0].to_string();
    let output = run(&server, &["latest", &explicit, "--organization", &o, "--output", "ndjson"]).await;
    assert!(output.status.success(), "{}", stderr(&output));
    let rows = ndjson(&output);
    assert_eq!(rows.iter().map(id_of).collect::<Vec<_>>(), container, "given twice, listed once");
    let notes = stderr(&output).lines().filter(|l| l.starts_with("note: skipping ")).count();
    assert_eq!(notes, managed.len(), "{}", stderr(&output));

    let output = run(&server, &["list", "--organization", &o, "--output", "ndjson"]).await;
    assert!(output.status.success(), "{}", stderr(&output));
    let seen: HashSet<Uuid> = ndjson(&output).iter().map(id_of).collect();
    assert_eq!(seen, container.iter().copied().collect());

    let output =
        run(&server, &["prune", "--organization", &o, "--keep-last", "1", "--dry-run", "--output", "ndjson"])
            .await;
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(backup_requests(&server, &managed), 0, "no request ever reached a managed database's backups");
}

/// A successful backup of `database`, `created_at` as given.
fn success_at(server: &MockServer, database: Uuid, created_at: &str, n: u128) -> Backup {
    let mut backup = server
        .backups(database)
        .into_iter()
        .find(|b| {
            b.status.as_ref().is_some_and(|s| s.status_details.status == ServiceActionStatusEnum::Success)
        })
        .expect("a seeded success");
    backup.id = Uuid::from_u128(n);
    backup.created_at = created_at.parse().unwrap();
    backup
}

/// An environment whose databases get every verdict, in a project whose name needs escaping.
async fn every_verdict() -> (MockServer, Vec<Uuid>) {
    let server = fleet(FaultPlan::new()).await;
    let organization = server.add_organization("acme");
    let project = server.add_project(organization, "shop \"blue\" \\ main").unwrap();
    let environment = server.add_environment(project, "production").unwrap();
    let add =
        |name: &str, mode, backups| server.add_database_in(environment, name, mode, 0, backups).unwrap();
    let fresh = add("fresh", DatabaseModeEnum::Container, 5);
    let stale = add("stale", DatabaseModeEnum::Container, 0);
    let missing = add("missing", DatabaseModeEnum::Container, 0);
    let suspect = add("suspect", DatabaseModeEnum::Container, 0);
    let unmanaged = add("rds", DatabaseModeEnum::Managed, 0);
    let template =
        server.add_database_in(environment, "template", DatabaseModeEnum::Container, 0, 5).unwrap();
    server.insert_backup(fresh, success_at(&server, fresh, &chrono::Utc::now().to_rfc3339(), 1)).unwrap();
    server.insert_backup(stale, success_at(&server, template, "2020-01-01T00:00:00Z", 2)).unwrap();
    server.insert_backup(suspect, success_at(&server, template, "9999-12-31T00:00:00Z", 3)).unwrap();
    server.remove_database(template);
    (server, vec![fresh, stale, missing, suspect, unmanaged, environment])
}

#[tokio::test(flavor = "multi_thread")]
async fn check_in_a_fleet_names_each_database_and_gives_every_verdict() {
    let (server, ids) = every_verdict().await;
    let environment = ids[5].to_string();
    server.clear_requests();

    let output = run(&server, &["check", "--max-age", "1d", "--environment", &environment]).await;
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    let text = stdout(&output);
    let lines: Vec<&str> = text.lines().collect();
    let project = "shop \"blue\" \\ main";
    for (line, (verdict, name, id)) in lines.iter().zip([
        ("OK ", "fresh", ids[0]),
        ("STALE ", "stale", ids[1]),
        ("MISSING ", "missing", ids[2]),
        ("SUSPECT ", "suspect", ids[3]),
        ("UNMANAGED ", "rds", ids[4]),
    ]) {
        assert!(line.starts_with(verdict), "{line}");
        // Aligned columns: the name, then its id, then what the verdict rests on.
        let words: Vec<&str> = line.split("  ").map(str::trim).filter(|w| !w.is_empty()).collect();
        assert_eq!(words[1..3], [format!("{project}/production/{name}"), id.to_string()], "{line}");
    }
    assert_eq!(lines.len(), 5);
    assert_eq!(backup_requests(&server, &ids[4..5]), 0, "UNMANAGED without a backup request");

    let output =
        run(&server, &["check", "--max-age", "1d", "--environment", &environment, "--output", "ndjson"])
            .await;
    assert_eq!(output.status.code(), Some(3));
    let rows = ndjson(&output);
    let verdicts: Vec<&str> = rows.iter().map(|r| r["verdict"].as_str().unwrap()).collect();
    assert_eq!(verdicts, ["ok", "stale", "missing", "suspect", "unmanaged"]);
    let keys: Vec<&String> = rows[0].as_object().unwrap().keys().collect();
    for key in [
        "database_id",
        "organization",
        "project",
        "environment",
        "database",
        "verdict",
        "newest_success_id",
        "newest_success_at",
        "age_seconds",
        "max_age_seconds",
    ] {
        assert!(keys.iter().any(|k| *k == key), "{key} in {keys:?}");
    }
    assert_eq!(rows[0]["project"], project);
    assert_eq!(rows[0]["organization"], "acme");
    assert_eq!(rows[1]["newest_success_id"], Uuid::from_u128(2).to_string());
    assert_eq!(rows[0]["max_age_seconds"], 86400);
    assert!(rows[2]["newest_success_id"].is_null());

    // Fresh only: exit 0.
    let fresh = ids[0].to_string();
    assert_eq!(run(&server, &["check", "--max-age", "1d", &fresh]).await.status.code(), Some(0));
}

/// `name{labels} value` split apart; the labels as (name, value) with escapes undone.
fn parse_sample(line: &str) -> (String, Vec<(String, String)>, String) {
    let (name, rest) =
        line.split_once('{').unwrap_or_else(|| line.split_once(' ').map(|(n, _)| (n, "")).unwrap());
    if rest.is_empty() {
        return (name.to_owned(), Vec::new(), line.split(' ').nth(1).unwrap().to_owned());
    }
    let mut labels = Vec::new();
    let mut chars = rest.chars().peekable();
    loop {
        let key: String = chars.by_ref().take_while(|c| *c != '=').collect();
        assert_eq!(chars.next(), Some('"'));
        let mut value = String::new();
        loop {
            match chars.next().unwrap() {
                '\\' => match chars.next().unwrap() {
                    'n' => value.push('\n'),
                    c @ ('\\' | '"') => value.push(c),
                    c => panic!("bad escape \\{c} in {line}"),
                },
                '"' => break,
                '\n' => panic!("raw newline in {line}"),
                c => value.push(c),
            }
        }
        labels.push((key, value));
        match chars.next() {
            Some(',') => continue,
            Some('}') => break,
            other => panic!("unexpected {other:?} in {line}"),
        }
    }
    let rest: String = chars.collect();
    let parts: Vec<&str> = rest.split_whitespace().collect();
    assert_eq!(parts.len(), 1, "one value and no timestamp: {line}");
    (name.to_owned(), labels, parts[0].to_owned())
}

#[tokio::test(flavor = "multi_thread")]
async fn prometheus_output_is_written_atomically_and_parses_back() {
    let (server, ids) = every_verdict().await;
    let environment = ids[5].to_string();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("qovery_backups.prom");
    std::fs::write(&path, "old\n").unwrap();
    let file = path.to_str().unwrap();

    let output = run(
        &server,
        &[
            "check",
            "--max-age",
            "1d",
            "--environment",
            &environment,
            "--output",
            "prometheus",
            "--output-file",
            file,
        ],
    )
    .await;
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    assert!(stdout(&output).is_empty());
    let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(names, ["qovery_backups.prom"], "no temporary file left");

    let text = std::fs::read_to_string(&path).unwrap();
    for metric in [
        "qovery_backup_last_success_timestamp_seconds",
        "qovery_backup_check_status",
        "qovery_backup_check_timestamp_seconds",
    ] {
        assert!(text.contains(&format!("# HELP {metric} ")), "{text}");
        assert!(text.contains(&format!("# TYPE {metric} gauge\n")), "{text}");
    }
    let samples: Vec<_> = text.lines().filter(|l| !l.starts_with('#')).map(parse_sample).collect();
    let label = |labels: &[(String, String)], key: &str| {
        labels.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone())
    };
    let status_of = |id: Uuid| -> Vec<(String, String)> {
        samples
            .iter()
            .filter(|(n, l, _)| {
                n == "qovery_backup_check_status" && label(l, "database_id") == Some(id.to_string())
            })
            .map(|(_, l, v)| (label(l, "status").unwrap(), v.clone()))
            .collect()
    };
    for (id, current) in ids[..5].iter().zip(["ok", "stale", "missing", "suspect", "unmanaged"]) {
        let statuses = status_of(*id);
        assert_eq!(statuses.len(), 7, "one sample per verdict, not_found included: {statuses:?}");
        let ones: Vec<&str> = statuses.iter().filter(|(_, v)| v == "1").map(|(s, _)| s.as_str()).collect();
        assert_eq!(ones, [current]);
        assert!(statuses.iter().all(|(_, v)| v == "0" || v == "1"));
    }
    let fresh = samples
        .iter()
        .find(|(n, l, _)| {
            n == "qovery_backup_last_success_timestamp_seconds"
                && label(l, "database_id") == Some(ids[0].to_string())
        })
        .unwrap();
    assert_eq!(label(&fresh.1, "project").as_deref(), Some("shop \"blue\" \\ main"), "escaped and read back");
    assert_eq!(label(&fresh.1, "database").as_deref(), Some("fresh"));
    assert_eq!(label(&fresh.1, "organization").as_deref(), Some("acme"));
    assert!(fresh.2.parse::<i64>().unwrap() > 1_700_000_000);
    assert!(text.contains("project=\"shop \\\"blue\\\" \\\\ main\""), "{text}");
    let now = samples.iter().find(|(n, _, _)| n == "qovery_backup_check_timestamp_seconds").unwrap();
    assert!(now.1.is_empty());
}

/// The README's cron line: `check` with neither ids nor a scope checks every database the
/// token can see, as `databases` lists them, and so do `latest` and `list`.
#[tokio::test(flavor = "multi_thread")]
async fn check_latest_and_list_without_ids_walk_every_database_the_token_can_see() {
    let server = fleet(FaultPlan::new()).await;
    let every: HashSet<Uuid> =
        server.organization_ids().into_iter().flat_map(|o| server.organization_database_ids(o)).collect();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("qovery_backups.prom");
    let file_arg = file.to_str().unwrap();

    let output =
        run(&server, &["check", "--max-age", "3650d", "--output", "prometheus", "--output-file", file_arg])
            .await;
    assert_ne!(output.status.code(), Some(2), "{}", stderr(&output));
    let text = std::fs::read_to_string(&file).unwrap();
    for id in &every {
        assert!(text.contains(&format!("database_id=\"{id}\"")), "{id} checked");
    }

    let checked = run(&server, &["check", "--max-age", "3650d", "--output", "ndjson"]).await;
    let seen: HashSet<Uuid> = ndjson(&checked).iter().map(id_of).collect();
    assert_eq!(seen, every);
    for command in ["latest", "list"] {
        let output = run(&server, &[command, "--output", "ndjson"]).await;
        assert!(output.status.success(), "{command}: {}", stderr(&output));
        let seen: HashSet<Uuid> = ndjson(&output).iter().map(id_of).collect();
        let ours: HashSet<Uuid> =
            every.difference(&server.managed_database_ids().into_iter().collect()).copied().collect();
        assert_eq!(seen, ours, "{command}: every database with backups here");
    }
}

/// Two checks writing to one textfile directory: with `--metrics-label` their samples differ,
/// the check's timestamp included, so node_exporter keeps both files whole.
#[tokio::test(flavor = "multi_thread")]
async fn metrics_labels_go_on_every_sample_and_bad_names_are_usage_errors() {
    let server = fleet(FaultPlan::new()).await;
    let organization = server.organization_ids()[1].to_string();
    let args = ["check", "--organization", &organization, "--max-age", "3650d", "--output", "prometheus"];
    let labelled = run(
        &server,
        &[&args[..], &["--metrics-label", "job=nightly", "--metrics-label", "team=a\"b"]].concat(),
    )
    .await;
    assert_ne!(labelled.status.code(), Some(2), "{}", stderr(&labelled));
    let text = stdout(&labelled);
    let samples: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
    assert!(!samples.is_empty());
    for sample in &samples {
        assert!(sample.contains("{job=\"nightly\",team=\"a\\\"b\""), "{sample}");
    }
    assert!(samples.iter().any(|s| s.starts_with("qovery_backup_check_timestamp_seconds{job=\"nightly\",team=\"a\\\"b\"} ")));

    for bad in ["1job=x", "__name=x", "status=x", "nolabel"] {
        let output = run(&server, &[&args[..], &["--metrics-label", bad]].concat()).await;
        assert_eq!(output.status.code(), Some(2), "{bad}: {}", stderr(&output));
    }
}

/// `create --organization`: one backup of each database of the organization (the MANAGED ones
/// skipped), none twice although answers are lost, one line each and a summary.
#[tokio::test(flavor = "multi_thread")]
async fn create_backs_up_every_database_of_a_scope_once_even_when_answers_are_lost() {
    // Requests 20 and 23 lose their answers: creates, or the reads around them, as the
    // concurrent tasks happen to order them; either way nothing may be created twice.
    let server = fleet(
        FaultPlan::new().at(20, qovery_backups_mock::Fault::Lost).at(23, qovery_backups_mock::Fault::Lost),
    )
    .await;
    let organization = server.organization_ids()[1];
    let managed: HashSet<Uuid> = server.managed_database_ids().into_iter().collect();
    let ours: Vec<Uuid> = server
        .organization_database_ids(organization)
        .into_iter()
        .filter(|id| !managed.contains(id))
        .collect();
    let before: Vec<usize> = ours.iter().map(|id| server.backup_count(*id).unwrap()).collect();

    let output = run(
        &server,
        &[
            "create",
            "--organization",
            &organization.to_string(),
            "--name",
            "pre-migration",
            "--message",
            "v2",
            "--max-attempts",
            "4",
        ],
    )
    .await;
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    for (id, count) in ours.iter().zip(before) {
        assert_eq!(server.backup_count(*id), Some(count + 1), "exactly one new backup of {id}");
        let newest = &server.backups(*id)[0];
        assert_eq!((newest.name.as_str(), newest.message.as_str()), ("pre-migration", "v2"));
        assert!(stdout(&output).contains(&format!("of database {id}: ")), "{}", stdout(&output));
    }
    assert!(
        stderr(&output).contains(&format!("{n} of {n} backups created, 0 failed", n = ours.len())),
        "{}",
        stderr(&output)
    );
    for id in &managed {
        assert!(!stdout(&output).contains(&id.to_string()), "a MANAGED database is not backed up here");
    }

    // With --wait, each is waited for; a failure anywhere exits 1.
    let waited = run(
        &server,
        &[
            "create",
            "--organization",
            &organization.to_string(),
            "--name",
            "n",
            "--message",
            "m",
            "--wait",
            "--poll-interval",
            "10ms",
            "-q",
        ],
    )
    .await;
    assert_eq!(waited.status.code(), Some(0), "{}", stderr(&waited));
    assert_eq!(stdout(&waited).matches(": SUCCESS").count(), ours.len(), "{}", stdout(&waited));
    // -q: the results on stdout, nothing on stderr (no skip notes, no summary) when all went well.
    assert_eq!(stderr(&waited), "", "-q is quiet");
}

/// A program embedding the crate and the command line get the same verdicts from the same
/// code: `check --output ndjson` and `Client::freshness` over one seeded fleet, at one instant's
/// worth of distance (the mock's histories end on a fixed date, so a day's window is stale for
/// all and a decade's fresh for all but the missing).
#[tokio::test(flavor = "multi_thread")]
async fn the_cli_and_the_sdk_give_every_database_the_same_verdict() {
    use futures::StreamExt as _;
    let server = fleet(FaultPlan::new()).await;
    let client =
        qovery_backups::Client::builder().token(server.token()).base_url(server.base_url()).build().unwrap();
    for max_age in ["1d", "3650d"] {
        let output = run(&server, &["check", "--max-age", max_age, "--output", "ndjson"]).await;
        assert_ne!(output.status.code(), Some(2), "{}", stderr(&output));
        let cli: Vec<(Uuid, String)> =
            ndjson(&output).iter().map(|r| (id_of(r), r["verdict"].as_str().unwrap().to_owned())).collect();

        let targets = qovery_backups::Targets::everything().resolve(&client).await.unwrap();
        let age = humantime::parse_duration(max_age).unwrap();
        let sdk: Vec<(Uuid, String)> = client
            .freshness(targets, age)
            .items()
            .map(|r| (r.target.id, r.verdict.as_str().to_owned()))
            .collect()
            .await;
        assert_eq!(cli, sdk, "--max-age {max_age}");
        assert!(cli.iter().any(|(_, v)| v == "unmanaged"), "the fleet has MANAGED databases");
    }
}
