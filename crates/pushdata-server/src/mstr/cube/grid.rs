//! One page of an instance as the v2 grid JSON
//! ([`CubeInstance`](pushdata_core::wire::CubeInstance)): the page's rows, the attribute
//! headers with the elements the page shows, and the metric values, written straight into
//! the response's bytes.

use std::ops::Range;

use arrow_array::{ArrayRef, RecordBatch};
use hashbrown::HashTable;
use pushdata_core::wire::{GridForm, GridMetric, GridMetricsHeader, Paging};

use super::Instance;
use super::cells::{SingleKey, TextColumns, push_json_str};
use super::error::{CubeError, Result};
use super::plan::{AttrOut, Plan};

/// The id of the metrics header, as real servers send it.
pub(crate) const METRICS_HEADER_ID: &str = "00000000000000000000000000000000";

/// Render rows `offset..offset + limit` of `inst` as the bytes of its JSON: exactly what
/// serde_json writes for the page's [`CubeInstance`] (compact, fields in declaration
/// order), but written straight into one buffer, without building the page's structs.
/// `formatted`: include `metricValues.formatted`.
pub(crate) fn render(
    inst: &Instance,
    offset: u64,
    limit: u64,
    formatted: bool,
) -> crate::mstr::error::Result<Vec<u8>> {
    let batches = inst.result.read(offset, limit)?;
    let plan = &inst.plan;
    let rows = batches.iter().map(RecordBatch::num_rows).sum();
    let mut page = Page::new(plan, formatted, rows);
    for b in &batches {
        page.add_batch(plan, b)?;
    }
    Ok(page.finish(inst, plan, offset, limit)?)
}

/// Append `v` as a JSON string, as serde_json writes it.
fn json_str(out: &mut Vec<u8>, v: &str) -> Result<()> {
    serde_json::to_writer(out, v).map_err(|source| CubeError::Json { source })
}

/// Append `v` as compact JSON, as serde_json writes it.
fn json_value<T: serde::Serialize + ?Sized>(out: &mut Vec<u8>, v: &T) -> Result<()> {
    serde_json::to_writer(out, v).map_err(|source| CubeError::Json { source })
}

/// Append a whole number.
fn json_u64(out: &mut Vec<u8>, v: u64) {
    out.extend_from_slice(itoa::Buffer::new().format(v).as_bytes());
}

/// The elements of one attribute a page shows, each once, in order of first appearance.
#[derive(Debug, Default)]
struct Elements {
    /// The elements as JSON objects, joined by commas.
    json: Vec<u8>,
    /// The key of each element ([`TextColumns::key`] of its forms), end to end.
    keys: Vec<u8>,
    /// Where each element's key ends in `keys`.
    key_ends: Vec<usize>,
    /// Element numbers, found by the hash of their key.
    index: HashTable<u32>,
    /// The number of the null element of a one-form attribute keyed by its value's bytes
    /// ([`SingleKey`]), once it is there.
    null: Option<u32>,
}

impl Elements {
    /// No elements yet, room for `rows` of them.
    fn with_capacity(rows: usize) -> Self {
        Elements {
            index: HashTable::with_capacity(rows),
            key_ends: Vec::with_capacity(rows),
            ..Elements::default()
        }
    }

    /// The key of element `i`.
    fn key(&self, i: u32) -> &[u8] {
        key_of(&self.keys, &self.key_ends, i)
    }

    /// How many there are.
    fn count(&self) -> u32 {
        self.key_ends.len() as u32
    }

    /// The number of the element with `key` (hashed `hash`), if it is there.
    fn find(&self, hash: u64, key: &[u8]) -> Option<u32> {
        self.index.find(hash, |&i| self.key(i) == key).copied()
    }

    /// Number the null element of a one-form attribute (its key is not used).
    fn insert_null(&mut self) -> u32 {
        let i = self.count();
        self.key_ends.push(self.keys.len());
        self.null = Some(i);
        i
    }

