//! The JSON Schemas state what the API promises: nullability as a type union, required fields,
//! self-contained `$ref`s, and the values of every enum.

mod common;

use std::collections::BTreeMap;

use common::spec_text;
use qovery_backups_codegen::{Spec, generate};
use serde_json::{Value, json};

fn schemas() -> BTreeMap<String, Value> {
    generate("openapi.yaml", &spec_text())
        .unwrap()
        .schemas
        .into_iter()
        .map(|(name, text)| (name, serde_json::from_str(&text).expect("each schema is JSON")))
        .collect()
}

fn refs(node: &Value, out: &mut Vec<String>) {
    match node {
        Value::Object(map) => {
            for (key, value) in map {
                match (key.as_str(), value) {
                    ("$ref", Value::String(target)) => out.push(target.clone()),
                    _ => refs(value, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
        _ => {}
    }
}

#[test]
fn one_draft_07_schema_per_model_titled_after_it() {
    let text = spec_text();
    let spec = Spec::parse("openapi.yaml", &text).unwrap();
    let mut models: Vec<&String> = spec.doc["components"]["schemas"].as_object().unwrap().keys().collect();
    models.sort();
    let schemas = schemas();
    assert_eq!(schemas.keys().collect::<Vec<_>>(), models);
    for (name, schema) in &schemas {
        assert_eq!(schema["$schema"], "http://json-schema.org/draft-07/schema#", "{name}");
        assert_eq!(schema["title"], json!(name));
    }
}

#[test]
fn status_marks_deployment_request_id_required_and_nullable() {
    let status = &schemas()["Status"];

    assert_eq!(status["properties"]["deployment_request_id"]["type"], json!(["string", "null"]));
    assert_eq!(status["properties"]["deployment_request_id"]["format"], "uuid");
    let required = status["required"].as_array().unwrap();
    assert!(required.contains(&json!("deployment_request_id")), "{required:?}");
    // Not nullable, so not a union.
    assert_eq!(status["properties"]["is_part_last_deployment"]["type"], "boolean");
    // `nullable` is OpenAPI's spelling; draft-07 does not know it.
    assert!(!serde_json::to_string(status).unwrap().contains("nullable"));
}

#[test]
fn steps_total_duration_is_a_nullable_integer() {
    let steps = &schemas()["ServiceStepMetrics"];
    assert_eq!(steps["properties"]["total_duration_sec"]["type"], json!(["integer", "null"]));
    assert_eq!(steps["properties"]["total_computing_duration_sec"]["type"], "integer");
}

#[test]
fn every_ref_resolves_inside_its_own_schema() {
    let schemas = schemas();
    let mut checked = 0;
    for (name, schema) in &schemas {
        let mut found = Vec::new();
        refs(schema, &mut found);
        for target in found {
            let pointer =
                target.strip_prefix('#').unwrap_or_else(|| panic!("{name}: non-local $ref {target}"));
            assert!(pointer.starts_with("/definitions/"), "{name}: {target}");
            assert!(schema.pointer(pointer).is_some(), "{name}: {target} does not resolve");
            checked += 1;
        }
    }
    assert!(checked > 0);

    let status = &schemas["Status"];
    assert_eq!(status["properties"]["state"]["$ref"], "#/definitions/StateEnum");
    assert_eq!(status["definitions"]["StateEnum"]["type"], "string");
    // Reached transitively: Backup → Status → StatusDetails → ServiceActionEnum.
    let backup = &schemas["Backup"];
    assert!(backup["definitions"]["ServiceActionEnum"]["enum"].is_array());
}

#[test]
fn enums_list_their_spec_values() {
    let text = spec_text();
    let spec = Spec::parse("openapi.yaml", &text).unwrap();
    let schemas = schemas();
    let mut enums = 0;
    for (name, model) in spec.doc["components"]["schemas"].as_object().unwrap() {
        if let Some(values) = model.get("enum") {
            assert_eq!(&schemas[name]["enum"], values, "{name}");
            assert_eq!(schemas[name]["type"], "string", "{name}");
            enums += 1;
        }
    }
    assert!(enums >= 7, "found {enums} enums");
    assert_eq!(schemas["ServiceSubActionEnum"]["default"], "NONE");
}
