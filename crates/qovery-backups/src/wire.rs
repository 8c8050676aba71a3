//! The seam to the wire: the HTTP calls side by side (three on backups, four discovery listings), one attempt each, each turning what
//! the generated client returns into a `Result<_, Error>`.
//!
//! Nothing here retries or paginates; the retry loop and the listing call these. Server text
//! kept in an error goes through the [`Redactor`] first.

use bytes::Bytes;
use futures::StreamExt as _;
use qovery_backups_api::types::{
    Backup, BackupPaginatedResponseList, BackupRequest, Database, Environment, Organization, Project,
};
use qovery_backups_api::{ByteStream, NotJson, ResponseTooLarge, ResponseValue, types};
use reqwest::StatusCode;
use reqwest::header::{HeaderMap, LOCATION};
use uuid::Uuid;

use crate::error::{BODY_EXCERPT_LIMIT, TransportKind};
use crate::redact::Redactor;
use crate::retry::parse_retry_after;
use crate::{Error, Operation};

/// The generated client with what its errors need.
#[derive(Clone, Copy)]
pub(crate) struct Wire<'a> {
    api: &'a qovery_backups_api::Client,
    redactor: &'a Redactor,
}

impl<'a> Wire<'a> {
    pub(crate) fn new(api: &'a qovery_backups_api::Client, redactor: &'a Redactor) -> Self {
        Wire { api, redactor }
    }

    /// `GET /database/{databaseId}/backup?startId=`: one page. `operation` says where the
    /// listing stood, for errors; `start_id` is the cursor actually sent.
    pub(crate) async fn list_page(
        self,
        operation: Operation,
        start_id: Option<Uuid>,
    ) -> Result<BackupPaginatedResponseList, Error> {
        let database_id = operation.database_id().unwrap_or_default();
        let mut request = self.api.list_database_backup().database_id(database_id);
        if let Some(start) = start_id {
            request = request.start_id(start);
        }
        self.answer(operation, request.send().await).await
    }

    /// `POST /database/{databaseId}/backup`.
    pub(crate) async fn create(self, database_id: Uuid, request: &BackupRequest) -> Result<Backup, Error> {
        let sent = self.api.add_backup_database().database_id(database_id).body(request.clone());
        self.answer(Operation::Create { database_id }, sent.send().await).await
    }

    /// `DELETE /database/{databaseId}/backup/{backupId}`.
    pub(crate) async fn delete(self, database_id: Uuid, backup_id: Uuid) -> Result<(), Error> {
        let sent = self.api.remove_database_backup().database_id(database_id).backup_id(backup_id);
        self.answer(Operation::Delete { database_id, backup_id }, sent.send().await).await
    }

    /// `GET /database/{databaseId}`.
    pub(crate) async fn get_database(self, database_id: Uuid) -> Result<Database, Error> {
        let sent = self.api.get_database().database_id(database_id).send().await;
        self.answer(Operation::GetDatabase { database_id }, sent).await
    }

    /// `GET /organization`.
    pub(crate) async fn list_organizations(self) -> Result<Vec<Organization>, Error> {
        let sent = self.api.list_organization().send().await;
        Ok(self.answer(Operation::ListOrganizations, sent).await?.results)
    }

    /// `GET /organization/{organizationId}/project`.
    pub(crate) async fn list_projects(self, organization_id: Uuid) -> Result<Vec<Project>, Error> {
        let sent = self.api.list_project().organization_id(organization_id).send().await;
        Ok(self.answer(Operation::ListProjects { organization_id }, sent).await?.results)
    }

    /// `GET /project/{projectId}/environment`.
    pub(crate) async fn list_environments(self, project_id: Uuid) -> Result<Vec<Environment>, Error> {
        let sent = self.api.list_environment().project_id(project_id).send().await;
        Ok(self.answer(Operation::ListEnvironments { project_id }, sent).await?.results)
    }

    /// `GET /environment/{environmentId}/database`.
    pub(crate) async fn list_databases(self, environment_id: Uuid) -> Result<Vec<Database>, Error> {
        let sent = self.api.list_database().environment_id(environment_id).send().await;
        Ok(self.answer(Operation::ListDatabases { environment_id }, sent).await?.results)
    }

