//! The in-memory data: databases and their backups, seeded deterministically.
//!
//! A seeded backup is stored as a few words (its position in the seed, its id and creation
//! time) and its full `Backup` is derived again from the seed each time it is served. The memory
//! benchmark (`qovery-backups-bench --bin memory`) serves 1,110,000 of them from one mock, and the
//! difference is measured (`cargo run --release -p qovery-backups-mock --example list_million`,
//! 1,000,000 backups): derived again, the mock starts in 0.74 s and peaks at 187 MiB; every
//! `Backup` built at start and kept, it took 3.60 s and 946 MiB.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Datelike, Duration as ChronoDuration, TimeZone, Utc};
use qovery_backups_api::types::{
    Backup, ServiceActionEnum, ServiceActionStatusEnum, ServiceDeploymentStatusEnum, ServiceStepMetric,
    ServiceStepMetricNameEnum, ServiceStepMetrics, ServiceSubActionEnum, StateEnum, Status, StatusDetails,
    StepMetricStatusEnum,
};
use rand::rngs::ChaCha8Rng;
use rand::{Rng, RngExt, SeedableRng};
use tokio::time::Instant;
use uuid::Uuid;

use crate::lifecycle::{Lifecycle, progress};

// Domains keep the generators of different kinds of data independent: adding a database, or a
// backup to one, never shifts any other value.
const DOMAIN_DATABASE: u32 = 1;
const DOMAIN_BACKUP: u32 = 2;
const DOMAIN_TIMELINE: u32 = 3;
const DOMAIN_CREATED: u32 = 4;

/// How the seeded backups of a database are spread in time, and how many are left unfinished.
///
/// ```
/// use qovery_backups_mock::{History, MockConfig};
///
/// // Backups from an hour to six years old, for retention rules to decide on.
/// let config = MockConfig { history: History::Retention, ..MockConfig::default() };
/// assert_ne!(config.history, History::default());
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum History {
    /// About a day apart, like nightly backups (packed closer past two years' worth, so that even a
    /// million fit in the last two years); only the newest can still be in progress.
    #[default]
    Nightly,
    /// Spread from about an hour old to about six years old, dense when recent and sparse when
    /// old (the age grows geometrically), so that hourly, daily, weekly, monthly and yearly
    /// retention rules all have backups to keep and to drop. Besides failed (`ERROR`) and
    /// `CANCELED` ones, about one in twenty-five is still in progress (`QUEUED` or `ONGOING`),
    /// stuck, whatever its age.
    Retention,
}

/// Why a store operation failed; the HTTP layer turns each into its status and detail.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum StoreError {
    UnknownDatabase(Uuid),
    UnknownCursor { database: Uuid, cursor: Uuid },
    UnknownBackup { database: Uuid, backup: Uuid },
    DuplicateBackup(Uuid),
}

pub(crate) struct Store {
    seed: u64,
    history: History,
    databases: Vec<Database>,
    by_id: HashMap<Uuid, usize>,
    /// Ids of backups created through the API, and of databases added without a seed position.
    created_rng: ChaCha8Rng,
    next_seq: u64,
    next_ordinal: u32,
}

struct Database {
    id: Uuid,
    ordinal: u32,
    seeded: u32,
    /// Oldest first, ordered by (created_at, seq): listing walks it backwards.
    entries: Vec<Entry>,
    by_id: HashMap<Uuid, Key>,
}

type Key = (DateTime<Utc>, u64);

struct Entry {
    created_at: DateTime<Utc>,
    seq: u64,
    id: Uuid,
    body: Body,
}

enum Body {
    Seeded(u32),
    Stored(Box<Backup>),
    /// Created through the API: served as [`progress`] says at the time of serving.
    Created(Box<Created>),
}

struct Created {
    /// The body the create answered, `QUEUED`.
    queued: Backup,
    /// When it was created, on tokio's clock.
    at: Instant,
    lifecycle: Lifecycle,
    outcome: ServiceActionStatusEnum,
}

impl Entry {
    fn key(&self) -> Key {
        (self.created_at, self.seq)
    }
}

/// One page as the store answers it.
pub(crate) struct Page {
    pub(crate) page: i64,
    pub(crate) results: Vec<Backup>,
}

