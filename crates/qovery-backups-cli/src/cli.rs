//! The command line, as scripts call it. Names and flags here are a contract.

use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};
use qovery_backups::KeepRule;
use uuid::Uuid;

/// List, create, delete and check Qovery database backups.
///
/// The token comes from QOVERY_API_TOKEN (else QOVERY_CLI_ACCESS_TOKEN); prefer the environment
/// to --token, which other users of the machine can read in the process list.
#[derive(Debug, Parser)]
#[command(name = "qovery-backups", version = version_line(), about, max_term_width = 100)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct Global {
    /// The API's base URL.
    #[arg(long, global = true, env = "QOVERY_API_URL", value_name = "URL")]
    pub api_url: Option<String>,

    /// The API token (prefer the environment variables).
    #[arg(long, global = true, value_name = "TOKEN")]
    pub token: Option<String>,

    /// How the token is sent: `Token <t>` for API tokens, `Bearer <t>` for JWTs; auto detects.
    #[arg(long, global = true, value_enum, default_value_t = AuthSchemeArg::Auto)]
    pub auth_scheme: AuthSchemeArg,

    /// Time allowed for each attempt, e.g. 500ms, 30s.
    #[arg(long, global = true, value_parser = parse_duration, default_value = "30s", value_name = "DURATION")]
    pub timeout: Duration,

    /// Attempts per call, the first included.
    #[arg(long, global = true, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..), value_name = "N")]
    pub max_attempts: u32,

    /// Upper bound of the first retry's wait; it doubles at each retry (full jitter, capped at 20s).
    #[arg(long, global = true, value_parser = parse_duration, default_value = "500ms", value_name = "DURATION")]
    pub initial_backoff: Duration,

    /// More detail on stderr: -v cause chains, -vv debug traces, -vvv trace.
    #[arg(short, long, global = true, action = clap::ArgAction::Count, conflicts_with = "quiet")]
    pub verbose: u8,

    /// Errors only.
    #[arg(short, long, global = true)]
    pub quiet: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AuthSchemeArg {
    Auto,
    Token,
    Bearer,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Every backup of each database, newest first.
    List(ListArgs),
    /// Ask Qovery to back a database up now.
    Create(CreateArgs),
    /// Delete one backup.
    Delete(DeleteArgs),
    /// Wait for a backup to finish. Exit 0 on SUCCESS; 1 when it failed, was canceled, vanished,
    /// is not in the database, or the wait timed out.
    Wait(WaitArgs),
    /// Delete the backups a retention policy does not keep (restic's `forget` rules).
    ///
    /// Only successful backups count towards the rules; the newest successful backup and every
    /// backup not finished are always kept; failed and canceled ones are kept unless
    /// --delete-failed. A database whose listing fails is left untouched.
    Prune(PruneArgs),
    /// The newest backup of each database.
    Latest(LatestArgs),
    /// Is there a successful backup newer than --max-age? Exit 3 when a database has none.
    ///
    /// A backup is successful when `status.status_details.status` is SUCCESS: the backup action
    /// finished without error. Queued, ongoing, failed, canceled backups, backups without a
    /// status, and values this tool does not know are not successful.
    Check(CheckArgs),
    /// Serve the freshness of backups as Prometheus metrics, checked every --interval.
    ///
    /// A round checks the same databases as `check`, in the background; a scrape of /metrics
    /// reads the last completed round and never calls the API. /healthz answers 200 while the
    /// process runs; /readyz 200 once a round has completed within the last two intervals.
    Serve(ServeArgs),
    /// The databases of organizations, projects or environments (every organization the token
    /// can see when none is given), with their type, version and mode.
    Databases(DatabasesArgs),
    /// Print a shell completion script: `qovery-backups completions bash > /etc/bash_completion.d/qovery-backups`.
    Completions(CompletionsArgs),
    /// Print the manual page (roff) made from these same definitions, or write every page into
    /// DIR; `cargo xtask man` does that.
    #[command(hide = true)]
    Man(ManArgs),
    /// Run the in-memory mock of the API in the foreground.
    #[cfg(feature = "mock")]
    Mock(MockArgs),
    /// List backups from an embedded mock, through faults, and prove nothing was lost.
    #[cfg(feature = "mock")]
    Demo,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// Write qovery-backups.1 and a qovery-backups-COMMAND.1 per command here.
    #[arg(value_name = "DIR")]
    pub dir: Option<std::path::PathBuf>,
}

