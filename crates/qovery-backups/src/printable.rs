//! Server text made safe to show on a terminal.

use std::borrow::Cow;

/// `text` with its control characters (escape sequences, carriage returns, bells, newlines)
/// written as Rust escapes, so that text from the server (a backup's name, an error's detail)
/// cannot move a terminal's cursor, hide what follows, or forge a second line. Everything else
/// is kept as it is; text without control characters is returned without copying.
///
/// Machine formats (JSON, CSV) should keep the data exact and escape it by their own rules;
/// this is for what a person reads.
///
/// ```
/// use qovery_backups::printable;
///
/// assert_eq!(printable("nightly"), "nightly");
/// assert_eq!(printable("a\u{1b}[8mb\nc"), "a\\u{1b}[8mb\\nc");
/// ```
pub fn printable(text: &str) -> Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return Cow::Borrowed(text);
    }
    let mut escaped = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if c.is_control() {
            escaped.extend(c.escape_default());
        } else {
            escaped.push(c);
        }
    }
    Cow::Owned(escaped)
}
