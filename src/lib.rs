//! tars: watches a release through its first week in production.
//!
//! The library holds all logic; the `tars` binary and its six aliases only parse
//! arguments and call [`cli::run`].

pub mod anomaly;
pub mod docker_api;
