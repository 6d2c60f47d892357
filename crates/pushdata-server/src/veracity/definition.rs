//! Veracity schemas (columns with types and key flags, in versions) and the dataset
//! definition the store keeps for each ingested dataset: one table whose columns and key
//! columns come from the schema version it was created with.
//!
//! Schemas live in `<data_dir>/veracity/schemas.json` (rewritten atomically on change);
//! datasets in the service's own [`Catalog`](crate::store::Catalog).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use parking_lot::RwLock;
use pushdata_core::veracity::wire::{ColumnType, Schema, SchemaColumn, SchemaVersion};
use pushdata_core::wire::{ColumnHeader, DataType};
use serde::{Deserialize, Serialize};

use super::error::{Result, VeracityError};
use crate::store::{Definition, TableDef};

/// The id of a Veracity dataset's one table in the store.
pub(crate) const TABLE_ID: &str = "DATA";

/// The store's type for a schema column type (`None`: a type the emulation does not know).
/// Decimals are exact: the store keeps them as decimals with the scale and digits their
/// values need (its decimal rule), at most 38 digits for this service (see `decimals`).
pub(crate) fn store_type(t: &ColumnType) -> Option<DataType> {
    Some(match t {
        ColumnType::String => DataType::String,
        ColumnType::Int32 => DataType::Integer,
        ColumnType::Int64 => DataType::BigInteger,
        ColumnType::Decimal => DataType::BigDecimal,
        ColumnType::Double => DataType::Double,
        ColumnType::Boolean => DataType::Bool,
        ColumnType::DateTime => DataType::DateTime,
        ColumnType::DateOnly => DataType::Date,
        _ => return None,
    })
}

/// A schema as stored: the wire shape, and the workspace it belongs to.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct StoredSchema {
    /// The workspace.
    pub(crate) workspace_id: String,
    /// The schema and its versions.
    pub(crate) schema: Schema,
}

/// Check a column list: at least one column, names non-empty and unique (any case), types
/// known.
pub(crate) fn check_columns(columns: &[SchemaColumn]) -> Result<()> {
    if columns.is_empty() {
        return Err(VeracityError::bad_request(
            "a schema needs at least one column",
        ));
    }
    for (i, c) in columns.iter().enumerate() {
        if c.name.trim().is_empty() {
            return Err(VeracityError::bad_request(format!(
                "column {i} has no name"
            )));
        }
        if columns[..i]
            .iter()
            .any(|o| o.name.eq_ignore_ascii_case(&c.name))
        {
            return Err(VeracityError::bad_request(format!(
                "column name {:?} is used twice",
                c.name
            )));
        }
        if store_type(&c.data_type).is_none() {
            return Err(VeracityError::bad_request(format!(
                "column {:?} has the unknown type {:?}",
                c.name,
                c.data_type.as_str()
            )));
        }
    }
    Ok(())
}

/// The schemas of all workspaces, persisted as one JSON file.
#[derive(Debug)]
pub(crate) struct Schemas {
    path: PathBuf,
    map: RwLock<HashMap<String, StoredSchema>>,
}

