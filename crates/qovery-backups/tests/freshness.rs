//! `Client::freshness` and `Targets`: one verdict per database, in the order given, over real
//! HTTP against the mock; an unknown id is never mistaken for a database with nothing to back
//! up, and telling them apart costs a request only after a 404.

mod common;

use std::time::Duration;

use chrono::{DateTime, Utc};
use common::{client, policy};
use futures::StreamExt as _;
use qovery_backups::{DatabaseFreshness, FreshnessVerdict, Scope, Target, Targets, Uuid};
use qovery_backups_mock::testing::{self, daily};
use qovery_backups_mock::{Fault, FaultPlan, Fleet, MockConfig, MockServer};

const DAY: Duration = Duration::from_secs(86_400);

async fn fleet(faults: FaultPlan) -> MockServer {
    testing::start(MockConfig { databases: 0, fleet: Fleet::sample(), faults, ..MockConfig::default() }).await
}

async fn check(server: &MockServer, targets: Vec<Target>, now: DateTime<Utc>) -> Vec<DatabaseFreshness> {
    client(server, policy(3)).freshness(targets, DAY).concurrency(4).now(now).items().collect().await
}

fn gets_of_database(server: &MockServer, id: Uuid) -> usize {
    let path = format!("/database/{id}");
    server.requests().iter().filter(|r| r.path == path).count()
}

#[tokio::test]
async fn an_unknown_id_is_not_found_and_a_managed_one_unmanaged_after_one_lookup_each() {
    let server = fleet(FaultPlan::none()).await;
    let organization = server.organization_ids()[1];
    let ours = server.organization_database_ids(organization)[0];
    let managed = server.managed_database_ids()[0];
    let mistyped = Uuid::from_u128(0xdead_beef);
    let targets = vec![Target::from_id(ours), Target::from_id(managed), Target::from_id(mistyped)];

    let results = check(&server, targets, Utc::now()).await;
    let verdicts: Vec<FreshnessVerdict> = results.iter().map(|r| r.verdict).collect();
    assert_eq!(verdicts[1..], [FreshnessVerdict::Unmanaged, FreshnessVerdict::NotFound]);
    assert_ne!(verdicts[0], FreshnessVerdict::NotFound);
    let unknown = results[2].error.as_ref().expect("an unknown id carries its error");
    assert!(unknown.is_unknown_database(), "{unknown:?}");
    assert!(unknown.to_string().contains(&mistyped.to_string()), "{unknown}");
    // Only a 404 asks for the database itself: the normal path costs no request more.
    assert_eq!(gets_of_database(&server, ours), 0);
    assert_eq!((gets_of_database(&server, managed), gets_of_database(&server, mistyped)), (1, 1));
}

#[tokio::test]
async fn missing_only_when_the_whole_history_was_read_and_stale_when_stopped_at_the_window() {
    let server = fleet(FaultPlan::none()).await;
    let now: DateTime<Utc> = "2026-11-28T00:00:00Z".parse().unwrap();
    let old = "2026-11-18T00:00:00Z";
    // Three failed backups, all older than the window: one short page, the whole history.
    let short = server.add_database_with(daily(1, 3, old, "ERROR")).unwrap();
    // 45 failed backups: the first page (20) reaches past the window with more to read.
    let long = server.add_database_with(daily(100, 45, old, "ERROR")).unwrap();
    // A success eleven days old.
    let with_old_success = server.add_database_with(daily(200, 2, old, "SUCCESS")).unwrap();
    let fresh = server.add_database_with(daily(300, 2, "2026-11-27T22:00:00Z", "SUCCESS")).unwrap();

    let targets = [short, long, with_old_success, fresh].map(Target::from_id).to_vec();
    let results = check(&server, targets, now).await;
    let verdicts: Vec<FreshnessVerdict> = results.iter().map(|r| r.verdict).collect();
    assert_eq!(
        verdicts,
        [FreshnessVerdict::Missing, FreshnessVerdict::Stale, FreshnessVerdict::Stale, FreshnessVerdict::Ok]
    );
    assert_eq!((results[0].looked_at, results[1].looked_at), (3, 20), "the stale look read one page");
    assert_eq!(results[2].newest_success.as_ref().map(|b| b.id), Some(Uuid::from_u128(200)));
}

