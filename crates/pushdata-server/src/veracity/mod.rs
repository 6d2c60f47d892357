//! The Veracity Data Workbench ingest emulation on the table store: an Azure AD-style
//! token endpoint, the gateway's schema, ingest, job and query calls (API Management's
//! subscription key and bearer token checked), and the Azure Data Lake Storage path calls
//! that upload an ingest file through a directory-scoped SAS.
//!
//! Files, one job each: `service` (shared state, register and start jobs), `run` (a
//! started job's parse and commit, stopping), `jobs` (a job's state and record), `upload`
//! (its file, written by the Data Lake calls), `ahead` (the file parsed as it is
//! appended), `records` (jobs on disk), `resume` (jobs a
//! stopped server left running), `process` (CSV to batches, the operation's merge policy),
//! `staged` (parsed rows staged for the commit, in files of many rows when kept as they are),
//! `decimals` (exact `Decimal` columns), `definition` (schemas and the stored dataset
//! definition), `query` (dataset queries), `sas` (SAS issue and validation), `auth`
//! (tokens, subscription key), `time` (timestamps, UUIDs), `routes` (HTTP only), `error`
//! (every error's HTTP answer).
//!
//! ```text
//! <data_dir>/veracity/schemas.json              the schemas of every workspace
//! <data_dir>/veracity/sas.key                   the SAS signing key (owner-only)
//! <data_dir>/veracity/datasets/<ID>/            a dataset (the store's catalog layout)
//! <data_dir>/veracity/jobs/<jobId>.json         an ingest job's record (see `records`)
//! <data_dir>/veracity/uploads/<jobId>.csv       its upload, until the job ends
//! <data_dir>/staging/veracity/<jobId>-parsed-*  parsed rows spilled before a commit
//! <data_dir>/staging/veracity/<jobId>-ahead-*   the same, parsed while uploaded
//! ```

mod ahead;
mod auth;
pub(crate) mod decimals;
mod definition;
mod error;
mod fields;
pub(crate) mod jobs;
mod parallel;
pub(crate) mod process;
mod query;
mod records;
mod resume;
mod routes;
mod row_ends;
mod run;
mod sas;
mod service;
mod spans;
mod specials;
mod staged;
pub(crate) mod time;
mod upload;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub(crate) use auth::VAuth;
pub(crate) use definition::{Schemas, VDataset};
pub(crate) use routes::router;
pub(crate) use run::Runs;
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
    /// The SAS signing key.
    pub(crate) sas: sas::SasKey,
    /// The job store.
    pub(crate) records: records::JobStore,
    /// Every job, by id; those left `Running` are to be run again.
    pub(crate) jobs: HashMap<String, Arc<jobs::Job>>,
    /// The staging directory of parsed rows.
    pub(crate) staging_dir: PathBuf,
}

/// Open the service's directory under `data_dir` and its staging directory under
/// `staging` (the store's staging area, already cleared): datasets, schemas, the SAS key
/// and the jobs, settling those a stopped server left running (see `resume`). Blocking.
pub(crate) fn open(
    data_dir: &Path,
    staging: &Path,
    quota: &crate::store::DataQuota,
) -> crate::error::Result<Stored> {
    let storage = |e: error::VeracityError| crate::error::ServerError::Storage(Box::new(e));
    let root = data_dir.join("veracity");
    let catalog = crate::store::Catalog::open_with_quota(&root.join("datasets"), quota.clone())?;
    crate::store::remove_temporary_files(&root);
    let schemas = Schemas::open(&root.join("schemas.json")).map_err(storage)?;
    let sas = sas::SasKey::open(&root.join("sas.key")).map_err(storage)?;
    let records = records::JobStore::open(&root).map_err(storage)?;
    let jobs: Vec<Arc<jobs::Job>> = records
        .load()
        .map_err(storage)?
        .into_iter()
        .map(Arc::new)
        .collect();
    resume::settle(&jobs, &catalog);
    let staging_dir = staging.join("veracity");
    std::fs::create_dir_all(&staging_dir).map_err(|e| {
        crate::error::ServerError::io(format!("creating {}", staging_dir.display()), e)
    })?;
    Ok(Stored {
        catalog,
        schemas,
        sas,
        records,
        jobs: jobs.into_iter().map(|j| (j.spec.id.clone(), j)).collect(),
        staging_dir,
    })
}
