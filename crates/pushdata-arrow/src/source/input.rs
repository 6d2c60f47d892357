//! One table's input as pipelines write it: a file, a directory of part files, or a glob;
//! in any of the formats of [`FileFormat`]; hive partition folders as columns.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_schema::{ArrowError, Field, Schema, SchemaRef};

use super::files::{self, Listing};
use super::format::FileFormat;
use super::location::FileLocation;
use super::storage_options::StorageOptions;
use super::unify::{SchemaDifference, unify};
use super::{ReadOptions, partition, readers};
use crate::error::{Error, Result};

/// What is wrong with an input location or one of its files.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InputError {
    /// A file or folder could not be read.
    #[error("opening {path:?}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The glob pattern does not parse.
    #[error("glob {pattern:?}: {source}")]
    Glob {
        /// The pattern.
        pattern: String,
        /// Why it does not parse.
        #[source]
        source: glob::PatternError,
    },
    /// The directory or glob holds no data file.
    #[error("{location:?} holds no data file (skipped are _SUCCESS, *.crc and hidden files)")]
    NoFiles {
        /// The directory or glob.
        location: String,
    },
    /// A file's format is none of those known, by extension or content.
    #[error(
        "{path:?} is in none of the formats read: its extension is not .parquet/.pq, \
         .arrow/.feather/.ipc, .arrows, .csv/.tsv or .json/.ndjson/.jsonl, and its first bytes \
         are not Parquet (PAR1), an Arrow IPC file (ARROW1), an Arrow IPC stream (0xFFFFFFFF) \
         or NDJSON ({{); CSV is only read from a .csv or .tsv file"
    )]
    UnknownFormat {
        /// The file.
        path: PathBuf,
    },
    /// A file could not be read in its format.
    #[error("reading {format} file {path:?}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Its format.
        format: FileFormat,
        /// The Arrow error.
        #[source]
        source: ArrowError,
    },
    /// A file's columns differ from the first file's in a way that does not widen.
    #[error("{path:?} does not match {first:?}: {difference}")]
    SchemaDiffers {
        /// The first file of the input.
        first: PathBuf,
        /// The file that differs.
        path: PathBuf,
        /// The first difference.
        difference: SchemaDifference,
    },
    /// A file's partition folders differ from the first file's (other keys, or in another
    /// order).
    #[error("{path:?}: partition folders {found:?} where {expected:?} were expected")]
    Partitions {
        /// The file.
        path: PathBuf,
        /// The keys of the first file's folders.
        expected: Vec<String>,
        /// The keys of this file's folders.
        found: Vec<String>,
    },
    /// A partition key is also a column of the files.
    #[error("{path:?}: partition key {key:?} is also a column of the file")]
    PartitionColumn {
        /// The file.
        path: PathBuf,
        /// The key.
        key: String,
    },
    /// An input URL does not parse, or names no store this build reads.
    #[error("input URL {url:?}: {message}")]
    Url {
        /// The URL.
        url: String,
        /// What is wrong.
        message: String,
    },
    /// A storage option is none of the store's configuration keys.
    #[error("input URL {url:?}: {key:?} is not a storage option of its store")]
    StorageOption {
        /// The URL.
        url: String,
        /// The option's key.
        key: String,
    },
    /// An object-store operation failed.
    #[cfg(feature = "object-store")]
    #[error("{url:?}: cannot {operation}: {source}")]
    Object {
        /// The URL.
        url: String,
        /// What was being done (`list the objects`, `read the object's metadata`, ...).
        operation: &'static str,
        /// The store's error.
        #[source]
        source: object_store::Error,
    },
    /// A `--schema` file does not give a schema.
    #[error("schema file {path:?}: {message}")]
    SchemaFile {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
}

impl InputError {
    /// The file or folder the error is about, when it is one path (not a glob or a
    /// location without files).
    pub fn path(&self) -> Option<&Path> {
        match self {
            InputError::Io { path, .. }
            | InputError::UnknownFormat { path, .. }
            | InputError::Read { path, .. }
            | InputError::SchemaDiffers { path, .. }
            | InputError::Partitions { path, .. }
            | InputError::PartitionColumn { path, .. }
            | InputError::SchemaFile { path, .. } => Some(path),
            _ => None,
        }
    }
}

/// How text files (CSV, NDJSON) are read.
#[derive(Debug, Clone)]
pub struct InputOptions {
    pub(crate) csv_delimiter: Option<u8>,
    pub(crate) csv_header: bool,
    pub(crate) schema: Option<SchemaRef>,
    pub(crate) infer_rows: usize,
    pub(crate) storage: StorageOptions,
}

impl Default for InputOptions {
    fn default() -> Self {
        InputOptions {
            csv_delimiter: None,
            csv_header: true,
            schema: None,
            infer_rows: 1000,
            storage: StorageOptions::default(),
        }
    }
}

