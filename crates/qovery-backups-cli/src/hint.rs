//! What to do about an error, in the terms of this command line: its flags and the environment
//! variables it reads. The SDK's own [`qovery_backups::Error::hint`] is used where the command
//! line has nothing more specific to say.

use qovery_backups::{Error, Operation};

/// The hint line for `error`, if any.
pub fn for_error(error: &Error) -> Option<String> {
    if error.is_unauthorized() {
        return Some(
            "set QOVERY_API_TOKEN (or QOVERY_CLI_ACCESS_TOKEN) to a valid token, or pass --token; organization \
             API tokens are sent as `Token <token>`, JWTs as `Bearer <jwt>` (choose with --auth-scheme)"
                .to_owned(),
        );
    }
    if let Error::Config { message, .. } = error {
        return config_hint(message);
    }
    if let (Some(resume), Some(Operation::List { database_id, .. })) =
        (error.resume_after(), error.operation())
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

fn config_hint(message: &str) -> Option<String> {
    if message.contains("no API token") {
        Some("set QOVERY_API_TOKEN (or QOVERY_CLI_ACCESS_TOKEN) to an organization API token from the Qovery console".into())
    } else if message.contains("in clear") {
        Some(
            "use an https:// URL for --api-url (QOVERY_API_URL); plain http is allowed to this machine only"
                .into(),
        )
    } else if message.contains("timeout is zero") {
        Some("give --timeout a duration longer than zero, e.g. 30s".into())
    } else {
        None
    }
}
