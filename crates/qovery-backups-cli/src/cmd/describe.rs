//! `completions` and `man`: the command line describing itself, from the same clap definitions
//! that parse it, so neither can drift from the flags the tool really takes.

use std::io::{self, Write as _};

use clap::CommandFactory as _;
use clap_complete::Shell;

use crate::cli::{Cli, CompletionsArgs, ManArgs};
use crate::outcome::{Failure, Outcome};

/// The name a shell completes and a man page is filed under.
pub const BIN: &str = "qovery-backups";

/// Writes the completion script for `args.shell` to stdout.
pub fn completions(args: CompletionsArgs) -> Result<Outcome, Failure> {
    let mut out = io::stdout().lock();
    out.write_all(completion_script(args.shell).as_bytes())?;
    out.flush()?;
    Ok(Outcome::Success)
}

/// clap_complete's script for `shell`, mended where it fails this binary: bash's case arms, and
/// fish's positional values.
pub fn completion_script(shell: Shell) -> String {
    let mut command = Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut command, BIN, &mut script);
    let script = String::from_utf8(script).expect("clap_complete writes UTF-8");
    match shell {
        Shell::Bash => mend_bash(&script),
        Shell::Fish => script + &fish_positional_values(&command),
        _ => script,
    }
}

/// clap_complete (4.6, clap-rs/clap#6421) names the states of bash's dispatch loop
/// `qovery__backups__subcmd__list`, but spells the case arm that completes them
/// `qovery__subcmd__backups__subcmd__list`: the hyphen of the name becomes the subcommand
/// separator. No arm below the top level is reachable, so nothing after a subcommand completes.
/// Spelling the arms as the loop does mends it; a fixed clap_complete leaves nothing to replace.
fn mend_bash(script: &str) -> String {
    script.replace(&BIN.replace('-', "__subcmd__"), &BIN.replace('-', "__"))
}

/// clap_complete's fish script completes no positional argument, so `completions <TAB>` offered
/// file names. One line per subcommand positional with known values (the shells) offers them,
/// and no files.
fn fish_positional_values(command: &clap::Command) -> String {
    let using = format!("__fish_{}_using_subcommand", BIN.replace('-', "_"));
    let mut lines = String::new();
    for subcommand in command.get_subcommands().filter(|s| !s.is_hide_set()) {
        for arg in subcommand.get_positionals().filter(|a| !a.is_hide_set()) {
            let values: Vec<String> = arg
                .get_possible_values()
                .iter()
                .filter(|v| !v.is_hide_set())
                .map(|v| v.get_name().to_owned())
                .collect();
            if !values.is_empty() {
                lines.push_str(&format!(
                    "complete -c {BIN} -n \"{using} {}\" -f -a \"{}\"\n",
                    subcommand.get_name(),
                    values.join(" ")
                ));
            }
        }
    }
    lines
}

/// Writes the tool's manual page, in roff, to stdout; or every page into `args.dir`, naming
/// each file written.
pub fn man(args: ManArgs) -> Result<Outcome, Failure> {
    let mut out = io::stdout().lock();
    match &args.dir {
        None => crate::cmd::manual::write_main(&mut out)?,
        Some(dir) => {
            let written = crate::cmd::manual::write_all(dir)
                .map_err(|e| Failure::Other(format!("cannot write the pages into {}: {e}", dir.display())))?;
            for file in written {
                writeln!(out, "{}", dir.join(file).display())?;
            }
        }
    }
    out.flush()?;
    Ok(Outcome::Success)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every arm of bash's `case "${cmd}"` must be a state the dispatch loop can reach; the real
    /// shell's behaviour is tested in tests/completions.rs.
    #[test]
    fn every_bash_case_arm_is_a_state_the_dispatch_loop_reaches() {
        let script = completion_script(Shell::Bash);
        let states: Vec<&str> =
            script.lines().filter_map(|line| line.trim().strip_prefix("cmd=\"")?.strip_suffix('"')).collect();
        let arms_start = script.find("case \"${cmd}\" in").expect("the dispatch on the state");
        let arms: Vec<&str> = script[arms_start..]
            .lines()
            .filter_map(|line| line.strip_prefix("        ")?.strip_suffix(')'))
            .filter(|label| !label.starts_with(' '))
            .collect();
        assert!(arms.len() > 20, "{arms:?}");
        for arm in &arms {
            assert!(states.contains(arm), "unreachable case arm {arm}");
        }
    }
}
