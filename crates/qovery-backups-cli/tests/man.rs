//! The manual pages: one per command, each with its options, exit status and examples, and
//! each clean under `groff -wall` (groff must be installed: `.ci/ux-deps`).

use std::collections::BTreeSet;
use std::process::Command;

use assert_cmd::cargo::CommandCargoExt as _;

/// The commands a person can run; `man` is hidden and `help` has no page.
#[cfg(feature = "mock")]
const COMMANDS: &[&str] = &[
    "list",
    "create",
    "delete",
    "wait",
    "prune",
    "latest",
    "check",
    "serve",
    "databases",
    "completions",
    "mock",
    "demo",
];
#[cfg(not(feature = "mock"))]
const COMMANDS: &[&str] =
    &["list", "create", "delete", "wait", "prune", "latest", "check", "serve", "databases", "completions"];

fn write_pages() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let output = Command::cargo_bin("qovery-backups").unwrap().arg("man").arg(dir.path()).output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    dir
}

fn read(dir: &tempfile::TempDir, file: &str) -> String {
    std::fs::read_to_string(dir.path().join(file)).unwrap()
}

#[test]
fn man_dir_writes_a_page_per_command_with_its_options_exit_status_and_examples() {
    let dir = write_pages();
    let files: BTreeSet<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    let mut expected: BTreeSet<String> = COMMANDS.iter().map(|c| format!("qovery-backups-{c}.1")).collect();
    expected.insert("qovery-backups.1".to_owned());
    assert_eq!(files, expected);

    // roff writes a dash as `\-`.
    let top = read(&dir, "qovery-backups.1");
    for command in COMMANDS {
        assert!(top.contains(&format!(r"qovery\-backups\-{command}(1)")), "the top page refers to {command}");
    }
    for section in ["EXIT STATUS", "ENVIRONMENT", "EXAMPLES", "SEE ALSO"] {
        assert!(
            top.contains(&format!(".SH \"{section}\"")) || top.contains(&format!(".SH {section}")),
            "{section}"
        );
    }
    let check = read(&dir, "qovery-backups-check.1");
    assert!(check.contains(r"\-\-max\-age") && check.contains(r"\-\-output\-file"), "check's own options");
    assert!(check.contains("STALE, MISSING or SUSPECT"), "what exit 3 means for check");
    assert!(read(&dir, "qovery-backups-prune.1").contains(r"\-\-keep\-daily"));
    for command in COMMANDS {
        let page = read(&dir, &format!("qovery-backups-{command}.1"));
        assert!(page.contains(".TH qovery-backups-"), "{command}: {}", &page[..page.len().min(200)]);
        assert!(page.contains("EXIT STATUS") && page.contains("EXAMPLES"), "{command}");
        let reads_the_environment = !["completions", "mock", "demo"].contains(command);
        assert_eq!(page.contains("QOVERY_API_TOKEN"), reads_the_environment, "{command}");
        assert_eq!(page.contains("A bug in qovery"), reads_the_environment, "{command}: exit 70 documented");
        assert!(page.is_ascii(), "{command}: troff reads Latin-1, so anything past ASCII is escaped");
    }
}

#[test]
fn groff_reads_every_page_without_a_warning() {
    let found = Command::new("sh").args(["-c", "command -v groff"]).output().unwrap();
    assert!(found.status.success(), "groff is not installed: run .ci/ux-deps (as CI does)");
    let dir = write_pages();
    let mut pages = 0;
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let path = entry.unwrap().path();
        let output =
            Command::new("groff").args(["-wall", "-man", "-Tutf8", "-z"]).arg(&path).output().unwrap();
        let warnings = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success() && warnings.is_empty(), "{}: {warnings}", path.display());
        pages += 1;
    }
    assert_eq!(pages, COMMANDS.len() + 1);
}

#[test]
fn man_without_a_dir_prints_the_tools_page() {
    let output = Command::cargo_bin("qovery-backups").unwrap().arg("man").output().unwrap();
    assert_eq!(output.status.code(), Some(0));
    let page = String::from_utf8(output.stdout).unwrap();
    assert!(page.contains(".TH qovery-backups 1") && page.contains(r"qovery\-backups\-check(1)"));
}
