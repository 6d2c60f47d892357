//! One page of an instance as the v2 grid JSON ([`CubeInstance`]): the page's rows, the
//! attribute headers with the elements the page shows, and the metric values.

use std::collections::HashMap;
use std::ops::Range;

use arrow_array::{ArrayRef, RecordBatch};
use pushdata_core::wire::{
    CubeInstance, Grid, GridAttribute, GridData, GridDefinition, GridElement, GridForm,
    GridHeaders, GridMetric, GridMetricsHeader, MetricValues, MetricsPosition, Paging, RawCell,
};
use serde_json::value::RawValue;

use super::Instance;
use super::cells::{TextColumns, push_json_str};
use super::error::{CubeError, Result};
use super::plan::{AttrOut, Plan};

/// The id of the metrics header, as real servers send it.
pub(crate) const METRICS_HEADER_ID: &str = "00000000000000000000000000000000";

/// `text` (a JSON token) as a raw cell.
fn raw(text: String) -> Result<RawCell> {
    RawValue::from_string(text).map_err(|source| CubeError::Json { source })
}

/// Render rows `offset..offset + limit` of `inst`. `formatted`: include
/// `metricValues.formatted`.
pub(crate) fn render(
    inst: &Instance,
    offset: u64,
    limit: u64,
    formatted: bool,
) -> crate::mstr::error::Result<CubeInstance> {
    let batches = inst.result.read(offset, limit)?;
    let plan = &inst.plan;
    let mut page = Page::new(plan, formatted);
    for b in &batches {
        page.add_batch(plan, b)?;
    }
    let current = page.header_rows.len() as u64;
    let n_metrics = plan.metrics.len();
    Ok(CubeInstance {
        id: inst.cube_id.clone(),
        name: inst.cube_name.clone(),
        instance_id: inst.id.clone(),
        status: 1,
        definition: GridDefinition {
            grid: Grid {
                cross_tab: false,
                metrics_position: Some(MetricsPosition {
                    axis: "columns".to_string(),
                    index: 0,
                }),
                rows: attribute_headers(plan, page.elements),
                columns: metrics_header(plan),
            },
        },
        data: GridData {
            paging: Paging {
                total: inst.result.total,
                current,
                offset,
                limit,
            },
            headers: GridHeaders {
                rows: page.header_rows,
                columns: if n_metrics == 0 {
                    Vec::new()
                } else {
                    vec![(0..n_metrics as u32).collect()]
                },
            },
            metric_values: MetricValues {
                raw: page.raw_rows,
                formatted: formatted.then_some(page.formatted_rows),
            },
        },
    })
}

/// The elements of one attribute a page shows, each once, in order of first appearance.
#[derive(Debug, Default, Clone)]
struct Elements {
    /// The elements, in order of first appearance.
    list: Vec<GridElement>,
    /// Index in `list` by the element's form values as JSON tokens.
    seen: HashMap<String, u32>,
}

/// The data of a page being rendered.
#[derive(Debug)]
struct Page {
    /// Result columns of each attribute's forms.
    ranges: Vec<Range<usize>>,
    /// Result column of the first metric.
    metric_start: usize,
    /// Whether formatted metric values are wanted.
    formatted: bool,
    /// Per attribute, its elements.
    elements: Vec<Elements>,
    /// Per row, the element index of each attribute.
    header_rows: Vec<Vec<u32>>,
    /// Per row, the metric values as JSON tokens.
    raw_rows: Vec<Vec<RawCell>>,
    /// Per row, the metric values as text (when `formatted`).
    formatted_rows: Vec<Vec<String>>,
    /// Scratch: an element's key.
    key: String,
    /// Scratch: a value's text.
    text: String,
}

