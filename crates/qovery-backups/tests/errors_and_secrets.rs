//! Errors a person can act on, auth that picks the right scheme, and a token that never leaks.

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{client, mock, policy};
use futures::TryStreamExt as _;
use qovery_backups::{AuthScheme, Client, Error, TOKEN_ENV_VARS};
use qovery_backups_mock::{Fault, FaultPlan};
use uuid::Uuid;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer as WireMock, ResponseTemplate};

const SECRET: &str = "qov_s3cr3t-token-value-0123456789";

#[tokio::test]
async fn wrong_token_is_401_once_with_a_hint_naming_the_fix() {
    let server = mock(vec![5], FaultPlan::none()).await;
    let client =
        Client::builder().token(SECRET).base_url(server.base_url()).retry(policy(5)).build().unwrap();
    let error = client.backups(server.database_ids()[0]).latest().await.unwrap_err();

    assert!(error.is_unauthorized());
    assert_eq!(server.requests().len(), 1, "a 401 is not retried");
    let message = error.to_string();
    assert!(message.contains("401 Unauthorized"), "{message}");
    let hint = error.hint().expect("a 401 has a remedy");
    for needle in ["Token <token>", "Bearer <jwt>"] {
        assert!(hint.contains(needle), "{needle} missing from: {hint}");
    }
    // The library does not know how the token was given, so it names no environment variable.
    assert!(
        !message.contains("QOVERY_API_TOKEN") && !hint.contains("QOVERY_API_TOKEN"),
        "{message} / {hint}"
    );
    assert!(!message.contains(SECRET) && !hint.contains(SECRET));
}

#[tokio::test]
async fn an_unknown_database_is_named_and_told_apart_from_a_managed_one_by_one_lookup() {
    let server = mock(vec![5], FaultPlan::none()).await;
    let unknown = Uuid::new_v4();
    let error = client(&server, policy(3)).backups(unknown).latest().await.unwrap_err();
    assert!(error.is_not_found() && error.is_unknown_database(), "{error:?}");
    // Named once: the operation says which database; the server's detail, which names it
    // again, stays in its field.
    let message = error.to_string();
    assert_eq!(message.matches(&unknown.to_string()).count(), 1, "{message}");
    assert!(message.contains("no such database"), "{message}");
    let Error::UnknownDatabase { detail, .. } = &error else { panic!("{error:?}") };
    assert!(detail.as_deref().is_some_and(|d| d.contains(&unknown.to_string())), "{detail:?}");
    let paths: Vec<String> = server.requests().into_iter().map(|r| r.path).collect();
    assert_eq!(
        paths,
        [format!("/database/{unknown}/backup"), format!("/database/{unknown}")],
        "not retried, looked up once"
    );
}

#[tokio::test]
async fn api_errors_keep_status_detail_and_retry_after() {
    let server = mock(vec![5], FaultPlan::none().at(1, Fault::RetryAfterSeconds(9))).await;
    let error = client(&server, policy(1)).backups(server.database_ids()[0]).latest().await.unwrap_err();
    match &error {
        Error::Api { status, detail, body_excerpt, retry_after, .. } => {
            assert_eq!(status.as_u16(), 429);
            assert!(detail.as_deref().is_some_and(|d| !d.is_empty()), "{detail:?}");
            assert!(body_excerpt.contains("\"status\""), "{body_excerpt}");
            assert_eq!(*retry_after, Some(Duration::from_secs(9)));
        }
        other => panic!("expected an API error, got {other:?}"),
    }
    assert!(error.is_retryable());
    assert!(error.hint().is_some_and(|hint| hint.contains("try again in 9s")), "{:?}", error.hint());
    assert!(!error.to_string().contains("try again"), "the remedy is not part of the message: {error}");
}

async fn wiremock_answering(template: ResponseTemplate) -> WireMock {
    let server = WireMock::start().await;
    Mock::given(method("GET")).respond_with(template).mount(&server).await;
    server
}

#[tokio::test]
async fn older_error_bodies_and_html_are_read_leniently() {
    let old = wiremock_answering(
        ResponseTemplate::new(400).set_body_json(serde_json::json!({"message": "startId is unknown"})),
    )
    .await;
    let client = Client::builder().token("t").base_url(old.uri()).retry(policy(1)).build().unwrap();
    let error = client.backups(Uuid::new_v4()).latest().await.unwrap_err();
    assert!(
        matches!(&error, Error::Api { detail: Some(d), .. } if &**d == "startId is unknown"),
        "{error:?}"
    );

    let html = "<html><body>502 Bad Gateway</body></html>".repeat(100);
    let proxy = wiremock_answering(ResponseTemplate::new(502).set_body_string(html)).await;
    let client = Client::builder().token("t").base_url(proxy.uri()).retry(policy(1)).build().unwrap();
    let error = client.backups(Uuid::new_v4()).latest().await.unwrap_err();
    match &error {
        Error::Api { status, detail: None, body_excerpt, .. } => {
            assert_eq!(status.as_u16(), 502);
            assert!(body_excerpt.starts_with("<html>"));
            assert!(body_excerpt.len() <= qovery_backups::BODY_EXCERPT_LIMIT + '…'.len_utf8());
        }
        other => panic!("expected a 502 API error, got {other:?}"),
    }
    assert!(error.is_retryable());
}

