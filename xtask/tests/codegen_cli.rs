//! `cargo xtask codegen` on a copy of the workspace's files: `--check` passes on a fresh copy,
//! fails naming every stale file (and touches nothing) once the spec changes, and `codegen`
//! brings the files back in line; `--upstream` reports how another spec differs.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use tempfile::TempDir;

const WORKSPACE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
const FULL_UPSTREAM: &str =
    concat!(env!("CARGO_MANIFEST_DIR"), "/../crates/codegen/tests/fixtures/upstream_full.yaml");
const SNAPSHOT: &str = "generated/qovery_backups_api.rs";

/// A temp dir holding openapi.yaml, generated/ and schema/ as checked in.
fn copy_of_workspace() -> TempDir {
    let dir = tempfile::tempdir().unwrap();
    let from = Path::new(WORKSPACE);
    fs::copy(from.join("openapi.yaml"), dir.path().join("openapi.yaml")).unwrap();
    for sub in ["generated", "schema"] {
        fs::create_dir(dir.path().join(sub)).unwrap();
        for entry in fs::read_dir(from.join(sub)).unwrap() {
            let entry = entry.unwrap();
            fs::copy(entry.path(), dir.path().join(sub).join(entry.file_name())).unwrap();
        }
    }
    dir
}

/// Every file under `root`, by relative path.
fn files(root: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else {
                out.insert(path.strip_prefix(root).unwrap().to_path_buf(), fs::read(&path).unwrap());
            }
        }
    }
    out
}

fn xtask(root: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xtask"))
        .arg("codegen")
        .args(args)
        .arg("--root")
        .arg(root)
        .output()
        .expect("the xtask binary runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn assert_success(output: &Output) {
    assert!(
        output.status.success(),
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        output.status,
        stdout(output),
        stderr(output)
    );
}

fn add_state(root: &Path, value: &str) {
    let spec = root.join("openapi.yaml");
    let text = fs::read_to_string(&spec).unwrap();
    let anchor = "    StateEnum:\n      type: string\n      enum:\n";
    assert_eq!(text.matches(anchor).count(), 1, "StateEnum is where the test expects it");
    fs::write(&spec, text.replace(anchor, &format!("{anchor}        - {value}\n"))).unwrap();
}

#[test]
fn check_passes_on_the_checked_in_files() {
    let dir = copy_of_workspace();

    let output = xtask(dir.path(), &["--check"]);

    assert_success(&output);
    assert!(stdout(&output).contains("artifacts match openapi.yaml"), "{}", stdout(&output));
}

#[test]
fn check_fails_naming_stale_files_and_changes_nothing_then_codegen_updates_them() {
    let dir = copy_of_workspace();
    add_state(dir.path(), "FROZEN");
    let before = files(dir.path());

    let check = xtask(dir.path(), &["--check"]);

    assert!(!check.status.success(), "--check passed on a changed spec: {}", stdout(&check));
    let report = stderr(&check);
    assert!(report.contains(SNAPSHOT), "{report}");
    assert!(report.contains("schema/StateEnum.json"), "{report}");
    assert!(!report.contains("schema/ApiError.json"), "only stale files are named: {report}");
    assert!(report.contains("run `cargo xtask codegen`"), "{report}");
    assert!(files(dir.path()) == before, "--check changed files");

    let codegen = xtask(dir.path(), &[]);

    assert_success(&codegen);
    assert!(stdout(&codegen).contains(&format!("updated {SNAPSHOT}")), "{}", stdout(&codegen));
    let snapshot = fs::read_to_string(dir.path().join(SNAPSHOT)).unwrap();
    assert!(snapshot.contains("Frozen,"), "the snapshot has the new variant");
    assert!(snapshot.contains(r#"Self::Frozen => "FROZEN""#));
    let schema = fs::read_to_string(dir.path().join("schema/StateEnum.json")).unwrap();
    assert!(schema.contains("\"FROZEN\""), "{schema}");
    let after = files(dir.path());
    assert_eq!(after[Path::new("schema/ApiError.json")], before[Path::new("schema/ApiError.json")]);

    assert_success(&xtask(dir.path(), &["--check"]));
}

#[test]
fn stray_schema_is_reported_stale_and_removed_by_codegen() {
    let dir = copy_of_workspace();
    let stray = dir.path().join("schema/Old.json");
    fs::write(&stray, "{}\n").unwrap();

    let check = xtask(dir.path(), &["--check"]);

    assert!(!check.status.success());
    assert!(stderr(&check).contains("schema/Old.json"), "{}", stderr(&check));
    assert!(stray.exists(), "--check removed a file");

    assert_success(&xtask(dir.path(), &[]));
    assert!(!stray.exists(), "codegen left schema/Old.json behind");
    assert_success(&xtask(dir.path(), &["--check"]));
}

#[test]
fn invalid_spec_fails_with_file_pointer_and_fix() {
    let dir = copy_of_workspace();
    let spec = dir.path().join("openapi.yaml");
    let text = fs::read_to_string(&spec).unwrap();
    fs::write(&spec, text.replace("openapi: 3.0.0\n", "openapi: 3.1.0\n")).unwrap();
    let before = files(dir.path());

    for args in [&["--check"][..], &[]] {
        let output = xtask(dir.path(), args);
        assert!(!output.status.success());
        let report = stderr(&output);
        assert!(report.contains("openapi.yaml at /openapi: "), "{report}");
        assert!(report.contains("write `openapi: 3.0.0`"), "{report}");
    }
    assert!(files(dir.path()) == before, "a failed run changed files");
}

#[test]
fn upstream_prints_each_difference() {
    let dir = copy_of_workspace();

    let output = xtask(dir.path(), &["--upstream", FULL_UPSTREAM]);

    assert_success(&output);
    let report = stdout(&output);
    let lines: Vec<&str> = report.lines().collect();
    assert!(lines.contains(&"enum StateEnum: value SUSPENDED added upstream"), "{report}");
    assert!(lines.contains(&"model Status: property `execution_id` removed upstream"), "{report}");
    assert!(lines.last().unwrap().contains(FULL_UPSTREAM), "the summary names the file: {report}");
}
