//! Tables as a person sees them: measured in display columns (a CJK character or an emoji
//! takes two), never wider than the terminal (`COLUMNS` stands in for one), no wider than their
//! content, and every name escaped the same way, bidirectional controls included. The machine
//! formats keep the names exact.
//!
//! `cargo test -p qovery-backups-cli --test tables -- --nocapture` prints each table at 60, 80
//! and 200 columns.

mod common;

use common::{mock, ndjson, run, run_with_env, stderr, stdout};
use qovery_backups::types::DatabaseModeEnum;
use qovery_backups_mock::{Fault, FaultPlan, MockServer};
use unicode_width::UnicodeWidthStr as _;
use uuid::Uuid;

/// A right-to-left override: shown raw, `evil`, the override, then `gpj.exe` reads as `evilexe.jpg`.
const OVERRIDE: char = '\u{202e}';

/// Names from a wider world than ASCII: wide (CJK, emoji), right to left (Arabic, Hebrew), a
/// bidirectional override, and one too long for any terminal.
const NAMES: [&str; 6] = [
    "夜間バックアップ-週次",
    "🚀 launch-day 🎉",
    "نسخة احتياطية ليلية",
    "גיבוי לילי",
    "evil\u{202e}gpj.exe",
    "a-very-long-backup-name-that-goes-on-and-on-well-past-the-edge-of-any-sensible-terminal-2026",
];

/// An environment whose databases carry those names, each with a few backups, the newest of
/// which carries the name too.
async fn world() -> (MockServer, Uuid, Vec<Uuid>) {
    let server = mock(vec![], FaultPlan::none()).await;
    let organization = server.add_organization("acme");
    let project = server.add_project(organization, "店舗").unwrap();
    let environment = server.add_environment(project, "production").unwrap();
    let mut databases = Vec::new();
    for (i, name) in NAMES.iter().enumerate() {
        let database = server.add_database_in(environment, name, DatabaseModeEnum::Container, i, 3).unwrap();
        let mut backup = server.backups(database)[0].clone();
        backup.id = Uuid::from_u128(1000 + i as u128);
        backup.created_at += chrono::Duration::hours(1);
        backup.name = (*name).to_owned();
        server.insert_backup(database, backup).unwrap();
        databases.push(database);
    }
    (server, environment, databases)
}

async fn table(server: &MockServer, args: &[&str], columns: usize) -> String {
    let columns = columns.to_string();
    let env = [("QOVERY_API_TOKEN", server.token()), ("COLUMNS", columns.as_str())];
    let output = run_with_env(server, args, &env).await;
    assert!(matches!(output.status.code(), Some(0 | 3)), "{args:?}: {}", stderr(&output));
    stdout(&output)
}

/// Where `needle` starts in `line`, in display columns.
fn column_of(line: &str, needle: &str) -> usize {
    line[..line.find(needle).unwrap_or_else(|| panic!("{needle} in {line}"))].width()
}

fn assert_fits(what: &str, text: &str, columns: usize) {
    for line in text.lines() {
        assert!(line.width() <= columns, "{what} at {columns}: {} columns: {line}", line.width());
    }
    assert!(!text.contains(OVERRIDE), "{what}: a raw bidirectional override: {text}");
}

#[tokio::test(flavor = "multi_thread")]
async fn list_databases_and_check_tables_fit_60_80_and_200_columns_in_display_width() {
    let (server, environment, databases) = world().await;
    let environment = environment.to_string();
    for columns in [60, 80, 200] {
        let list =
            table(&server, &["list", "--environment", &environment, "--output", "table"], columns).await;
        let databases_table =
            table(&server, &["databases", "--environment", &environment, "--output", "table"], columns).await;
        let check =
            table(&server, &["check", "--environment", &environment, "--max-age", "3650d"], columns).await;
        for (what, text) in [("list", &list), ("databases", &databases_table), ("check", &check)] {
            eprintln!("== {what} at {columns} columns\n{text}");
            assert_fits(what, text, columns);
        }

        // list: each section's rows end at the same column as its header (AGE is aligned
        // right), whatever the width of the names before it; ids are never clipped.
        for section in list.split("\n\n") {
            let mut lines = section.lines().skip(1);
            let header = lines.next().unwrap();
            assert!(header.starts_with("ID "), "{header}");
            for row in lines {
                assert_eq!(row.width(), header.width(), "{columns}: misaligned:\n{header}\n{row}");
                let id = row.split(' ').next().unwrap();
                assert!(id.parse::<Uuid>().is_ok(), "a whole id: {row}");
            }
        }
        // check: the ids line up, after names of any width.
        let ids: Vec<usize> =
            check.lines().zip(&databases).map(|(line, id)| column_of(line, &id.to_string())).collect();
        assert!(ids.windows(2).all(|w| w[0] == w[1]), "{columns}: ids at {ids:?}:\n{check}");
        // databases: the names (the last column) line up after the fixed ones.
        let names: Vec<usize> =
            databases_table.lines().map(|l| l[..l.rfind("  ").unwrap() + 2].width()).collect();
        assert!(names.windows(2).all(|w| w[0] == w[1]), "{columns}: names at {names:?}");
    }

    // At 200 columns every name fits, and no column is wider than its widest cell: the NAME
    // column of a section is as wide as its widest name, then one space.
    let list = table(&server, &["list", "--environment", &environment, "--output", "table"], 200).await;
    for (section, database) in list.split("\n\n").zip(&databases) {
        let header = section.lines().nth(1).unwrap();
        let widest = server
            .backups(*database)
            .iter()
            .map(|b| qovery_backups::printable(&b.name).width())
            .max()
            .unwrap();
        assert_eq!(column_of(header, "STATUS"), column_of(header, "NAME") + widest + 1, "{section}");
    }
    let long = table(&server, &["databases", "--environment", &environment, "--output", "table"], 200).await;
    assert!(long.contains(NAMES[5]), "room for the long name at 200 columns: {long}");
    let narrow = table(&server, &["databases", "--environment", &environment, "--output", "table"], 60).await;
    assert!(!narrow.contains(NAMES[5]) && narrow.contains('…'), "clipped, marked: {narrow}");
}

