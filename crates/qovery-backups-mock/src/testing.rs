//! Set-ups for tests: a mock in one line, and backups in one line.
//!
//! The test suites of this workspace (the SDK's, the command line's) start their mocks here, and
//! a test of your own can too:
//!
//! ```
//! use qovery_backups_mock::FaultPlan;
//! use qovery_backups_mock::testing::{backup, mock};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! // In a test crate: `#[tokio::test] async fn my_job_survives_a_503() { … }`.
//! // Two databases of 45 and 3 seeded backups; the second request gets a 503.
//! let server = mock(vec![45, 3], "2=503".parse().unwrap()).await;
//! assert_eq!(server.database_ids().len(), 2);
//!
//! // A database holding exactly the history the test is about.
//! let database = server
//!     .add_database_with(vec![
//!         backup(1, "2026-11-27T03:00:00Z", "ERROR"),
//!         backup(2, "2026-11-26T03:00:00Z", "SUCCESS"),
//!     ])
//!     .unwrap();
//! assert!(server.backups(database)[1].is_successful());
//! # }
//! ```
//!
//! Each function panics where a test cannot go on (the server does not start, a date does not
//! parse), as `unwrap` in a test does.

use chrono::{DateTime, TimeDelta, Utc};
use qovery_backups_api::types::Backup;

use crate::{FaultPlan, Lifecycle, MockConfig, MockServer, SampleBackup};

/// A configuration of `backups_per_database.len()` databases, database `i` seeded with
/// `backups_per_database[i]` backups, and `faults`; the rest as [`MockConfig::default`]. To
/// change another field: `MockConfig { token, ..config(..) }`.
///
/// ```
/// use qovery_backups_mock::{FaultPlan, MockConfig};
/// use qovery_backups_mock::testing::config;
///
/// let config = MockConfig { page_size: 10, ..config(vec![0, 1, 20], FaultPlan::none()) };
/// assert_eq!((config.databases, config.page_size), (3, 10));
/// ```
pub fn config(backups_per_database: Vec<usize>, faults: FaultPlan) -> MockConfig {
    MockConfig {
        databases: backups_per_database.len(),
        backups_per_database,
        faults,
        ..MockConfig::default()
    }
}

/// Starts a mock with `config` on the current tokio runtime.
///
/// ```
/// use qovery_backups_mock::MockConfig;
/// use qovery_backups_mock::testing::start;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let server = start(MockConfig { token: "t0k3n-of-the-test".to_owned(), ..MockConfig::default() }).await;
/// assert_eq!(server.token(), "t0k3n-of-the-test");
/// # }
/// ```
///
/// # Panics
///
/// If the server cannot start: its address is taken, or the configuration cannot work.
pub async fn start(config: MockConfig) -> MockServer {
    match MockServer::start(config).await {
        Ok(server) => server,
        Err(error) => panic!("the mock server did not start: {error}"),
    }
}

/// A mock of `backups_per_database.len()` databases, database `i` seeded with
/// `backups_per_database[i]` backups, and `faults`: [`start`]`(`[`config`]`(..))`.
///
/// ```
/// use qovery_backups_mock::{Fault, FaultPlan};
/// use qovery_backups_mock::testing::mock;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let server = mock(vec![21], FaultPlan::new().at(1, Fault::Reset)).await;
/// assert_eq!(server.backup_count(server.database_ids()[0]), Some(21));
/// # }
/// ```
///
/// # Panics
///
/// If the server cannot start.
pub async fn mock(backups_per_database: Vec<usize>, faults: FaultPlan) -> MockServer {
    start(config(backups_per_database, faults)).await
}

/// A mock of one database of 45 seeded backups (three pages), whose backups created through the
/// API move along `lifecycle`, and `faults`: for tests of waiting for a backup.
///
/// ```
/// use std::time::Duration;
/// use qovery_backups_mock::{FaultPlan, Lifecycle};
/// use qovery_backups_mock::testing::mock_with_lifecycle;
///
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() {
/// let lifecycle = Lifecycle { queued: Duration::from_secs(10), ongoing: Duration::from_secs(60) };
/// let server = mock_with_lifecycle(lifecycle, FaultPlan::none()).await;
/// assert_eq!(server.backup_count(server.database_ids()[0]), Some(45));
/// # }
/// ```
///
/// # Panics
///
/// If the server cannot start.
pub async fn mock_with_lifecycle(lifecycle: Lifecycle, faults: FaultPlan) -> MockServer {
    start(MockConfig { lifecycle, ..config(vec![45], faults) }).await
}

/// A backup as a listing carries it ([`SampleBackup`]): id `Uuid::from_u128(id)`, named
/// `backup-<id>`, created at `created_at` (RFC 3339), with this outcome
/// (`status.status_details.status`: `SUCCESS`, `ERROR`, `ONGOING`, … or any other text), or
/// without a status for `None`.
///
/// ```
/// use qovery_backups_mock::testing::backup;
///
/// let failed = backup(7, "2026-11-27T03:00:00Z", "ERROR");
/// assert!(failed.is_failed());
/// assert_eq!(failed.created_at.to_rfc3339(), "2026-11-27T03:00:00+00:00");
/// assert!(backup(8, "2026-11-27T03:00:00Z", None).status.is_none());
/// ```
///
/// # Panics
///
/// If `created_at` is not an RFC 3339 date.
pub fn backup<'a>(id: u128, created_at: &str, outcome: impl Into<Option<&'a str>>) -> Backup {
    let sample = SampleBackup::new(id).created_at(date(created_at));
    match outcome.into() {
        Some(outcome) => sample.outcome(outcome).build(),
        None => sample.build(),
    }
}

/// `count` backups with this outcome, one a day back from `newest` (RFC 3339), with ids from
/// `first_id` up: newest first, as a listing gives them.
///
/// ```
/// use qovery_backups_mock::testing::daily;
///
/// let history = daily(1, 45, "2026-11-27T03:00:00Z", "SUCCESS");
/// assert_eq!(history.len(), 45);
/// assert_eq!(history[44].id, uuid::Uuid::from_u128(45));
/// assert_eq!(history[44].created_at.to_rfc3339(), "2026-10-14T03:00:00+00:00");
/// ```
///
/// # Panics
///
/// If `newest` is not an RFC 3339 date.
pub fn daily(first_id: u128, count: u32, newest: &str, outcome: &str) -> Vec<Backup> {
    let newest = date(newest);
    let day =
        |n: u32| SampleBackup::new(first_id + u128::from(n)).created_at(newest - TimeDelta::days(n.into()));
    (0..count).map(|n| day(n).outcome(outcome).build()).collect()
}

fn date(text: &str) -> DateTime<Utc> {
    match text.parse() {
        Ok(date) => date,
        Err(error) => panic!("`{text}` is not an RFC 3339 date: {error}"),
    }
}