impl InputOptions {
    /// The CSV field delimiter (default `,`, or tab for a `.tsv` file).
    pub fn with_csv_delimiter(mut self, delimiter: u8) -> Self {
        self.csv_delimiter = Some(delimiter);
        self
    }

    /// Whether a CSV file's first line names its columns (default `true`; without it the
    /// columns are `column_1`, `column_2`, ...).
    pub fn with_csv_header(mut self, header: bool) -> Self {
        self.csv_header = header;
        self
    }

    /// The schema of CSV and NDJSON files, instead of inferring it from their first rows.
    /// Parquet and Arrow IPC files carry their own schema; this does not apply to them.
    pub fn with_schema(mut self, schema: SchemaRef) -> Self {
        self.schema = Some(schema);
        self
    }

    /// Rows read to infer a CSV or NDJSON file's schema (default 1000).
    pub fn with_infer_rows(mut self, rows: usize) -> Self {
        self.infer_rows = rows.max(1);
        self
    }

    /// The options of the object store an input URL opens, added to what the environment
    /// gives (see [`StorageOptions`]).
    pub fn with_storage_options(mut self, options: StorageOptions) -> Self {
        self.storage = options;
        self
    }
}

/// One data file of an input.
#[derive(Debug, Clone)]
pub(crate) struct DataFile {
    /// Where it is.
    pub(crate) location: FileLocation,
    /// Its format.
    pub(crate) format: FileFormat,
    /// Its own schema (before unification).
    pub(crate) schema: SchemaRef,
    /// Its rows, when the format says without reading the data (Parquet).
    pub(crate) rows: Option<u64>,
    /// Its partition values, in the order of the input's partition columns.
    pub(crate) partitions: Vec<Option<String>>,
}

/// One table's input: a file, every data file below a directory, or the files a glob
/// matches, read in sorted path order as one table.
///
/// Each file's format is found by its extension, else by its first bytes (see
/// [`FileFormat`]). Hive partition folders (`year=2024/month=05/`) become columns after
/// the files' own, typed as pyarrow types them: `Int32` when every value of the key
/// parses as one, else `Utf8`. The files' schemas must match, or widen without loss (see
/// [`SchemaDifference`]); otherwise opening fails naming the first difference.
///
/// Opening reads only each file's schema (a Parquet footer, an IPC header, or the first
/// rows of a CSV/NDJSON file for inference). A push then streams the files one after the
/// other: Parquet row groups, IPC record batches and CSV/NDJSON blocks as they are
/// read, never a whole file.
///
/// ```no_run
/// use pushdata_arrow::{InputOptions, InputSource};
///
/// let input = InputSource::open("sales", "out/sales/", InputOptions::default())?;
/// println!("{} files, schema {:?}", input.files().count(), input.schema());
/// # Ok::<(), pushdata_arrow::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct InputSource {
    table: String,
    location: PathBuf,
    files: Vec<DataFile>,
    schema: SchemaRef,
    options: InputOptions,
}

impl InputSource {
    /// Open `location` (a file, a directory or a glob pattern) as table `table` (the name
    /// is used in errors): list its files, read their schemas and unify them.
    pub fn open(table: &str, location: impl AsRef<Path>, options: InputOptions) -> Result<Self> {
        let location = location.as_ref();
        let err = |e: InputError| Error::Input {
            table: table.to_string(),
            source: Box::new(e),
        };
        let text = location.to_string_lossy();
        let Listing { root, files } = list(&text, &options).map_err(err)?;
        let mut data = Vec::with_capacity(files.len());
        let mut keys: Option<Vec<String>> = None;
        for file in files {
            let path = file.path();
            let relative = path.strip_prefix(&root).unwrap_or(path);
            let (names, values): (Vec<String>, Vec<Option<String>>) =
                partition::parse(relative).into_iter().unzip();
            match &keys {
                Some(expected) if *expected != names => {
                    return Err(err(InputError::Partitions {
                        path: path.to_path_buf(),
                        expected: expected.clone(),
                        found: names,
                    }));
                }
                Some(_) => {}
                None => keys = Some(names),
            }
            let format = FileFormat::detect_at(&file).map_err(err)?;
            let (schema, rows) = readers::file_schema(table, &file, format, &options)?;
            data.push(DataFile {
                location: file,
                format,
                schema,
                rows,
                partitions: values,
            });
        }
        let schema = unified_schema(&data, &keys.unwrap_or_default()).map_err(err)?;
        Ok(InputSource {
            table: table.to_string(),
            location: location.to_path_buf(),
            files: data,
            schema: Arc::new(schema),
            options,
        })
    }

