//! What to do about an error, in the terms of this command line: its flags and the environment
//! variables it reads. The SDK's own [`qovery_backups::Error::hint`] is used where the command
//! line has nothing more specific to say, except for configuration errors: the SDK's remedies
//! name its builder methods (`ClientBuilder::allow_insecure_http`), which this tool's users
//! cannot call, so every configuration problem gets this tool's own hint.

use qovery_backups::{ConfigProblem, Error, Operation};

/// The hint line for `error`, if any.
pub fn for_error(error: &Error) -> Option<String> {
    if error.is_unauthorized() {
        return Some(
            "set QOVERY_API_TOKEN (or QOVERY_CLI_ACCESS_TOKEN) to a valid token, or pass --token; organization \
             API tokens are sent as `Token <token>`, JWTs as `Bearer <jwt>` (choose with --auth-scheme)"
                .to_owned(),
        );
    }
    if let Some(problem) = error.config_problem() {
        return Some(config_hint(problem).to_owned());
    }
    // Where to resume helps only when the same call can succeed next time: a decode error, a
    // 4xx or a page that is not JSON would fail the same way again.
    if let (true, Some(resume), Some(Operation::List { database_id, .. })) =
        (error.is_retryable() && !error.is_decode(), error.resume_after(), error.operation())
    {
        return Some(match resume {
            Some(backup_id) => {
                format!(
                    "list again with `list {database_id} --start-after {backup_id}` to continue where it stopped"
                )
            }
            None => "nothing was listed; run the command again".to_owned(),
        });
    }
    error.hint().map(Into::into)
}

/// The flag or variable to change, for each setting the SDK can refuse. The SDK's own wording
/// names its builder methods, which mean nothing on a command line.
fn config_hint(problem: ConfigProblem) -> &'static str {
    // The message names no remedy (the SDK keeps it for `hint()`), so each problem needs one
    // here: a problem the SDK adds later gets the options that reach the client.
    match problem {
        ConfigProblem::MissingToken => {
            "set QOVERY_API_TOKEN (or QOVERY_CLI_ACCESS_TOKEN) to an organization API token from the Qovery console"
        }
        ConfigProblem::MalformedToken => {
            "copy the token again, without line breaks or spaces, into QOVERY_API_TOKEN"
        }
        ConfigProblem::InsecureHttp => {
            "use an https:// URL for --api-url (QOVERY_API_URL); plain http is allowed to this machine only"
        }
        ConfigProblem::BaseUrl => {
            "give --api-url (QOVERY_API_URL) as https://host[:port][/path], e.g. https://api.qovery.com"
        }
        ConfigProblem::ZeroTimeout => "give --timeout a duration longer than zero, e.g. 30s",
        ConfigProblem::NoTls => {
            "install a build with TLS (the default features), or use a plain http:// URL to this machine"
        }
        ConfigProblem::Other => "run again with -v to see what refused the setting",
        _ => "check --api-url, --token, --auth-scheme and --timeout, and QOVERY_API_URL and QOVERY_API_TOKEN",
    }
}
