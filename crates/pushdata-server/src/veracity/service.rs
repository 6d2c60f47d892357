//! The state every Veracity request shares, and the ingest lifecycle: register a job
//! (checking the operation against the schema's keys), hand out its SAS URI, start it and
//! process it in the background.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use parking_lot::{Mutex, RwLock};
use pushdata_core::veracity::wire::{
    CreateDatasetRequest, FileOperation, IngestFile, IngestResponse, JobState, JobStatus,
    UpdateDatasetRequest,
};

use super::auth::VAuth;
use super::definition::{Schemas, VDataset};
use super::error::{Result, VeracityError};
use super::jobs::{Failure, Job, Progress, Target, Upload};
use super::process::{parse_csv, policy, store_failure, table_id};
use super::sas::SasKey;
use super::{Dataset, FILESYSTEM};
use crate::hook::PublishHook;
use crate::store::{Catalog, CommitControl, StagedData, TableUpload, UploadSource};

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
    /// Ingest jobs by id.
    pub(crate) jobs: RwLock<HashMap<String, Arc<Job>>>,
    /// Where uploads are staged (`<staging>/veracity`).
    pub(crate) staging_dir: PathBuf,
    /// Parsed rows waiting for their commit: the server's memory budget, then files under
    /// its disk quota (shared with the Push Data API).
    pub(crate) staging: Arc<crate::store::Staging>,
    /// `http://<addr>`: where SAS URIs point.
    pub(crate) public_url: String,
    /// SAS lifetime in seconds.
    pub(crate) sas_lifetime_secs: i64,
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
    pub(crate) fn register_create(
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
            name: req.dataset_name.clone(),
            description: req.dataset_description.clone().unwrap_or_default(),
            version,
        };
        Ok(self.add_job(ws, target, file, req.start_automatically))
    }

    /// Register a job updating dataset `id` (the operation must suit the schema's keys).
    pub(crate) fn register_update(
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
        Ok(self.add_job(ws, Target::Update(ds), file, req.start_automatically))
    }

    fn add_job(&self, ws: &str, target: Target, file: &IngestFile, auto: bool) -> IngestResponse {
        let id = super::time::uuid();
        let job = Arc::new(Job {
            id: id.clone(),
            workspace: ws.to_string(),
            target,
            operation: file.operation.clone(),
            file_name: file.file_name.clone(),
            start_automatically: auto,
            file: self.staging_dir.join(format!("{id}.csv")),
            upload: tokio::sync::Mutex::new(Upload::default()),
            progress: Mutex::new(Progress {
                state: JobState::Pending,
                validation: Vec::new(),
                notebook_error: String::new(),
                dataset: None,
            }),
        });
        self.jobs.write().insert(id.clone(), job);
        let sas = self
            .sas
            .issue(FILESYSTEM, &id, "racwl", self.sas_lifetime_secs);
        let uri = format!("{}/{FILESYSTEM}/{id}?{}", self.public_url, sas.to_query());
        IngestResponse {
            job_id: id,
            sas_token: uri.into(),
        }
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
            .filter(|j| j.workspace == ws)
            .cloned()
            .ok_or_else(|| {
                VeracityError::not_found(format!("job {id} not found in workspace {ws}"))
            })
    }

    /// Start `job` (idempotent: a started job just reports its status).
    pub(crate) fn start(self: &Arc<Self>, job: &Arc<Job>) -> JobStatus {
        if job.begin() {
            let service = self.clone();
            let job = job.clone();
            tokio::spawn(async move {
                let outcome = service.run(&job).await;
                job.finish(outcome);
            });
        }
        job.status()
    }

    /// Process a started job: parse, then commit (creating the dataset for Create).
    async fn run(&self, job: &Arc<Job>) -> std::result::Result<(String, String), Failure> {
        let flushed = job.upload.lock().await.flushed;
        if flushed.is_none() {
            return Err(Failure::issue(
                None,
                None,
                format!(
                    "the file {:?} was not uploaded (created, appended and flushed)",
                    job.file_name
                ),
            ));
        }
        let (ds, parsed) = match &job.target {
            Target::Update(ds) => (ds.clone(), None),
            Target::Create {
                name,
                description,
                version,
            } => {
                let def = VDataset::new(&job.workspace, name.clone(), description.clone(), version);
                let batches = self.parse(job, def.clone()).await?;
                (
                    self.catalog.create(def).map_err(store_failure)?,
                    Some(batches),
                )
            }
        };
        let result = self.commit(job, &ds, parsed).await;
        if result.is_err() && matches!(job.target, Target::Create { .. }) {
            let _guard = ds.publish_lock.lock().await;
            if let Err(e) = self.catalog.delete(&ds.def.id) {
                tracing::error!(dataset = %ds.def.id, "removing a dataset whose create failed: {e}");
            }
        }
        result.map(|()| (ds.def.id.clone(), ds.def.name.clone()))
    }

    /// Parse the job's file against `def` on a blocking thread.
    async fn parse(
        &self,
        job: &Arc<Job>,
        def: VDataset,
    ) -> std::result::Result<Vec<StagedData>, Failure> {
        let path = job.file.clone();
        let op = job.operation.clone();
        let staging = self.staging.clone();
        let spill = self.staging_dir.join(format!("{}-parsed", job.id));
        tokio::task::spawn_blocking(move || parse_csv(&path, &def, &op, &staging, &spill))
            .await
            .map_err(|e| Failure::internal("parsing the upload", e))?
    }

    /// Commit under the dataset's publish lock (parsing the file there unless `parsed`).
    async fn commit(
        &self,
        job: &Arc<Job>,
        ds: &Arc<Dataset>,
        parsed: Option<Vec<StagedData>>,
    ) -> std::result::Result<(), Failure> {
        let policy = policy(&job.operation)
            .ok_or_else(|| Failure::issue(None, None, "unknown operation"))?;
        let _guard = ds.publish_lock.lock().await;
        let batches = match parsed {
            Some(b) => b,
            None => self.parse(job, ds.def.clone()).await?,
        };
        let ds = ds.clone();
        let hook = self.hook.clone();
        let outcome = tokio::task::spawn_blocking(move || {
            let upload = TableUpload {
                table_id: table_id(),
                policy,
                source: UploadSource::Staged(batches),
            };
            let control = CommitControl {
                hook: hook.as_ref(),
                cancelled: &|| false,
            };
            ds.commit(vec![upload], control)
        })
        .await
        .map_err(|e| Failure::internal("committing the upload", e))?;
        outcome.map(|_| ()).map_err(store_failure)
    }
}
