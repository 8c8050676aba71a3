//! The one generator behind `build.rs` and `cargo xtask codegen`.
//!
//! Both call [`generate`], so the snapshot a reviewer reads in `generated/` is byte-for-byte the
//! code the build compiles. Everything here is derived from `openapi.yaml`: no Rust file in the
//! workspace lists an operation, a field or an enum value by hand.
//!
//! ```no_run
//! let spec = std::fs::read_to_string("openapi.yaml").unwrap();
//! let artifacts = qovery_backups_codegen::generate("openapi.yaml", &spec).unwrap();
//! assert!(artifacts.client.starts_with("// @generated"));
//! for (model, json_schema) in &artifacts.schemas {
//!     println!("{model}: {} bytes of JSON Schema", json_schema.len());
//! }
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod client;
mod json_schema;
mod open_enums;
mod spec;
mod upstream;

pub use spec::{Spec, SpecError};
pub use upstream::{Difference, diff_upstream};

/// Everything `openapi.yaml` produces.
///
/// ```
/// # const SPEC: &str = "
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
/// let artifacts = qovery_backups_codegen::generate("tiny.yaml", SPEC)?;
/// // `cargo xtask codegen` writes each of these as `schema/<model>.json`.
/// let (model, schema) = &artifacts.schemas[0];
/// assert_eq!(model, "Health");
/// let schema: serde_json::Value = serde_json::from_str(schema)?;
/// assert_eq!(schema["required"], serde_json::json!(["status"]));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Artifacts {
    /// The generated client, formatted, under a do-not-edit banner.
    pub client: String,
    /// One JSON Schema (draft-07, self-contained) per model in `components.schemas`, by name.
    pub schemas: Vec<(String, String)>,
}

/// Validates the spec at `file` (its `text` already read) and generates every artifact.
///
/// `file` only names the spec in error messages.
///
/// ```
/// use qovery_backups_codegen::generate;
///
/// # const SPEC: &str = "
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
/// let artifacts = generate("tiny.yaml", SPEC)?;
/// assert!(artifacts.client.contains("pub fn get_health(&self)"));
///
/// // An invalid spec stops before progenitor runs, at the place to fix.
/// let error = generate("tiny.yaml", &SPEC.replace("operationId: getHealth", "")).unwrap_err();
/// assert_eq!(error.pointer, "/paths/~1health/get");
/// # Ok::<(), qovery_backups_codegen::SpecError>(())
/// ```
pub fn generate(file: &str, text: &str) -> Result<Artifacts, SpecError> {
    let spec = Spec::parse(file, text)?;
    spec.validate()?;
    Ok(Artifacts { client: client::generate(&spec, text)?, schemas: json_schema::generate(&spec) })
}

/// Validates the spec and generates only the Rust client: what `build.rs` needs.
///
/// ```
/// use qovery_backups_codegen::{generate_client, spec_digest};
///
/// # const SPEC: &str = "
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
/// let client = generate_client("tiny.yaml", SPEC)?;
/// // The banner records the spec's digest, so a build can tell a snapshot made from another spec.
/// assert!(client.contains(&spec_digest(SPEC)));
/// # Ok::<(), qovery_backups_codegen::SpecError>(())
/// ```
pub fn generate_client(file: &str, text: &str) -> Result<String, SpecError> {
    let spec = Spec::parse(file, text)?;
    spec.validate()?;
    client::generate(&spec, text)
}

/// The banner line that records which spec a generated client came from:
/// `// openapi.yaml digest: ` and 16 hex digits.
///
/// ```
/// use qovery_backups_codegen::{DIGEST_LINE_PREFIX, generate_client, spec_digest};
///
/// # const SPEC: &str = "
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
/// let client = generate_client("tiny.yaml", SPEC)?;
/// // What build.rs does to tell whether a snapshot was made from this spec.
/// let recorded = client.lines().find_map(|line| line.strip_prefix(DIGEST_LINE_PREFIX));
/// assert_eq!(recorded, Some(spec_digest(SPEC).as_str()));
/// # Ok::<(), qovery_backups_codegen::SpecError>(())
/// ```
pub const DIGEST_LINE_PREFIX: &str = client::DIGEST_PREFIX;

/// The digest of a spec's text recorded in the generated client's banner: FNV-1a, 64 bits, over
/// the text with every `\r` left out.
///
/// It detects a forgotten `cargo xtask codegen`, not tampering, so a small hash that `build.rs`
/// can compute without any dependency is enough. Carriage returns are skipped so that a checkout
/// with Windows line endings still matches. `build.rs` of `qovery-backups-api` has its own copy
/// of these few lines (it must build without this crate); when it regenerates, it checks that
/// both agree.
///
/// ```
/// assert_eq!(qovery_backups_codegen::spec_digest("a\r\nb"), qovery_backups_codegen::spec_digest("a\nb"));
/// assert_eq!(qovery_backups_codegen::spec_digest("").len(), 16);
/// ```
pub fn spec_digest(text: &str) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in text.bytes().filter(|&b| b != b'\r') {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{hash:016x}")
}
