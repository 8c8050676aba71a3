//! `cargo xtask dependent-build`: what a dependent of `qovery-backups` pays, a clean release build
//! of a throwaway binary crate using it; with `--peer DIR`, the same for a crate using Qovery's
//! openapi-generator client (a checkout of it in DIR) cut down to this repository's operations.
//!
//! Only shells out to cargo: what is measured is cargo's own build. The crates and their target
//! directories live in one temporary directory (`--dir`, by default under the system's temp dir),
//! deleted afterwards.

mod peer;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use qovery_backups_codegen::Spec;

use crate::{SPEC, USAGE, workspace_root};

/// Crates whose presence in a build says where its time goes: code generators, and C builds.
const HEAVY: [&str; 8] =
    ["progenitor", "typify", "prettyplease", "openapiv3", "yaml_serde", "aws-lc-sys", "ring", "openssl-sys"];

/// Crates whose resolved versions the report names, to tell whether two builds compiled the same
/// TLS stack.
const VERSIONS_OF: [&str; 3] = ["reqwest", "rustls", "aws-lc-sys"];

/// One measured build, for the comparison line.
struct Measurement {
    seconds: f64,
    compiled: usize,
}

pub fn dependent_build(args: &[String]) -> Result<(), String> {
    let mut features = Vec::new();
    let mut no_default_features = false;
    let mut root = workspace_root();
    let mut dir = std::env::temp_dir().join(format!("qovery-backups-dependent-{}", std::process::id()));
    let mut peer = None;
    let mut only_peer = false;
    let mut rounds = 1;
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--features" => features.push(args.next().ok_or("--features needs a list")?.clone()),
            "--no-default-features" => no_default_features = true,
            "--dir" => dir = PathBuf::from(args.next().ok_or("--dir needs a DIR")?),
            "--root" => root = PathBuf::from(args.next().ok_or("--root needs a DIR")?),
            "--peer" => peer = Some(PathBuf::from(args.next().ok_or("--peer needs a DIR")?)),
            "--only-peer" => only_peer = true,
            "--rounds" => {
                let n = args.next().ok_or("--rounds needs a count")?;
                rounds = n
                    .parse()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or(format!("--rounds {n}: give a count of 1 or more"))?;
            }
            other => return Err(format!("unknown argument `{other}`\n{USAGE}")),
        }
    }
    if only_peer && peer.is_none() {
        return Err("--only-peer needs --peer DIR".to_owned());
    }
    if only_peer && (no_default_features || !features.is_empty()) {
        // They choose `qovery-backups`'s features; the peer is always built with rustls.
        return Err(
            "--features and --no-default-features apply to qovery-backups, which --only-peer does not build"
                .to_owned(),
        );
    }
    if dir.exists() {
        // Never delete what this command did not create.
        return Err(format!("{} exists; give a --dir that does not", dir.display()));
    }
    let result = (|| -> Result<(), String> {
        // Two clean builds minutes apart differ by several seconds on a shared machine, more than
        // the difference being measured: `--rounds N` repeats the pair, alternating which goes
        // first so that a slow spell does not always fall on the same one, and gives the median.
        // The client is trimmed once; each round builds a fresh dependent of it.
        let peer = match &peer {
            Some(peer) => Some(trim_peer(&root, peer, &dir.join("peer-qovery"))?),
            None => None,
        };
        let mut ratios = Vec::new();
        for round in 0..rounds {
            let round_dir = dir.join(format!("round-{round}"));
            let measure_ours = || measure_ours(&root, &round_dir, &features, no_default_features);
            let measure_peer = |client: &PathBuf| measure_peer(client, &round_dir);
            let (ours, theirs) = match (&peer, only_peer) {
                (Some(peer), true) => (None, Some(measure_peer(peer)?)),
                (Some(peer), false) if round % 2 == 1 => {
                    let theirs = measure_peer(peer)?;
                    (Some(measure_ours()?), Some(theirs))
                }
                (Some(peer), false) => {
                    let ours = measure_ours()?;
                    (Some(ours), Some(measure_peer(peer)?))
                }
                (None, _) => (Some(measure_ours()?), None),
            };
            if let (Some(ours), Some(theirs)) = (ours, theirs) {
                let ratio = ours.seconds / theirs.seconds;
                println!("ours / peer: {ratio:.2}× wall, {} vs {} crates", ours.compiled, theirs.compiled);
                ratios.push(ratio);
            }
            let _ = fs::remove_dir_all(&round_dir);
        }
        if ratios.len() > 1 {
            ratios.sort_by(f64::total_cmp);
            let listed: Vec<String> = ratios.iter().map(|r| format!("{r:.2}")).collect();
            println!(
                "ours / peer over {} rounds: median {:.2}× ({})",
                ratios.len(),
                median(&ratios),
                listed.join(", ")
            );
        }
        Ok(())
    })();
    let _ = fs::remove_dir_all(&dir);
    result
}

