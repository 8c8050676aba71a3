//! The manual: `qovery-backups.1` and one `qovery-backups-COMMAND.1` per command, made by
//! clap_mangen from the definitions that parse the command line, with the sections clap knows
//! nothing of (EXIT STATUS, ENVIRONMENT, EXAMPLES) added here.

use std::fs;
use std::io::{self, Write};
use std::path::Path;

use clap::CommandFactory as _;
use clap_mangen::Man;
use clap_mangen::roff::{Roff, bold, roman};

use crate::cli::Cli;
use crate::cmd::describe::BIN;

/// The command line as the pages describe it: without the `help` subcommand, which has no page.
fn command() -> clap::Command {
    let mut command = Cli::command().disable_help_subcommand(true);
    command.build();
    command
}

/// Writes the page of the tool itself.
pub fn write_main(out: &mut dyn Write) -> io::Result<()> {
    let mut page = Vec::new();
    render(&command(), None, &mut page)?;
    out.write_all(&ascii(page))
}

/// The page with every character past ASCII written as troff's `\[uXXXX]`: troff reads its
/// input as Latin-1 unless preconv runs first, and warns on (or garbles) UTF-8 such as `×`.
fn ascii(page: Vec<u8>) -> Vec<u8> {
    let text = String::from_utf8(page).expect("the page is made from UTF-8 strings");
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_ascii() {
            escaped.push(c);
        } else {
            escaped.push_str(&format!("\\[u{:04X}]", u32::from(c)));
        }
    }
    escaped.into_bytes()
}

/// Writes `qovery-backups.1` and a page for each command that is not hidden into `dir`,
/// returning the file names.
pub fn write_all(dir: &Path) -> io::Result<Vec<String>> {
    fs::create_dir_all(dir)?;
    let top = command();
    let mut written = Vec::new();
    let mut write = |file: String, subcommand: Option<&clap::Command>| -> io::Result<()> {
        let mut page = Vec::new();
        render(&top, subcommand, &mut page)?;
        fs::write(dir.join(&file), ascii(page))?;
        written.push(file);
        Ok(())
    };
    write(format!("{BIN}.1"), None)?;
    for subcommand in top.get_subcommands().filter(|s| !s.is_hide_set()) {
        write(format!("{BIN}-{}.1", subcommand.get_name()), Some(subcommand))?;
    }
    Ok(written)
}

/// One page: clap_mangen's sections, then ours.
fn render(top: &clap::Command, subcommand: Option<&clap::Command>, out: &mut dyn Write) -> io::Result<()> {
    let name = subcommand.map(clap::Command::get_name);
    let page = Man::new(subcommand.unwrap_or(top).clone())
        .source(format!("{BIN} {}", env!("CARGO_PKG_VERSION")))
        .manual("qovery-backups manual");
    page.render_title(out)?;
    page.render_name_section(out)?;
    page.render_synopsis_section(out)?;
    page.render_description_section(out)?;
    page.render_options_section(out)?;
    if subcommand.is_none() {
        page.render_subcommands_section(out)?;
    }
    let mut roff = Roff::new();
    exit_status(&mut roff, name);
    if uses_the_api(name) {
        environment(&mut roff);
    }
    examples(&mut roff, name);
    see_also(&mut roff, top, name);
    // The tool's version on every page (clap_mangen knows it only on the top command's).
    roff.control("SH", ["VERSION"]).text([roman(format!("v{}", top.get_version().unwrap_or_default()))]);
    roff.to_writer(out)
}

/// Whether the command talks to the API, and so reads the environment below.
fn uses_the_api(command: Option<&str>) -> bool {
    !matches!(command, Some("completions" | "mock" | "demo"))
}

/// A tagged paragraph: `tag` in bold, then `text`.
fn item(roff: &mut Roff, tag: &str, text: &str) {
    roff.control("TP", []).text([bold(tag)]).text([roman(text)]);
}

const USAGE_ERROR: &str = "A usage or configuration error: an unknown option or value, no token, a malformed \
     token, a refused --api-url (plain http to another machine, a password in it), a zero \
     duration.";

/// The exit code of a bug, on the page of every command that calls the API.
const INTERNAL_ERROR: &str = "A bug in qovery-backups (a request it could not build), not a usage error nor a \
     failure of the API: report it, with the output of -v.";