impl Store {
    pub(crate) fn new(seed: u64, history: History) -> Self {
        Self {
            seed,
            history,
            databases: Vec::new(),
            by_id: HashMap::new(),
            created_rng: record_rng(seed, DOMAIN_CREATED, 0, 0),
            next_seq: 0,
            next_ordinal: 0,
        }
    }

    pub(crate) fn database_ids(&self) -> Vec<Uuid> {
        self.databases.iter().map(|d| d.id).collect()
    }

    /// Adds a database holding `count` seeded backups; its id and data depend only on the seed
    /// and on how many databases were added before it.
    pub(crate) fn add_seeded_database(&mut self, count: usize) -> Uuid {
        let ordinal = self.next_ordinal;
        // Never reused, even after a removal, so no two databases share seeded data.
        self.next_ordinal = self.next_ordinal.saturating_add(1);
        let count = u32::try_from(count).unwrap_or(u32::MAX);
        let mut id = uuid_from(&mut record_rng(self.seed, DOMAIN_DATABASE, ordinal, 0));
        while self.by_id.contains_key(&id) {
            id = uuid_from(&mut self.created_rng);
        }
        let times = match self.history {
            History::Nightly => seeded_timeline(self.seed, ordinal, count),
            History::Retention => retention_timeline(self.seed, ordinal, count),
        };
        let mut database = Database {
            id,
            ordinal,
            seeded: count,
            entries: Vec::with_capacity(count as usize),
            by_id: HashMap::with_capacity(count as usize),
        };
        for (serial, created_at) in (0..count).zip(times) {
            let backup_id = uuid_from(&mut record_rng(self.seed, DOMAIN_BACKUP, ordinal, serial.into()));
            let seq = self.next_seq;
            self.next_seq += 1;
            // A repeated id would take 2^61 draws to be likely: keep the first, skip the rest.
            if database.by_id.contains_key(&backup_id) {
                continue;
            }
            database.by_id.insert(backup_id, (created_at, seq));
            database.entries.push(Entry { created_at, seq, id: backup_id, body: Body::Seeded(serial) });
        }
        self.by_id.insert(id, self.databases.len());
        self.databases.push(database);
        id
    }

    /// Adds a database holding exactly these backups, listed by their `created_at`.
    pub(crate) fn add_database_with(&mut self, backups: Vec<Backup>) -> Result<Uuid, StoreError> {
        let mut seen = HashSet::new();
        for backup in &backups {
            if !seen.insert(backup.id) {
                return Err(StoreError::DuplicateBackup(backup.id));
            }
        }
        let id = self.add_seeded_database(0);
        for backup in backups {
            self.insert(id, backup)?;
        }
        Ok(id)
    }

    pub(crate) fn remove_database(&mut self, id: Uuid) -> bool {
        let Some(position) = self.by_id.remove(&id) else {
            return false;
        };
        self.databases.remove(position);
        for (i, database) in self.databases.iter().enumerate().skip(position) {
            self.by_id.insert(database.id, i);
        }
        true
    }

    fn database(&self, id: Uuid) -> Result<&Database, StoreError> {
        self.by_id.get(&id).map(|&i| &self.databases[i]).ok_or(StoreError::UnknownDatabase(id))
    }

    fn database_mut(&mut self, id: Uuid) -> Result<&mut Database, StoreError> {
        match self.by_id.get(&id) {
            Some(&i) => Ok(&mut self.databases[i]),
            None => Err(StoreError::UnknownDatabase(id)),
        }
    }

    pub(crate) fn has_database(&self, id: Uuid) -> bool {
        self.by_id.contains_key(&id)
    }

    pub(crate) fn count(&self, id: Uuid) -> Option<usize> {
        self.database(id).ok().map(|d| d.entries.len())
    }

    /// Every backup of the database, newest first.
    pub(crate) fn backups(&self, id: Uuid) -> Result<Vec<Backup>, StoreError> {
        let database = self.database(id)?;
        Ok(database.entries.iter().rev().map(|entry| self.materialize(database, entry)).collect())
    }

    /// The backup at `index` in the listing order (0 is the newest).
    pub(crate) fn nth_newest(&self, id: Uuid, index: usize) -> Option<Backup> {
        let database = self.database(id).ok()?;
        let position = database.entries.len().checked_sub(index.checked_add(1)?)?;
        Some(self.materialize(database, &database.entries[position]))
    }