/// The middle of sorted values (the mean of the two middle ones for an even count).
fn median(sorted: &[f64]) -> f64 {
    let middle = sorted.len() / 2;
    if sorted.len().is_multiple_of(2) { (sorted[middle - 1] + sorted[middle]) / 2.0 } else { sorted[middle] }
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
    }
    fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// A binary crate's manifest: `dependency` (a TOML line) and tokio, standing alone.
fn dependent_manifest(name: &str, dependency: &str) -> String {
    // `[workspace]`: the crate stands alone, whatever directory holds it.
    format!(
        "[package]\nname = \"{name}\"\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\n\
         [dependencies]\n{dependency}\n\
         tokio = {{ version = \"1\", features = [\"macros\", \"rt-multi-thread\"] }}\n\n[workspace]\n"
    )
}

/// The dependent of `qovery-backups` (by path). The workspace's Cargo.lock is copied in so that
/// before/after figures compile the same versions, and nothing needs the network.
fn measure_ours(
    root: &Path,
    dir: &Path,
    features: &[String],
    no_default: bool,
) -> Result<Measurement, String> {
    let sdk = fs::canonicalize(root.join("crates/qovery-backups"))
        .map_err(|e| format!("cannot find crates/qovery-backups under {}: {e}", root.display()))?;
    let krate = dir.join("dependent");
    let mut sdk_dep = format!("qovery-backups = {{ path = {:?}", sdk.display().to_string());
    if no_default {
        sdk_dep.push_str(", default-features = false");
    }
    if !features.is_empty() {
        let list: Vec<String> =
            features.iter().flat_map(|f| f.split(',')).map(|f| format!("{:?}", f.trim())).collect();
        sdk_dep.push_str(&format!(", features = [{}]", list.join(", ")));
    }
    sdk_dep.push_str(" }");
    write(&krate.join("Cargo.toml"), &dependent_manifest("dependent", &sdk_dep))?;
    write(
        &krate.join("src/main.rs"),
        "#[tokio::main]\nasync fn main() {\n    \
         let client = qovery_backups::Client::builder().token(\"t\").build();\n    \
         println!(\"{}\", client.is_ok());\n}\n",
    )?;
    if let Ok(lock) = fs::read_to_string(root.join("Cargo.lock")) {
        write(&krate.join("Cargo.lock"), &lock)?;
    }
    let label = if features.is_empty() && !no_default {
        "default features".to_owned()
    } else {
        format!("{}features [{}]", if no_default { "no default " } else { "" }, features.join(","))
    };
    build_and_report(&krate, &dir.join("target"), &format!("dependent-build ({label})"), "dependent")
}

