//! Reading and validating `openapi.yaml`.
//!
//! Validation runs on the raw JSON value rather than on `openapiv3` types so that every error can
//! name the JSON pointer where it happened.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde_json::Value;

/// A problem with the spec: which file, where in it, what is wrong and how to fix it.
///
/// ```
/// let error = qovery_backups_codegen::Spec::parse("openapi.yaml", "openapi: [").unwrap_err();
/// assert_eq!(error.pointer, ""); // the whole document, shown as `/`
/// let message = error.to_string();
/// assert!(message.starts_with("openapi.yaml at /: not valid YAML: "));
/// assert!(message.ends_with("; fix the syntax at the line and column given"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecError {
    /// The spec's path, as given by the caller.
    pub file: String,
    /// JSON pointer to the offending node (`""` for the whole document).
    pub pointer: String,
    /// What is wrong.
    pub problem: String,
    /// What to do about it.
    pub fix: String,
}

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let pointer = if self.pointer.is_empty() { "/" } else { &self.pointer };
        write!(f, "{} at {}: {}; {}", self.file, pointer, self.problem, self.fix)
    }
}

impl std::error::Error for SpecError {}

/// A parsed spec: the raw document (for pointers) and its name for messages.
///
/// ```
/// use qovery_backups_codegen::Spec;
///
/// let spec = Spec::parse("tiny.yaml", "
/// openapi: 3.0.0
/// info: {title: tiny, version: '1'}
/// paths:
///   /health: {get: {operationId: getHealth, responses: {'200': {description: up}}}}
/// ")?;
/// spec.validate()?;
/// // Errors name JSON pointers, so the raw document is kept for looking them up.
/// assert_eq!(spec.doc.pointer("/paths/~1health/get/operationId").unwrap(), "getHealth");
/// # Ok::<(), qovery_backups_codegen::SpecError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Spec {
    /// The spec's path, as given by the caller; used in error messages.
    pub(crate) file: String,
    /// The whole document as JSON.
    pub doc: Value,
}

const METHODS: [&str; 8] = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

impl Spec {
    /// Parses YAML (or JSON) text. Fails when it is not YAML or not OpenAPI 3.0.x.
    ///
    /// ```
    /// use qovery_backups_codegen::Spec;
    ///
    /// let error = Spec::parse("new.yaml", "openapi: 3.1.0").unwrap_err();
    /// assert_eq!(error.pointer, "/openapi");
    /// assert!(error.fix.contains("openapi: 3.0.0"));
    /// ```
    pub fn parse(file: &str, text: &str) -> Result<Spec, SpecError> {
        let doc: Value = yaml_serde::from_str(text).map_err(|e| SpecError {
            file: file.to_owned(),
            pointer: String::new(),
            problem: format!("not valid YAML: {e}"),
            fix: "fix the syntax at the line and column given".to_owned(),
        })?;
        let spec = Spec { file: file.to_owned(), doc };
        match spec.doc.get("openapi").and_then(Value::as_str) {
            Some(v) if v.starts_with("3.0.") => Ok(spec),
            Some(v) => Err(spec.error(
                "/openapi",
                format!("OpenAPI version {v} is not supported"),
                "progenitor reads only OpenAPI 3.0.x: write `openapi: 3.0.0` and express \
                 nullability with `nullable: true`",
            )),
            None => Err(spec.error(
                "/openapi",
                "no `openapi` version field",
                "start the document with `openapi: 3.0.0`",
            )),
        }
    }

    pub(crate) fn error(
        &self,
        pointer: &str,
        problem: impl Into<String>,
        fix: impl Into<String>,
    ) -> SpecError {
        SpecError {
            file: self.file.clone(),
            pointer: pointer.to_owned(),
            problem: problem.into(),
            fix: fix.into(),
        }
    }

    /// The document as `openapiv3` types.
    pub(crate) fn openapi(&self) -> Result<openapiv3::OpenAPI, SpecError> {
        serde_json::from_value(self.doc.clone()).map_err(|e| {
            self.error(
                "",
                format!("not a valid OpenAPI 3.0 document: {e}"),
                "compare the named field with the OpenAPI 3.0.3 specification",
            )
        })
    }

