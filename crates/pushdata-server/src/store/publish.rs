//! How one table's upload becomes its new version, by policy:
//!
//! | policy | new version | stored rows rewritten |
//! |---|---|---|
//! | `Replace` (and `InsertNew`, `Upsert` on a keyed table with no stored rows) | the staged files | none |
//! | `Append`, `InsertNew` without key columns | previous files + staged files | none |
//! | `InsertNew` (Push Data API `add`), `Update`, `Upsert`, `Delete` on a keyed table | each previous file the policy leaves as it is (`InsertNew`: all; the others: those holding no uploaded key), each other one written again without the rows the policy drops (adjacent ones into one new file); then the uploaded rows the policy writes: the staged files when it writes all of them (`Upsert`; `Update` when every uploaded key is stored; `InsertNew` when none is), else one new file of them (the rewritten file just before, if any) | the files holding an uploaded key (`Update`, `Upsert`, `Delete`); the key columns of every previous file are read |
//! | `Update`, `Upsert`, `Delete` without key columns | refused (`NoKey`) | none |
//!
//! Staged files are moved in as they are and small pieces coalesced (`assemble`); the
//! rows, their order and the counts are exactly those of the keyed merge (`merge`) of the
//! whole table: the stored rows that stay, in order, then the uploaded rows written.

use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;

use super::assemble::{Assembly, Piece};
use super::catalog::{DataFile, TableVersion};
use super::commit::{TableUpload, UploadSource};
use super::error::{Result, StoreError};
use super::files::{self, ParquetSink};
use super::merge::{Found, KeyedMerge, MergePolicy, Merged, Uploaded};
use super::schema::stored_schema_for;
use super::snapshot::read_conformed;

/// How a table's new version is made.
enum Way {
    /// From files as they are: the previous version's (`keep`) and the upload's.
    Link { keep: bool },
    /// A keyed merge that rewrites only the previous files holding an uploaded key.
    Keyed,
}

fn way(policy: MergePolicy, keyed: bool, prev: Option<&TableVersion>) -> Way {
    let stored = prev.is_some_and(|p| p.rows > 0);
    match policy {
        MergePolicy::Replace => Way::Link { keep: false },
        MergePolicy::Append => Way::Link { keep: true },
        MergePolicy::InsertNew if !keyed => Way::Link { keep: true },
        MergePolicy::InsertNew | MergePolicy::Upsert if keyed && !stored => {
            Way::Link { keep: false }
        }
        MergePolicy::InsertNew
        | MergePolicy::Update
        | MergePolicy::Upsert
        | MergePolicy::Delete => Way::Keyed,
    }
}

/// The new version of `asm.table` after `up`, `prev` being its current version.
pub(super) fn publish_table(
    asm: Assembly<'_>,
    prev: Option<&TableVersion>,
    up: TableUpload,
) -> Result<(TableVersion, Merged)> {
    let keyed = !asm.table.key_columns.is_empty();
    let prev_files: &[DataFile] = prev.map(|p| p.files.as_slice()).unwrap_or_default();
    match way(up.policy, keyed, prev) {
        Way::Link { keep } => {
            let kept = if keep { prev_files } else { &[] };
            let pieces = kept_pieces(kept).chain(upload_pieces(up.source)).collect();
            finish(asm, pieces, 0)
        }
        Way::Keyed => keyed_merge(asm, prev_files, up),
    }
}

fn kept_pieces(files: &[DataFile]) -> impl Iterator<Item = Piece> + '_ {
    files.iter().cloned().map(Piece::Kept)
}

fn upload_pieces(source: UploadSource) -> Vec<Piece> {
    match source {
        UploadSource::Staged(chunks) => chunks.into_iter().map(Piece::Staged).collect(),
        UploadSource::Batches(bs) => bs.into_iter().map(|b| Piece::Rows(vec![b])).collect(),
    }
}

