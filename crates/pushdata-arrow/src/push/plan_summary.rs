//! A plan as one flat record: what `push --dry-run --json` prints and what the Python
//! package's dry run returns, made in one place.

use pushdata_core::wire::{DatasetDefinition, DatasetModel};
use serde::Serialize;

use super::Workflow;
use super::plan::{PlannedDataset, PushPlan};

/// A [`PushPlan`] flattened: the dataset's action and identity, the tables and totals, and
/// the model (create) or the definition with the tolerated differences (update).
/// Serialized with camelCase field names (`dryRun`, `datasetId`, `foundByName`, ...);
/// absent optional fields are left out.
///
/// ```
/// # fn show(plan: &pushdata_arrow::PushPlan) -> serde_json::Result<String> {
/// let summary = plan.summary();
/// println!("{} {}: {} rows", summary.action, summary.name, summary.rows);
/// serde_json::to_string(&summary)
/// # }
/// ```
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct PlanSummary<'a> {
    /// Always true: a plan writes nothing.
    pub dry_run: bool,
    /// `create` or `update`.
    pub action: &'static str,
    /// The dataset's name (as it would be created, or as stored).
    pub name: &'a str,
    /// The existing dataset's id (update).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dataset_id: Option<&'a str>,
    /// Whether the existing dataset was found by name.
    pub found_by_name: bool,
    /// The folder a new dataset would be created in (`None`: the user's My Reports).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub folder_id: Option<&'a str>,
    /// The description of a new dataset.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<&'a str>,
    /// `multi-request` or `single-request`.
    pub workflow: &'static str,
    /// `ROW` or `COLUMN`.
    pub orientation: String,
    /// Per table, in the order given.
    pub tables: Vec<TablePlanSummary<'a>>,
    /// Rows in all.
    pub rows: u64,
    /// Chunks in all.
    pub chunks: u64,
    /// Bytes of request bodies carrying data, in all.
    pub bytes: u64,
    /// The model a new dataset would be created with (create).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<DatasetModel>,
    /// The existing dataset's definition (update).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub definition: Option<&'a DatasetDefinition>,
    /// The differences with the existing dataset the push would carry, described.
    pub tolerated: Vec<String>,
}

/// One table of a [`PlanSummary`].
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct TablePlanSummary<'a> {
    /// Table name.
    pub name: &'a str,
    /// The file it is read from, when it is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// Rows it would push.
    pub rows: u64,
    /// Chunks it would upload.
    pub chunks: u64,
    /// Bytes of request bodies carrying its data.
    pub bytes: u64,
    /// Its update policy (`add`, `update`, `upsert`, `replace`).
    pub policy: &'static str,
}

impl Workflow {
    /// `multi-request` or `single-request`, as the CLI's flags and outputs name them.
    pub fn as_str(self) -> &'static str {
        match self {
            Workflow::MultiRequest => "multi-request",
            Workflow::SingleRequest => "single-request",
        }
    }
}

impl PushPlan {
    /// The plan as one flat record (see [`PlanSummary`]).
    pub fn summary(&self) -> PlanSummary<'_> {
        let mut summary = PlanSummary {
            dry_run: true,
            action: "create",
            name: "",
            dataset_id: None,
            found_by_name: false,
            folder_id: None,
            description: None,
            workflow: self.workflow.as_str(),
            orientation: self.orientation.to_string(),
            tables: self
                .tables
                .iter()
                .map(|t| TablePlanSummary {
                    name: &t.name,
                    file: t.file.as_ref().map(|f| f.display().to_string()),
                    rows: t.rows,
                    chunks: t.chunks,
                    bytes: t.bytes,
                    policy: t.policy.as_str(),
                })
                .collect(),
            rows: self.rows(),
            chunks: self.chunks,
            bytes: self.bytes,
            model: None,
            definition: None,
            tolerated: Vec::new(),
        };
        match &self.dataset {
            PlannedDataset::Create {
                name,
                folder,
                description,
            } => {
                summary.name = name;
                summary.folder_id = folder.id();
                summary.description = description.as_deref();
                summary.model = Some(self.model.to_dataset_model());
            }
            PlannedDataset::Update {
                dataset_id,
                found_by_name,
                definition,
                tolerated,
            } => {
                summary.action = "update";
                summary.name = &definition.name;
                summary.dataset_id = Some(dataset_id);
                summary.found_by_name = *found_by_name;
                summary.definition = Some(definition);
                summary.tolerated = tolerated.iter().map(ToString::to_string).collect();
            }
        }
        summary
    }
}
