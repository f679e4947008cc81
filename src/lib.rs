//! tars: watches a release through its first week in production.
//!
//! The library holds all logic; the `tars` binary and its six aliases only parse
//! arguments and call [`cli::run`]. Pure analysis ([`stats`], [`drift`],
//! [`health`], [`regression`], [`retro`]) takes plain data and returns plain
//! data; I/O lives at the edges ([`io`], [`source`], [`prom`], [`docker_api`]).

pub mod anomaly;
pub mod config;
pub use tars_docker_api as docker_api;
pub mod error;
pub mod io;
pub mod prom;
pub mod source;
pub use tars_core::{baseline, drift, health, model, regression, retro, slo};
pub use tars_stats as stats;
pub mod render;

pub use error::{Error, Result};
pub mod cli;
pub mod notify;
pub mod pipeline;
pub mod schema;