    /// Each operation: its JSON pointer and its object, in the order of `paths` and methods.
    /// `cargo xtask dependent-build --peer` reads the operationIds from it.
    ///
    /// ```
    /// use qovery_backups_codegen::Spec;
    ///
    /// let spec = Spec::parse("tiny.yaml", "
    /// openapi: 3.0.0
    /// info: {title: tiny, version: '1'}
    /// paths:
    ///   /health: {get: {operationId: getHealth, responses: {'200': {description: up}}}}
    /// ")?;
    /// let operations = spec.operations();
    /// assert_eq!(operations[0].0, "/paths/~1health/get");
    /// assert_eq!(operations[0].1["operationId"], "getHealth");
    /// # Ok::<(), qovery_backups_codegen::SpecError>(())
    /// ```
    pub fn operations(&self) -> Vec<(String, &Value)> {
        let mut operations = Vec::new();
        if let Some(paths) = self.doc.get("paths").and_then(Value::as_object) {
            for (path, item) in paths {
                for method in METHODS {
                    if let Some(op) = item.get(method) {
                        operations.push((format!("/paths/{}/{method}", escape(path)), op));
                    }
                }
            }
        }
        operations
    }

    /// The string enums among `components.schemas`, by name: (values, description, default).
    pub(crate) fn string_enums(&self) -> Vec<StringEnum> {
        let Some(schemas) = self.doc.pointer("/components/schemas").and_then(Value::as_object) else {
            return Vec::new();
        };
        schemas
            .iter()
            .filter(|(_, s)| s.get("type").and_then(Value::as_str) == Some("string"))
            .filter_map(|(name, s)| {
                let values = s.get("enum")?.as_array()?;
                Some(StringEnum {
                    name: name.clone(),
                    values: values.iter().filter_map(Value::as_str).map(str::to_owned).collect(),
                    description: s.get("description").and_then(Value::as_str).map(str::to_owned),
                    default: s.get("default").and_then(Value::as_str).map(str::to_owned),
                })
            })
            .collect()
    }

    /// Checks what progenitor would otherwise reject obscurely, or what would rot unnoticed:
    /// operation ids, enum values that clash as Rust variants, dangling `$ref`s, unused
    /// components.
    ///
    /// ```
    /// use qovery_backups_codegen::Spec;
    ///
    /// let spec = Spec::parse("tiny.yaml", "
    /// openapi: 3.0.0
    /// info: {title: tiny, version: '1'}
    /// paths:
    ///   /health: {get: {responses: {'200': {description: up}}}}
    /// ")?;
    /// let error = spec.validate().unwrap_err();
    /// assert_eq!(error.pointer, "/paths/~1health/get");
    /// assert_eq!(error.problem, "operation has no operationId");
    /// # Ok::<(), qovery_backups_codegen::SpecError>(())
    /// ```
    pub fn validate(&self) -> Result<(), SpecError> {
        let mut errors: Vec<SpecError> = Vec::new();
        for (pointer, op) in self.operations() {
            if op.get("operationId").and_then(Value::as_str).is_none() {
                errors.push(self.error(
                    &pointer,
                    "operation has no operationId",
                    "add `operationId: <camelCaseName>`; progenitor names the Rust method after it",
                ));
            }
        }

        // Two values with one Rust variant name, or a value named like the catch-all, would make
        // the generated client fail to compile, far from the cause.
        for e in self.string_enums() {
            let mut variants = BTreeMap::from([(
                "Unrecognized".to_owned(),
                "the catch-all for values openapi.yaml does not list".to_owned(),
            )]);
            for (i, value) in e.values.iter().enumerate() {
                let variant = crate::open_enums::variant_name(value);
                if let Some(taken) = variants.get(&variant) {
                    errors.push(self.error(
                        &format!("/components/schemas/{}/enum/{i}", escape(&e.name)),
                        format!(
                            "value `{value}` becomes the Rust variant `{variant}`, already taken by {taken}"
                        ),
                        "remove the duplicate: values must stay distinct once written in CamelCase, \
                         and none may be `UNRECOGNIZED`",
                    ));
                } else {
                    variants.insert(variant, format!("value `{value}`"));
                }
            }
        }

        let mut refs = Vec::new();
        collect_refs(&self.doc, String::new(), &mut refs);
        for (at, target) in &refs {
            let resolved =
                target.strip_prefix('#').is_some_and(|pointer| self.doc.pointer(pointer).is_some());
            if !resolved {
                errors.push(self.error(
                    at,
                    format!("$ref `{target}` does not resolve"),
                    "point it at an existing entry under #/components (refs are local only)",
                ));
            }
        }

        for (pointer, kind) in self.unused_components() {
            errors.push(self.error(
                &pointer,
                format!("{kind} is never used"),
                "reference it from an operation, or delete it",
            ));
        }

        // The first error is the one to fix first; the rest are listed so a single run shows all.
        match errors.len() {
            0 => Ok(()),
            1 => Err(errors.remove(0)),
            n => {
                let mut first = errors.remove(0);
                for e in &errors {
                    first.fix.push_str(&format!("\n  also: {e}"));
                }
                first.problem = format!("{} (and {} more)", first.problem, n - 1);
                Err(first)
            }
        }
    }

