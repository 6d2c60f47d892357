//! A cube instance page read in one pass with a JSON iterator ([`jiter`]), straight into
//! what its columns are made of: each attribute's element values (as text, borrowed from
//! the body when they have no escape), each attribute's element index per row (one vector
//! per attribute) and each metric's values parsed into an Arrow builder of its column's
//! type. No tree of the page, no vector per row and no text per number is built.
//!
//! The small objects of the grid's definition (forms, the metrics header, `paging`) are
//! read with serde from their JSON text, as [`pushdata_core::wire`] defines them. Members
//! the reader does not use (element ids, `data.headers.columns`, formatted values) are
//! skipped. The members of an object may come in any order: when `data` comes before
//! `definition`, it is read after it, from where it starts.

use std::ops::Range;

use arrow_array::builder::{
    Decimal128Builder, Float64Builder, Int32Builder, Int64Builder, StringBuilder,
};
use arrow_schema::{DataType as ArrowType, SchemaRef};
use jiter::{Jiter, JiterError, NumberInt, Peek};
use pushdata_core::wire::{GridForm, GridMetric, GridMetricsHeader, Paging};

use super::decode::page_schema;

/// Why a cube instance page could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PageError {
    /// The body is not JSON, or a member is not of the JSON type a page has there.
    #[error("{path}: {source}")]
    Json {
        /// Where in the page (`data.headers.rows`, ...).
        path: &'static str,
        /// The JSON error (its index is the byte offset in the body).
        #[source]
        source: JiterError,
    },
    /// An object of the grid's definition (a form, the metrics header, `paging`) lacks a
    /// field or has one of the wrong type.
    #[error("{path}: {source}")]
    Field {
        /// Where in the page.
        path: &'static str,
        /// The JSON error.
        #[source]
        source: serde_json::Error,
    },
    /// A member every page has is missing.
    #[error("the page has no {path}")]
    Missing {
        /// The member.
        path: &'static str,
    },
}

type Result<T> = std::result::Result<T, PageError>;

/// The error of a JSON step at `path`.
fn json(path: &'static str) -> impl FnOnce(JiterError) -> PageError {
    move |source| PageError::Json { path, source }
}

/// One form value of an element.
#[derive(Debug, Clone)]
pub(crate) enum Cell {
    /// `null`.
    Null,
    /// Text in the body: a string without escapes (between its quotes), or a number or
    /// boolean as written.
    Body(Range<usize>),
    /// A string with escapes, decoded into the page's own text.
    Own(Range<usize>),
}

/// An attribute header and its elements.
#[derive(Debug, Default)]
pub(crate) struct Attribute {
    /// Attribute name.
    pub(crate) name: String,
    /// The forms read.
    pub(crate) forms: Vec<GridForm>,
    /// The elements' form values, element after element.
    cells: Vec<Cell>,
    /// Where each element's values end in `cells`.
    ends: Vec<usize>,
}

impl Attribute {
    /// How many elements the page has.
    pub(crate) fn elements(&self) -> usize {
        self.ends.len()
    }

    /// Form `fi`'s value of element `ei`, if it has one.
    pub(crate) fn cell(&self, ei: usize, fi: usize) -> Option<&Cell> {
        let end = *self.ends.get(ei)?;
        let start = if ei == 0 { 0 } else { self.ends[ei - 1] };
        self.cells[start..end].get(fi)
    }
}

/// `definition.grid`: the attributes (rows axis) and the metrics.
#[derive(Debug, Default)]
pub(crate) struct Header {
    /// The attributes, with their elements.
    pub(crate) attributes: Vec<Attribute>,
    /// The metrics (the elements of the last columns header).
    pub(crate) metrics: Vec<GridMetric>,
}

/// A metric's values, parsed as its column's type, or as text (cast afterwards).
#[derive(Debug)]
pub(crate) enum Metric {
    /// Int32 values.
    Int32(Int32Builder),
    /// Int64 values.
    Int64(Int64Builder),
    /// Float64 values.
    Float64(Float64Builder),
    /// Decimal128 values of this precision and scale.
    Decimal(Decimal128Builder, u8, i8),
    /// The text of each value: strings decoded, numbers and booleans as written.
    Text(StringBuilder),
}

