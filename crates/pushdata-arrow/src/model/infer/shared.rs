//! Columns shared across tables: a column name (compared ignoring case, as the server
//! compares names) that several tables of one push have is the key that relates them, so it
//! is an attribute whatever its type, named as the first table spells it.

use std::collections::HashMap;

use super::TableFacts;

/// The column names several tables have.
#[derive(Debug, Default)]
pub(super) struct Shared {
    /// Lower-case name -> (the first table's spelling, the tables that have it).
    by_name: HashMap<String, (String, Vec<String>)>,
}

impl Shared {
    /// The names that two or more of `tables` have.
    pub(super) fn find(tables: &[TableFacts<'_>]) -> Self {
        let mut by_name: HashMap<String, (String, Vec<String>)> = HashMap::new();
        for t in tables {
            for c in &t.columns {
                let entry = by_name
                    .entry(c.name.to_ascii_lowercase())
                    .or_insert_with(|| (c.name.to_string(), Vec::new()));
                entry.1.push(t.name.to_string());
            }
        }
        by_name.retain(|_, (_, tables)| tables.len() > 1);
        Shared { by_name }
    }

    /// The attribute name and the tables of a shared column, if `column` is one.
    pub(super) fn get(&self, column: &str) -> Option<(&str, &[String])> {
        self.by_name
            .get(&column.to_ascii_lowercase())
            .map(|(name, tables)| (name.as_str(), tables.as_slice()))
    }
}
