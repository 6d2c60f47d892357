//! The tables of a push compared with the definition of the dataset they go into
//! (`GET /api/datasets/{id}?fields=tables&fields=columns`): every difference, each either
//! refused or tolerated.
//!
//! # What is tolerated
//!
//! A chunk names its columns (`columnHeaders` of the upload session, or of the
//! single-request body) and the server parses each value by the type of the dataset column
//! that receives it. So these differences change nothing in the data and are tolerated:
//!
//! - **column order**: the columns are matched by name;
//! - **the case of a table or column name** (`year` for `Year`): the server finds names
//!   exactly, then ignoring case;
//! - **a lossless type widening**: an INTEGER column into a BIGINTEGER, DOUBLE or
//!   BIGDECIMAL one, BIGINTEGER into BIGDECIMAL, DATE into DATETIME (the one rule is
//!   [`DataType::accepts_exactly`]);
//! - **a column whose Arrow type is `Null`** (every value null) into a column of any type.
//!
//! Everything else is refused, before anything is written: a table the dataset does not
//! have, a column it does not have, a column of the dataset the table lacks (the server
//! would write nulls into it, dropping its data under `replace`), and any other type
//! change (a narrowing, or one that rounds or reinterprets values).

use std::fmt;
use std::path::PathBuf;

use arrow_schema::DataType as ArrowType;
use pushdata_core::wire::{DataType, DatasetColumn, DatasetDefinition, position_by_name};

use crate::model::{Model, TableModel};

/// A difference between a table of a push and the dataset it goes into.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Difference {
    /// The table of the push.
    pub table: String,
    /// The file the table is read from, when it is one.
    pub file: Option<PathBuf>,
    /// What differs.
    pub kind: DifferenceKind,
}

/// What differs between a table of a push and the dataset (see the
/// [tolerance rules](DifferenceKind::is_tolerated)).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DifferenceKind {
    /// The dataset has no table of this name (refused).
    TableMissing {
        /// The dataset's tables.
        dataset_tables: Vec<String>,
    },
    /// A column of the dataset's table that the pushed table does not have (refused: its
    /// values would be written as nulls).
    ColumnMissing {
        /// The dataset's column.
        column: String,
        /// Its type in the dataset.
        dataset_type: DataType,
    },
    /// A column of the pushed table that the dataset's table does not have (refused).
    ColumnExtra {
        /// The pushed column.
        column: String,
        /// Its type in the push.
        file_type: DataType,
    },
    /// A column's type differs in a way that can refuse or change values (refused).
    TypeChanged {
        /// The column.
        column: String,
        /// Its type in the push.
        file_type: DataType,
        /// Its type in the dataset.
        dataset_type: DataType,
    },
    /// A column's type is narrower in the push than in the dataset, which stores every
    /// value exactly (tolerated).
    TypeWidened {
        /// The column.
        column: String,
        /// Its type in the push.
        file_type: DataType,
        /// Its type in the dataset.
        dataset_type: DataType,
    },
    /// A column whose Arrow type is `Null`: every value is null, which any column holds
    /// (tolerated).
    NullColumn {
        /// The column.
        column: String,
        /// Its type in the dataset.
        dataset_type: DataType,
    },
    /// The pushed table's columns are in another order than the dataset's (tolerated:
    /// columns are matched by name).
    ColumnOrder {
        /// The dataset's column names, in its order.
        dataset_order: Vec<String>,
    },
    /// A table (`column: None`) or column name differs only in case (tolerated).
    NameCase {
        /// The column, or `None` for the table's own name.
        column: Option<String>,
        /// The name as the dataset spells it.
        dataset_name: String,
    },
}

impl DifferenceKind {
    /// Whether the push goes ahead with this difference: column order, the case of names,
    /// lossless type widenings and all-null columns are tolerated; missing and extra tables
    /// and columns and other type changes are refused (see the module docs).
    pub fn is_tolerated(&self) -> bool {
        matches!(
            self,
            DifferenceKind::TypeWidened { .. }
                | DifferenceKind::NullColumn { .. }
                | DifferenceKind::ColumnOrder { .. }
                | DifferenceKind::NameCase { .. }
        )
    }
}

impl Difference {
    /// `table "t" (file)`.
    fn place(&self) -> String {
        match &self.file {
            Some(file) => format!("table {:?} ({})", self.table, file.display()),
            None => format!("table {:?}", self.table),
        }
    }
}

impl fmt::Display for Difference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.place(), self.kind)
    }
}

impl fmt::Display for DifferenceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DifferenceKind::TableMissing { dataset_tables } => write!(
                f,
                "no table of this name in the dataset, whose tables are {}",
                quoted(dataset_tables)
            ),
            DifferenceKind::ColumnMissing {
                column,
                dataset_type,
            } => write!(
                f,
                "column {column:?} ({dataset_type}) of the dataset is not in the file"
            ),
            DifferenceKind::ColumnExtra { column, file_type } => write!(
                f,
                "column {column:?} ({file_type}) of the file is not in the dataset"
            ),
            DifferenceKind::TypeChanged {
                column,
                file_type,
                dataset_type,
            } => write!(
                f,
                "column {column:?} is {file_type} in the file, {dataset_type} in the dataset"
            ),
            DifferenceKind::TypeWidened {
                column,
                file_type,
                dataset_type,
            } => write!(
                f,
                "column {column:?} is {file_type} in the file, {dataset_type} in the dataset, \
                 which stores its values exactly"
            ),
            DifferenceKind::NullColumn {
                column,
                dataset_type,
            } => write!(
                f,
                "column {column:?} is all nulls (Arrow type Null), {dataset_type} in the dataset"
            ),
            DifferenceKind::ColumnOrder { dataset_order } => write!(
                f,
                "the columns are in another order than the dataset's ({})",
                quoted(dataset_order)
            ),
            DifferenceKind::NameCase {
                column: None,
                dataset_name,
            } => write!(f, "the table is spelled {dataset_name:?} in the dataset"),
            DifferenceKind::NameCase {
                column: Some(column),
                dataset_name,
            } => write!(
                f,
                "column {column:?} is spelled {dataset_name:?} in the dataset"
            ),
        }
    }
}

