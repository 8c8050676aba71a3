//! `Client::databases`: scopes of each kind, overlapping scopes, an empty scope, discovery calls
//! retried under faults, and MANAGED databases told apart.

mod common;

use std::collections::HashSet;

use common::{client, policy};
use futures::TryStreamExt as _;
use qovery_backups::{FleetDatabase, Scope, Uuid};
use qovery_backups_mock::{Fault, FaultPlan, Fleet, MockConfig, MockServer, testing};

async fn fleet() -> MockServer {
    testing::start(MockConfig { databases: 2, fleet: Fleet::sample(), ..MockConfig::default() }).await
}

async fn found(server: &MockServer, scopes: Vec<Scope>) -> Vec<FleetDatabase> {
    client(server, policy(4)).databases(scopes).items().try_collect().await.expect("discovery succeeds")
}

fn ids(databases: &[FleetDatabase]) -> Vec<Uuid> {
    databases.iter().map(FleetDatabase::id).collect()
}

#[tokio::test]
async fn all_scope_finds_every_database_with_its_place_once() {
    let server = fleet().await;
    let databases = found(&server, vec![Scope::All]).await;

    let expected: Vec<Uuid> =
        server.organization_ids().into_iter().flat_map(|o| server.organization_database_ids(o)).collect();
    assert_eq!(ids(&databases), expected);
    assert_eq!(databases.len(), 2 + 2 * 2 * 2 * 3);
    // The configured databases sit in the default organization, project and environment.
    assert_eq!(ids(&databases[..2]), server.database_ids()[..2]);
    assert!(
        databases[..2].iter().all(|d| d.organization.name == "default" && d.environment.name == "default")
    );
    let last = databases.last().unwrap();
    assert_eq!(last.organization.name, "org-1");
    assert_eq!(last.project.name, "project-1");
    assert_eq!(last.environment.name, "staging");
    assert_eq!((last.name(), last.version()), ("mysql-2", "8.0"));
    assert_eq!(last.database_type().to_string(), "MYSQL");
    let managed: Vec<Uuid> =
        databases.iter().filter(|d| d.is_managed_by_provider()).map(|d| d.id()).collect();
    assert_eq!(managed, server.managed_database_ids());
    assert_eq!(managed.len(), 8);
}

#[tokio::test]
async fn organization_project_and_environment_scopes_find_what_they_hold() {
    let server = fleet().await;
    let organization = server.organization_ids()[1];
    let project = server.project_ids(organization)[1];
    let environment = server.environment_ids(project)[0];

    let in_organization = found(&server, vec![Scope::Organization(organization)]).await;
    assert_eq!(ids(&in_organization), server.organization_database_ids(organization));
    assert!(
        in_organization.iter().all(|d| d.organization.id == organization && d.organization.name == "org-0")
    );

    let in_project = found(&server, vec![Scope::Project(project)]).await;
    assert_eq!(in_project.len(), 2 * 3);
    assert!(in_project.iter().all(|d| d.project.id == project && d.project.name == "project-1"));
    assert!(in_project.iter().all(|d| d.organization.name == "org-0"), "names are found for a project alone");

    let in_environment = found(&server, vec![Scope::Environment(environment)]).await;
    assert_eq!(ids(&in_environment), server.environment_database_ids(environment));
    assert!(
        in_environment.iter().all(|d| d.environment.name == "production" && d.project.name == "project-1")
    );
}

#[tokio::test]
async fn overlapping_scopes_yield_each_database_once() {
    let server = fleet().await;
    let organization = server.organization_ids()[2];
    let project = server.project_ids(organization)[0];
    let environment = server.environment_ids(project)[1];

    let databases = found(
        &server,
        vec![
            Scope::Environment(environment),
            Scope::Project(project),
            Scope::Organization(organization),
            Scope::Project(project),
        ],
    )
    .await;
    let unique: HashSet<Uuid> = ids(&databases).into_iter().collect();
    assert_eq!(unique.len(), databases.len());
    assert_eq!(unique, server.organization_database_ids(organization).into_iter().collect());
}

#[tokio::test]
async fn an_empty_scope_finds_nothing_and_an_unknown_one_is_not_found() {
    let server = fleet().await;
    let organization = server.add_organization("empty");
    assert!(found(&server, vec![Scope::Organization(organization)]).await.is_empty());
    assert!(found(&server, vec![]).await.is_empty());

    let error = client(&server, policy(2))
        .databases([Scope::Environment(Uuid::nil())])
        .items()
        .try_collect::<Vec<_>>()
        .await
        .unwrap_err();
    assert!(error.is_not_found(), "{error}");
    assert!(error.to_string().contains(&format!("environment {}", Uuid::nil())), "{error}");
}

#[tokio::test(start_paused = true)]
async fn failing_discovery_calls_are_retried() {
    let server = fleet().await;
    let expected = found(&server, vec![Scope::All]).await;
    server.clear_requests();
    // The organization listing, then a project listing, then a database listing fail first.
    server.set_faults(
        FaultPlan::new().at(1, Fault::Status(503)).at(3, Fault::Reset).at(12, Fault::Status(502)),
    );

    let databases = found(&server, vec![Scope::All]).await;

    assert_eq!(ids(&databases), ids(&expected));
    let faulted = server.requests().iter().filter(|r| r.fault.is_some()).count();
    assert_eq!(faulted, 3);
}

#[tokio::test(start_paused = true)]
async fn a_discovery_call_that_keeps_failing_is_an_error_naming_it() {
    let server = fleet().await;
    server.set_faults("p=1,kinds=503,max=100".parse().unwrap());
    let error =
        client(&server, policy(2)).databases([Scope::All]).items().try_collect::<Vec<_>>().await.unwrap_err();
    assert_eq!(error.to_string().split(':').next(), Some("listing the organizations"), "{error}");
    assert_eq!(error.status().map(|s| s.as_u16()), Some(503));
}
