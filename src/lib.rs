//! tars: watches a release through its first week in production.
//!
//! This crate is the command line and its edges: flags and configuration
//! ([`cli`], [`config`]), each stage wired to its files ([`pipeline`], [`io`]),
//! renderers ([`render`]), the Prometheus adapter ([`prom`]), the simulator
//! ([`source::sim`]) and notifications ([`notify`]). The analysis itself is
//! the pure `tars-core` crate (re-exported here as [`drift`], [`slo`],
//! [`health`], [`regression`], [`retro`], ...); see docs/architecture.md.

pub mod anomaly;
pub mod archive;
pub mod config;
pub mod doctor;
pub use tars_docker_api as docker_api;
pub mod error;
pub mod inputs;
pub mod io;
pub use tars_prom as prom;
pub mod source;
pub use tars_core::{baseline, drift, health, model, regression, retro, slo};
pub use tars_stats as stats;
pub mod render;

pub use error::{Error, Result};
pub mod cli;
pub mod notify;
pub mod pipeline;
pub mod schema;
pub mod secret;
pub mod watch;
pub use tars_core::text;
