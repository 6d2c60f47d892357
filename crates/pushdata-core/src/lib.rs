//! # pushdata-core
//!
//! The Push Data API wire types ([`wire`]), shared by the client and the reference server,
//! and the async HTTP client.

pub mod secret;
pub mod wire;

pub use secret::Secret;
