//! `cargo xtask`: the maintainer's tasks for this workspace.
//!
//! ```text
//! cargo xtask codegen                 validate openapi.yaml, rewrite generated/ and schema/
//! cargo xtask codegen --check         change nothing; fail naming every stale artifact
//! cargo xtask codegen --upstream F    report how Qovery's spec F differs from openapi.yaml
//! cargo xtask soak [--runs N] [--seed S]
//!                                     seeded runs of the SDK against the mock under random
//!                                     faults (crates/qovery-backups-bench, bin `soak`)
//! cargo xtask dependent-build [--features F] [--no-default-features] [--dir DIR] [--root DIR]
//!                             [--peer DIR [--only-peer] [--rounds N]]
//!                                     what a dependent of `qovery-backups` pays: a clean
//!                                     release build of a throwaway binary crate using it;
//!                                     with --peer, then the same for Qovery's openapi-generator
//!                                     client (DIR: a checkout of Qovery/qovery-client-rust)
//!                                     cut down to openapi.yaml's operations, and the ratio
//! cargo xtask man [DIR]               write the CLI's manual pages, qovery-backups.1 and one
//!                                     qovery-backups-COMMAND.1 per command, into DIR
//!                                     (default $CARGO_TARGET_DIR/man)
//! cargo xtask doc-examples [--root DIR]
//!                                     fail naming every type, constructor and fallible
//!                                     call of the published libraries without an example,
//!                                     and every example that shows no use
//! cargo xtask deploy-check [--root DIR]
//!                                     fail naming every disagreement between the files of
//!                                     deploy/: the PrometheusRule against alerts.yml, the
//!                                     operator's kinds, selectors and ports, kustomization
//! ```
//!
//! `--root DIR` runs against another copy of the workspace's files (tests use it).
//! `--only-peer` builds the peer alone. The peer's code is never copied into this repository:
//! it is trimmed from DIR into the temporary directory at each run (`dependent_build::peer`).
//!
//! `soak` only runs `cargo run --release -p qovery-backups-bench --bin soak -- ARGS`: xtask does
//! not depend on the bench, wrapper or mock crates, so that `cargo xtask codegen` still builds, and
//! reports what is wrong, when openapi.yaml is broken.
#![forbid(unsafe_code)]

mod dependent_build;
mod deploy_check;
mod doc_examples;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use qovery_backups_codegen::{Spec, diff_upstream, generate};

const SPEC: &str = "openapi.yaml";
const CLIENT_SNAPSHOT: &str = "generated/qovery_backups_api.rs";
const SCHEMA_DIR: &str = "schema";

