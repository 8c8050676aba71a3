//! `cargo xtask deploy-check`: the files under deploy/ agree with one another where no other tool
//! looks.
//!
//! promtool tests deploy/prometheus/alerts.yml, but prometheus-operator loads the copy in
//! deploy/kubernetes/prometheusrule.yaml; kubernetes-validate checks the core kinds, but has no
//! schema for prometheus-operator's and only warns about them. So this checks that:
//!
//! - the PrometheusRule's `spec.groups` equal alerts.yml's `groups`, naming each difference;
//! - the ServiceMonitor and the PrometheusRule are `monitoring.coreos.com/v1` of those kinds;
//! - the ServiceMonitor selects the Service and scrapes one of its ports, and the Service selects
//!   the Deployment's pods and targets one of their ports: any mismatch scrapes nothing, which
//!   shows only as QoveryBackupsExporterAbsent, 15 minutes later;
//! - kustomization.yaml lists every manifest of the directory but the `*.example.yaml` ones.

use std::fs;
use std::path::Path;

use yaml_serde::Value;

pub const ALERTS: &str = "deploy/prometheus/alerts.yml";
const KUBERNETES: &str = "deploy/kubernetes";
const PROMETHEUS_RULE: &str = "deploy/kubernetes/prometheusrule.yaml";
const SERVICE_MONITOR: &str = "deploy/kubernetes/servicemonitor.yaml";
const SERVICE: &str = "deploy/kubernetes/service.yaml";
const DEPLOYMENT: &str = "deploy/kubernetes/deployment.yaml";
const KUSTOMIZATION: &str = "deploy/kubernetes/kustomization.yaml";

/// The API group and version of prometheus-operator's kinds.
const OPERATOR_API: &str = "monitoring.coreos.com/v1";

/// More differences than this are summed up: past a few, the files were not meant to match.
const MAX_DIFFERENCES: usize = 20;

/// Every disagreement under `root`'s deploy/, one line each; an error when a file cannot be read
/// or parsed.
pub fn check(root: &Path) -> Result<Vec<String>, String> {
    let load = |file: &str| load(root, file);
    let alerts = load(ALERTS)?;
    let rule = load(PROMETHEUS_RULE)?;
    let monitor = load(SERVICE_MONITOR)?;
    let service = load(SERVICE)?;
    let deployment = load(DEPLOYMENT)?;
    let kustomization = load(KUSTOMIZATION)?;

    let mut problems = kind_problems(SERVICE_MONITOR, &monitor, OPERATOR_API, "ServiceMonitor");
    problems.extend(kind_problems(PROMETHEUS_RULE, &rule, OPERATOR_API, "PrometheusRule"));
    problems.extend(rule_group_problems(&alerts, &rule));
    problems.extend(wiring_problems(&deployment, &service, &monitor));
    problems.extend(kustomization_problems(&kustomization, &manifests(&root.join(KUBERNETES))?));
    Ok(problems)
}

fn load(root: &Path, file: &str) -> Result<Value, String> {
    let text = fs::read_to_string(root.join(file)).map_err(|e| format!("cannot read {file}: {e}"))?;
    yaml_serde::from_str(&text).map_err(|e| format!("cannot parse {file}: {e}"))
}

/// The YAML files of deploy/kubernetes that kustomization.yaml should list, sorted.
fn manifests(dir: &Path) -> Result<Vec<String>, String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .map_err(|e| format!("cannot read {KUBERNETES}/: {e}"))?
        .filter_map(Result::ok)
        .filter_map(|entry| entry.file_name().into_string().ok())
        .filter(|name| name.ends_with(".yaml") || name.ends_with(".yml"))
        .filter(|name| !name.starts_with("kustomization.") && !name.contains(".example."))
        .collect();
    names.sort();
    Ok(names)
}