#[tokio::test]
async fn decode_errors_name_the_field() {
    let page = serde_json::json!({"page": 1, "page_size": 20, "results": [
        {"id": Uuid::new_v4(), "created_at": "not a date", "name": "n", "message": "m"}
    ]});
    let server = wiremock_answering(ResponseTemplate::new(200).set_body_json(page)).await;
    let client = Client::builder().token("t").base_url(server.uri()).retry(policy(1)).build().unwrap();
    let error = client.backups(Uuid::new_v4()).list().items().try_next().await.unwrap_err();
    match &error {
        Error::Decode { path, body_excerpt, .. } => {
            assert_eq!(path, "results[0].created_at");
            assert!(body_excerpt.contains("not a date"));
        }
        other => panic!("expected a decode error, got {other:?}"),
    }
}

#[tokio::test]
async fn the_scheme_follows_the_token_shape_unless_forced() {
    let jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1c2VyIn0.c2lnbmF0dXJl";
    for (token, forced, expected) in [
        ("qov_plain_api_token", None, "Token"),
        (jwt, None, "Bearer"),
        ("qov_plain_api_token", Some(AuthScheme::Bearer), "Bearer"),
        (jwt, Some(AuthScheme::Token), "Token"),
    ] {
        let server = qovery_backups_mock::MockServer::start(qovery_backups_mock::MockConfig {
            token: token.to_owned(),
            ..Default::default()
        })
        .await
        .unwrap();
        let mut builder = Client::builder().token(token).base_url(server.base_url()).retry(policy(1));
        if let Some(scheme) = forced {
            builder = builder.auth_scheme(scheme);
        }
        builder.build().unwrap().backups(server.database_ids()[0]).latest().await.unwrap();
        assert_eq!(server.requests()[0].auth_scheme.as_deref(), Some(expected), "{token} {forced:?}");
    }
}

#[test]
fn plain_http_is_refused_unless_loopback_or_allowed() {
    let build = |url: &str, allow: bool| {
        Client::builder().token("t").base_url(url).allow_insecure_http(allow).build()
    };
    let refused = build("http://api.example.com", false).unwrap_err();
    assert!(matches!(refused, Error::Config { .. }));
    assert_eq!(
        refused.to_string(),
        "invalid client configuration: refusing to send the token in clear over http:// to api.example.com, \
         which is not this machine"
    );
    // The remedy, with the builder method that applies it, is the hint's alone.
    assert!(refused.hint().is_some_and(|hint| hint.contains("allow_insecure_http(true)")), "{refused:?}");
    assert!(build("http://api.example.com", true).is_ok());
    assert!(build("http://127.0.0.1:9", false).is_ok());
    assert!(build("http://[::1]:9", false).is_ok());
    assert!(build("http://localhost:9", false).is_ok());
    assert!(build("https://api.qovery.com", false).is_ok());
    assert!(build("not a url", false).is_err());
}

#[test]
fn a_missing_token_is_named_in_the_terms_the_caller_used() {
    let error = Client::builder().build().unwrap_err();
    assert!(!error.to_string().contains("ClientBuilder::"), "{error}");
    assert!(error.hint().is_some_and(|hint| hint.contains("ClientBuilder::token")), "{error}");
    if TOKEN_ENV_VARS.iter().all(|name| std::env::var_os(name).is_none()) {
        let error = Client::builder().from_env().build().unwrap_err();
        assert!(error.to_string().contains("QOVERY_API_TOKEN"), "{error}");
    }
    let blank = Client::builder().token("   ").build().unwrap_err();
    assert!(matches!(blank, Error::Config { .. }));
}

#[test]
fn debug_of_the_client_and_builder_never_shows_the_token() {
    let builder = Client::builder().token(SECRET);
    assert!(!format!("{builder:?}").contains(SECRET));
    let client = builder.base_url("http://127.0.0.1:9").build().unwrap();
    for text in [format!("{client:?}"), format!("{client:#?}"), format!("{:?}", client.api())] {
        assert!(!text.contains(SECRET), "{text}");
    }
    assert!(format!("{client:?}").contains("redacted"));
}

