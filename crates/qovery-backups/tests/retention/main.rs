//! Retention: the policy's rules, and the planner's guarantees.
//!
//! One test binary with a module per concern, so the suite links once.

mod planner_properties;
mod policy_rules;
mod support;
