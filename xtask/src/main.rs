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
//!                                     what a dependent of `qovery-backups` pays: a clean
//!                                     release build of a throwaway binary crate using it
//! cargo xtask doc-examples [--root DIR]
//!                                     fail naming every public item of the published
//!                                     libraries whose documentation has no example
//! ```
//!
//! `--root DIR` runs against another copy of the workspace's files (tests use it).
//!
//! `soak` only runs `cargo run --release -p qovery-backups-bench --bin soak -- ARGS`: xtask does
//! not depend on the bench, wrapper or mock crates, so that `cargo xtask codegen` still builds, and
//! reports what is wrong, when openapi.yaml is broken.
#![forbid(unsafe_code)]

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use qovery_backups_codegen::{Spec, diff_upstream, generate};

mod doc_examples;

const SPEC: &str = "openapi.yaml";
const CLIENT_SNAPSHOT: &str = "generated/qovery_backups_api.rs";
const SCHEMA_DIR: &str = "schema";

const USAGE: &str = "usage: cargo xtask codegen [--check] [--upstream FILE] [--root DIR]\n       cargo xtask soak [--runs N] [--seed S]\n       cargo xtask dependent-build [--features F] [--no-default-features] [--dir DIR] [--root DIR]\n       cargo xtask man [--out FILE]\n       cargo xtask doc-examples [--root DIR]";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("codegen") => codegen(&args[1..]),
        Some("soak") => soak(&args[1..]),
        Some("dependent-build") => dependent_build(&args[1..]),
        Some("man") => man(&args[1..]),
        Some("doc-examples") => doc_examples(&args[1..]),
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
        println!("every public item of {} has an example", doc_examples::SOURCES.join(", "));
        return Ok(());
    }
    for item in &missing {
        eprintln!("{}: {} has no example in its documentation", item.file.display(), item.item);
    }
    Err(format!("{} public items have no example; add a ``` block to each doc comment", missing.len()))
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

/// Writes the CLI's manual page (`qovery-backups man`, made by clap_mangen from the same
/// definitions that parse the command line) to `--out`, by default
/// `$CARGO_TARGET_DIR/man/qovery-backups.1`. Only shells out, like `soak`.
fn man(args: &[String]) -> Result<(), String> {
    let out = match args {
        [] => {
            let target = std::env::var_os("CARGO_TARGET_DIR")
                .map_or_else(|| workspace_root().join("target"), PathBuf::from);
            target.join("man").join("qovery-backups.1")
        }
        [flag, path] if flag == "--out" => PathBuf::from(path),
        _ => return Err(USAGE.to_owned()),
    };
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = Command::new(cargo)
        .args(["run", "--quiet", "-p", "qovery-backups-cli", "--", "man"])
        .current_dir(workspace_root())
        .output()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "`qovery-backups man` failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    if let Some(dir) = out.parent() {
        fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    fs::write(&out, &output.stdout).map_err(|e| format!("cannot write {}: {e}", out.display()))?;
    println!("wrote {} (read it with `man {}`)", out.display(), out.display());
    Ok(())
}

/// Builds, clean and in release, a throwaway binary crate that depends on `qovery-backups` (by
/// path) and tokio, the way a user's program would, and reports the seconds and the number of
/// crates compiled. Only shells out to cargo: what is measured is cargo's own build.
///
/// The crate and its target directory live in one temporary directory (`--dir`, by default
/// under the system's temp dir), deleted afterwards. The workspace's Cargo.lock is copied in so
/// that before/after figures compile the same versions, and nothing needs the network.
fn dependent_build(args: &[String]) -> Result<(), String> {
    let mut features = Vec::new();
    let mut no_default_features = false;
    let mut root = workspace_root();
    let mut dir = std::env::temp_dir().join(format!("qovery-backups-dependent-{}", std::process::id()));
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--features" => features.push(args.next().ok_or("--features needs a list")?.clone()),
            "--no-default-features" => no_default_features = true,
            "--dir" => dir = PathBuf::from(args.next().ok_or("--dir needs a DIR")?),
            "--root" => root = PathBuf::from(args.next().ok_or("--root needs a DIR")?),
            other => return Err(format!("unknown argument `{other}`\n{USAGE}")),
        }
    }
    if dir.exists() {
        // Never delete what this command did not create.
        return Err(format!("{} exists; give a --dir that does not", dir.display()));
    }
    let result = measure_dependent(&root, &dir, &features, no_default_features);
    let _ = fs::remove_dir_all(&dir);
    result
}