/// Qovery's openapi-generator client in `peer`, restricted to the operations of our openapi.yaml
/// (see `peer`), written into `client`; returns `client`.
fn trim_peer(root: &Path, peer: &Path, client: &Path) -> Result<PathBuf, String> {
    let spec_text = fs::read_to_string(root.join(SPEC)).map_err(|e| format!("cannot read {SPEC}: {e}"))?;
    let spec = Spec::parse(SPEC, &spec_text).map_err(|e| e.to_string())?;
    let operation_ids: Vec<String> = spec
        .operations()
        .into_iter()
        .filter_map(|(_, op)| op.get("operationId")?.as_str().map(str::to_owned))
        .collect();

    let files = read_client(peer)?;
    let trimmed = peer::trim_client(&files, &operation_ids)
        .map_err(|e| format!("cannot trim the client in {}: {e}", peer.display()))?;
    println!(
        "peer: Qovery's openapi-generator client from {}, kept {} api functions (the {} operations of {SPEC}) \
         and {} of its {} model files",
        peer.display(),
        trimmed.functions,
        operation_ids.len(),
        trimmed.models,
        trimmed.models_before
    );
    if !trimmed.whole_api_files.is_empty() {
        println!(
            "  could not cut these api files into items, so they are kept whole (more than the generator \
             would produce for {SPEC}): {}",
            trimmed.whole_api_files.join(", ")
        );
    }
    for (path, text) in &trimmed.files {
        write(&client.join(path), text)?;
    }
    Ok(client.to_path_buf())
}

/// The dependent of the trimmed client in `client`, built in `dir`, used with rustls like ours.
/// Its Cargo.lock is resolved fresh: the client has its own dependency set.
fn measure_peer(client: &Path, dir: &Path) -> Result<Measurement, String> {
    let krate = dir.join("peer-dependent");
    let dependency = format!(
        "qovery = {{ path = {:?}, default-features = false, features = [\"rustls\"] }}",
        client.display().to_string()
    );
    write(&krate.join("Cargo.toml"), &dependent_manifest("peer-dependent", &dependency))?;
    // Like ours: build the client (hence reqwest's TLS setup) and make no request.
    write(
        &krate.join("src/main.rs"),
        "#[tokio::main]\nasync fn main() {\n    \
         let configuration = qovery::apis::configuration::Configuration {\n        \
         bearer_access_token: Some(\"t\".to_owned()),\n        \
         ..Default::default()\n    };\n    \
         println!(\"{}\", configuration.base_path);\n}\n",
    )?;
    build_and_report(&krate, &dir.join("peer-target"), "peer-dependent (qovery, rustls)", "peer-dependent")
}

/// `Cargo.toml` and every `.rs` file under `src/` of the client in `peer`, by relative path with
/// `/` separators. Other files (docs, the generator's `.orig` leftovers) play no part in a build.
fn read_client(peer: &Path) -> Result<BTreeMap<String, String>, String> {
    let read =
        |path: &Path| fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()));
    let mut files = BTreeMap::new();
    files.insert("Cargo.toml".to_owned(), read(&peer.join("Cargo.toml"))?);
    let mut pending = vec![PathBuf::from("src")];
    while let Some(relative) = pending.pop() {
        let entries = fs::read_dir(peer.join(&relative))
            .map_err(|e| format!("cannot read {}: {e}", peer.join(&relative).display()))?;
        for entry in entries {
            let entry = entry.map_err(|e| format!("cannot read {}: {e}", relative.display()))?;
            let path = relative.join(entry.file_name());
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                pending.push(path);
            } else if path.extension().is_some_and(|ext| ext == "rs") {
                let key =
                    path.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/");
                files.insert(key, read(&peer.join(&path))?);
            }
        }
    }
    Ok(files)
}

