//! The completion scripts, run by the real shells: what bash, zsh and fish offer after a tab.
//!
//! Each shell must be installed (`.ci/ux-deps` installs the missing ones): a test whose shell is
//! absent fails, naming the script, rather than passing without having looked.

use std::path::Path;
use std::process::Command;

use assert_cmd::cargo::CommandCargoExt as _;

/// A line typed before the tab, and what the shell must then offer.
struct Case {
    line: &'static str,
    offered: &'static [&'static str],
}

const CASES: &[Case] = &[
    // A subcommand's name.
    Case { line: "qovery-backups li", offered: &["list"] },
    // An option after a subcommand (unreachable in clap_complete's bash script as generated).
    Case { line: "qovery-backups list --out", offered: &["--output"] },
    Case { line: "qovery-backups check --max", offered: &["--max-age"] },
    // The values of --output, which differ per command.
    Case { line: "qovery-backups check --output ", offered: &["table", "json", "ndjson", "prometheus"] },
    Case { line: "qovery-backups list --output ", offered: &["table", "json", "ndjson", "csv"] },
    // The shells of `completions` (file names before).
    Case { line: "qovery-backups completions ", offered: &["bash", "elvish", "fish", "powershell", "zsh"] },
];

/// A file in the directory the shells complete in: offering it would be falling back to files.
const DECOY: &str = "decoy-file";

fn script(shell: &str) -> String {
    let output = Command::cargo_bin("qovery-backups").unwrap().args(["completions", shell]).output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).unwrap()
}

/// `shell`'s path, or a failure that says how to install it.
fn require(shell: &str) {
    let found = Command::new("sh").args(["-c", &format!("command -v {shell}")]).output().unwrap();
    assert!(found.status.success(), "{shell} is not installed: run .ci/ux-deps (as CI does)");
}

/// A directory holding the decoy file, to complete in.
fn workdir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(DECOY), "").unwrap();
    dir
}

fn check(shell: &str, case: &Case, offered: &[String]) {
    for word in case.offered {
        assert!(offered.iter().any(|o| o == word), "{shell}: `{}<TAB>` lacks {word}: {offered:?}", case.line);
    }
    assert!(!offered.iter().any(|o| o == DECOY), "{shell}: `{}<TAB>` offers files: {offered:?}", case.line);
}

/// What bash's completion function puts in COMPREPLY, called as readline calls it: the words
/// so far in COMP_WORDS, the index of the current one in COMP_CWORD, and the function that
/// `complete -p` says is registered for the command.
fn bash_offers(dir: &Path, line: &str) -> Vec<String> {
    let driver = r#"
        source ./qovery-backups.bash
        read -ra words <<< "$1"
        [[ $1 == *' ' ]] && words+=('')
        COMP_WORDS=("${words[@]}")
        COMP_CWORD=$(( ${#words[@]} - 1 ))
        COMP_LINE=$1
        COMP_POINT=${#1}
        read -ra spec <<< "$(complete -p qovery-backups)"
        for i in "${!spec[@]}"; do [[ ${spec[i]} == -F ]] && function=${spec[i+1]}; done
        prev=''; (( COMP_CWORD > 0 )) && prev=${COMP_WORDS[COMP_CWORD-1]}
        "$function" qovery-backups "${COMP_WORDS[COMP_CWORD]}" "$prev"
        printf '%s\n' "${COMPREPLY[@]}"
    "#;
    let output = Command::new("bash")
        .args(["--norc", "--noprofile", "-c", driver, "bash", line])
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(output.status.success(), "bash: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).unwrap().lines().map(str::to_owned).collect()
}

#[test]
fn bash_completes_subcommands_their_options_option_values_and_shells() {
    require("bash");
    let dir = workdir();
    std::fs::write(dir.path().join("qovery-backups.bash"), script("bash")).unwrap();
    for case in CASES {
        check("bash", case, &bash_offers(dir.path(), case.line));
    }
}

#[test]
fn zsh_completes_subcommands_their_options_option_values_and_shells() {
    require("zsh");
    let dir = workdir();
    std::fs::write(dir.path().join("_qovery-backups"), script("zsh")).unwrap();
    let driver = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/completions/zsh-complete.zsh");
    for case in CASES {
        // `timeout`: a completion that never ends would otherwise hang the test run.
        let output = Command::new("timeout")
            .arg("120")
            .args(["zsh", "-f"])
            .arg(&driver)
            .arg(dir.path())
            .arg(case.line)
            .current_dir(dir.path())
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "zsh ({:?}): {text}{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
        let offered: Vec<String> =
            text.lines().filter_map(|l| l.split_once("match:")).map(|(_, word)| word.to_owned()).collect();
        check("zsh", case, &offered);
    }
}

#[test]
fn fish_completes_subcommands_their_options_option_values_and_shells() {
    require("fish");
    let dir = workdir();
    std::fs::write(dir.path().join("qovery-backups.fish"), script("fish")).unwrap();
    for case in CASES {
        let output = Command::new("fish")
            .args(["--no-config", "-c", "source ./qovery-backups.fish; complete -C $argv[1]", case.line])
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert!(output.status.success(), "fish: {}", String::from_utf8_lossy(&output.stderr));
        // Each candidate, then a tab and its description.
        let offered: Vec<String> = String::from_utf8(output.stdout)
            .unwrap()
            .lines()
            .map(|l| l.split('\t').next().unwrap_or_default().to_owned())
            .collect();
        check("fish", case, &offered);
    }
}
