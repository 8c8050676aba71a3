//! Retries: what is retried, how long the client waits, and why a retry never duplicates a create.
//! Every test runs on tokio's paused clock: waits take no real time and are measured exactly.

mod common;

use std::time::Duration;

use common::{client, client_with_timeout, mock, policy, server_ids};
use futures::TryStreamExt as _;
use qovery_backups::{Error, RetryBudget, RetryPolicy, TransportKind};
use qovery_backups_mock::{Fault, FaultPlan, MockServer};

/// The gaps between consecutive requests the server received.
fn gaps(server: &MockServer) -> Vec<Duration> {
    let requests = server.requests();
    requests.windows(2).map(|pair| pair[1].at - pair[0].at).collect()
}

async fn list_all(client: &qovery_backups::Client, server: &MockServer) -> Result<usize, Error> {
    let database_id = server.database_ids()[0];
    let items: Vec<_> = client.backups(database_id).list().items().try_collect().await?;
    Ok(items.len())
}

#[tokio::test(start_paused = true)]
async fn transient_statuses_are_retried_until_success() {
    for status in [408, 429, 500, 502, 503, 504] {
        let fault = if status == 429 { Fault::RetryAfterSeconds(1) } else { Fault::Status(status) };
        let server = mock(vec![5], FaultPlan::none().at(1, fault.clone()).at(2, fault)).await;
        let listed = list_all(&client(&server, policy(3)), &server).await.unwrap();
        assert_eq!(listed, 5, "status {status}");
        assert_eq!(server.requests().len(), 3, "status {status}: two failures, then success");
    }
}

#[tokio::test(start_paused = true)]
async fn client_errors_and_501_are_never_retried() {
    for status in [400, 401, 403, 404, 409, 501] {
        let server = mock(vec![5], FaultPlan::none().at(1, Fault::Status(status))).await;
        let error = list_all(&client(&server, policy(5)), &server).await.unwrap_err();
        assert_eq!(error.status().map(|s| s.as_u16()), Some(status));
        assert!(!error.is_retryable(), "status {status}");
        // A 404 is explained by one look at the database itself (here: a database of Qovery's,
        // so the 404 stands), never by sending the listing again.
        let listings = server.requests().iter().filter(|r| r.path.ends_with("/backup")).count();
        assert_eq!(listings, 1, "status {status} is not retried");
    }
}

#[tokio::test(start_paused = true)]
async fn attempts_stop_at_max_attempts() {
    let always_503 =
        FaultPlan::none().with_probability(1.0).with_kinds([Fault::Status(503)]).with_max_consecutive(100);
    let server = mock(vec![5], always_503).await;
    let error = list_all(&client(&server, policy(4)), &server).await.unwrap_err();
    assert_eq!(server.requests().len(), 4);
    assert_eq!(error.attempts(), 4);
    assert!(error.to_string().contains("after 4 attempts"), "{error}");
}

#[tokio::test(start_paused = true)]
async fn backoff_waits_grow_within_full_jitter_bounds() {
    let always_503 =
        FaultPlan::none().with_probability(1.0).with_kinds([Fault::Status(503)]).with_max_consecutive(100);
    let server = mock(vec![5], always_503).await;
    let policy = RetryPolicy::default()
        .with_max_attempts(6)
        .with_initial_backoff(Duration::from_secs(1))
        .with_max_backoff(Duration::from_secs(4))
        .with_jitter_seed(7);
    list_all(&client(&server, policy), &server).await.unwrap_err();

    let waits = gaps(&server);
    assert_eq!(waits.len(), 5);
    // Retry n waits at most min(4 s, 1 s × 2ⁿ⁻¹); a little slack for the request itself.
    for (n, (wait, cap)) in waits.iter().zip([1, 2, 4, 4, 4]).enumerate() {
        assert!(*wait <= Duration::from_secs(cap) + Duration::from_millis(50), "retry {}: {wait:?}", n + 1);
    }
    assert!(waits.iter().any(|w| *w > Duration::from_millis(100)), "jitter is not all zero: {waits:?}");
}

