//! The peer of `dependent-build`: Qovery's own Rust client, made by openapi-generator from Qovery's
//! whole API, cut down to what openapi-generator would produce for this repository's openapi.yaml.
//!
//! The Java generator is not needed: its Rust output is regular enough to trim. Each operation is
//! a function `snake_case(operationId)` in `src/apis/<tag>_api.rs`, next to an enum
//! `<OperationId>Error` (and, with the generator's `useSingleRequestParameter`, a struct
//! `<OperationId>Params`); each schema is one file in `src/models/`, re-exported by
//! `src/models/mod.rs` and named from other files only as `models::Name`. So the trimmed copy
//! keeps the api files that hold our operations, without the other operations' items, and the
//! models those items reach, transitively.
//!
//! Everything here works on text in memory, so that the tests need no checkout of the client.

use std::collections::{BTreeMap, BTreeSet};

/// What is left of the client: its files by path relative to its root, and counts for the report.
#[derive(Debug)]
pub struct Trimmed {
    pub files: BTreeMap<String, String>,
    /// The api functions kept (one per operation of ours).
    pub functions: usize,
    /// Model files kept, and how many the client has.
    pub models: usize,
    pub models_before: usize,
    /// Api files kept whole because their items could not be told apart; empty when the trimming
    /// worked as designed.
    pub whole_api_files: Vec<String>,
}