/// What each exit code means for `command` (the tool as a whole when `None`).
fn exit_status(roff: &mut Roff, command: Option<&str>) {
    let codes: &[(&str, &str)] = match command {
        None => &[
            ("0", "Success."),
            (
                "1",
                "An API, network or decoding error, after retries; a backup that `wait` saw fail; a write to stdout that failed.",
            ),
            ("2", USAGE_ERROR),
            ("3", "check: a database has no fresh successful backup."),
        ],
        Some("list") => &[
            ("0", "Every backup of every database was written."),
            (
                "1",
                "A listing failed after retries. What was received is written first (a JSON array is closed), and a hint says how to continue the listing.",
            ),
            ("2", USAGE_ERROR),
        ],
        Some("latest") => &[
            (
                "0",
                "The newest backup of each database was written (a database without backups is a warning).",
            ),
            ("1", "A listing failed after retries; the other databases are written."),
            ("2", USAGE_ERROR),
        ],
        Some("create") => &[
            ("0", "Every backup was created; with --wait, each finished with SUCCESS."),
            (
                "1",
                "The API refused or failed after retries for a database (the others go on; a summary line counts them); with --wait, a backup failed, was canceled, vanished, or the wait timed out (each is printed as last seen).",
            ),
            ("2", USAGE_ERROR),
        ],
        Some("delete") => &[
            ("0", "The backup was deleted."),
            ("1", "The API refused or failed after retries."),
            ("2", USAGE_ERROR),
        ],
        Some("wait") => &[
            ("0", "The backup finished with SUCCESS."),
            (
                "1",
                "It failed, was canceled, vanished, is not in the database, or --wait-timeout passed; the backup is printed as last seen.",
            ),
            ("2", USAGE_ERROR),
        ],
        Some("prune") => &[
            ("0", "Every database was pruned as planned (with --dry-run: planned)."),
            (
                "1",
                "A listing or a delete failed, or a database was refused (a backup dated in the future, or a plan deleting more than --max-delete); that database is left as it is (nothing is deleted from a refused or failed listing), and the others are pruned.",
            ),
            ("2", "A usage or configuration error, or no keep rule (--keep-*) given."),
        ],
        Some("check") => &[
            ("0", "Every database has a successful backup no older than --max-age (or is UNMANAGED)."),
            (
                "1",
                "A database could not be checked, or an id names no database (NOT_FOUND); this outranks 3.",
            ),
            ("2", USAGE_ERROR),
            ("3", "A database is STALE, MISSING or SUSPECT."),
        ],
        Some("serve") => &[
            ("0", "Stopped by SIGTERM or SIGINT, after the scrapes in flight."),
            ("2", "A usage or configuration error, or an address that cannot be listened on."),
        ],
        Some("databases") => &[
            ("0", "The databases were written."),
            ("1", "A discovery call failed after retries."),
            ("2", "A usage or configuration error, or a scope that holds no database."),
        ],
        Some("mock") => {
            &[("0", "Stopped by Ctrl-C."), ("1", "The server could not start or stopped with an error.")]
        }
        Some("demo") => {
            &[("0", "Every backup was listed exactly once through the faults."), ("1", "Otherwise.")]
        }
        Some(_) => &[("0", "Success."), ("2", "A usage error.")],
    };
    roff.control("SH", ["EXIT STATUS"]);
    for (code, meaning) in codes {
        item(roff, code, meaning);
    }
    if uses_the_api(command) {
        item(roff, &crate::outcome::INTERNAL_ERROR.to_string(), INTERNAL_ERROR);
    }
}

/// The variables the tool reads.
fn environment(roff: &mut Roff) {
    roff.control("SH", ["ENVIRONMENT"]);
    for (name, meaning) in [
        (
            "QOVERY_API_TOKEN",
            "The API token: an organization API token (sent as `Token`) or a JWT (sent as `Bearer`); see --auth-scheme. Prefer it to --token, which other users can read in the process list.",
        ),
        ("QOVERY_CLI_ACCESS_TOKEN", "Read when QOVERY_API_TOKEN is unset: the token the Qovery CLI keeps."),
        (
            "QOVERY_API_URL",
            "The API's base URL, as --api-url; https://api.qovery.com by default. Plain http is allowed to this machine only.",
        ),
        (
            "HTTPS_PROXY, https_proxy, ALL_PROXY, NO_PROXY",
            "For an https:// base URL, the proxy to tunnel through (it sees only the host), and the hosts to reach directly. A plain-http base URL never goes through a proxy: HTTP_PROXY, http_proxy and ALL_PROXY are ignored for it, since a proxy would read the token.",
        ),
        (
            "COLUMNS",
            "The width tables fit, in columns, instead of the terminal's. Without either (a pipe, a file), a table is as wide as its content.",
        ),
        (
            "NO_COLOR",
            "Any non-empty value turns off colour in log lines on stderr (which are coloured only on a terminal).",
        ),
        ("RUST_LOG", "A log filter for stderr that overrides -v and -q, e.g. qovery_backups=debug."),
    ] {
        item(roff, name, meaning);
    }
}

