//! `diff_upstream` picks the backup and discovery operations (by operationId) and the models they reach out of
//! a whole upstream spec, and reports each fact that differs, phrased from upstream's side.

mod common;

use common::{edit, edit_n, spec_text};
use qovery_backups_codegen::{Difference, Spec, diff_upstream};

const FULL_UPSTREAM: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/upstream_full.yaml");

fn ours() -> Spec {
    Spec::parse("openapi.yaml", &spec_text()).unwrap()
}

/// openapi.yaml as upstream has it: every `# deliberate:` difference undone, nothing else.
fn upstream_view_of_ours() -> String {
    let mut text = spec_text();
    text = edit(
        &text,
        "        # deliberate: 400 is what the API answers to a startId that names no backup.\n        \
         '400':\n          $ref: '#/components/responses/400'\n",
        "",
    );
    text = edit_n(
        &text,
        "        '429':\n          $ref: '#/components/responses/429'\n        \
         '5XX':\n          $ref: '#/components/responses/5XX'\n",
        "",
        OPERATIONS.len(),
    );
    text = edit(&text, "        required: true\n        content:\n", "        content:\n");
    // Upstream lists Database.disk_type's values inline.
    text = edit(
        &text,
        "              description: 'EBS disk type for the database. Only applicable for MANAGED mode (gp2 or gp3). Null for CONTAINER mode.'\n",
        "              description: 'EBS disk type for the database. Only applicable for MANAGED mode (gp2 or gp3). Null for CONTAINER mode.'\n              enum:\n                - gp2\n                - gp3\n",
    );
    // Upstream's error responses have no body, and there is no ApiError or Retry-After.
    let start = text
        .find("    # deliberate: upstream declares no error body")
        .expect("ApiError is marked deliberate");
    let end = text.find("  securitySchemes:\n").expect("securitySchemes follow the responses");
    let responses: String = ["204", "400", "401", "403", "404"]
        .iter()
        .zip([
            "no content",
            "Bad request",
            "Access token is missing or invalid",
            "Access forbidden",
            "Resource not found",
        ])
        .map(|(status, description)| format!("    '{status}':\n      description: {description}\n"))
        .collect();
    text.replace_range(start..end, &format!("  responses:\n{responses}"));
    text
}

fn upstream(text: &str) -> Spec {
    Spec::parse("upstream.yaml", text).expect("the upstream fixture parses")
}

fn response_removed(operation_id: &str, status: &str) -> Difference {
    Difference::Response { operation_id: operation_id.into(), status: status.into(), added: false }
}

/// Every operation of openapi.yaml: the three backup calls, the four discovery listings, and
/// getDatabase.
const OPERATIONS: [&str; 8] = [
    "listDatabaseBackup",
    "addBackupDatabase",
    "removeDatabaseBackup",
    "getDatabase",
    "listOrganization",
    "listProject",
    "listEnvironment",
    "listDatabase",
];

/// The models only the discovery operations reach.
const DISCOVERY_MODELS: [&str; 28] = [
    "Annotation",
    "Database",
    "DatabaseAccessibilityEnum",
    "DatabaseModeEnum",
    "DatabaseRequest",
    "DatabaseResponseList",
    "DatabaseTypeEnum",
    "Environment",
    "EnvironmentModeEnum",
    "EnvironmentResponseList",
    "Label",
    "Organization",
    "OrganizationAnnotationsGroupResponse",
    "OrganizationAnnotationsGroupResponseList",
    "OrganizationAnnotationsGroupScopeEnum",
    "OrganizationLabelsGroupResponse",
    "OrganizationLabelsGroupResponseList",
    "OrganizationRequest",
    "OrganizationResponseList",
    "PlanEnum",
    "Project",
    "ProjectResponseList",
    "ReferenceObject",
    "ServiceAnnotationRequest",
    "ServiceAnnotationsRequestList",
    "ServiceLabelRequest",
    "ServiceLabelsRequestList",
    "ServiceTypeEnum",
];