    /// The newest backup of the first database that has one.
    pub(crate) fn first_backup(&self) -> Option<Backup> {
        let (database, entry) = self.databases.iter().find_map(|d| d.entries.last().map(|e| (d, e)))?;
        Some(self.materialize(database, entry))
    }

    /// One backup as it is now.
    pub(crate) fn backup(&self, id: Uuid, backup: Uuid) -> Option<Backup> {
        let database = self.database(id).ok()?;
        database.position(backup).map(|p| self.materialize(database, &database.entries[p]))
    }

    pub(crate) fn backup_ids(&self, id: Uuid) -> Result<Vec<Uuid>, StoreError> {
        Ok(self.database(id)?.entries.iter().rev().map(|e| e.id).collect())
    }

    /// The page after `cursor` (or the first page), newest first.
    pub(crate) fn page(&self, id: Uuid, cursor: Option<Uuid>, page_size: usize) -> Result<Page, StoreError> {
        let database = self.database(id)?;
        let end = match cursor {
            None => database.entries.len(),
            Some(cursor) => {
                database.position(cursor).ok_or(StoreError::UnknownCursor { database: id, cursor })?
            }
        };
        // Everything newer than the page, cursor included, came on earlier pages; a partial
        // earlier page still counts as one, so a client walking the cursor sees 1, 2, 3, … even
        // past a short page.
        let before = database.entries.len() - end;
        let page = i64::try_from(before.div_ceil(page_size) + 1).unwrap_or(i64::MAX);
        let start = end.saturating_sub(page_size);
        let results = database.entries[start..end]
            .iter()
            .rev()
            .map(|entry| self.materialize(database, entry))
            .collect();
        Ok(Page { page, results })
    }

    /// Creates a queued backup, newer than every backup of the database, that will move along
    /// `lifecycle` from `at` and end with `outcome`.
    pub(crate) fn create(
        &mut self,
        id: Uuid,
        request: (String, String),
        now: DateTime<Utc>,
        at: Instant,
        (lifecycle, outcome): (Lifecycle, ServiceActionStatusEnum),
    ) -> Result<Backup, StoreError> {
        let (name, message) = request;
        let index = *self.by_id.get(&id).ok_or(StoreError::UnknownDatabase(id))?;
        let newest = self.databases[index].entries.last().map(|e| e.created_at);
        // The wall clock can stand still or step back; the listing order must not.
        let created_at = match newest {
            Some(newest) if newest >= now => newest + ChronoDuration::milliseconds(1),
            _ => now,
        };
        let mut backup_id = uuid_from(&mut self.created_rng);
        while self.databases[index].by_id.contains_key(&backup_id) {
            backup_id = uuid_from(&mut self.created_rng);
        }
        let backup = Backup {
            id: backup_id,
            created_at,
            updated_at: Some(created_at),
            name,
            message,
            status: Some(Status {
                id: uuid_from(&mut self.created_rng),
                state: StateEnum::Queued,
                service_deployment_status: ServiceDeploymentStatusEnum::NeverDeployed,
                status_details: StatusDetails {
                    action: ServiceActionEnum::Deploy,
                    status: ServiceActionStatusEnum::Queued,
                    sub_action: ServiceSubActionEnum::None,
                },
                is_part_last_deployment: true,
                deployment_request_id: Some(uuid_from(&mut self.created_rng)),
                deployment_requests_count: 1,
                last_deployment_date: None,
                execution_id: None,
                steps: Some(ServiceStepMetrics {
                    total_duration_sec: None,
                    total_computing_duration_sec: 0,
                    details: Vec::new(),
                }),
            }),
        };
        let body = Body::Created(Box::new(Created { queued: backup.clone(), at, lifecycle, outcome }));
        self.insert_body(id, body, backup.id, backup.created_at)?;
        Ok(backup)
    }

    /// Inserts a backup where its `created_at` puts it.
    pub(crate) fn insert(&mut self, id: Uuid, backup: Backup) -> Result<(), StoreError> {
        let (backup_id, created_at) = (backup.id, backup.created_at);
        self.insert_body(id, Body::Stored(Box::new(backup)), backup_id, created_at)
    }