/// `InsertNew`, `Update`, `Upsert`, `Delete` on a keyed table (see `merge::KeyedMerge`):
/// the key columns of every previous file are read to find the uploaded keys; a file the
/// policy leaves as it is stays, a file it changes is written again without the rows it
/// drops (adjacent ones into one new file). The uploaded rows the policy writes follow:
/// the upload as it was staged when every row is written, else a new file of those rows
/// (the one of the rewritten files just before, if any).
fn keyed_merge(
    mut asm: Assembly<'_>,
    prev: &[DataFile],
    up: TableUpload,
) -> Result<(TableVersion, Merged)> {
    let table = asm.table;
    let schema = merge_schema(&asm, prev, &up.source)?;
    let uploaded = Uploaded::new(up.source, schema.clone(), table.name.clone());
    let merge = KeyedMerge::new(
        up.policy,
        &table.key_columns,
        &table.name,
        &schema,
        &uploaded,
    )?;
    let mut found = merge.found();
    let changed = changed_files(&asm, prev, &schema, &merge, &mut found)?;
    let mut pieces = Vec::with_capacity(prev.len() + 1);
    let mut out = NewFile::new(schema.clone());
    for (f, changed) in prev.iter().zip(changed) {
        if !changed {
            pieces.extend(out.close()?);
            pieces.push(Piece::Kept(f.clone()));
            continue;
        }
        let path = asm.dir.join(&f.file);
        for b in read_conformed(&path, &schema, &table.name, None)? {
            out.write(&mut asm, merge.filter(&mut found, b?)?)?;
        }
    }
    let skipped = if merge.writes_every_row(&found) {
        pieces.extend(out.close()?);
        pieces.extend(upload_pieces(uploaded.into_source()));
        0
    } else {
        let written = merge.write(&found, &uploaded, &mut |b| out.write(&mut asm, b))?;
        pieces.extend(out.close()?);
        written.skipped
    };
    if out.made_any {
        asm.sync()?;
    }
    finish(asm, pieces, skipped)
}

/// Per file of `prev`, whether the merge changes its rows; marks the uploaded keys stored
/// in them. Only the key columns are read.
fn changed_files(
    asm: &Assembly<'_>,
    prev: &[DataFile],
    schema: &SchemaRef,
    merge: &KeyedMerge<'_>,
    found: &mut Found<'_>,
) -> Result<Vec<bool>> {
    let table = asm.table;
    let key_schema = schema
        .project(&table.key_columns)
        .map_err(StoreError::arrow("reading the stored keys"))?;
    let key_schema = Arc::new(key_schema);
    let mut changed = Vec::with_capacity(prev.len());
    for f in prev {
        let path = asm.dir.join(&f.file);
        let mut any = false;
        for b in read_conformed(&path, &key_schema, &table.name, Some(&table.key_columns))? {
            any |= merge.mark(found, &b?)?;
        }
        changed.push(any);
    }
    Ok(changed)
}

/// A new file of merged rows: created at its first row, written to until it is closed
/// (adjacent rewritten files and the uploaded rows after them share one).
struct NewFile {
    schema: SchemaRef,
    /// The file's name, its writer and its rows so far.
    file: Option<(String, ParquetSink, u64)>,
    /// Whether a file was made.
    made_any: bool,
}

impl NewFile {
    fn new(schema: SchemaRef) -> Self {
        NewFile {
            schema,
            file: None,
            made_any: false,
        }
    }

    fn write(&mut self, asm: &mut Assembly<'_>, b: RecordBatch) -> Result<()> {
        if b.num_rows() == 0 {
            return Ok(());
        }
        let (_, sink, rows) = match &mut self.file {
            Some(f) => f,
            None => {
                let (rel, path) = asm.new_file()?;
                self.made_any = true;
                let sink = ParquetSink::create(&path, self.schema.clone())?;
                self.file.insert((rel, sink, 0))
            }
        };
        *rows += b.num_rows() as u64;
        sink.write(&b)
    }

    /// The file as a piece of the version (`None`: no row came); later rows go into
    /// another file.
    fn close(&mut self) -> Result<Option<Piece>> {
        let Some((file, sink, rows)) = self.file.take() else {
            return Ok(None);
        };
        sink.finish()?;
        Ok(Some(Piece::Kept(DataFile { file, rows })))
    }
}

/// The version made of `pieces` (see `assemble`), `skipped` uploaded rows left out.
fn finish(
    mut asm: Assembly<'_>,
    pieces: Vec<Piece>,
    skipped: u64,
) -> Result<(TableVersion, Merged)> {
    let version = TableVersion::new(asm.files(pieces)?);
    let rows = version.rows;
    Ok((version, Merged { rows, skipped }))
}

/// The schema the stored rows and the upload are compared and written with.
fn merge_schema(asm: &Assembly<'_>, prev: &[DataFile], source: &UploadSource) -> Result<SchemaRef> {
    let mut schemas = Vec::new();
    for f in prev {
        schemas.push(files::stored_schema(&asm.dir.join(&f.file))?);
    }
    match source {
        UploadSource::Staged(chunks) => {
            for c in chunks {
                schemas.extend(c.schema()?);
            }
        }
        UploadSource::Batches(bs) => schemas.extend(bs.iter().map(RecordBatch::schema)),
    }
    Ok(stored_schema_for(asm.table, &schemas))
}

#[cfg(test)]
#[path = "publish_tests.rs"]
mod tests;
