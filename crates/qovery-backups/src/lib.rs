//! A Rust SDK for Qovery's database-backup API.
//!
//! Built on the generated client [`qovery_backups_api`] (progenitor, from `openapi.yaml`),
//! this crate adds what automation needs:
//!
//! - **Pagination as streams**: [`ListRequest::items`] and [`ListRequest::pages`] follow the
//!   API's `startId` cursor lazily, one request in flight, never deliver a backup twice, end
//!   with [`Error::PaginationLoop`] rather than looping if the server repeats itself, and
//!   recover by themselves when the backup used as cursor is deleted mid-listing. A failed
//!   listing says where to resume ([`Error::resume_after`]) with neither gaps nor repeats.
//! - **Safe retries**: [`RetryPolicy`] retries only what can succeed next time, with
//!   full-jitter backoff, `Retry-After`, a deadline and an optional shared [`RetryBudget`].
//!   A create is never blindly re-sent: a create whose answer was lost is reconciled, so a
//!   retry never leaves two backups.
//! - **Errors a person can act on**: one [`Error`], with predicates, the server's `detail`,
//!   a one-line message of what failed, and [`Error::hint`] for what to do.
//! - **Bounded by default**: every answer is read up to a limit (8 MiB unless set), server
//!   text in errors is redacted and stripped of control characters.
//! - **Waiting**: [`Backups::wait`] and [`Backups::create_and_wait`] poll the listing until a
//!   backup is final, backing off to a cap, within an overall timeout ([`WaitPolicy`]).
//! - **Forward-compatible models**: every enum keeps values it does not know
//!   (`Unrecognized`), so Qovery adding a state never breaks a listing.
//! - **A token that does not leak**: not in `Debug`, errors or traces.
//!
//! ```no_run
//! use futures::TryStreamExt as _;
//! use qovery_backups::Client;
//!
//! # async fn run() -> Result<(), qovery_backups::Error> {
//! let client = Client::from_env()?; // QOVERY_API_TOKEN, QOVERY_API_URL
//! let database_id = "3c90c3cc-0d44-4b50-8888-8dd25736052a".parse().unwrap();
//! let backups = client.backups(database_id);
//!
//! let all: Vec<_> = backups.list().items().try_collect().await?;
//! println!("{} backups; newest: {:?}", all.len(), all.first().map(|b| &b.name));
//! let created = backups.create("nightly", "before migration").await?;
//! backups.delete(created.id).await?;
//! # Ok(())
//! # }
//! ```
//!
//! Tracing: each operation runs in a span `operation` (`operation`, `database_id`), each
//! attempt in a span `attempt` (`attempt`, `status`), and each retry logs its delay and reason.
//! Programs that count (progress lines, metrics) get typed [`Event`]s through an [`Observer`].
//!
//! Names follow one convention, written down in the repository's
//! [CONTRIBUTING.md](https://github.com/qovery-backups/qovery-backups-rs/blob/main/CONTRIBUTING.md#naming):
//! a builder's setters are bare nouns (`ClientBuilder::retry`) read back by getters of the same
//! name (`Client::retry`); value types set with `with_*` (`RetryPolicy::with_max_attempts`); a
//! request that yields many things has `items()`, returning a named stream type. Every client,
//! builder, stream and error is `Send + Sync + Unpin`.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod auth;
mod backups;
mod client;
mod discovery;
mod error;
mod fleet;
mod freshness;
mod in_order;
mod json_path;
mod list_many;
mod observe;
mod operation;
mod pagination;
mod printable;
mod redact;
mod retention;
mod retry;
mod stream;
mod wait;
mod wire;

