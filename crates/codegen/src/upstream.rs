//! What changed upstream: Qovery's full spec against our openapi.yaml.
//!
//! The operations are matched by operationId, and the models by name among the components each
//! side's operations reach. Properties of inline `allOf` members count as the model's own, since
//! that is how upstream composes `Backup`.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde_json::Value;

use crate::spec::{Spec, collect_refs};

/// One difference between upstream and openapi.yaml, phrased from upstream's side
/// ("added" means upstream has it and openapi.yaml does not).
///
/// ```
/// use qovery_backups_codegen::Difference;
///
/// let difference =
///     Difference::EnumValue { model: "StateEnum".into(), value: "FROZEN".into(), added: true };
/// assert_eq!(difference.to_string(), "enum StateEnum: value FROZEN added upstream");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Difference {
    /// An operation of openapi.yaml that upstream no longer has.
    OperationMissing {
        /// Its operationId.
        operation_id: String,
    },
    /// A response status one side declares and the other does not.
    Response {
        /// The operation.
        operation_id: String,
        /// The status (`"200"`, `"5XX"`).
        status: String,
        /// Whether upstream has it (and openapi.yaml does not).
        added: bool,
    },
    /// A parameter (`in` and `name`) one side's operation takes and the other's does not.
    Parameter {
        /// The operation.
        operation_id: String,
        /// `query startId`, `path databaseId`, …
        parameter: String,
        /// Whether upstream has it (and openapi.yaml does not).
        added: bool,
    },
    /// A parameter, or the request body (`body`), that is required on one side only.
    ParameterRequired {
        /// The operation.
        operation_id: String,
        /// `query startId`, or `body` for the request body.
        parameter: String,
        /// Whether upstream requires it.
        upstream: bool,
    },
    /// A model one side has and the other does not.
    Model {
        /// Its name in `components.schemas`.
        model: String,
        /// Whether upstream has it (and openapi.yaml does not).
        added: bool,
    },
    /// An enum value one side lists and the other does not.
    EnumValue {
        /// The enum's name.
        model: String,
        /// The value.
        value: String,
        /// Whether upstream has it (and openapi.yaml does not).
        added: bool,
    },
    /// A property one side has and the other does not.
    Property {
        /// The model.
        model: String,
        /// The property.
        property: String,
        /// Whether upstream has it (and openapi.yaml does not).
        added: bool,
    },
    /// A property that is required on one side only.
    Required {
        /// The model.
        model: String,
        /// The property.
        property: String,
        /// Whether upstream requires it.
        upstream: bool,
    },
    /// A property that is nullable on one side only.
    Nullable {
        /// The model.
        model: String,
        /// The property.
        property: String,
        /// Whether upstream marks it nullable.
        upstream: bool,
    },
    /// A property whose `type`, `format` or `$ref` differs.
    Type {
        /// The model.
        model: String,
        /// The property.
        property: String,
        /// openapi.yaml's type.
        ours: String,
        /// upstream's type.
        upstream: String,
    },
}

impl fmt::Display for Difference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let side = |added: &bool| if *added { "added upstream" } else { "removed upstream" };
        match self {
            Difference::OperationMissing { operation_id } => {
                write!(f, "operation {operation_id}: not in upstream")
            }
            Difference::Response { operation_id, status, added } => {
                write!(f, "operation {operation_id}: response {status} {}", side(added))
            }
            Difference::Parameter { operation_id, parameter, added } => {
                write!(f, "operation {operation_id}: parameter `{parameter}` {}", side(added))
            }
            Difference::ParameterRequired { operation_id, parameter, upstream } => write!(
                f,
                "operation {operation_id}: `{parameter}` is {} upstream, {} in openapi.yaml",
                if *upstream { "required" } else { "optional" },
                if *upstream { "optional" } else { "required" },
            ),
            Difference::Model { model, added } => write!(f, "model {model}: {}", side(added)),
            Difference::EnumValue { model, value, added } => {
                write!(f, "enum {model}: value {value} {}", side(added))
            }
            Difference::Property { model, property, added } => {
                write!(f, "model {model}: property `{property}` {}", side(added))
            }
            Difference::Required { model, property, upstream } => write!(
                f,
                "model {model}: property `{property}` is {} upstream, {} in openapi.yaml",
                if *upstream { "required" } else { "optional" },
                if *upstream { "optional" } else { "required" },
            ),
            Difference::Nullable { model, property, upstream } => write!(
                f,
                "model {model}: property `{property}` is {} upstream, {} in openapi.yaml",
                if *upstream { "nullable" } else { "not nullable" },
                if *upstream { "not nullable" } else { "nullable" },
            ),
            Difference::Type { model, property, ours, upstream } => write!(
                f,
                "model {model}: property `{property}` is {upstream} upstream, {ours} in openapi.yaml"
            ),
        }
    }
}

