//! Keeping the token out of what the server sends back.
//!
//! A proxy or a misconfigured server can echo the request's headers in an error body, so any
//! server text kept in an error (`detail`, a body excerpt) is redacted first. Redaction runs on
//! the whole text before it is cut to an excerpt, since cutting first could split the token and
//! leave most of it in plain sight; and when the cut ends in what could be the start of the
//! token, that tail is dropped too.
//!
//! Tokens shorter than [`SHORTEST_REDACTED`] bytes are left alone: every token Qovery issues is
//! far longer (organization API tokens are dozens of characters, JWTs hundreds), and replacing
//! every occurrence of a two-letter test token would destroy the messages it appears in.

use std::sync::Arc;

use secrecy::{ExposeSecret, SecretString};

use crate::printable;

/// The shortest token that is searched for in server text.
pub(crate) const SHORTEST_REDACTED: usize = 8;

const REDACTED: &str = "[redacted]";

/// Removes one token from text. Cheap to clone; holds the token as a secret.
#[derive(Clone)]
pub(crate) struct Redactor {
    token: Arc<SecretString>,
}

impl Redactor {
    pub(crate) fn new(token: SecretString) -> Self {
        Redactor { token: Arc::new(token) }
    }

    fn token(&self) -> Option<&str> {
        let token = self.token.expose_secret().trim();
        (token.len() >= SHORTEST_REDACTED).then_some(token)
    }

    /// At most `limit` bytes of `text` (cut on a character boundary, `…` marking the cut), with
    /// the token removed, on one line, with control characters escaped so that printing it
    /// cannot move a terminal's cursor or forge a second line.
    pub(crate) fn excerpt(&self, text: &str, limit: usize) -> String {
        let redacted = match self.token() {
            Some(token) if text.contains(token) => text.replace(token, REDACTED),
            _ => text.to_owned(),
        };
        let cut = redacted.len() > limit;
        let mut kept = &redacted[..floor_char_boundary(&redacted, limit)];
        if cut && let Some(token) = self.token() {
            kept = without_token_prefix_at_end(kept, token);
        }
        let mut line = printable(kept).into_owned();
        if cut {
            line.push('…');
        }
        line
    }
}

/// `text` without a trailing piece that is the start of `token`: the rest of the token was cut
/// off, and even a prefix narrows the search for the secret.
fn without_token_prefix_at_end<'t>(text: &'t str, token: &str) -> &'t str {
    let longest = text.len().min(token.len());
    (1..=longest)
        .rev()
        .find(|&n| {
            text.is_char_boundary(text.len() - n)
                && token.as_bytes().starts_with(&text.as_bytes()[text.len() - n..])
        })
        .map_or(text, |n| &text[..text.len() - n])
}

fn floor_char_boundary(text: &str, index: usize) -> usize {
    if index >= text.len() {
        return text.len();
    }
    (0..=index).rev().find(|&i| text.is_char_boundary(i)).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    const TOKEN: &str = "qov_0123456789abcdefghijklmnopqrstuvwxyzABCD";

    fn redactor() -> Redactor {
        Redactor::new(SecretString::from(TOKEN))
    }

    #[test]
    fn the_whole_token_is_replaced_wherever_it_is() {
        let text = format!("authorization: Token {TOKEN}; again {TOKEN}");
        assert_eq!(redactor().excerpt(&text, 1000), "authorization: Token [redacted]; again [redacted]");
    }

    #[test]
    fn short_tokens_are_not_searched_for() {
        let short = Redactor::new(SecretString::from("abc"));
        assert_eq!(short.excerpt("abc abc", 100), "abc abc");
    }

    #[test]
    fn controls_are_escaped_and_lines_joined() {
        assert_eq!(redactor().excerpt("a\nb\r\u{1b}[8mc\u{7}", 100), "a\\nb\\r\\u{1b}[8mc\\u{7}");
    }

    #[test]
    fn a_cut_inside_a_multibyte_character_backs_off() {
        assert_eq!(redactor().excerpt("ééé", 3), "é…");
    }

    proptest! {
        #![proptest_config(ProptestConfig {
            cases: 512,
            rng_seed: proptest::test_runner::RngSeed::Fixed(7),
            ..ProptestConfig::default()
        })]

        /// Wherever the excerpt is cut and wherever the token sits, not one character of the
        /// token survives. The filler shares no character with the token, so any lowercase
        /// letter, digit or `_` left (outside the `[redacted]` marker, which a cut may split)
        /// would be a piece of it.
        #[test]
        fn no_piece_of_the_token_survives_any_cut(before in "[A-Z =]{0,600}", after in "[A-Z =]{0,100}", limit in 0usize..800) {
            let text = format!("{before}{TOKEN_OF_LOWERCASE}{after}");
            let excerpt = Redactor::new(SecretString::from(TOKEN_OF_LOWERCASE)).excerpt(&text, limit);
            let mut rest = excerpt.replace(REDACTED, "");
            rest = rest.trim_end_matches('…').to_owned();
            if let Some(start) = rest.rfind('[') && REDACTED.starts_with(&rest[start..]) {
                rest.truncate(start);
            }
            prop_assert!(!rest.chars().any(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'), "{excerpt}");
            prop_assert!(excerpt.len() <= limit + '…'.len_utf8());
        }
    }

    const TOKEN_OF_LOWERCASE: &str = "qov_0123456789abcdefghijklmnopqrstuvwxyz";
}
