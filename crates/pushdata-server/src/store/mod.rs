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
//! A table version is a list of Parquet files, read in order (`current.json` lists them;
//! a manifest of the previous format, one `file` per table, reads as a list of one). A
//! publish costs what it changes:
//!
//! - staging writes each uploaded chunk of at least `CHUNK_FILE_ROWS` rows as a Parquet file of
//!   the table's stored schema (fsynced) while the upload goes on; smaller chunks wait in
//!   memory under the staging budget (past it they are files too);
//! - `replace` (Veracity Overwrite) makes a version of the staged files only; `append`
//!   and `add` (Veracity Append, Push Data API `add`) keep the previous version's files as
//!   they are and add the staged ones (`add` reads the stored keys, and writes a new file
//!   of the uploaded rows only when some uploaded key is already stored); staged files are
//!   moved in by a rename, adjacent small pieces are written together into one file, and a
//!   version of more than `MAX_FILES` files has its small files coalesced;
//! - `update`, `upsert` and Veracity Delete on a keyed table read the key columns of every
//!   previous file and write again only the files holding an uploaded key (without the
//!   rows they replace or delete); the other files stay as they are. The uploaded rows they
//!   write follow, as staged when all are written (`upsert`), else in a new file; rows,
//!   order and counts are those of the keyed merge of the whole table;
//! - new and moved files, and their directory, are fsynced before the manifest swap; a
//!   file shared by versions is removed only when neither the current nor the previous
//!   manifest nor a pinned snapshot refers to it; at start, files no manifest points to
//!   (a publish killed before its swap) are removed and the staging directory is cleared.
//!
//! Files, one job each: `catalog` (datasets, manifests), `snapshot` (a pinned version and
//! reading its files), `commit` (the atomic versioned commit and garbage collection),
//! `publish` (how a table's upload becomes its new version, by policy), `assemble` (the
//! files of a version that keeps rows as they are: kept, moved in, coalesced), `merge`
//! (the keyed merge), `schema` (the one place for stored column types and the decimal
//! rule), `decimal` (exact decimal text, and the decimal array the rule gives a column of
//! it), `encodings` (how a table file's columns are encoded), `staging` (uploaded rows before a commit: memory under a budget, Parquet files),
//! `quota` (the data directory's byte quota), `files` (durable file primitives), `lock`
//! (the data-directory lock), `error`.

mod assemble;
mod catalog;
mod commit;
mod decimal;
mod encodings;
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
pub(crate) use staging::{FILE_ROWS, FileWrite, Kept, StagedData, Staging, reset_dir};