/// `file`'s apiVersion and kind, if they are not the ones expected.
pub fn kind_problems(file: &str, doc: &Value, api_version: &str, kind: &str) -> Vec<String> {
    let mut problems = Vec::new();
    for (field, expected) in [("apiVersion", api_version), ("kind", kind)] {
        let found = doc.get(field);
        if found.and_then(Value::as_str) != Some(expected) {
            problems.push(format!("{file}: {field} is {}, not \"{expected}\"", show(found)));
        }
    }
    problems
}

/// How the PrometheusRule's `spec.groups` differ from alerts.yml's `groups`.
pub fn rule_group_problems(alerts: &Value, rule: &Value) -> Vec<String> {
    let Some(ours) = alerts.get("groups") else {
        return vec![format!("{ALERTS}: no `groups`")];
    };
    let Some(theirs) = rule.get("spec").and_then(|spec| spec.get("groups")) else {
        return vec![format!("{PROMETHEUS_RULE}: no `spec.groups`")];
    };
    let mut differences = Vec::new();
    diff("groups", ours, theirs, &mut differences);
    let total = differences.len();
    let mut problems: Vec<String> = differences
        .into_iter()
        .take(MAX_DIFFERENCES)
        .map(|d| format!("{PROMETHEUS_RULE}: spec.{d}"))
        .collect();
    if total > MAX_DIFFERENCES {
        problems.push(format!("{PROMETHEUS_RULE}: … and {} more differences", total - MAX_DIFFERENCES));
    }
    if total > 0 {
        problems.push(format!(
            "{PROMETHEUS_RULE}: spec.groups must equal {ALERTS}'s groups: copy them over (indented under spec:)"
        ));
    }
    problems
}

/// Each place where `theirs` (the PrometheusRule) differs from `ours` (alerts.yml), by path.
fn diff(path: &str, ours: &Value, theirs: &Value, out: &mut Vec<String>) {
    match (ours, theirs) {
        (Value::Mapping(a), Value::Mapping(b)) => {
            for (key, value) in a {
                let at = format!("{path}.{}", key_name(key));
                match b.get(key) {
                    Some(other) => diff(&at, value, other, out),
                    None => out.push(format!("{at} is missing ({ALERTS} has {})", show(Some(value)))),
                }
            }
            for (key, value) in b {
                if !a.contains_key(key) {
                    out.push(format!(
                        "{path}.{} is not in {ALERTS} (the copy has {})",
                        key_name(key),
                        show(Some(value))
                    ));
                }
            }
        }
        (Value::Sequence(a), Value::Sequence(b)) => {
            for (index, (value, other)) in a.iter().zip(b).enumerate() {
                diff(&format!("{path}[{}]", element_name(index, value)), value, other, out);
            }
            if a.len() != b.len() {
                out.push(format!("{path} has {} entries, {ALERTS} has {}", b.len(), a.len()));
            }
        }
        (Value::String(a), Value::String(b)) if a != b => {
            let at = first_difference(a, b);
            out.push(format!(
                "{path} differs from character {}: {ALERTS} has {}, the copy has {}",
                at + 1,
                excerpt(a, at),
                excerpt(b, at),
            ))
        }
        _ if ours != theirs => {
            out.push(format!("{path} is {}, {ALERTS} has {}", show(Some(theirs)), show(Some(ours))))
        }
        _ => {}
    }
}

/// A list element by its `alert`, `record` or `name` when it has one (rules and groups do),
/// else by its index: a message then says which rule, not which position.
fn element_name(index: usize, value: &Value) -> String {
    ["alert", "record", "name"]
        .iter()
        .find_map(|field| value.get(field).and_then(Value::as_str))
        .map_or_else(|| index.to_string(), str::to_owned)
}

fn key_name(key: &Value) -> String {
    key.as_str().map_or_else(|| show(Some(key)), str::to_owned)
}

/// The index, in characters, of the first character that differs.
fn first_difference(a: &str, b: &str) -> usize {
    a.chars().zip(b.chars()).take_while(|(x, y)| x == y).count()
}