impl Metric {
    /// An empty column for values of `data_type`, room for `rows`.
    fn new(data_type: &ArrowType, rows: usize) -> Self {
        match data_type {
            ArrowType::Int32 => Metric::Int32(Int32Builder::with_capacity(rows)),
            ArrowType::Int64 => Metric::Int64(Int64Builder::with_capacity(rows)),
            ArrowType::Float64 => Metric::Float64(Float64Builder::with_capacity(rows)),
            ArrowType::Decimal128(p, s) => {
                Metric::Decimal(Decimal128Builder::with_capacity(rows), *p, *s)
            }
            _ => Metric::text(rows),
        }
    }

    fn text(rows: usize) -> Self {
        Metric::Text(StringBuilder::with_capacity(rows, rows * 8))
    }

    /// Append the value `peek` starts; `false` when a typed column cannot take it as it is
    /// (nothing appended: the column is read again as text).
    fn push(&mut self, j: &mut Jiter<'_>, peek: Peek) -> std::result::Result<bool, JiterError> {
        if peek == Peek::Null {
            j.known_null()?;
            match self {
                Metric::Int32(b) => b.append_null(),
                Metric::Int64(b) => b.append_null(),
                Metric::Float64(b) => b.append_null(),
                Metric::Decimal(b, ..) => b.append_null(),
                Metric::Text(b) => b.append_null(),
            }
            return Ok(true);
        }
        if let Metric::Text(b) = self {
            push_text(j, peek, b)?;
            return Ok(true);
        }
        if !peek.is_num() {
            j.known_skip(peek)?;
            return Ok(false);
        }
        if let Metric::Float64(b) = self {
            b.append_value(j.known_float(peek)?);
            return Ok(true);
        }
        let t = j.known_number_bytes(peek)?;
        let taken = match self {
            Metric::Int32(b) => parse_i64(t)
                .and_then(|v| i32::try_from(v).ok())
                .map(|v| b.append_value(v)),
            Metric::Int64(b) => parse_i64(t).map(|v| b.append_value(v)),
            Metric::Decimal(b, p, s) => parse_decimal(t, *p, *s).map(|v| b.append_value(v)),
            Metric::Float64(_) | Metric::Text(_) => Some(()),
        };
        Ok(taken.is_some())
    }
}

/// Append the text of the value `peek` starts: a string decoded, a number, boolean (or
/// anything else) as written.
fn push_text(
    j: &mut Jiter<'_>,
    peek: Peek,
    b: &mut StringBuilder,
) -> std::result::Result<(), JiterError> {
    if peek == Peek::String {
        b.append_value(j.known_str()?);
        return Ok(());
    }
    let start = j.current_index();
    j.known_skip(peek)?;
    // Text outside strings is ASCII once the JSON is valid (strings inside arrays or
    // objects were checked by the skip).
    b.append_value(String::from_utf8_lossy(j.slice_to_current(start)));
    Ok(())
}

/// The rows of `data`.
#[derive(Debug, Default)]
pub(crate) struct Data {
    /// `data.paging`.
    pub(crate) paging: Option<Paging>,
    /// Rows of `data.headers.rows`.
    pub(crate) rows: usize,
    /// Per attribute, the element index of each row.
    pub(crate) element_rows: Vec<Vec<u32>>,
    /// The first row of `data.headers.rows` with fewer indexes than attributes, and the
    /// first attribute it lacks.
    pub(crate) short_header: Option<(usize, usize)>,
    /// Rows of `data.metricValues.raw`.
    pub(crate) metric_rows: usize,
    /// Per metric, its values.
    pub(crate) metrics: Vec<Metric>,
    /// The first row of `data.metricValues.raw` with fewer values than metrics, and the
    /// first metric it lacks.
    pub(crate) short_metrics: Option<(usize, usize)>,
}

/// One page of a cube instance, read.
#[derive(Debug)]
pub(crate) struct GridPage<'a> {
    /// The body.
    body: &'a [u8],
    /// Text of the element values that had escapes.
    own: String,
    /// Instance id, for the following pages.
    pub(crate) instance_id: String,
    /// The grid's attributes and metrics.
    pub(crate) header: Header,
    /// The schema the metrics were read for (the one given, or the page's own).
    pub(crate) schema: SchemaRef,
    /// The page's rows.
    pub(crate) data: Data,
}

impl GridPage<'_> {
    /// The text of a cell (`None` for null).
    pub(crate) fn text(&self, cell: &Cell) -> Option<&[u8]> {
        match cell {
            Cell::Null => None,
            Cell::Body(r) => self.body.get(r.clone()),
            Cell::Own(r) => self.own.as_bytes().get(r.clone()),
        }
    }
}