    fn insert_body(
        &mut self,
        id: Uuid,
        body: Body,
        backup_id: Uuid,
        created_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let seq = self.next_seq;
        let database = self.database_mut(id)?;
        if database.by_id.contains_key(&backup_id) {
            return Err(StoreError::DuplicateBackup(backup_id));
        }
        let entry = Entry { created_at, seq, id: backup_id, body };
        let key = entry.key();
        let position = database.entries.binary_search_by_key(&key, Entry::key).unwrap_or_else(|p| p);
        database.by_id.insert(entry.id, key);
        database.entries.insert(position, entry);
        self.next_seq += 1;
        Ok(())
    }

    pub(crate) fn delete(&mut self, id: Uuid, backup: Uuid) -> Result<(), StoreError> {
        let database = self.database_mut(id)?;
        let position = database.position(backup).ok_or(StoreError::UnknownBackup { database: id, backup })?;
        database.entries.remove(position);
        database.by_id.remove(&backup);
        Ok(())
    }

    fn materialize(&self, database: &Database, entry: &Entry) -> Backup {
        match &entry.body {
            Body::Stored(backup) => (**backup).clone(),
            Body::Created(created) => {
                progress(&created.queued, created.at.elapsed(), created.lifecycle, &created.outcome)
            }
            Body::Seeded(serial) => seeded_backup(
                self.seed,
                self.history,
                database.ordinal,
                *serial,
                database.seeded,
                entry.id,
                entry.created_at,
            ),
        }
    }
}

impl Database {
    fn position(&self, backup: Uuid) -> Option<usize> {
        let key = self.by_id.get(&backup)?;
        self.entries.binary_search_by_key(key, Entry::key).ok()
    }
}

/// A generator for one record: seeded from the server seed, a domain, a database and a serial,
/// so any record can be derived again on its own.
pub(crate) fn record_rng(seed: u64, domain: u32, database: u32, serial: u64) -> ChaCha8Rng {
    let mut bytes = [0u8; 32];
    bytes[..8].copy_from_slice(&seed.to_le_bytes());
    bytes[8..12].copy_from_slice(&domain.to_le_bytes());
    bytes[12..16].copy_from_slice(&database.to_le_bytes());
    bytes[16..24].copy_from_slice(&serial.to_le_bytes());
    ChaCha8Rng::from_seed(bytes)
}

pub(crate) fn uuid_from(rng: &mut ChaCha8Rng) -> Uuid {
    let mut bytes = [0u8; 16];
    rng.fill_bytes(&mut bytes);
    uuid::Builder::from_random_bytes(bytes).into_uuid()
}

/// The newest seeded backup of every database is taken a little before this instant, so that
/// anything created through the API (at the wall clock's "now") is newer.
pub(crate) fn anchor() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 20, 2, 0, 0).single().unwrap_or(DateTime::<Utc>::UNIX_EPOCH)
}

/// Creation times of `count` seeded backups, oldest first, strictly increasing, whole seconds.
///
/// A few dozen backups are about a day apart, like nightly ones; a large database packs them
/// closer so that even a million fit in the last two years.
fn seeded_timeline(seed: u64, ordinal: u32, count: u32) -> Vec<DateTime<Utc>> {
    let mut rng = record_rng(seed, DOMAIN_TIMELINE, ordinal, 0);
    let span_secs: i64 = 2 * 365 * 24 * 3600;
    let mean_gap = (span_secs / i64::from(count.max(1))).clamp(1, 24 * 3600);
    let mut time = anchor() - ChronoDuration::seconds(rng.random_range(0..3600));
    let mut times = vec![time; count as usize];
    for slot in times.iter_mut().rev() {
        *slot = time;
        let jitter = mean_gap / 4;
        let gap = (mean_gap + rng.random_range(-jitter..=jitter)).max(1);
        time -= ChronoDuration::seconds(gap);
    }
    times
}

