//! The README's command lines, run: every line of a `sh` or `console` block that invokes
//! `qovery-backups` (or `cargo run -p qovery-backups-cli --`) runs against a mock started for its
//! block, and is checked for its exit code and, in a `console` block, for the output shown.
//!
//! How the README steers it, by HTML comments just before a block (invisible on GitHub):
//!
//! - `<!-- readme-test: skip REASON -->`: the block is not run (the test prints what it skipped).
//! - `<!-- readme-test: mock ARGS -->`: the block's mock is `qovery-backups mock --fleet ARGS`.
//! - `<!-- readme-test: exit N TEXT -->`: lines containing TEXT must exit N.
//!
//! A line's own comment saying `exit N` sets what it must exit; otherwise it must exit 0. In a
//! `console` block, `$ ` starts a command and the lines after it, up to the next, must appear
//! in its stdout in order (`[..]` in one matches anything).
//!
//! Placeholders become ids from the running mock: `DB`, `DB1`, `DB2` (databases with backups),
//! `BACKUP`, `BACKUP_ID` (the newest backup of DB), `ORG`, `PROJECT`, `ENV`, written bare or as
//! `$DB`/`"$DB"`; the example id `3c90c3cc-…` is DB; `PORT` is the mock's port. Paths under
//! /etc, /var and /usr are moved into a temporary directory; a crontab line runs the command
//! it schedules; a `mock` command is started, checked for its `listening on` line, and stopped.
//!
//! Built with the `mock` feature only: the mock it runs against is the tool's own.
#![cfg(feature = "mock")]

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// One command line of the README, with what it must do.
#[derive(Debug)]
struct Line {
    /// Where it is, for messages: `README.md:271`.
    at: String,
    command: String,
    exit: i32,
    /// Lines its stdout must show, in order (`console` blocks).
    shows: Vec<String>,
    /// Assignments before it in its block (`stamp=$(date …)`), run first.
    prelude: Vec<String>,
}

/// One code block to run: its mock's arguments and its lines.
#[derive(Debug, Default)]
struct Block {
    mock_args: String,
    lines: Vec<Line>,
}

const INVOKES: [&str; 2] = ["qovery-backups ", "cargo run -p qovery-backups-cli -- "];

fn invokes(line: &str) -> bool {
    INVOKES.iter().any(|i| line.contains(i)) || line.trim() == "qovery-backups"
}

/// `exit N` in the line's trailing comment.
fn exit_in_comment(line: &str) -> Option<i32> {
    let comment = &line[line.find(" # ")?..].to_lowercase();
    let after = &comment[comment.find("exit ")? + 5..];
    after.split(|c: char| !c.is_ascii_digit()).next()?.parse().ok()
}

/// The blocks to run and, for the report, the lines skipped with why.
fn parse(readme: &str) -> (Vec<Block>, Vec<String>) {
    let (mut blocks, mut skipped) = (Vec::new(), Vec::new());
    let mut directives: Vec<String> = Vec::new();
    let mut lines = readme.lines().enumerate();
    while let Some((n, line)) = lines.next() {
        if let Some(directive) = line.trim().strip_prefix("<!-- readme-test:") {
            directives.push(directive.trim_end_matches("-->").trim().to_owned());
            continue;
        }
        let console = line.trim() == "```console";
        if !(line.trim() == "```sh" || console) {
            if !line.trim().is_empty() {
                directives.clear();
            }
            continue;
        }
        let skip = directives.iter().find_map(|d| d.strip_prefix("skip").map(str::trim).map(str::to_owned));
        let mut block = Block::default();
        let mut exits: Vec<(i32, String)> = Vec::new();
        for directive in directives.drain(..) {
            if let Some(args) = directive.strip_prefix("mock") {
                block.mock_args = args.trim().to_owned();
            } else if let Some(rest) = directive.strip_prefix("exit ") {
                let (code, text) = rest.split_once(' ').expect("exit N TEXT");
                exits.push((code.parse().expect("exit N"), text.trim().to_owned()));
            }
        }
        let mut prelude = Vec::new();
        for (m, text) in lines.by_ref() {
            if text.trim() == "```" {
                break;
            }
            let at = format!("README.md:{}", m + 1);
            let command = if console {
                match text.strip_prefix("$ ") {
                    Some(command) => command,
                    None => {
                        if let Some(last) = block.lines.last_mut() {
                            last.shows.push(text.to_owned());
                        }
                        continue;
                    }
                }
            } else {
                text
            };
            let trimmed = command.trim();
            if !trimmed.starts_with("export") && is_assignment(trimmed) {
                prelude.push(trimmed.to_owned());
                continue;
            }
            if trimmed.starts_with('#') || !invokes(command) {
                continue;
            }
            if let Some(reason) = &skip {
                skipped.push(format!("{at}: {trimmed}  [{reason}]"));
                continue;
            }
            let exit = exits
                .iter()
                .find(|(_, text)| command.contains(text.as_str()))
                .map(|(code, _)| *code)
                .or_else(|| exit_in_comment(command))
                .unwrap_or(0);
            block.lines.push(Line {
                at,
                command: command.to_owned(),
                exit,
                shows: Vec::new(),
                prelude: prelude.clone(),
            });
        }
        let _ = n;
        if !block.lines.is_empty() {
            blocks.push(block);
        }
    }
    (blocks, skipped)
}