impl Page {
    /// An empty page of `plan`'s result columns.
    fn new(plan: &Plan, formatted: bool) -> Self {
        let mut ranges = Vec::with_capacity(plan.attributes.len());
        let mut at = 0;
        for a in &plan.attributes {
            ranges.push(at..at + a.forms.len());
            at += a.forms.len();
        }
        Page {
            ranges,
            metric_start: at,
            formatted,
            elements: vec![Elements::default(); plan.attributes.len()],
            header_rows: Vec::new(),
            raw_rows: Vec::new(),
            formatted_rows: Vec::new(),
            key: String::new(),
            text: String::new(),
        }
    }

    /// Add the rows of a result batch.
    fn add_batch(&mut self, plan: &Plan, b: &RecordBatch) -> Result<()> {
        let arrays: Vec<&ArrayRef> = b.columns().iter().collect();
        let texts = TextColumns::new(&arrays)?;
        self.header_rows.reserve(b.num_rows());
        self.raw_rows.reserve(b.num_rows());
        for row in 0..b.num_rows() {
            let mut hr = Vec::with_capacity(self.ranges.len());
            for ai in 0..self.ranges.len() {
                hr.push(self.element_index(&plan.attributes[ai], ai, &texts, row)?);
            }
            self.header_rows.push(hr);
            self.add_metric_values(plan.metrics.len(), &texts, row)?;
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
        self.key.clear();
        for c in range.clone() {
            texts.json(c, row, &mut self.key);
            self.key.push('\u{1}');
        }
        let els = &mut self.elements[ai];
        if let Some(i) = els.seen.get(&self.key) {
            return Ok(*i);
        }
        let i = els.list.len() as u32;
        let element = new_element(&attr.id, texts, range, row, &mut self.text)?;
        els.list.push(element);
        els.seen.insert(self.key.clone(), i);
        Ok(i)
    }

    /// Add the metric values of `row`.
    fn add_metric_values(
        &mut self,
        n_metrics: usize,
        texts: &TextColumns<'_>,
        row: usize,
    ) -> Result<()> {
        let s = &mut self.text;
        let mut raw_row = Vec::with_capacity(n_metrics);
        let mut formatted_row = Vec::new();
        for c in self.metric_start..self.metric_start + n_metrics {
            s.clear();
            texts.json(c, row, s);
            raw_row.push(raw(s.clone())?);
            if self.formatted {
                s.clear();
                texts.text(c, row, s);
                formatted_row.push(s.clone());
            }
        }
        self.raw_rows.push(raw_row);
        if self.formatted {
            self.formatted_rows.push(formatted_row);
        }
        Ok(())
    }
}

/// The element of attribute `attr_id` at `row`, its forms in result columns `range`: its id
/// (`ATTRIBUTE_ID:v1;v2`) and form values. `s` is scratch.
fn new_element(
    attr_id: &str,
    texts: &TextColumns<'_>,
    range: Range<usize>,
    row: usize,
    s: &mut String,
) -> Result<GridElement> {
    let mut form_values = Vec::with_capacity(range.len());
    for c in range.clone() {
        // Form values are text, as real servers send them (mstrio-py's parser needs one
        // type per column); null stays null.
        s.clear();
        if texts.is_null(c, row) {
            s.push_str("null");
        } else {
            let mut t = String::new();
            texts.text(c, row, &mut t);
            push_json_str(s, &t);
        }
        form_values.push(raw(s.clone())?);
    }
    s.clear();
    s.push_str(attr_id);
    s.push(':');
    for (k, c) in range.enumerate() {
        if k > 0 {
            s.push(';');
        }
        texts.text(c, row, s);
    }
    Ok(GridElement {
        id: s.clone(),
        form_values,
    })
}

/// The attribute headers: each attribute with its forms and the page's elements.
fn attribute_headers(plan: &Plan, elements: Vec<Elements>) -> Vec<GridAttribute> {
    plan.attributes
        .iter()
        .zip(elements)
        .map(|(a, els)| GridAttribute {
            name: a.name.clone(),
            id: a.id.clone(),
            object_type: "attribute".to_string(),
            forms: a
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
                .collect(),
            elements: els.list,
        })
        .collect()
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
