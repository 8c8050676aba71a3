//! `cargo xtask doc-examples`: the public API shows its use where a reader needs it, and every
//! example shows something.
//!
//! An example is required on what a reader starts from: types (structs, enums, traits,
//! aliases), constructors (functions without `self` that return the type) and fallible entry
//! points (anything public returning a `Result`). Getters, setters and constants may carry
//! one; they need not, since an example that only restates a constant or calls a setter
//! asserts nothing. rustdoc's own count (`--show-coverage`, nightly only) sees only items public
//! at their own path, so the methods of a type defined in a private module and re-exported,
//! most of this workspace's API, would never count: this check reads the sources instead.
//!
//! Every Rust example, required or not, must show a use: an assertion, something printed, or a
//! result returned through `?`. An example that compiles and ends with `let _ = x;` proves
//! nothing a reader can rely on. The doctests run the examples; this checks what they say.

use std::fs;
use std::path::{Path, PathBuf};

use syn::{Attribute, Expr, ImplItem, Item, Lit, Meta, ReturnType, Signature, Visibility};

/// The hand-written sources of the crates users depend on (the generated client is excluded:
/// its documentation comes from openapi.yaml).
pub const SOURCES: [&str; 4] =
    ["crates/qovery-backups/src", "src", "crates/qovery-backups-mock/src", "crates/codegen/src"];

/// A public item whose documentation breaks the rule: where it is, what it is called, and why.
#[derive(Debug, PartialEq, Eq)]
pub struct Missing {
    pub file: PathBuf,
    pub item: String,
    pub problem: Problem,
}

/// What is wrong with an item's documentation.
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub enum Problem {
    /// A type, constructor or fallible entry point without an example.
    NoExample,
    /// An example that asserts nothing, prints nothing and returns nothing through `?`.
    ShowsNothing,
}

impl Problem {
    pub fn describe(self) -> &'static str {
        match self {
            Problem::NoExample => "has no example in its documentation",
            Problem::ShowsNothing => "has an example that asserts, prints and returns nothing through `?`",
        }
    }
}

