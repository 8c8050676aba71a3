//! Turning what the generated client returns into [`Error`]s a person can act on.

use bytes::Bytes;
use futures::StreamExt as _;
use qovery_backups_api::{ByteStream, types};
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde::de::DeserializeOwned;

use crate::error::{BODY_EXCERPT_LIMIT, TransportKind};
use crate::retry::parse_retry_after;
use crate::{Client, Error, Operation};

/// Error bodies are small; a proxy's HTML page is not worth reading past this.
const ERROR_BODY_LIMIT: usize = 64 * 1024;

type ApiError = qovery_backups_api::Error<ByteStream>;

/// Translates a failed call. `T` is the success type, for the field path of decode errors.
pub(crate) async fn translate<T: DeserializeOwned>(
    client: &Client,
    operation: Operation,
    error: ApiError,
) -> Error {
    match error {
        ApiError::ErrorResponse(response) => {
            let status = response.status();
            let headers = response.headers().clone();
            let body = read_limited(response.into_inner_stream()).await;
            api_error(client, operation, status, &headers, &body)
        }
        ApiError::UnexpectedResponse(response) => {
            let status = response.status();
            let headers = response.headers().clone();
            let body = read_limited(response.bytes_stream()).await;
            api_error(client, operation, status, &headers, &body)
        }
        ApiError::CommunicationError(source)
        | ApiError::ResponseBodyError(source)
        | ApiError::InvalidUpgrade(source) => transport(operation, source),
        ApiError::InvalidResponsePayload(body, source) => {
            decode_error::<T>(client, operation, &body, &source)
        }
        ApiError::InvalidRequest(message) | ApiError::Custom(message) => {
            Error::config(format!("{operation}: the request could not be built: {message}"))
        }
    }
}

pub(crate) fn transport(operation: Operation, source: reqwest::Error) -> Error {
    let kind = if source.is_connect() {
        TransportKind::Connect
    } else if source.is_body() || source.is_decode() {
        TransportKind::BodyCutOff
    } else if source.is_request() {
        TransportKind::ConnectionLost
    } else {
        TransportKind::Other
    };
    Error::Transport { operation, kind, attempts: 1, source }
}

fn api_error(
    client: &Client,
    operation: Operation,
    status: StatusCode,
    headers: &HeaderMap,
    body: &[u8],
) -> Error {
    Error::Api {
        operation,
        status,
        detail: detail(body).map(|d| client.redact(&d)),
        body_excerpt: client.redact(&excerpt(body)),
        retry_after: parse_retry_after(headers),
        attempts: 1,
    }
}

/// The server's explanation. Qovery's error body has been `{message}`, then
/// `{error, message, timestamp, path}`, now `{status, detail}`: take whichever is there.
fn detail(body: &[u8]) -> Option<String> {
    if let Ok(error) = serde_json::from_slice::<types::ApiError>(body) {
        return Some(error.detail);
    }
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    ["detail", "message", "error"]
        .iter()
        .find_map(|key| value.get(key)?.as_str().map(str::to_owned))
        .filter(|text| !text.trim().is_empty())
}

pub(crate) fn decode_error<T: DeserializeOwned>(
    client: &Client,
    operation: Operation,
    body: &[u8],
    source: &serde_json::Error,
) -> Error {
    // serde_json reports a line and column; the field path says which field is wrong.
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let (path, message) = match serde_path_to_error::deserialize::<_, T>(&mut deserializer) {
        Err(e) => (e.path().to_string(), e.into_inner().to_string()),
        Ok(_) => (".".to_owned(), source.to_string()),
    };
    Error::Decode { operation, path, message, body_excerpt: client.redact(&excerpt(body)), attempts: 1 }
}

/// At most [`BODY_EXCERPT_LIMIT`] bytes, cut on a character boundary, on one line.
fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(&body[..body.len().min(BODY_EXCERPT_LIMIT)]);
    let mut text = text.trim_end_matches('\u{FFFD}').replace(['\n', '\r'], " ");
    if body.len() > BODY_EXCERPT_LIMIT {
        text.push('…');
    }
    text
}

/// Reads an error body up to [`ERROR_BODY_LIMIT`]; a body that fails part-way is kept as far
/// as it got, since the status already says what happened.
async fn read_limited<S>(mut stream: S) -> Vec<u8>
where
    S: futures::Stream<Item = reqwest::Result<Bytes>> + Unpin,
{
    let mut body = Vec::new();
    while let Some(Ok(chunk)) = stream.next().await {
        body.extend_from_slice(&chunk[..chunk.len().min(ERROR_BODY_LIMIT - body.len())]);
        if body.len() >= ERROR_BODY_LIMIT {
            break;
        }
    }
    body
}