/// Every output format. Each command takes those that apply to it ([`formats`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Aligned columns for people, as wide as the terminal (COLUMNS) allows.
    Table,
    /// One JSON array, one object per line, written as records arrive.
    Json,
    /// One JSON object per line.
    Ndjson,
    /// A header, then one row per record.
    Csv,
    /// Prometheus text exposition format (for node_exporter's textfile collector).
    Prometheus,
}

/// Of the formats, those that `--output` takes for one command: its parser, its help and its
/// shell completions list no other.
fn formats(allowed: &'static [Format]) -> impl clap::builder::TypedValueParser<Value = Format> {
    use clap::builder::TypedValueParser as _;
    clap::builder::PossibleValuesParser::new(allowed.iter().filter_map(ValueEnum::to_possible_value))
        .map(|name| Format::from_str(&name, false).expect("a possible value names a format"))
}

/// The formats of commands that write records of their own: table, json, ndjson, csv.
const RECORDS: &[Format] = &[Format::Table, Format::Json, Format::Ndjson, Format::Csv];

/// Which databases, besides those given by id: every database of these organizations, projects
/// and environments (each option repeatable; a database reached twice counts once).
#[derive(Debug, Args, Default)]
pub struct ScopeArgs {
    /// Every database of this organization.
    #[arg(long = "organization", value_name = "ID")]
    pub organizations: Vec<Uuid>,
    /// Every database of this project.
    #[arg(long = "project", value_name = "ID")]
    pub projects: Vec<Uuid>,
    /// Every database of this environment.
    #[arg(long = "environment", value_name = "ID")]
    pub environments: Vec<Uuid>,
}

/// The databases a reading command is about: ids, scopes, or, when neither is given, every
/// database the token can see.
#[derive(Debug, Args)]
pub struct Reading {
    /// Databases, by id (every database the token can see when neither ids nor a scope are
    /// given).
    #[arg(value_name = "DATABASE_ID")]
    pub ids: Vec<Uuid>,
    #[command(flatten)]
    pub scope: ScopeArgs,
}

/// The databases a command that changes them is about: ids or scopes, each database once.
/// Never every database by default: a scope must be named to reach more than the ids.
#[derive(Debug, Args)]
pub struct Changing {
    /// Databases, by id (or a scope: every database of an organization before a migration,
    /// say).
    #[arg(required_unless_present_any = ["organizations", "projects", "environments"], value_name = "DATABASE_ID")]
    pub ids: Vec<Uuid>,
    #[command(flatten)]
    pub scope: ScopeArgs,
}

/// How many databases a fleet command works on at once: one flag, the same on every command.
#[derive(Debug, Args, Clone, Copy)]
pub struct Concurrency {
    /// Databases worked on at once; the output keeps the order they were given in.
    #[arg(long = "concurrency", default_value_t = qovery_backups::DEFAULT_CONCURRENCY, value_parser = at_least_one, value_name = "N")]
    pub get: usize,
}

#[derive(Debug, Args)]
pub struct DatabasesArgs {
    #[command(flatten)]
    pub scope: ScopeArgs,
    /// Output format [default: table on a terminal, ndjson otherwise].
    #[arg(long, value_parser = formats(RECORDS))]
    pub output: Option<Format>,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub databases: Reading,
    /// Output format [default: table on a terminal, ndjson otherwise].
    #[arg(long, value_parser = formats(RECORDS))]
    pub output: Option<Format>,
    /// Start after this backup (continue an interrupted listing); one database only.
    #[arg(long, value_name = "BACKUP_ID")]
    pub start_after: Option<Uuid>,
    /// At most N backups per database.
    #[arg(long, value_name = "N")]
    pub limit: Option<usize>,
    #[command(flatten)]
    pub concurrency: Concurrency,
}