/// Differences on one line, those of one table after its name once:
/// `table "t" (t.parquet): column "a" ...; column "b" ...; table "u": ...`.
pub(crate) fn differences_text(differences: &[Difference]) -> String {
    let mut out = String::new();
    let mut last: Option<String> = None;
    for d in differences {
        let place = d.place();
        if !out.is_empty() {
            out.push_str("; ");
        }
        if last.as_ref() != Some(&place) {
            out.push_str(&place);
            out.push_str(": ");
        }
        out.push_str(&d.kind.to_string());
        last = Some(place);
    }
    out
}

/// `"a", "b"` (or `none`).
fn quoted(names: &[String]) -> String {
    if names.is_empty() {
        return "none".to_string();
    }
    names
        .iter()
        .map(|n| format!("{n:?}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A dataset table as its definition describes it.
struct DefinedTable<'d> {
    name: &'d str,
    columns: Vec<&'d DatasetColumn>,
}

/// The definition's tables with their columns, in the definition's order. Columns are
/// matched to tables by table id when the definition lists tables, else by table name.
fn defined_tables(definition: &DatasetDefinition) -> Vec<DefinedTable<'_>> {
    let objects = &definition.result.definition.available_objects;
    let columns: &[DatasetColumn] = objects.columns.as_deref().unwrap_or_default();
    match objects.tables.as_deref() {
        Some(tables) => tables
            .iter()
            .map(|t| DefinedTable {
                name: &t.name,
                columns: columns
                    .iter()
                    .filter(|c| c.table_id.eq_ignore_ascii_case(&t.id))
                    .collect(),
            })
            .collect(),
        None => {
            let mut out: Vec<DefinedTable<'_>> = Vec::new();
            for c in columns {
                match out.iter_mut().find(|t| t.name == c.table_name) {
                    Some(t) => t.columns.push(c),
                    None => out.push(DefinedTable {
                        name: &c.table_name,
                        columns: vec![c],
                    }),
                }
            }
            out
        }
    }
}

/// Every difference between the tables of `model` (read from `files`, in model order) and
/// `definition`, refused and tolerated, in table and column order.
pub(crate) fn compare(
    model: &Model,
    files: &[Option<PathBuf>],
    definition: &DatasetDefinition,
) -> Vec<Difference> {
    let defined = defined_tables(definition);
    let mut out = Vec::new();
    for (i, table) in model.tables.iter().enumerate() {
        let file = files.get(i).cloned().flatten();
        let mut add = |kind| {
            out.push(Difference {
                table: table.name.clone(),
                file: file.clone(),
                kind,
            });
        };
        match position_by_name(&defined, &table.name, |t| t.name) {
            None => add(DifferenceKind::TableMissing {
                dataset_tables: defined.iter().map(|t| t.name.to_string()).collect(),
            }),
            Some(d) => {
                let dt = &defined[d];
                if dt.name != table.name {
                    add(DifferenceKind::NameCase {
                        column: None,
                        dataset_name: dt.name.to_string(),
                    });
                }
                compare_columns(table, &dt.columns, &mut add);
            }
        }
    }
    out
}

/// The differences of one table's columns.
fn compare_columns(
    table: &TableModel,
    defined: &[&DatasetColumn],
    add: &mut impl FnMut(DifferenceKind),
) {
    let mut matched = Vec::with_capacity(table.columns.len());
    for c in &table.columns {
        let file_type = c.mapping.data_type;
        let Some(d) = position_by_name(defined, &c.name, |d| &d.column_name) else {
            add(DifferenceKind::ColumnExtra {
                column: c.name.clone(),
                file_type,
            });
            continue;
        };
        matched.push(d);
        let dc = defined[d];
        if dc.column_name != c.name {
            add(DifferenceKind::NameCase {
                column: Some(c.name.clone()),
                dataset_name: dc.column_name.clone(),
            });
        }
        let (column, dataset_type) = (c.name.clone(), dc.data_type);
        if file_type == dataset_type {
            continue;
        }
        add(if c.arrow_type == ArrowType::Null {
            DifferenceKind::NullColumn {
                column,
                dataset_type,
            }
        } else if dataset_type.accepts_exactly(file_type) {
            DifferenceKind::TypeWidened {
                column,
                file_type,
                dataset_type,
            }
        } else {
            DifferenceKind::TypeChanged {
                column,
                file_type,
                dataset_type,
            }
        });
    }
    for (d, dc) in defined.iter().enumerate() {
        if !matched.contains(&d) {
            add(DifferenceKind::ColumnMissing {
                column: dc.column_name.clone(),
                dataset_type: dc.data_type,
            });
        }
    }
    if matched.windows(2).any(|w| w[0] > w[1]) {
        add(DifferenceKind::ColumnOrder {
            dataset_order: defined.iter().map(|d| d.column_name.clone()).collect(),
        });
    }
}
