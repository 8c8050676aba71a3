//! Server text made safe to show on a terminal.

use std::borrow::Cow;

/// `text` with its control characters (escape sequences, carriage returns, bells, newlines) and
/// its bidirectional controls (U+061C, U+200E, U+200F, U+202A–U+202E, U+2066–U+2069) written as
/// Rust escapes, so that text from the server (a backup's name, an error's detail) cannot move
/// a terminal's cursor, hide what follows, forge a second line, or reorder what a person sees
/// (an override or isolate left open runs on into the rest of the line). Everything else is
/// kept as it is, right-to-left letters included; text without such characters is returned
/// without copying.
///
/// Machine formats (JSON, CSV) should keep the data exact and escape it by their own rules;
/// this is for what a person reads.
///
/// ```
/// use qovery_backups::printable;
///
/// assert_eq!(printable("nightly"), "nightly");
/// assert_eq!(printable("a\u{1b}[8mb\nc"), "a\\u{1b}[8mb\\nc");
/// // A right-to-left override would show `exe.txt` as `txt.exe`.
/// assert_eq!(printable("report\u{202e}txt.exe"), "report\\u{202e}txt.exe");
/// assert_eq!(printable("نسخة"), "نسخة");
/// ```
pub fn printable(text: &str) -> Cow<'_, str> {
    if !text.chars().any(needs_escape) {
        return Cow::Borrowed(text);
    }
    let mut escaped = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if c.is_control() {
            escaped.extend(c.escape_default());
        } else if is_bidi_control(c) {
            escaped.extend(c.escape_unicode());
        } else {
            escaped.push(c);
        }
    }
    Cow::Owned(escaped)
}

fn needs_escape(c: char) -> bool {
    c.is_control() || is_bidi_control(c)
}

/// Unicode's Bidi_Control characters: the marks, embeddings, overrides and isolates that
/// change the order in which a terminal shows the characters around them.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}
