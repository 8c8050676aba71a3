//! Servers that are broken or hostile rather than down: endless or huge bodies, echoed
//! secrets, terminal escapes, lying cursors, redirects, oversized headers. Each answer comes
//! from the mock's hostile fault kinds over real HTTP on 127.0.0.1; every stream it sends is
//! capped, and the client is expected to stop reading long before the cap.

mod common;

use std::collections::HashSet;
use std::time::Duration;

use common::{policy, server_ids};
use futures::{StreamExt as _, TryStreamExt as _};
use qovery_backups::{Client, Error, Operation, TransportKind};
use qovery_backups_mock::{Fault, FaultPlan, MockConfig, MockServer, testing};
use uuid::Uuid;

/// A token as long as Qovery's organization API tokens, so the redaction applies.
const SECRET: &str = "qov_0123456789abcdefghijklmnopqrstuvwxyzABCDEF";

async fn mock(backups: usize, faults: FaultPlan) -> MockServer {
    testing::start(MockConfig { token: SECRET.to_owned(), ..testing::config(vec![backups], faults) }).await
}

fn client(server: &MockServer, max_attempts: u32) -> Client {
    Client::builder()
        .token(SECRET)
        .base_url(server.base_url())
        .retry(policy(max_attempts))
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

async fn list_all(client: &Client, database_id: Uuid) -> (Vec<Uuid>, Option<Error>) {
    let mut items = client.backups(database_id).list().items();
    let mut delivered = Vec::new();
    while let Some(item) = items.next().await {
        match item {
            Ok(backup) => delivered.push(backup.id),
            Err(error) => return (delivered, Some(error)),
        }
    }
    (delivered, None)
}

/// No part of the token of 4 characters or more, anywhere in what a user could print.
fn assert_no_token_piece(text: &str) {
    for window in SECRET.as_bytes().windows(6) {
        let piece = std::str::from_utf8(window).unwrap();
        assert!(!text.contains(piece), "a piece of the token ({piece}) leaked into: {text}");
    }
}

#[tokio::test]
async fn an_endless_body_fails_at_the_size_limit_and_is_not_retried() {
    let server = mock(30, FaultPlan::none().at(1, Fault::Endless)).await;
    let client = Client::builder()
        .token(SECRET)
        .base_url(server.base_url())
        .retry(policy(3))
        .max_response_bytes(256 * 1024)
        .build()
        .unwrap();
    let error = client.backups(server.database_ids()[0]).latest().await.unwrap_err();

    assert!(matches!(error, Error::TooLarge { limit: 262_144, .. }), "{error:?}");
    assert!(!error.is_retryable());
    assert_eq!(server.requests().len(), 1, "a server that sent it once would again");
    assert!(error.to_string().contains("larger than 262144 bytes"), "{error}");
    assert!(error.hint().unwrap().contains("misbehaving"));
    drop(client);
    // The client hung up: the mock's endless stream ends (every loop is bounded).
    for _ in 0..200 {
        if server.open_streams() == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(server.open_streams(), 0, "the endless stream stopped when the client went away");
}

#[tokio::test]
async fn a_huge_page_is_refused_by_the_default_limit() {
    let server = mock(30, FaultPlan::none().at(1, Fault::Huge)).await;
    let (delivered, error) = list_all(&client(&server, 3), server.database_ids()[0]).await;
    assert!(delivered.is_empty());
    let error = error.expect("the page is over 8 MiB");
    assert!(
        matches!(error, Error::TooLarge { limit, .. } if limit == qovery_backups::DEFAULT_MAX_RESPONSE_BYTES),
        "{error:?}"
    );
    assert_eq!(error.resume_after(), None, "resuming would fetch the same page");
}

#[tokio::test]
async fn an_error_body_echoing_the_headers_leaks_no_piece_of_the_token() {
    let server = mock(30, FaultPlan::none().at(1, Fault::Echo)).await;
    let error = client(&server, 1).backups(server.database_ids()[0]).latest().await.unwrap_err();
    let Error::Api { detail, body_excerpt, .. } = &error else { panic!("{error:?}") };
    assert!(
        body_excerpt.contains("[redacted]") || detail.as_deref().is_some_and(|d| d.contains("[redacted]")),
        "{error:?}"
    );
    assert_no_token_piece(&error.to_string());
    assert_no_token_piece(&format!("{error:?}"));
    assert_no_token_piece(&error.hint().unwrap_or_default());
}

#[tokio::test]
async fn escape_sequences_from_the_server_never_reach_an_error_message_raw() {
    let server = mock(30, FaultPlan::none().at(1, Fault::Escape).at(2, Fault::Status(400))).await;
    let client = client(&server, 1);
    let database_id = server.database_ids()[0];
    // Names are data: kept exactly as the server sent them.
    let first = client.backups(database_id).latest().await.unwrap().unwrap();
    assert!(first.name.contains('\u{1b}'), "{:?}", first.name);

    let error = client.backups(database_id).latest().await.unwrap_err();
    let text = error.to_string();
    assert!(!text.chars().any(char::is_control), "one printable line: {text:?}");
}

#[tokio::test]
async fn whole_number_floats_for_page_and_page_size_are_read_as_counts() {
    let server = mock(45, FaultPlan::none().at(1, Fault::FloatPage).at(2, Fault::FloatPage)).await;
    let database_id = server.database_ids()[0];
    let (delivered, error) = list_all(&client(&server, 1), database_id).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(delivered, server_ids(&server, database_id));
}

#[tokio::test]
async fn a_redirect_is_reported_with_where_it_pointed_and_not_followed() {
    let server = mock(30, FaultPlan::none().at(1, Fault::Redirect)).await;
    let error = client(&server, 3).backups(server.database_ids()[0]).latest().await.unwrap_err();
    let Error::Api { status, location, .. } = &error else { panic!("{error:?}") };
    assert!(status.is_redirection());
    let location = location.as_deref().expect("the Location header is kept");
    assert!(error.to_string().contains(&format!("pointing to {location}, which is not followed")), "{error}");
    assert_eq!(server.requests().len(), 1, "neither followed nor retried");
}

#[tokio::test]
async fn oversized_headers_are_their_own_error_not_a_lost_connection() {
    let server = mock(30, FaultPlan::none().at(1, Fault::BigHeader)).await;
    let error = client(&server, 3).backups(server.database_ids()[0]).latest().await.unwrap_err();
    assert!(matches!(error, Error::Transport { kind: TransportKind::HeadersTooLarge, .. }), "{error:?}");
    assert!(error.to_string().contains("headers were too large"), "{error}");
    assert_eq!(server.requests().len(), 1, "not retried: the server would send them again");
}

#[tokio::test]
async fn a_backup_repeated_from_two_pages_back_is_never_delivered_twice() {
    let server = mock(100, FaultPlan::none().at(3, Fault::RepeatOld)).await;
    let (delivered, error) = list_all(&client(&server, 1), server.database_ids()[0]).await;
    let unique: HashSet<&Uuid> = delivered.iter().collect();
    assert_eq!(unique.len(), delivered.len(), "nothing delivered twice");
    assert!(matches!(error, Some(Error::PaginationLoop { .. })), "{error:?}");
}

#[tokio::test]
async fn a_deleted_cursor_heals_from_an_earlier_backup_without_gap_or_repeat() {
    let server = mock(70, FaultPlan::none()).await;
    let database_id = server.database_ids()[0];
    let expected = server_ids(&server, database_id);
    let client = client(&server, 1);
    let mut pages = client.backups(database_id).list().pages();

    let first = pages.try_next().await.unwrap().unwrap();
    assert_eq!(first.backups.len(), 20);
    // The cursor and the backup before it vanish between two pages.
    assert!(server.remove_backup(database_id, expected[19]));
    assert!(server.remove_backup(database_id, expected[18]));

    let mut delivered: Vec<Uuid> = first.backups.iter().map(|b| b.id).collect();
    while let Some(page) = pages.try_next().await.unwrap() {
        delivered.extend(page.backups.iter().map(|b| b.id));
    }
    assert_eq!(delivered, expected, "every backup once, in order, none lost");
    let refused = server.requests().iter().filter(|r| r.status == Some(400)).count();
    assert_eq!(refused, 2, "the cursor, then the backup before it, were refused; the third anchor answered");
}

#[tokio::test]
async fn when_no_anchor_is_left_the_listing_fails_without_offering_a_resume_point_that_cannot_work() {
    let server = mock(70, FaultPlan::none()).await;
    let database_id = server.database_ids()[0];
    let client = client(&server, 1);
    let mut pages = client.backups(database_id).list().pages();
    let first = pages.try_next().await.unwrap().unwrap();
    for backup in &first.backups {
        server.remove_backup(database_id, backup.id);
    }
    let error = pages.try_next().await.unwrap_err();
    assert_eq!(error.status().map(|s| s.as_u16()), Some(400));
    assert_eq!(error.resume_after(), None, "{error}");
    assert!(pages.next().await.is_none());
}

#[tokio::test(start_paused = true)]
async fn an_error_while_create_looks_for_an_earlier_attempt_says_it_was_creating() {
    // The create's first look at the newest page fails beyond its retries.
    let server = mock(5, FaultPlan::none().at(1, Fault::Status(503)).at(2, Fault::Status(503))).await;
    let database_id = server.database_ids()[0];
    let error = client(&server, 2).backups(database_id).create("n", "m").await.unwrap_err();
    assert!(matches!(error.operation(), Some(Operation::Create { .. })), "{error:?}");
    assert!(error.to_string().starts_with("creating a backup of database"), "{error}");
}
