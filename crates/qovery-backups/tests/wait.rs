//! Waiting for a backup, over real HTTP against the mock, on tokio's paused clock: the mock's
//! lifecycle moves backups along as the clock advances, so minutes of waiting take no real time
//! and no test depends on the machine's speed.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use qovery_backups::types::ServiceActionStatusEnum;
use qovery_backups::{Backup, Client, Error, Event, Observer, WaitPolicy};
use qovery_backups_mock::testing::{self, mock_with_lifecycle};
use qovery_backups_mock::{Fault, FaultPlan, Lifecycle, MockServer};
use tokio::time::Instant;
use uuid::Uuid;

use common::{client, policy};

/// A backup queued for 10 s then running for 60 s.
const LIFECYCLE: Lifecycle = Lifecycle { queued: Duration::from_secs(10), ongoing: Duration::from_secs(60) };

/// The statuses a client's observer was told about while waiting, in order.
#[derive(Default)]
struct Statuses(Mutex<Vec<(String, Duration)>>);

impl Observer for Statuses {
    fn on_event(&self, event: &Event<'_>) {
        if let Event::BackupStatus { backup, elapsed, .. } = event {
            let status = backup.action_status().map_or("-".to_owned(), |s| s.to_string());
            self.0.lock().unwrap().push((status, *elapsed));
        }
    }
}

impl Statuses {
    fn names(&self) -> Vec<String> {
        self.0.lock().unwrap().iter().map(|(s, _)| s.clone()).collect()
    }
}

fn observed_client(server: &MockServer, statuses: Arc<Statuses>) -> Client {
    Client::builder()
        .token(server.token())
        .base_url(server.base_url())
        .retry(policy(3))
        .timeout(Duration::from_secs(5))
        .observer(statuses)
        .build()
        .unwrap()
}

fn status(backup: &Backup) -> Option<&str> {
    backup.action_status().map(ServiceActionStatusEnum::as_str)
}

fn gets(server: &MockServer) -> Vec<qovery_backups_mock::RequestRecord> {
    server.requests().into_iter().filter(|r| r.method.as_str() == "GET").collect()
}

/// 45 daily backups, ids 1 (newest) to 45, with `outcome` for backup `id_with_outcome` and
/// SUCCESS for the others: three pages of 20.
fn daily(id_with_outcome: u128, outcome: &str) -> Vec<Backup> {
    let mut backups = testing::daily(1, 45, "2026-11-26T03:00:00Z", "SUCCESS");
    let slot = &mut backups[id_with_outcome as usize - 1];
    *slot = testing::backup(id_with_outcome, &slot.created_at.to_rfc3339(), outcome);
    backups
}

#[tokio::test(start_paused = true)]
async fn create_and_wait_returns_the_backup_once_it_succeeds() {
    let server = mock_with_lifecycle(LIFECYCLE, FaultPlan::none()).await;
    let database_id = server.database_ids()[0];
    let statuses = Arc::new(Statuses::default());
    let started = Instant::now();

    let backup = observed_client(&server, statuses.clone())
        .backups(database_id)
        .create_and_wait("nightly", "before migration")
        .await
        .unwrap();

    assert!(backup.is_successful(), "{:?}", status(&backup));
    assert_eq!(backup.name, "nightly");
    assert_eq!(server.backup(database_id, backup.id).as_ref(), Some(&backup));
    assert!(started.elapsed() >= Duration::from_secs(70), "cannot be final before its lifecycle ends");
    // Each status once, when it changed, not once per poll.
    assert_eq!(statuses.names(), ["QUEUED", "ONGOING", "SUCCESS"]);
    let polls = gets(&server).len();
    assert!(polls < 15, "backs off to a cap rather than polling every second: {polls} listings");
}

#[tokio::test(start_paused = true)]
async fn a_failed_backup_is_an_error_carrying_its_status_and_steps() {
    let server = mock_with_lifecycle(LIFECYCLE, FaultPlan::none()).await;
    let database_id = server.database_ids()[0];
    server.push_outcome(ServiceActionStatusEnum::Error);

    let error = client(&server, policy(3)).backups(database_id).create_and_wait("n", "m").await.unwrap_err();

    let Error::BackupFailed { backup, database_id: failed_in, .. } = &error else { panic!("{error:?}") };
    assert_eq!(*failed_in, database_id);
    assert_eq!(status(backup), Some("ERROR"));
    assert!(backup.status.as_ref().unwrap().steps.is_some(), "the steps say how it failed");
    assert_eq!(error.backup().map(|b| b.id), Some(backup.id));
    assert_eq!(error.to_string(), format!("backup {} of database {database_id} ended ERROR", backup.id));
    assert!(error.hint().is_some());
}

