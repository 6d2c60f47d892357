//! The HTTP client against wiremock servers on 127.0.0.1: headers, bodies, retries,
//! re-login, timeouts, publish waits, error bodies and secret hygiene.
#![allow(clippy::unwrap_used)]

mod auth;
mod common;
mod datasets;
mod publish;
mod retry;
mod secrets;
