//! Empty on purpose: this crate exists for its dependency on `qovery-backups-api` with the
//! `regenerate` feature (see its Cargo.toml).
#![forbid(unsafe_code)]