#[tokio::test(start_paused = true)]
async fn a_canceled_backup_is_a_failure_too() {
    let server = mock_with_lifecycle(LIFECYCLE, FaultPlan::none()).await;
    let database_id = server.database_ids()[0];
    server.push_outcome(ServiceActionStatusEnum::Canceled);

    let error = client(&server, policy(3)).backups(database_id).create_and_wait("n", "m").await.unwrap_err();

    assert!(
        matches!(&error, Error::BackupFailed { backup, .. } if status(backup) == Some("CANCELED")),
        "{error:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_backup_removed_while_waited_on_is_reported_as_vanished() {
    let server = Arc::new(mock_with_lifecycle(LIFECYCLE, FaultPlan::none()).await);
    let database_id = server.database_ids()[0];
    let waiting = {
        let backups = client(&server, policy(3)).backups(database_id);
        tokio::spawn(async move { backups.create_and_wait("n", "m").await })
    };
    tokio::time::sleep(Duration::from_secs(20)).await;
    let created = server.backup_ids(database_id)[0];
    assert!(server.remove_backup(database_id, created));
    server.clear_requests();

    let error = waiting.await.unwrap().unwrap_err();

    let Error::BackupVanished { last_seen, .. } = &error else { panic!("{error:?}") };
    assert_eq!(last_seen.id, created);
    assert_eq!(status(last_seen), Some("ONGOING"), "seen running before it vanished");
    // The backup was the newest: the first page without it, already older, proves it gone.
    assert_eq!(gets(&server).len(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_timeout_fires_no_earlier_than_asked_and_leaves_the_backup_alone() {
    let long = Lifecycle { queued: Duration::from_secs(5), ongoing: Duration::from_secs(3600) };
    let server = mock_with_lifecycle(long, FaultPlan::none()).await;
    let database_id = server.database_ids()[0];
    let timeout = Duration::from_secs(10 * 60);
    let started = Instant::now();

    let error = client(&server, policy(3))
        .backups(database_id)
        .create_and_wait("n", "m")
        .timeout(timeout)
        .await
        .unwrap_err();

    let waited = started.elapsed();
    assert!(waited >= timeout, "{waited:?}");
    assert!(waited < timeout + Duration::from_secs(1), "fires at the deadline, not a poll later: {waited:?}");
    let Error::WaitTimeout { after, last_seen, .. } = &error else { panic!("{error:?}") };
    assert!(*after >= timeout);
    assert_eq!(status(last_seen), Some("ONGOING"), "the last status seen");
    assert!(error.to_string().contains("was still ONGOING after waiting 600.0s"), "{error}");
    // Waiting never changes the backup: no delete, and it is still there, still running.
    assert!(server.requests().iter().all(|r| r.method.as_str() != "DELETE"));
    let still = server.backup(database_id, last_seen.id).unwrap();
    assert_eq!(status(&still), Some("ONGOING"));
}

/// `Wait::timeout` is the builder's name for the policy's timeout: it wins over a policy given
/// after it, as it does over one given before.
#[tokio::test(start_paused = true)]
async fn the_waits_own_timeout_wins_over_the_policys_whatever_the_order() {
    let long = Lifecycle { queued: Duration::ZERO, ongoing: Duration::from_secs(3600) };
    let server = mock_with_lifecycle(long, FaultPlan::none()).await;
    let database_id = server.database_ids()[0];
    let hour = WaitPolicy::default().with_timeout(Duration::from_secs(3600));
    let minute = Duration::from_secs(60);
    let backups = client(&server, policy(3)).backups(database_id);

    for wait in [
        backups.create_and_wait("a", "m").timeout(minute).policy(hour),
        backups.create_and_wait("b", "m").policy(hour).timeout(minute),
    ] {
        let started = Instant::now();
        let error = wait.await.unwrap_err();
        assert!(matches!(error, Error::WaitTimeout { .. }), "{error:?}");
        let waited = started.elapsed();
        assert!(waited >= minute && waited < minute + Duration::from_secs(1), "{waited:?}");
    }
}

#[tokio::test(start_paused = true)]
async fn unavailable_and_throttled_polls_are_retried_not_failures() {
    // Request 1 is the create's look at the newest page, 2 the POST; polls start at 3.
    let faults = FaultPlan::none()
        .at(3, Fault::Status(503))
        .at(4, Fault::Status(503))
        .at(6, Fault::RetryAfterSeconds(7))
        .at(8, Fault::Status(502));
    let server = mock_with_lifecycle(LIFECYCLE, faults).await;
    let database_id = server.database_ids()[0];

    let backup = client(&server, policy(3)).backups(database_id).create_and_wait("n", "m").await.unwrap();

    assert!(backup.is_successful());
    let requests = server.requests();
    let statuses: Vec<Option<u16>> = requests.iter().map(|r| r.status).collect();
    assert_eq!(&statuses[2..4], [Some(503), Some(503)], "{statuses:?}");
    let throttled = requests.iter().position(|r| r.status == Some(429)).unwrap();
    assert!(
        requests[throttled + 1].at - requests[throttled].at >= Duration::from_secs(7),
        "Retry-After honoured"
    );
    assert_eq!(server.backup_count(database_id), Some(46), "one backup created");
}

#[tokio::test(start_paused = true)]
async fn a_create_whose_answer_was_lost_is_reconciled_and_that_backup_waited_on() {
    // Request 2 is the POST: applied, then the connection reset.
    let server = mock_with_lifecycle(LIFECYCLE, FaultPlan::none().at(2, Fault::Lost)).await;
    let database_id = server.database_ids()[0];

    let backup = client(&server, policy(3)).backups(database_id).create_and_wait("lost", "m").await.unwrap();

    assert!(backup.is_successful());
    assert_eq!(server.backup_count(database_id), Some(46), "never two backups");
    assert_eq!(server.backup_ids(database_id)[0], backup.id);
    assert_eq!(server.requests().iter().filter(|r| r.method.as_str() == "POST").count(), 1);
}

#[tokio::test(start_paused = true)]
async fn an_id_the_database_does_not_have_is_not_found_at_once() {
    let server = mock_with_lifecycle(LIFECYCLE, FaultPlan::none()).await;
    let database_id = server.database_ids()[0];
    let missing = Uuid::from_u128(0xdead);
    let started = Instant::now();

    let error = client(&server, policy(3)).backups(database_id).wait(missing).await.unwrap_err();

    assert!(matches!(error, Error::BackupNotFound { backup_id, .. } if backup_id == missing), "{error:?}");
    assert!(error.is_not_found());
    assert_eq!(started.elapsed(), Duration::ZERO, "no waiting for what is not there");
    assert_eq!(gets(&server).len(), 3, "the whole listing, once");
}

#[tokio::test(start_paused = true)]
async fn waiting_on_a_finished_backup_reads_only_the_page_that_holds_it() {
    let server = mock_with_lifecycle(Lifecycle::default(), FaultPlan::none()).await;
    let database_id = server.add_database_with(daily(27, "SUCCESS")).unwrap();
    let wanted = Uuid::from_u128(27); // on page 2

    let backup = client(&server, policy(3)).backups(database_id).wait(wanted).await.unwrap();

    assert_eq!(backup.id, wanted);
    let gets = gets(&server);
    assert_eq!(gets.len(), 2, "pages 1 and 2, not 3");
    assert_eq!(gets[1].query.as_deref(), Some(format!("startId={}", Uuid::from_u128(20)).as_str()));
}

#[tokio::test(start_paused = true)]
async fn a_backup_gone_from_an_older_page_is_found_gone_without_reading_further() {
    let server = mock_with_lifecycle(Lifecycle::default(), FaultPlan::none()).await;
    // Backup 27 is running and, not created through the API, never moves on.
    let database_id = server.add_database_with(daily(27, "ONGOING")).unwrap();
    let wanted = Uuid::from_u128(27);
    let waiting = {
        let backups = client(&server, policy(3)).backups(database_id);
        tokio::spawn(async move { backups.wait(wanted).await })
    };
    tokio::time::sleep(Duration::from_millis(1500)).await; // after the first poll, before the second
    assert!(server.remove_backup(database_id, wanted));
    server.clear_requests();

    let error = waiting.await.unwrap().unwrap_err();

    assert!(matches!(&error, Error::BackupVanished { last_seen, .. } if last_seen.id == wanted), "{error:?}");
    assert_eq!(gets(&server).len(), 2, "page 2 reaches older backups: page 3 is not read");
}

#[tokio::test(start_paused = true)]
async fn statuses_that_are_not_final_keep_the_wait_going() {
    for not_final in ["NEVER", "CANCELING", "EXECUTING", "SOMETHING_QOVERY_ADDS_LATER"] {
        let server = mock_with_lifecycle(Lifecycle::default(), FaultPlan::none()).await;
        let database_id = server.add_database_with(daily(3, not_final)).unwrap();
        let policy_wait = WaitPolicy::default().with_timeout(Duration::from_secs(120));

        let error = client(&server, policy(3))
            .backups(database_id)
            .wait(Uuid::from_u128(3))
            .policy(policy_wait)
            .await
            .unwrap_err();

        let Error::WaitTimeout { last_seen, .. } = &error else { panic!("{not_final}: {error:?}") };
        assert_eq!(status(last_seen), Some(not_final));
    }
}

#[tokio::test(start_paused = true)]
async fn polls_back_off_from_the_initial_interval_to_the_cap() {
    let long = Lifecycle { queued: Duration::ZERO, ongoing: Duration::from_secs(3600) };
    let server = mock_with_lifecycle(long, FaultPlan::none()).await;
    let database_id = server.database_ids()[0];
    let wait = WaitPolicy::default()
        .with_timeout(Duration::from_secs(100))
        .with_initial_interval(Duration::from_secs(2))
        .with_max_interval(Duration::from_secs(10));
    server.clear_requests();

    let _ = client(&server, policy(3)).backups(database_id).create_and_wait("n", "m").policy(wait).await;

    // The create's look and POST, then one listing per poll.
    let at: Vec<Instant> = gets(&server).iter().skip(1).map(|r| r.at).collect();
    let gaps: Vec<u64> = at.windows(2).map(|w| (w[1] - w[0]).as_secs()).collect();
    assert_eq!(&gaps[..4], [4, 8, 10, 10], "{gaps:?}");
}
