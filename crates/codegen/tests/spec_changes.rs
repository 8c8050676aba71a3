//! Editing openapi.yaml is all it takes: a value added to an enum becomes a named variant of the
//! Rust enum, an entry of its `KNOWN_VALUES`, and a value of its JSON Schema.

mod common;

use common::{spec_text, spec_with_state};
use qovery_backups_codegen::{Artifacts, Spec, generate};
use serde_json::Value;

/// The variants of `pub enum <name>` in the generated `types` module.
fn variants(client: &str, name: &str) -> Vec<String> {
    let item = types_item(client, |item| match item {
        syn::Item::Enum(e) if e.ident == name => {
            Some(e.variants.iter().map(|v| v.ident.to_string()).collect())
        }
        _ => None,
    });
    item.unwrap_or_else(|| panic!("no enum {name} in the generated client"))
}

/// The strings of `<name>::KNOWN_VALUES` in the generated client.
fn known_values(client: &str, name: &str) -> Vec<String> {
    let item = types_item(client, |item| {
        let syn::Item::Impl(block) = item else { return None };
        let syn::Type::Path(ty) = &*block.self_ty else { return None };
        if !ty.path.is_ident(name) || block.trait_.is_some() {
            return None;
        }
        block.items.iter().find_map(|member| match member {
            syn::ImplItem::Const(c) if c.ident == "KNOWN_VALUES" => Some(string_literals(&c.expr)),
            _ => None,
        })
    });
    item.unwrap_or_else(|| panic!("no {name}::KNOWN_VALUES in the generated client"))
}

fn string_literals(expr: &syn::Expr) -> Vec<String> {
    match expr {
        syn::Expr::Reference(r) => string_literals(&r.expr),
        syn::Expr::Array(a) => a
            .elems
            .iter()
            .map(|e| match e {
                syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Str(s), .. }) => s.value(),
                other => panic!("KNOWN_VALUES holds a non-string: {}", quote::quote!(#other)),
            })
            .collect(),
        other => panic!("KNOWN_VALUES is not an array: {}", quote::quote!(#other)),
    }
}

fn types_item<T>(client: &str, find: impl Fn(&syn::Item) -> Option<T>) -> Option<T> {
    let file = syn::parse_file(client).expect("the generated client parses as Rust");
    file.items.iter().find_map(|item| match item {
        syn::Item::Mod(m) if m.ident == "types" => m.content.as_ref()?.1.iter().find_map(&find),
        _ => None,
    })
}

fn schema_enum(artifacts: &Artifacts, model: &str) -> Vec<String> {
    let (_, text) = artifacts.schemas.iter().find(|(name, _)| name == model).expect("the model has a schema");
    let schema: Value = serde_json::from_str(text).unwrap();
    schema["enum"]
        .as_array()
        .expect("an enum schema lists its values")
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn enum_value_added_to_the_spec_becomes_a_named_variant_and_a_schema_value() {
    let before = generate("openapi.yaml", &spec_text()).unwrap();
    assert!(!variants(&before.client, "StateEnum").contains(&"Frozen".to_owned()));
    assert!(!known_values(&before.client, "StateEnum").contains(&"FROZEN".to_owned()));

    let after = generate("openapi.yaml", &spec_with_state("FROZEN")).unwrap();

    assert!(variants(&after.client, "StateEnum").contains(&"Frozen".to_owned()));
    let known = known_values(&after.client, "StateEnum");
    assert_eq!(known[0], "FROZEN", "in the spec's order: {known:?}");
    assert_eq!(known[1..], known_values(&before.client, "StateEnum")[..]);
    assert!(
        after.client.contains(r#"Self::Frozen => "FROZEN""#),
        "as_str maps the variant to its wire value"
    );
    assert_eq!(schema_enum(&after, "StateEnum"), known);
    // Schemas are self-contained: exactly StateEnum and the models that embed it changed.
    let embeds_state =
        |text: &str| serde_json::from_str::<Value>(text).unwrap()["definitions"].get("StateEnum").is_some();
    let expected: Vec<&str> = before
        .schemas
        .iter()
        .filter(|(name, text)| name == "StateEnum" || embeds_state(text))
        .map(|(name, _)| name.as_str())
        .collect();
    assert!(expected.contains(&"Status") && expected.contains(&"Backup"), "{expected:?}");
    let changed: Vec<&str> = after
        .schemas
        .iter()
        .zip(&before.schemas)
        .filter(|(a, b)| a != b)
        .map(|((name, _), _)| name.as_str())
        .collect();
    assert_eq!(changed, expected);
}

#[test]
fn every_enum_has_a_variant_per_spec_value_plus_unrecognized() {
    let text = spec_text();
    let spec = Spec::parse("openapi.yaml", &text).unwrap();
    let artifacts = generate("openapi.yaml", &text).unwrap();
    let schemas = spec.doc["components"]["schemas"].as_object().unwrap();
    let enums: Vec<(&String, Vec<String>)> = schemas
        .iter()
        .filter_map(|(name, schema)| {
            let values = schema.get("enum")?.as_array()?;
            Some((name, values.iter().map(|v| v.as_str().unwrap().to_owned()).collect()))
        })
        .collect();
    assert!(enums.len() >= 7, "the spec's enums were found: {enums:?}");

    for (name, values) in enums {
        assert_eq!(known_values(&artifacts.client, name), values, "{name}");
        assert_eq!(schema_enum(&artifacts, name), values, "{name}");
        let variants = variants(&artifacts.client, name);
        assert_eq!(variants.len(), values.len() + 1, "{name}: {variants:?}");
        assert_eq!(variants.last().map(String::as_str), Some("Unrecognized"), "{name}");
    }
}