/// Creation times of `count` seeded backups for [`History::Retention`], oldest first, strictly
/// increasing, whole seconds.
///
/// The `i`th newest (from 0) is about `1 h × (6 years / 1 h)^((i - 1) / (count - 2))` older than the newest
/// (±10 %), at least a second older than the one after it: a geometric spread, so every scale
/// from hours to years has backups at any count from a dozen up. One draw and one `exp` a backup
/// keep a million quick to make.
fn retention_timeline(seed: u64, ordinal: u32, count: u32) -> Vec<DateTime<Utc>> {
    const HOUR: f64 = 3600.0;
    const OLDEST: f64 = 6.0 * 365.25 * 24.0 * 3600.0;
    let mut rng = record_rng(seed, DOMAIN_TIMELINE, ordinal, 1);
    let newest = anchor() - ChronoDuration::seconds(rng.random_range(0..3600));
    let growth = (OLDEST / HOUR).ln();
    // The second newest is an hour old, the oldest six years (before jitter).
    let steps = f64::from(count.saturating_sub(2).max(1));
    let mut times = vec![newest; count as usize];
    let mut previous_age: i64 = 0;
    for (i, slot) in times.iter_mut().rev().enumerate() {
        if i > 0 {
            let target = HOUR * (growth * (i as f64 - 1.0) / steps).exp() * rng.random_range(0.9..1.1);
            previous_age = (target as i64).max(previous_age + 1);
        }
        *slot = newest - ChronoDuration::seconds(previous_age);
    }
    times
}

fn pick<'a, T>(rng: &mut ChaCha8Rng, items: &'a [T]) -> &'a T {
    &items[rng.random_range(0..items.len())]
}

