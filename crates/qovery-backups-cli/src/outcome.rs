//! How a command ended, and how that is told to the shell: an exit code and one `error:` line per
//! problem on stderr.
//!
//! Commands return [`Outcome`] or [`Failure`] and print nothing about failures themselves, so
//! that every failure is phrased, and mapped to an exit code, in one place.

use std::io::{self, Write as _};
use std::process::ExitCode;

/// How a command ended well.
pub enum Outcome {
    /// Exit 0.
    Success,
    /// `check` found a database without a fresh successful backup: exit 3.
    CheckFailed,
}

/// How a command ended badly; each maps to an exit code and one `error:` line per problem.
pub enum Failure {
    /// Errors from the SDK (a listing of several databases may report several).
    Api(Vec<qovery_backups::Error>),
    /// Errors from the SDK with the hint the command chose for each (`prune`: a failed listing
    /// is run again, not resumed); exit 1.
    Reported(Vec<Phrased>),
    /// The command line does not make sense.
    Usage(String),
    /// Writing the output failed.
    Io(io::Error),
    /// Anything else, already phrased for the user.
    Other(String),
}

/// An SDK error as it is told: its line, its causes (shown with -v) and its hint.
pub struct Phrased {
    line: String,
    causes: Vec<String>,
    hint: Option<String>,
}

impl Phrased {
    /// `error` with `hint`; the text is taken now, so the error need not be kept.
    pub fn new(error: &qovery_backups::Error, hint: Option<String>) -> Self {
        let mut causes = Vec::new();
        // Display is one line of what failed; each cause is reached through source(), so
        // printing the chain repeats nothing.
        let mut cause = std::error::Error::source(error);
        while let Some(c) = cause {
            causes.push(c.to_string());
            cause = c.source();
        }
        Phrased { line: error.to_string(), causes, hint }
    }

    /// The error's one line, without `error: ` (for a log that has its own prefix).
    pub fn line(&self) -> &str {
        &self.line
    }

    fn write(&self, out: &mut impl io::Write, verbose: u8) {
        let _ = writeln!(out, "error: {}", self.line);
        if verbose > 0 {
            for cause in &self.causes {
                let _ = writeln!(out, "  caused by: {cause}");
            }
        }
        if let Some(hint) = &self.hint {
            let _ = writeln!(out, "hint: {hint}");
        }
    }
}

impl From<qovery_backups::Error> for Failure {
    fn from(error: qovery_backups::Error) -> Self {
        Failure::Api(vec![error])
    }
}

impl From<io::Error> for Failure {
    fn from(error: io::Error) -> Self {
        Failure::Io(error)
    }
}

/// The exit code of a command's result, after writing its errors to stderr (with their causes
/// when `verbose`).
pub fn exit_code(result: Result<Outcome, Failure>, verbose: u8) -> ExitCode {
    match result {
        Ok(Outcome::Success) => ExitCode::SUCCESS,
        Ok(Outcome::CheckFailed) => ExitCode::from(3),
        Err(failure) => report(failure, verbose),
    }
}

fn report(failure: Failure, verbose: u8) -> ExitCode {
    let mut stderr = io::stderr().lock();
    let code = match failure {
        // A reader that went away (`| head`) is not an error.
        Failure::Io(e) if e.kind() == io::ErrorKind::BrokenPipe => return ExitCode::SUCCESS,
        Failure::Io(e) => {
            let _ = writeln!(stderr, "error: cannot write the output: {e}");
            1
        }
        Failure::Usage(message) => {
            let _ = writeln!(stderr, "error: {message}");
            2
        }
        Failure::Other(message) => {
            let _ = writeln!(stderr, "error: {message}");
            1
        }
        Failure::Api(errors) => {
            let mut code = 1;
            for error in &errors {
                Phrased::new(error, crate::hint::for_error(error)).write(&mut stderr, verbose);
                if matches!(error, qovery_backups::Error::Config { .. }) {
                    code = 2;
                }
            }
            code
        }
        Failure::Reported(errors) => {
            for error in &errors {
                error.write(&mut stderr, verbose);
            }
            1
        }
    };
    ExitCode::from(code)
}