/// Compares the operations of `ours` with the same operationIds in `upstream` (Qovery's whole
/// spec, or any part of it), and every model those operations reach. Sorted, one entry per fact.
///
/// ```
/// use qovery_backups_codegen::{Difference, Spec, diff_upstream};
///
/// # const OURS: &str = "
/// # openapi: 3.0.0
/// # info: {title: tiny, version: '1'}
/// # paths:
/// #   /health:
/// #     get:
/// #       operationId: getHealth
/// #       responses:
/// #         '200':
/// #           description: up
/// #           content: {application/json: {schema: {$ref: '#/components/schemas/Health'}}}
/// # components:
/// #   schemas:
/// #     Health: {type: object, required: [status], properties: {status: {type: string}}}
/// # ";
/// let ours = Spec::parse("openapi.yaml", OURS)?;
/// // Upstream has since added a 404 answer and a property.
/// let upstream = OURS
///     .replace("'200':", "'404': {description: gone}\n        '200':")
///     .replace("status: {type: string}", "status: {type: string}, uptime: {type: integer}");
/// let upstream = Spec::parse("upstream.yaml", &upstream)?;
///
/// assert_eq!(diff_upstream(&ours, &upstream), [
///     Difference::Response { operation_id: "getHealth".into(), status: "404".into(), added: true },
///     Difference::Property { model: "Health".into(), property: "uptime".into(), added: true },
/// ]);
/// # Ok::<(), qovery_backups_codegen::SpecError>(())
/// ```
pub fn diff_upstream(ours: &Spec, upstream: &Spec) -> Vec<Difference> {
    let mut differences = BTreeSet::new();
    let upstream_ops: BTreeMap<&str, &Value> = upstream
        .operations()
        .into_iter()
        .filter_map(|(_, op)| Some((op.get("operationId")?.as_str()?, op)))
        .collect();

    let mut our_roots = Vec::new();
    let mut upstream_roots = Vec::new();
    for (pointer, op) in ours.operations() {
        let Some(id) = op.get("operationId").and_then(Value::as_str) else { continue };
        collect_refs(op, pointer, &mut our_roots);
        let Some(theirs) = upstream_ops.get(id) else {
            differences.insert(Difference::OperationMissing { operation_id: id.to_owned() });
            continue;
        };
        collect_refs(theirs, String::new(), &mut upstream_roots);
        let statuses = |op: &Value| -> BTreeSet<String> {
            op.get("responses")
                .and_then(Value::as_object)
                .map(|r| r.keys().cloned().collect())
                .unwrap_or_default()
        };
        diff_inputs(id, ours, op, upstream, theirs, &mut differences);
        let (mine, yours) = (statuses(op), statuses(theirs));
        for status in yours.difference(&mine) {
            differences.insert(Difference::Response {
                operation_id: id.to_owned(),
                status: status.clone(),
                added: true,
            });
        }
        for status in mine.difference(&yours) {
            differences.insert(Difference::Response {
                operation_id: id.to_owned(),
                status: status.clone(),
                added: false,
            });
        }
    }

    let our_models = reachable_models(ours, our_roots);
    let upstream_models = reachable_models(upstream, upstream_roots);
    for name in upstream_models.keys().filter(|n| !our_models.contains_key(*n)) {
        differences.insert(Difference::Model { model: name.clone(), added: true });
    }
    for name in our_models.keys().filter(|n| !upstream_models.contains_key(*n)) {
        differences.insert(Difference::Model { model: name.clone(), added: false });
    }
    for (name, mine) in &our_models {
        if let Some(theirs) = upstream_models.get(name) {
            diff_model(name, &flatten(mine), &flatten(theirs), &mut differences);
        }
    }
    differences.into_iter().collect()
}

/// Parameters (by `in` and `name`, `$ref`s resolved) and whether the request body is required.
fn diff_inputs(
    operation_id: &str,
    ours: &Spec,
    op: &Value,
    upstream: &Spec,
    theirs: &Value,
    out: &mut BTreeSet<Difference>,
) {
    let parameters = |spec: &Spec, op: &Value| -> BTreeMap<String, bool> {
        let mut found = BTreeMap::new();
        for parameter in op.get("parameters").and_then(Value::as_array).into_iter().flatten() {
            let resolved = match parameter.get("$ref").and_then(Value::as_str) {
                Some(target) => target.strip_prefix('#').and_then(|p| spec.doc.pointer(p)),
                None => Some(parameter),
            };
            let Some(parameter) = resolved else { continue };
            let key = format!(
                "{} {}",
                parameter.get("in").and_then(Value::as_str).unwrap_or("?"),
                parameter.get("name").and_then(Value::as_str).unwrap_or("?")
            );
            found.insert(key, parameter.get("required") == Some(&Value::Bool(true)));
        }
        let body_required = op.pointer("/requestBody/required") == Some(&Value::Bool(true));
        if op.get("requestBody").is_some() {
            found.insert("body".to_owned(), body_required);
        }
        found
    };
    let (mine, yours) = (parameters(ours, op), parameters(upstream, theirs));
    let operation_id = operation_id.to_owned();
    for (parameter, required) in &yours {
        match mine.get(parameter) {
            None => out.insert(Difference::Parameter {
                operation_id: operation_id.clone(),
                parameter: parameter.clone(),
                added: true,
            }),
            Some(ours) if ours != required => out.insert(Difference::ParameterRequired {
                operation_id: operation_id.clone(),
                parameter: parameter.clone(),
                upstream: *required,
            }),
            Some(_) => false,
        };
    }
    for parameter in mine.keys().filter(|p| !yours.contains_key(*p)) {
        out.insert(Difference::Parameter {
            operation_id: operation_id.clone(),
            parameter: parameter.clone(),
            added: false,
        });
    }
}