#[tokio::test(flavor = "multi_thread")]
async fn bidirectional_controls_are_escaped_in_every_command_and_exact_in_machine_formats() {
    let (server, environment, databases) = world().await;
    let (environment, evil) = (environment.to_string(), databases[4].to_string());
    let evil_backup = Uuid::from_u128(1004).to_string();
    let escaped = "evil\\u{202e}gpj.exe";
    for args in [
        vec!["list", &evil, "--output", "table"],
        vec!["latest", &evil, "--output", "table"],
        vec!["databases", "--environment", &environment, "--output", "table"],
        vec!["check", "--environment", &environment, "--max-age", "3650d"],
        vec!["prune", &evil, "--keep-last", "1", "--dry-run", "--output", "table"],
        vec!["wait", &evil, &evil_backup],
    ] {
        // `wait` exits 1 when the backup it waited for failed: only the output matters here.
        let env = [("QOVERY_API_TOKEN", server.token()), ("COLUMNS", "200")];
        let text = stdout(&run_with_env(&server, &args, &env).await);
        assert!(!text.contains(OVERRIDE) && text.contains(escaped), "{args:?}: {text}");
    }
    for args in [
        vec!["list", &evil, "--output", "ndjson"],
        vec!["latest", &evil, "--output", "ndjson"],
        vec!["prune", &evil, "--keep-last", "1", "--dry-run", "--output", "ndjson"],
        vec!["wait", &evil, &evil_backup, "--output", "json"],
    ] {
        let output = run(&server, &args).await;
        let names: Vec<String> =
            ndjson(&output).iter().map(|l| l["name"].as_str().unwrap().to_owned()).collect();
        assert!(names.iter().any(|n| n == NAMES[4]), "{args:?}: exact in JSON: {names:?}");
    }
    let output = run(&server, &["databases", "--environment", &environment, "--output", "ndjson"]).await;
    let names: Vec<String> =
        ndjson(&output).iter().map(|l| l["database"].as_str().unwrap().to_owned()).collect();
    assert_eq!(names, NAMES);
}

#[tokio::test(flavor = "multi_thread")]
async fn every_command_writes_json_arrays_one_compact_object_per_line_and_dates_with_z() {
    let (server, environment, databases) = world().await;
    let (environment, first) = (environment.to_string(), databases[0].to_string());
    for args in [
        vec!["list", &first, "--output", "json"],
        vec!["latest", &first, "--output", "json"],
        vec!["databases", "--environment", &environment, "--output", "json"],
        vec!["check", "--environment", &environment, "--max-age", "3650d", "--output", "json"],
        vec!["prune", &first, "--keep-last", "1", "--dry-run", "--output", "json"],
    ] {
        let text = stdout(&run(&server, &args).await);
        let array: Vec<serde_json::Value> = serde_json::from_str(&text).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), array.len() + 2, "{args:?}: `[`, one line per object, `]`: {text}");
        for (line, value) in lines[1..lines.len() - 1].iter().zip(&array) {
            let line = line.strip_suffix(',').unwrap_or(line);
            assert_eq!(&serde_json::from_str::<serde_json::Value>(line).unwrap(), value, "{args:?}: compact");
        }
        for value in &array {
            for date in ["created_at", "newest_success_at"] {
                if let Some(date) = value[date].as_str() {
                    assert!(date.ends_with('Z'), "{args:?}: {date}");
                }
            }
        }
    }
    let csv = stdout(&run(&server, &["list", &first, "--output", "csv"]).await);
    let row = csv.lines().nth(1).unwrap();
    assert!(row.contains("Z,") && !row.contains("+00:00"), "CSV dates as JSON's: {row}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_delete_in_prune_is_one_error_line_beside_the_summary_and_quiet_keeps_only_errors() {
    // Requests 1 and 2 list the database (4 backups, one page); the first delete answers 403.
    let server = mock(vec![4], FaultPlan::none().at(2, Fault::Status(403))).await;
    let database = server.database_ids()[0].to_string();
    let args = ["prune", &database, "--keep-last", "1", "--delete-failed", "--output", "ndjson"];
    let output = run(&server, &args).await;
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let err = stderr(&output);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 2, "the summary and the failure: {err}");
    assert!(
        lines[0].starts_with(&format!("database {database}: kept ")) && lines[0].contains("failed 1"),
        "{err}"
    );
    assert!(lines[1].starts_with("error: "), "{err}");

    let server = mock(vec![4], FaultPlan::none()).await;
    let database = server.database_ids()[0].to_string();
    let output = run(&server, &["prune", &database, "--keep-last", "1", "-q", "--output", "ndjson"]).await;
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(stderr(&output), "", "-q: errors only");
}