#[tokio::test(start_paused = true)]
async fn retry_after_seconds_sets_the_wait() {
    let server = mock(vec![5], FaultPlan::none().at(1, Fault::RetryAfterSeconds(7))).await;
    list_all(&client(&server, policy(3)), &server).await.unwrap();
    let waits = gaps(&server);
    assert!(
        waits[0] >= Duration::from_secs(7) && waits[0] < Duration::from_secs(7) + Duration::from_millis(50),
        "{waits:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn retry_after_as_an_http_date_sets_the_wait() {
    let server = mock(vec![5], FaultPlan::none().at(1, Fault::RetryAfterDate(5))).await;
    list_all(&client(&server, policy(3)), &server).await.unwrap();
    // An HTTP-date has one-second resolution and is read against the wall clock.
    let waits = gaps(&server);
    assert!(waits[0] >= Duration::from_secs(4) && waits[0] <= Duration::from_secs(6), "{waits:?}");
}

#[tokio::test(start_paused = true)]
async fn retry_after_is_clamped_to_the_maximum() {
    let server = mock(vec![5], FaultPlan::none().at(1, Fault::RetryAfterSeconds(3600))).await;
    let policy = policy(3).with_max_retry_after(Duration::from_secs(10));
    list_all(&client(&server, policy), &server).await.unwrap();
    let waits = gaps(&server);
    assert!(waits[0] >= Duration::from_secs(10) && waits[0] < Duration::from_secs(11), "{waits:?}");
}

#[tokio::test(start_paused = true)]
async fn a_wait_past_the_deadline_fails_at_once_with_retry_after() {
    let server = mock(vec![5], FaultPlan::none().at(1, Fault::RetryAfterSeconds(30))).await;
    let policy = policy(5).with_deadline(Duration::from_secs(10));
    let started = tokio::time::Instant::now();
    let error = list_all(&client(&server, policy), &server).await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(1), "failed at once, not after waiting");
    assert_eq!(server.requests().len(), 1);
    assert_eq!(error.retry_after(), Some(Duration::from_secs(30)));
    assert_eq!(error.status().map(|s| s.as_u16()), Some(429));
}

#[tokio::test(start_paused = true)]
async fn an_empty_budget_stops_retries() {
    let always_503 =
        FaultPlan::none().with_probability(1.0).with_kinds([Fault::Status(503)]).with_max_consecutive(100);
    let server = mock(vec![5, 5], always_503).await;
    // 7 tokens: one retry (5), then the bucket cannot pay for another.
    let budget = RetryBudget::new(7);
    let client = client(&server, policy(5).with_budget(budget.clone()));
    list_all(&client, &server).await.unwrap_err();
    assert_eq!(server.requests().len(), 2);
    assert_eq!(budget.available(), 2);

    // The bucket is shared: another listing gets no retry at all.
    server.clear_requests();
    let other = server.database_ids()[1];
    client.backups(other).latest().await.unwrap_err();
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test(start_paused = true)]
async fn connection_faults_are_retried() {
    for fault in [Fault::Reset, Fault::Close, Fault::Truncate, Fault::BadJson] {
        let server = mock(vec![25], FaultPlan::none().at(2, fault.clone())).await;
        let listed = list_all(&client(&server, policy(3)), &server).await.unwrap();
        assert_eq!(listed, 25, "{fault}");
        assert_eq!(server.requests().len(), 3, "{fault}: page 2 twice");
    }
}

#[tokio::test(start_paused = true)]
async fn a_slow_answer_times_out_and_is_retried() {
    let server = mock(vec![5], FaultPlan::none().at(1, Fault::Slow(Duration::from_secs(60)))).await;
    let client = client_with_timeout(&server, policy(2), Duration::from_secs(2));
    let started = tokio::time::Instant::now();
    assert_eq!(list_all(&client, &server).await.unwrap(), 5);
    assert!(started.elapsed() < Duration::from_secs(10), "gave up on the slow answer after the timeout");

    let server = mock(vec![5], FaultPlan::none().at(1, Fault::Slow(Duration::from_secs(60)))).await;
    let error = list_all(&client_with_timeout(&server, policy(1), Duration::from_secs(2)), &server)
        .await
        .unwrap_err();
    assert!(error.is_timeout(), "{error:?}");
    assert!(error.to_string().contains("no complete answer within 2.0s"), "{error}");
}

#[tokio::test(start_paused = true)]
async fn create_whose_answer_is_lost_is_reconciled_not_duplicated() {
    // Request 1 is the snapshot of existing backups, request 2 the POST: applied, answer lost.
    let server = mock(vec![30], FaultPlan::none().at(2, Fault::Lost)).await;
    let database_id = server.database_ids()[0];
    let before = server_ids(&server, database_id);

    let created =
        client(&server, policy(3)).backups(database_id).create("nightly", "before migration").await.unwrap();

    let after = server_ids(&server, database_id);
    assert_eq!(after.len(), before.len() + 1, "exactly one backup was created");
    assert_eq!(after[0], created.id, "the reconciled backup is the one the lost attempt created");
    assert_eq!((created.name.as_str(), created.message.as_str()), ("nightly", "before migration"));
    let posts = server.requests().iter().filter(|r| r.method == "POST").count();
    assert_eq!(posts, 1, "the create was not sent again");
}

#[tokio::test(start_paused = true)]
async fn create_after_a_failure_that_did_not_apply_is_sent_again_once() {
    for fault in [Fault::Status(503), Fault::Reset, Fault::RetryAfterSeconds(1)] {
        let server = mock(vec![3], FaultPlan::none().at(2, fault.clone())).await;
        let database_id = server.database_ids()[0];
        let created = client(&server, policy(3)).backups(database_id).create("n", "m").await.unwrap();
        let after = server_ids(&server, database_id);
        assert_eq!(after.len(), 4, "{fault}: one backup created");
        assert_eq!(after[0], created.id);
    }
}

