//! Shared by the CLI's test files: the mock on 127.0.0.1 and the binary run against it.
#![allow(dead_code, unused_imports)] // each test file uses a different part

use std::process::{Command, Output};

use assert_cmd::cargo::CommandCargoExt as _;
use qovery_backups_mock::MockServer;
pub use qovery_backups_mock::testing::mock;

/// The binary pointed at `server`, with none of the environment it reads (token, URL, log
/// filter, table width) inherited from the machine running the tests. Retry waits are kept to a
/// millisecond: the child runs on the real clock.
pub fn command(server: &MockServer, args: &[&str]) -> Command {
    let mut command = Command::cargo_bin("qovery-backups").unwrap();
    command
        .args(args)
        .args(["--api-url", server.base_url(), "--initial-backoff", "1ms"])
        .env_remove("QOVERY_API_TOKEN")
        .env_remove("QOVERY_CLI_ACCESS_TOKEN")
        .env_remove("QOVERY_API_URL")
        .env_remove("RUST_LOG")
        .env_remove("COLUMNS");
    command
}

/// [`command`] with the mock's token in the environment.
pub fn authorized(server: &MockServer, args: &[&str]) -> Command {
    let mut command = command(server, args);
    command.env("QOVERY_API_TOKEN", server.token());
    command
}

/// Runs `command` to its end. The mock runs on this test's runtime; the child blocks a thread
/// of its own.
pub async fn output(mut command: Command) -> Output {
    tokio::task::spawn_blocking(move || command.output().unwrap()).await.unwrap()
}

/// Runs the binary against `server` with its token in the environment.
pub async fn run(server: &MockServer, args: &[&str]) -> Output {
    output(authorized(server, args)).await
}

/// Runs the binary against `server` with exactly `env` added to a clean environment.
pub async fn run_with_env(server: &MockServer, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = command(server, args);
    for (name, value) in env {
        command.env(name, value);
    }
    output(command).await
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).unwrap()
}

pub fn ndjson(output: &Output) -> Vec<serde_json::Value> {
    stdout(output).lines().map(|line| serde_json::from_str(line).unwrap()).collect()
}