fn measure_dependent(root: &Path, dir: &Path, features: &[String], no_default: bool) -> Result<(), String> {
    let sdk = fs::canonicalize(root.join("crates/qovery-backups"))
        .map_err(|e| format!("cannot find crates/qovery-backups under {}: {e}", root.display()))?;
    let krate = dir.join("dependent");
    fs::create_dir_all(krate.join("src")).map_err(|e| format!("cannot create {}: {e}", krate.display()))?;
    let mut sdk_dep = format!("{{ path = {:?}", sdk.display().to_string());
    if no_default {
        sdk_dep.push_str(", default-features = false");
    }
    if !features.is_empty() {
        let list: Vec<String> =
            features.iter().flat_map(|f| f.split(',')).map(|f| format!("{:?}", f.trim())).collect();
        sdk_dep.push_str(&format!(", features = [{}]", list.join(", ")));
    }
    sdk_dep.push_str(" }");
    // `[workspace]`: the crate stands alone, whatever directory holds it.
    let manifest = format!(
        "[package]\nname = \"dependent\"\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\n\
         [dependencies]\nqovery-backups = {sdk_dep}\n\
         tokio = {{ version = \"1\", features = [\"macros\", \"rt-multi-thread\"] }}\n\n[workspace]\n"
    );
    let main = "#[tokio::main]\nasync fn main() {\n    \
                let client = qovery_backups::Client::builder().token(\"t\").build();\n    \
                println!(\"{}\", client.is_ok());\n}\n";
    let write = |path: PathBuf, text: &str| {
        fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
    };
    write(krate.join("Cargo.toml"), &manifest)?;
    write(krate.join("src/main.rs"), main)?;
    if let Ok(lock) = fs::read_to_string(root.join("Cargo.lock")) {
        write(krate.join("Cargo.lock"), &lock)?;
    }

    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let started = std::time::Instant::now();
    let output = Command::new(cargo)
        .args(["build", "--release", "--timings"])
        .current_dir(&krate)
        .env("CARGO_TARGET_DIR", dir.join("target"))
        .env("CARGO_TERM_COLOR", "never")
        // The caller's settings would make the figures differ from a user's build.
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_INCREMENTAL")
        .env_remove("CARGO_BUILD_RUSTFLAGS")
        .output()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    let seconds = started.elapsed().as_secs_f64();
    let log = String::from_utf8_lossy(&output.stderr);
    if !output.status.success() {
        return Err(format!("the dependent's build failed:\n{log}"));
    }
    let compiled = log.lines().filter(|line| line.trim_start().starts_with("Compiling ")).count();
    let heavy: Vec<&str> = [
        "progenitor",
        "typify",
        "prettyplease",
        "openapiv3",
        "yaml_serde",
        "aws-lc-sys",
        "ring",
        "openssl-sys",
    ]
    .into_iter()
    .filter(|name| log.lines().any(|l| l.trim_start().starts_with(&format!("Compiling {name} "))))
    .collect();
    let timings = dir.join("target/cargo-timings/cargo-timing.html");
    let kept = std::env::temp_dir().join("qovery-backups-dependent-timing.html");
    let _ = fs::copy(&timings, &kept);
    let label = if features.is_empty() && !no_default {
        "default features".to_owned()
    } else {
        format!("{}features [{}]", if no_default { "no default " } else { "" }, features.join(","))
    };
    println!("dependent-build ({label}): {seconds:.1} s, {compiled} crates compiled");
    println!(
        "  code generators or C builds among them: {}",
        if heavy.is_empty() { "none".to_owned() } else { heavy.join(", ") }
    );
    if let Ok(html) = fs::read_to_string(&timings) {
        println!("  slowest units (cargo --timings):");
        for (seconds, unit) in slowest_units(&html).into_iter().take(8) {
            println!("    {seconds:6.1} s  {unit}");
        }
    }
    println!("  cargo --timings report copied to {}", kept.display());
    Ok(())
}

/// The units of cargo's timing report, slowest first. The report is HTML with the data as a
/// JavaScript array (`const UNIT_DATA = [...];`); when a cargo release changes that, the list is
/// empty and the HTML file still tells.
fn slowest_units(html: &str) -> Vec<(f64, String)> {
    let Some(data) = html.split("const UNIT_DATA = ").nth(1).and_then(|rest| rest.split(";\n").next()) else {
        return Vec::new();
    };
    let Ok(serde_json::Value::Array(units)) = serde_json::from_str(data) else { return Vec::new() };
    let mut slowest: Vec<(f64, String)> = units
        .iter()
        .filter_map(|unit| {
            let seconds = unit.get("duration")?.as_f64()?;
            let name = unit.get("name")?.as_str()?;
            let target = unit.get("target").and_then(|t| t.as_str()).unwrap_or("");
            Some((seconds, format!("{name}{target}")))
        })
        .collect();
    slowest.sort_by(|a, b| b.0.total_cmp(&a.0));
    slowest
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

#[cfg(test)]
mod tests {
    use super::slowest_units;

    #[test]
    fn slowest_units_reads_cargo_timing_data_slowest_first() {
        let html = "<script>\nconst UNIT_DATA = [{\"name\":\"ring\",\"version\":\"0.17\",\"target\":\" build-script (run)\",\"duration\":21.0},{\"name\":\"rustls\",\"version\":\"0.23\",\"target\":\"\",\"duration\":53.8}];\nconst CONCURRENCY_DATA = [];\n</script>";
        let units = slowest_units(html);
        assert_eq!(units, [(53.8, "rustls".to_owned()), (21.0, "ring build-script (run)".to_owned())]);
    }

    #[test]
    fn slowest_units_is_empty_when_the_report_format_changes() {
        assert!(slowest_units("<html>no data</html>").is_empty());
    }
}
