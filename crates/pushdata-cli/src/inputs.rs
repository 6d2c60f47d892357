//! The inputs of `push`, `schema` and `veracity push`: files, directories or globs, each
//! checked, named as a table, and its schema read before anything is sent anywhere.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_schema::{DataType, Field, Schema, SchemaRef};
use pushdata_arrow::{
    FileFormat, InputOptions, InputSource, ModelOptions, StorageOptions, TableSchema,
};
use serde::Deserialize;

use crate::args::{InputArgs, ModelArgs};
use crate::error::{CliError, Result};

/// One input: its location, table name, the opened source (schema and files) and its row
/// count when the files say it without being read (Parquet footers).
#[derive(Debug, Clone)]
pub(crate) struct InputFile {
    /// The location as given (a file, a directory or a glob).
    pub(crate) path: PathBuf,
    /// The table it becomes.
    pub(crate) table: String,
    /// The opened input.
    pub(crate) source: InputSource,
    /// Rows, when every file's footer says.
    pub(crate) rows: Option<u64>,
}

impl InputFile {
    /// The model's view of this input.
    pub(crate) fn table_schema(&self) -> TableSchema {
        TableSchema::new(self.table.clone(), self.source.schema())
    }
}

/// Table names for `inputs`: `table` for a single input, else each one's default name
/// (see [`input_name`]). Two inputs that would become the same table are an error.
pub(crate) fn table_names(inputs: &[PathBuf], table: Option<&str>) -> Result<Vec<String>> {
    if let Some(table) = table {
        if inputs.len() != 1 {
            return Err(CliError::Usage(format!(
                "--table names the table of a single input, but {} were given \
                 (each input's table is named after its file stem or directory)",
                inputs.len()
            )));
        }
        return Ok(vec![table.to_string()]);
    }
    let mut seen = HashSet::new();
    inputs
        .iter()
        .map(|path| {
            let name = input_name(path)?;
            if !seen.insert(name.clone()) {
                return Err(CliError::Usage(format!(
                    "two inputs would both become table {name:?}; rename one of them or push \
                     them separately with --table"
                )));
            }
            Ok(name)
        })
        .collect()
}

/// The default table (and dataset) name of an input: a file's stem, a directory's name, or
/// a glob's last literal folder (`out/*.parquet` -> `out`).
pub(crate) fn input_name(path: &Path) -> Result<String> {
    InputSource::default_name(path).ok_or_else(|| CliError::File {
        path: path.to_path_buf(),
        message: "cannot name a table after this input; give --table (or --dataset)".into(),
    })
}

/// Open every input: list its files, read and unify their schemas.
pub(crate) fn read_inputs(
    inputs: &[PathBuf],
    tables: Vec<String>,
    options: &InputOptions,
) -> Result<Vec<InputFile>> {
    inputs
        .iter()
        .zip(tables)
        .map(|(path, table)| {
            let source = InputSource::open(&table, path, options.clone())?;
            Ok(InputFile {
                path: path.clone(),
                rows: source.num_rows(),
                source,
                table,
            })
        })
        .collect()
}

/// `--csv-delimiter`, `--csv-no-header`, `--schema` and `--storage-option` as input
/// options.
pub(crate) fn input_options(args: &InputArgs) -> Result<InputOptions> {
    let storage: StorageOptions = args
        .storage_options
        .iter()
        .map(|o| (o.key.clone(), o.value.clone()))
        .collect();
    let mut options = InputOptions::default()
        .with_csv_header(!args.csv_no_header)
        .with_storage_options(storage);
    if let Some(d) = args.csv_delimiter {
        options = options.with_csv_delimiter(d);
    }
    if let Some(path) = &args.schema {
        options = options.with_schema(schema_file(path)?);
    }
    Ok(options)
}

/// One column of a JSON schema file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SchemaColumn {
    name: String,
    #[serde(rename = "type")]
    data_type: String,
    #[serde(default = "yes")]
    nullable: bool,
}

fn yes() -> bool {
    true
}

/// The schema in `path`: a Parquet or Arrow IPC file's, else a JSON list of columns.
fn schema_file(path: &Path) -> Result<SchemaRef> {
    let fail = |message: String| CliError::File {
        path: path.to_path_buf(),
        message: format!("not a schema file: {message}"),
    };
    if let Ok(FileFormat::Parquet | FileFormat::ArrowFile | FileFormat::ArrowStream) =
        FileFormat::detect(path)
    {
        return Ok(InputSource::open("--schema", path, InputOptions::default())?.schema());
    }
    let text = std::fs::read_to_string(path).map_err(|e| fail(e.to_string()))?;
    let columns: Vec<SchemaColumn> = serde_json::from_str(&text).map_err(|e| {
        fail(format!(
            "{e}; expected [{{\"name\": \"id\", \"type\": \"Int64\", \"nullable\": false}}, ...]"
        ))
    })?;
    let fields = columns
        .into_iter()
        .map(|c| {
            let data_type: DataType = c
                .data_type
                .parse()
                .map_err(|e| fail(format!("column {:?}: type {:?}: {e}", c.name, c.data_type)))?;
            Ok(Field::new(c.name, data_type, c.nullable))
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Arc::new(Schema::new(fields)))
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
        assert!(matches!(e, CliError::Usage(_)), "{e}");
        assert_eq!(table_names(&files[..1], Some("t")).unwrap(), ["t"]);
    }

    #[test]
    fn duplicate_stems_are_refused() {
        let files = [PathBuf::from("x/a.parquet"), PathBuf::from("y/a.parquet")];
        let e = table_names(&files, None).unwrap_err();
        assert!(matches!(e, CliError::Usage(_)), "{e}");
    }

    #[test]
    fn globs_and_directories_are_named_after_their_folder() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("sales");
        std::fs::create_dir(&out).unwrap();
        let glob = out.join("*.parquet");
        assert_eq!(
            table_names(std::slice::from_ref(&out), None).unwrap(),
            ["sales"]
        );
        assert_eq!(table_names(&[glob], None).unwrap(), ["sales"]);
    }

    #[test]
    fn a_json_schema_file_gives_types_and_nullability() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("schema.json");
        std::fs::write(
            &path,
            r#"[{"name": "id", "type": "Int64", "nullable": false}, {"name": "at", "type": "Timestamp(Microsecond, None)"}]"#,
        )
        .unwrap();
        let schema = schema_file(&path).unwrap();
        assert_eq!(schema.field(0).data_type(), &DataType::Int64);
        assert!(!schema.field(0).is_nullable());
        assert!(schema.field(1).is_nullable());
        std::fs::write(&path, r#"[{"name": "id", "type": "Integer"}]"#).unwrap();
        assert!(matches!(schema_file(&path), Err(CliError::File { .. })));
    }
}
