//! `cargo xtask doc-examples`: every public item of the published libraries shows its use.
//!
//! rustdoc's own count (`--show-coverage`, nightly only) asks for examples only on items public
//! at their own path, so the methods of a type defined in a private module and re-exported, which
//! is most of this workspace's API, are never counted. This check reads the sources instead:
//! every `pub` function (methods included), type, trait, constant and static outside
//! `#[cfg(test)]` needs a code block in its doc comment. The doctests themselves prove that the
//! examples compile and run; this proves that they exist.

use std::fs;
use std::path::{Path, PathBuf};

use syn::{Attribute, Expr, ImplItem, Item, Lit, Meta, Visibility};

/// The hand-written sources of the crates users depend on (the generated client is excluded:
/// its documentation comes from openapi.yaml).
pub const SOURCES: [&str; 4] =
    ["crates/qovery-backups/src", "src", "crates/qovery-backups-mock/src", "crates/codegen/src"];

/// A public item without an example: where it is and what it is called.
#[derive(Debug, PartialEq, Eq)]
pub struct Missing {
    pub file: PathBuf,
    pub item: String,
}

/// The public items under `root`'s [`SOURCES`] that lack an example.
pub fn check(root: &Path) -> Result<Vec<Missing>, String> {
    let mut missing = Vec::new();
    for dir in SOURCES {
        for file in rust_files(&root.join(dir))? {
            let text =
                fs::read_to_string(&file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
            let relative = file.strip_prefix(root).unwrap_or(&file).to_path_buf();
            for item in missing_in(&text).map_err(|e| format!("cannot parse {}: {e}", relative.display()))? {
                missing.push(Missing { file: relative.clone(), item });
            }
        }
    }
    Ok(missing)
}

/// The public items of one source file that lack an example, by name (`Type::method` for
/// methods).
pub fn missing_in(source: &str) -> syn::Result<Vec<String>> {
    let file = syn::parse_file(source)?;
    let mut missing = Vec::new();
    walk(&file.items, &mut missing);
    Ok(missing)
}

fn walk(items: &[Item], missing: &mut Vec<String>) {
    for item in items {
        let (attrs, vis, name) = match item {
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
                        && !has_example(&method.attrs)
                    {
                        missing.push(format!("{owner}::{}", method.sig.ident));
                    }
                }
                continue;
            }
            Item::Fn(f) => (&f.attrs, &f.vis, f.sig.ident.to_string()),
            Item::Struct(s) => (&s.attrs, &s.vis, s.ident.to_string()),
            Item::Enum(e) => (&e.attrs, &e.vis, e.ident.to_string()),
            Item::Trait(t) => (&t.attrs, &t.vis, t.ident.to_string()),
            Item::Type(t) => (&t.attrs, &t.vis, t.ident.to_string()),
            Item::Const(c) => (&c.attrs, &c.vis, c.ident.to_string()),
            Item::Static(s) => (&s.attrs, &s.vis, s.ident.to_string()),
            _ => continue,
        };
        if is_public(vis) && !is_test_only(attrs) && !has_example(attrs) {
            missing.push(name);
        }
    }
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

/// A fenced code block in the doc comment. An included file (`#[doc = include_str!(..)]`) is
/// taken to hold one: it is the README, whose examples are doctests of their own.
fn has_example(attrs: &[Attribute]) -> bool {
    attrs.iter().filter(|attr| attr.path().is_ident("doc")).any(|attr| match &attr.meta {
        Meta::NameValue(pair) => match &pair.value {
            Expr::Lit(literal) => matches!(&literal.lit, Lit::Str(text) if text.value().contains("```")),
            Expr::Macro(_) => true,
            _ => false,
        },
        _ => false,
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
    use super::missing_in;

    #[test]
    fn public_items_and_methods_without_a_code_block_are_listed() {
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
                /// Words only.
                pub fn getter(&self) -> u8 { 0 }
                /// ```
                /// ```
                pub fn shown(&self) {}
                fn private(&self) {}
                pub(crate) fn internal(&self) {}
            }

            impl Default for Told {
                fn default() -> Self { Told }
            }

            pub const LIMIT: usize = 1;
            const HIDDEN: usize = 2;

            #[cfg(test)]
            mod tests {
                pub fn helper() {}
            }

            pub mod inner {
                pub fn deep() {}
            }
        "#;
        assert_eq!(missing_in(source).unwrap(), ["Told", "Told::getter", "LIMIT", "deep"]);
    }
}
