//! `completions` and `man`: the command line describing itself, from the same clap definitions
//! that parse it, so neither can drift from the flags the tool really takes.

use std::io::{self, Write as _};

use clap::CommandFactory as _;

use crate::cli::{Cli, CompletionsArgs};
use crate::outcome::{Failure, Outcome};

/// Writes the completion script for `args.shell` to stdout.
pub fn completions(args: CompletionsArgs) -> Result<Outcome, Failure> {
    let mut command = Cli::command();
    let mut out = io::stdout().lock();
    clap_complete::generate(args.shell, &mut command, "qovery-backups", &mut out);
    out.flush()?;
    Ok(Outcome::Success)
}

/// Writes the manual page, in roff, to stdout.
pub fn man() -> Result<Outcome, Failure> {
    let mut out = io::stdout().lock();
    clap_mangen::Man::new(Cli::command()).render(&mut out)?;
    out.flush()?;
    Ok(Outcome::Success)
}