    /// The value of a call that succeeded, or its error translated.
    async fn answer<T>(
        self,
        operation: Operation,
        sent: Result<ResponseValue<T>, ApiError>,
    ) -> Result<T, Error> {
        match sent {
            Ok(value) => Ok(value.into_inner()),
            Err(e) => Err(self.translate(operation, e).await),
        }
    }

    /// Translates a failed call.
    async fn translate(self, operation: Operation, error: ApiError) -> Error {
        match error {
            ApiError::ErrorResponse(response) => {
                let status = response.status();
                let headers = response.headers().clone();
                let body = read_limited(response.into_inner_stream()).await;
                self.api_error(operation, status, &headers, &body)
            }
            ApiError::UnexpectedResponse(response) => {
                let status = response.status();
                let headers = response.headers().clone();
                let body = read_limited(response.bytes_stream()).await;
                self.api_error(operation, status, &headers, &body)
            }
            ApiError::CommunicationError(source)
            | ApiError::ResponseBodyError(source)
            | ApiError::InvalidUpgrade(source) => match find_cause::<NotJson>(&source) {
                Some(not_json) => self.not_json_error(operation, not_json),
                None => transport(operation, source),
            },
            ApiError::InvalidResponsePayload(body, source) => self.decode_error(operation, &body, &source),
            // The generated builders refuse only values this crate passes them (ids it typed,
            // a body it made), and no hook of ours fails: a bug, not the caller's settings.
            ApiError::InvalidRequest(message) | ApiError::Custom(message) => {
                Error::RequestBuild { operation, source: Box::new(Unbuildable(message)) }
            }
        }
    }

    fn api_error(self, operation: Operation, status: StatusCode, headers: &HeaderMap, body: &[u8]) -> Error {
        let text = String::from_utf8_lossy(body);
        let location = status
            .is_redirection()
            .then(|| {
                headers
                    .get(LOCATION)?
                    .to_str()
                    .ok()
                    .map(|l| self.redactor.excerpt(l, BODY_EXCERPT_LIMIT).into())
            })
            .flatten();
        Error::Api {
            operation,
            status,
            detail: detail(body).map(|d| self.redactor.excerpt(&d, DETAIL_LIMIT).into()),
            body_excerpt: self.redactor.excerpt(&text, BODY_EXCERPT_LIMIT),
            retry_after: parse_retry_after(headers),
            location,
            attempts: 1,
        }
    }

    /// A success that declared another type than JSON: a decode error that says what came,
    /// since "expected value at line 1" would not.
    fn not_json_error(self, operation: Operation, not_json: &NotJson) -> Error {
        Error::NotJson {
            operation,
            content_type: self.redactor.excerpt(&not_json.content_type, BODY_EXCERPT_LIMIT),
            body_excerpt: self.redactor.excerpt(&not_json.start, BODY_EXCERPT_LIMIT),
            attempts: 1,
        }
    }

    fn decode_error(self, operation: Operation, body: &[u8], source: &serde_json::Error) -> Error {
        // serde_json reports a line and column; the field path says which field is wrong.
        let path = crate::json_path::path_at(body, source.line(), source.column());
        let message = source.to_string();
        let excerpt = self.redactor.excerpt(&String::from_utf8_lossy(body), BODY_EXCERPT_LIMIT);
        Error::Decode {
            operation,
            path: self.redactor.excerpt(&path, BODY_EXCERPT_LIMIT),
            message: self.redactor.excerpt(&message, BODY_EXCERPT_LIMIT),
            body_excerpt: excerpt,
            attempts: 1,
        }
    }
}

/// The longest `detail` an error keeps: a sentence or two, never a whole page.
const DETAIL_LIMIT: usize = 1024;

type ApiError = qovery_backups_api::Error<ByteStream>;

/// Why the generated client refused to build a request, as it said it.
#[derive(Debug)]
struct Unbuildable(String);

impl std::fmt::Display for Unbuildable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Unbuildable {}

