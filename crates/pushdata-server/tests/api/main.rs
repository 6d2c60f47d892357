//! Integration tests over real HTTP against `Server::start` on 127.0.0.1:0.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;
mod compat;
mod errors;
mod folders;
mod isolation;
mod lifecycle;
mod limits;
mod login;
mod openapi;
mod policies;
mod seeds;