    /// The default table name of `location`: a directory's name, the last literal folder
    /// of a glob (`out/*.parquet` -> `out`), or a file's stem; `None` when there is none
    /// (`*.csv` in the current folder, `/`).
    pub fn default_name(location: impl AsRef<Path>) -> Option<String> {
        let location = location.as_ref();
        let text = location.to_string_lossy();
        let name = if !location.exists() && files::is_glob(&text) {
            files::literal_prefix(&text).file_name()?.to_owned()
        } else if location.is_dir() {
            std::path::absolute(location).ok()?.file_name()?.to_owned()
        } else {
            location.file_stem()?.to_owned()
        };
        Some(name.to_string_lossy().into_owned()).filter(|n| !n.is_empty())
    }

    /// The table's schema: the files' (unified) columns, then the partition columns.
    pub fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    /// The location as given.
    pub fn location(&self) -> &Path {
        &self.location
    }

    /// The table's rows, when every file says without reading its data (Parquet only).
    pub fn num_rows(&self) -> Option<u64> {
        self.files.iter().map(|f| f.rows).sum()
    }

    /// The data files, in the order they are read, with their formats.
    pub fn files(&self) -> impl Iterator<Item = (&Path, FileFormat)> {
        self.files.iter().map(|f| (f.location.path(), f.format))
    }

    /// Pass every batch of every file to `f`, in order, as batches of [`Self::schema`];
    /// stops at the first error (including one returned by `f`). Blocks.
    pub(crate) fn read(
        &self,
        options: ReadOptions,
        f: &mut dyn FnMut(RecordBatch) -> Result<()>,
    ) -> Result<()> {
        for file in &self.files {
            let mut adapt = |batch: RecordBatch| f(self.adapt(file, batch)?);
            readers::read_file(&self.table, file, &self.options, options, &mut adapt)?;
        }
        Ok(())
    }

    /// A file's batch as a batch of the table: columns widened to the unified types, the
    /// partition columns added.
    fn adapt(&self, file: &DataFile, batch: RecordBatch) -> Result<RecordBatch> {
        let rows = batch.num_rows();
        let fields = self.schema.fields();
        let mut columns = Vec::with_capacity(fields.len());
        for (column, field) in batch.columns().iter().zip(fields.iter()) {
            if column.data_type() == field.data_type() {
                columns.push(column.clone());
            } else {
                columns.push(
                    arrow_cast::cast(column, field.data_type())
                        .map_err(|source| self.read_error(file, source))?,
                );
            }
        }
        let own = batch.num_columns();
        for (field, value) in fields.iter().skip(own).zip(&file.partitions) {
            columns.push(partition::column(field, value.as_deref(), rows));
        }
        RecordBatch::try_new(self.schema.clone(), columns)
            .map_err(|source| self.read_error(file, source))
    }

    fn read_error(&self, file: &DataFile, source: ArrowError) -> Error {
        Error::Input {
            table: self.table.clone(),
            source: Box::new(InputError::Read {
                path: file.location.path.clone(),
                format: file.format,
                source,
            }),
        }
    }
}

/// The files of `location`: an object-store URL's objects, else local files.
fn list(location: &str, options: &InputOptions) -> std::result::Result<Listing, InputError> {
    #[cfg(feature = "object-store")]
    if super::store::is_url(location) {
        return super::store::list(location, &options.storage);
    }
    #[cfg(not(feature = "object-store"))]
    if location.contains("://") {
        let given = if options.storage.is_empty() {
            ""
        } else {
            " (storage options given)"
        };
        return Err(InputError::Url {
            url: location.to_string(),
            message: format!("this build reads no object store (feature `object-store`){given}"),
        });
    }
    files::list(location)
}

/// The files' schemas unified, then the partition columns typed over every file's values.
fn unified_schema(files: &[DataFile], keys: &[String]) -> std::result::Result<Schema, InputError> {
    let Some(first) = files.first() else {
        return Ok(Schema::empty());
    };
    let mut schema = first.schema.as_ref().clone();
    for file in &files[1..] {
        schema = unify(&schema, &file.schema).map_err(|difference| InputError::SchemaDiffers {
            first: first.location.path.clone(),
            path: file.location.path.clone(),
            difference,
        })?;
    }
    let mut fields: Vec<Field> = schema.fields().iter().map(|f| f.as_ref().clone()).collect();
    for (i, key) in keys.iter().enumerate() {
        if schema.field_with_name(key).is_ok() {
            return Err(InputError::PartitionColumn {
                path: first.location.path.clone(),
                key: key.clone(),
            });
        }
        let values = files
            .iter()
            .map(|f| f.partitions.get(i).and_then(Option::as_deref));
        fields.push(Field::new(key, partition::infer_type(values), true));
    }
    Ok(Schema::new_with_metadata(fields, schema.metadata().clone()))
}