    /// Number a new element with `key` (hashed `hash` by `hasher`).
    fn insert(&mut self, hash: u64, key: &[u8], hasher: &ahash::RandomState) -> u32 {
        let i = self.count();
        self.keys.extend_from_slice(key);
        self.key_ends.push(self.keys.len());
        let Elements {
            keys,
            key_ends,
            index,
            ..
        } = self;
        index.insert_unique(hash, i, |&e| hasher.hash_one(key_of(keys, key_ends, e)));
        i
    }
}

/// The key of element `i` in `keys`, keys end to end that end at `key_ends`.
fn key_of<'k>(keys: &'k [u8], key_ends: &[usize], i: u32) -> &'k [u8] {
    let i = i as usize;
    let start = if i == 0 { 0 } else { key_ends[i - 1] };
    &keys[start..key_ends[i]]
}

/// The data of a page being rendered, already as JSON.
#[derive(Debug)]
struct Page {
    /// Result columns of each attribute's forms.
    ranges: Vec<Range<usize>>,
    /// Result column of the first metric.
    metric_start: usize,
    /// Number of metrics.
    n_metrics: usize,
    /// Whether formatted metric values are wanted.
    formatted: bool,
    /// Per attribute, its elements.
    elements: Vec<Elements>,
    /// Rows so far.
    rows: u64,
    /// `data.headers.rows`: per row, the element index of each attribute, joined by commas.
    header_rows: Vec<u8>,
    /// `data.metricValues.raw`: per row, the metric values as JSON tokens, joined by commas.
    raw_rows: Vec<u8>,
    /// `data.metricValues.formatted`: per row, the metric values as text (when wanted).
    formatted_rows: Vec<u8>,
    /// Hashes element keys.
    hasher: ahash::RandomState,
    /// Scratch: an element's key.
    key: Vec<u8>,
    /// Scratch: a value's text.
    text: String,
    /// Scratch: a form value's text.
    value: String,
}

impl Page {
    /// An empty page of `plan`'s result columns, for `rows` rows.
    fn new(plan: &Plan, formatted: bool, rows: usize) -> Self {
        let mut ranges: Vec<Range<usize>> = Vec::with_capacity(plan.attributes.len());
        let mut at = 0;
        for a in &plan.attributes {
            ranges.push(at..at + a.forms.len());
            at += a.forms.len();
        }
        Page {
            ranges,
            metric_start: at,
            n_metrics: plan.metrics.len(),
            formatted,
            elements: (0..plan.attributes.len())
                .map(|_| Elements::with_capacity(rows))
                .collect(),
            rows: 0,
            header_rows: Vec::with_capacity(rows * (2 + 6 * plan.attributes.len())),
            raw_rows: Vec::with_capacity(rows * (2 + 12 * plan.metrics.len())),
            formatted_rows: Vec::new(),
            hasher: ahash::RandomState::new(),
            key: Vec::new(),
            text: String::new(),
            value: String::new(),
        }
    }

    /// Add the rows of a result batch.
    fn add_batch(&mut self, plan: &Plan, b: &RecordBatch) -> Result<()> {
        let arrays: Vec<&ArrayRef> = b.columns().iter().collect();
        let texts = TextColumns::new(&arrays)?;
        for row in 0..b.num_rows() {
            let sep = if self.rows > 0 { &b","[..] } else { &b""[..] };
            self.header_rows.extend_from_slice(sep);
            self.header_rows.push(b'[');
            for ai in 0..self.ranges.len() {
                let i = self.element_index(&plan.attributes[ai], ai, &texts, row)?;
                if ai > 0 {
                    self.header_rows.push(b',');
                }
                json_u64(&mut self.header_rows, u64::from(i));
            }
            self.header_rows.push(b']');
            self.raw_rows.extend_from_slice(sep);
            if self.formatted {
                self.formatted_rows.extend_from_slice(sep);
            }
            self.add_metric_values(&texts, row)?;
            self.rows += 1;
        }
        Ok(())
    }

