//! What the commands print on stdout: JSON (one object) or human-readable text.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;
use std::time::Duration;

use pushdata_arrow::{ColumnModel, Model, Role, RoleReason};
use pushdata_core::wire::{DataType, DatasetModel};
use serde::Serialize;

use crate::error::{CliError, Result};
use crate::inputs::InputFile;

/// The result of a push, as printed by `push --json`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PushSummary {
    /// The dataset that was created or updated.
    pub(crate) dataset_id: String,
    /// Rows sent per table.
    pub(crate) tables: Vec<TableSummary>,
    /// Chunks uploaded.
    pub(crate) chunks: u64,
    /// Bytes of chunk data (base64) uploaded.
    pub(crate) bytes: u64,
    /// Wall-clock time of the push.
    pub(crate) seconds: f64,
}

/// Rows sent to one table.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct TableSummary {
    /// Table name.
    pub(crate) name: String,
    /// Rows sent.
    pub(crate) rows: u64,
    /// Rows the update policy skipped, when the server said (`rowsSkipped`; absent when
    /// it did not).
    #[serde(rename = "rowsSkipped", skip_serializing_if = "Option::is_none")]
    pub(crate) rows_skipped: Option<u64>,
}

/// Print `value` as one line of JSON on stdout.
pub(crate) fn print_json<T: Serialize>(value: &T) -> Result<()> {
    let text = serde_json::to_string(value)?;
    write_stdout(&format!("{text}\n"))
}

/// Print one line on stdout (flushed at once, for readers waiting on it).
pub(crate) fn print_line(text: impl std::fmt::Display) -> Result<()> {
    write_stdout(&format!("{text}\n"))
}

/// Print a push summary as text.
pub(crate) fn print_push(summary: &PushSummary) -> Result<()> {
    write_stdout(&push_text(summary))
}

fn push_text(s: &PushSummary) -> String {
    let mut out = String::new();
    let rows: u64 = s.tables.iter().map(|t| t.rows).sum();
    let _ = writeln!(
        out,
        "pushed {rows} row{} in {} table{} to dataset {}",
        plural(rows),
        s.tables.len(),
        plural(s.tables.len() as u64),
        s.dataset_id
    );
    let width = s
        .tables
        .iter()
        .map(|t| t.name.chars().count())
        .max()
        .unwrap_or(0);
    for t in &s.tables {
        let _ = write!(
            out,
            "  {:<width$}  {} row{}",
            t.name,
            t.rows,
            plural(t.rows)
        );
        if let Some(n) = t.rows_skipped.filter(|n| *n > 0) {
            let _ = write!(
                out,
                ", skipped {n} row{} (add keeps stored keys; update ignores new keys)",
                plural(n)
            );
        }
        out.push('\n');
    }
    let _ = writeln!(
        out,
        "{} chunk{}, {} in {:.2} s ({}/s)",
        s.chunks,
        plural(s.chunks),
        human_bytes(s.bytes as f64),
        s.seconds,
        human_bytes(rate(s.bytes, s.seconds)),
    );
    out
}

/// Where an embedded push stored its data, and how to push to the same dataset again.
pub(crate) fn embedded_note(data_dir: &Path, dataset_id: &str) -> String {
    format!(
        "data stored by the embedded server in {} (dataset id {dataset_id}); \
         add to it with: pushdata push FILE --dataset-id {dataset_id} --policy add",
        data_dir.display()
    )
}

/// Print the model `push` would create, as text.
pub(crate) fn print_model(model: &Model, inputs: &[InputFile]) -> Result<()> {
    write_stdout(&model_text(model, inputs))
}

fn model_text(model: &Model, inputs: &[InputFile]) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "dataset {}", model.name);
    for table in &model.tables {
        let input = inputs.iter().find(|i| i.table == table.name);
        match input {
            Some(i) => {
                let rows = match i.rows {
                    Some(n) => format!("{n} row{}", plural(n)),
                    None => "rows counted when read".to_string(),
                };
                let _ = writeln!(out, "\ntable {} ({}, {rows})", table.name, i.path.display());
            }
            None => {
                let _ = writeln!(out, "\ntable {}", table.name);
            }
        }
        let rows: Vec<[String; 5]> = table
            .columns
            .iter()
            .map(|c| {
                [
                    c.name.clone(),
                    c.mapping.data_type.to_string(),
                    c.arrow_type.to_string(),
                    role_text(&c.role),
                    reason_text(&c.reason),
                ]
            })
            .collect();
        let header = ["column", "type", "arrow type", "role", "rule"].map(String::from);
        table_lines(&mut out, &header, &rows);
    }
    let _ = writeln!(out, "\nattributes ({})", model.attributes.len());
    for a in &model.attributes {
        let forms: Vec<String> = a
            .forms
            .iter()
            .map(|f| {
                format!(
                    "{} {} = {}",
                    f.category,
                    f.data_type,
                    columns_text(&f.columns)
                )
            })
            .collect();
        let _ = writeln!(out, "  {}: {}", a.name, forms.join("; "));
    }
    let _ = writeln!(out, "metrics ({})", model.metrics.len());
    for m in &model.metrics {
        let _ = writeln!(
            out,
            "  {}: {} = {}",
            m.name,
            m.data_type,
            columns_text(&m.columns)
        );
    }
    let _ = writeln!(
        out,
        "\nto change a role: --attribute COL, --metric COL, --form ATTRIBUTE:ID|DESC=COL"
    );
    out
}

/// `attribute Category (DESC)` or `metric Cost`.
fn role_text(role: &Role) -> String {
    match role {
        Role::Attribute {
            attribute,
            category,
        } => format!("attribute {attribute} ({category})"),
        Role::Metric { metric } => format!("metric {metric}"),
    }
}

