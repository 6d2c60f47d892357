//! [`ChunkLayout`]: how the values of a chunk map onto the table's columns, and the one
//! rule for finding a column by name.

use pushdata_core::wire::{ColumnHeader, Orientation, position_by_name};

use super::error::DecodeError;

/// How the values of a chunk map onto a table.
#[derive(Debug, Clone)]
pub(crate) struct ChunkLayout {
    /// The table's columns, in definition order (the order of the decoded batch).
    pub(crate) columns: Vec<ColumnHeader>,
    /// For each position in a row array (or each column array), the index of the table
    /// column it fills. Table columns not listed are filled with nulls.
    pub(crate) order: Vec<usize>,
    pub(crate) orientation: Orientation,
}

impl ChunkLayout {
    /// A layout taking the values in `names` order (all table columns when `None`).
    /// Unknown names are an error naming the column and listing the table's columns.
    pub(crate) fn new(
        columns: Vec<ColumnHeader>,
        names: Option<&[String]>,
        orientation: Orientation,
        table: &str,
    ) -> Result<Self, DecodeError> {
        let order = match names {
            None => (0..columns.len()).collect(),
            Some(names) => header_order(&columns, names, table)?,
        };
        Ok(ChunkLayout {
            columns,
            order,
            orientation,
        })
    }

    /// The table columns the chunk gives no values for (filled with nulls), ascending.
    pub(crate) fn missing(&self) -> Vec<usize> {
        (0..self.columns.len())
            .filter(|i| !self.order.contains(i))
            .collect()
    }

    /// The names of the columns the chunk gives values for, in chunk order.
    pub(crate) fn ordered_names(&self) -> Vec<String> {
        self.order
            .iter()
            .map(|&c| self.columns[c].name.clone())
            .collect()
    }
}

/// The table column of each name in `columnHeaders`; each column at most once.
fn header_order(
    columns: &[ColumnHeader],
    names: &[String],
    table: &str,
) -> Result<Vec<usize>, DecodeError> {
    let mut order = Vec::with_capacity(names.len());
    for n in names {
        let i = find_column(columns, n).ok_or_else(|| DecodeError::UnknownHeader {
            table: table.to_string(),
            column: n.clone(),
            columns: columns.to_vec(),
        })?;
        if order.contains(&i) {
            return Err(DecodeError::RepeatedHeader {
                table: table.to_string(),
                column: n.clone(),
            });
        }
        order.push(i);
    }
    Ok(order)
}

/// The index of column `name`: exact match first, then case-insensitive.
pub(crate) fn find_column(columns: &[ColumnHeader], name: &str) -> Option<usize> {
    position_by_name(columns, name, |c| &c.name)
}

/// `"a" (INTEGER), "b" (STRING)` for error messages.
pub(crate) fn list_columns(columns: &[ColumnHeader]) -> String {
    columns
        .iter()
        .map(|c| format!("{:?} ({})", c.name, c.data_type))
        .collect::<Vec<_>>()
        .join(", ")
}