/// Up to 40 characters of `text`, quoted, from 10 before character `from` (so that the
/// difference shows in context); "…" where it was cut.
fn excerpt(text: &str, from: usize) -> String {
    const WIDTH: usize = 40;
    let start = from.saturating_sub(10);
    let piece: String = text.chars().skip(start).take(WIDTH).collect();
    let before = if start > 0 { "…" } else { "" };
    let after = if text.chars().count() > start + WIDTH { "…" } else { "" };
    format!("\"{before}{}{after}\"", piece.escape_debug())
}

/// A value for a message: scalars as written, collections by their size.
fn show(value: Option<&Value>) -> String {
    match value {
        None => "absent".to_owned(),
        Some(Value::Null) => "null".to_owned(),
        Some(Value::Bool(b)) => b.to_string(),
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::String(s)) => format!("\"{}\"", s.escape_debug()),
        Some(Value::Sequence(items)) => format!("a list of {}", items.len()),
        Some(Value::Mapping(map)) => format!("a mapping of {} keys", map.len()),
        Some(Value::Tagged(tagged)) => format!("a value tagged {}", tagged.tag),
    }
}

/// Whether the ServiceMonitor finds the Service and the Service finds the Deployment's pods.
pub fn wiring_problems(deployment: &Value, service: &Value, monitor: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    let at = |value: &Value, path: &[&str]| path.iter().try_fold(value.clone(), |v, key| v.get(key).cloned());

    let service_labels = at(service, &["metadata", "labels"]);
    let monitor_selector = at(monitor, &["spec", "selector", "matchLabels"]);
    if !is_subset(monitor_selector.as_ref(), service_labels.as_ref()) {
        problems.push(format!(
            "{SERVICE_MONITOR}: spec.selector.matchLabels does not match {SERVICE}'s metadata.labels"
        ));
    }
    let service_ports = names(at(service, &["spec", "ports"]).as_ref(), "name");
    for port in names(at(monitor, &["spec", "endpoints"]).as_ref(), "port") {
        if !service_ports.contains(&port) {
            problems.push(format!("{SERVICE_MONITOR}: endpoint port \"{port}\" is not a port of {SERVICE}"));
        }
    }

    let pod_labels = at(deployment, &["spec", "template", "metadata", "labels"]);
    if !is_subset(at(service, &["spec", "selector"]).as_ref(), pod_labels.as_ref()) {
        problems.push(format!("{SERVICE}: spec.selector does not match {DEPLOYMENT}'s pod labels"));
    }
    let container_ports: Vec<String> = at(deployment, &["spec", "template", "spec", "containers"])
        .as_ref()
        .and_then(Value::as_sequence)
        .into_iter()
        .flatten()
        .flat_map(|container| names(container.get("ports"), "name"))
        .collect();
    for target in names(at(service, &["spec", "ports"]).as_ref(), "targetPort") {
        if !container_ports.contains(&target) {
            problems.push(format!("{SERVICE}: targetPort \"{target}\" is not a named port of {DEPLOYMENT}"));
        }
    }
    problems
}

/// Whether every entry of the mapping `part` is in `whole`. A missing or empty selector matches
/// nothing here: an empty one would select every Service or pod of the namespace.
fn is_subset(part: Option<&Value>, whole: Option<&Value>) -> bool {
    match (part.and_then(Value::as_mapping), whole.and_then(Value::as_mapping)) {
        (Some(part), Some(whole)) => !part.is_empty() && part.iter().all(|(k, v)| whole.get(k) == Some(v)),
        _ => false,
    }
}

/// The string `field` of each mapping in the list `list`.
fn names(list: Option<&Value>, field: &str) -> Vec<String> {
    list.and_then(Value::as_sequence)
        .into_iter()
        .flatten()
        .filter_map(|item| item.get(field).and_then(Value::as_str).map(str::to_owned))
        .collect()
}

