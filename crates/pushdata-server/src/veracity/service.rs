//! The state every Veracity request shares, and the ingest lifecycle's front: register a
//! job (checking the operation against the schema's keys), record it, hand out its SAS URI,
//! and start it (the run itself is `run`'s).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use parking_lot::RwLock;
use pushdata_core::veracity::wire::{
    CreateDatasetRequest, FileOperation, IngestFile, IngestResponse, JobStatus,
    UpdateDatasetRequest,
};

use super::auth::VAuth;
use super::definition::{Schemas, VDataset};
use super::error::{Result, VeracityError};
use super::jobs::{Job, JobSpec, Target};
use super::records::JobStore;
use super::run::Runs;
use super::sas::SasKey;
use super::{Dataset, FILESYSTEM};
use crate::hook::PublishHook;
use crate::store::Catalog;

/// How long a start request waits for its job to end before it answers: a job whose
/// upload was parsed while it arrived (see `ahead`) commits in a few milliseconds, and is
/// then answered `Completed` at once instead of at the client's next status poll. A longer
/// job is answered `Running` after this wait.
const START_ANSWER_WAIT: std::time::Duration = std::time::Duration::from_millis(50);

/// The Veracity emulation's shared state.
#[derive(Debug)]
pub(crate) struct VService {
    /// Credentials and tokens.
    pub(crate) auth: VAuth,
    /// The SAS signing key.
    pub(crate) sas: SasKey,
    /// The datasets.
    pub(crate) catalog: Catalog<VDataset>,
    /// The schemas.
    pub(crate) schemas: Schemas,
    /// Ingest jobs by id (every job ever registered: their records are kept).
    pub(crate) jobs: RwLock<HashMap<String, Arc<Job>>>,
    /// Where job records and uploads are kept.
    pub(crate) records: JobStore,
    /// The runs in progress.
    pub(crate) runs: Runs,
    /// Where parsed rows are spilled (`<staging>/veracity`).
    pub(crate) staging_dir: PathBuf,
    /// Parsed rows waiting for their commit: the server's memory budget, then files under
    /// its disk quota (shared with the Push Data API).
    pub(crate) staging: Arc<crate::store::Staging>,
    /// `http://<addr>`: where SAS URIs point.
    pub(crate) public_url: String,
    /// SAS lifetime in seconds.
    pub(crate) sas_lifetime_secs: i64,
    /// The data directory's quota, checked before an append is written.
    pub(crate) quota: crate::store::DataQuota,
    /// Largest append body.
    pub(crate) max_body_bytes: usize,
    /// Run at fixed points of every commit (fault injection in tests).
    pub(crate) hook: Arc<dyn PublishHook>,
}

/// The one file of a register request, checked.
fn one_file(files: &[IngestFile]) -> Result<&IngestFile> {
    match files {
        [f] if !f.file_name.trim().is_empty() && !f.file_name.contains('/') => Ok(f),
        [_] => Err(VeracityError::bad_request(
            "fileName must be a plain file name",
        )),
        _ => Err(VeracityError::bad_request(format!(
            "exactly one file is supported per job; {} given",
            files.len()
        ))),
    }
}

impl VService {
    /// Register a job creating a dataset.
    pub(crate) async fn register_create(
        &self,
        ws: &str,
        req: CreateDatasetRequest,
    ) -> Result<IngestResponse> {
        let file = one_file(&req.files)?;
        if file.operation != FileOperation::Create {
            return Err(VeracityError::bad_request(
                "a new dataset is ingested with the operation Create",
            ));
        }
        if req.dataset_name.trim().is_empty() {
            return Err(VeracityError::bad_request("datasetName is required"));
        }
        let (_, version) = self
            .schemas
            .version(ws, &req.schema_version_id)
            .ok_or_else(|| {
                VeracityError::not_found(format!(
                    "schema version {} not found",
                    req.schema_version_id
                ))
            })?;
        let target = Target::Create {
            dataset_id: super::time::uuid(),
            name: req.dataset_name.clone(),
            description: req.dataset_description.clone().unwrap_or_default(),
            version,
        };
        self.add_job(ws, target, file, req.start_automatically)
            .await
    }