/// A few command lines, each after what it does.
fn examples(roff: &mut Roff, command: Option<&str>) {
    let examples: &[(&str, &str)] = match command {
        None => &[
            (
                "Every backup of a database, as a table on a terminal:",
                "qovery-backups list 3c90c3cc-0d44-4b50-8888-8dd25736052a",
            ),
            (
                "Exit 3 when a database of the organization has no successful backup in 26 hours:",
                "qovery-backups check --organization ORG --max-age 26h",
            ),
            (
                "Install bash completion:",
                "qovery-backups completions bash > /etc/bash_completion.d/qovery-backups",
            ),
        ],
        Some("list") => &[
            (
                "Two databases as one object per line, four listings at a time:",
                "qovery-backups list DB1 DB2 --output ndjson --concurrency 8 > backups.ndjson",
            ),
            ("Continue a listing that stopped after backup B:", "qovery-backups list DB --start-after B"),
            (
                "The 5 newest backups of every database of a project, as CSV:",
                "qovery-backups list --project PROJECT --limit 5 --output csv",
            ),
        ],
        Some("latest") => &[("The newest backup of two databases:", "qovery-backups latest DB1 DB2")],
        Some("create") => &[
            (
                "Back a database up now:",
                "qovery-backups create DB --name nightly --message \"before migration\"",
            ),
            (
                "Back it up and wait at most an hour for the result (exit 1 if it fails):",
                "qovery-backups create DB --name nightly --message cron --wait --wait-timeout 1h",
            ),
            (
                "Back up every database of an organization before a migration, and wait for each:",
                "qovery-backups create --organization ORG --name pre-migration --message v2 --wait",
            ),
        ],
        Some("delete") => &[("Delete one backup:", "qovery-backups delete DB BACKUP")],
        Some("wait") => &[(
            "Wait for a backup created elsewhere, printing it as JSON:",
            "qovery-backups wait DB BACKUP --output json",
        )],
        Some("prune") => &[
            (
                "What a week of dailies and a month of weeklies would delete:",
                "qovery-backups prune DB --keep-daily 7 --keep-weekly 4 --dry-run",
            ),
            (
                "Keep the 10 newest successful backups, and delete failed ones:",
                "qovery-backups prune DB --keep-last 10 --delete-failed",
            ),
            (
                "A nightly job that refuses a database whose plan deletes more than 20:",
                "qovery-backups prune --organization ORG --keep-daily 7 --max-delete 20",
            ),
        ],
        Some("check") => &[
            (
                "Exit 3 when a database has no successful backup in the last 26 hours:",
                "qovery-backups check DB1 DB2 --max-age 26h",
            ),
            (
                "Every database of an organization, for node_exporter's textfile collector:",
                "qovery-backups check --organization ORG --max-age 26h --output prometheus --output-file /var/lib/node_exporter/qovery-backups.prom",
            ),
        ],
        Some("serve") => &[(
            "Export every database's freshness to Prometheus, checked every 10 minutes:",
            "qovery-backups serve --max-age 26h --listen 0.0.0.0:19100",
        )],
        Some("databases") => &[
            ("Every database the token can see:", "qovery-backups databases"),
            (
                "The databases of one project, as CSV:",
                "qovery-backups databases --project PROJECT --output csv",
            ),
        ],
        Some("completions") => &[
            ("bash:", "qovery-backups completions bash > /etc/bash_completion.d/qovery-backups"),
            ("zsh (a directory in $fpath):", "qovery-backups completions zsh > ~/.zfunc/_qovery-backups"),
            ("fish:", "qovery-backups completions fish > ~/.config/fish/completions/qovery-backups.fish"),
        ],
        Some("mock") => &[(
            "A mock with faults; its first line is `listening on URL`:",
            "qovery-backups mock --addr 127.0.0.1:8080 --token t --faults \"p=0.2,max=2,seed=7\"",
        )],
        Some("demo") => {
            &[("List through injected faults and prove nothing was lost:", "qovery-backups demo")]
        }
        Some(_) => &[],
    };
    if examples.is_empty() {
        return;
    }
    roff.control("SH", ["EXAMPLES"]);
    for (what, line) in examples {
        roff.control("PP", []).text([roman(*what)]);
        roff.control("RS", ["4"]).control("nf", []).text([roman(*line)]).control("fi", []).control("RE", []);
    }
}

/// The other pages: every command's from the tool's page, the tool's from a command's.
fn see_also(roff: &mut Roff, top: &clap::Command, command: Option<&str>) {
    let pages: Vec<String> = match command {
        Some(_) => vec![BIN.to_owned()],
        None => top
            .get_subcommands()
            .filter(|s| !s.is_hide_set())
            .map(|s| format!("{BIN}-{}", s.get_name()))
            .collect(),
    };
    roff.control("SH", ["SEE ALSO"]);
    let mut inlines = Vec::new();
    for (i, page) in pages.iter().enumerate() {
        if i > 0 {
            inlines.push(roman(", "));
        }
        inlines.push(bold(page.as_str()));
        inlines.push(roman("(1)"));
    }
    roff.text(inlines);
}
