#![doc = include_str!("../README.md")]

/// Arrow schema to model, chunk encoders and the push pipeline (`pushdata-arrow`).
pub use pushdata_arrow as arrow;
/// The Push Data API wire types and the async client (`pushdata-core`).
pub use pushdata_core as core;
/// The reference server (`pushdata-server`).
pub use pushdata_server as server;
