//! Build times of the workspace, and proof that editing the wrapper crate does not rerun the
//! generated crate's build script.
//!
//! ```text
//! cargo run --release -p qovery-backups-bench --bin buildtime [-- --keep]
//! ```
//!
//! Works on a copy of the workspace's sources in a temporary directory, with a target directory
//! of its own, so that touching files and cleaning builds disturbs nobody else's build. In it:
//!
//! 1. `cargo clean`, then `cargo build --release -p qovery-backups-cli`: the clean build.
//! 2. Touch `crates/qovery-backups/src/lib.rs`, then `cargo build --release -p qovery-backups-cli -v`:
//!    the incremental rebuild. Its verbose log must show `Fresh qovery-backups-api` and no
//!    `Running …/qovery-backups-api-…/build-script-build`.
//! 3. The control: touch `openapi.yaml` and rebuild the same way. This time the build script must
//!    run, which shows that step 2 would have seen it.
#![forbid(unsafe_code)]

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant, SystemTime};

use qovery_backups_bench::{machine, verdict};

const PACKAGE: &str = "qovery-backups-cli";

fn main() -> ExitCode {
    match run() {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
    }
}

fn run() -> Result<bool, String> {
    let keep = std::env::args().skip(1).any(|arg| arg == "--keep");
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let scratch = std::env::temp_dir().join(format!("qovery-backups-buildtime-{}", std::process::id()));
    let workspace = scratch.join("workspace");
    let target = scratch.join("target");
    copy_tree(&source, &workspace).map_err(|e| format!("cannot copy the workspace: {e}"))?;
    println!("buildtime: a copy of the workspace in {}; machine: {}", workspace.display(), machine());

    let cargo = |args: &[&str]| -> Result<(Duration, String), String> {
        let started = Instant::now();
        let output = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
            .args(args)
            .env("CARGO_TARGET_DIR", &target)
            .env("CARGO_TERM_COLOR", "never")
            .current_dir(&workspace)
            .output()
            .map_err(|e| format!("cannot run cargo: {e}"))?;
        let elapsed = started.elapsed();
        let log = String::from_utf8_lossy(&output.stderr).into_owned();
        if !output.status.success() {
            return Err(format!("cargo {} failed:\n{log}", args.join(" ")));
        }
        Ok((elapsed, log))
    };

    cargo(&["clean"])?;
    let (clean, _) = cargo(&["build", "--release", "--locked", "-p", PACKAGE])?;
    println!("clean build:        {clean:.1?}  (cargo clean; cargo build --release -p {PACKAGE})");

    touch(&workspace.join("crates/qovery-backups/src/lib.rs"))?;
    let (incremental, log) = cargo(&["build", "--release", "--locked", "-p", PACKAGE, "-v"])?;
    let reran = build_script_ran(&log);
    let fresh = log.lines().any(|line| line.trim_start().starts_with("Fresh qovery-backups-api "));
    println!(
        "after touching crates/qovery-backups/src/lib.rs: {incremental:.1?}, recompiled: {}",
        compiled(&log).join(", ")
    );
    println!(
        "  qovery-backups-api: {}; its build script {}: {}",
        if fresh { "Fresh" } else { "not reported Fresh" },
        if reran { "RAN" } else { "did not run" },
        verdict(fresh && !reran)
    );

    touch(&workspace.join("openapi.yaml"))?;
    let (control, log) = cargo(&["build", "--release", "--locked", "-p", PACKAGE, "-v"])?;
    let control_reran = build_script_ran(&log);
    println!(
        "control, after touching openapi.yaml: {control:.1?}, build script {}, recompiled: {}",
        if control_reran { "ran" } else { "DID NOT RUN" },
        compiled(&log).join(", ")
    );
    for line in log.lines().filter(|line| line.contains("build-script-build") && line.contains("Running")) {
        println!("  {}", line.trim());
    }

    if keep {
        println!("kept {}", scratch.display());
    } else {
        let _ = fs::remove_dir_all(&scratch);
    }
    Ok(fresh && !reran && control_reran)
}

/// Whether cargo's verbose log shows the generated crate's build script being run.
fn build_script_ran(log: &str) -> bool {
    log.lines().any(|line| {
        line.contains("Running `")
            && line.contains("build-script-build")
            && line.contains("/qovery-backups-api-")
    })
}

/// The crates cargo compiled, from its `Compiling name vX (…)` lines.
fn compiled(log: &str) -> Vec<String> {
    log.lines()
        .filter_map(|line| line.trim_start().strip_prefix("Compiling "))
        .map(|rest| rest.split(" (").next().unwrap_or(rest).to_owned())
        .collect()
}

/// Sets a file's modification time to now, as an editor's save would, without changing it.
fn touch(path: &Path) -> Result<(), String> {
    File::options()
        .append(true)
        .open(path)
        .and_then(|file| file.set_modified(SystemTime::now()))
        .map_err(|e| format!("cannot touch {}: {e}", path.display()))
}

/// Copies the workspace's sources: everything but build output and git's own files.
fn copy_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    fs::create_dir_all(to)?;
    for entry in fs::read_dir(from)? {
        let entry = entry?;
        let name = entry.file_name();
        if name == "target" || name == ".git" {
            continue;
        }
        let (source, destination): (PathBuf, PathBuf) = (entry.path(), to.join(&name));
        let kind = entry.file_type()?;
        if kind.is_dir() {
            copy_tree(&source, &destination)?;
        } else if kind.is_file() {
            fs::copy(&source, &destination)?;
        }
    }
    Ok(())
}