    /// The index of attribute `ai`'s element at `row` (added when new).
    fn element_index(
        &mut self,
        attr: &AttrOut,
        ai: usize,
        texts: &TextColumns<'_>,
        row: usize,
    ) -> Result<u32> {
        let range = self.ranges[ai].clone();
        let els = &mut self.elements[ai];
        // One form of a string or fixed-width column: its value's own bytes are the key
        // (no copy), and its null is an element of its own. Else the forms' tagged keys.
        let single = (range.len() == 1).then(|| texts.single_form_key(range.start, row));
        let key: Option<&[u8]> = match single {
            Some(SingleKey::Bytes(b)) => Some(b),
            Some(SingleKey::Null) => None,
            Some(SingleKey::Other) | None => {
                self.key.clear();
                for c in range.clone() {
                    texts.key(c, row, &mut self.key);
                }
                Some(&self.key)
            }
        };
        let hash = key.map(|k| self.hasher.hash_one(k));
        let found = match (key, hash) {
            (Some(k), Some(h)) => els.find(h, k),
            _ => els.null,
        };
        if let Some(i) = found {
            return Ok(i);
        }
        if els.count() > 0 {
            els.json.push(b',');
        }
        let scratch = (&mut self.text, &mut self.value);
        write_element(&mut els.json, &attr.id, texts, range, row, scratch)?;
        Ok(match (key, hash) {
            (Some(k), Some(h)) => els.insert(h, k, &self.hasher),
            _ => els.insert_null(),
        })
    }

    /// Add the metric values of `row`.
    fn add_metric_values(&mut self, texts: &TextColumns<'_>, row: usize) -> Result<()> {
        let s = &mut self.text;
        self.raw_rows.push(b'[');
        if self.formatted {
            self.formatted_rows.push(b'[');
        }
        for (k, c) in (self.metric_start..self.metric_start + self.n_metrics).enumerate() {
            if k > 0 {
                self.raw_rows.push(b',');
            }
            s.clear();
            texts.json(c, row, s);
            self.raw_rows.extend_from_slice(s.as_bytes());
            if self.formatted {
                if k > 0 {
                    self.formatted_rows.push(b',');
                }
                s.clear();
                texts.text(c, row, s);
                json_str(&mut self.formatted_rows, s)?;
            }
        }
        self.raw_rows.push(b']');
        if self.formatted {
            self.formatted_rows.push(b']');
        }
        Ok(())
    }

    /// The page's JSON.
    fn finish(self, inst: &Instance, plan: &Plan, offset: u64, limit: u64) -> Result<Vec<u8>> {
        let element_bytes: usize = self.elements.iter().map(|e| e.json.len()).sum();
        let mut out = Vec::with_capacity(
            1024 + element_bytes
                + self.header_rows.len()
                + self.raw_rows.len()
                + self.formatted_rows.len(),
        );
        out.extend_from_slice(b"{\"id\":");
        json_str(&mut out, &inst.cube_id)?;
        out.extend_from_slice(b",\"name\":");
        json_str(&mut out, &inst.cube_name)?;
        out.extend_from_slice(b",\"instanceId\":");
        json_str(&mut out, &inst.id)?;
        out.extend_from_slice(
            b",\"status\":1,\"definition\":{\"grid\":{\"crossTab\":false,\
              \"metricsPosition\":{\"axis\":\"columns\",\"index\":0},\"rows\":[",
        );
        for (k, (a, els)) in plan.attributes.iter().zip(&self.elements).enumerate() {
            if k > 0 {
                out.push(b',');
            }
            write_attribute_header(&mut out, a, &els.json)?;
        }
        out.extend_from_slice(b"],\"columns\":");
        json_value(&mut out, &metrics_header(plan))?;
        out.extend_from_slice(b"}},\"data\":{\"paging\":");
        let paging = Paging {
            total: inst.result.total,
            current: self.rows,
            offset,
            limit,
        };
        json_value(&mut out, &paging)?;
        out.extend_from_slice(b",\"headers\":{\"rows\":[");
        out.extend_from_slice(&self.header_rows);
        out.extend_from_slice(b"],\"columns\":");
        let columns: Vec<Vec<u32>> = if self.n_metrics == 0 {
            Vec::new()
        } else {
            vec![(0..self.n_metrics as u32).collect()]
        };
        json_value(&mut out, &columns)?;
        out.extend_from_slice(b"},\"metricValues\":{\"raw\":[");
        out.extend_from_slice(&self.raw_rows);
        out.push(b']');
        if self.formatted {
            out.extend_from_slice(b",\"formatted\":[");
            out.extend_from_slice(&self.formatted_rows);
            out.push(b']');
        }
        out.extend_from_slice(b"}}}");
        Ok(out)
    }
}

