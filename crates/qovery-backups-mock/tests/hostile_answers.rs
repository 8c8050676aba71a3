//! The hostile fault kinds (answers a careful client must survive), as a reqwest client sees them.

mod common;

use std::time::Duration;

use common::{authed, client, create, expect_error, list, list_url, start};
use qovery_backups_api::types::{Backup, BackupPaginatedResponseList, ServiceActionStatusEnum};
use qovery_backups_mock::{
    BIG_HEADER_BYTES, Fault, FaultPlan, HOSTILE_TEXT, HUGE_PADDING, MockConfig, MockServer,
};
use serde_json::{Value, json};
use uuid::Uuid;

async fn first_request_gets(fault: Fault) -> MockServer {
    start(MockConfig { faults: FaultPlan::new().at(1, fault), ..MockConfig::default() }).await
}

#[tokio::test]
async fn endless_streams_a_page_that_never_ends_and_stops_when_the_client_leaves() {
    let server = first_request_gets(Fault::Endless).await;
    let database = server.database_ids()[0];
    let mut response = list(&server, database, None).await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/json");
    assert!(response.headers().get("content-length").is_none(), "chunked: no end announced");

    // Far more than any page: 8 MiB, and still going.
    let mut received = Vec::new();
    while received.len() < 8 << 20 {
        let chunk = response.chunk().await.unwrap().expect("the body goes on");
        received.extend_from_slice(&chunk);
    }
    assert!(received.starts_with(br#"{"page":1,"page_size":20,"results":[{"#));
    let parsed = serde_json::from_slice::<Value>(&received).unwrap_err();
    assert!(parsed.is_eof(), "well-formed so far, and unfinished: {parsed}");
    assert_eq!(server.open_streams(), 1);

    drop(response);
    // The server notices at its next write; bounded, and generous for a loaded machine.
    for _ in 0..2000 {
        if server.open_streams() == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(server.open_streams(), 0, "the stream stopped once its client went away");
    assert_eq!(list(&server, database, None).await.unwrap().status(), 200, "still serving");
}

#[tokio::test]
async fn huge_pads_a_valid_page_to_tens_of_megabytes() {
    let server = first_request_gets(Fault::Huge).await;
    let database = server.database_ids()[0];
    let response = list(&server, database, None).await.unwrap();
    assert_eq!(response.status(), 200);
    let bytes = response.bytes().await.unwrap();
    assert!(bytes.len() > HUGE_PADDING, "{} bytes", bytes.len());
    let page: BackupPaginatedResponseList = serde_json::from_slice(&bytes).expect("still a valid page");
    let expected = server.backups(database);
    assert_eq!(page.results.len(), 20);
    assert_eq!(page.results[0].id, expected[0].id);
    assert_eq!(page.results[0].message.len(), expected[0].message.len() + HUGE_PADDING);
    assert_eq!(page.results[1..], expected[1..20]);
}

#[tokio::test]
async fn echo_answers_an_error_that_repeats_every_request_header_with_the_token() {
    let server = first_request_gets(Fault::Echo).await;
    let database = server.database_ids()[0];
    let response = authed(&server, client().get(list_url(&server, database)))
        .header("x-request-id", "abc-123")
        .send()
        .await
        .unwrap();
    let detail = expect_error(response, 400).await;
    assert!(detail.contains(&format!("authorization: Token {}", server.token())), "{detail}");
    assert!(detail.contains("x-request-id: abc-123"), "{detail}");
    assert!(detail.contains(&format!("GET /database/{database}/backup")), "{detail}");
}

#[tokio::test]
async fn escape_puts_terminal_escapes_in_names_messages_and_error_details() {
    let server = start(MockConfig {
        faults: FaultPlan::new().at(1, Fault::Escape).at(2, Fault::Escape),
        ..MockConfig::default()
    })
    .await;
    let database = server.database_ids()[0];
    let page: BackupPaginatedResponseList =
        list(&server, database, None).await.unwrap().json().await.unwrap();
    for backup in &page.results {
        assert!(backup.name.ends_with(HOSTILE_TEXT) && backup.message.ends_with(HOSTILE_TEXT), "{backup:?}");
    }
    assert!(
        HOSTILE_TEXT.contains("\u{1b}[8m")
            && HOSTILE_TEXT.contains("\u{1b}]0;")
            && HOSTILE_TEXT.contains('\u{7}')
    );
    assert!(HOSTILE_TEXT.contains('\r') && HOSTILE_TEXT.contains('\n'));

    let detail = expect_error(list(&server, Uuid::from_u128(1), None).await.unwrap(), 404).await;
    assert!(detail.ends_with(HOSTILE_TEXT), "{detail:?}");
}

#[tokio::test]
async fn future_makes_the_newest_backup_a_success_from_the_year_9999() {
    let server = first_request_gets(Fault::Future).await;
    let database = server.database_ids()[0];
    let page: BackupPaginatedResponseList =
        list(&server, database, None).await.unwrap().json().await.unwrap();
    let newest = &page.results[0];
    assert_eq!(newest.created_at.to_rfc3339(), "9999-12-31T23:59:59+00:00");
    assert_eq!(newest.status.as_ref().unwrap().status_details.status, ServiceActionStatusEnum::Success);
    assert_eq!(page.results[1..], server.backups(database)[1..20]);
}

#[tokio::test]
async fn float_page_writes_page_numbers_as_floats() {
    let server = first_request_gets(Fault::FloatPage).await;
    let text = list(&server, server.database_ids()[0], None).await.unwrap().text().await.unwrap();
    assert!(text.starts_with(r#"{"page":1.0,"page_size":20.0,"results":[{"#), "{}", &text[..60]);
    // The spec declares both fields `number`: a client decoding them as integers would refuse
    // this; the generated model takes it.
    let page: BackupPaginatedResponseList = serde_json::from_str(&text).unwrap();
    assert_eq!((page.page, page.page_size), (1.0, 20.0));
}

#[tokio::test]
async fn redirect_sends_a_302_to_another_host_which_a_following_client_reaches_without_the_token() {
    let server = first_request_gets(Fault::Redirect).await;
    let database = server.database_ids()[0];
    let no_redirects =
        reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let response = authed(&server, no_redirects.get(list_url(&server, database))).send().await.unwrap();
    assert_eq!(response.status(), 302);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let port = server.addr().port();
    assert_eq!(location, format!("http://localhost:{port}/redirected/database/{database}/backup"));

    // reqwest's default client follows it, and drops the token for the other host.
    server.set_faults(FaultPlan::new().at(1, Fault::Redirect));
    let response = list(&server, database, None).await.unwrap();
    expect_error(response, 401).await;
    let followed = server.requests().into_iter().last().unwrap();
    assert_eq!(followed.path, format!("/redirected/database/{database}/backup"));
    assert_eq!(followed.auth_scheme, None, "the token did not follow the redirect");
}

#[tokio::test]
async fn big_header_is_refused_by_reqwest_but_the_operation_happened() {
    let server = first_request_gets(Fault::BigHeader).await;
    let database = server.database_ids()[0];
    let error = create(&server, database, &json!({"name": "n", "message": "m"})).await.unwrap_err();
    assert!(!error.is_status() && error.status().is_none(), "{error:?}");
    assert_eq!(server.backups(database).len(), 46, "created all the same");
    assert_eq!(server.requests()[0].status, Some(201));
    const { assert!(BIG_HEADER_BYTES > 64 << 10) };
}

#[tokio::test]
async fn repeat_old_repeats_a_backup_of_two_pages_before_without_repeating_a_cursor() {
    let server = start(MockConfig {
        databases: 1,
        backups_per_database: vec![100],
        faults: FaultPlan::new().at(3, Fault::RepeatOld).at(4, Fault::RepeatOld),
        ..MockConfig::default()
    })
    .await;
    let database = server.database_ids()[0];
    let mut pages: Vec<Vec<Backup>> = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..4 {
        let page: BackupPaginatedResponseList =
            list(&server, database, cursor.as_deref()).await.unwrap().json().await.unwrap();
        cursor = page.results.last().map(|b| b.id.to_string());
        pages.push(page.results);
    }
    let held = server.backups(database);
    assert_eq!(pages[0], held[0..20]);
    assert_eq!(pages[1], held[20..40]);
    for (n, page) in pages.iter().enumerate().skip(2) {
        let old = &pages[n - 2][0];
        assert_eq!(page.len(), 21, "page {}", n + 1);
        assert_eq!(
            page.iter().filter(|b| b.id == old.id).count(),
            1,
            "page {} repeats page {}'s first",
            n + 1,
            n - 1
        );
        assert!(
            pages[n - 1].iter().all(|b| page.iter().all(|p| p.id != b.id)),
            "nothing of the previous page"
        );
        let fresh: Vec<&Backup> = page.iter().filter(|b| b.id != old.id).collect();
        assert_eq!(
            fresh,
            held[n * 20..(n + 1) * 20].iter().collect::<Vec<_>>(),
            "and the right page otherwise"
        );
        assert_ne!(page.last().unwrap().id, old.id, "the cursor is fresh");
    }
}

#[tokio::test]
async fn the_hostile_kinds_pass_through_the_plan_spec_and_the_request_log() {
    let plan: FaultPlan = "1=echo,2=float-page".parse().unwrap();
    let server = start(MockConfig { faults: plan, ..MockConfig::default() }).await;
    let database = server.database_ids()[0];
    let _ = list(&server, database, None).await.unwrap().bytes().await;
    let body: Value = list(&server, database, None).await.unwrap().json().await.unwrap();
    assert_eq!(body["page"], json!(1.0));
    let faults: Vec<_> = server.requests().into_iter().map(|r| r.fault).collect();
    assert_eq!(faults, [Some(Fault::Echo), Some(Fault::FloatPage)]);
}