/// `NAME=value` (a shell assignment, not a command).
fn is_assignment(line: &str) -> bool {
    line.split_once('=').is_some_and(|(name, _)| {
        !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    })
}

/// A mock started for one block, and the ids the placeholders stand for.
struct Mock {
    child: Child,
    url: String,
    vars: Vec<(&'static str, String)>,
}

impl Drop for Mock {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The first line a child writes on its stdout (a mock's `listening on URL`).
fn first_line(child: &mut Child) -> String {
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut first).unwrap();
    first
}

fn binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_qovery-backups"))
}

/// Starts `qovery-backups mock --fleet ARGS` and reads its address from its first line, then
/// its databases and their newest backup through the tool itself.
fn start_mock(args: &str) -> Mock {
    let mut child = Command::new(binary())
        .args(["mock", "--fleet", "--addr", "127.0.0.1:0"])
        .args(args.split_whitespace())
        .env_remove("QOVERY_API_TOKEN")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let first = first_line(&mut child);
    let url = first
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("mock said {first:?}"))
        .to_owned();
    let mut mock = Mock { child, url, vars: Vec::new() };
    let databases: Vec<serde_json::Value> = run_tool(&mock, &["databases", "--output", "ndjson"])
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .filter(|d: &serde_json::Value| d["managed_by_provider"] == false)
        .collect();
    let field = |i: usize, name: &str| databases[i][name].as_str().unwrap().to_owned();
    let newest = run_tool(&mock, &["latest", &field(0, "database_id"), "--output", "ndjson"]);
    let newest: serde_json::Value = serde_json::from_str(newest.trim()).unwrap();
    let backup = newest["id"].as_str().unwrap().to_owned();
    mock.vars = vec![
        ("DB", field(0, "database_id")),
        ("DB1", field(0, "database_id")),
        ("DB2", field(1, "database_id")),
        ("BACKUP", backup.clone()),
        ("BACKUP_ID", backup),
        ("ORG", field(0, "organization_id")),
        ("PROJECT", field(0, "project_id")),
        ("ENV", field(0, "environment_id")),
        ("PORT", mock.url.rsplit(':').next().unwrap().to_owned()),
    ];
    mock
}