#[derive(Debug, Args)]
pub struct CreateArgs {
    #[command(flatten)]
    pub databases: Changing,
    #[command(flatten)]
    pub concurrency: Concurrency,
    #[arg(long)]
    pub name: String,
    #[arg(long)]
    pub message: String,
    #[arg(long, value_parser = formats(&[Format::Table, Format::Json]), default_value = "table")]
    pub output: Format,
    /// Wait for the backup to finish, as `wait` does (and exit as it does).
    #[arg(long)]
    pub wait: bool,
    #[command(flatten)]
    pub waiting: WaitingArgs,
}

/// How long to wait and how often to look, for `wait` and `create --wait`.
#[derive(Debug, Args)]
pub struct WaitingArgs {
    /// The longest to wait for the backup to finish, e.g. 45m, 2h.
    #[arg(long, value_parser = parse_positive_duration, default_value = "30m", value_name = "DURATION")]
    pub wait_timeout: Duration,
    /// The first interval between looks; it doubles after each look, up to 30s.
    #[arg(long, value_parser = parse_positive_duration, default_value = "1s", value_name = "DURATION")]
    pub poll_interval: Duration,
}

#[derive(Debug, Args)]
pub struct WaitArgs {
    pub database_id: Uuid,
    pub backup_id: Uuid,
    /// How the backup, as last seen, is printed on stdout.
    #[arg(long, value_parser = formats(&[Format::Table, Format::Json]), default_value = "table")]
    pub output: Format,
    #[command(flatten)]
    pub waiting: WaitingArgs,
}

#[derive(Debug, Args)]
pub struct PruneArgs {
    #[command(flatten)]
    pub databases: Changing,
    #[command(flatten)]
    pub keep: KeepCounts,
    /// Keep every successful backup less than DURATION older than the newest successful one
    /// (not than now), e.g. 7d.
    #[arg(long, value_parser = parse_duration, value_name = "DURATION")]
    pub keep_within: Option<Duration>,
    /// Delete failed and canceled backups too (kept otherwise).
    #[arg(long)]
    pub delete_failed: bool,
    /// Print the plan; delete nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Refuse, deleting nothing from it, a database whose plan deletes more than N backups
    /// (a guard for unattended jobs).
    #[arg(long, value_name = "N")]
    pub max_delete: Option<usize>,
    /// Output format, one record per backup with KEEP or DELETE and the reasons [default: table
    /// on a terminal, ndjson otherwise].
    #[arg(long, value_parser = formats(&[Format::Table, Format::Json, Format::Ndjson]))]
    pub output: Option<Format>,
    // Databases are listed and planned `--concurrency` at once; their plans are printed, and
    // their deletes run, one database at a time in the order given.
    #[command(flatten)]
    pub concurrency: Concurrency,
}

/// `--keep-last N`, `--keep-hourly N` … `--keep-yearly N`: one flag per counting rule of the SDK
/// ([`KeepRule::COUNTED`]), named as the rule displays, so a rule added there is a flag here.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeepCounts(pub Vec<(KeepRule, usize)>);

/// The help of a rule's flag (no final period, as clap shows the derived ones).
fn keep_help(rule: KeepRule) -> String {
    let periods = match rule {
        KeepRule::Last => return "Keep the N newest successful backups".to_owned(),
        KeepRule::Hourly => "UTC hours",
        KeepRule::Daily => "UTC days",
        KeepRule::Weekly => "ISO weeks",
        KeepRule::Monthly => "UTC months",
        KeepRule::Yearly => "UTC years",
        _ => return "Keep N backups by this rule".to_owned(),
    };
    format!("Keep the newest successful backup of each of the last N {periods} that have one")
}

