//! Ingest jobs on disk, so that they outlive the server: one record per job, rewritten
//! atomically (temp file, fsync, rename, directory fsync) on every change, and the job's
//! uploaded file.
//!
//! ```text
//! <data_dir>/veracity/jobs/<jobId>.json     the job's record (kept for good)
//! <data_dir>/veracity/uploads/<jobId>.csv   its uploaded file, until the job ends
//! ```
//!
//! Retention: a job's record is never removed, so its status stays answerable; its
//! uploaded file is removed when the job ends (`Completed` or `Failed`), or at the next
//! start if that removal failed. The file of a job that never starts is kept.
//!
//! At start every record is loaded and its file brought in line with it: bytes past the
//! last acknowledged append (a torn append) are cut; a file shorter than the record says
//! (lost) resets the upload, so the job reads as not uploaded; files of ended jobs and
//! files without a record are removed.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::error::{Result, VeracityError};
use super::jobs::{Job, JobSpec, Progress};
use super::upload::Upload;

/// A job as written to disk.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct JobRecord {
    /// What the job is.
    pub(crate) job: JobSpec,
    /// How far it got.
    pub(crate) progress: Progress,
}

/// Where the jobs of a data directory are kept.
#[derive(Debug)]
pub(crate) struct JobStore {
    jobs: PathBuf,
    uploads: PathBuf,
}

impl JobStore {
    /// The job store under the service's directory `root` (created if needed).
    pub(crate) fn open(root: &Path) -> Result<Self> {
        let store = JobStore {
            jobs: root.join("jobs"),
            uploads: root.join("uploads"),
        };
        for dir in [&store.jobs, &store.uploads] {
            std::fs::create_dir_all(dir)
                .map_err(|e| VeracityError::io(format!("creating {}", dir.display()), e))?;
        }
        Ok(store)
    }

    /// The uploaded file of job `id`.
    pub(crate) fn upload_path(&self, id: &str) -> PathBuf {
        self.uploads.join(format!("{id}.csv"))
    }

    /// The record of job `id`.
    pub(crate) fn record_path(&self, id: &str) -> PathBuf {
        self.jobs.join(format!("{id}.json"))
    }

    /// A new job's file and record paths, and the job.
    pub(crate) fn new_job(&self, spec: JobSpec) -> Job {
        let (file, record) = (self.upload_path(&spec.id), self.record_path(&spec.id));
        Job::new(spec, file, record)
    }

    /// Every job on disk, each upload file in line with its record. A record that cannot
    /// be read is logged and renamed `<jobId>.json.unreadable` (nothing is deleted).
    pub(crate) fn load(&self) -> Result<Vec<Job>> {
        crate::store::remove_temporary_files(&self.jobs);
        let rd = std::fs::read_dir(&self.jobs)
            .map_err(|e| VeracityError::io(format!("listing {}", self.jobs.display()), e))?;
        let mut jobs = Vec::new();
        for entry in rd.flatten() {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            let Some(id) = name.strip_suffix(".json") else {
                continue;
            };
            match read_record(&path) {
                Ok(r) if r.job.id == id => jobs.push(self.reconcile(r)),
                Ok(_) => set_aside(&path, "its job id is not its file name"),
                Err(e) => set_aside(&path, &e.to_string()),
            }
        }
        self.remove_orphan_uploads(&jobs);
        tracing::info!(jobs = jobs.len(), dir = %self.jobs.display(), "loaded veracity ingest jobs");
        Ok(jobs)
    }

    /// The job of `record`, its upload file cut to, or reset for, what the record says.
    fn reconcile(&self, mut record: JobRecord) -> Job {
        let file = self.upload_path(&record.job.id);
        let p = &mut record.progress;
        let keep = !p.source_removed && !p.state.is_terminal() && p.upload.created;
        if !keep {
            remove_if_present(&file);
        } else {
            let want = p.upload.flushed.unwrap_or_else(|| p.upload.end());
            let len = std::fs::metadata(&file).map(|m| m.len()).ok();
            let cut = len.filter(|&l| l >= want).map(|_| {
                std::fs::OpenOptions::new()
                    .write(true)
                    .open(&file)
                    .and_then(|f| f.set_len(want).and_then(|()| f.sync_all()))
            });
            if !matches!(cut, Some(Ok(()))) {
                tracing::error!(job = %record.job.id, expected = want, found = ?len, "an ingest job's upload is shorter than acknowledged or cannot be cut; the job reads as not uploaded");
                p.upload = Upload::default();
                remove_if_present(&file);
            }
        }
        let path = self.record_path(&record.job.id);
        Job::with_progress(record.job, record.progress, file, path)
    }

    /// Remove upload files whose job has no record.
    fn remove_orphan_uploads(&self, jobs: &[Job]) {
        let Ok(rd) = std::fs::read_dir(&self.uploads) else {
            return;
        };
        for entry in rd.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let id = name.strip_suffix(".csv").unwrap_or(&name);
            if !jobs.iter().any(|j| j.spec.id == id) {
                remove_if_present(&entry.path());
            }
        }
    }
}

