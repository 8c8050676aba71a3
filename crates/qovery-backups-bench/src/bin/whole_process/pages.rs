//! The listing the server answers with: seeded backups, rendered into complete HTTP responses,
//! one per page, before any timing starts.

use std::collections::HashMap;

use chrono::{DateTime, Duration, TimeZone as _, Utc};
use qovery_backups_api::types::{
    Backup, ServiceActionEnum, ServiceActionStatusEnum, ServiceDeploymentStatusEnum, ServiceStepMetric,
    ServiceStepMetricNameEnum, ServiceStepMetrics, ServiceSubActionEnum, StateEnum, Status, StatusDetails,
    StepMetricStatusEnum,
};
use qovery_backups_bench::SplitMix64;
use uuid::Uuid;

/// The API's page size.
pub const PAGE_SIZE: usize = 20;

/// Every answer the server can give, as bytes ready for the socket.
pub struct Pages {
    /// The page for each request, in listing order: `responses[0]` answers a request without
    /// `startId`; the last one is the empty page that ends the listing.
    pub responses: Vec<Vec<u8>>,
    /// The index in `responses` of the page that follows each `startId`.
    pub after: HashMap<Uuid, usize>,
    /// 401, for a request without the right `Authorization`.
    pub unauthorized: Vec<u8>,
    /// 404, for anything but the database's listing.
    pub not_found: Vec<u8>,
    /// Bytes of all the pages' bodies, for the report.
    pub body_bytes: usize,
}

impl Pages {
    /// `count` seeded backups, newest first, in pages of [`PAGE_SIZE`].
    pub fn render(count: usize, seed: u64) -> Pages {
        let mut rng = SplitMix64::new(seed);
        let newest = Utc.with_ymd_and_hms(2026, 11, 27, 3, 0, 0).single().expect("a valid date");
        let mut responses = Vec::with_capacity(count / PAGE_SIZE + 2);
        let mut after = HashMap::with_capacity(count / PAGE_SIZE + 1);
        let mut body_bytes = 0;
        let mut page = Vec::with_capacity(PAGE_SIZE);
        let mut index = 0;
        loop {
            page.clear();
            while page.len() < PAGE_SIZE && index < count {
                page.push(backup(&mut rng, index, newest));
                index += 1;
            }
            let body = body(responses.len() as i64 + 1, &page);
            body_bytes += body.len();
            responses.push(response("200 OK", &body));
            if page.len() < PAGE_SIZE {
                // A short (or empty) page ends the listing.
                break;
            }
            let last = page.last().expect("a full page").id;
            after.insert(last, responses.len());
        }
        Pages {
            responses,
            after,
            unauthorized: response("401 Unauthorized", br#"{"status":401,"detail":"bad token"}"#),
            not_found: response("404 Not Found", br#"{"status":404,"detail":"no such database"}"#),
            body_bytes,
        }
    }
}

fn body(number: i64, results: &[Backup]) -> Vec<u8> {
    // By hand rather than through the generated type, which leaves an empty `results` out: the
    // real API sends `"results": []`.
    let mut body = format!(r#"{{"page":{number},"page_size":{PAGE_SIZE},"results":"#).into_bytes();
    serde_json::to_writer(&mut body, results).expect("backups serialize");
    body.push(b'}');
    body
}

fn response(status: &str, body: &[u8]) -> Vec<u8> {
    let mut response = format!(
        "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    response.extend_from_slice(body);
    response
}

/// One backup, shaped like the API's: finished mostly with success, some errors and cancels, a
/// few steps each. Seeded, so both programs of a pair and every run see the same bytes.
fn backup(rng: &mut SplitMix64, index: usize, newest: DateTime<Utc>) -> Backup {
    let id = Uuid::from_u64_pair(rng.next_u64(), rng.next_u64());
    let created_at =
        newest - Duration::hours(index as i64 * 6) - Duration::seconds(rng.between(0, 600) as i64);
    let queue_secs = rng.between(0, 40) as i64;
    let work_secs = rng.between(20, 900) as i64;
    let (state, action_status, step_status) = match rng.between(0, 99) {
        0..86 => (StateEnum::Deployed, ServiceActionStatusEnum::Success, StepMetricStatusEnum::Success),
        86..94 => (StateEnum::DeploymentError, ServiceActionStatusEnum::Error, StepMetricStatusEnum::Error),
        _ => (StateEnum::Canceled, ServiceActionStatusEnum::Canceled, StepMetricStatusEnum::Cancel),
    };
    let step = |name, status, secs| ServiceStepMetric {
        step_name: Some(name),
        status: Some(status),
        duration_sec: Some(secs),
    };
    let status_id = Uuid::from_u64_pair(rng.next_u64(), rng.next_u64());
    Backup {
        id,
        created_at,
        updated_at: Some(created_at + Duration::seconds(queue_secs + work_secs)),
        name: format!("nightly-{}", created_at.format("%Y-%m-%d")),
        message: format!("scheduled backup #{}", 100_000_000 - index),
        status: Some(Status {
            id: status_id,
            state,
            service_deployment_status: if index == 0 {
                ServiceDeploymentStatusEnum::UpToDate
            } else {
                ServiceDeploymentStatusEnum::OutOfDate
            },
            status_details: StatusDetails {
                action: ServiceActionEnum::Deploy,
                status: action_status,
                sub_action: ServiceSubActionEnum::None,
            },
            is_part_last_deployment: index == 0,
            deployment_request_id: rng
                .chance(0.95)
                .then(|| Uuid::from_u64_pair(rng.next_u64(), rng.next_u64())),
            deployment_requests_count: rng.between(1, 3) as i64,
            last_deployment_date: Some(created_at + Duration::seconds(queue_secs)),
            execution_id: Some(format!("{}-1", status_id.simple())),
            steps: Some(ServiceStepMetrics {
                total_duration_sec: Some(queue_secs + work_secs),
                total_computing_duration_sec: work_secs,
                details: vec![
                    step(
                        ServiceStepMetricNameEnum::DeploymentQueueing,
                        StepMetricStatusEnum::Success,
                        queue_secs,
                    ),
                    step(ServiceStepMetricNameEnum::Deployment, step_status, work_secs),
                ],
            }),
        }),
    }
}
