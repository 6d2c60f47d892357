//! Integration tests of the Veracity Data Workbench ingest emulation over real HTTP
//! against `Server::start` on 127.0.0.1:0.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod auth;
mod client;
mod common;
mod decimals;
mod ingest;
mod lake;
mod query;
mod restart;
