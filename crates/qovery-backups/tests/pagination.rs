//! Listing: every backup exactly once and in order, bounded, resumable, and never looping.

mod common;

use std::time::Duration;

use common::{client, mock, policy, server_ids};
use futures::{StreamExt as _, TryStreamExt as _};
use qovery_backups::Error;
use qovery_backups_mock::{Fault, FaultPlan};
use uuid::Uuid;
use wiremock::matchers::{method, path_regex};
use wiremock::{Mock, MockServer as WireMock, ResponseTemplate};

const BOUNDARIES: [usize; 6] = [0, 1, 19, 20, 21, 40];

#[tokio::test]
async fn items_lists_every_backup_once_in_order_at_page_boundaries() {
    let server = mock(BOUNDARIES.to_vec(), FaultPlan::none()).await;
    let client = client(&server, policy(1));
    for (database_id, expected_count) in server.database_ids().into_iter().zip(BOUNDARIES) {
        server.clear_requests();
        let listed: Vec<Uuid> =
            client.backups(database_id).list().items().map_ok(|b| b.id).try_collect().await.unwrap();
        assert_eq!(listed.len(), expected_count);
        assert_eq!(listed, server_ids(&server, database_id), "{expected_count} backups");
        // Full pages need one more request to learn the end (an empty page); short pages don't.
        let expected_requests = expected_count / 20 + 1;
        assert_eq!(server.requests().len(), expected_requests, "{expected_count} backups");
    }
}

#[tokio::test]
async fn pages_follow_the_cursor_and_stop_on_a_short_page() {
    let server = mock(vec![45], FaultPlan::none()).await;
    let database_id = server.database_ids()[0];
    let pages: Vec<_> =
        client(&server, policy(1)).backups(database_id).list().pages().try_collect().await.unwrap();

    assert_eq!(pages.iter().map(|p| p.backups.len()).collect::<Vec<_>>(), [20, 20, 5]);
    assert_eq!(pages.iter().map(|p| p.number).collect::<Vec<_>>(), [1, 2, 3]);
    let requests = server.requests();
    assert_eq!(requests.len(), 3, "a short page ends the listing without another request");
    assert_eq!(requests[0].query, None, "the first page is asked without startId");
    let expected_cursor = format!("startId={}", pages[0].backups[19].id);
    assert_eq!(requests[1].query.as_deref(), Some(expected_cursor.as_str()));
}

#[tokio::test]
async fn streams_are_lazy_one_request_per_page_taken() {
    let server = mock(vec![100], FaultPlan::none()).await;
    let database_id = server.database_ids()[0];
    let mut items = client(&server, policy(1)).backups(database_id).list().items();
    assert_eq!(server.requests().len(), 0, "nothing is requested before the stream is polled");
    for _ in 0..20 {
        items.try_next().await.unwrap().unwrap();
    }
    assert_eq!(server.requests().len(), 1);
    items.try_next().await.unwrap().unwrap();
    assert_eq!(server.requests().len(), 2, "the second page is asked only when needed");
}