pub use auth::AuthScheme;
pub use backups::Backups;
/// Timestamps of backups.
pub use chrono::{DateTime, Utc};
pub use client::{
    BASE_URL_ENV_VAR, Client, ClientBuilder, DEFAULT_BASE_URL, DEFAULT_TIMEOUT, TOKEN_ENV_VARS,
};
pub use discovery::{DatabaseItems, Databases, FleetDatabase, Parent, Scope};
pub use error::{BODY_EXCERPT_LIMIT, ConfigProblem, Error, TransportKind};
pub use fleet::{DEFAULT_CONCURRENCY, Target, Targets, in_order};
pub use freshness::{
    CLOCK_SKEW_ALLOWANCE, DatabaseFreshness, FreshnessCheck, FreshnessItems, FreshnessVerdict, LookEnd, judge,
};
pub use list_many::{DatabaseBackup, ListMany, ManyItems};
pub use observe::{Event, Observer};
pub use operation::Operation;
pub use pagination::{BackupPage, Items, ListRequest, Pages, ScanEnd};
// Hidden, not private: the `qovery-backups` command line escapes what it shows with it, so that
// its tables and this crate's error text (which it prints beside them) escape the same
// characters. Escaping for a terminal is the terminal's concern, not this crate's API: it may
// change in any release.
#[doc(hidden)]
pub use printable::printable;
pub use qovery_backups_api::DEFAULT_MAX_RESPONSE_BYTES;
/// HTTP status codes, as [`Error::status`] returns them, so callers need not depend on reqwest.
pub use reqwest::StatusCode;
#[allow(deprecated)] // `plan`, the former name of `decide`
pub use retention::{
    Decision, DeleteReason, FailedDelete, KeepRule, Period, Plan, PlannedPrune, PolicyError, Prune,
    PruneReport, Reason, Refusal, RetentionPolicy, RetentionPolicyBuilder, Verdict, decide, plan,
};
pub use retry::{RetryBudget, RetryPolicy};
pub use stream::ListStream;
/// Ids of databases and backups.
pub use uuid::Uuid;
pub use wait::{DEFAULT_WAIT_TIMEOUT, Wait, WaitPolicy};

/// The version of Qovery's API that openapi.yaml describes (its `info.version`), as sent in
/// every request's `api-version` header.
///
/// ```
/// assert!(!qovery_backups::api_version().is_empty());
/// ```
pub fn api_version() -> &'static str {
    <qovery_backups_api::Client as qovery_backups_api::ClientInfo<qovery_backups_api::Limits>>::api_version()
}

/// The generated low-level crate, re-exported so users need not depend on it separately.
pub use qovery_backups_api as api;
/// The README's examples, compiled as doctests so they cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
struct ReadmeExamples;

/// How many delivered ids a listing remembers exactly. An implementation detail, no longer
/// part of the API.
///
/// ```
/// #[allow(deprecated)]
/// let limit = qovery_backups::EXACT_SEEN_LIMIT;
/// assert_eq!(limit, 100_000);
/// ```
#[doc(hidden)]
#[deprecated(note = "an implementation detail of listings, with no replacement")]
pub const EXACT_SEEN_LIMIT: usize = pagination::EXACT_SEEN_LIMIT;

// What a caller may rely on, checked by the compiler: a client, its builders and requests, their
// streams and every error can be moved into a spawned task, shared behind an `Arc`, and polled
// or kept without pinning. Losing any of these is a breaking change that this block reports.
const _: () = {
    const fn send_sync_unpin<T: Send + Sync + Unpin>() {}
    // The client, and what configures it.
    send_sync_unpin::<Client>();
    send_sync_unpin::<ClientBuilder>();
    send_sync_unpin::<RetryPolicy>();
    send_sync_unpin::<RetryBudget>();
    send_sync_unpin::<WaitPolicy>();
    send_sync_unpin::<RetentionPolicy>();
    send_sync_unpin::<RetentionPolicyBuilder>();
    send_sync_unpin::<Targets>();
    // Requests not sent yet.
    send_sync_unpin::<Backups>();
    send_sync_unpin::<ListRequest>();
    send_sync_unpin::<ListMany>();
    send_sync_unpin::<Databases>();
    send_sync_unpin::<FreshnessCheck>();
    send_sync_unpin::<Wait>();
    send_sync_unpin::<Prune>();
    send_sync_unpin::<PlannedPrune>();
    // Streams.
    send_sync_unpin::<ListStream<Backup>>();
    send_sync_unpin::<Pages>();
    send_sync_unpin::<Items>();
    send_sync_unpin::<ManyItems>();
    send_sync_unpin::<DatabaseItems>();
    send_sync_unpin::<FreshnessItems>();
    // Results and errors.
    send_sync_unpin::<Error>();
    send_sync_unpin::<PolicyError>();
    send_sync_unpin::<PruneReport>();
    send_sync_unpin::<DatabaseFreshness>();
};

/// The models of the API, generated from openapi.yaml.
pub use qovery_backups_api::types;
/// A backup, as the API describes it.
pub use qovery_backups_api::types::Backup;
