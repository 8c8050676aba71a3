//! How faults are chosen: the schedule, seeded probabilities with a cap, run-time changes, and
//! the SPEC syntax.

mod common;

use std::time::Duration;

use common::{list, start};
use qovery_backups_mock::{
    DEFAULT_MAX_CONSECUTIVE, DEFAULT_RANDOM_KINDS, DEFAULT_SLOW, Fault, FaultPlan, MockConfig, MockServer,
};

/// Status or `None` (connection-level failure) of each of `n` identical list requests.
async fn statuses(server: &MockServer, n: usize) -> Vec<Option<u16>> {
    let database = server.database_ids()[0];
    let mut out = Vec::new();
    for _ in 0..n {
        out.push(list(server, database, None).await.ok().map(|r| r.status().as_u16()));
    }
    out
}

fn faults(server: &MockServer) -> Vec<Option<Fault>> {
    server.requests().into_iter().map(|r| r.fault).collect()
}

#[tokio::test]
async fn schedule_faults_exactly_the_numbered_requests() {
    let server = start(MockConfig { faults: "2=503,4=500".parse().unwrap(), ..MockConfig::default() }).await;
    assert_eq!(statuses(&server, 5).await, [Some(200), Some(503), Some(200), Some(500), Some(200)]);
    assert_eq!(faults(&server), [None, Some(Fault::Status(503)), None, Some(Fault::Status(500)), None]);
}

#[tokio::test]
async fn schedule_counts_every_request_whatever_its_route_or_answer() {
    let server =
        start(MockConfig { faults: FaultPlan::new().at(3, Fault::Status(502)), ..MockConfig::default() })
            .await;
    let database = server.database_ids()[0];
    common::client().get(server.base_url()).send().await.unwrap(); // 401, no auth
    list(&server, database, Some("garbage")).await.unwrap(); // 400
    let third =
        common::create(&server, database, &serde_json::json!({"name": "n", "message": "m"})).await.unwrap();
    assert_eq!(third.status(), 502);
}

#[tokio::test]
async fn consecutive_fault_cap_serves_the_third_attempt_with_p1_and_max2() {
    let server =
        start(MockConfig { faults: "p=1.0,kinds=503,max=2".parse().unwrap(), ..MockConfig::default() }).await;
    assert_eq!(statuses(&server, 3).await, [Some(503), Some(503), Some(200)]);
    // The streak starts again after a served attempt.
    assert_eq!(statuses(&server, 3).await, [Some(503), Some(503), Some(200)]);
}

#[tokio::test]
async fn consecutive_fault_cap_is_per_request() {
    let server =
        start(MockConfig { faults: "p=1.0,kinds=503,max=1".parse().unwrap(), ..MockConfig::default() }).await;
    let [a, b, ..] = server.database_ids()[..] else { panic!() };
    let status = |r: reqwest::Response| r.status().as_u16();
    assert_eq!(status(list(&server, a, None).await.unwrap()), 503);
    assert_eq!(status(list(&server, b, None).await.unwrap()), 503, "another request has its own streak");
    assert_eq!(status(list(&server, a, None).await.unwrap()), 200);
    assert_eq!(status(list(&server, b, None).await.unwrap()), 200);
}

#[tokio::test]
async fn connection_faults_are_capped_too_so_a_retrying_client_finishes() {
    let server = start(MockConfig {
        faults: "p=1,kinds=reset|close,max=3,seed=4".parse().unwrap(),
        ..MockConfig::default()
    })
    .await;
    assert_eq!(statuses(&server, 4).await, [None, None, None, Some(200)]);
}

#[tokio::test]
async fn random_faults_follow_the_seed() {
    let plan: FaultPlan = "p=0.5,kinds=500|502|503|504,max=100,seed=99".parse().unwrap();
    let mut runs = Vec::new();
    for plan in [plan.clone(), plan.clone(), plan.with_seed(100)] {
        let server = start(MockConfig { faults: plan, ..MockConfig::default() }).await;
        statuses(&server, 24).await;
        runs.push(faults(&server));
    }
    assert_eq!(runs[0], runs[1], "same seed, same faults");
    assert_ne!(runs[0], runs[2], "another seed, other faults");
    let hits = runs[0].iter().filter(|f| f.is_some()).count();
    assert!((4..=20).contains(&hits), "about half of 24 faulted: {hits}");
}

#[tokio::test]
async fn probability_zero_never_faults() {
    let server =
        start(MockConfig { faults: "p=0,kinds=503".parse().unwrap(), ..MockConfig::default() }).await;
    assert!(statuses(&server, 10).await.iter().all(|s| *s == Some(200)));
}

#[tokio::test]
async fn set_faults_replaces_the_plan_and_restarts_its_count() {
    let server = start(MockConfig::default()).await;
    assert_eq!(statuses(&server, 3).await, [Some(200); 3]);
    server.set_faults("1=504".parse().unwrap());
    assert_eq!(statuses(&server, 2).await, [Some(504), Some(200)]);
    server.set_faults(FaultPlan::none());
    assert_eq!(statuses(&server, 1).await, [Some(200)]);
}

