//! The request log, and the latency it lets tests measure under paused time.

mod common;

use std::time::Duration;

use common::{authed, client, create, list, list_url, start};
use qovery_backups_mock::{Fault, FaultPlan, MockConfig};
use serde_json::json;
use tokio::time::Instant;

#[tokio::test]
async fn each_request_is_logged_with_method_path_query_fault_and_status() {
    let server =
        start(MockConfig { faults: FaultPlan::new().at(2, Fault::Status(503)), ..MockConfig::default() })
            .await;
    let database = server.database_ids()[0];
    let cursor = server.backups(database)[19].id.to_string();
    let before = Instant::now();
    list(&server, database, None).await.unwrap();
    list(&server, database, Some(&cursor)).await.unwrap();
    create(&server, database, &json!({"name": "n", "message": "m"})).await.unwrap();
    client().get(list_url(&server, database)).send().await.unwrap();

    let log = server.requests();
    assert_eq!(log.len(), 4);
    let path = format!("/database/{database}/backup");
    assert_eq!(log.iter().map(|r| r.number).collect::<Vec<_>>(), [1, 2, 3, 4]);
    assert!(log.iter().all(|r| r.path == path));
    assert_eq!(log[0].method, "GET");
    assert_eq!(log[0].query, None);
    assert_eq!(log[1].query.as_deref(), Some(format!("startId={cursor}").as_str()));
    assert_eq!(log[2].method, "POST");
    assert_eq!(serde_json::from_slice::<serde_json::Value>(&log[2].body).unwrap()["name"], "n");
    assert_eq!(
        log.iter().map(|r| r.fault.clone()).collect::<Vec<_>>(),
        [None, Some(Fault::Status(503)), None, None]
    );
    assert_eq!(
        log.iter().map(|r| r.status).collect::<Vec<_>>(),
        [Some(200), Some(503), Some(201), Some(401)]
    );
    assert!(log.windows(2).all(|w| w[0].at <= w[1].at));
    assert!(log[0].at >= before);
}

#[tokio::test]
async fn the_log_keeps_the_auth_scheme_but_never_the_token() {
    let server = start(MockConfig { token: "very-secret-token".to_owned(), ..MockConfig::default() }).await;
    let url = list_url(&server, server.database_ids()[0]);
    client()
        .get(&url)
        .header("Authorization", "Bearer very-secret-token")
        .header("User-Agent", "log-test/1")
        .send()
        .await
        .unwrap();
    let record = &server.requests()[0];
    assert_eq!(record.auth_scheme.as_deref(), Some("Bearer"));
    assert!(record.headers.get("authorization").is_none());
    assert_eq!(record.headers["user-agent"], "log-test/1");
    assert!(!format!("{:?}", server.requests()).contains("very-secret-token"));
}

#[tokio::test]
async fn clear_requests_empties_the_log_but_numbers_keep_counting() {
    let server = start(MockConfig::default()).await;
    let database = server.database_ids()[0];
    list(&server, database, None).await.unwrap();
    server.clear_requests();
    assert!(server.requests().is_empty());
    list(&server, database, None).await.unwrap();
    assert_eq!(server.requests()[0].number, 2);
}

#[tokio::test(start_paused = true)]
async fn latency_delays_every_answer_and_the_log_shows_arrival_times() {
    let server = start(MockConfig { latency: Duration::from_millis(250), ..MockConfig::default() }).await;
    let database = server.database_ids()[0];
    let started = Instant::now();
    for _ in 0..3 {
        let response = list(&server, database, None).await.unwrap();
        assert_eq!(response.status(), 200);
    }
    assert!(started.elapsed() >= Duration::from_millis(750));
    let log = server.requests();
    assert!(log.windows(2).all(|w| w[1].at - w[0].at >= Duration::from_millis(250)));

    server.set_latency(Duration::from_secs(1));
    let started = Instant::now();
    list(&server, database, None).await.unwrap();
    assert!(started.elapsed() >= Duration::from_secs(1), "set_latency takes effect");
}

#[tokio::test(start_paused = true)]
async fn the_log_shows_how_long_a_client_waited_between_attempts() {
    let server = start(MockConfig { faults: "1=429s:2".parse().unwrap(), ..MockConfig::default() }).await;
    let url = list_url(&server, server.database_ids()[0]);
    let first = authed(&server, client().get(&url)).send().await.unwrap();
    let wait: u64 = first.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    tokio::time::sleep(Duration::from_secs(wait)).await;
    let second = authed(&server, client().get(&url)).send().await.unwrap();
    assert_eq!(second.status(), 200);
    let log = server.requests();
    assert!(log[1].at - log[0].at >= Duration::from_secs(2));
}