fn run_tool(mock: &Mock, args: &[&str]) -> String {
    let output = Command::new(binary())
        .args(args)
        .env("QOVERY_API_URL", &mock.url)
        .env("QOVERY_API_TOKEN", "mock-token")
        .output()
        .unwrap();
    assert!(output.status.success(), "{args:?}: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).unwrap()
}

/// The line as bash runs it here: the tool from this build, placeholders as variables, system
/// paths inside `root`, a crontab line reduced to the command it schedules.
fn rewrite(line: &str, root: &Path) -> String {
    let mut line = line.trim().to_owned();
    for invocation in INVOKES {
        line = line.replace(invocation, "qovery-backups ");
    }
    // `m h dom mon dow user  . env-file && command`: the command.
    let fields: Vec<&str> = line.split_whitespace().collect();
    if fields.len() > 6
        && fields[..5].iter().all(|f| f.chars().all(|c| c.is_ascii_digit() || "*/,-".contains(c)))
    {
        line = fields[6..].join(" ");
        if let Some((_, command)) = line.split_once("&& ") {
            line = command.to_owned();
        }
    }
    // A background job runs in the foreground here: `mock` lines are handled apart.
    line = line.trim_end_matches('&').trim().to_owned();
    line.split(' ')
        .map(|word| {
            let bare = word.trim_matches('"');
            if ["DB", "DB1", "DB2", "BACKUP", "BACKUP_ID", "ORG", "PROJECT", "ENV"].contains(&bare) {
                format!("\"${bare}\"")
            } else if word == "3c90c3cc-0d44-4b50-8888-8dd25736052a" {
                "\"$DB\"".to_owned()
            } else {
                let word = word.replace(":PORT", ":$PORT");
                match ["/etc/", "/var/", "/usr/"].iter().find_map(|p| word.find(p).map(|at| (at, p))) {
                    Some((at, _)) => {
                        let path = &word[at..];
                        let moved = root.join(path.trim_start_matches('/'));
                        std::fs::create_dir_all(moved.parent().unwrap()).unwrap();
                        format!("{}{}", &word[..at], moved.display())
                    }
                    None => word,
                }
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// `[..]` matches anything; the rest must be equal.
fn matches(pattern: &str, line: &str) -> bool {
    let parts: Vec<&str> = pattern.split("[..]").collect();
    let mut rest = line;
    for (i, part) in parts.iter().enumerate() {
        match rest.find(part) {
            Some(at) if i > 0 || at == 0 => rest = &rest[at + part.len()..],
            _ => return false,
        }
    }
    parts.len() > 1 || rest.is_empty()
}

/// Runs one line; `None` when it did what the README says.
fn check(line: &Line, mock: &Mock, root: &Path) -> Option<String> {
    let command = rewrite(&line.command, root);
    let bin_dir = binary().parent().unwrap().to_path_buf();
    let path = format!("{}:{}", bin_dir.display(), std::env::var("PATH").unwrap_or_default());
    let mut bash = Command::new("bash");
    bash.current_dir(root)
        .env("PATH", path)
        .env("QOVERY_API_URL", &mock.url)
        .env("QOVERY_API_TOKEN", "mock-token")
        .env_remove("QOVERY_CLI_ACCESS_TOKEN")
        .env_remove("RUST_LOG")
        .env_remove("COLUMNS")
        .envs(mock.vars.iter().map(|(k, v)| (*k, v)));
    let words: Vec<&str> = command.split_whitespace().collect();
    if words.get(1) == Some(&"mock") {
        // A server in the foreground: it must say where it listens; then it is stopped.
        let command = command.replace("127.0.0.1:8080", "127.0.0.1:0");
        let mut child = bash
            .args(["-c", &format!("exec {command}")])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let first = first_line(&mut child);
        let _ = child.kill();
        let _ = child.wait();
        return (!first.starts_with("listening on http://127.0.0.1:"))
            .then(|| format!("{}: {command}: said {first:?}", line.at));
    }
    let script = format!("{}\ntimeout 120 {command}", line.prelude.join("\n"));
    let output = bash.args(["-c", &script]).output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let code = output.status.code().unwrap_or(-1);
    if code != line.exit {
        return Some(format!(
            "{}: `{}` exited {code}, not {}\n  ran: {command}\n  stderr: {}",
            line.at,
            line.command.trim(),
            line.exit,
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    let mut out = stdout.lines();
    for shown in &line.shows {
        if !out.any(|l| matches(shown, l)) {
            return Some(format!("{}: `{}` did not show {shown:?}:\n{stdout}", line.at, line.command.trim()));
        }
    }
    None
}

#[test]
fn every_command_line_of_the_readme_runs_against_the_mock_as_it_says() {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../README.md")).unwrap();
    let (blocks, skipped) = parse(&readme);
    let lines: usize = blocks.iter().map(|b| b.lines.len()).sum();
    assert!(lines >= 10, "the README's command lines were found: {blocks:?}");
    for skip in &skipped {
        eprintln!("not run: {skip}");
    }
    let root = tempfile::tempdir().unwrap();
    let mut failures = Vec::new();
    for block in &blocks {
        let mock = start_mock(&block.mock_args);
        for line in &block.lines {
            eprintln!("run: {}: {}", line.at, line.command.trim());
            failures.extend(check(line, &mock, root.path()));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {lines} README lines failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn placeholders_paths_and_crontab_lines_are_rewritten_for_the_mock() {
    let root = tempfile::tempdir().unwrap();
    let r = root.path().display();
    assert_eq!(
        rewrite("qovery-backups delete DB BACKUP", root.path()),
        "qovery-backups delete \"$DB\" \"$BACKUP\""
    );
    assert_eq!(
        rewrite("cargo run -p qovery-backups-cli -- list \"$DB1\"", root.path()),
        "qovery-backups list \"$DB1\""
    );
    assert_eq!(
        rewrite("qovery-backups completions bash > /etc/bash_completion.d/qovery-backups", root.path()),
        format!("qovery-backups completions bash > {r}/etc/bash_completion.d/qovery-backups")
    );
    assert!(root.path().join("etc/bash_completion.d").is_dir());
    assert_eq!(
        rewrite("*/15 * * * * backup  . /etc/x.env && qovery-backups check --max-age 26h", root.path()),
        "qovery-backups check --max-age 26h"
    );
    assert_eq!(exit_in_comment("qovery-backups create \"$DB\" --wait   # ERROR, exit 1"), Some(1));
    assert_eq!(exit_in_comment("qovery-backups check DB --max-age 26h   # for cron"), None);
    assert!(matches("qovery-backups [..] (Qovery API [..])", "qovery-backups 0.1.0 (Qovery API 1.0.4)"));
    assert!(!matches("listening on", "error: listening on"));
}