const USAGE: &str = "usage: cargo xtask codegen [--check] [--upstream FILE] [--root DIR]\n       cargo xtask soak [--runs N] [--seed S]\n       cargo xtask dependent-build [--features F] [--no-default-features] [--dir DIR] [--root DIR]\n                                   [--peer DIR [--only-peer] [--rounds N]]\n       cargo xtask man [DIR]\n       cargo xtask doc-examples [--root DIR]\n       cargo xtask deploy-check [--root DIR]";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("codegen") => codegen(&args[1..]),
        Some("soak") => soak(&args[1..]),
        Some("dependent-build") => dependent_build::dependent_build(&args[1..]),
        Some("man") => man(&args[1..]),
        Some("doc-examples") => doc_examples(&args[1..]),
        Some("deploy-check") => deploy_check(&args[1..]),
        _ => Err(USAGE.to_owned()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

fn doc_examples(args: &[String]) -> Result<(), String> {
    let root = match args {
        [] => workspace_root(),
        [flag, dir] if flag == "--root" => PathBuf::from(dir),
        _ => return Err(USAGE.to_owned()),
    };
    let missing = doc_examples::check(&root)?;
    if missing.is_empty() {
        println!(
            "every type, constructor and fallible call of {} has an example, and every example shows a use",
            doc_examples::SOURCES.join(", ")
        );
        return Ok(());
    }
    for item in &missing {
        eprintln!("{}: {} {}", item.file.display(), item.item, item.problem.describe());
    }
    Err(format!(
        "{} public items break the rule; give each an example that asserts, prints or returns through `?`",
        missing.len()
    ))
}

fn deploy_check(args: &[String]) -> Result<(), String> {
    let root = match args {
        [] => workspace_root(),
        [flag, dir] if flag == "--root" => PathBuf::from(dir),
        _ => return Err(USAGE.to_owned()),
    };
    let problems = deploy_check::check(&root)?;
    if problems.is_empty() {
        println!(
            "deploy-check: the PrometheusRule's groups equal {}'s; kinds, selectors, ports and \
             kustomization.yaml agree",
            deploy_check::ALERTS
        );
        return Ok(());
    }
    for problem in &problems {
        eprintln!("{problem}");
    }
    Err(format!("{} disagreement(s) between the files of deploy/", problems.len()))
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("xtask lives in the workspace").to_path_buf()
}

fn codegen(args: &[String]) -> Result<(), String> {
    let mut check = false;
    let mut upstream = None;
    let mut root = workspace_root();
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--check" => check = true,
            "--upstream" => upstream = Some(args.next().ok_or("--upstream needs a FILE")?),
            "--root" => root = PathBuf::from(args.next().ok_or("--root needs a DIR")?),
            other => return Err(format!("unknown argument `{other}`\n{USAGE}")),
        }
    }
    let text = fs::read_to_string(root.join(SPEC)).map_err(|e| format!("cannot read {SPEC}: {e}"))?;

    if let Some(file) = upstream {
        return report_upstream(&text, file);
    }

    let artifacts = generate(SPEC, &text).map_err(|e| e.to_string())?;
    let mut wanted: BTreeMap<PathBuf, String> = BTreeMap::new();
    wanted.insert(CLIENT_SNAPSHOT.into(), artifacts.client);
    for (model, schema) in artifacts.schemas {
        wanted.insert(Path::new(SCHEMA_DIR).join(format!("{model}.json")), schema);
    }
    // Schemas of models that left openapi.yaml are stale too.
    let leftovers: Vec<PathBuf> = fs::read_dir(root.join(SCHEMA_DIR))
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .map(|entry| Path::new(SCHEMA_DIR).join(entry.file_name()))
        // Only JSON Schemas are ours to manage; anything else in the folder is left alone.
        .filter(|path| path.extension().is_some_and(|ext| ext == "json") && !wanted.contains_key(path))
        .collect();

    let stale: Vec<&PathBuf> = wanted
        .iter()
        .filter(|(path, content)| {
            fs::read_to_string(root.join(path)).ok().as_deref() != Some(content.as_str())
        })
        .map(|(path, _)| path)
        .chain(&leftovers)
        .collect();

    if check {
        if stale.is_empty() {
            println!("codegen: {} artifacts match {SPEC}", wanted.len());
            return Ok(());
        }
        let names: Vec<String> = stale.iter().map(|p| format!("  {}", p.display())).collect();
        return Err(format!(
            "{} generated file(s) differ from what {SPEC} produces:\n{}\nrun `cargo xtask codegen` and commit the result",
            stale.len(),
            names.join("\n")
        ));
    }

    fs::create_dir_all(root.join(SCHEMA_DIR)).map_err(|e| format!("cannot create {SCHEMA_DIR}/: {e}"))?;
    fs::create_dir_all(root.join("generated")).map_err(|e| format!("cannot create generated/: {e}"))?;
    for path in &stale {
        let full = root.join(path);
        match wanted.get(*path) {
            Some(content) => fs::write(&full, content),
            None => fs::remove_file(&full),
        }
        .map_err(|e| format!("cannot update {}: {e}", path.display()))?;
        println!("updated {}", path.display());
    }
    println!("codegen: {} artifacts, {} updated", wanted.len(), stale.len());
    Ok(())
}

/// Runs the soak binary, passing the arguments through; its output and exit status are the soak's.
fn soak(args: &[String]) -> Result<(), String> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = Command::new(cargo)
        .args(["run", "--release", "-p", "qovery-backups-bench", "--bin", "soak", "--"])
        .args(args)
        .current_dir(workspace_root())
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if status.success() { Ok(()) } else { Err(format!("the soak failed ({status})")) }
}

/// Writes the CLI's manual pages (`qovery-backups man DIR`: clap_mangen's, from the same
/// definitions that parse the command line, plus exit status, environment and examples) into
/// DIR, by default `$CARGO_TARGET_DIR/man`. Only shells out, like `soak`.
fn man(args: &[String]) -> Result<(), String> {
    let dir = match args {
        [] => std::env::var_os("CARGO_TARGET_DIR")
            .map_or_else(|| workspace_root().join("target"), PathBuf::from)
            .join("man"),
        [dir] if !dir.starts_with('-') => PathBuf::from(dir),
        _ => return Err(USAGE.to_owned()),
    };
    // The pages are written by the child, whose working directory is the workspace's root.
    let dir = std::path::absolute(&dir).map_err(|e| format!("cannot resolve {}: {e}", dir.display()))?;
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = Command::new(cargo)
        .args(["run", "--quiet", "-p", "qovery-backups-cli", "--", "man"])
        .arg(&dir)
        .current_dir(workspace_root())
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !status.success() {
        return Err(format!("`qovery-backups man {}` failed ({status})", dir.display()));
    }
    println!("read them with `man -l {}`", dir.join("qovery-backups.1").display());
    Ok(())
}

fn report_upstream(ours: &str, file: &str) -> Result<(), String> {
    let upstream_text = fs::read_to_string(file).map_err(|e| format!("cannot read {file}: {e}"))?;
    let ours = Spec::parse(SPEC, ours).map_err(|e| e.to_string())?;
    let upstream = Spec::parse(file, &upstream_text).map_err(|e| e.to_string())?;
    let differences = diff_upstream(&ours, &upstream);
    for difference in &differences {
        println!("{difference}");
    }
    println!(
        "{} difference(s) between {file} and {SPEC}; README.md lists the deliberate ones. \
         For the rest, edit {SPEC} and run `cargo xtask codegen`.",
        differences.len()
    );
    Ok(())
}
