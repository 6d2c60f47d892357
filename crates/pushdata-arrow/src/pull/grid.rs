//! A cube instance page read from its JSON without copying its cells: the grid's
//! attributes, forms and metrics as [`CubeInstance`](pushdata_core::wire::CubeInstance)
//! has them, each cell (`formValues`, `metricValues.raw`) as the JSON text it is in the
//! body, and the per-row arrays (`headers.rows`, `metricValues.raw`) flattened into one
//! vector each, so a page costs no allocation per row or cell.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use pushdata_core::wire::{GridForm, GridMetric, GridMetricsHeader, Paging};
use serde::de::{DeserializeSeed, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::value::RawValue;

/// One page of a cube instance, borrowing its cells from the body.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct GridPage<'a> {
    /// Instance id, for the following pages.
    #[serde(borrow)]
    pub(crate) instance_id: Cow<'a, str>,
    /// The grid: attributes, forms, elements, metrics.
    #[serde(borrow)]
    pub(crate) definition: Definition<'a>,
    /// The page's values.
    #[serde(borrow)]
    pub(crate) data: Data<'a>,
}

/// `definition`.
#[derive(Debug, Deserialize)]
pub(crate) struct Definition<'a> {
    /// `definition.grid`.
    #[serde(borrow)]
    pub(crate) grid: Grid<'a>,
}

/// `definition.grid`.
#[derive(Debug, Deserialize)]
pub(crate) struct Grid<'a> {
    /// Attributes (rows axis).
    #[serde(default, borrow)]
    pub(crate) rows: Vec<Attribute<'a>>,
    /// The metrics header (columns axis).
    #[serde(default)]
    pub(crate) columns: Vec<GridMetricsHeader>,
}

/// An attribute header.
#[derive(Debug, Deserialize)]
pub(crate) struct Attribute<'a> {
    /// Attribute name.
    pub(crate) name: String,
    /// The forms read.
    #[serde(default)]
    pub(crate) forms: Vec<GridForm>,
    /// The elements the page's rows refer to.
    #[serde(default, borrow)]
    pub(crate) elements: Vec<Element<'a>>,
}

/// An attribute element: one value per form.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Element<'a> {
    /// The form values, as JSON text.
    #[serde(borrow)]
    pub(crate) form_values: Vec<&'a RawValue>,
}

/// `data`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Data<'a> {
    /// Where this page is.
    pub(crate) paging: Paging,
    /// Element indexes per row.
    #[serde(default)]
    pub(crate) headers: Headers,
    /// Metric values per row.
    #[serde(default, borrow)]
    pub(crate) metric_values: MetricValues<'a>,
}

/// `data.headers`.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct Headers {
    /// Per row, the element index of each attribute.
    #[serde(default)]
    pub(crate) rows: Rows<u32>,
}

/// `data.metricValues`.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct MetricValues<'a> {
    /// Per row, one value per metric, as JSON text.
    #[serde(default, borrow)]
    pub(crate) raw: Rows<&'a RawValue>,
}

impl GridPage<'_> {
    /// The metrics of the grid (elements of its last columns header).
    pub(crate) fn metrics(&self) -> &[GridMetric] {
        self.definition
            .grid
            .columns
            .last()
            .map(|h| h.elements.as_slice())
            .unwrap_or(&[])
    }

    /// The attributes of the grid.
    pub(crate) fn attributes(&self) -> &[Attribute<'_>] {
        &self.definition.grid.rows
    }
}

/// A JSON array of arrays, flattened: the values of every row end to end, and where each
/// row ends.
#[derive(Debug)]
pub(crate) struct Rows<T> {
    values: Vec<T>,
    ends: Vec<usize>,
}

impl<T> Default for Rows<T> {
    fn default() -> Self {
        Rows {
            values: Vec::new(),
            ends: Vec::new(),
        }
    }
}

impl<T> Rows<T> {
    /// How many rows.
    pub(crate) fn len(&self) -> usize {
        self.ends.len()
    }

    /// Row `i` (empty past the end).
    pub(crate) fn row(&self, i: usize) -> &[T] {
        let Some(&end) = self.ends.get(i) else {
            return &[];
        };
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.values[start..end]
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Rows<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_seq(RowsVisitor(PhantomData))
    }
}

/// Reads the outer array of [`Rows`].
struct RowsVisitor<T>(PhantomData<T>);

impl<'de, T: Deserialize<'de>> Visitor<'de> for RowsVisitor<T> {
    type Value = Rows<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of arrays")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Rows<T>, A::Error> {
        let mut rows = Rows::default();
        while seq.next_element_seed(RowSeed(&mut rows.values))?.is_some() {
            rows.ends.push(rows.values.len());
        }
        Ok(rows)
    }
}

/// Reads one inner array of [`Rows`], appending its values.
struct RowSeed<'v, T>(&'v mut Vec<T>);

impl<'de, T: Deserialize<'de>> DeserializeSeed<'de> for RowSeed<'_, T> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de, T: Deserialize<'de>> Visitor<'de> for RowSeed<'_, T> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(v) = seq.next_element()? {
            self.0.push(v);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn rows_are_flattened_and_cells_borrowed() {
        let text = r#"{"rows":[[1,2],[],[3]]}"#;
        let h: Headers = serde_json::from_str(text).unwrap();
        assert_eq!(h.rows.len(), 3);
        assert_eq!(
            (h.rows.row(0), h.rows.row(1), h.rows.row(2), h.rows.row(3)),
            (&[1, 2][..], &[][..], &[3][..], &[][..])
        );
        let text = r#"{"raw":[["a\"b", null],[1.50]]}"#;
        let m: MetricValues<'_> = serde_json::from_str(text).unwrap();
        let cells: Vec<&str> = (0..2)
            .flat_map(|r| m.raw.row(r).iter().map(|c| c.get()))
            .collect();
        assert_eq!(cells, [r#""a\"b""#, "null", "1.50"]);
        assert!(serde_json::from_str::<Headers>(r#"{"rows":[1]}"#).is_err());
    }
}
