//! One self-contained JSON Schema (draft-07) per model, translated from the OpenAPI 3.0 schemas.
//!
//! These are derived from openapi.yaml directly rather than from the Rust types, so they state
//! what the API promises (closed enums, `required` lists) and can hold the mock server to it.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use crate::spec::{Spec, schemas};

const SCHEMAS_PREFIX: &str = "#/components/schemas/";

pub(crate) fn generate(spec: &Spec) -> Vec<(String, String)> {
    let all = schemas(&spec.doc);
    all.iter()
        .map(|(name, schema)| {
            let mut definitions = BTreeMap::new();
            let mut pending = vec![name.clone()];
            while let Some(next) = pending.pop() {
                if definitions.contains_key(&next) {
                    continue;
                }
                if let Some(schema) = all.get(&next) {
                    let converted = convert(schema, &mut pending);
                    definitions.insert(next, converted);
                }
            }
            let mut root = Map::new();
            root.insert("$schema".into(), json!("http://json-schema.org/draft-07/schema#"));
            if let Value::Object(body) = convert(schema, &mut Vec::new()) {
                root.extend(body);
            }
            // The model's name wins over a title of its own: upstream writes `title: ''` on some.
            root.insert("title".into(), json!(name));
            definitions.remove(name);
            if !definitions.is_empty() {
                root.insert("definitions".into(), Value::Object(definitions.into_iter().collect()));
            }
            // A self-reference (none today) resolves through the root.
            let text = serde_json::to_string_pretty(&Value::Object(root)).expect("JSON values serialize");
            (name.clone(), format!("{text}\n"))
        })
        .collect()
}

/// OpenAPI 3.0 schema object → JSON Schema draft-07. Names of referenced models go to `refs`.
fn convert(schema: &Value, refs: &mut Vec<String>) -> Value {
    match schema {
        Value::Object(map) => {
            let mut out = Map::new();
            for (key, value) in map {
                match key.as_str() {
                    "$ref" => {
                        let target = value.as_str().unwrap_or_default();
                        let name = target.strip_prefix(SCHEMAS_PREFIX).unwrap_or(target);
                        refs.push(name.to_owned());
                        out.insert(key.clone(), json!(format!("#/definitions/{name}")));
                    }
                    // Draft-07 spells `nullable` as a type union; applied below.
                    "nullable" => {}
                    "example" => {
                        out.insert("examples".into(), json!([value]));
                    }
                    k if k.starts_with("x-") => {}
                    "properties" => {
                        let props = value
                            .as_object()
                            .into_iter()
                            .flatten()
                            .map(|(name, s)| (name.clone(), convert(s, refs)))
                            .collect();
                        out.insert(key.clone(), Value::Object(props));
                    }
                    "items" | "additionalProperties" | "not" => {
                        out.insert(key.clone(), convert(value, refs));
                    }
                    "allOf" | "anyOf" | "oneOf" => {
                        let members =
                            value.as_array().into_iter().flatten().map(|s| convert(s, refs)).collect();
                        out.insert(key.clone(), Value::Array(members));
                    }
                    _ => {
                        out.insert(key.clone(), value.clone());
                    }
                }
            }
            if map.get("nullable") == Some(&Value::Bool(true)) {
                if let Some(Value::String(t)) = out.get("type").cloned() {
                    out.insert("type".into(), json!([t, "null"]));
                }
                if let Some(Value::Array(values)) = out.get_mut("enum") {
                    values.push(Value::Null);
                }
            }
            Value::Object(out)
        }
        other => other.clone(),
    }
}