/// A failure without an answer, classified by what it means for a retry.
pub(crate) fn transport(operation: Operation, source: reqwest::Error) -> Error {
    if let Some(too_large) = find_cause::<ResponseTooLarge>(&source) {
        return Error::TooLarge { operation, limit: too_large.limit, attempts: 1 };
    }
    // reqwest refused to build the request (a URL or header it cannot make): the base URL and
    // every header were checked when the client was built, so this is a bug, and sending again
    // would fail the same way.
    if source.is_builder() {
        return Error::RequestBuild { operation, source: Box::new(source) };
    }
    let kind = if source.is_connect() {
        TransportKind::Connect
    } else if headers_too_large(&source) {
        TransportKind::HeadersTooLarge
    } else if source.is_body() || source.is_decode() {
        TransportKind::BodyCutOff
    } else if source.is_request() {
        TransportKind::ConnectionLost
    } else {
        TransportKind::Other
    };
    Error::Transport { operation, kind, attempts: 1, source }
}

/// `error` and each of its causes, outermost first.
fn chain<'e>(
    error: &'e (dyn std::error::Error + 'static),
) -> impl Iterator<Item = &'e (dyn std::error::Error + 'static)> {
    std::iter::successors(Some(error), |&e| e.source())
}

fn find_cause<'e, E: std::error::Error + 'static>(
    error: &'e (dyn std::error::Error + 'static),
) -> Option<&'e E> {
    chain(error).find_map(|e| e.downcast_ref::<E>())
}

/// hyper refuses a response head over its limit with a parse error; reqwest reports it as a
/// failed request, which would otherwise read as a lost connection. hyper exposes no typed
/// accessor for it, so its (stable) message is what identifies it.
fn headers_too_large(error: &reqwest::Error) -> bool {
    chain(error).skip(1).any(|cause| cause.to_string().contains("message head is too large"))
}

/// Error bodies are small; a proxy's HTML page is not worth reading past this.
const ERROR_BODY_LIMIT: usize = 64 * 1024;

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

#[cfg(test)]
mod tests {
    use super::*;

    /// Nothing a caller sets can make a request unbuildable (the client checks every setting
    /// when it is built), so a refusal from the generated builders is a bug: its own kind, not
    /// a configuration error, never retried, with the builder's words as its source.
    #[tokio::test]
    async fn a_request_the_generated_client_cannot_build_is_a_bug_not_a_configuration_error() {
        use std::error::Error as _;

        let api =
            qovery_backups_api::Client::new("http://127.0.0.1:9", qovery_backups_api::Limits::default());
        let redactor = Redactor::new(secrecy::SecretString::from("qov_0123456789abcdef"));
        let operation = Operation::Create { database_id: Uuid::nil() };
        let refused = ApiError::InvalidRequest("conversion to `Uuid` for database_id failed".into());

        let error = Wire::new(&api, &redactor).translate(operation, refused).await;
        assert!(error.is_bug() && !error.is_config() && !error.is_retryable(), "{error:?}");
        assert_eq!(error.operation(), Some(&operation));
        assert_eq!(
            error.to_string(),
            format!(
                "creating a backup of database {}: the request could not be built (a bug in qovery-backups)",
                Uuid::nil()
            )
        );
        assert_eq!(
            error.source().map(ToString::to_string).as_deref(),
            Some("conversion to `Uuid` for database_id failed")
        );
        assert!(error.hint().is_some_and(|hint| hint.contains("report it")), "{error:?}");
    }

    #[test]
    fn detail_is_read_from_every_body_shape_qovery_has_used() {
        assert_eq!(detail(br#"{"status": 400, "detail": "bad startId"}"#).as_deref(), Some("bad startId"));
        assert_eq!(detail(br#"{"message": "old shape"}"#).as_deref(), Some("old shape"));
        assert_eq!(detail(br#"{"error": "Bad Request", "timestamp": 1}"#).as_deref(), Some("Bad Request"));
        assert_eq!(detail(br#"{"detail": "  "}"#), None, "blank is no explanation");
        assert_eq!(detail(b"<html>502 Bad Gateway</html>"), None);
    }
}