/// The models (by name) reachable from `roots` through `$ref`s, in and between components.
fn reachable_models(spec: &Spec, roots: Vec<(String, String)>) -> BTreeMap<String, Value> {
    let mut models = BTreeMap::new();
    let mut seen = BTreeSet::new();
    let mut queue: Vec<String> = roots.into_iter().map(|(_, target)| target).collect();
    while let Some(target) = queue.pop() {
        let Some(pointer) = target.strip_prefix('#') else { continue };
        if !seen.insert(pointer.to_owned()) {
            continue;
        }
        let Some(node) = spec.doc.pointer(pointer) else { continue };
        if let Some(name) = pointer.strip_prefix("/components/schemas/") {
            models.insert(name.to_owned(), node.clone());
        }
        let mut inner = Vec::new();
        collect_refs(node, String::new(), &mut inner);
        queue.extend(inner.into_iter().map(|(_, t)| t));
    }
    models
}

/// A model's own facts: properties (with their schemas), required names, enum values.
struct Flat {
    properties: BTreeMap<String, Value>,
    required: BTreeSet<String>,
    enum_values: Option<BTreeSet<String>>,
}

fn flatten(schema: &Value) -> Flat {
    let mut flat = Flat { properties: BTreeMap::new(), required: BTreeSet::new(), enum_values: None };
    let mut parts = vec![schema];
    while let Some(part) = parts.pop() {
        if let Some(props) = part.get("properties").and_then(Value::as_object) {
            flat.properties.extend(props.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
        if let Some(required) = part.get("required").and_then(Value::as_array) {
            flat.required.extend(required.iter().filter_map(Value::as_str).map(str::to_owned));
        }
        if let Some(values) = part.get("enum").and_then(Value::as_array) {
            flat.enum_values = Some(values.iter().filter_map(Value::as_str).map(str::to_owned).collect());
        }
        // Referenced members are models of their own and compared on their own.
        parts.extend(
            part.get("allOf")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter(|m| m.get("$ref").is_none()),
        );
    }
    flat
}

fn diff_model(model: &str, mine: &Flat, theirs: &Flat, out: &mut BTreeSet<Difference>) {
    let model = model.to_owned();
    if let (Some(mine), Some(theirs)) = (&mine.enum_values, &theirs.enum_values) {
        for value in theirs.difference(mine) {
            out.insert(Difference::EnumValue { model: model.clone(), value: value.clone(), added: true });
        }
        for value in mine.difference(theirs) {
            out.insert(Difference::EnumValue { model: model.clone(), value: value.clone(), added: false });
        }
    }
    for (property, schema) in &theirs.properties {
        let Some(ours) = mine.properties.get(property) else {
            out.insert(Difference::Property {
                model: model.clone(),
                property: property.clone(),
                added: true,
            });
            continue;
        };
        let nullable = |s: &Value| s.get("nullable") == Some(&Value::Bool(true));
        if nullable(ours) != nullable(schema) {
            out.insert(Difference::Nullable {
                model: model.clone(),
                property: property.clone(),
                upstream: nullable(schema),
            });
        }
        let (ours_type, upstream_type) = (type_of(ours), type_of(schema));
        if ours_type != upstream_type {
            out.insert(Difference::Type {
                model: model.clone(),
                property: property.clone(),
                ours: ours_type,
                upstream: upstream_type,
            });
        }
    }
    for property in mine.properties.keys().filter(|p| !theirs.properties.contains_key(*p)) {
        out.insert(Difference::Property { model: model.clone(), property: property.clone(), added: false });
    }
    for property in theirs.required.symmetric_difference(&mine.required) {
        out.insert(Difference::Required {
            model: model.clone(),
            property: property.clone(),
            upstream: theirs.required.contains(property),
        });
    }
}

/// `string (uuid)`, `array of $ref Backup`, …: enough to tell two property schemas apart.
fn type_of(schema: &Value) -> String {
    if let Some(target) = schema.get("$ref").and_then(Value::as_str) {
        return format!("$ref {}", target.rsplit('/').next().unwrap_or(target));
    }
    let base = schema.get("type").and_then(Value::as_str).unwrap_or("any").to_owned();
    let with_format = match schema.get("format").and_then(Value::as_str) {
        Some(format) => format!("{base} ({format})"),
        None => base,
    };
    match schema.get("items") {
        Some(items) => format!("{with_format} of {}", type_of(items)),
        None => with_format,
    }
}