/// The rule that decided a role; an explicit choice is named by its option.
fn reason_text(reason: &RoleReason) -> String {
    match reason {
        RoleReason::UserAttribute => "--attribute".to_string(),
        RoleReason::UserMetric => "--metric".to_string(),
        RoleReason::UserForm => "--form".to_string(),
        other => other.to_string(),
    }
}

/// What `schema --json` prints: the dataset model (the body of `POST
/// /api/datasets/models`) and each column's role with the rule that decided it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SchemaJson<'a> {
    /// The body of `POST /api/datasets/models`.
    #[serde(flatten)]
    model: DatasetModel,
    /// Every column of every table, in order.
    column_roles: Vec<ColumnRole<'a>>,
}

/// One column's role in `schema --json`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ColumnRole<'a> {
    table: &'a str,
    column: &'a str,
    data_type: DataType,
    /// `attribute` or `metric`.
    role: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    attribute: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    form: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    metric: Option<&'a str>,
    /// [`RoleReason::rule`].
    rule: &'static str,
    /// The rule in words, as the text output shows it.
    reason: String,
}

impl<'a> SchemaJson<'a> {
    /// The JSON of `model`.
    pub(crate) fn new(model: &'a Model) -> Self {
        let column_roles = model
            .tables
            .iter()
            .flat_map(|t| t.columns.iter().map(|c| column_role(&t.name, c)))
            .collect();
        SchemaJson {
            model: model.to_dataset_model(),
            column_roles,
        }
    }
}

fn column_role<'a>(table: &'a str, c: &'a ColumnModel) -> ColumnRole<'a> {
    let (role, attribute, form, metric) = match &c.role {
        Role::Attribute {
            attribute,
            category,
        } => (
            "attribute",
            Some(attribute.as_str()),
            Some(category.as_str()),
            None,
        ),
        Role::Metric { metric } => ("metric", None, None, Some(metric.as_str())),
    };
    ColumnRole {
        table,
        column: &c.name,
        data_type: c.mapping.data_type,
        role,
        attribute,
        form,
        metric,
        rule: c.reason.rule(),
        reason: reason_text(&c.reason),
    }
}

fn columns_text(columns: &[(String, String)]) -> String {
    columns
        .iter()
        .map(|(t, c)| format!("{t}.{c}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Left-aligned columns, two spaces apart, indented by two.
pub(crate) fn table_lines<const N: usize>(
    out: &mut String,
    header: &[String; N],
    rows: &[[String; N]],
) {
    let mut widths = [0usize; N];
    for row in std::iter::once(header).chain(rows) {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    for row in std::iter::once(header).chain(rows) {
        let mut line = String::from(" ");
        for (i, (w, cell)) in widths.iter().zip(row).enumerate() {
            line.push(' ');
            if i + 1 == N {
                line.push_str(cell);
            } else {
                let pad = w - cell.chars().count();
                line.push_str(cell);
                line.extend(std::iter::repeat_n(' ', pad + 1));
            }
        }
        let _ = writeln!(out, "{}", line.trim_end());
    }
}

/// `1.5 MB`, `512 B` (decimal units, like the MB/s of the progress bar).
pub(crate) fn human_bytes(bytes: f64) -> String {
    const UNITS: [&str; 5] = ["B", "kB", "MB", "GB", "TB"];
    let mut value = bytes;
    let mut unit = 0;
    while value >= 1000.0 && unit + 1 < UNITS.len() {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{value:.0} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// Bytes per second, 0 for an instant.
pub(crate) fn rate(bytes: u64, seconds: f64) -> f64 {
    if seconds > 0.0 {
        bytes as f64 / seconds
    } else {
        0.0
    }
}

/// Seconds as a float, for JSON.
pub(crate) fn seconds(d: Duration) -> f64 {
    d.as_secs_f64()
}

/// `s` unless `n` is 1.
pub(crate) fn plural(n: u64) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn write_stdout(text: &str) -> Result<()> {
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
        .map_err(|source| CliError::Io {
            what: "writing to stdout".into(),
            source,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_are_human() {
        assert_eq!(human_bytes(512.0), "512 B");
        assert_eq!(human_bytes(1_500_000.0), "1.5 MB");
        assert_eq!(rate(10, 0.0), 0.0);
    }

    #[test]
    fn push_summary_text_and_json() {
        let s = PushSummary {
            dataset_id: "D1".into(),
            tables: vec![
                TableSummary {
                    name: "sales".into(),
                    rows: 4,
                    rows_skipped: None,
                },
                TableSummary {
                    name: "x".into(),
                    rows: 1,
                    rows_skipped: Some(1),
                },
            ],
            chunks: 2,
            bytes: 2_000_000,
            seconds: 2.0,
        };
        let text = push_text(&s);
        assert!(
            text.starts_with("pushed 5 rows in 2 tables to dataset D1\n"),
            "{text}"
        );
        assert!(text.contains("  sales  4 rows\n"), "{text}");
        assert!(
            text.contains(
                "  x      1 row, skipped 1 row (add keeps stored keys; update ignores new keys)\n"
            ),
            "{text}"
        );
        assert!(
            text.contains("2 chunks, 2.0 MB in 2.00 s (1.0 MB/s)"),
            "{text}"
        );
        let json = serde_json::to_value(&s).unwrap_or_default();
        assert_eq!(json["datasetId"], "D1");
        assert_eq!(json["tables"][0]["rows"], 4);
        assert_eq!(json["chunks"], 2);
    }
}
