//! Generates the client from openapi.yaml with the same function `cargo xtask codegen` uses, so
//! the checked-in snapshot under `generated/` is exactly what compiles here.

use std::{env, fs, path::PathBuf, process};

const SPEC: &str = "openapi.yaml";

fn main() {
    // Only the spec is an input; the generator is a build-dependency, which cargo tracks itself.
    // Editing any other crate of the workspace must not rerun this script.
    println!("cargo:rerun-if-changed={SPEC}");
    println!("cargo:rerun-if-changed=build.rs");

    let text = fs::read_to_string(SPEC).unwrap_or_else(|e| fail(&format!("cannot read {SPEC}: {e}")));
    let client =
        qovery_backups_codegen::generate_client(SPEC, &text).unwrap_or_else(|e| fail(&e.to_string()));
    let out =
        PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR")).join("qovery_backups_api.rs");
    fs::write(&out, client).unwrap_or_else(|e| fail(&format!("cannot write {}: {e}", out.display())));
}

fn fail(message: &str) -> ! {
    eprintln!("error: {message}");
    process::exit(1);
}