/// The public items under `root`'s [`SOURCES`] that break the rule.
pub fn check(root: &Path) -> Result<Vec<Missing>, String> {
    let mut missing = Vec::new();
    for dir in SOURCES {
        for file in rust_files(&root.join(dir))? {
            let text =
                fs::read_to_string(&file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
            let relative = file.strip_prefix(root).unwrap_or(&file).to_path_buf();
            for (item, problem) in
                missing_in(&text).map_err(|e| format!("cannot parse {}: {e}", relative.display()))?
            {
                missing.push(Missing { file: relative.clone(), item, problem });
            }
        }
    }
    Ok(missing)
}

/// The public items of one source file that break the rule, by name (`Type::method` for
/// methods).
pub fn missing_in(source: &str) -> syn::Result<Vec<(String, Problem)>> {
    let file = syn::parse_file(source)?;
    let mut missing = Vec::new();
    walk(&file.items, &mut missing);
    Ok(missing)
}

fn walk(items: &[Item], missing: &mut Vec<(String, Problem)>) {
    for item in items {
        let (attrs, vis, name, required) = match item {
            Item::Mod(module) => {
                if !is_test_only(&module.attrs)
                    && let Some((_, inner)) = &module.content
                {
                    walk(inner, missing);
                }
                continue;
            }
            Item::Impl(block) if block.trait_.is_none() && !is_test_only(&block.attrs) => {
                let owner = type_name(&block.self_ty);
                for inner in &block.items {
                    if let ImplItem::Fn(method) = inner
                        && is_public(&method.vis)
                    {
                        let required = is_constructor(&method.sig, &owner) || is_fallible(&method.sig);
                        judge(&method.attrs, format!("{owner}::{}", method.sig.ident), required, missing);
                    }
                }
                continue;
            }
            Item::Fn(f) => (&f.attrs, &f.vis, f.sig.ident.to_string(), is_fallible(&f.sig)),
            Item::Struct(s) => (&s.attrs, &s.vis, s.ident.to_string(), true),
            Item::Enum(e) => (&e.attrs, &e.vis, e.ident.to_string(), true),
            Item::Trait(t) => (&t.attrs, &t.vis, t.ident.to_string(), true),
            Item::Type(t) => (&t.attrs, &t.vis, t.ident.to_string(), true),
            Item::Const(c) => (&c.attrs, &c.vis, c.ident.to_string(), false),
            Item::Static(s) => (&s.attrs, &s.vis, s.ident.to_string(), false),
            _ => continue,
        };
        if is_public(vis) && !is_test_only(attrs) {
            judge(attrs, name, required, missing);
        }
    }
}

/// Files `name`'s problem, if it has one.
fn judge(attrs: &[Attribute], name: String, required: bool, missing: &mut Vec<(String, Problem)>) {
    let examples = rust_examples(attrs);
    if required && examples.is_empty() && !includes_a_file(attrs) {
        missing.push((name, Problem::NoExample));
    } else if examples.iter().any(|code| !shows_a_use(code)) {
        missing.push((name, Problem::ShowsNothing));
    }
}

/// A function without `self` that returns its type (`Self`, the type by name, or either in a
/// `Result`/`Option`).
fn is_constructor(sig: &Signature, owner: &str) -> bool {
    let ReturnType::Type(_, ty) = &sig.output else { return false };
    sig.receiver().is_none() && names_type(ty, &|name| name == "Self" || name == owner)
}

/// A function whose result is a `Result` (by any path or alias whose name ends in `Result`).
fn is_fallible(sig: &Signature) -> bool {
    let ReturnType::Type(_, ty) = &sig.output else { return false };
    matches!(&**ty, syn::Type::Path(path) if path.path.segments.last().is_some_and(|s| s.ident.to_string().ends_with("Result")))
}

/// Whether a path in `ty`, or in its generic arguments, has a last segment `wanted` accepts.
fn names_type(ty: &syn::Type, wanted: &dyn Fn(&str) -> bool) -> bool {
    let syn::Type::Path(path) = ty else { return false };
    path.path.segments.iter().any(|segment| {
        wanted(&segment.ident.to_string())
            || matches!(&segment.arguments, syn::PathArguments::AngleBracketed(args) if args.args.iter().any(|arg| {
                matches!(arg, syn::GenericArgument::Type(inner) if names_type(inner, wanted))
            }))
    })
}

/// The Rust code blocks of a doc comment, hidden lines (`# ...`) included: a `?` or an assertion
/// may sit on one. Blocks marked as another language (`text`, `sh`, ...) or `compile_fail` are
/// not Rust examples.
fn rust_examples(attrs: &[Attribute]) -> Vec<String> {
    let doc: String = attrs
        .iter()
        .filter(|attr| attr.path().is_ident("doc"))
        .filter_map(|attr| match &attr.meta {
            Meta::NameValue(pair) => match &pair.value {
                Expr::Lit(literal) => match &literal.lit {
                    Lit::Str(text) => Some(text.value() + "\n"),
                    _ => None,
                },
                _ => None,
            },
            _ => None,
        })
        .collect();
    let mut examples = Vec::new();
    // `Some(Some(code))` inside a Rust block, `Some(None)` inside another block.
    let mut block: Option<Option<String>> = None;
    for line in doc.lines() {
        let trimmed = line.trim();
        if let Some(fence) = trimmed.strip_prefix("```") {
            match block.take() {
                Some(Some(code)) => examples.push(code),
                Some(None) => {}
                None => {
                    let is_rust = fence.split(',').map(str::trim).all(|tag| {
                        matches!(tag, "" | "rust" | "no_run" | "ignore" | "should_panic")
                            || tag.starts_with("edition")
                    });
                    block = Some(is_rust.then(String::new));
                }
            }
        } else if let Some(Some(code)) = block.as_mut() {
            code.push_str(trimmed.strip_prefix('#').unwrap_or(trimmed));
            code.push('\n');
        }
    }
    examples
}

/// An assertion, something printed, or a result returned through `?`.
fn shows_a_use(code: &str) -> bool {
    ["assert", "print!", "println!", "eprintln!", "?"].iter().any(|sign| code.contains(sign))
}

/// `#[doc = include_str!(..)]`: the README, whose examples are doctests of their own.
fn includes_a_file(attrs: &[Attribute]) -> bool {
    attrs
        .iter()
        .filter(|attr| attr.path().is_ident("doc"))
        .any(|attr| matches!(&attr.meta, Meta::NameValue(pair) if matches!(pair.value, Expr::Macro(_))))
}

fn is_public(vis: &Visibility) -> bool {
    matches!(vis, Visibility::Public(_))
}

/// `#[cfg(test)]`, the only cfg under which this workspace hides public-looking test helpers.
fn is_test_only(attrs: &[Attribute]) -> bool {
    attrs.iter().any(|attr| {
        attr.path().is_ident("cfg")
            && matches!(&attr.meta, Meta::List(list) if list.tokens.to_string() == "test")
    })
}

fn type_name(ty: &syn::Type) -> String {
    match ty {
        syn::Type::Path(path) => path.path.segments.last().map_or_else(String::new, |s| s.ident.to_string()),
        _ => "impl".to_owned(),
    }
}

fn rust_files(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let mut files = Vec::new();
    let entries = fs::read_dir(dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
    for entry in entries {
        let path = entry.map_err(|e| format!("cannot read {}: {e}", dir.display()))?.path();
        if path.is_dir() {
            files.extend(rust_files(&path)?);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::Problem::{NoExample, ShowsNothing};
    use super::missing_in;

    #[test]
    fn types_constructors_and_fallible_calls_need_an_example_that_shows_something() {
        let source = r#"
            /// Has one.
            ///
            /// ```
            /// assert!(true);
            /// ```
            pub struct Shown;

            /// Words only.
            pub struct Told;

            impl Told {
                /// Words only: a getter needs no example.
                pub fn getter(&self) -> u8 { 0 }
                /// Words only: a constructor does.
                pub fn new() -> Self { Told }
                /// Words only: so does a fallible call.
                pub fn load(&self) -> std::io::Result<u8> { Ok(0) }
                /// Shows its use through `?` on a hidden line.
                ///
                /// ```no_run
                /// # fn f() -> Result<(), Box<dyn std::error::Error>> {
                /// let told = Told::open()?;
                /// # Ok(()) }
                /// ```
                pub fn open() -> Result<Told, String> { Ok(Told) }
                /// An example that shows nothing, on an item that needs none: still wrong.
                ///
                /// ```
                /// let told = Told;
                /// # let _ = told;
                /// ```
                pub fn quiet(&self) {}
                fn private(&self) -> Result<(), ()> { Ok(()) }
                pub(crate) fn internal() -> Self { Told }
            }

            impl Default for Told {
                fn default() -> Self { Told }
            }

            /// Not Rust: a shell line shows nothing and is not checked.
            ///
            /// ```text
            /// $ told
            /// ```
            pub const LIMIT: usize = 1;
            const HIDDEN: usize = 2;

            #[cfg(test)]
            mod tests {
                pub struct Helper;
            }

            pub mod inner {
                pub fn deep() -> Result<(), ()> { Ok(()) }
                pub fn infallible() {}
            }
        "#;
        assert_eq!(
            missing_in(source).unwrap(),
            [
                ("Told".to_owned(), NoExample),
                ("Told::new".to_owned(), NoExample),
                ("Told::load".to_owned(), NoExample),
                ("Told::quiet".to_owned(), ShowsNothing),
                ("deep".to_owned(), NoExample),
            ]
        );
    }
}
