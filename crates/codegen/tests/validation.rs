//! A broken openapi.yaml fails with an error that names the file, the JSON pointer of the problem
//! and what to do about it, whether build.rs (`generate_client`) or xtask (`generate`) runs.

mod common;

use common::{edit, spec_text};
use qovery_backups_codegen::{SpecError, generate, generate_client};

/// The name the caller gives the spec; errors must repeat it.
const FILE: &str = "specs/broken.yaml";

/// The error for `text`, checked to be the same from both entry points, and to render as
/// `file at pointer: problem; fix`.
fn error_for(text: &str) -> SpecError {
    let from_generate = generate(FILE, text).expect_err("the spec is broken");
    let from_build_rs = generate_client(FILE, text).expect_err("build.rs must reject it too");
    assert_eq!(from_generate, from_build_rs);
    let e = from_generate;
    assert_eq!(e.file, FILE);
    assert!(!e.fix.trim().is_empty(), "no fix offered: {e:?}");
    let shown = e.to_string();
    let pointer = if e.pointer.is_empty() { "/" } else { e.pointer.as_str() };
    assert!(shown.starts_with(&format!("{FILE} at {pointer}: ")), "{shown}");
    assert!(shown.contains(&e.problem) && shown.contains(&e.fix), "{shown}");
    e
}

#[test]
fn the_real_spec_is_valid() {
    generate("openapi.yaml", &spec_text()).expect("openapi.yaml validates and generates");
}

#[test]
fn missing_operation_id_names_the_operation_and_how_to_name_it() {
    let text = edit(&spec_text(), "      operationId: addBackupDatabase\n", "");

    let e = error_for(&text);

    assert_eq!(e.pointer, "/paths/~1database~1{databaseId}~1backup/post");
    assert_eq!(e.problem, "operation has no operationId");
    assert!(e.fix.contains("operationId: <camelCaseName>"), "{}", e.fix);
}

#[test]
fn dangling_ref_names_where_the_ref_is_and_what_it_points_at() {
    let text = edit(
        &spec_text(),
        "        execution_id:\n          type: string\n",
        "        execution_id:\n          $ref: '#/components/schemas/ExecutionId'\n",
    );

    let e = error_for(&text);

    assert_eq!(e.pointer, "/components/schemas/Status/properties/execution_id/$ref");
    assert!(e.problem.contains("`#/components/schemas/ExecutionId` does not resolve"), "{}", e.problem);
    assert!(e.fix.contains("#/components"), "{}", e.fix);
}

#[test]
fn unused_component_is_named_with_the_choice_to_use_or_delete_it() {
    let text = edit(
        &spec_text(),
        "  schemas:\n    Backup:\n",
        "  schemas:\n    Orphan:\n      type: object\n    Backup:\n",
    );

    let e = error_for(&text);

    assert_eq!(e.pointer, "/components/schemas/Orphan");
    assert!(e.problem.contains("`Orphan`") && e.problem.contains("never used"), "{}", e.problem);
    assert_eq!(e.fix, "reference it from an operation, or delete it");
}

#[test]
fn security_scheme_named_by_no_requirement_is_unused() {
    let text = edit(&spec_text(), "  - ApiKeyAuth: []\n", "");

    let e = error_for(&text);

    assert_eq!(e.pointer, "/components/securitySchemes/ApiKeyAuth");
    assert!(e.problem.contains("never used"), "{}", e.problem);
}

#[test]
fn several_problems_are_reported_in_one_run_first_one_first() {
    // A typo in a $ref both dangles and leaves its intended target unused.
    let text = edit(
        &spec_text(),
        "$ref: '#/components/schemas/StatusDetails'",
        "$ref: '#/components/schemas/StatusDetail'",
    );

    let e = error_for(&text);

    assert_eq!(e.pointer, "/components/schemas/Status/properties/status_details/$ref");
    // StatusDetails and the three enums only it reaches are now unused.
    assert!(e.problem.ends_with("(and 4 more)"), "{}", e.problem);
    assert!(
        e.fix.contains(&format!("also: {FILE} at /components/schemas/StatusDetails: ")),
        "the second problem is listed with its own pointer: {}",
        e.fix
    );
}

#[test]
fn openapi_3_1_is_rejected_with_the_version_to_write() {
    let text = edit(&spec_text(), "openapi: 3.0.0\n", "openapi: 3.1.0\n");

    let e = error_for(&text);

    assert_eq!(e.pointer, "/openapi");
    assert!(e.problem.contains("3.1.0") && e.problem.contains("not supported"), "{}", e.problem);
    assert!(e.fix.contains("openapi: 3.0.0"), "{}", e.fix);
}

#[test]
fn invalid_yaml_names_the_line_to_fix() {
    // An unclosed flow sequence: the parser names where it opened.
    let text = edit(&spec_text(), "  title: Qovery API\n", "  title: [Qovery API\n");
    let line = text.lines().position(|l| l == "  title: [Qovery API").unwrap() + 1;

    let e = error_for(&text);

    assert_eq!(e.pointer, "");
    assert!(e.problem.starts_with("not valid YAML: "), "{}", e.problem);
    assert!(e.problem.contains(&format!("line {line} column 10")), "the position is given: {}", e.problem);
    assert!(e.fix.contains("line and column"), "{}", e.fix);
}

#[test]
fn enum_values_that_clash_as_rust_variants_are_rejected() {
    // Without this check the generated enum has two variants of one name and fails to compile
    // inside OUT_DIR, far from openapi.yaml.
    let catch_all = error_for(&common::spec_with_state("UNRECOGNIZED"));
    assert_eq!(catch_all.pointer, "/components/schemas/StateEnum/enum/0");
    assert!(
        catch_all.problem.contains("`Unrecognized`") && catch_all.problem.contains("catch-all"),
        "{}",
        catch_all.problem
    );
    assert!(catch_all.fix.contains("UNRECOGNIZED"), "{}", catch_all.fix);

    // `building` is listed first, so `BUILDING`, now second, is the one that clashes.
    let same_name = error_for(&common::spec_with_state("building"));
    assert_eq!(same_name.pointer, "/components/schemas/StateEnum/enum/1");
    assert!(
        same_name.problem.contains("`BUILDING`") && same_name.problem.contains("value `building`"),
        "{}",
        same_name.problem
    );
}
