//! The token and how it is sent.

use base64::Engine as _;
use reqwest::header::HeaderValue;
use secrecy::{ExposeSecret, SecretString};

use crate::Error;

/// How the token goes into the `Authorization` header.
///
/// Qovery accepts organization API tokens as `Token <token>` and JWTs (OIDC, the console's) as
/// `Bearer <jwt>`; the two are not interchangeable.
///
/// ```
/// use qovery_backups::AuthScheme;
///
/// assert_eq!(AuthScheme::detect("qov_abcdef0123456789"), AuthScheme::Token);
/// assert_eq!(AuthScheme::detect("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln"), AuthScheme::Bearer);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AuthScheme {
    /// `Authorization: Token <token>`, for organization API tokens.
    Token,
    /// `Authorization: Bearer <jwt>`, for JWTs.
    Bearer,
}

impl AuthScheme {
    /// `Bearer` for a JWT-shaped token, `Token` otherwise.
    ///
    /// JWT-shaped means three dot-separated parts whose first decodes (base64url) to a JSON
    /// object. Qovery's CLI only checks that the first part decodes, which some plain API tokens
    /// also do; requiring the JSON header avoids sending those as `Bearer`.
    ///
    /// ```
    /// use qovery_backups::AuthScheme;
    ///
    /// // Three dot-separated parts are not enough: the first must decode to a JSON object.
    /// assert_eq!(AuthScheme::detect("abc.def.ghi"), AuthScheme::Token);
    /// assert_eq!(AuthScheme::detect(" eyJhbGciOiJIUzI1NiJ9.e30.c2ln\n"), AuthScheme::Bearer);
    /// ```
    pub fn detect(token: &str) -> AuthScheme {
        let parts: Vec<&str> = token.trim().split('.').collect();
        let header_is_json = parts.len() == 3
            && base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(parts[0].trim_end_matches('='))
                .is_ok_and(|header| header.first() == Some(&b'{'));
        if header_is_json { AuthScheme::Bearer } else { AuthScheme::Token }
    }

    fn prefix(self) -> &'static str {
        match self {
            AuthScheme::Token => "Token",
            AuthScheme::Bearer => "Bearer",
        }
    }
}

/// Builds the header value, marked sensitive so `Debug` of the HTTP client and of its requests
/// prints `Sensitive` instead of the token.
pub(crate) fn authorization(token: &SecretString, scheme: AuthScheme) -> Result<HeaderValue, Error> {
    let mut value = HeaderValue::from_str(&format!("{} {}", scheme.prefix(), token.expose_secret().trim()))
        .map_err(|_| {
        Error::config(
            crate::ConfigProblem::MalformedToken,
            "the token holds characters that cannot go in an HTTP header",
        )
    })?;
    value.set_sensitive(true);
    Ok(value)
}