/// The members of the page object the reader uses.
#[derive(Clone, Copy)]
enum Top {
    InstanceId,
    Definition,
    Data,
    Other,
}

impl From<&str> for Top {
    fn from(k: &str) -> Self {
        match k {
            "instanceId" => Top::InstanceId,
            "definition" => Top::Definition,
            "data" => Top::Data,
            _ => Top::Other,
        }
    }
}

/// Read the page of JSON `body`. Metrics are parsed for the metric columns of `schema`
/// (a pull's schema, from its first page), or of the page's own schema when `None`.
pub(crate) fn read<'a>(body: &'a [u8], schema: Option<&SchemaRef>) -> Result<GridPage<'a>> {
    let mut j = Jiter::new(body);
    let mut own = String::new();
    let mut instance_id = None;
    let mut header: Option<Header> = None;
    let mut data: Option<(SchemaRef, Data)> = None;
    let mut data_at = None;
    let mut key = j.next_object().map_err(json("the page"))?.map(Top::from);
    while let Some(k) = key {
        match k {
            Top::InstanceId => {
                let id = j.next_str().map_err(json("instanceId"))?;
                instance_id = Some(id.to_string());
            }
            Top::Definition => header = Some(read_definition(&mut j, &mut own)?),
            Top::Data => match &header {
                Some(h) => data = Some(read_data_for(&mut j, h, schema)?),
                None => {
                    // Read once the definition (the metrics' types) is known.
                    data_at = Some(j.current_index());
                    j.next_skip().map_err(json("data"))?;
                }
            },
            Top::Other => j.next_skip().map_err(json("the page"))?,
        }
        key = j.next_key().map_err(json("the page"))?.map(Top::from);
    }
    j.finish().map_err(json("the page"))?;
    let header = header.ok_or(PageError::Missing { path: "definition" })?;
    if let (None, Some(at)) = (&data, data_at) {
        let mut j = Jiter::new(body.get(at..).unwrap_or_default());
        data = Some(read_data_for(&mut j, &header, schema)?);
    }
    let (schema, data) = data.ok_or(PageError::Missing { path: "data" })?;
    Ok(GridPage {
        body,
        own,
        instance_id: instance_id.ok_or(PageError::Missing { path: "instanceId" })?,
        header,
        schema,
        data,
    })
}

/// Read `data` for `header`'s attributes and the metric types of `schema` (or of the
/// page's own schema).
fn read_data_for(
    j: &mut Jiter<'_>,
    header: &Header,
    schema: Option<&SchemaRef>,
) -> Result<(SchemaRef, Data)> {
    let schema = schema.cloned().unwrap_or_else(|| page_schema(header));
    let form_columns: usize = header.attributes.iter().map(|a| a.forms.len().max(1)).sum();
    let types: Vec<ArrowType> = (0..header.metrics.len())
        .map(|mi| {
            schema
                .fields()
                .get(form_columns + mi)
                .map_or(ArrowType::Utf8, |f| f.data_type().clone())
        })
        .collect();
    let data = read_data(j, header.attributes.len(), &types)?;
    Ok((schema, data))
}

/// The JSON text of the next value (for serde), `path` naming it in errors.
fn raw<'j>(j: &mut Jiter<'j>, path: &'static str) -> Result<&'j [u8]> {
    let start = j.current_index();
    j.next_skip().map_err(json(path))?;
    Ok(j.slice_to_current(start))
}

/// The next value read with serde from its JSON text.
fn serde_value<T: serde::de::DeserializeOwned>(j: &mut Jiter<'_>, path: &'static str) -> Result<T> {
    let text = raw(j, path)?;
    serde_json::from_slice(text).map_err(|source| PageError::Field { path, source })
}

/// `definition`: its `grid`.
fn read_definition(j: &mut Jiter<'_>, own: &mut String) -> Result<Header> {
    const PATH: &str = "definition";
    let mut header = None;
    let mut key = j.next_object().map_err(json(PATH))?.map(|k| k == "grid");
    while let Some(grid) = key {
        if grid {
            header = Some(read_grid(j, own)?);
        } else {
            j.next_skip().map_err(json(PATH))?;
        }
        key = j.next_key().map_err(json(PATH))?.map(|k| k == "grid");
    }
    header.ok_or(PageError::Missing {
        path: "definition.grid",
    })
}