impl Args for KeepCounts {
    fn augment_args(command: clap::Command) -> clap::Command {
        KeepRule::COUNTED.into_iter().fold(command, |command, rule| {
            command.arg(
                clap::Arg::new(rule.as_str())
                    .long(rule.as_str())
                    .value_name("N")
                    .value_parser(clap::value_parser!(usize))
                    .help(keep_help(rule)),
            )
        })
    }

    fn augment_args_for_update(command: clap::Command) -> clap::Command {
        Self::augment_args(command)
    }
}

impl clap::FromArgMatches for KeepCounts {
    fn from_arg_matches(matches: &clap::ArgMatches) -> Result<Self, clap::Error> {
        let given = KeepRule::COUNTED
            .into_iter()
            .filter_map(|rule| matches.get_one::<usize>(rule.as_str()).map(|&count| (rule, count)))
            .collect();
        Ok(KeepCounts(given))
    }

    /// Sets the rules `matches` gives, keeps the others.
    fn update_from_arg_matches(&mut self, matches: &clap::ArgMatches) -> Result<(), clap::Error> {
        for (rule, count) in Self::from_arg_matches(matches)?.0 {
            self.0.retain(|&(kept, _)| kept != rule);
            self.0.push((rule, count));
        }
        Ok(())
    }
}

#[derive(Debug, Args)]
pub struct DeleteArgs {
    pub database_id: Uuid,
    pub backup_id: Uuid,
}

#[derive(Debug, Args)]
pub struct LatestArgs {
    #[command(flatten)]
    pub databases: Reading,
    /// Output format [default: table on a terminal, ndjson otherwise].
    #[arg(long, value_parser = formats(RECORDS))]
    pub output: Option<Format>,
    #[command(flatten)]
    pub concurrency: Concurrency,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub databases: Reading,
    /// Output format: a line per database, a JSON array, one JSON object per line, or the
    /// Prometheus text format (for node_exporter's textfile collector).
    #[arg(long, value_parser = formats(&[Format::Table, Format::Json, Format::Ndjson, Format::Prometheus]), default_value = "table")]
    pub output: Format,
    /// Write the output to PATH instead of stdout, atomically: a temporary file in the same
    /// directory, renamed over PATH once complete, so a reader never sees half a file.
    #[arg(long, value_name = "PATH")]
    pub output_file: Option<std::path::PathBuf>,
    /// A label added to every Prometheus sample, e.g. `--metrics-label job=nightly`
    /// (repeatable): two checks writing to one textfile directory must differ in one.
    #[arg(long = "metrics-label", value_name = "NAME=VALUE", value_parser = metrics_label)]
    pub metrics_labels: Vec<MetricsLabel>,
    /// The oldest a successful backup may be, e.g. 26h, 7d.
    #[arg(long, value_parser = parse_positive_duration, value_name = "DURATION")]
    pub max_age: Duration,
    #[command(flatten)]
    pub concurrency: Concurrency,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub databases: Reading,
    /// Where to serve the metrics (port 0 picks a free one; the address bound is printed on
    /// stdout's first line).
    #[arg(long, default_value = "127.0.0.1:19100", value_name = "ADDR")]
    pub listen: std::net::SocketAddr,
    /// The oldest a successful backup may be, e.g. 26h, 7d.
    #[arg(long, value_parser = parse_positive_duration, value_name = "DURATION")]
    pub max_age: Duration,
    /// Time between rounds of checks, each drawn within ±10% of it so that exporters started
    /// together drift apart.
    #[arg(long, value_parser = parse_positive_duration, default_value = "10m", value_name = "DURATION")]
    pub interval: Duration,
    #[command(flatten)]
    pub concurrency: Concurrency,
}

