//! One page of an instance as the v2 grid JSON ([`CubeInstance`]).

use std::collections::HashMap;

use arrow_array::{ArrayRef, RecordBatch};
use pushdata_core::wire::{
    CubeInstance, Grid, GridAttribute, GridData, GridDefinition, GridElement, GridForm,
    GridHeaders, GridMetric, GridMetricsHeader, MetricValues, MetricsPosition, Paging, RawCell,
};
use serde_json::value::RawValue;

use super::Instance;
use super::cells::TextColumns;
use crate::mstr::error::{ApiError, Result};

/// The id of the metrics header, as real servers send it.
pub const METRICS_HEADER_ID: &str = "00000000000000000000000000000000";

fn raw(text: String) -> Result<RawCell> {
    RawValue::from_string(text)
        .map_err(|e| ApiError::internal("writing a cube page", format!("invalid JSON value: {e}")))
}

/// Render rows `offset..offset + limit` of `inst`. `formatted`: include
/// `metricValues.formatted`.
pub fn render(inst: &Instance, offset: u64, limit: u64, formatted: bool) -> Result<CubeInstance> {
    let batches = inst.result.read(offset, limit)?;
    let plan = &inst.plan;
    let n_rows: usize = batches.iter().map(RecordBatch::num_rows).sum();
    let n_attrs = plan.attributes.len();
    let n_metrics = plan.metrics.len();
    let mut elements: Vec<Vec<GridElement>> = vec![Vec::new(); n_attrs];
    let mut seen: Vec<HashMap<String, u32>> = vec![HashMap::new(); n_attrs];
    let mut header_rows: Vec<Vec<u32>> = Vec::with_capacity(n_rows);
    let mut raw_rows: Vec<Vec<RawCell>> = Vec::with_capacity(n_rows);
    let mut fmt_rows: Vec<Vec<String>> = Vec::new();
    // Column ranges of the attributes in the result.
    let mut ranges = Vec::with_capacity(n_attrs);
    let mut at = 0;
    for a in &plan.attributes {
        ranges.push(at..at + a.forms.len());
        at += a.forms.len();
    }
    let metric_start = at;
    let mut key = String::new();
    let mut s = String::new();
    for b in &batches {
        let arrays: Vec<&ArrayRef> = b.columns().iter().collect();
        let texts = TextColumns::new(&arrays)?;
        for row in 0..b.num_rows() {
            let mut hr = Vec::with_capacity(n_attrs);
            for (ai, range) in ranges.iter().enumerate() {
                key.clear();
                for c in range.clone() {
                    texts.json(c, row, &mut key);
                    key.push('\u{1}');
                }
                let idx = match seen[ai].get(&key) {
                    Some(i) => *i,
                    None => {
                        let i = elements[ai].len() as u32;
                        let mut form_values = Vec::with_capacity(range.len());
                        for c in range.clone() {
                            // Form values are text, as real servers send them (mstrio-py's
                            // parser needs one type per column); null stays null.
                            s.clear();
                            if texts.is_null(c, row) {
                                s.push_str("null");
                            } else {
                                let mut t = String::new();
                                texts.text(c, row, &mut t);
                                super::cells::push_json_str(&mut s, &t);
                            }
                            form_values.push(raw(s.clone())?);
                        }
                        s.clear();
                        s.push_str(&plan.attributes[ai].id);
                        s.push(':');
                        for (k, c) in range.clone().enumerate() {
                            if k > 0 {
                                s.push(';');
                            }
                            texts.text(c, row, &mut s);
                        }
                        elements[ai].push(GridElement {
                            id: s.clone(),
                            form_values,
                        });
                        seen[ai].insert(key.clone(), i);
                        i
                    }
                };
                hr.push(idx);
            }
            header_rows.push(hr);
            let mut mr = Vec::with_capacity(n_metrics);
            let mut fr = Vec::new();
            for c in metric_start..metric_start + n_metrics {
                s.clear();
                texts.json(c, row, &mut s);
                mr.push(raw(s.clone())?);
                if formatted {
                    s.clear();
                    texts.text(c, row, &mut s);
                    fr.push(s.clone());
                }
            }
            raw_rows.push(mr);
            if formatted {
                fmt_rows.push(fr);
            }
        }
    }
    let rows = plan
        .attributes
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
            elements: els,
        })
        .collect();
    let columns = if n_metrics == 0 {
        Vec::new()
    } else {
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
    };
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
                rows,
                columns,
            },
        },
        data: GridData {
            paging: Paging {
                total: inst.result.total,
                current: n_rows as u64,
                offset,
                limit,
            },
            headers: GridHeaders {
                rows: header_rows,
                columns: if n_metrics == 0 {
                    Vec::new()
                } else {
                    vec![(0..n_metrics as u32).collect()]
                },
            },
            metric_values: MetricValues {
                raw: raw_rows,
                formatted: formatted.then_some(fmt_rows),
            },
        },
    })
}