fn read_record(path: &Path) -> Result<JobRecord> {
    let bytes = std::fs::read(path)
        .map_err(|e| VeracityError::io(format!("reading {}", path.display()), e))?;
    serde_json::from_slice(&bytes)
        .map_err(|e| VeracityError::internal(format!("parsing {}", path.display()), e))
}

/// Move an unreadable record out of the way (kept for inspection).
fn set_aside(path: &Path, why: &str) {
    let target = path.with_extension("json.unreadable");
    match std::fs::rename(path, &target) {
        Ok(()) => {
            tracing::error!(record = %path.display(), moved_to = %target.display(), "an ingest job record cannot be read and was set aside: {why}")
        }
        Err(e) => {
            tracing::error!(record = %path.display(), "an ingest job record cannot be read ({why}) nor set aside ({e}); it is skipped")
        }
    }
}

/// Remove an upload file, if there is one (a failure is logged).
pub(crate) fn remove_if_present(path: &Path) {
    if let Err(e) = std::fs::remove_file(path)
        && e.kind() != std::io::ErrorKind::NotFound
    {
        tracing::warn!(file = %path.display(), "removing an ingest upload: {e}");
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use pushdata_core::veracity::wire::{FileOperation, JobState};

    use super::*;
    use crate::veracity::jobs::Target;

    fn spec(id: &str) -> JobSpec {
        JobSpec {
            id: id.to_string(),
            workspace: "ws".into(),
            target: Target::Update {
                dataset_id: "d".into(),
            },
            operation: FileOperation::Append,
            file_name: "ImportData.csv".into(),
            start_automatically: false,
            registered_at: 0,
        }
    }

    /// A job whose record says `upload`, with `bytes` in its file.
    fn job(store: &JobStore, id: &str, upload: Upload, bytes: &[u8]) {
        let job = store.new_job(spec(id));
        job.update(|p| p.upload = upload);
        job.save_blocking().unwrap();
        std::fs::write(store.upload_path(id), bytes).unwrap();
    }

    #[test]
    fn uploads_are_brought_in_line_with_their_records_at_load() {
        let dir = tempfile::tempdir().unwrap();
        let store = JobStore::open(dir.path()).unwrap();
        let appended = |n| Upload {
            created: true,
            staged: [(0, n)].into(),
            ..Upload::default()
        };
        // A torn append: bytes past the acknowledged 5 are cut.
        job(&store, "torn", appended(5), b"a,b\n1,2");
        // Fewer bytes than acknowledged: the upload is reset.
        job(&store, "short", appended(9), b"a,b\n");
        // An ended job's file goes; its record stays.
        job(&store, "ended", appended(4), b"a,b\n");
        let ended = store.new_job(spec("ended"));
        ended.update(|p| {
            p.state = JobState::Completed;
            p.source_removed = true;
        });
        ended.save_blocking().unwrap();
        std::fs::write(store.upload_path("orphan"), b"x").unwrap();
        std::fs::write(store.record_path("bad"), b"{not json").unwrap();
        let jobs = store.load().unwrap();
        let find = |id: &str| jobs.iter().find(|j| j.spec.id == id).unwrap();
        assert_eq!(std::fs::read(store.upload_path("torn")).unwrap(), b"a,b\n1");
        assert_eq!(find("torn").progress().upload, appended(5));
        assert_eq!(find("short").progress().upload, Upload::default());
        assert!(!store.upload_path("short").exists());
        assert_eq!(find("ended").progress().state, JobState::Completed);
        assert!(!store.upload_path("ended").exists());
        assert!(!store.upload_path("orphan").exists());
        assert_eq!(jobs.len(), 3);
        assert!(dir.path().join("jobs/bad.json.unreadable").exists());
    }

    /// A start answers once its job's end is recorded, or after its wait.
    #[tokio::test]
    async fn waiting_for_a_job_ends_when_its_end_is_recorded_or_at_the_limit() {
        use crate::veracity::jobs::DatasetRef;
        let dir = tempfile::tempdir().unwrap();
        let store = JobStore::open(dir.path()).unwrap();
        let job = std::sync::Arc::new(store.new_job(spec("j")));
        assert!(job.begin());
        job.wait_end(std::time::Duration::from_millis(20)).await;
        assert_eq!(
            job.progress().state,
            JobState::Running,
            "not ended: the limit"
        );
        let ender = job.clone();
        let run = std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(50));
            ender.finish_blocking(Ok(DatasetRef {
                id: "d".into(),
                name: "D".into(),
            }));
        });
        job.wait_end(std::time::Duration::from_secs(60)).await;
        assert_eq!(job.progress().state, JobState::Completed);
        assert!(
            store.record_path("j").exists(),
            "recorded before the wait ends"
        );
        run.join().unwrap();
        // A job that ended before a restart has ended for its waits too.
        let loaded = store.load().unwrap();
        let again = loaded.iter().find(|j| j.spec.id == "j").unwrap();
        tokio::time::timeout(
            std::time::Duration::from_secs(30),
            again.wait_end(std::time::Duration::from_secs(60)),
        )
        .await
        .expect("a loaded ended job is not waited for");
    }
}