/// openapi-generator's name for an operation's function: `listDatabaseBackup` → `list_database_backup`.
/// A run of capitals is one word (`getAPIToken` → `get_api_token`), as in the generator.
pub fn snake_case(operation_id: &str) -> String {
    let chars: Vec<char> = operation_id.chars().collect();
    let mut out = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            let after_lower = chars[i - 1].is_ascii_lowercase() || chars[i - 1].is_ascii_digit();
            let ends_capital_run =
                chars[i - 1].is_ascii_uppercase() && chars.get(i + 1).is_some_and(char::is_ascii_lowercase);
            if after_lower || ends_capital_run {
                out.push('_');
            }
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

/// The type-name form of a function name: `list_database_backup` → `ListDatabaseBackup`.
fn upper_camel(snake: &str) -> String {
    snake
        .split('_')
        .map(|word| {
            let mut chars = word.chars();
            chars
                .next()
                .map(|first| first.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect()
}

/// The top-level items of a rustfmt-formatted file, each with its doc comments and attributes,
/// in order; blank lines between items are dropped. rustfmt puts an item's closing `}` (or the
/// `;` ending a `use`) at column 0 and indents everything inside, which is what this relies on.
/// `None` when the file ends inside an item: the layout is not the one expected.
fn top_level_items(text: &str) -> Option<Vec<String>> {
    let mut items = Vec::new();
    let mut current: Vec<&str> = Vec::new();
    let mut in_block_comment = false;
    for line in text.lines() {
        if current.is_empty() && line.trim().is_empty() {
            continue;
        }
        current.push(line);
        let ends = if in_block_comment || (current.len() == 1 && line.starts_with("/*")) {
            in_block_comment = !line.trim_end().ends_with("*/");
            !in_block_comment
        } else {
            let at_column_0 = !line.starts_with(char::is_whitespace);
            let comment_or_attribute = line.starts_with("//") || line.starts_with('#');
            at_column_0 && !comment_or_attribute && (line == "}" || line.trim_end().ends_with(';'))
        };
        if ends {
            items.push(current.join("\n"));
            current.clear();
        }
    }
    current.is_empty().then_some(items)
}

/// The name an item defines (`pub async fn list_project(` → `list_project`, `pub enum ListProjectError {`
/// → `ListProjectError`), read from its first line that is not a comment or an attribute.
fn item_name(item: &str) -> Option<&str> {
    let code = item.lines().find(|line| !(line.starts_with("//") || line.starts_with('#')))?;
    let mut words = code.split_whitespace().skip_while(|w| w.starts_with("pub") || *w == "async");
    match words.next()? {
        "fn" | "enum" | "struct" | "type" => {
            let rest = words.next()?;
            let end = rest.find(|c: char| !(c.is_alphanumeric() || c == '_')).unwrap_or(rest.len());
            Some(&rest[..end])
        }
        _ => None,
    }
}

/// An api file without the items of the operations not in `keep`: their functions, `*Error`
/// enums and `*Params` structs. Everything else (the header, `use` lines, any helper) stays.
/// Returns the text and the functions kept; `None` when the file's items cannot be told apart.
fn trim_api_file(text: &str, keep: &BTreeSet<String>) -> Option<(String, BTreeSet<String>)> {
    let items = top_level_items(text)?;
    let functions: BTreeSet<&str> = items
        .iter()
        .filter(|item| item.lines().any(|l| l.starts_with("pub async fn ") || l.starts_with("pub fn ")))
        .filter_map(|item| item_name(item))
        .collect();
    let mut dropped = BTreeSet::new();
    for function in functions.iter().filter(|f| !keep.contains(**f)) {
        let camel = upper_camel(function);
        dropped.extend([function.to_string(), format!("{camel}Error"), format!("{camel}Params")]);
    }
    let kept_items: Vec<&String> =
        items.iter().filter(|item| item_name(item).is_none_or(|name| !dropped.contains(name))).collect();
    let kept_functions = functions.into_iter().filter(|f| keep.contains(*f)).map(str::to_owned).collect();
    let mut out = kept_items.iter().map(|item| item.as_str()).collect::<Vec<_>>().join("\n\n");
    out.push('\n');
    Some((out, kept_functions))
}

/// The identifiers written after `models::` (which covers `crate::models::`): type names such as
/// `Backup`, and module names such as `job_type_enum` in `models::job_type_enum::job_type_cron`.
/// The generator's files import only `crate::models` and always write other models' names this
/// way, so this finds every model a file needs, and no more.
fn model_references(text: &str) -> BTreeSet<&str> {
    let is_ident = |c: char| c.is_alphanumeric() || c == '_';
    let mut found = BTreeSet::new();
    for (at, _) in text.match_indices("models::") {
        if text[..at].ends_with(is_ident) {
            continue; // e.g. `my_models::`
        }
        let rest = &text[at + "models::".len()..];
        let end = rest.find(|c: char| !is_ident(c)).unwrap_or(rest.len());
        if end > 0 {
            found.insert(&rest[..end]);
        }
    }
    found
}

/// Module of each type that `models/mod.rs` re-exports (`pub use self::backup::Backup;`).
fn reexports(mod_rs: &str) -> BTreeMap<String, String> {
    let mut map = BTreeMap::new();
    for line in mod_rs.lines() {
        let Some(path) = line.trim().strip_prefix("pub use self::").and_then(|p| p.strip_suffix(';')) else {
            continue;
        };
        let Some((module, names)) = path.split_once("::") else { continue };
        for name in names.trim_matches(|c| c == '{' || c == '}').split(',') {
            let name = name.trim();
            // `Name as Alias` exports Alias.
            let exported = name.rsplit(" as ").next().unwrap_or(name).trim();
            if !exported.is_empty() {
                map.insert(exported.to_owned(), module.to_owned());
            }
        }
    }
    map
}

/// The model modules reachable from `roots` (text that names models), by `models::X` references,
/// transitively. `models` holds each model file's text by module name.
fn model_closure(roots: &[&str], models: &BTreeMap<String, String>, mod_rs: &str) -> BTreeSet<String> {
    let by_type = reexports(mod_rs);
    let resolve = |name: &str| -> Option<String> {
        if models.contains_key(name) { Some(name.to_owned()) } else { by_type.get(name).cloned() }
    };
    let mut kept = BTreeSet::new();
    let mut pending: Vec<String> =
        roots.iter().flat_map(|text| model_references(text)).filter_map(resolve).collect();
    while let Some(module) = pending.pop() {
        if kept.insert(module.clone()) {
            pending.extend(model_references(&models[&module]).into_iter().filter_map(resolve));
        }
    }
    kept
}

/// A `mod.rs` without the `pub mod m;` and `pub use self::m::…;` lines of modules not in `keep`;
/// other lines are untouched.
fn trim_mod_rs(mod_rs: &str, keep: &BTreeSet<String>) -> String {
    let module_of = |line: &str| -> Option<String> {
        let line = line.trim();
        if let Some(name) = line.strip_prefix("pub mod ").and_then(|rest| rest.strip_suffix(';')) {
            return Some(name.trim().to_owned());
        }
        let path = line.strip_prefix("pub use self::")?;
        Some(path.split("::").next()?.to_owned())
    };
    let mut out: String = mod_rs
        .lines()
        .filter(|line| module_of(line).is_none_or(|module| keep.contains(&module)))
        .collect::<Vec<_>>()
        .join("\n");
    out.push('\n');
    out
}

/// The client in `files` (by path relative to its root: `Cargo.toml`, `src/...`) cut down to the
/// operations `operation_ids`. Fails when the client lacks one of them.
pub fn trim_client(files: &BTreeMap<String, String>, operation_ids: &[String]) -> Result<Trimmed, String> {
    let wanted: BTreeSet<String> = operation_ids.iter().map(|id| snake_case(id)).collect();
    let apis_mod = files.get("src/apis/mod.rs").ok_or("the client has no src/apis/mod.rs")?;
    let models_mod = files.get("src/models/mod.rs").ok_or("the client has no src/models/mod.rs")?;
    let models: BTreeMap<String, String> = files
        .iter()
        .filter_map(|(path, text)| {
            let module = path.strip_prefix("src/models/")?.strip_suffix(".rs")?;
            (module != "mod" && !module.contains('/')).then(|| (module.to_owned(), text.clone()))
        })
        .collect();

    let mut out = BTreeMap::new();
    let mut found = BTreeSet::new();
    let mut whole_api_files = Vec::new();
    // `configuration` holds the `Configuration` every function takes.
    let mut api_modules: BTreeSet<String> = ["configuration".to_owned()].into();
    for (path, text) in files {
        let Some(module) = path.strip_prefix("src/apis/").and_then(|p| p.strip_suffix("_api.rs")) else {
            continue;
        };
        let (trimmed, kept) = match trim_api_file(text, &wanted) {
            Some(result) => result,
            None => {
                // Keep the file whole: more than the generator would produce for our spec, but it
                // still builds. Only files that hold one of our operations matter.
                let kept: BTreeSet<String> =
                    wanted.iter().filter(|f| text.contains(&format!("pub async fn {f}("))).cloned().collect();
                if !kept.is_empty() {
                    whole_api_files.push(path.clone());
                }
                (text.clone(), kept)
            }
        };
        if kept.is_empty() {
            continue;
        }
        found.extend(kept);
        api_modules.insert(format!("{module}_api"));
        out.insert(path.clone(), trimmed);
    }
    let missing: Vec<&String> = wanted.difference(&found).collect();
    if !missing.is_empty() {
        return Err(format!(
            "the client has no function for {} (looked in src/apis/*_api.rs)",
            missing.iter().map(|m| format!("`{m}`")).collect::<Vec<_>>().join(", ")
        ));
    }

    let roots: Vec<&str> = out.values().map(String::as_str).collect();
    let kept_models = model_closure(&roots, &models, models_mod);
    for module in &kept_models {
        out.insert(format!("src/models/{module}.rs"), models[module].clone());
    }
    out.insert("src/models/mod.rs".to_owned(), trim_mod_rs(models_mod, &kept_models));
    out.insert("src/apis/mod.rs".to_owned(), trim_mod_rs(apis_mod, &api_modules));
    // The rest (Cargo.toml, lib.rs, configuration.rs, anything else) as it is.
    for (path, text) in files {
        let other_api = path.starts_with("src/apis/") && path.ends_with("_api.rs");
        if !(other_api || path.starts_with("src/models/") || out.contains_key(path)) {
            out.insert(path.clone(), text.clone());
        }
    }
    Ok(Trimmed {
        files: out,
        functions: found.len(),
        models: kept_models.len(),
        models_before: models.len(),
        whole_api_files,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "/*\n * Qovery API\n *\n * Generated by: https://openapi-generator.tech\n */\n\n\
                          use super::{configuration, ContentType, Error};\n\
                          use crate::{apis::ResponseContent, models};\n";

    /// An api file in the generator's layout with two operations, `list_database` and
    /// `list_database_backup` (whose name starts with the other's).
    fn databases_api() -> String {
        format!(
            "{HEADER}\n\
             /// struct for typed errors of method [`list_database`]\n\
             #[derive(Debug, Clone, Serialize, Deserialize)]\n\
             #[serde(untagged)]\n\
             pub enum ListDatabaseError {{\n    Status401(),\n    UnknownValue(serde_json::Value),\n}}\n\n\
             /// struct for typed errors of method [`list_database_backup`]\n\
             #[derive(Debug, Clone, Serialize, Deserialize)]\n\
             pub enum ListDatabaseBackupError {{\n    Status401(),\n}}\n\n\
             /// Lists; the doc ends with a semicolon;\n\
             pub async fn list_database(\n    configuration: &configuration::Configuration,\n\
             ) -> Result<models::DatabaseResponseList, Error<ListDatabaseError>> {{\n\
             \x20   let uri_str = format!(\"{{}}/database\", configuration.base_path);\n\n\
             \x20   if ok {{\n        Ok(())\n    }}\n}}\n\n\
             pub async fn list_database_backup(\n    configuration: &configuration::Configuration,\n\
             ) -> Result<\n    models::BackupPaginatedResponseList,\n    Error<ListDatabaseBackupError>,\n\
             > {{\n    todo!()\n}}\n"
        )
    }

    fn set(names: &[&str]) -> BTreeSet<String> {
        names.iter().map(|n| n.to_string()).collect()
    }

    #[test]
    fn snake_case_follows_the_generator() {
        assert_eq!(snake_case("listDatabaseBackup"), "list_database_backup");
        assert_eq!(snake_case("addBackupDatabase"), "add_backup_database");
        assert_eq!(snake_case("getOrganizationAPIToken"), "get_organization_api_token");
        assert_eq!(snake_case("getAPITokenList"), "get_api_token_list");
        assert_eq!(snake_case("listV2Things"), "list_v2_things");
        assert_eq!(upper_camel("list_database_backup"), "ListDatabaseBackup");
    }

    #[test]
    fn top_level_items_splits_at_column_0_closers() {
        let items = top_level_items(&databases_api()).unwrap();
        let names: Vec<Option<&str>> = items.iter().map(|item| item_name(item)).collect();
        assert_eq!(
            names,
            [
                None,
                None,
                None,
                Some("ListDatabaseError"),
                Some("ListDatabaseBackupError"),
                Some("list_database"),
                Some("list_database_backup")
            ]
        );
        assert!(items[0].starts_with("/*") && items[0].ends_with("*/"));
        assert!(items[5].contains("if ok {") && items[5].ends_with("\n}"), "blank lines inside a body stay");
    }

    #[test]
    fn top_level_items_refuses_a_file_that_ends_inside_an_item() {
        assert!(top_level_items("pub fn f() {\n    x\n").is_none());
        assert!(top_level_items("/*\n * never closed\n").is_none());
    }

    #[test]
    fn trim_api_file_keeps_only_the_wanted_operations_items() {
        let (text, kept) = trim_api_file(&databases_api(), &set(&["list_database_backup", "other"])).unwrap();
        assert_eq!(kept, set(&["list_database_backup"]));
        assert!(text.starts_with("/*\n * Qovery API"));
        assert!(text.contains("use crate::{apis::ResponseContent, models};"));
        assert!(text.contains("pub enum ListDatabaseBackupError {"));
        assert!(text.contains("pub async fn list_database_backup("));
        assert!(!text.contains("ListDatabaseError"));
        assert!(!text.contains("pub async fn list_database("));
        assert!(!text.contains("DatabaseResponseList"));
    }

    #[test]
    fn trim_api_file_drops_a_params_struct_with_its_operation() {
        let text = format!(
            "{HEADER}\n/// struct for passing parameters to the method [`list_project`]\n\
             #[derive(Clone, Debug)]\npub struct ListProjectParams {{\n    pub id: String,\n}}\n\n\
             pub async fn list_project(p: ListProjectParams) {{\n}}\n\n\
             pub async fn create_project() {{\n}}\n"
        );
        let (trimmed, _) = trim_api_file(&text, &set(&["create_project"])).unwrap();
        assert!(!trimmed.contains("ListProjectParams") && !trimmed.contains("list_project"));
        assert!(trimmed.contains("pub async fn create_project()"));
    }

    #[test]
    fn model_references_reads_type_and_module_names() {
        let text = "use crate::models;\nstruct A { b: Option<Box<models::B>>, c: Vec<crate::models::C> }\n\
                    fn d() -> String { models::d_enum::d_default() }\nlet my_models::X = 1;";
        assert_eq!(model_references(text), ["B", "C", "d_enum"].into());
    }

    #[test]
    fn model_closure_follows_references_transitively_and_only_those() {
        // a → b → c; d is named by no one kept; e is named only by d.
        let models: BTreeMap<String, String> = [
            ("a", "pub struct A { pub b: models::B }"),
            (
                "b",
                "pub struct B { pub c: Vec<crate::models::Cee>, pub own: InnerEnum }\npub enum InnerEnum {}",
            ),
            ("c", "pub struct Cee { pub again: Box<models::A> }"),
            ("d", "pub struct D { pub e: models::E }"),
            ("e", "pub struct E;"),
        ]
        .into_iter()
        .map(|(m, t)| (m.to_owned(), t.to_owned()))
        .collect();
        let mod_rs = "pub mod a;\npub use self::a::A;\npub mod b;\npub use self::b::B;\npub mod c;\n\
                      pub use self::c::Cee;\npub mod d;\npub use self::d::D;\npub mod e;\npub use self::e::E;\n";
        let kept = model_closure(&["fn f() -> models::A {}"], &models, mod_rs);
        assert_eq!(kept, set(&["a", "b", "c"]));
        assert_eq!(
            trim_mod_rs(mod_rs, &kept),
            "pub mod a;\npub use self::a::A;\npub mod b;\npub use self::b::B;\npub mod c;\npub use self::c::Cee;\n"
        );
    }

    #[test]
    fn trim_client_keeps_the_api_files_of_our_operations_and_their_models() {
        let files: BTreeMap<String, String> = [
            ("Cargo.toml", "[package]\nname = \"qovery\"\n".to_owned()),
            ("src/lib.rs", "pub mod apis;\npub mod models;\n".to_owned()),
            (
                "src/apis/mod.rs",
                "pub enum ContentType {}\n\npub mod databases_api;\npub mod projects_api;\n\npub mod configuration;\n"
                    .to_owned(),
            ),
            ("src/apis/configuration.rs", "pub struct Configuration {}\n".to_owned()),
            ("src/apis/databases_api.rs", databases_api()),
            ("src/apis/projects_api.rs", format!("{HEADER}\npub async fn list_project() {{\n}}\n")),
            ("src/models/mod.rs", "pub mod backup_paginated_response_list;\npub use self::backup_paginated_response_list::BackupPaginatedResponseList;\npub mod backup;\npub use self::backup::Backup;\npub mod database_response_list;\npub use self::database_response_list::DatabaseResponseList;\n".to_owned()),
            ("src/models/backup_paginated_response_list.rs", "pub struct BackupPaginatedResponseList { pub results: Vec<models::Backup> }\n".to_owned()),
            ("src/models/backup.rs", "pub struct Backup {}\n".to_owned()),
            ("src/models/database_response_list.rs", "pub struct DatabaseResponseList {}\n".to_owned()),
        ]
        .into_iter()
        .map(|(p, t)| (p.to_owned(), t))
        .collect();

        let trimmed = trim_client(&files, &["listDatabaseBackup".to_owned()]).unwrap();
        let paths: Vec<&str> = trimmed.files.keys().map(String::as_str).collect();
        assert_eq!(
            paths,
            [
                "Cargo.toml",
                "src/apis/configuration.rs",
                "src/apis/databases_api.rs",
                "src/apis/mod.rs",
                "src/lib.rs",
                "src/models/backup.rs",
                "src/models/backup_paginated_response_list.rs",
                "src/models/mod.rs",
            ]
        );
        assert_eq!(
            trimmed.files["src/apis/mod.rs"],
            "pub enum ContentType {}\n\npub mod databases_api;\n\npub mod configuration;\n"
        );
        assert!(!trimmed.files["src/models/mod.rs"].contains("database_response_list"));
        assert_eq!((trimmed.functions, trimmed.models, trimmed.models_before), (1, 2, 3));
        assert!(trimmed.whole_api_files.is_empty());

        let error = trim_client(&files, &["listDatabaseBackup".to_owned(), "listCluster".to_owned()]);
        assert!(error.unwrap_err().contains("`list_cluster`"));
    }
}