#[tokio::test]
async fn a_success_dated_past_the_clock_skew_is_suspect() {
    let server = fleet(FaultPlan::none()).await;
    let now: DateTime<Utc> = "2026-11-28T00:00:00Z".parse().unwrap();
    let database =
        server.add_database_with(vec![testing::backup(1, "9999-12-31T23:59:59Z", "SUCCESS")]).unwrap();

    let results = check(&server, vec![Target::from_id(database)], now).await;
    assert_eq!(results[0].verdict, FreshnessVerdict::Suspect);
}

#[tokio::test(start_paused = true)]
async fn results_come_in_the_order_given_whatever_order_the_answers_come_in() {
    // The first listing answers last: concurrency lets the others overtake it.
    let server = fleet(FaultPlan::none().at(1, Fault::Slow(Duration::from_secs(30)))).await;
    let targets: Vec<Target> = server
        .organization_ids()
        .into_iter()
        .flat_map(|o| server.organization_database_ids(o))
        .map(Target::from_id)
        .collect();
    let given: Vec<Uuid> = targets.iter().map(|t| t.id).collect();

    let results = check(&server, targets, Utc::now()).await;
    let answered: Vec<Uuid> = results.iter().map(|r| r.target.id).collect();
    assert_eq!(answered, given, "the first database answered last, and still comes first");
}

#[tokio::test]
async fn overlapping_targets_resolve_each_database_once_ids_first() {
    let server = fleet(FaultPlan::none()).await;
    let organization = server.organization_ids()[1];
    let in_organization = server.organization_database_ids(organization);
    let given = in_organization[2];
    let targets = Targets::new().id(given).scope(Scope::Organization(organization)).scope(Scope::All);

    let resolved = targets.resolve(&client(&server, policy(3))).await.unwrap();
    let ids: Vec<Uuid> = resolved.iter().map(|t| t.id).collect();
    let unique: std::collections::HashSet<&Uuid> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len(), "each database once");
    assert_eq!(ids[0], given);
    assert!(resolved[0].place.is_some(), "a scope that reaches an id gives it its place");
    let everything: usize =
        server.organization_ids().iter().map(|o| server.organization_database_ids(*o).len()).sum();
    assert_eq!(ids.len(), everything);
}

/// A fleet check behind an API that answers at most 10 requests a second (429 and `Retry-After:
/// 1` past it): the client's limiter slows every task down after the first 429s, so every
/// database is checked within its retries, and few requests are refused.
#[tokio::test(start_paused = true)]
async fn a_rate_limited_api_slows_the_whole_client_down_and_every_database_is_checked() {
    let fleet =
        Fleet { organizations: 1, projects: 1, environments: 2, databases: 30, managed_every: 0, backups: 2 };
    let server =
        testing::start(MockConfig { databases: 0, fleet, rate_limit: Some(10), ..MockConfig::default() })
            .await;
    let client = client(&server, policy(3));
    let targets = Targets::everything().resolve(&client).await.unwrap();
    assert_eq!(targets.len(), 60);

    let started = tokio::time::Instant::now();
    let results: Vec<DatabaseFreshness> =
        client.freshness(targets, DAY).concurrency(8).items().collect().await;
    let took = started.elapsed();
    let errors: Vec<String> =
        results.iter().filter_map(|r| r.error.as_ref().map(ToString::to_string)).collect();
    assert!(errors.is_empty(), "{errors:?}");

    let statuses: Vec<Option<u16>> = server.requests().iter().map(|r| r.status).collect();
    let refused = statuses.iter().filter(|s| **s == Some(429)).count();
    let answered = statuses.iter().filter(|s| **s == Some(200)).count();
    assert!(refused * 100 <= answered * 25, "{refused} refused for {answered} answered");
    // 60 listings at 10 a second take at least 6 s; the limiter keeps close to that pace.
    assert!(took <= Duration::from_secs(15), "{took:?}");
    eprintln!(
        "rate-limited fleet check: {answered} answered, {refused} refused (429), {took:?} on the paused clock"
    );
}
