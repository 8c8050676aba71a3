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
    /// The command line does not make sense.
    Usage(String),
    /// Writing the output failed.
    Io(io::Error),
    /// Anything else, already phrased for the user.
    #[cfg_attr(not(feature = "mock"), allow(dead_code))]
    Other(String),
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
                // Display is one line of what failed; each cause is reached through source(),
                // so printing the chain repeats nothing.
                let _ = writeln!(stderr, "error: {error}");
                if verbose > 0 {
                    let mut cause = std::error::Error::source(error);
                    while let Some(c) = cause {
                        let _ = writeln!(stderr, "  caused by: {c}");
                        cause = c.source();
                    }
                }
                if let Some(hint) = crate::hint::for_error(error) {
                    let _ = writeln!(stderr, "hint: {hint}");
                }
                if matches!(error, qovery_backups::Error::Config { .. }) {
                    code = 2;
                }
            }
            code
        }
    };
    ExitCode::from(code)
}
