//! The discovery listings: organizations, projects, environments and databases, with the default
//! organization holding `MockConfig::databases`, MANAGED databases whose backups answer 404, and
//! faults applied to these calls like to any other.

mod common;

use common::{authed, client, list, start};
use qovery_backups_api::types::{
    DatabaseModeEnum, DatabaseResponseList, EnvironmentResponseList, OrganizationResponseList,
    ProjectResponseList,
};
use qovery_backups_mock::{Fault, FaultPlan, Fleet, MockConfig, MockServer};
use uuid::Uuid;

async fn get<T: serde::de::DeserializeOwned>(server: &MockServer, path: &str) -> T {
    let response = authed(server, client().get(format!("{}{path}", server.base_url()))).send().await.unwrap();
    assert_eq!(response.status(), 200, "{path}");
    response.json().await.unwrap()
}

#[tokio::test]
async fn default_organization_lists_the_configured_databases() {
    let server = start(MockConfig { databases: 2, ..MockConfig::default() }).await;

    let organizations: OrganizationResponseList = get(&server, "/organization").await;
    assert_eq!(organizations.results.len(), 1);
    assert_eq!(organizations.results[0].name, "default");
    let organization = organizations.results[0].id;
    assert_eq!(server.organization_ids(), [organization]);
    let projects: ProjectResponseList = get(&server, &format!("/organization/{organization}/project")).await;
    let project = projects.results[0].id;
    let environments: EnvironmentResponseList =
        get(&server, &format!("/project/{project}/environment")).await;
    let environment = &environments.results[0];
    assert_eq!((environment.organization.id, environment.project.id), (organization, project));
    let databases: DatabaseResponseList =
        get(&server, &format!("/environment/{}/database", environment.id)).await;
    let ids: Vec<Uuid> = databases.results.iter().map(|d| d.id).collect();
    assert_eq!(ids, server.database_ids());
    assert!(databases.results.iter().all(|d| d.mode == DatabaseModeEnum::Container));

    // One added later joins the default environment too.
    let added = server.add_database(1);
    assert!(server.environment_database_ids(environment.id).contains(&added));
}

#[tokio::test]
async fn a_seeded_fleet_is_deterministic_and_its_managed_databases_have_no_backups() {
    let config = MockConfig { databases: 1, fleet: Fleet::sample(), ..MockConfig::default() };
    let (a, b) = (start(config.clone()).await, start(config).await);
    let body = |s: &MockServer| format!("{}/organization", s.base_url());
    let text = |s: &MockServer| authed(s, client().get(body(s))).send();
    assert_eq!(text(&a).await.unwrap().text().await.unwrap(), text(&b).await.unwrap().text().await.unwrap());
    assert_eq!(a.organization_ids().len(), 3);

    let mut listed = Vec::new();
    for organization in &a.organization_ids()[1..] {
        for project in a.project_ids(*organization) {
            for environment in a.environment_ids(project) {
                let databases: DatabaseResponseList =
                    get(&a, &format!("/environment/{environment}/database")).await;
                listed.extend(databases.results);
            }
        }
    }
    assert_eq!(listed.len(), 2 * 2 * 2 * 3);
    let managed: Vec<Uuid> =
        listed.iter().filter(|d| d.mode == DatabaseModeEnum::Managed).map(|d| d.id).collect();
    assert_eq!(managed.len(), 8);
    assert_eq!(managed, a.managed_database_ids());
    for database in &listed {
        let status = list(&a, database.id, None).await.unwrap().status();
        let expected = if database.mode == DatabaseModeEnum::Managed { 404 } else { 200 };
        assert_eq!(status, expected, "{} {:?}", database.name, database.mode);
    }
}

#[tokio::test]
async fn unknown_parents_are_not_found() {
    let server = start(MockConfig::default()).await;
    let nobody = Uuid::nil();
    for path in [
        format!("/organization/{nobody}/project"),
        format!("/project/{nobody}/environment"),
        format!("/environment/{nobody}/database"),
        "/environment/not-a-uuid/database".to_owned(),
    ] {
        let response =
            authed(&server, client().get(format!("{}{path}", server.base_url()))).send().await.unwrap();
        assert_eq!(response.status(), 404, "{path}");
    }
}

#[tokio::test]
async fn faults_apply_to_the_discovery_calls() {
    let server =
        start(MockConfig { faults: FaultPlan::new().at(1, Fault::Status(503)), ..MockConfig::default() })
            .await;
    let url = format!("{}/organization", server.base_url());
    assert_eq!(authed(&server, client().get(&url)).send().await.unwrap().status(), 503);
    assert_eq!(authed(&server, client().get(&url)).send().await.unwrap().status(), 200);
    // And authentication: no token, no organizations.
    assert_eq!(client().get(&url).send().await.unwrap().status(), 401);
}