    /// Components not reachable from any operation (or, for security schemes, never named in a
    /// `security` requirement): (pointer, description).
    fn unused_components(&self) -> Vec<(String, String)> {
        let mut reached: BTreeSet<String> = BTreeSet::new();
        let mut queue: Vec<String> = Vec::new();
        let mut refs = Vec::new();
        if let Some(paths) = self.doc.get("paths") {
            collect_refs(paths, "/paths".to_owned(), &mut refs);
        }
        queue.extend(refs.into_iter().map(|(_, t)| t));
        while let Some(target) = queue.pop() {
            let Some(pointer) = target.strip_prefix('#') else { continue };
            // A ref may point inside a component; what counts as used is the component itself.
            let component: String = pointer.split('/').take(4).collect::<Vec<_>>().join("/");
            if !reached.insert(component.clone()) {
                continue;
            }
            if let Some(node) = self.doc.pointer(&component) {
                let mut inner = Vec::new();
                collect_refs(node, component.clone(), &mut inner);
                queue.extend(inner.into_iter().map(|(_, t)| t));
            }
        }

        let mut security_names = BTreeSet::new();
        let mut requirement_lists: Vec<&Value> = self.doc.get("security").into_iter().collect();
        for (_, op) in self.operations() {
            requirement_lists.extend(op.get("security"));
        }
        for list in requirement_lists {
            for requirement in list.as_array().into_iter().flatten() {
                if let Some(obj) = requirement.as_object() {
                    security_names.extend(obj.keys().cloned());
                }
            }
        }

        let mut unused = Vec::new();
        let Some(components) = self.doc.get("components").and_then(Value::as_object) else {
            return unused;
        };
        for (kind, entries) in components {
            for name in entries.as_object().into_iter().flatten().map(|(k, _)| k) {
                let pointer = format!("/components/{}/{}", escape(kind), escape(name));
                let used = if kind == "securitySchemes" {
                    security_names.contains(name)
                } else {
                    reached.contains(&pointer)
                };
                if !used {
                    unused.push((pointer, format!("component `{name}` ({kind})")));
                }
            }
        }
        unused
    }
}

/// A string enum declared in `components.schemas`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StringEnum {
    pub(crate) name: String,
    pub(crate) values: Vec<String>,
    pub(crate) description: Option<String>,
    pub(crate) default: Option<String>,
}

/// Every `$ref` under `node`: (pointer of the `$ref` itself, its target).
pub(crate) fn collect_refs(node: &Value, at: String, out: &mut Vec<(String, String)>) {
    match node {
        Value::Object(map) => {
            for (key, value) in map {
                let child = format!("{at}/{}", escape(key));
                match (key.as_str(), value) {
                    ("$ref", Value::String(target)) => out.push((child, target.clone())),
                    _ => collect_refs(value, child, out),
                }
            }
        }
        Value::Array(items) => {
            for (i, value) in items.iter().enumerate() {
                collect_refs(value, format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

/// Escapes one JSON-pointer segment (RFC 6901).
pub(crate) fn escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

/// The `components.schemas` entries by name, in document order.
pub(crate) fn schemas(doc: &Value) -> BTreeMap<String, Value> {
    doc.pointer("/components/schemas")
        .and_then(Value::as_object)
        .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default()
}
