//! How a command ended, and how that is told to the shell: an exit code and one `error:` line per
//! problem on stderr.
//!
//! Commands return [`Outcome`] or [`Failure`] and print nothing about failures themselves, so
//! that every failure is phrased, and mapped to an exit code, in one place.
//!
//! Exit codes: 0 success; 1 an API, network or decoding error; 2 a usage or configuration
//! error; 3 `check` found a database without a fresh successful backup; [`INTERNAL_ERROR`] (70)
//! a bug in the tool or the SDK.

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

/// The exit code of a bug in this tool or the SDK (a request the SDK could not build): 70,
/// sysexits' `EX_SOFTWARE`, so that neither a script nor a person reads it as a mistake in the
/// command line (2) or a failure of the API (1).
pub const INTERNAL_ERROR: u8 = 70;

/// An SDK error as it is told: its line, its causes (shown with -v) and its hint.
pub struct Phrased {
    line: String,
    causes: Vec<String>,
    hint: Option<String>,
    /// The exit code the error calls for, if it is not the usual 1.
    code: Option<u8>,
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
        Phrased { line: error.to_string(), causes, hint, code: exit_code_of(error) }
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
            let phrased = errors.iter().map(|error| Phrased::new(error, crate::hint::for_error(error)));
            write_all(phrased, &mut stderr, verbose)
        }
        Failure::Reported(errors) => write_all(errors, &mut stderr, verbose),
    };
    ExitCode::from(code)
}

/// Writes each error, and returns the exit code of the worst: a bug outranks a configuration
/// error, which outranks the rest.
fn write_all(errors: impl IntoIterator<Item = Phrased>, out: &mut impl io::Write, verbose: u8) -> u8 {
    let mut code = 1;
    for error in errors {
        error.write(out, verbose);
        code = match (code, error.code) {
            (INTERNAL_ERROR, _) | (_, None) => code,
            (_, Some(worse)) => worse,
        };
    }
    code
}

/// The exit code `error` calls for, when not 1: a bug in the tool or the SDK is
/// [`INTERNAL_ERROR`], a setting the SDK refused is a usage error (2).
fn exit_code_of(error: &qovery_backups::Error) -> Option<u8> {
    if error.is_bug() {
        Some(INTERNAL_ERROR)
    } else if error.is_config() {
        Some(2)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use qovery_backups::{ConfigProblem, Error, Operation, StatusCode};

    use super::*;

    fn code(errors: Vec<Error>) -> u8 {
        let phrased = errors.iter().map(|error| Phrased::new(error, None));
        write_all(phrased, &mut io::sink(), 0)
    }

    /// A bug must never read as "fix your command line" (2) or "the API failed" (1), whatever
    /// else failed beside it.
    #[test]
    fn a_bug_exits_70_and_outranks_configuration_and_api_errors() {
        let bug = || Error::request_build(Operation::ListOrganizations, "unbuildable");
        let config = || Error::config(ConfigProblem::BaseUrl, "the base URL is not a URL");
        let api = || Error::api(Operation::ListOrganizations, StatusCode::BAD_GATEWAY);
        assert_eq!(code(vec![api()]), 1);
        assert_eq!(code(vec![api(), config()]), 2);
        assert_eq!(code(vec![bug()]), INTERNAL_ERROR);
        assert_eq!(code(vec![bug(), config(), api()]), INTERNAL_ERROR);
        assert_eq!(code(vec![config(), bug()]), INTERNAL_ERROR);
    }
}
