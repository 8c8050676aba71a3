//! `qovery-backups wait` (and `create --wait`): wait for a backup to finish, showing its status
//! as it changes, then print it as last seen.

use std::io::{self, Write as _};
use std::sync::Arc;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use qovery_backups::{Backup, Event, Observer, Wait, WaitPolicy};
use uuid::Uuid;

use crate::cli::{Format, Global, WaitArgs, WaitingArgs};
use crate::cmd::{client_builder, printable};
use crate::observe::progress_shown;
use crate::outcome::{Failure, Outcome};
use crate::output::BackupWriter;

/// Waits for one backup of one database.
pub async fn run(global: &Global, args: WaitArgs) -> Result<Outcome, Failure> {
    let reporter = Reporter::start(format!("looking for backup {}", args.backup_id), global.quiet);
    let client = client_builder(global).observer(reporter.clone()).build()?;
    let wait = client.backups(args.database_id).wait(args.backup_id).policy(policy(&args.waiting));
    finish(wait, args.database_id, args.output, &reporter).await
}

/// The SDK's wait policy for the command line's flags. The cap on the interval stays the SDK's.
pub fn policy(args: &WaitingArgs) -> WaitPolicy {
    WaitPolicy::default().with_timeout(args.wait_timeout).with_initial_interval(args.poll_interval)
}

/// Runs `wait`, then prints the backup as last seen whenever one was seen (success, failure,
/// cancel, vanish or timeout), so a script has its id and status whatever happened. The reason
/// for a failure is the error's line on stderr, and the exit code 1.
pub async fn finish(
    wait: Wait,
    database_id: Uuid,
    output: Format,
    reporter: &Reporter,
) -> Result<Outcome, Failure> {
    let result = wait.await;
    reporter.finish();
    let seen = match &result {
        Ok(backup) => Some(backup),
        Err(error) => error.backup(),
    };
    if let Some(backup) = seen {
        print(database_id, backup, output)?;
    }
    result.map(|_| Outcome::Success).map_err(Failure::from)
}

fn print(database_id: Uuid, backup: &Backup, output: Format) -> io::Result<()> {
    let mut out = io::stdout().lock();
    match output {
        // One backup: its JSON object alone, as one ndjson line.
        Format::Json => {
            let mut writer = BackupWriter::new(out, Format::Ndjson);
            writer.write(database_id, backup)?;
            writer.finish()
        }
        _ => writeln!(
            out,
            "backup {} ({}) of database {database_id}: {}",
            backup.id,
            printable(&backup.name),
            status(backup)
        ),
    }
}

/// The backup's own status as the API spells it, safe for a terminal.
fn status(backup: &Backup) -> String {
    backup.action_status().map_or_else(|| "without status".to_owned(), |s| printable(s.as_str()).into_owned())
}

/// Shows each status the wait sees: a spinner with the status and the elapsed time when a person
/// watches stderr; otherwise one plain line per status change (not per poll), so a log or a CI
/// job gets a short, greppable history without `\r` or colour.
pub struct Reporter {
    spinner: Option<ProgressBar>,
    quiet: bool,
}

impl Reporter {
    /// Starts the spinner (on a terminal) with `message` until the first status arrives.
    pub fn start(message: String, quiet: bool) -> Arc<Reporter> {
        let spinner = progress_shown(quiet).then(|| {
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
            bar.set_style(
                ProgressStyle::with_template("{spinner} {msg} ({elapsed})").expect("a valid template"),
            );
            bar.set_message(message);
            bar.enable_steady_tick(Duration::from_millis(100));
            bar
        });
        Arc::new(Reporter { spinner, quiet })
    }

    /// Clears the spinner; the outcome is told by stdout and the error line.
    pub fn finish(&self) {
        if let Some(spinner) = &self.spinner {
            spinner.finish_and_clear();
        }
    }
}

impl Observer for Reporter {
    fn on_event(&self, event: &Event<'_>) {
        let Event::BackupStatus { backup, elapsed, .. } = event else { return };
        let line = format!("backup {}: {}", backup.id, status(backup));
        match &self.spinner {
            Some(spinner) => spinner.set_message(line),
            None if !self.quiet => {
                let elapsed = humantime::format_duration(Duration::from_secs(elapsed.as_secs()));
                eprintln!("{line} after {elapsed}");
            }
            None => {}
        }
    }
}