/// Whether kustomization.yaml's `resources` are exactly `files`.
pub fn kustomization_problems(kustomization: &Value, files: &[String]) -> Vec<String> {
    let listed = names_of(kustomization.get("resources"));
    let mut problems = Vec::new();
    for file in files.iter().filter(|file| !listed.contains(file)) {
        problems.push(format!("{KUSTOMIZATION}: {KUBERNETES}/{file} is not in resources"));
    }
    for entry in listed.iter().filter(|entry| !files.contains(entry)) {
        problems.push(format!("{KUSTOMIZATION}: resources lists {entry}, which is not a manifest here"));
    }
    problems
}

fn names_of(list: Option<&Value>) -> Vec<String> {
    list.and_then(Value::as_sequence)
        .into_iter()
        .flatten()
        .filter_map(|item| item.as_str().map(str::to_owned))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn yaml(text: &str) -> Value {
        yaml_serde::from_str(text).unwrap()
    }

    const ALERTS_YML: &str = r#"
groups:
  - name: backups
    rules:
      - alert: Stale
        expr: qovery_backup_check_status{status="stale"} == 1
        for: 15m
        labels: {severity: warning}
        annotations:
          summary: 'Backup of {{ $labels.database }} is stale'
      - alert: Missing
        expr: qovery_backup_check_status{status="missing"} == 1
        labels: {severity: critical}
"#;

    /// ALERTS_YML's groups as a PrometheusRule, indented and reformatted the way a copy is.
    fn rule(groups: &str) -> Value {
        let indented: String = groups.lines().map(|line| format!("  {line}\n")).collect();
        yaml(&format!("apiVersion: monitoring.coreos.com/v1\nkind: PrometheusRule\nspec:\n{indented}"))
    }

    #[test]
    fn the_repository_s_deploy_files_agree() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        assert_eq!(check(root).unwrap(), Vec::<String>::new());
    }

    #[test]
    fn a_faithful_copy_has_no_difference() {
        assert_eq!(rule_group_problems(&yaml(ALERTS_YML), &rule(ALERTS_YML)), Vec::<String>::new());
    }

    #[test]
    fn a_changed_annotation_is_named_by_group_rule_and_field() {
        let copy = ALERTS_YML.replace("is stale'", "is old'");
        let problems = rule_group_problems(&yaml(ALERTS_YML), &rule(&copy));
        assert_eq!(problems.len(), 2, "{problems:#?}");
        assert_eq!(
            problems[0],
            "deploy/kubernetes/prometheusrule.yaml: spec.groups[backups].rules[Stale].annotations.summary \
             differs from character 37: deploy/prometheus/alerts.yml has \"…ase }} is stale\", \
             the copy has \"…ase }} is old\""
        );
        assert!(problems[1].contains("must equal"));
    }

    #[test]
    fn a_missing_rule_a_changed_duration_and_an_extra_label_are_each_named() {
        let copy = ALERTS_YML
            .replace("for: 15m", "for: 5m")
            .replace("{severity: critical}", "{severity: critical, team: db}");
        let copy = &copy[..copy.find("      - alert: Missing").unwrap()];
        let copy = format!(
            "{copy}      - alert: Missing\n        expr: vector(1)\n        labels: {{severity: critical, team: db}}\n      - alert: Extra\n        expr: vector(1)\n"
        );
        let problems = rule_group_problems(&yaml(ALERTS_YML), &rule(&copy));
        let expected = [
            "spec.groups[backups].rules[Stale].for differs from character 1",
            "spec.groups[backups].rules[Missing].expr differs from character 1",
            "spec.groups[backups].rules[Missing].labels.team is not in deploy/prometheus/alerts.yml",
            "spec.groups[backups].rules has 3 entries, deploy/prometheus/alerts.yml has 2",
        ];
        for (problem, expected) in problems.iter().zip(expected) {
            assert!(problem.contains(expected), "{problem:?} should contain {expected:?}");
        }
        assert_eq!(problems.len(), expected.len() + 1, "{problems:#?}");
    }

    #[test]
    fn a_missing_field_is_named() {
        let copy = ALERTS_YML.replace("        for: 15m\n", "");
        let problems = rule_group_problems(&yaml(ALERTS_YML), &rule(&copy));
        assert!(
            problems[0].ends_with(
                "spec.groups[backups].rules[Stale].for is missing (deploy/prometheus/alerts.yml has \"15m\")"
            ),
            "{problems:#?}"
        );
    }

    #[test]
    fn wrong_api_versions_and_kinds_are_named() {
        let doc = yaml("apiVersion: monitoring.coreos.com/v1alpha1\nkind: PodMonitor\n");
        assert_eq!(
            kind_problems("servicemonitor.yaml", &doc, OPERATOR_API, "ServiceMonitor"),
            [
                "servicemonitor.yaml: apiVersion is \"monitoring.coreos.com/v1alpha1\", not \"monitoring.coreos.com/v1\"",
                "servicemonitor.yaml: kind is \"PodMonitor\", not \"ServiceMonitor\"",
            ]
        );
        assert_eq!(
            kind_problems("r.yaml", &yaml("kind: PrometheusRule\n"), OPERATOR_API, "PrometheusRule"),
            ["r.yaml: apiVersion is absent, not \"monitoring.coreos.com/v1\""]
        );
    }

    const DEPLOYMENT_YML: &str = "