#[tokio::test]
async fn max_items_and_max_pages_bound_the_listing() {
    let server = mock(vec![100], FaultPlan::none()).await;
    let database_id = server.database_ids()[0];
    let client = client(&server, policy(1));
    let expected = server_ids(&server, database_id);

    let first_25: Vec<Uuid> = client
        .backups(database_id)
        .list()
        .max_items(25)
        .items()
        .map_ok(|b| b.id)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(first_25, expected[..25]);
    assert_eq!(server.requests().len(), 2);

    server.clear_requests();
    let two_pages: Vec<_> =
        client.backups(database_id).list().max_pages(2).pages().try_collect().await.unwrap();
    assert_eq!(two_pages.len(), 2);
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn start_after_continues_with_the_next_older_backup() {
    let server = mock(vec![50], FaultPlan::none()).await;
    let database_id = server.database_ids()[0];
    let expected = server_ids(&server, database_id);
    let rest: Vec<Uuid> = client(&server, policy(1))
        .backups(database_id)
        .list()
        .start_after(expected[29])
        .items()
        .map_ok(|b| b.id)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(rest, expected[30..]);
}

#[tokio::test]
async fn resume_after_a_failure_loses_and_repeats_nothing() {
    // Request 3 (the third page) fails and is not retried: the stream yields what it had,
    // then an error naming where to resume.
    let server = mock(vec![70], FaultPlan::none().at(3, Fault::Status(503))).await;
    let database_id = server.database_ids()[0];
    let client = client(&server, policy(1));

    let mut delivered = Vec::new();
    let mut items = client.backups(database_id).list().items();
    let error = loop {
        match items.next().await {
            Some(Ok(backup)) => delivered.push(backup.id),
            Some(Err(error)) => break error,
            None => panic!("the listing should have failed"),
        }
    };
    assert!(items.next().await.is_none(), "the stream ends after its error");
    assert_eq!(delivered.len(), 40);
    assert_eq!(error.status().map(|s| s.as_u16()), Some(503));
    assert_eq!(error.resume_after(), Some(delivered.last().copied()));
    assert!(matches!(error, Error::Api { .. }), "a listing's error is matchable like any other: {error:?}");

    let resume = error.resume_after().flatten().unwrap();
    let rest: Vec<Uuid> = client
        .backups(database_id)
        .list()
        .start_after(resume)
        .items()
        .map_ok(|b| b.id)
        .try_collect()
        .await
        .unwrap();
    delivered.extend(rest);
    assert_eq!(delivered, server_ids(&server, database_id));
}

#[tokio::test]
async fn a_failure_before_anything_is_delivered_resumes_from_the_start() {
    let server = mock(vec![5], FaultPlan::none().at(1, Fault::Status(500))).await;
    let database_id = server.database_ids()[0];
    let error = client(&server, policy(1)).backups(database_id).list().items().try_next().await.unwrap_err();
    assert_eq!(error.resume_after(), Some(None));
}

/// A server that answers every page with the same page: following its cursor would never end.
async fn server_repeating_one_page(page: serde_json::Value) -> WireMock {
    let server = WireMock::start().await;
    Mock::given(method("GET"))
        .and(path_regex("^/database/[^/]+/backup$"))
        .respond_with(ResponseTemplate::new(200).set_body_json(page))
        .mount(&server)
        .await;
    server
}

fn page_of(ids: &[Uuid]) -> serde_json::Value {
    let results: Vec<_> = ids
        .iter()
        .map(|id| serde_json::json!({"id": id, "created_at": "2026-11-01T00:00:00Z", "name": "n", "message": "m"}))
        .collect();
    serde_json::json!({"page": 1, "page_size": ids.len(), "results": results})
}

fn wiremock_client(server: &WireMock) -> qovery_backups::Client {
    qovery_backups::Client::builder().token("t").base_url(server.uri()).retry(policy(1)).build().unwrap()
}

#[tokio::test]
async fn a_cursor_loop_ends_in_pagination_loop_not_a_hang() {
    let ids: Vec<Uuid> = (0..3).map(|_| Uuid::new_v4()).collect();
    let server = server_repeating_one_page(page_of(&ids)).await;
    let database_id = Uuid::new_v4();
    let results: Vec<_> = wiremock_client(&server).backups(database_id).list().pages().collect().await;

    assert_eq!(results.len(), 2, "the first page, then the loop error, then the end");
    assert_eq!(results[0].as_ref().unwrap().backups.len(), 3);
    match &results[1] {
        Err(Error::PaginationLoop { repeated_id, operation, pages, .. }) => {
            assert!(ids.contains(repeated_id));
            assert_eq!(operation.database_id(), Some(database_id));
            assert_eq!(*pages, 2);
        }
        other => panic!("expected PaginationLoop, got {other:?}"),
    }
}

#[tokio::test]
async fn a_repeat_within_one_page_is_a_loop_too() {
    let id = Uuid::new_v4();
    let server = server_repeating_one_page(page_of(&[id, Uuid::new_v4(), id])).await;
    let error = wiremock_client(&server).backups(Uuid::new_v4()).list().items().try_next().await.unwrap_err();
    assert!(matches!(error, Error::PaginationLoop { repeated_id, .. } if repeated_id == id), "{error:?}");
    assert!(error.to_string().contains("again"), "{error}");
}

#[tokio::test]
async fn list_many_tags_each_backup_with_its_database_and_lists_database_after_database() {
    let server = mock(vec![3, 25, 0, 41], FaultPlan::none()).await;
    let ids = server.database_ids();
    let listed: Vec<(Uuid, Uuid)> = client(&server, policy(1))
        .list_many(&ids)
        .concurrency(2)
        .items()
        .map_ok(|item| (item.database_id, item.backup.id))
        .try_collect()
        .await
        .unwrap();

    let expected: Vec<(Uuid, Uuid)> = ids
        .iter()
        .flat_map(|db| server_ids(&server, *db).into_iter().map(move |backup| (*db, backup)))
        .collect();
    assert_eq!(listed, expected, "each database's backups newest first, databases in the order given");
}

/// The first database's first page answers last: the others are listed meanwhile, and still
/// come after it.
#[tokio::test(start_paused = true)]
async fn list_many_keeps_the_order_given_whatever_order_the_answers_come_in() {
    let server = mock(vec![45, 30, 5], FaultPlan::none().at(1, Fault::Slow(Duration::from_secs(3)))).await;
    let ids = server.database_ids();
    let listed: Vec<Uuid> = client(&server, policy(1))
        .list_many(&ids)
        .concurrency(3)
        .items()
        .map_ok(|item| item.database_id)
        .try_collect()
        .await
        .unwrap();

    let expected: Vec<Uuid> =
        ids.iter().flat_map(|db| std::iter::repeat_n(*db, server_ids(&server, *db).len())).collect();
    assert_eq!(listed, expected);
    // The others were listed while the first waited: the last database's listing began
    // before the first database's second page was asked for.
    let requests = server.requests();
    let of = |db: Uuid| -> Vec<usize> {
        requests
            .iter()
            .enumerate()
            .filter(|(_, r)| r.path.contains(&db.to_string()))
            .map(|(i, _)| i)
            .collect()
    };
    assert!(of(ids[2])[0] < of(ids[0])[1], "{:?} / {:?}", of(ids[2]), of(ids[0]));
}

#[tokio::test]
async fn list_many_stops_each_database_at_its_limit_without_asking_further() {
    let server = mock(vec![45, 3, 45], FaultPlan::none()).await;
    let ids = server.database_ids();
    let listed: Vec<(Uuid, Uuid)> = client(&server, policy(1))
        .list_many(&ids)
        .max_items_each(25)
        .items()
        .map_ok(|item| (item.database_id, item.backup.id))
        .try_collect()
        .await
        .unwrap();

    for database_id in &ids {
        let of_this_database: Vec<Uuid> =
            listed.iter().filter(|(db, _)| db == database_id).map(|(_, backup)| *backup).collect();
        let newest: Vec<Uuid> = server_ids(&server, *database_id).into_iter().take(25).collect();
        assert_eq!(of_this_database, newest, "the newest 25 (or all there are), in order");
    }
    // Two pages of 20 for each long database, one for the short one: never a third page.
    assert_eq!(server.requests().len(), 2 + 1 + 2);
}

#[tokio::test]
async fn latest_is_the_newest_backup_or_none() {
    let server = mock(vec![30, 0], FaultPlan::none()).await;
    let ids = server.database_ids();
    let client = client(&server, policy(1));
    let newest = client.backups(ids[0]).latest().await.unwrap().unwrap();
    assert_eq!(newest.id, server_ids(&server, ids[0])[0]);
    assert!(client.backups(ids[1]).latest().await.unwrap().is_none());
}