#[tokio::test(start_paused = true)]
async fn create_is_not_fooled_by_an_older_backup_with_the_same_name() {
    let server = mock(vec![3], FaultPlan::none()).await;
    let database_id = server.database_ids()[0];
    let client = client(&server, policy(3));
    let first = client.backups(database_id).create("nightly", "same").await.unwrap();

    // The second create's POST (request 2 from now) is reset before it applies: the earlier
    // backup with the same name and message must not be mistaken for it.
    server.set_faults(FaultPlan::none().at(server.requests().len() as u64 + 2, Fault::Reset));
    let second = client.backups(database_id).create("nightly", "same").await.unwrap();
    assert_ne!(first.id, second.id);
    assert_eq!(server_ids(&server, database_id).len(), 5);
}

#[tokio::test(start_paused = true)]
async fn delete_retried_after_a_lost_answer_succeeds() {
    let server = mock(vec![10], FaultPlan::none().at(1, Fault::Lost)).await;
    let database_id = server.database_ids()[0];
    let victim = server_ids(&server, database_id)[3];
    client(&server, policy(3)).backups(database_id).delete(victim).await.unwrap();
    assert!(!server_ids(&server, database_id).contains(&victim));
    assert_eq!(server.requests().len(), 2, "the retry's 404 means the first attempt deleted it");
}

#[tokio::test(start_paused = true)]
async fn delete_of_an_unknown_backup_is_not_found() {
    let server = mock(vec![10], FaultPlan::none()).await;
    let database_id = server.database_ids()[0];
    let missing = uuid::Uuid::new_v4();
    let error = client(&server, policy(3)).backups(database_id).delete(missing).await.unwrap_err();
    assert!(error.is_not_found());
    assert!(error.to_string().contains(&missing.to_string()), "{error}");
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test(start_paused = true)]
async fn an_undecodable_answer_says_so_after_retries() {
    let always_bad =
        FaultPlan::none().with_probability(1.0).with_kinds([Fault::BadJson]).with_max_consecutive(100);
    let server = mock(vec![5], always_bad).await;
    let error = list_all(&client(&server, policy(2)), &server).await.unwrap_err();
    assert!(error.is_decode(), "{error:?}");
    assert_eq!(error.attempts(), 2);
    assert!(error.to_string().contains("could not be decoded"), "{error}");
}

#[tokio::test(start_paused = true)]
async fn connection_refused_is_a_transport_error() {
    let server = mock(vec![1], FaultPlan::none()).await;
    let client = client(&server, policy(2));
    server.shutdown().await;
    let error = client.backups(uuid::Uuid::new_v4()).latest().await.unwrap_err();
    assert!(matches!(error, Error::Transport { kind: TransportKind::Connect, .. }), "{error:?}");
    assert_eq!(error.attempts(), 2);
    assert!(error.to_string().contains("could not connect"), "{error}");
}

#[tokio::test(start_paused = true)]
async fn create_that_timed_out_is_reconciled_not_sent_again() {
    // 1: the snapshot. 2: the POST, applied at once but answered only after the client's 2 s
    // timeout. 3: the next attempt's reconciliation is throttled; the attempt after it looks
    // again and finds the backup.
    let plan =
        FaultPlan::none().at(2, Fault::Late(Duration::from_secs(30))).at(3, Fault::RetryAfterSeconds(5));
    let server = mock(vec![4], plan).await;
    let database_id = server.database_ids()[0];
    let client = client_with_timeout(&server, policy(3), Duration::from_secs(2));

    let created = client.backups(database_id).create("nightly", "slow server").await.unwrap();

    let held = server_ids(&server, database_id);
    assert_eq!(held.len(), 5, "exactly one backup was created");
    assert_eq!(held[0], created.id);
    assert_eq!(server.requests().iter().filter(|r| r.method == "POST").count(), 1);
}

#[tokio::test(start_paused = true)]
async fn delete_that_timed_out_then_answers_404_has_succeeded() {
    // 1: the DELETE, applied at once but answered only after the client's 2 s timeout.
    // 2: throttled (not applied). 3: 404, because attempt 1 deleted it.
    let plan =
        FaultPlan::none().at(1, Fault::Late(Duration::from_secs(30))).at(2, Fault::RetryAfterSeconds(5));
    let server = mock(vec![4], plan).await;
    let database_id = server.database_ids()[0];
    let victim = server_ids(&server, database_id)[1];
    let client = client_with_timeout(&server, policy(3), Duration::from_secs(2));

    client.backups(database_id).delete(victim).await.unwrap();

    assert!(!server_ids(&server, database_id).contains(&victim));
    let statuses: Vec<Option<u16>> = server.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses.last(), Some(&Some(404)), "{statuses:?}");
}
