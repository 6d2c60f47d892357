//! The Push Data API service (MicroStrategy) on the table store: auth tokens, dataset
//! definitions and their mapping to store tables and keys, upload sessions, chunk decoding,
//! the publish lifecycle, and cube instances for reading data back.
//!
//! Files, one job each: `service` (the state every request shares, and the lifecycles:
//! sessions, publish), `definition` (the dataset definition, its row keys and policies),
//! `folders` (My Reports and the folders datasets are created in),
//! `sessions` (upload sessions and their staged chunks), `chunk_write` (staged chunk files
//! written after the chunk's acknowledgement), `auth` (tokens), `cube` (cube
//! instances), `routes` (HTTP only: extractors, handlers, the router), `error` (every error's
//! HTTP answer).

mod auth;
mod chunk_write;
pub(crate) mod cube;
pub(crate) mod decode;
mod definition;
pub(crate) mod error;
mod folders;
mod publish;
mod routes;
mod service;
mod sessions;

pub(crate) use auth::Auth;
pub(crate) use cube::Instances;
pub(crate) use definition::DatasetDef;
pub(crate) use routes::router;
pub(crate) use service::{ChunkSlots, Service};

/// A dataset of this service in the store.
type Dataset = crate::store::Dataset<definition::DatasetDef>;

/// The directory of this service's datasets, under the data directory.
pub(crate) const DATASETS_DIR: &str = "datasets";
