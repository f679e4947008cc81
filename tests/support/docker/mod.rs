//! Test support for `tars docker-api`: a private engine, a counting proxy
//! and a minimal tar writer.

pub mod engine;
pub mod proxy;
pub mod tar;
