//! Retention: which backups of a database to keep, and pruning the rest.
//!
//! The rules are restic's `forget` policies (`keep-last`, `keep-hourly` … `keep-yearly`,
//! `keep-within`), with two changes for safety: a rule that has counts left over does not also
//! keep the oldest backup (restic 0.14 and later do), and a policy without any keep rule is
//! refused instead of meaning "delete everything".
//!
//! Three layers, each usable alone:
//! - [`RetentionPolicy`]: the rules, validated when built.
//! - [`decide`]: a pure function from a policy, a listing and the time to a [`Plan`], which gives
//!   every backup a decision and the reasons for it. No I/O: test a policy against your own data.
//! - [`Backups::prune`](crate::Backups::prune): lists the database, plans, and deletes what the
//!   plan says (or only reports it, in a dry run), as a [`PruneReport`]; or, in two steps,
//!   [`Prune::prepare`] gives a [`PlannedPrune`] to show before [`PlannedPrune::apply`].

mod plan;
mod policy;
mod prune;

#[allow(deprecated)] // `plan`, kept so that callers of the old name still compile
pub use plan::{Decision, DeleteReason, Period, Plan, Reason, Refusal, Verdict, decide, plan};
pub use policy::{KeepRule, PolicyError, RetentionPolicy, RetentionPolicyBuilder};
pub use prune::{FailedDelete, PlannedPrune, Prune, PruneReport};