/// `definition.grid`: `rows` (attributes) and `columns` (the metrics header).
fn read_grid(j: &mut Jiter<'_>, own: &mut String) -> Result<Header> {
    const PATH: &str = "definition.grid";
    let mut header = Header::default();
    let member = |k: &str| match k {
        "rows" => 1,
        "columns" => 2,
        _ => 0,
    };
    let mut key = j.next_object().map_err(json(PATH))?.map(member);
    while let Some(k) = key {
        match k {
            1 => {
                let mut next = j.next_array().map_err(json("definition.grid.rows"))?;
                while next.is_some() {
                    header.attributes.push(read_attribute(j, own)?);
                    next = j.array_step().map_err(json("definition.grid.rows"))?;
                }
            }
            2 => {
                let columns: Vec<GridMetricsHeader> = serde_value(j, "definition.grid.columns")?;
                header.metrics = columns
                    .into_iter()
                    .last()
                    .map(|h| h.elements)
                    .unwrap_or_default();
            }
            _ => j.next_skip().map_err(json(PATH))?,
        }
        key = j.next_key().map_err(json(PATH))?.map(member);
    }
    Ok(header)
}

/// An attribute of `definition.grid.rows`: `name`, `forms`, `elements`.
fn read_attribute(j: &mut Jiter<'_>, own: &mut String) -> Result<Attribute> {
    const PATH: &str = "definition.grid.rows[]";
    let mut a = Attribute::default();
    let mut name = None;
    let member = |k: &str| match k {
        "name" => 1,
        "forms" => 2,
        "elements" => 3,
        _ => 0,
    };
    let mut key = j.next_object().map_err(json(PATH))?.map(member);
    while let Some(k) = key {
        match k {
            1 => {
                name = Some(
                    j.next_str()
                        .map_err(json("definition.grid.rows[].name"))?
                        .to_string(),
                )
            }
            2 => a.forms = serde_value(j, "definition.grid.rows[].forms")?,
            3 => {
                const ELEMENTS: &str = "definition.grid.rows[].elements";
                let mut next = j.next_array().map_err(json(ELEMENTS))?;
                while next.is_some() {
                    read_element(j, own, &mut a)?;
                    a.ends.push(a.cells.len());
                    next = j.array_step().map_err(json(ELEMENTS))?;
                }
            }
            _ => j.next_skip().map_err(json(PATH))?,
        }
        key = j.next_key().map_err(json(PATH))?.map(member);
    }
    a.name = name.ok_or(PageError::Missing {
        path: "definition.grid.rows[].name",
    })?;
    Ok(a)
}

/// An element: its `formValues` appended to `a`'s cells (its `id` is skipped).
fn read_element(j: &mut Jiter<'_>, own: &mut String, a: &mut Attribute) -> Result<()> {
    const PATH: &str = "definition.grid.rows[].elements[]";
    const VALUES: &str = "definition.grid.rows[].elements[].formValues";
    let mut key = j
        .next_object()
        .map_err(json(PATH))?
        .map(|k| k == "formValues");
    while let Some(values) = key {
        if values {
            let mut next = j.next_array().map_err(json(VALUES))?;
            while let Some(peek) = next {
                let cell = read_cell(j, peek, own).map_err(json(VALUES))?;
                a.cells.push(cell);
                next = j.array_step().map_err(json(VALUES))?;
            }
        } else {
            j.next_skip().map_err(json(PATH))?;
        }
        key = j.next_key().map_err(json(PATH))?.map(|k| k == "formValues");
    }
    Ok(())
}

/// One form value: a string's text borrowed from the body when it has no escape (else
/// decoded into `own`), other values' text as written.
fn read_cell(
    j: &mut Jiter<'_>,
    peek: Peek,
    own: &mut String,
) -> std::result::Result<Cell, JiterError> {
    if peek == Peek::Null {
        j.known_null()?;
        return Ok(Cell::Null);
    }
    if peek == Peek::String {
        // The text between the quotes is the value unless it has an escape (UTF-8 is
        // checked when the text goes into a column).
        let start = j.current_index() + 1;
        let escaped = memchr::memchr(b'\\', j.known_bytes()?).is_some();
        let quoted = j.slice_to_current(start - 1);
        if !escaped {
            return Ok(Cell::Body(start..start + quoted.len().saturating_sub(2)));
        }
        let at = own.len();
        own.push_str(Jiter::new(quoted).next_str()?);
        return Ok(Cell::Own(at..own.len()));
    }
    let start = j.current_index();
    j.known_skip(peek)?;
    Ok(Cell::Body(start..j.current_index()))
}