/// Collects everything a TRACE-level subscriber writes.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn no_error_and_no_trace_ever_contains_the_token() {
    // A server that echoes the token back in its error body, the worst case for an excerpt.
    let echo = WireMock::start().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(401)
                .set_body_json(serde_json::json!({"status": 401, "detail": format!("bad token {SECRET}")})),
        )
        .mount(&echo)
        .await;
    let faulty =
        mock(vec![30], FaultPlan::none().at(1, Fault::Status(503)).at(2, Fault::Reset).at(4, Fault::BadJson))
            .await;

    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let mut errors: Vec<Error> = Vec::new();
    let echo_client = Client::builder().token(SECRET).base_url(echo.uri()).retry(policy(2)).build().unwrap();
    errors.push(echo_client.backups(Uuid::new_v4()).latest().await.unwrap_err());

    // The mock expects its own token, so every call ends in a 401 once the scheduled faults
    // are through: request 1 is a 503 and 2 a reset (both retried), 3 the 401, 4 not JSON.
    let database_id = faulty.database_ids()[0];
    let build = |attempts| {
        Client::builder().token(SECRET).base_url(faulty.base_url()).retry(policy(attempts)).build().unwrap()
    };
    errors.push(build(3).backups(database_id).latest().await.unwrap_err());
    errors.push(build(1).backups(database_id).latest().await.unwrap_err());
    errors.push(build(1).backups(database_id).delete(Uuid::new_v4()).await.unwrap_err());
    errors.push(build(1).backups(database_id).create("n", "m").await.unwrap_err());
    errors.push(Client::builder().token(SECRET).base_url("http://example.com").build().unwrap_err());

    assert!(errors.iter().any(|e| e.is_unauthorized()));
    assert!(errors.iter().any(|e| e.is_decode()));
    for error in &errors {
        for text in [error.to_string(), format!("{error:?}"), format!("{error:#?}")] {
            assert!(!text.contains(SECRET), "token leaked: {text}");
        }
    }
    let trace = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(trace.contains("retrying"), "the subscriber saw the retries: {trace}");
    assert!(!trace.contains(SECRET), "token leaked into traces");
}

/// Qovery's spec declares `page_size` a plain `number`: a spec-driven server (Prism) sends
/// `-27521212.38`. The listing does without it: it ends on the first empty page.
#[tokio::test]
async fn a_page_size_that_is_no_count_is_ignored_and_the_empty_page_ends_the_listing() {
    use wiremock::matchers::{query_param, query_param_is_missing};
    let server = WireMock::start().await;
    let (first, second) = (Uuid::new_v4(), Uuid::new_v4());
    let backup = |id: Uuid| serde_json::json!({"id": id, "created_at": "2026-11-27T03:00:00Z", "name": "n", "message": "m"});
    let page = |results: Vec<serde_json::Value>| {
        ResponseTemplate::new(200)
            .set_body_json(serde_json::json!({"page": -3.5, "page_size": -27521212.38, "results": results}))
    };
    Mock::given(query_param_is_missing("startId"))
        .respond_with(page(vec![backup(first), backup(second)]))
        .mount(&server)
        .await;
    Mock::given(query_param("startId", second.to_string())).respond_with(page(vec![])).mount(&server).await;
    let client = Client::builder().token("t").base_url(server.uri()).retry(policy(1)).build().unwrap();

    let listed: Vec<Uuid> = client
        .backups(Uuid::new_v4())
        .list()
        .items()
        .map_ok(|b| b.id)
        .try_collect()
        .await
        .expect("no decode error");
    assert_eq!(listed, [first, second]);
    assert_eq!(server.received_requests().await.unwrap().len(), 2, "one request more, for the empty page");
}

/// A captive portal or a wrong base URL answers 200 with a page of HTML: the error says what
/// came and where to look, and asking again is pointless.
#[tokio::test]
async fn an_html_page_instead_of_json_names_its_content_type_and_is_not_retried() {
    let html = ResponseTemplate::new(200)
        .set_body_raw(format!("<html>log in, {SECRET}</html>"), "text/html; charset=utf-8");
    let server = wiremock_answering(html).await;
    let client = Client::builder().token(SECRET).base_url(server.uri()).retry(policy(5)).build().unwrap();
    let error = client.backups(Uuid::new_v4()).latest().await.unwrap_err();

    let Error::NotJson { content_type, body_excerpt, .. } = &error else { panic!("{error:?}") };
    assert_eq!(content_type, "text/html; charset=utf-8");
    assert!(
        error.to_string().contains("the answer is `text/html; charset=utf-8`, not the API's JSON"),
        "{error}"
    );
    assert!(body_excerpt.starts_with("<html>") && !body_excerpt.contains(SECRET), "{body_excerpt}");
    let hint = error.hint().expect("a remedy");
    assert!(hint.contains("base URL") && !hint.contains("again"), "{hint}");
    assert!(!error.is_retryable());
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}