/// Derives one seeded backup. `serial` 0 is the oldest; `seeded` is how many the database was
/// seeded with, so the newest can look in progress.
fn seeded_backup(
    seed: u64,
    history: History,
    ordinal: u32,
    serial: u32,
    seeded: u32,
    id: Uuid,
    created_at: DateTime<Utc>,
) -> Backup {
    let mut rng = record_rng(seed, DOMAIN_BACKUP, ordinal, serial.into());
    // The first draw made the id at seeding time; draw it again to stay on the same stream.
    let _id = uuid_from(&mut rng);
    let newest = serial + 1 == seeded;
    let date = created_at.format("%Y-%m-%d");
    let (name, message) = match rng.random_range(0..100u32) {
        0..60 => (format!("nightly-{date}"), "Scheduled nightly backup".to_owned()),
        60..72 => {
            let migration = pick(
                &mut rng,
                &["add_invoice_index", "split_users_table", "drop_legacy_sessions", "backfill_tenant_id"],
            );
            (
                "pre-migration".to_owned(),
                format!("Before running migration {}_{migration}", created_at.format("%Y%m%d%H%M")),
            )
        }
        72..82 => {
            let version = format!(
                "v{}.{}.{}",
                rng.random_range(1..5u32),
                rng.random_range(0..30u32),
                rng.random_range(0..10u32)
            );
            (format!("pre-deploy-{version}"), format!("Before deploying api {version}"))
        }
        82..90 => {
            let week = created_at.iso_week();
            (
                format!("weekly-{}-W{:02}", week.year(), week.week()),
                "Weekly full backup, kept 90 days".to_owned(),
            )
        }
        _ => {
            let who = pick(&mut rng, &["alice", "bob", "ops-bot", "carol"]);
            (format!("manual-{date}"), format!("Requested by {who}@example.com"))
        }
    };

    let status_id = uuid_from(&mut rng);
    let deployment_request_id = if rng.random_bool(0.95) { Some(uuid_from(&mut rng)) } else { None };
    let deployment_requests_count = rng.random_range(1..4i64);
    let queue_secs = rng.random_range(0..40i64);
    let work_secs = rng.random_range(20..900i64);
    let mirror_skipped = rng.random_bool(0.3);
    let in_progress = newest && rng.random_bool(0.4);
    // Drawn only for this history, so that the nightly one stays what it was for every seed.
    let stuck = history == History::Retention && rng.random_bool(0.04);
    let in_progress = in_progress || stuck;

    let queue_step = ServiceStepMetric {
        step_name: Some(ServiceStepMetricNameEnum::DeploymentQueueing),
        status: Some(StepMetricStatusEnum::Success),
        duration_sec: Some(queue_secs),
    };
    let mirror_step = ServiceStepMetric {
        step_name: Some(ServiceStepMetricNameEnum::MirrorImage),
        status: Some(StepMetricStatusEnum::Skip),
        duration_sec: Some(0),
    };
    let work_step = |status: StepMetricStatusEnum| ServiceStepMetric {
        step_name: Some(ServiceStepMetricNameEnum::Deployment),
        status: Some(status),
        duration_sec: Some(work_secs),
    };

    let (state, action_status, details, finished) = if in_progress {
        let state =
            pick(&mut rng, &[StateEnum::Deploying, StateEnum::Executing, StateEnum::DeploymentQueued])
                .clone();
        let action_status = if state == StateEnum::DeploymentQueued {
            ServiceActionStatusEnum::Queued
        } else {
            ServiceActionStatusEnum::Ongoing
        };
        let details =
            if action_status == ServiceActionStatusEnum::Queued { Vec::new() } else { vec![queue_step] };
        (state, action_status, details, false)
    } else {
        let (state, action_status, step_status) = match rng.random_range(0..100u32) {
            0..86 => (StateEnum::Deployed, ServiceActionStatusEnum::Success, StepMetricStatusEnum::Success),
            86..94 => {
                (StateEnum::DeploymentError, ServiceActionStatusEnum::Error, StepMetricStatusEnum::Error)
            }
            _ => (StateEnum::Canceled, ServiceActionStatusEnum::Canceled, StepMetricStatusEnum::Cancel),
        };
        let mut details = vec![queue_step];
        if mirror_skipped {
            details.push(mirror_step);
        }
        details.push(work_step(step_status));
        (state, action_status, details, true)
    };

    let total_duration = queue_secs + work_secs;
    let steps = ServiceStepMetrics {
        total_duration_sec: finished.then_some(total_duration),
        total_computing_duration_sec: if finished { work_secs } else { 0 },
        details,
    };
    let started = created_at + ChronoDuration::seconds(queue_secs);
    Backup {
        id,
        created_at,
        updated_at: finished.then(|| created_at + ChronoDuration::seconds(total_duration)),
        name,
        message,
        status: Some(Status {
            id: status_id,
            state,
            service_deployment_status: if newest {
                ServiceDeploymentStatusEnum::UpToDate
            } else {
                ServiceDeploymentStatusEnum::OutOfDate
            },
            status_details: StatusDetails {
                action: ServiceActionEnum::Deploy,
                status: action_status.clone(),
                sub_action: ServiceSubActionEnum::None,
            },
            is_part_last_deployment: newest,
            deployment_request_id,
            deployment_requests_count,
            // A deployment still queued has not started yet.
            last_deployment_date: (action_status != ServiceActionStatusEnum::Queued).then_some(started),
            execution_id: Some(format!("{}-{}", status_id.simple(), deployment_requests_count)),
            steps: Some(steps),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeline_is_strictly_increasing_and_before_the_anchor() {
        for count in [0, 1, 2, 45, 10_000] {
            let times = seeded_timeline(3, 0, count);
            assert_eq!(times.len(), count as usize);
            assert!(times.windows(2).all(|w| w[0] < w[1]));
            assert!(times.last().is_none_or(|t| *t <= anchor()));
        }
    }

    #[test]
    fn a_retention_timeline_spans_hours_to_years_whatever_the_count() {
        for count in [12, 45, 1000, 100_000] {
            let times = retention_timeline(3, 0, count);
            assert_eq!(times.len(), count as usize);
            assert!(times.windows(2).all(|w| w[0] < w[1]), "{count}");
            let newest = times[times.len() - 1];
            let second = times[times.len() - 2];
            let span = newest - times[0];
            assert!(newest - second < ChronoDuration::hours(2), "{count}: the second is recent");
            assert!(span > ChronoDuration::days(5 * 365), "{count}: the oldest is years old");
            let within_a_day = times.iter().filter(|t| newest - **t < ChronoDuration::days(1)).count();
            let past_a_year = times.iter().filter(|t| newest - **t > ChronoDuration::days(365)).count();
            assert!(
                within_a_day >= 2 && past_a_year >= 2,
                "{count}: {within_a_day} in a day, {past_a_year} past a year"
            );
        }
        assert_eq!(retention_timeline(3, 0, 1).len(), 1);
        assert!(retention_timeline(3, 0, 0).is_empty());
    }

    #[test]
    fn derivation_is_stable_and_matches_the_seeded_id() {
        let mut store = Store::new(11, History::Nightly);
        let db = store.add_seeded_database(30);
        let first = store.backups(db).unwrap();
        let again = store.backups(db).unwrap();
        assert_eq!(first, again);
        let database = store.database(db).unwrap();
        for (entry, backup) in database.entries.iter().rev().zip(&first) {
            assert_eq!(entry.id, backup.id);
        }
    }
}