impl Schemas {
    /// Load `path` (absent: no schemas yet).
    pub(crate) fn open(path: &Path) -> Result<Self> {
        let map = match std::fs::read(path) {
            Ok(bytes) => {
                let list: Vec<StoredSchema> = serde_json::from_slice(&bytes).map_err(|e| {
                    VeracityError::internal(format!("parsing {}", path.display()), e)
                })?;
                list.into_iter().map(|s| (s.schema.id.clone(), s)).collect()
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => HashMap::new(),
            Err(e) => return Err(VeracityError::io(format!("reading {}", path.display()), e)),
        };
        Ok(Schemas {
            path: path.to_path_buf(),
            map: RwLock::new(map),
        })
    }

    /// Write all schemas (temp file, fsync, rename, directory fsync). Called under the
    /// write lock.
    fn save(&self, map: &HashMap<String, StoredSchema>) -> Result<()> {
        let mut list: Vec<&StoredSchema> = map.values().collect();
        list.sort_by(|a, b| a.schema.id.cmp(&b.schema.id));
        Ok(crate::store::write_json_atomic(&self.path, &list)?)
    }

    /// Store a new schema.
    pub(crate) fn add(&self, workspace: &str, schema: Schema) -> Result<Schema> {
        let mut map = self.map.write();
        let stored = StoredSchema {
            workspace_id: workspace.to_string(),
            schema: schema.clone(),
        };
        map.insert(schema.id.clone(), stored);
        if let Err(e) = self.save(&map) {
            map.remove(&schema.id);
            return Err(e);
        }
        Ok(schema)
    }

    /// Add a version to a schema of `workspace`; it becomes the active one.
    pub(crate) fn add_version(
        &self,
        workspace: &str,
        schema_id: &str,
        v: SchemaVersion,
    ) -> Result<SchemaVersion> {
        let mut map = self.map.write();
        let before = map.clone();
        let schema = map
            .get_mut(schema_id)
            .filter(|s| s.workspace_id == workspace)
            .map(|s| &mut s.schema)
            .ok_or_else(|| {
                VeracityError::not_found(format!(
                    "schema {schema_id} not found in workspace {workspace}"
                ))
            })?;
        for old in &mut schema.schema_versions {
            old.is_active = Some(false);
        }
        schema.schema_versions.push(v.clone());
        if let Err(e) = self.save(&map) {
            *map = before;
            return Err(e);
        }
        Ok(v)
    }

    /// A schema of `workspace`.
    pub(crate) fn get(&self, workspace: &str, id: &str) -> Option<Schema> {
        self.map
            .read()
            .get(id)
            .filter(|s| s.workspace_id == workspace)
            .map(|s| s.schema.clone())
    }

    /// The schema and version of version id `version_id` in `workspace`.
    pub(crate) fn version(
        &self,
        workspace: &str,
        version_id: &str,
    ) -> Option<(Schema, SchemaVersion)> {
        let map = self.map.read();
        map.values()
            .filter(|s| s.workspace_id == workspace)
            .find_map(|s| {
                let s = &s.schema;
                s.schema_versions
                    .iter()
                    .find(|v| v.id == version_id)
                    .map(|v| (s.clone(), v.clone()))
            })
    }
}

/// What the store keeps about a Veracity dataset.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct VDataset {
    /// The dataset id (a UUID).
    pub(crate) id: String,
    /// The workspace it belongs to.
    pub(crate) workspace_id: String,
    /// Its name.
    pub(crate) name: String,
    /// Free text.
    #[serde(default)]
    pub(crate) description: String,
    /// The schema version it was created with.
    pub(crate) schema_version_id: String,
    /// The schema version's columns.
    pub(crate) columns: Vec<SchemaColumn>,
    /// The one table, as the store sees it.
    pub(crate) tables: Vec<TableDef>,
}

impl VDataset {
    /// A new dataset `id` of `version`'s columns (key columns from their `isKey` flags).
    pub(crate) fn new(
        id: String,
        workspace_id: &str,
        name: String,
        description: String,
        version: &SchemaVersion,
    ) -> Self {
        let table = TableDef {
            id: TABLE_ID.to_string(),
            name: name.clone(),
            columns: version
                .columns
                .iter()
                .map(|c| {
                    let t = store_type(&c.data_type).unwrap_or(DataType::String);
                    ColumnHeader::new(c.name.clone(), t)
                })
                .collect(),
            key_columns: version
                .columns
                .iter()
                .enumerate()
                .filter(|(_, c)| c.is_key)
                .map(|(i, _)| i)
                .collect(),
        };
        VDataset {
            id,
            workspace_id: workspace_id.to_string(),
            name,
            description,
            schema_version_id: version.id.clone(),
            columns: version.columns.clone(),
            tables: vec![table],
        }
    }

    /// Whether the schema has key columns.
    pub(crate) fn has_keys(&self) -> bool {
        self.columns.iter().any(|c| c.is_key)
    }
}

impl Definition for VDataset {
    fn id(&self) -> &str {
        &self.id
    }

    fn name(&self) -> &str {
        &self.name
    }

    fn tables(&self) -> &[TableDef] {
        &self.tables
    }
}
