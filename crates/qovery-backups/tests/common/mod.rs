//! Shared set-up: a mock server on 127.0.0.1 and a client pointed at it.
#![allow(dead_code, unused_imports)] // each test file uses a different part

use std::time::Duration;

use qovery_backups::{Client, RetryPolicy};
use qovery_backups_mock::MockServer;
pub use qovery_backups_mock::testing::mock;

/// A retry policy whose jitter is seeded, so waits are reproducible.
pub fn policy(max_attempts: u32) -> RetryPolicy {
    RetryPolicy::default().with_max_attempts(max_attempts).with_jitter_seed(42)
}

pub fn client(server: &MockServer, policy: RetryPolicy) -> Client {
    client_with_timeout(server, policy, Duration::from_secs(5))
}

pub fn client_with_timeout(server: &MockServer, policy: RetryPolicy, timeout: Duration) -> Client {
    Client::builder()
        .token(server.token())
        .base_url(server.base_url())
        .retry(policy)
        .timeout(timeout)
        .build()
        .expect("client builds")
}

/// The ids the server holds for a database, newest first.
pub fn server_ids(server: &MockServer, database_id: uuid::Uuid) -> Vec<uuid::Uuid> {
    server.backups(database_id).into_iter().map(|b| b.id).collect()
}