/// Append attribute `a`'s header: name, id, type, forms, and its elements (`elements`, JSON
/// objects joined by commas).
fn write_attribute_header(out: &mut Vec<u8>, a: &AttrOut, elements: &[u8]) -> Result<()> {
    out.extend_from_slice(b"{\"name\":");
    json_str(out, &a.name)?;
    out.extend_from_slice(b",\"id\":");
    json_str(out, &a.id)?;
    out.extend_from_slice(b",\"type\":\"attribute\",\"forms\":");
    let forms: Vec<GridForm> = a
        .forms
        .iter()
        .map(|f| GridForm {
            id: f.id.clone(),
            name: f.name.clone(),
            data_type: Some(f.data_type.as_str().to_string()),
            base_form_category: Some(f.name.clone()),
            precision: f.decimal.map(|d| d.0),
            scale: f.decimal.map(|d| d.1),
        })
        .collect();
    json_value(out, &forms)?;
    out.extend_from_slice(b",\"elements\":[");
    out.extend_from_slice(elements);
    out.extend_from_slice(b"]}");
    Ok(())
}

/// Append the element of attribute `attr_id` at `row`, its forms in result columns
/// `range`, as a JSON object: its id (`ATTRIBUTE_ID:v1;v2`) and form values. `(s, t)` are
/// scratch.
fn write_element(
    out: &mut Vec<u8>,
    attr_id: &str,
    texts: &TextColumns<'_>,
    range: Range<usize>,
    row: usize,
    (s, t): (&mut String, &mut String),
) -> Result<()> {
    s.clear();
    s.push_str(attr_id);
    s.push(':');
    for (k, c) in range.clone().enumerate() {
        if k > 0 {
            s.push(';');
        }
        texts.text(c, row, s);
    }
    out.extend_from_slice(b"{\"id\":");
    json_str(out, s)?;
    out.extend_from_slice(b",\"formValues\":[");
    for (k, c) in range.enumerate() {
        if k > 0 {
            out.push(b',');
        }
        // Form values are text, as real servers send them (mstrio-py's parser needs one
        // type per column); null stays null.
        s.clear();
        if texts.is_null(c, row) {
            s.push_str("null");
        } else {
            texts.text(c, row, t);
            push_json_str(s, t);
            t.clear();
        }
        out.extend_from_slice(s.as_bytes());
    }
    out.extend_from_slice(b"]}");
    Ok(())
}

/// The metrics header (none without metrics).
fn metrics_header(plan: &Plan) -> Vec<GridMetricsHeader> {
    if plan.metrics.is_empty() {
        return Vec::new();
    }
    vec![GridMetricsHeader {
        name: "Metrics".to_string(),
        id: METRICS_HEADER_ID.to_string(),
        object_type: "templateMetrics".to_string(),
        elements: plan
            .metrics
            .iter()
            .map(|m| GridMetric {
                name: m.name.clone(),
                id: m.id.clone(),
                object_type: "metric".to_string(),
                data_type: Some(m.data_type.as_str().to_string()),
                precision: m.decimal.map(|d| d.0),
                scale: m.decimal.map(|d| d.1),
            })
            .collect(),
    }]
}