#[test]
fn spec_parses_every_kind() {
    let cases = [
        ("500", Fault::Status(500)),
        ("502", Fault::Status(502)),
        ("503", Fault::Status(503)),
        ("504", Fault::Status(504)),
        ("403", Fault::Status(403)),
        ("429", Fault::RetryAfterSeconds(1)),
        ("429s", Fault::RetryAfterSeconds(1)),
        ("429s:7", Fault::RetryAfterSeconds(7)),
        ("429s:7s", Fault::RetryAfterSeconds(7)),
        ("429d", Fault::RetryAfterDate(1)),
        ("429d:30", Fault::RetryAfterDate(30)),
        ("reset", Fault::Reset),
        ("close", Fault::Close),
        ("truncate", Fault::Truncate),
        ("slow", Fault::Slow(DEFAULT_SLOW)),
        ("slow:1500ms", Fault::Slow(Duration::from_millis(1500))),
        ("slow:1.5s", Fault::Slow(Duration::from_millis(1500))),
        ("slow:2s", Fault::Slow(Duration::from_secs(2))),
        ("slow:250us", Fault::Slow(Duration::from_micros(250))),
        ("slow:1m", Fault::Slow(Duration::from_secs(60))),
        ("late", Fault::Late(DEFAULT_SLOW)),
        ("late:250ms", Fault::Late(Duration::from_millis(250))),
        ("badjson", Fault::BadJson),
        ("lost", Fault::Lost),
        ("unknown-enum", Fault::UnknownEnum),
        ("unknown-fields", Fault::UnknownFields),
        ("RESET", Fault::Reset),
    ];
    for (text, fault) in cases {
        assert_eq!(text.parse::<Fault>(), Ok(fault.clone()), "{text}");
        let plan: FaultPlan = format!("1={text}").parse().unwrap();
        assert_eq!(plan.schedule()[&1], fault, "{text}");
        // Display prints SPEC that reads back the same.
        assert_eq!(fault.to_string().parse::<Fault>(), Ok(fault), "{text}");
    }
}

#[test]
fn spec_reads_a_whole_plan() {
    let plan: FaultPlan =
        " 3=503 , 5=reset, 7-9=429s:2, p=0.3, kinds=503|429s|reset|truncate, max=2, seed=7, "
            .parse()
            .unwrap();
    let expected = FaultPlan::new()
        .at(3, Fault::Status(503))
        .at(5, Fault::Reset)
        .at(7, Fault::RetryAfterSeconds(2))
        .at(8, Fault::RetryAfterSeconds(2))
        .at(9, Fault::RetryAfterSeconds(2))
        .with_probability(0.3)
        .with_kinds([Fault::Status(503), Fault::RetryAfterSeconds(1), Fault::Reset, Fault::Truncate])
        .with_max_consecutive(2)
        .with_seed(7);
    assert_eq!(plan, expected);
    assert_eq!(plan.to_string().parse::<FaultPlan>().unwrap(), plan, "Display round-trips");
}

#[test]
fn spec_defaults() {
    for empty in ["", "  ", "none", "NONE"] {
        let plan: FaultPlan = empty.parse().unwrap();
        assert!(plan.is_empty(), "{empty:?}");
        assert_eq!(plan, FaultPlan::default());
    }
    let plan: FaultPlan = "p=0.2".parse().unwrap();
    assert_eq!(plan.max_consecutive(), DEFAULT_MAX_CONSECUTIVE);
    assert_eq!(plan.seed(), 0);
    assert!(plan.kinds().is_empty(), "empty means DEFAULT_RANDOM_KINDS");
    assert!(!DEFAULT_RANDOM_KINDS.is_empty());
    assert_eq!(FaultPlan::none().to_string(), "none");
}

#[test]
fn spec_errors_name_the_item_and_say_what_to_write() {
    let cases = [
        ("3=teapot", "3=teapot", "unknown fault kind `teapot`"),
        ("3=200", "3=200", "not an error"),
        ("0=503", "0=503", "numbered from 1"),
        ("x=503", "x=503", "unknown key `x`"),
        ("503", "503", "expected `KEY=VALUE`"),
        ("p=1.5", "p=1.5", "not between 0 and 1"),
        ("p=lots", "p=lots", "not a number"),
        ("max=-1", "max=-1", "whole number"),
        ("seed=abc", "seed=abc", "unsigned integer"),
        ("1=slow:1500", "1=slow:1500", "has no unit"),
        ("1=slow:3h", "1=slow:3h", "unknown duration unit `h`"),
        ("1=reset:2", "1=reset:2", "takes no argument"),
        ("1=429s:soon", "1=429s:soon", "whole number of seconds"),
        ("1=503,1=500", "1=500", "scheduled twice"),
        ("p=0.1,p=0.2", "p=0.2", "given twice"),
        ("kinds=503||reset", "kinds=503||reset", "empty fault kind"),
        ("5-2=503", "5-2=503", "is empty"),
    ];
    for (spec, item, message) in cases {
        let error = match spec.parse::<FaultPlan>() {
            Ok(plan) => panic!("{spec} parsed as {plan:?}"),
            Err(error) => error,
        };
        assert_eq!(error.item(), item, "{spec}");
        assert!(error.to_string().contains(message), "{spec}: {error}");
    }
    assert!("slow:1500".parse::<Fault>().unwrap_err().to_string().contains("has no unit"));
}