/// The members of `data` the reader uses.
#[derive(Clone, Copy)]
enum DataMember {
    Paging,
    Headers,
    MetricValues,
    Other,
}

/// `data`: `paging`, `headers.rows` (element indexes of `attributes` attributes) and
/// `metricValues.raw` (values of metrics of `types`).
fn read_data(j: &mut Jiter<'_>, attributes: usize, types: &[ArrowType]) -> Result<Data> {
    const PATH: &str = "data";
    let mut data = Data::default();
    let member = |k: &str| match k {
        "paging" => DataMember::Paging,
        "headers" => DataMember::Headers,
        "metricValues" => DataMember::MetricValues,
        _ => DataMember::Other,
    };
    let mut key = j.next_object().map_err(json(PATH))?.map(member);
    while let Some(k) = key {
        match k {
            DataMember::Paging => data.paging = Some(serde_value(j, "data.paging")?),
            DataMember::Headers => {
                let hint = rows_hint(data.paging.as_ref());
                read_member(j, "data.headers", "rows", |j| {
                    read_element_rows(j, attributes, hint, &mut data)
                })?
            }
            DataMember::MetricValues => {
                let hint = rows_hint(data.paging.as_ref());
                read_member(j, "data.metricValues", "raw", |j| {
                    read_metric_rows(j, types, hint, &mut data)
                })?
            }
            DataMember::Other => j.next_skip().map_err(json(PATH))?,
        }
        key = j.next_key().map_err(json(PATH))?.map(member);
    }
    Ok(data)
}

/// Room to reserve for a page's rows: `paging.current`, at most 1 Mi rows (the number
/// comes from the server; the vectors grow past it if the page has more).
fn rows_hint(paging: Option<&Paging>) -> usize {
    paging.map_or(0, |p| usize::try_from(p.current.min(1 << 20)).unwrap_or(0))
}

/// Read member `name` of the object at `path` with `read`, skipping the others.
fn read_member<'j>(
    j: &mut Jiter<'j>,
    path: &'static str,
    name: &str,
    mut read: impl FnMut(&mut Jiter<'j>) -> Result<()>,
) -> Result<()> {
    let mut key = j.next_object().map_err(json(path))?.map(|k| k == name);
    while let Some(wanted) = key {
        if wanted {
            read(j)?;
        } else {
            j.next_skip().map_err(json(path))?;
        }
        key = j.next_key().map_err(json(path))?.map(|k| k == name);
    }
    Ok(())
}

/// Enter the array `peek` starts (an error when it is not one).
fn inner_array(j: &mut Jiter<'_>, peek: Peek) -> std::result::Result<Option<Peek>, JiterError> {
    if peek == Peek::Array {
        j.known_array()
    } else {
        j.next_array()
    }
}

/// `data.headers.rows`: per row, one element index per attribute, into
/// [`Data::element_rows`].
fn read_element_rows(
    j: &mut Jiter<'_>,
    attributes: usize,
    hint: usize,
    data: &mut Data,
) -> Result<()> {
    const PATH: &str = "data.headers.rows";
    let mut columns: Vec<Vec<u32>> = (0..attributes).map(|_| Vec::with_capacity(hint)).collect();
    let mut row = 0;
    let mut next = j.next_array().map_err(json(PATH))?;
    while let Some(peek) = next {
        let mut ai = 0;
        let mut cell = inner_array(j, peek).map_err(json(PATH))?;
        while let Some(peek) = cell {
            // An index that is no u32 is out of range of any page's elements.
            let ei = match j.known_int(peek).map_err(json(PATH))? {
                NumberInt::Int(v) => u32::try_from(v).unwrap_or(u32::MAX),
                #[allow(unreachable_patterns)] // a big integer, with jiter's num-bigint
                _ => u32::MAX,
            };
            if let Some(column) = columns.get_mut(ai) {
                column.push(ei);
            }
            ai += 1;
            cell = j.array_step().map_err(json(PATH))?;
        }
        if ai < attributes {
            data.short_header.get_or_insert((row, ai));
            for column in &mut columns[ai..] {
                column.push(u32::MAX);
            }
        }
        row += 1;
        next = j.array_step().map_err(json(PATH))?;
    }
    data.rows = row;
    data.element_rows = columns;
    Ok(())
}

