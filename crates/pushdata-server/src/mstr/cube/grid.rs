//! One page of an instance as the v2 grid JSON
//! ([`CubeInstance`](pushdata_core::wire::CubeInstance)): the page's rows, the attribute
//! headers with the elements the page shows, and the metric values, written straight into
//! the response's bytes.

use std::ops::Range;

use arrow_array::{ArrayRef, RecordBatch};
use hashbrown::HashTable;
use pushdata_core::wire::{GridForm, GridMetric, GridMetricsHeader, Paging};
use rayon::prelude::*;

use super::Instance;
use super::buffers::BufferPool;
pub(crate) use super::buffers::PageBytes;
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
) -> crate::mstr::error::Result<PageBytes> {
    let batches = inst.result.read(offset, limit)?;
    let plan = &inst.plan;
    let rows = batches.iter().map(RecordBatch::num_rows).sum();
    let mut page = Page::new(plan, formatted, rows, &inst.buffers);
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

/// A buffer of `pool` with room for `bytes`.
fn reserved(pool: &BufferPool, bytes: usize) -> Vec<u8> {
    let mut buf = pool.take();
    buf.reserve(bytes);
    buf
}

/// The elements of one attribute a page shows, each once, in order of first appearance.
#[derive(Debug, Default)]
pub(super) struct Elements {
    /// The elements as JSON objects, joined by commas.
    json: Vec<u8>,
    /// How many there are.
    count: u32,
    /// Keyed by bytes: the key of each element ([`TextColumns::key`] of its forms, or the
    /// one form's value bytes), end to end.
    keys: Vec<u8>,
    /// Keyed by bytes: where each element's key ends in `keys`.
    key_ends: Vec<usize>,
    /// Keyed by bytes: (hash of its key, element number), found by the hash.
    index: HashTable<(u64, u32)>,
    /// One form of a fixed-width column at most 8 bytes wide: (its value bytes as a
    /// number, element number), found by the hash of the number.
    fixed: HashTable<(u64, u32)>,
    /// The number of the null element of a one-form attribute keyed by its value's bytes
    /// ([`SingleKey`]) or number, once it is there.
    null: Option<u32>,
    /// The element number of each row of the batch being added.
    rows: Vec<u32>,
    /// Scratch: an element's key.
    key: Vec<u8>,
    /// Scratch: a value's text.
    text: String,
    /// Scratch: a form value's text.
    value: String,
}

impl Elements {
    /// No elements yet, room for `rows` of them, from `pool`.
    fn with_capacity(rows: usize, pool: &BufferPool) -> Self {
        let mut e = pool.take_elements();
        e.rows.reserve(rows);
        e
    }

    /// Forget every element, keeping the memory.
    pub(super) fn reset(&mut self) {
        self.json.clear();
        self.count = 0;
        self.keys.clear();
        self.key_ends.clear();
        self.index.clear();
        self.fixed.clear();
        self.null = None;
        self.rows.clear();
    }

    /// The bytes it holds (its capacities).
    pub(super) fn retained_bytes(&self) -> usize {
        let entry = std::mem::size_of::<(u64, u32)>() + 1;
        self.json.capacity()
            + self.keys.capacity()
            + self.key_ends.capacity() * std::mem::size_of::<usize>()
            + (self.index.capacity() + self.fixed.capacity()) * entry
            + self.rows.capacity() * std::mem::size_of::<u32>()
            + self.key.capacity()
            + self.text.capacity()
            + self.value.capacity()
    }

    /// Number the elements of attribute `attr` in the `n` rows of `texts` (its forms'
    /// columns), adding those not seen yet, into [`Elements::rows`]; `hasher` hashes keys.
    fn add_rows(
        &mut self,
        attr: &AttrOut,
        texts: &TextColumns<'_>,
        n: usize,
        hasher: &ahash::RandomState,
    ) -> Result<()> {
        self.rows.clear();
        let forms = attr.forms.len();
        if forms == 1 && texts.is_fixed_u64(0) {
            if self.fixed.capacity() == 0 {
                // Room for the page's rows (`rows` was made that large).
                let room = self.rows.capacity().max(n);
                self.fixed.reserve(room, |e| hasher.hash_one(e.0));
            }
            for row in 0..n {
                let i = match texts.fixed_u64(0, row).filter(|_| !texts.is_null(0, row)) {
                    Some(v) => self.fixed_element(attr, texts, row, v, hasher)?,
                    None => self.null_element(attr, texts, row)?,
                };
                self.rows.push(i);
            }
            return Ok(());
        }
        if self.index.capacity() == 0 {
            let room = self.rows.capacity().max(n);
            self.index.reserve(room, |e| e.0);
            self.key_ends.reserve(room);
        }
        let mut scratch = std::mem::take(&mut self.key);
        for row in 0..n {
            let single = (forms == 1).then(|| texts.single_form_key(0, row));
            let key: Option<&[u8]> = match single {
                Some(SingleKey::Bytes(b)) => Some(b),
                Some(SingleKey::Null) => None,
                Some(SingleKey::Other) | None => {
                    scratch.clear();
                    for c in 0..forms {
                        texts.key(c, row, &mut scratch);
                    }
                    Some(&scratch)
                }
            };
            let i = match key {
                Some(k) => self.keyed_element(attr, texts, row, k, hasher)?,
                None => self.null_element(attr, texts, row)?,
            };
            self.rows.push(i);
        }
        self.key = scratch;
        Ok(())
    }

    /// The number of the element whose one form's value at `row` is `v` (added when new).
    fn fixed_element(
        &mut self,
        attr: &AttrOut,
        texts: &TextColumns<'_>,
        row: usize,
        v: u64,
        hasher: &ahash::RandomState,
    ) -> Result<u32> {
        let hash = hasher.hash_one(v);
        if let Some(e) = self.fixed.find(hash, |e| e.0 == v) {
            return Ok(e.1);
        }
        let i = self.write_new(attr, texts, row)?;
        self.fixed
            .insert_unique(hash, (v, i), |e| hasher.hash_one(e.0));
        Ok(i)
    }

    /// The number of the element with `key` at `row` (added when new).
    fn keyed_element(
        &mut self,
        attr: &AttrOut,
        texts: &TextColumns<'_>,
        row: usize,
        key: &[u8],
        hasher: &ahash::RandomState,
    ) -> Result<u32> {
        let hash = hasher.hash_one(key);
        let (keys, key_ends) = (&self.keys, &self.key_ends);
        let found = self
            .index
            .find(hash, |e| e.0 == hash && key_of(keys, key_ends, e.1) == key);
        if let Some(e) = found {
            return Ok(e.1);
        }
        let i = self.write_new(attr, texts, row)?;
        self.keys.extend_from_slice(key);
        self.key_ends.push(self.keys.len());
        self.index.insert_unique(hash, (hash, i), |e| e.0);
        Ok(i)
    }

    /// The number of the null element of a one-form attribute (added when new).
    fn null_element(&mut self, attr: &AttrOut, texts: &TextColumns<'_>, row: usize) -> Result<u32> {
        if let Some(i) = self.null {
            return Ok(i);
        }
        let i = self.write_new(attr, texts, row)?;
        // Its key is not used, but element numbers index `key_ends`.
        self.key_ends.push(self.keys.len());
        self.null = Some(i);
        Ok(i)
    }

    /// Write the element at `row` and number it.
    fn write_new(&mut self, attr: &AttrOut, texts: &TextColumns<'_>, row: usize) -> Result<u32> {
        if self.count > 0 {
            self.json.push(b',');
        }
        let scratch = (&mut self.text, &mut self.value);
        write_element(
            &mut self.json,
            &attr.id,
            texts,
            0..attr.forms.len(),
            row,
            scratch,
        )?;
        self.count += 1;
        Ok(self.count - 1)
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
    /// Scratch: a value's text.
    text: String,
}

impl Page {
    /// An empty page of `plan`'s result columns, for `rows` rows, its buffers from `pool`.
    fn new(plan: &Plan, formatted: bool, rows: usize, pool: &BufferPool) -> Self {
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
                .map(|_| Elements::with_capacity(rows, pool))
                .collect(),
            rows: 0,
            header_rows: reserved(pool, rows * (2 + 6 * plan.attributes.len())),
            raw_rows: reserved(pool, rows * (2 + 12 * plan.metrics.len())),
            formatted_rows: pool.take(),
            hasher: ahash::RandomState::new(),
            text: String::new(),
        }
    }

    /// Add the rows of a result batch: each attribute's elements column by column, the
    /// attributes on all threads, then the rows.
    fn add_batch(&mut self, plan: &Plan, b: &RecordBatch) -> Result<()> {
        let n = b.num_rows();
        let columns = b.columns();
        let hasher = &self.hasher;
        self.elements
            .par_iter_mut()
            .zip(plan.attributes.par_iter())
            .zip(self.ranges.par_iter())
            .try_for_each(|((els, attr), range)| {
                let arrays: Vec<&ArrayRef> = columns[range.clone()].iter().collect();
                els.add_rows(attr, &TextColumns::new(&arrays)?, n, hasher)
            })?;
        let metrics: Vec<&ArrayRef> = columns[self.metric_start..].iter().collect();
        let metrics = TextColumns::new(&metrics)?;
        let mut digits = itoa::Buffer::new();
        for row in 0..n {
            let sep = if self.rows > 0 { &b","[..] } else { &b""[..] };
            self.header_rows.extend_from_slice(sep);
            self.header_rows.push(b'[');
            for (ai, els) in self.elements.iter().enumerate() {
                if ai > 0 {
                    self.header_rows.push(b',');
                }
                let i = els.rows.get(row).copied().unwrap_or(0);
                self.header_rows
                    .extend_from_slice(digits.format(i).as_bytes());
            }
            self.header_rows.push(b']');
            self.raw_rows.extend_from_slice(sep);
            if self.formatted {
                self.formatted_rows.extend_from_slice(sep);
            }
            self.add_metric_values(&metrics, row)?;
            self.rows += 1;
        }
        Ok(())
    }

    /// Add the metric values of `row` (`texts`: the metric columns).
    fn add_metric_values(&mut self, texts: &TextColumns<'_>, row: usize) -> Result<()> {
        let s = &mut self.text;
        self.raw_rows.push(b'[');
        if self.formatted {
            self.formatted_rows.push(b'[');
        }
        for (k, c) in (0..self.n_metrics).enumerate() {
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

    /// The page's JSON (its buffers go back to the instance's pool).
    fn finish(self, inst: &Instance, plan: &Plan, offset: u64, limit: u64) -> Result<PageBytes> {
        let element_bytes: usize = self.elements.iter().map(|e| e.json.len()).sum();
        let mut out = reserved(
            &inst.buffers,
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
        let pool = &inst.buffers;
        for b in [self.header_rows, self.raw_rows, self.formatted_rows] {
            pool.give(b);
        }
        for e in self.elements {
            pool.give_elements(e);
        }
        Ok(PageBytes::new(out, inst.buffers.clone()))
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
    if range.len() == 1 {
        // One form whose text and id need no escape (the common case): the text is
        // formatted once and copied into both, as both escapers would leave them.
        t.clear();
        texts.text(range.start, row, t);
        if !needs_escape(attr_id) && !needs_escape(t) {
            out.extend_from_slice(b"{\"id\":\"");
            out.extend_from_slice(attr_id.as_bytes());
            out.push(b':');
            out.extend_from_slice(t.as_bytes());
            if texts.is_null(range.start, row) {
                out.extend_from_slice(b"\",\"formValues\":[null]}");
            } else {
                out.extend_from_slice(b"\",\"formValues\":[\"");
                out.extend_from_slice(t.as_bytes());
                out.extend_from_slice(b"\"]}");
            }
            t.clear();
            return Ok(());
        }
        t.clear();
    }
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

/// Whether `s` has a character a JSON string escapes (a control character, `"` or `\`;
/// serde_json and [`push_json_str`] escape exactly these).
fn needs_escape(s: &str) -> bool {
    s.bytes().any(|b| b < 0x20 || b == b'"' || b == b'\\')
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
