//! Helpers shared by the codegen tests: the real openapi.yaml, and edits to its text that fail
//! loudly when they no longer apply.
#![allow(dead_code)] // each test file uses its own subset

/// The workspace's openapi.yaml.
pub const SPEC_PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../openapi.yaml");

/// Where the checked-in artifacts live.
pub const WORKSPACE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");

pub fn spec_text() -> String {
    std::fs::read_to_string(SPEC_PATH).expect("openapi.yaml is readable")
}

/// `text` with `from` replaced by `to`; `from` must occur exactly once, so an edit that stops
/// matching openapi.yaml fails here instead of silently testing the unedited spec.
pub fn edit(text: &str, from: &str, to: &str) -> String {
    edit_n(text, from, to, 1)
}

/// Like [`edit`], for text that occurs exactly `times` times.
pub fn edit_n(text: &str, from: &str, to: &str, times: usize) -> String {
    let found = text.matches(from).count();
    assert_eq!(found, times, "expected {times} occurrence(s) of {from:?} in the spec, found {found}");
    text.replace(from, to)
}

/// openapi.yaml with one more value in StateEnum.
pub fn spec_with_state(value: &str) -> String {
    edit(
        &spec_text(),
        "    StateEnum:\n      type: string\n      enum:\n",
        &format!("    StateEnum:\n      type: string\n      enum:\n        - {value}\n"),
    )
}