/// `data.metricValues.raw`: per row, one value per metric, into [`Data::metrics`]. A
/// typed column with a value it cannot take as it is is read again as text.
fn read_metric_rows(
    j: &mut Jiter<'_>,
    types: &[ArrowType],
    hint: usize,
    data: &mut Data,
) -> Result<()> {
    const PATH: &str = "data.metricValues.raw";
    let start = j.current_index();
    let mut metrics: Vec<Metric> = types.iter().map(|t| Metric::new(t, hint)).collect();
    let mut as_text = vec![false; metrics.len()];
    let mut row = 0;
    let mut next = j.next_array().map_err(json(PATH))?;
    while let Some(peek) = next {
        let mut mi = 0;
        let mut cell = inner_array(j, peek).map_err(json(PATH))?;
        while let Some(peek) = cell {
            match metrics.get_mut(mi) {
                Some(m) if !as_text[mi] => {
                    as_text[mi] = !m.push(j, peek).map_err(json(PATH))?;
                }
                _ => j.known_skip(peek).map_err(json(PATH))?,
            }
            mi += 1;
            cell = j.array_step().map_err(json(PATH))?;
        }
        if mi < metrics.len() {
            data.short_metrics.get_or_insert((row, mi));
        }
        row += 1;
        next = j.array_step().map_err(json(PATH))?;
    }
    if as_text.contains(&true) {
        // Read again from the start of `raw`: the text of the columns that need it.
        let body = j.slice_to_current(start);
        let mut again = Jiter::new(body);
        for (m, text) in metrics.iter_mut().zip(&as_text) {
            if *text {
                *m = Metric::text(row);
            }
        }
        read_text_columns(&mut again, &mut metrics, &as_text).map_err(json(PATH))?;
    }
    data.metric_rows = row;
    data.metrics = metrics;
    Ok(())
}

/// The text of the metric columns marked in `which`, from the start of `raw`.
fn read_text_columns(
    j: &mut Jiter<'_>,
    metrics: &mut [Metric],
    which: &[bool],
) -> std::result::Result<(), JiterError> {
    let mut next = j.next_array()?;
    while let Some(peek) = next {
        let mut mi = 0;
        let mut cell = inner_array(j, peek)?;
        while let Some(peek) = cell {
            match (metrics.get_mut(mi), which.get(mi)) {
                (Some(m), Some(true)) => {
                    m.push(j, peek)?;
                }
                _ => j.known_skip(peek)?,
            }
            mi += 1;
            cell = j.array_step()?;
        }
        next = j.array_step()?;
    }
    Ok(())
}

/// A JSON integer's text as an `i64` (`None` if it is not one or does not fit).
pub(crate) fn parse_i64(t: &[u8]) -> Option<i64> {
    let (negative, digits) = match t.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, t),
    };
    if digits.is_empty() {
        return None;
    }
    // Accumulated negative, so that i64::MIN fits.
    let mut v: i64 = 0;
    for &b in digits {
        if !b.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_sub(i64::from(b - b'0'))?;
    }
    if negative { Some(v) } else { v.checked_neg() }
}

