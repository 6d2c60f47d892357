//! The table store: datasets of typed tables kept as Parquet under a data directory,
//! with nothing of either API service in it. A service defines its datasets
//! ([`Definition`]), stages uploaded rows ([`StagedData`]), and commits them with a keyed
//! merge ([`MergePolicy`]) into a new version that is swapped in atomically.
//!
//! ```text
//! <data_dir>/.lock                  held by the one server using the directory (lock)
//! <data_dir>/staging/               staged uploads and cube results; cleared at start (staging)
//! <data_dir>/datasets/<DATASET_ID>/ a Push Data API dataset (catalog, commit)
//! ```
//!
//! Files, one job each: `catalog` (datasets, manifests, pinned snapshots), `commit` (the
//! atomic versioned commit and garbage collection), `merge` (the keyed merge), `schema`
//! (the one place for stored column types and the decimal rule), `decimal` (exact decimal
//! text, and the decimal array the rule gives a column of it), `staging` (uploaded rows
//! before a commit, under a memory budget), `quota` (the data directory's byte quota), `files` (durable file primitives), `lock` (the
//! data-directory lock), `error`.

mod assemble;
mod catalog;
mod commit;
mod decimal;
mod error;
mod files;
mod lock;
mod merge;
mod publish;
mod quota;
mod schema;
mod snapshot;
mod staging;
#[cfg(test)]
mod testing;

pub(crate) use catalog::{Catalog, Dataset, Definition, TableDef, read_table};
pub(crate) use commit::{CommitControl, Committed, TableUpload, UploadSource};
pub(crate) use decimal::{DecimalColumn, parse_decimal, plain_number};
pub(crate) use error::StoreError;
pub(crate) use files::{remove_temporary_files, sync_dir, write_file_atomic, write_json_atomic};
pub(crate) use lock::DirLock;
pub(crate) use merge::MergePolicy;
pub(crate) use quota::DataQuota;
pub(crate) use schema::common_decimal;
pub(crate) use snapshot::Snapshot;
pub(crate) use staging::{StagedData, Staging, reset_dir};