#[cfg(feature = "mock")]
#[derive(Debug, Args)]
pub struct MockArgs {
    /// Where to listen (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:0")]
    pub addr: std::net::SocketAddr,
    /// The token the mock accepts.
    #[arg(long, default_value = "mock-token")]
    pub token: String,
    /// Seed of the generated data.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Databases to create.
    #[arg(long, default_value_t = 3)]
    pub databases: usize,
    /// Backups in each database.
    #[arg(long, default_value_t = 45)]
    pub backups: usize,
    /// Faults to inject, e.g. `3=503,p=0.2,kinds=503|reset,max=2,seed=7` (see the README).
    #[arg(long, value_name = "SPEC")]
    pub faults: Option<qovery_backups_mock::FaultPlan>,
    /// How long a backup created through the mock stays QUEUED, e.g. 2s.
    #[arg(long, value_parser = parse_duration, default_value = "0s", value_name = "DURATION")]
    pub queued: Duration,
    /// How long it then stays ONGOING before its final status, e.g. 30s.
    #[arg(long, value_parser = parse_duration, default_value = "0s", value_name = "DURATION")]
    pub ongoing: Duration,
    /// Final statuses of created backups, e.g. `next=error|success,name:bad=canceled,error=0.1,seed=3`
    /// (default: all SUCCESS).
    #[arg(long, value_name = "SPEC")]
    pub outcomes: Option<qovery_backups_mock::Outcomes>,
    /// Also serve 2 organizations × 2 projects × 2 environments × 3 databases, every third one
    /// MANAGED (its backups the cloud provider's: the backup endpoint answers 404).
    #[arg(long)]
    pub fleet: bool,
    /// Answer at most N requests a second; past it, 429 with `Retry-After: 1`.
    #[arg(long, value_name = "N")]
    pub rate_limit: Option<u32>,
}

/// The longest duration any flag takes. Dates are computed with durations (`now - max_age`,
/// deadlines): a century keeps every such sum far inside the range of dates and instants, so no
/// value can overflow one, and no backup job means anything longer.
const LONGEST_DURATION: Duration = Duration::from_secs(100 * 365 * 24 * 3600);

fn parse_duration(text: &str) -> Result<Duration, String> {
    let duration =
        humantime::parse_duration(text).map_err(|e| format!("{e} (write e.g. 500ms, 30s, 26h, 7d)"))?;
    if duration > LONGEST_DURATION {
        return Err("is longer than 100 years, the longest any duration flag takes".to_owned());
    }
    Ok(duration)
}

/// A constant label for the Prometheus output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricsLabel {
    /// A Prometheus label name (`[a-zA-Z_][a-zA-Z0-9_]*`, not one `check` writes itself).
    pub name: String,
    /// Any text; escaped when written.
    pub value: String,
}

/// `NAME=VALUE`, with a name Prometheus accepts and `check` does not already use.
fn metrics_label(text: &str) -> Result<MetricsLabel, String> {
    let (name, value) = text.split_once('=').ok_or("write NAME=VALUE, e.g. job=nightly")?;
    let mut chars = name.chars();
    let valid = chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !name.starts_with("__");
    if !valid {
        return Err(format!(
            "`{name}` is not a Prometheus label name ([a-zA-Z_][a-zA-Z0-9_]*, no leading __)"
        ));
    }
    if ["organization", "project", "environment", "database", "database_id", "status"].contains(&name) {
        return Err(format!("`{name}` is a label check writes itself"));
    }
    Ok(MetricsLabel { name: name.to_owned(), value: value.to_owned() })
}

/// A count of concurrent jobs: at least 1.
fn at_least_one(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(0) => Err("must be at least 1".to_owned()),
        Ok(n) => Ok(n),
        Err(e) => Err(e.to_string()),
    }
}

/// A duration above zero: a wait of zero would give up before looking.
fn parse_positive_duration(text: &str) -> Result<Duration, String> {
    match parse_duration(text)? {
        zero if zero.is_zero() => Err("must be longer than zero (write e.g. 30s, 45m, 2h)".to_owned()),
        duration => Ok(duration),
    }
}

/// `0.1.0 (Qovery API 1.0.4)`: the tool's version and the API version openapi.yaml describes,
/// which is what the client was generated from.
fn version_line() -> &'static str {
    static LINE: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    LINE.get_or_init(|| {
        format!("{} (Qovery API {})", env!("CARGO_PKG_VERSION"), qovery_backups::api_version())
    })
}