spec:
  template:
    metadata: {labels: {app: exporter}}
    spec:
      containers:
        - name: serve
          ports: [{name: metrics, containerPort: 19100}]
";
    const SERVICE_YML: &str = "
metadata: {labels: {app: exporter}}
spec:
  selector: {app: exporter}
  ports: [{name: metrics, port: 19100, targetPort: metrics}]
";
    const MONITOR_YML: &str = "
spec:
  selector: {matchLabels: {app: exporter}}
  endpoints: [{port: metrics}]
";

    #[test]
    fn matching_selectors_and_ports_have_no_problem() {
        let problems = wiring_problems(&yaml(DEPLOYMENT_YML), &yaml(SERVICE_YML), &yaml(MONITOR_YML));
        assert_eq!(problems, Vec::<String>::new());
    }

    #[test]
    fn a_selector_or_port_that_finds_nothing_is_named() {
        let monitor =
            MONITOR_YML.replace("{app: exporter}", "{app: other}").replace("port: metrics", "port: http");
        let service = SERVICE_YML.replace("targetPort: metrics", "targetPort: web");
        let deployment = DEPLOYMENT_YML.replace("labels: {app: exporter}", "labels: {app: serve}");
        let problems = wiring_problems(&yaml(&deployment), &yaml(&service), &yaml(&monitor));
        assert_eq!(
            problems,
            [
                "deploy/kubernetes/servicemonitor.yaml: spec.selector.matchLabels does not match deploy/kubernetes/service.yaml's metadata.labels",
                "deploy/kubernetes/servicemonitor.yaml: endpoint port \"http\" is not a port of deploy/kubernetes/service.yaml",
                "deploy/kubernetes/service.yaml: spec.selector does not match deploy/kubernetes/deployment.yaml's pod labels",
                "deploy/kubernetes/service.yaml: targetPort \"web\" is not a named port of deploy/kubernetes/deployment.yaml",
            ]
        );
    }

    #[test]
    fn an_empty_selector_matches_nothing() {
        assert!(!is_subset(Some(&yaml("{}")), Some(&yaml("{app: exporter}"))));
        assert!(!is_subset(None, Some(&yaml("{app: exporter}"))));
    }

    #[test]
    fn kustomization_must_list_exactly_the_manifests() {
        let kustomization = yaml("resources: [deployment.yaml, gone.yaml]");
        let files = ["deployment.yaml".to_owned(), "service.yaml".to_owned()];
        assert_eq!(
            kustomization_problems(&kustomization, &files),
            [
                "deploy/kubernetes/kustomization.yaml: deploy/kubernetes/service.yaml is not in resources",
                "deploy/kubernetes/kustomization.yaml: resources lists gone.yaml, which is not a manifest here",
            ]
        );
    }
}
