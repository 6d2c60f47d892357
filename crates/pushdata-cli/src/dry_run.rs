//! What `push --dry-run` prints: the plan of the push (dataset, tables, rows, chunks, bytes,
//! policies, the model or the dataset's definition), as text or as one JSON object.

use std::fmt::Write as _;

use pushdata_arrow::{PlannedDataset, PushPlan};
use pushdata_core::wire::DatasetDefinition;

use crate::error::Result;
use crate::inputs::InputFile;
use crate::output::{self, human_bytes, plural, table_lines};

/// Print `plan` as one JSON object (its [`PushPlan::summary`]).
pub(crate) fn print_json(plan: &PushPlan) -> Result<()> {
    output::print_json(&plan.summary())
}

/// Print `plan` as text; `inputs` name the files of the model's tables.
pub(crate) fn print_text(plan: &PushPlan, inputs: &[InputFile]) -> Result<()> {
    let mut out = String::from("dry run: every check passed; nothing was written on the server\n");
    let how = format!(
        "{} workflow, {} chunks",
        plan.workflow.as_str(),
        plan.orientation
    );
    match &plan.dataset {
        PlannedDataset::Create {
            name,
            folder,
            description,
        } => {
            let _ = write!(out, "would create dataset {name:?} in {folder} ({how})");
            if let Some(d) = description {
                let _ = write!(out, ", description {d:?}");
            }
            out.push('\n');
        }
        PlannedDataset::Update {
            dataset_id,
            found_by_name,
            definition,
            ..
        } => {
            let found = if *found_by_name {
                ", found by name"
            } else {
                ""
            };
            let _ = writeln!(
                out,
                "would push into dataset {:?} (id {dataset_id}{found}) ({how})",
                definition.name
            );
        }
    }
    tables_text(&mut out, plan);
    match &plan.dataset {
        PlannedDataset::Create { .. } => {
            output::print_line(out.trim_end())?;
            output::print_model(&plan.model, inputs)
        }
        PlannedDataset::Update {
            definition,
            tolerated,
            ..
        } => {
            definition_text(&mut out, definition);
            if !tolerated.is_empty() {
                let _ = writeln!(out, "\ntolerated differences ({})", tolerated.len());
                for d in tolerated {
                    let _ = writeln!(out, "  {d}");
                }
            }
            output::print_line(out.trim_end())
        }
    }
}

/// The tables of the plan and the totals.
fn tables_text(out: &mut String, plan: &PushPlan) {
    let header = ["table", "file", "rows", "chunks", "bytes", "policy"].map(String::from);
    let rows: Vec<[String; 6]> = plan
        .tables
        .iter()
        .map(|t| {
            [
                t.name.clone(),
                t.file
                    .as_ref()
                    .map_or_else(|| "-".to_string(), |f| f.display().to_string()),
                t.rows.to_string(),
                t.chunks.to_string(),
                human_bytes(t.bytes as f64),
                t.policy.to_string(),
            ]
        })
        .collect();
    out.push('\n');
    table_lines(out, &header, &rows);
    let rows = plan.rows();
    let _ = writeln!(
        out,
        "total: {rows} row{}, {} chunk{}, {}",
        plural(rows),
        plan.chunks,
        plural(plan.chunks),
        human_bytes(plan.bytes as f64)
    );
}

/// The existing dataset's tables and columns.
fn definition_text(out: &mut String, definition: &DatasetDefinition) {
    let objects = &definition.result.definition.available_objects;
    let columns = objects.columns.as_deref().unwrap_or_default();
    let _ = writeln!(out, "\ndefinition of dataset {:?}", definition.name);
    for t in objects.tables.as_deref().unwrap_or_default() {
        let _ = writeln!(
            out,
            "\ntable {} ({} row{} published)",
            t.name,
            t.row_count,
            plural(t.row_count)
        );
        let rows: Vec<[String; 2]> = columns
            .iter()
            .filter(|c| c.table_id.eq_ignore_ascii_case(&t.id))
            .map(|c| [c.column_name.clone(), c.data_type.to_string()])
            .collect();
        table_lines(out, &["column", "type"].map(String::from), &rows);
    }
}