/// What openapi.yaml changes on purpose (README.md lists them): the 400/429/5XX responses,
/// the required create body, and ApiError. (`page`/`page_size` are `number`s, as upstream;
/// Database.disk_type's inline enum is dropped, which the diff does not compare.)
fn deliberate() -> Vec<Difference> {
    let mut expected = vec![response_removed("listDatabaseBackup", "400")];
    for operation_id in OPERATIONS {
        expected.push(response_removed(operation_id, "429"));
        expected.push(response_removed(operation_id, "5XX"));
    }
    expected.push(Difference::ParameterRequired {
        operation_id: "addBackupDatabase".into(),
        parameter: "body".into(),
        upstream: false,
    });
    expected.push(Difference::Model { model: "ApiError".into(), added: false });
    expected.sort();
    expected
}

fn shown(differences: &[Difference]) -> Vec<String> {
    differences.iter().map(ToString::to_string).collect()
}

#[test]
fn spec_against_itself_has_no_differences() {
    assert_eq!(diff_upstream(&ours(), &ours()), []);
}

#[test]
fn upstream_identical_in_the_backup_parts_reports_only_the_deliberate_differences() {
    let differences = diff_upstream(&ours(), &upstream(&upstream_view_of_ours()));

    assert_eq!(differences, deliberate());
    assert_eq!(
        shown(&differences),
        [
            "operation addBackupDatabase: response 429 removed upstream",
            "operation addBackupDatabase: response 5XX removed upstream",
            "operation getDatabase: response 429 removed upstream",
            "operation getDatabase: response 5XX removed upstream",
            "operation listDatabase: response 429 removed upstream",
            "operation listDatabase: response 5XX removed upstream",
            "operation listDatabaseBackup: response 400 removed upstream",
            "operation listDatabaseBackup: response 429 removed upstream",
            "operation listDatabaseBackup: response 5XX removed upstream",
            "operation listEnvironment: response 429 removed upstream",
            "operation listEnvironment: response 5XX removed upstream",
            "operation listOrganization: response 429 removed upstream",
            "operation listOrganization: response 5XX removed upstream",
            "operation listProject: response 429 removed upstream",
            "operation listProject: response 5XX removed upstream",
            "operation removeDatabaseBackup: response 429 removed upstream",
            "operation removeDatabaseBackup: response 5XX removed upstream",
            "operation addBackupDatabase: `body` is optional upstream, required in openapi.yaml",
            "model ApiError: removed upstream",
        ]
    );
}

#[test]
fn full_upstream_reports_new_enum_value_and_removed_property_and_ignores_unrelated_parts() {
    let text = std::fs::read_to_string(FULL_UPSTREAM).unwrap();
    // The fixture really is a bigger spec: operations and models the diff must leave alone.
    for unrelated in ["operationId: getOrganization", "    Organization:", "    PlanEnum:"] {
        assert!(text.contains(unrelated), "fixture lacks {unrelated}");
    }

    let differences = diff_upstream(&ours(), &upstream(&text));

    let new_value =
        Difference::EnumValue { model: "StateEnum".into(), value: "SUSPENDED".into(), added: true };
    let removed =
        Difference::Property { model: "Status".into(), property: "execution_id".into(), added: false };
    assert_eq!(new_value.to_string(), "enum StateEnum: value SUSPENDED added upstream");
    assert_eq!(removed.to_string(), "model Status: property `execution_id` removed upstream");
    // The fixture predates the discovery operations and getDatabase: they, and the models only
    // they reach, are reported missing, and nothing else about them.
    let mut expected: Vec<Difference> = deliberate()
        .into_iter()
        .filter(|d| !matches!(d, Difference::Response { operation_id, .. } if OPERATIONS[3..].contains(&operation_id.as_str())))
        .collect();
    expected
        .extend(OPERATIONS[3..].iter().map(|id| Difference::OperationMissing { operation_id: (*id).into() }));
    expected.extend(DISCOVERY_MODELS.iter().map(|m| Difference::Model { model: (*m).into(), added: false }));
    expected.extend([new_value, removed]);
    expected.sort();
    assert_eq!(differences, expected, "{:#?}", shown(&differences));
}

