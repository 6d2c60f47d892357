//! The Veracity Data Workbench ingest emulation on the table store: an Azure AD-style
//! token endpoint, the gateway's schema, ingest, job and query calls (API Management's
//! subscription key and bearer token checked), and the Azure Data Lake Storage path calls
//! that upload an ingest file through a directory-scoped SAS.
//!
//! Files, one job each: `service` (shared state, register and run jobs), `jobs` (a job and
//! its upload), `process` (CSV to batches, the operation's merge policy), `definition`
//! (schemas and the stored dataset definition), `query` (dataset queries), `sas` (SAS
//! issue and validation), `auth` (tokens, subscription key), `time` (timestamps, UUIDs),
//! `routes` (HTTP only), `error` (every error's HTTP answer).
//!
//! ```text
//! <data_dir>/veracity/schemas.json        the schemas of every workspace
//! <data_dir>/veracity/datasets/<ID>/      a dataset (the store's catalog layout)
//! <data_dir>/staging/veracity/<job>.csv   an ingest job's upload (cleared at start)
//! ```

mod auth;
mod definition;
mod error;
mod jobs;
mod process;
mod query;
mod routes;
mod sas;
mod service;
mod time;

use std::path::{Path, PathBuf};

pub(crate) use auth::VAuth;
pub(crate) use definition::{Schemas, VDataset};
pub(crate) use routes::router;
pub(crate) use sas::SasKey;
pub(crate) use service::VService;

/// A dataset of this service in the store.
type Dataset = crate::store::Dataset<VDataset>;

/// The Data Lake file system that ingest folders live in (the SAS URI's first segment).
pub(crate) const FILESYSTEM: &str = "ingest";

/// What the service keeps on disk, opened at start.
#[derive(Debug)]
pub(crate) struct Stored {
    /// The datasets.
    pub(crate) catalog: crate::store::Catalog<VDataset>,
    /// The schemas.
    pub(crate) schemas: Schemas,
    /// The staging directory of uploads.
    pub(crate) staging_dir: PathBuf,
}

/// Open the service's directory under `data_dir` and its staging directory under
/// `staging` (the store's staging area, already cleared).
pub(crate) fn open(data_dir: &Path, staging: &Path) -> crate::error::Result<Stored> {
    let root = data_dir.join("veracity");
    let catalog = crate::store::Catalog::open(&root.join("datasets"))?;
    let schemas = Schemas::open(&root.join("schemas.json"))
        .map_err(|e| crate::error::ServerError::Storage(Box::new(e)))?;
    let staging_dir = staging.join("veracity");
    std::fs::create_dir_all(&staging_dir).map_err(|e| {
        crate::error::ServerError::io(format!("creating {}", staging_dir.display()), e)
    })?;
    Ok(Stored {
        catalog,
        schemas,
        staging_dir,
    })
}