    /// Register a job updating dataset `id` (the operation must suit the schema's keys).
    pub(crate) async fn register_update(
        &self,
        ws: &str,
        id: &str,
        req: UpdateDatasetRequest,
    ) -> Result<IngestResponse> {
        let file = one_file(&req.files)?;
        let ds = self.dataset(ws, id)?;
        let keyed = ds.def.has_keys();
        match &file.operation {
            FileOperation::Upsert | FileOperation::Delete if !keyed => {
                Err(VeracityError::bad_request(format!(
                    "{} needs key columns and the dataset's schema has none",
                    file.operation
                )))
            }
            FileOperation::Append if keyed => Err(VeracityError::bad_request(
                "Append is only allowed on schemas without key columns; use Upsert",
            )),
            FileOperation::Upsert
            | FileOperation::Delete
            | FileOperation::Append
            | FileOperation::Overwrite => Ok(()),
            other => Err(VeracityError::bad_request(format!(
                "operation {other} cannot update a dataset"
            ))),
        }?;
        let target = Target::Update {
            dataset_id: ds.def.id.clone(),
        };
        self.add_job(ws, target, file, req.start_automatically)
            .await
    }

    /// Record a new job, then hand out its id and SAS URI.
    async fn add_job(
        &self,
        ws: &str,
        target: Target,
        file: &IngestFile,
        auto: bool,
    ) -> Result<IngestResponse> {
        let id = super::time::uuid();
        let spec = JobSpec {
            id: id.clone(),
            workspace: ws.to_string(),
            target,
            operation: file.operation.clone(),
            file_name: file.file_name.clone(),
            start_automatically: auto,
            registered_at: super::time::now_secs(),
        };
        let job = Arc::new(self.records.new_job(spec));
        job.save().await?;
        self.jobs.write().insert(id.clone(), job);
        let sas = self
            .sas
            .issue(FILESYSTEM, &id, "racwl", self.sas_lifetime_secs);
        let uri = format!("{}/{FILESYSTEM}/{id}?{}", self.public_url, sas.to_query());
        Ok(IngestResponse {
            job_id: id,
            sas_token: uri.into(),
        })
    }

    /// A dataset of workspace `ws`.
    pub(crate) fn dataset(&self, ws: &str, id: &str) -> Result<Arc<Dataset>> {
        self.catalog
            .get(&id.to_ascii_lowercase())
            .filter(|d| d.def.workspace_id == ws)
            .ok_or_else(|| {
                VeracityError::not_found(format!("dataset {id} not found in workspace {ws}"))
            })
    }

    /// A job of workspace `ws`.
    pub(crate) fn job(&self, ws: &str, id: &str) -> Result<Arc<Job>> {
        self.jobs
            .read()
            .get(&id.to_ascii_lowercase())
            .filter(|j| j.spec.workspace == ws)
            .cloned()
            .ok_or_else(|| {
                VeracityError::not_found(format!("job {id} not found in workspace {ws}"))
            })
    }

    /// Start `job` (idempotent: a started job just reports its status). The job is
    /// recorded as `Running` before this returns.
    pub(crate) async fn start(self: &Arc<Self>, job: &Arc<Job>) -> JobStatus {
        if job.begin() {
            self.launch(job.clone()).await;
        }
        job.status()
    }

    /// A start request's answer: start `job` (see [`start`](Self::start)), then its
    /// status once it ended, or after [`START_ANSWER_WAIT`].
    pub(crate) async fn start_answer(self: &Arc<Self>, job: &Arc<Job>) -> JobStatus {
        self.start(job).await;
        job.wait_end(START_ANSWER_WAIT).await;
        job.status()
    }
}
