//! `cargo xtask dependent-build` refuses bad arguments, and a `--peer` client that lacks one of
//! openapi.yaml's operations, before building anything; and leaves no temporary directory behind.

use std::fs;
use std::path::Path;
use std::process::{Command, Output};

const WORKSPACE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");

fn dependent_build(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xtask"))
        .arg("dependent-build")
        .args(args)
        .arg("--root")
        .arg(WORKSPACE)
        .output()
        .expect("the xtask binary runs")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn only_peer_needs_a_peer() {
    let output = dependent_build(&["--only-peer"]);
    assert!(!output.status.success());
    assert!(stderr(&output).contains("--only-peer needs --peer DIR"), "{}", stderr(&output));
}

#[test]
fn only_peer_refuses_features_of_ours() {
    let output = dependent_build(&["--peer", "somewhere", "--only-peer", "--features", "rustls-ring"]);
    assert!(!output.status.success());
    assert!(stderr(&output).contains("apply to qovery-backups"), "{}", stderr(&output));
}

#[test]
fn a_peer_without_our_operations_is_refused_before_any_build() {
    let peer = tempfile::tempdir().unwrap();
    let write = |path: &str, text: &str| {
        let path = peer.path().join(path);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    };
    write("Cargo.toml", "[package]\nname = \"qovery\"\nversion = \"1.0.0\"\n");
    write("src/lib.rs", "pub mod apis;\npub mod models;\n");
    write("src/apis/mod.rs", "pub mod backups_api;\npub mod configuration;\n");
    write("src/apis/configuration.rs", "pub struct Configuration;\n");
    write("src/apis/backups_api.rs", "pub async fn list_database_backup() {\n}\n");
    write("src/models/mod.rs", "");
    let scratch = tempfile::tempdir().unwrap();
    let dir = scratch.path().join("run");

    let output = dependent_build(&[
        "--peer",
        peer.path().to_str().unwrap(),
        "--only-peer",
        "--dir",
        dir.to_str().unwrap(),
    ]);

    assert!(!output.status.success());
    let message = stderr(&output);
    assert!(message.contains("the client has no function for"), "{message}");
    // Our other operations are named; the one the fake client has is not.
    assert!(message.contains("`add_backup_database`") && message.contains("`list_project`"), "{message}");
    assert!(!message.contains("`list_database_backup`"), "{message}");
    assert!(!Path::new(&dir).exists(), "the temporary directory is removed");
}
