//! Progress events of a [`VeracityPush`](super::VeracityPush), delivered through a callback
//! or a channel (the same sinks as [`Push`](crate::Push)'s).

use pushdata_core::veracity::wire::JobState;

/// Something that happened during a Veracity push, in this order (a step not taken has no
/// event: no schema for an existing dataset, no start for an automatically started job).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum VeracityEvent {
    /// `create` made a schema from the table (`POST .../schemas/add`).
    SchemaCreated {
        /// The new schema.
        schema_id: String,
        /// Its first version, the one the dataset is created with.
        schema_version_id: String,
    },
    /// The ingest job was registered: it has a job id and a SAS URI for its file.
    JobRegistered {
        /// The job.
        job_id: String,
    },
    /// A part of the CSV file was appended.
    PartAppended {
        /// The job.
        job_id: String,
        /// The part's number (1-based).
        part: u64,
        /// The part's size.
        bytes: u64,
        /// Bytes of the file appended so far (this part included).
        total_bytes: u64,
        /// Data rows appended so far (this part included).
        rows: u64,
    },
    /// The file was flushed (committed at its full size).
    Flushed {
        /// The job.
        job_id: String,
        /// The file's size.
        bytes: u64,
        /// Its data rows.
        rows: u64,
    },
    /// The job was started (by the start call, or by the flush for a job registered with
    /// `startAutomatically`).
    JobStarted {
        /// The job.
        job_id: String,
    },
    /// The job's status was read (once per poll).
    JobPolled {
        /// The job.
        job_id: String,
        /// Its status.
        status: JobState,
    },
    /// The job completed: the dataset holds the data.
    Completed {
        /// The job.
        job_id: String,
        /// The dataset created or updated.
        dataset_id: String,
    },
}