/// A JSON number `t` (`-12.5`) as a decimal of `precision` and `scale`: `None` unless it
/// has no exponent, at most `scale` digits after the point and at most `precision` digits.
/// One pass over the text.
pub(crate) fn parse_decimal(t: &[u8], precision: u8, scale: i8) -> Option<i128> {
    let scale = usize::try_from(scale).ok()?;
    let (negative, digits) = match t.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, t),
    };
    let mut v: i128 = 0;
    // Digits before the point, those of them after the leading zeros, and after the point.
    let (mut int, mut significant, mut frac) = (0usize, 0usize, None::<usize>);
    for &b in digits {
        match (b, &mut frac) {
            (b'0'..=b'9', Some(n)) => {
                *n += 1;
                if *n > scale {
                    return None;
                }
            }
            (b'0'..=b'9', None) => {
                int += 1;
                if v != 0 || b != b'0' {
                    significant += 1;
                }
            }
            (b'.', None) => {
                frac = Some(0);
                continue;
            }
            _ => return None,
        }
        v = v.checked_mul(10)?.checked_add(i128::from(b - b'0'))?;
    }
    if int == 0 || frac == Some(0) || significant + scale > usize::from(precision) {
        return None;
    }
    let padding = u32::try_from(scale - frac.unwrap_or(0)).ok()?;
    let v = v.checked_mul(10i128.checked_pow(padding)?)?;
    Some(if negative { -v } else { v })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn page(text: &str) -> Result<GridPage<'_>> {
        read(text.as_bytes(), None)
    }

    const GRID: &str = r#""definition":{"grid":{"rows":[{"name":"A","id":"x","forms":[{"id":"f","name":"ID","dataType":"STRING"}],
        "elements":[{"id":"e0","formValues":["a\"b"]},{"formValues":[null],"id":"e1"},{"id":"e2","formValues":[7]}]}],
        "columns":[{"name":"Metrics","id":"0","type":"templateMetrics","elements":[{"name":"M","id":"m","type":"metric","dataType":"INTEGER"}]}]}}"#;
    const DATA: &str = r#""data":{"paging":{"total":3,"current":3,"offset":0,"limit":9},
        "headers":{"rows":[[2],[0],[1]],"columns":[[0]]},"metricValues":{"raw":[[1],[null],[-3]]}}"#;

    #[test]
    fn cells_are_borrowed_or_decoded_and_rows_read_by_column() {
        for text in [
            format!(r#"{{"instanceId":"I",{GRID},{DATA}}}"#),
            // `data` before `definition`: read after it.
            format!(r#"{{"instanceId":"I",{DATA},{GRID}}}"#),
        ] {
            let p = page(&text).unwrap();
            let a = &p.header.attributes[0];
            let texts: Vec<_> = (0..a.elements())
                .map(|ei| p.text(a.cell(ei, 0).unwrap()))
                .collect();
            assert_eq!(texts, [Some(&b"a\"b"[..]), None, Some(&b"7"[..])]);
            assert!(a.cell(0, 1).is_none());
            assert_eq!(p.data.element_rows, [vec![2, 0, 1]]);
            assert_eq!((p.data.rows, p.data.metric_rows), (3, 3));
            let Metric::Int32(m) = &p.data.metrics[0] else {
                panic!("{:?}", p.data.metrics[0]);
            };
            assert_eq!(m.values_slice(), [1, 0, -3]);
        }
    }

    #[test]
    fn a_page_without_its_members_or_with_bad_json_is_an_error() {
        let e = page(&format!(r#"{{"instanceId":"I",{GRID}}}"#)).unwrap_err();
        assert!(matches!(e, PageError::Missing { path: "data" }), "{e}");
        let e = page(&format!(r#"{{{GRID},{DATA}}}"#)).unwrap_err();
        assert!(
            matches!(e, PageError::Missing { path: "instanceId" }),
            "{e}"
        );
        let bad = format!(
            r#"{{"instanceId":"I",{GRID},{}}}"#,
            DATA.replace("[2]", "[\"2\"]")
        );
        let e = page(&bad).unwrap_err();
        assert!(
            matches!(
                e,
                PageError::Json {
                    path: "data.headers.rows",
                    ..
                }
            ),
            "{e}"
        );
        let e = page(&format!(r#"{{"instanceId":"I",{GRID},{DATA}"#)).unwrap_err();
        assert!(matches!(e, PageError::Json { .. }), "{e}");
    }

    #[test]
    fn integers_parse_exactly_or_not_at_all() {
        assert_eq!(parse_i64(b"-9223372036854775808"), Some(i64::MIN));
        assert_eq!(parse_i64(b"9223372036854775807"), Some(i64::MAX));
        for t in ["9223372036854775808", "1.0", "1e3", "-", ""] {
            assert_eq!(parse_i64(t.as_bytes()), None, "{t}");
        }
        let decimals = [
            ("0.5", 1, 1, Some(5)),
            ("-00.50", 2, 2, Some(-50)),
            ("120", 4, 1, Some(1200)),
        ];
        for (t, p, s, want) in decimals {
            assert_eq!(parse_decimal(t.as_bytes(), p, s), want, "{t}");
        }
        for (t, p, s) in [
            ("120", 3, 1),
            ("1.5.0", 9, 3),
            (".5", 9, 3),
            ("-", 9, 3),
            ("1e2", 9, 3),
        ] {
            assert_eq!(parse_decimal(t.as_bytes(), p, s), None, "{t}");
        }
    }
}
