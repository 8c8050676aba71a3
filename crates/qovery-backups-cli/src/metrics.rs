//! The `qovery_backup_*` metrics, written one way for both their readers: `check --output
//! prometheus` (a file for node_exporter's textfile collector) and `serve`'s /metrics.
//!
//! Written by hand rather than through prometheus-client's registry: samples come in the order
//! of the databases, so a textfile and a scrape are the same bytes for the same fleet, and the
//! check's constant labels (`--metrics-label`) go on every sample.

use std::fmt::{self, Write as _};

use qovery_backups::{DatabaseFreshness, FleetDatabase, FreshnessVerdict};

use crate::cli::MetricsLabel;

/// The HELP of `qovery_backup_check_timestamp_seconds` for a one-off check.
pub const CHECK_TIMESTAMP_HELP: &str = "When the check ran, in Unix seconds.";

/// A label value escaped as the text exposition format requires: backslash, double quote and
/// line feed.
pub fn escape_label(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

/// The Prometheus text exposition format, for node_exporter's textfile collector: no
/// per-sample timestamps (the collector refuses them).
///
/// `constant` labels (`--metrics-label`) go first on every sample, the check's timestamp
/// included: two checks writing to one textfile directory must differ in them, or
/// node_exporter keeps one file's timestamp and drops the other's, saying so only in its log.
pub fn backup_metrics(
    results: &[DatabaseFreshness],
    check_timestamp: i64,
    constant: &[MetricsLabel],
    check_timestamp_help: &str,
) -> String {
    let mut out = String::new();
    write_backup_metrics(&mut out, results, check_timestamp, constant, check_timestamp_help)
        .expect("writing to a String cannot fail");
    out
}

fn write_backup_metrics(
    out: &mut String,
    results: &[DatabaseFreshness],
    check_timestamp: i64,
    constant: &[MetricsLabel],
    check_timestamp_help: &str,
) -> fmt::Result {
    let constant: String =
        constant.iter().map(|l| format!("{}=\"{}\",", l.name, escape_label(&l.value))).collect();
    let labels = |r: &DatabaseFreshness| {
        let place = r.target.place.as_ref();
        let name = |f: fn(&FleetDatabase) -> &str| place.map_or(String::new(), |p| escape_label(f(p)));
        format!(
            "{constant}organization=\"{}\",project=\"{}\",environment=\"{}\",database=\"{}\",database_id=\"{}\"",
            name(|p| &p.organization.name),
            name(|p| &p.project.name),
            name(|p| &p.environment.name),
            name(|p| p.name()),
            r.target.id
        )
    };
    writeln!(
        out,
        "# HELP qovery_backup_last_success_timestamp_seconds Creation time of the newest successful backup, in Unix seconds."
    )?;
    writeln!(out, "# TYPE qovery_backup_last_success_timestamp_seconds gauge")?;
    for r in results {
        if let Some(b) = &r.newest_success {
            writeln!(
                out,
                "qovery_backup_last_success_timestamp_seconds{{{}}} {}",
                labels(r),
                b.created_at.timestamp()
            )?;
        }
    }
    writeln!(
        out,
        "# HELP qovery_backup_check_status Verdict of the last check: 1 for the current status, 0 for the others."
    )?;
    writeln!(out, "# TYPE qovery_backup_check_status gauge")?;
    // One sample per verdict and database, so an alert can match `== 1` on any of them and a
    // dashboard sees the 0s too.
    for r in results {
        for status in FreshnessVerdict::ALL {
            writeln!(
                out,
                "qovery_backup_check_status{{{},status=\"{status}\"}} {}",
                labels(r),
                u8::from(status == r.verdict)
            )?;
        }
    }
    writeln!(out, "# HELP qovery_backup_check_timestamp_seconds {check_timestamp_help}")?;
    writeln!(out, "# TYPE qovery_backup_check_timestamp_seconds gauge")?;
    match constant.strip_suffix(',') {
        Some(constant) => {
            writeln!(out, "qovery_backup_check_timestamp_seconds{{{constant}}} {check_timestamp}")
        }
        None => writeln!(out, "qovery_backup_check_timestamp_seconds {check_timestamp}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_escape_backslash_quote_and_newline_only() {
        assert_eq!(escape_label("a\\b\"c\nd\te"), "a\\\\b\\\"c\\nd\te");
        assert_eq!(escape_label("plain/name"), "plain/name");
    }
}
