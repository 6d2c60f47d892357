//! How one table's upload becomes its new version, by policy:
//!
//! | policy | new version | stored rows rewritten |
//! |---|---|---|
//! | `Replace` (and any policy but `Update`/`Delete` on a keyed table with no stored rows) | the staged files | none |
//! | `Append`, `InsertNew` without key columns | previous files + staged files | none |
//! | `InsertNew` (Push Data API `add`) | previous files + staged files; if an uploaded key is stored, previous files + one new file of the uploaded rows with new keys | none (the stored rows are read for their keys) |
//! | `Update`, `Upsert`, `Delete` | one new file of the keyed merge | all |
//!
//! Staged files are moved in as they are and small pieces coalesced (`assemble`); the
//! rows, their order and the counts are exactly those of the keyed merge (`merge`).

use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;

use super::assemble::{Assembly, Piece};
use super::catalog::{DataFile, TableVersion};
use super::commit::{TableUpload, UploadSource};
use super::error::{Result, StoreError};
use super::files::{self, ParquetSink};
use super::merge::{self, MergePolicy, Merged, Uploaded};
use super::schema::stored_schema_for;
use super::snapshot::read_conformed;

/// How a table's new version is made.
enum Way {
    /// From files as they are: the previous version's (`keep`) and the upload's.
    Link { keep: bool },
    /// The previous files, and the uploaded rows whose key is not stored.
    InsertNew,
    /// A keyed merge of everything into one new file.
    Merge,
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
        MergePolicy::InsertNew => Way::InsertNew,
        MergePolicy::Update | MergePolicy::Upsert | MergePolicy::Delete => Way::Merge,
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
        Way::InsertNew => insert_new(asm, prev_files, up),
        Way::Merge => merge_all(asm, prev_files, up),
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

/// `InsertNew` on a keyed table with stored rows: they stay in their files; the upload goes
/// in as staged when none of its keys is stored, else its rows of new keys in a new file.
fn insert_new(
    mut asm: Assembly<'_>,
    prev: &[DataFile],
    up: TableUpload,
) -> Result<(TableVersion, Merged)> {
    let table = asm.table;
    let schema = merge_schema(&asm, prev, &up.source)?;
    let key_schema = schema
        .project(&table.key_columns)
        .map_err(StoreError::arrow("reading the stored keys"))?;
    let mut existing = stored_rows(&asm, prev, &Arc::new(key_schema), Some(&table.key_columns))?;
    let uploaded = Uploaded::new(up.source, schema.clone(), table.name.clone());
    let mut sink: Option<(String, ParquetSink)> = None;
    let outcome = merge::insert_new(
        &table.key_columns,
        &schema,
        &mut existing,
        &uploaded,
        &mut |b| {
            let s = match &mut sink {
                Some((_, s)) => s,
                None => {
                    let (rel, path) = asm.new_file()?;
                    &mut sink
                        .insert((rel, ParquetSink::create(&path, schema.clone())?))
                        .1
                }
            };
            s.write(&b)
        },
    )?;
    let mut pieces: Vec<Piece> = kept_pieces(prev).collect();
    let skipped = match outcome {
        None => {
            pieces.extend(upload_pieces(uploaded.into_source()));
            0
        }
        Some(written) => {
            if let Some((rel, s)) = sink {
                s.finish()?;
                asm.sync()?;
                let rows = written.rows;
                pieces.push(Piece::Kept(DataFile { file: rel, rows }));
            }
            written.skipped
        }
    };
    finish(asm, pieces, skipped)
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

/// `Update`, `Upsert`, `Delete`: the keyed merge of the stored rows and the upload into one
/// new file.
fn merge_all(
    mut asm: Assembly<'_>,
    prev: &[DataFile],
    up: TableUpload,
) -> Result<(TableVersion, Merged)> {
    let table = asm.table;
    let schema = merge_schema(&asm, prev, &up.source)?;
    let mut existing = stored_rows(&asm, prev, &schema, None)?;
    let (rel, path) = asm.new_file()?;
    let mut sink = ParquetSink::create(&path, schema.clone())?;
    let uploaded = Uploaded::new(up.source, schema.clone(), table.name.clone());
    let merged = merge::apply(
        up.policy,
        &table.key_columns,
        &table.name,
        &schema,
        &mut existing,
        &uploaded,
        &mut |b| sink.write(&b),
    )?;
    sink.finish()?;
    asm.sync()?;
    let file = DataFile {
        file: rel,
        rows: merged.rows,
    };
    Ok((TableVersion::new(vec![file]), merged))
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

/// The stored rows of `files`, in order, as `schema` (of `columns` only, when given).
fn stored_rows(
    asm: &Assembly<'_>,
    files: &[DataFile],
    schema: &SchemaRef,
    columns: Option<&[usize]>,
) -> Result<impl Iterator<Item = Result<RecordBatch>> + use<>> {
    let readers = files
        .iter()
        .map(|f| read_conformed(&asm.dir.join(&f.file), schema, &asm.table.name, columns))
        .collect::<Result<Vec<_>>>()?;
    Ok(readers.into_iter().flatten())
}

#[cfg(test)]
#[path = "publish_tests.rs"]
mod tests;