#[test]
fn operation_gone_upstream_is_reported() {
    let text =
        edit(&upstream_view_of_ours(), "operationId: removeDatabaseBackup", "operationId: deleteBackup");

    let differences = diff_upstream(&ours(), &upstream(&text));

    let gone = Difference::OperationMissing { operation_id: "removeDatabaseBackup".into() };
    assert!(differences.contains(&gone), "{differences:#?}");
    assert_eq!(gone.to_string(), "operation removeDatabaseBackup: not in upstream");
}

#[test]
fn required_and_nullable_changes_upstream_are_reported() {
    // As upstream was before 2025-10: sub_action optional; and total_duration_sec not nullable.
    let mut text =
        edit(&upstream_view_of_ours(), "        - status\n        - sub_action\n", "        - status\n");
    text = edit(&text, "          type: integer\n          nullable: true\n", "          type: integer\n");

    let differences = diff_upstream(&ours(), &upstream(&text));

    let optional = Difference::Required {
        model: "StatusDetails".into(),
        property: "sub_action".into(),
        upstream: false,
    };
    let not_null = Difference::Nullable {
        model: "ServiceStepMetrics".into(),
        property: "total_duration_sec".into(),
        upstream: false,
    };
    let mut expected = deliberate();
    expected.extend([optional.clone(), not_null.clone()]);
    expected.sort();
    assert_eq!(differences, expected);
    assert_eq!(
        optional.to_string(),
        "model StatusDetails: property `sub_action` is optional upstream, required in openapi.yaml"
    );
    assert_eq!(
        not_null.to_string(),
        "model ServiceStepMetrics: property `total_duration_sec` is not nullable upstream, nullable in openapi.yaml"
    );
}

#[test]
fn parameter_changes_upstream_are_reported() {
    // Upstream adds a page-size query parameter to the list operation and makes startId required.
    let mut text = edit(
        &upstream_view_of_ours(),
        "        - $ref: '#/components/parameters/startId'\n",
        "        - $ref: '#/components/parameters/startId'\n        - name: pageSize\n          in: query\n          \
         schema:\n            type: integer\n",
    );
    text = edit(
        &text,
        "      description: Starting point after which to return results\n      required: false\n",
        "      description: Starting point after which to return results\n      required: true\n",
    );

    let differences = diff_upstream(&ours(), &upstream(&text));

    let page_size = Difference::Parameter {
        operation_id: "listDatabaseBackup".into(),
        parameter: "query pageSize".into(),
        added: true,
    };
    let start_id = Difference::ParameterRequired {
        operation_id: "listDatabaseBackup".into(),
        parameter: "query startId".into(),
        upstream: true,
    };
    assert!(differences.contains(&page_size), "{differences:?}");
    assert!(differences.contains(&start_id), "{differences:?}");
    assert_eq!(
        page_size.to_string(),
        "operation listDatabaseBackup: parameter `query pageSize` added upstream"
    );
    assert_eq!(
        start_id.to_string(),
        "operation listDatabaseBackup: `query startId` is required upstream, optional in openapi.yaml"
    );
}

#[test]
fn type_changes_upstream_are_reported() {
    let text = edit(
        &upstream_view_of_ours(),
        "          type: number\n          example: 20\n",
        "          type: integer\n          example: 20\n",
    );
    let differences = diff_upstream(&ours(), &upstream(&text));
    let changed = Difference::Type {
        model: "PaginationData".into(),
        property: "page_size".into(),
        ours: "number".into(),
        upstream: "integer".into(),
    };
    assert!(differences.contains(&changed), "{differences:#?}");
    assert_eq!(
        changed.to_string(),
        "model PaginationData: property `page_size` is integer upstream, number in openapi.yaml"
    );
}