/// Builds `krate` clean, in release, with `--timings`, into `target`, and prints seconds, crates
/// compiled, the heavy ones among them, resolved versions and the slowest units. The timing report
/// is copied into the system's temp dir as `qovery-backups-{report}-timing.html`, since `target`
/// is deleted.
fn build_and_report(krate: &Path, target: &Path, label: &str, report: &str) -> Result<Measurement, String> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let started = Instant::now();
    let output = Command::new(cargo)
        .args(["build", "--release", "--timings"])
        .current_dir(krate)
        .env("CARGO_TARGET_DIR", target)
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
        return Err(format!("the build of {} failed:\n{log}", krate.display()));
    }
    let compiled = compiled_crates(&log);
    let heavy: Vec<&str> = HEAVY.into_iter().filter(|name| compiled.contains(name)).collect();
    println!("{label}: {seconds:.1} s, {} crates compiled", compiled.len());
    println!(
        "  code generators or C builds among them: {}",
        if heavy.is_empty() { "none".to_owned() } else { heavy.join(", ") }
    );
    if let Ok(lock) = fs::read_to_string(krate.join("Cargo.lock")) {
        let versions: Vec<String> =
            locked_versions(&lock, &VERSIONS_OF).into_iter().map(|(name, v)| format!("{name} {v}")).collect();
        println!(
            "  resolved: {}",
            if versions.is_empty() { "none of them".to_owned() } else { versions.join(", ") }
        );
    }
    let timings = target.join("cargo-timings/cargo-timing.html");
    if let Ok(html) = fs::read_to_string(&timings) {
        println!("  slowest units (cargo --timings):");
        for (seconds, unit) in slowest_units(&html).into_iter().take(8) {
            println!("    {seconds:6.1} s  {unit}");
        }
    }
    let kept = std::env::temp_dir().join(format!("qovery-backups-{report}-timing.html"));
    if fs::copy(&timings, &kept).is_ok() {
        println!("  cargo --timings report copied to {}", kept.display());
    }
    Ok(Measurement { seconds, compiled: compiled.len() })
}

/// The crates of cargo's `Compiling NAME VERSION` lines, one per line: a crate built for both the
/// host (build scripts, proc macros) and the target counts twice, as cargo compiles it twice.
fn compiled_crates(log: &str) -> Vec<&str> {
    log.lines()
        .filter_map(|line| line.trim_start().strip_prefix("Compiling ")?.split_whitespace().next())
        .collect()
}

/// The versions a Cargo.lock resolved for `names`, in the lock's order (a name may appear with
/// two versions).
fn locked_versions<'a>(lock: &'a str, names: &[&str]) -> Vec<(&'a str, &'a str)> {
    let mut found = Vec::new();
    for package in lock.split("[[package]]").skip(1) {
        let field = |key: &str| {
            package.lines().find_map(|line| {
                line.strip_prefix(key)?.trim().strip_prefix("= ")?.strip_prefix('"')?.strip_suffix('"')
            })
        };
        if let (Some(name), Some(version)) = (field("name"), field("version"))
            && names.contains(&name)
        {
            found.push((name, version));
        }
    }
    found
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_is_the_middle_or_the_mean_of_the_two_middles() {
        assert_eq!(super::median(&[1.0, 2.0, 9.0]), 2.0);
        assert_eq!(super::median(&[1.0, 2.0, 4.0, 9.0]), 3.0);
    }

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

    #[test]
    fn compiled_crates_reads_cargos_compiling_lines() {
        let log = "    Updating crates.io index\n   Compiling ring v0.17.14\n   Compiling serde v1.0.228\n\
                   warning: unused\n   Compiling ring v0.17.14\n    Finished `release` profile";
        assert_eq!(compiled_crates(log), ["ring", "serde", "ring"]);
    }

    #[test]
    fn locked_versions_reads_a_cargo_lock() {
        let lock = "version = 4\n\n[[package]]\nname = \"aws-lc-rs\"\nversion = \"1.15.0\"\n\n\
                    [[package]]\nname = \"reqwest\"\nversion = \"0.13.1\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n\n\
                    [[package]]\nname = \"rustls\"\nversion = \"0.23.35\"\ndependencies = [\n \"reqwest\",\n]\n";
        assert_eq!(locked_versions(lock, &VERSIONS_OF), [("reqwest", "0.13.1"), ("rustls", "0.23.35")]);
    }
}
