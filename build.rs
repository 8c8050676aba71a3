//! Puts the generated client in OUT_DIR, by one of two roads that give the same bytes.
//!
//! - With the `regenerate` feature (every build of this workspace turns it on, through the
//!   unpublished `crates/regenerate`), the client is generated from openapi.yaml by the same
//!   function `cargo xtask codegen` uses, so editing the spec is enough to see its effect.
//! - Without it (a dependent, or `cargo build -p` of one published crate), the checked-in
//!   snapshot `generated/qovery_backups_api.rs` is compiled as is: a dependent never builds
//!   progenitor, typify, syn or any other part of the generator. The digest of openapi.yaml
//!   recorded in the snapshot's banner is checked first, so a spec edited without
//!   `cargo xtask codegen` fails here instead of silently compiling the old client.
//!
//! `cargo xtask codegen --check` (in CI) remains the guard that the snapshot is what the spec
//! and the generator produce.

use std::{env, fs, path::PathBuf, process};

const SPEC: &str = "openapi.yaml";
const SNAPSHOT: &str = "generated/qovery_backups_api.rs";
/// Written by qovery-backups-codegen as the banner's third line.
#[cfg(not(feature = "regenerate"))]
const DIGEST_PREFIX: &str = "// openapi.yaml digest: ";

fn main() {
    // Only the spec and the snapshot are inputs; the generator, when used, is a build-dependency,
    // which cargo tracks itself. Editing any other crate of the workspace must not rerun this.
    println!("cargo:rerun-if-changed={SPEC}");
    println!("cargo:rerun-if-changed={SNAPSHOT}");
    println!("cargo:rerun-if-changed=build.rs");

    let spec = fs::read_to_string(SPEC).unwrap_or_else(|e| fail(&format!("cannot read {SPEC}: {e}")));
    let client = client(&spec);
    let out =
        PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR")).join("qovery_backups_api.rs");
    fs::write(&out, client).unwrap_or_else(|e| fail(&format!("cannot write {}: {e}", out.display())));
}

#[cfg(feature = "regenerate")]
fn client(spec: &str) -> String {
    // This file's copy of the digest must agree with the generator's, or the other road would
    // reject every snapshot; checked on every regenerating build, so a change to one is noticed.
    let theirs = qovery_backups_codegen::spec_digest(spec);
    if theirs != digest(spec) {
        fail(&format!(
            "build.rs computes the digest of {SPEC} as {}, qovery-backups-codegen as {theirs}: \
             make `digest` in build.rs match `spec_digest` in crates/codegen",
            digest(spec)
        ));
    }
    let client = qovery_backups_codegen::generate_client(SPEC, spec).unwrap_or_else(|e| fail(&e.to_string()));
    if fs::read_to_string(SNAPSHOT).ok().as_deref() != Some(client.as_str()) {
        // Not an error: this build uses what it just generated. But a dependent would compile
        // the snapshot, so say it is stale.
        println!("cargo:warning={SNAPSHOT} differs from what {SPEC} produces: run `cargo xtask codegen`");
    }
    client
}

#[cfg(not(feature = "regenerate"))]
fn client(spec: &str) -> String {
    let snapshot =
        fs::read_to_string(SNAPSHOT).unwrap_or_else(|e| fail(&format!("cannot read {SNAPSHOT}: {e}")));
    let recorded = snapshot.lines().take(5).find_map(|line| line.strip_prefix(DIGEST_PREFIX));
    let actual = digest(spec);
    if recorded != Some(actual.as_str()) {
        fail(&format!(
            "{SNAPSHOT} was not generated from this {SPEC} (digest {} recorded, {actual} now): \
             run `cargo xtask codegen` in the workspace, or build with the `regenerate` feature",
            recorded.unwrap_or("none")
        ));
    }
    snapshot
}

/// FNV-1a, 64 bits, over the text without carriage returns: the same as
/// `qovery_backups_codegen::spec_digest`, repeated because this road builds without that crate.
fn digest(text: &str) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in text.bytes().filter(|&b| b != b'\r') {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{hash:016x}")
}

fn fail(message: &str) -> ! {
    eprintln!("error: {message}");
    process::exit(1);
}
