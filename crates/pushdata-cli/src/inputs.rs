//! The input files of `push` and `schema`: checked, named as tables, and their Parquet
//! footers read (schema and row count) before anything is sent anywhere.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use arrow_schema::SchemaRef;
use pushdata_arrow::{ModelOptions, ParquetSource, TableSchema};

use crate::args::ModelArgs;
use crate::error::{CliError, Result};

/// One input file: its path, table name, Arrow schema and row count (from the footer).
#[derive(Debug, Clone)]
pub(crate) struct InputFile {
    /// The path as given.
    pub(crate) path: PathBuf,
    /// The table it becomes.
    pub(crate) table: String,
    /// The Arrow schema stored in (or derived from) the Parquet footer.
    pub(crate) schema: SchemaRef,
    /// Rows in the file, from the footer.
    pub(crate) rows: u64,
}

impl InputFile {
    /// The model's view of this file.
    pub(crate) fn table_schema(&self) -> TableSchema {
        TableSchema::new(self.table.clone(), self.schema.clone())
    }
}

/// Table names for `files`: `table` for a single file, else each file's stem. Two files
/// that would become the same table are an error.
pub(crate) fn table_names(files: &[PathBuf], table: Option<&str>) -> Result<Vec<String>> {
    if let Some(table) = table {
        if files.len() != 1 {
            return Err(CliError::Usage(format!(
                "--table names the table of a single file, but {} files were given \
                 (each file's table is named after its file stem)",
                files.len()
            )));
        }
        return Ok(vec![table.to_string()]);
    }
    let mut seen = HashSet::new();
    files
        .iter()
        .map(|path| {
            let stem = file_stem(path)?;
            if !seen.insert(stem.clone()) {
                return Err(CliError::Usage(format!(
                    "two files would both become table {stem:?}; rename one of them"
                )));
            }
            Ok(stem)
        })
        .collect()
}

/// The file name without its extension, as the default table (and dataset) name.
pub(crate) fn file_stem(path: &Path) -> Result<String> {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .filter(|s| !s.is_empty())
        .ok_or_else(|| CliError::File {
            path: path.to_path_buf(),
            message: "cannot name a table after this path; give a file name".into(),
        })
}

/// Check that every file exists and is a readable Parquet file, and read its footer.
pub(crate) fn read_inputs(files: &[PathBuf], tables: Vec<String>) -> Result<Vec<InputFile>> {
    files
        .iter()
        .zip(tables)
        .map(|(path, table)| read_footer(path, table))
        .collect()
}

fn read_footer(path: &Path, table: String) -> Result<InputFile> {
    // A directory opens fine on some systems; say what it is before Parquet complains.
    if path.is_dir() {
        return Err(CliError::File {
            path: path.to_path_buf(),
            message: "is a directory, not a Parquet file".into(),
        });
    }
    let source = ParquetSource::open(&table, path)?;
    Ok(InputFile {
        path: path.to_path_buf(),
        schema: source.schema(),
        rows: source.num_rows(),
        table,
    })
}

/// `--attribute` / `--metric` / `--form` as model options.
pub(crate) fn model_options(args: &ModelArgs) -> ModelOptions {
    let opts = args
        .attributes
        .iter()
        .fold(ModelOptions::default(), |o, c| o.with_attribute(c.clone()));
    let opts = args
        .metrics
        .iter()
        .fold(opts, |o, c| o.with_metric(c.clone()));
    args.forms.iter().fold(opts, |o, f| {
        o.with_form(f.attribute.clone(), f.column.clone(), f.category.as_str())
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn table_names_come_from_stems() {
        let files = [
            PathBuf::from("data/orders.parquet"),
            PathBuf::from("c.parquet"),
        ];
        assert_eq!(table_names(&files, None).unwrap(), ["orders", "c"]);
    }

    #[test]
    fn table_option_needs_a_single_file() {
        let files = [PathBuf::from("a.parquet"), PathBuf::from("b.parquet")];
        let e = table_names(&files, Some("t")).unwrap_err();
        assert!(e.to_string().contains("--table"), "{e}");
        assert_eq!(table_names(&files[..1], Some("t")).unwrap(), ["t"]);
    }

    #[test]
    fn duplicate_stems_are_refused() {
        let files = [PathBuf::from("x/a.parquet"), PathBuf::from("y/a.parquet")];
        let e = table_names(&files, None).unwrap_err();
        assert!(e.to_string().contains("\"a\""), "{e}");
    }
}
