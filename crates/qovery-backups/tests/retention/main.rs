//! Retention: the policy's rules, the planner's guarantees, and pruning over real HTTP.
//!
//! One test binary with a module per concern, so the suite links once.

#[path = "../common/mod.rs"]
mod common;

mod planner_properties;
mod policy_rules;
mod prune_end_to_end;
mod support;
