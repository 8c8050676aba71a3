//! Property: whatever faults the server throws (within the retry allowance), a listing delivers
//! every backup exactly once, in order. Each case runs on tokio's paused clock, so slow answers
//! and `Retry-After` cost no real time.

mod common;

use std::time::Duration;

use common::{client_with_timeout, server_ids};
use futures::TryStreamExt as _;
use proptest::prelude::*;
use qovery_backups::RetryPolicy;
use qovery_backups_mock::{Fault, FaultPlan, MockConfig, testing};
use uuid::Uuid;

/// Every fault a listing can meet. Slow answers last past the client's 2 s per-attempt timeout.
fn fault_kinds() -> Vec<Fault> {
    vec![
        Fault::Status(500),
        Fault::Status(502),
        Fault::Status(503),
        Fault::Status(504),
        Fault::RetryAfterSeconds(2),
        Fault::RetryAfterDate(2),
        Fault::Reset,
        Fault::Close,
        Fault::Truncate,
        Fault::Slow(Duration::from_secs(30)),
        Fault::BadJson,
        Fault::UnknownEnum,
        Fault::UnknownFields,
    ]
}

fn kinds_subset() -> impl Strategy<Value = Vec<Fault>> {
    proptest::sample::subsequence(fault_kinds(), 1..=fault_kinds().len())
}

fn run_case(
    seed: u64,
    backups: Vec<usize>,
    probability: f64,
    kinds: Vec<Fault>,
) -> Result<(), TestCaseError> {
    let runtime =
        tokio::runtime::Builder::new_current_thread().enable_all().start_paused(true).build().unwrap();
    runtime.block_on(async move {
        const MAX_ATTEMPTS: u32 = 4;
        let plan = FaultPlan::none()
            .with_probability(probability)
            .with_kinds(kinds)
            .with_max_consecutive(MAX_ATTEMPTS - 1)
            .with_seed(seed);
        let server = testing::start(MockConfig { seed, ..testing::config(backups.clone(), plan) }).await;
        let policy = RetryPolicy::default().with_max_attempts(MAX_ATTEMPTS).with_jitter_seed(seed);
        let client = client_with_timeout(&server, policy, Duration::from_secs(2));

        for database_id in server.database_ids() {
            let listed: Vec<Uuid> = client
                .backups(database_id)
                .list()
                .items()
                .map_ok(|b| b.id)
                .try_collect()
                .await
                .map_err(|e| TestCaseError::fail(format!("listing failed: {e}")))?;
            prop_assert_eq!(listed, server_ids(&server, database_id));
        }
        Ok(())
    })
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 32,
        // Seeded: the same cases on every run and every machine.
        rng_seed: proptest::test_runner::RngSeed::Fixed(0x5eed),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn every_backup_exactly_once_in_order_under_random_faults(
        seed in any::<u64>(),
        backups in proptest::collection::vec(prop_oneof![Just(0usize), Just(1), Just(19), Just(20), Just(21), Just(40), 0usize..70], 1..4),
        probability in 0.1f64..0.7,
        kinds in kinds_subset(),
    ) {
        run_case(seed, backups, probability, kinds)?;
    }
}
