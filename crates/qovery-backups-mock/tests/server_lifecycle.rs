//! Starting, addressing, changing and stopping a server.

mod common;

use common::{list, start};
use qovery_backups_api::types::Backup;
use qovery_backups_mock::{MockConfig, MockError, MockServer, testing};
use uuid::Uuid;

#[tokio::test]
async fn base_url_addr_and_token_describe_the_listening_server() {
    let server = start(MockConfig::default()).await;
    assert_eq!(server.base_url(), format!("http://{}", server.addr()));
    assert!(server.addr().ip().is_loopback());
    assert_ne!(server.addr().port(), 0);
    assert_eq!(server.token(), "mock-token");
    assert_eq!(server.page_size(), 20);
    assert_eq!(server.database_ids().len(), 3);
}

#[tokio::test]
async fn shutdown_stops_accepting_connections() {
    let server = start(MockConfig::default()).await;
    let url = server.base_url().to_owned();
    server.shutdown().await;
    let error = common::client().get(url).send().await.unwrap_err();
    assert!(error.is_connect(), "{error:?}");
}

#[tokio::test]
async fn dropping_the_server_stops_it() {
    let server = start(MockConfig::default()).await;
    let url = server.base_url().to_owned();
    drop(server);
    tokio::task::yield_now().await;
    let error = common::client().get(url).send().await.unwrap_err();
    assert!(error.is_connect(), "{error:?}");
}

#[tokio::test]
async fn a_taken_address_is_a_bind_error_and_a_zero_page_size_is_refused() {
    let first = start(MockConfig::default()).await;
    let error =
        MockServer::start(MockConfig { addr: first.addr(), ..MockConfig::default() }).await.unwrap_err();
    assert!(matches!(error, MockError::Bind { .. }), "{error}");
    let error = MockServer::start(MockConfig { page_size: 0, ..MockConfig::default() }).await.unwrap_err();
    assert!(error.to_string().contains("page_size"), "{error}");
}

fn backup(n: u128, day: u32) -> Backup {
    Backup { name: format!("b{n}"), ..testing::backup(n, &format!("2026-01-{day:02}T00:00:00Z"), None) }
}

#[tokio::test]
async fn tests_can_shape_the_data_while_the_server_runs() {
    let server = start(MockConfig::default()).await;
    let database = server.add_database_with(vec![backup(1, 3), backup(2, 1), backup(3, 2)]).unwrap();
    let names: Vec<String> = server.backups(database).into_iter().map(|b| b.name).collect();
    assert_eq!(names, ["b1", "b3", "b2"], "newest first, whatever the given order");

    server.insert_backup(database, backup(4, 5)).unwrap();
    assert_eq!(server.backups(database)[0].name, "b4");
    assert!(matches!(server.insert_backup(database, backup(4, 6)), Err(MockError::DuplicateBackup(_))));
    assert!(matches!(
        server.insert_backup(Uuid::from_u128(77), backup(9, 6)),
        Err(MockError::UnknownDatabase(_))
    ));
    assert!(server.remove_backup(database, Uuid::from_u128(4)));
    assert!(!server.remove_backup(database, Uuid::from_u128(4)));
    assert_eq!(server.backup_count(database), Some(3));
    let ids: Vec<Uuid> = server.backups(database).iter().map(|b| b.id).collect();
    assert_eq!(server.backup_ids(database), ids);

    let page: qovery_backups_api::types::BackupPaginatedResponseList =
        list(&server, database, None).await.unwrap().json().await.unwrap();
    assert_eq!(page.results, server.backups(database));

    assert!(server.remove_database(database));
    assert_eq!(list(&server, database, None).await.unwrap().status(), 404);
    assert!(server.backups(database).is_empty());
    assert_eq!(server.backup_count(database), None);
}

#[tokio::test]
async fn many_concurrent_clients_are_served() {
    let server = start(MockConfig {
        faults: "p=0.2,kinds=503|reset,max=1,seed=3".parse().unwrap(),
        ..MockConfig::default()
    })
    .await;
    let database = server.database_ids()[0];
    let mut tasks = tokio::task::JoinSet::new();
    for client_number in 0..16 {
        // A query parameter the API ignores makes each client's request its own, with its own
        // streak: the cap is per request, not per client.
        let url = format!("{}?client={client_number}", common::list_url(&server, database));
        let token = server.token().to_owned();
        let client = common::client();
        tasks.spawn(async move {
            // One retry is always enough with max=1.
            for _ in 0..2 {
                let sent = client.get(&url).header("Authorization", format!("Token {token}")).send().await;
                if sent.is_ok_and(|response| response.status() == 200) {
                    return true;
                }
            }
            false
        });
    }
    while let Some(done) = tasks.join_next().await {
        assert!(done.unwrap());
    }
}

#[test]
fn the_server_and_its_config_can_be_shared_across_tasks_and_never_print_the_token() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<MockServer>();
    send_sync::<MockConfig>();
    let config = MockConfig { token: "hunter2".to_owned(), ..MockConfig::default() };
    assert!(!format!("{config:?}").contains("hunter2"));
}

#[tokio::test]
async fn a_database_added_after_a_removal_gets_fresh_ids() {
    let server = start(MockConfig::default()).await;
    let [first, second, third] = server.database_ids()[..] else { panic!("three databases") };
    assert!(server.remove_database(second));
    let added = server.add_database(45);
    assert_eq!(server.database_ids(), [first, third, added]);
    let taken: std::collections::HashSet<Uuid> =
        [first, third].iter().flat_map(|db| server.backup_ids(*db)).collect();
    assert!(server.backup_ids(added).iter().all(|id| !taken.contains(id)));
}
