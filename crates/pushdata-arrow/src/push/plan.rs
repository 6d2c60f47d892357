//! A dry run ([`Push::plan`](super::Push::plan)): every check a push makes, local and on the
//! server, every table read and encoded as the push would, and what the push would do.
//! Nothing is written on the server: no dataset, no upload session.

use std::path::PathBuf;

use futures::future::BoxFuture;
use pushdata_core::Folder;
use pushdata_core::wire::{DatasetDefinition, Orientation, UpdatePolicy};

use super::drift::Difference;
use super::multi::join_producer;
use super::target::Destination;
use super::{Opened, Run, TableInput, Workflow, table_files};
use crate::encode::MemoryBudget;
use crate::error::{Error, Result};
use crate::model::Model;

/// The dataset a push would write to.
#[derive(Debug, Clone)]
pub enum PlannedDataset {
    /// The push would create it.
    Create {
        /// Its name.
        name: String,
        /// The folder it would be created in.
        folder: Folder,
        /// Its description, if the push gives one.
        description: Option<String>,
    },
    /// The push would write into this existing dataset, whose definition matches the
    /// tables.
    Update {
        /// The dataset id.
        dataset_id: String,
        /// Whether it was found by name ([`IfExists::Update`](super::IfExists::Update)) rather
        /// than given by id.
        found_by_name: bool,
        /// Its definition: tables (with their row counts) and columns with their types.
        definition: Box<DatasetDefinition>,
        /// The differences between the tables and the definition that the push would carry
        /// (each [tolerated](super::DifferenceKind::is_tolerated)).
        tolerated: Vec<Difference>,
    },
}

/// One table of a planned push.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TablePlan {
    /// Table name.
    pub name: String,
    /// The file it is read from, when it is one.
    pub file: Option<PathBuf>,
    /// Rows it would push.
    pub rows: u64,
    /// Chunks it would upload (single request: 1).
    pub chunks: u64,
    /// Bytes of request bodies carrying its data, as a push would send them.
    pub bytes: u64,
    /// Its update policy.
    pub policy: UpdatePolicy,
}

/// What a push would do: from [`Push::plan`](super::Push::plan), after every check.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct PushPlan {
    /// The dataset it would create or write into.
    pub dataset: PlannedDataset,
    /// The workflow.
    pub workflow: Workflow,
    /// The chunks' orientation (the single-request workflow always sends rows).
    pub orientation: Orientation,
    /// Per table, in the order given.
    pub tables: Vec<TablePlan>,
    /// Chunks in all.
    pub chunks: u64,
    /// Bytes of request bodies carrying data, in all.
    pub bytes: u64,
    /// The model of the tables: what a new dataset is created with; for an existing
    /// dataset, how the tables are encoded (its definition is in
    /// [`PlannedDataset::Update`]).
    pub model: Model,
}

impl PushPlan {
    /// Rows in all.
    pub fn rows(&self) -> u64 {
        self.tables.iter().map(|t| t.rows).sum()
    }
}

/// Rows, chunks and bytes of one table, as encoded.
#[derive(Debug, Clone, Copy, Default)]
struct Counted {
    rows: u64,
    chunks: u64,
    bytes: u64,
}

impl Run {
    /// Check, read and encode every table as [`execute`](Run::execute) would, and say what
    /// the push would do (until `stop` completes, if given); writes nothing.
    pub(super) async fn plan(
        self,
        tables: Vec<TableInput>,
        stop: Option<BoxFuture<'static, ()>>,
    ) -> Result<PushPlan> {
        self.check(&tables)?;
        let work = async {
            let files = table_files(&tables);
            let opened = self.open(tables).await?;
            let destination = self.resolve(&opened.model, &files).await?;
            let model = (*opened.model).clone();
            let counted = match self.settings.workflow {
                Workflow::MultiRequest => self.count_chunks(opened).await?,
                Workflow::SingleRequest => self.count_single_request(opened).await?,
            };
            Ok(self.to_plan(destination, model, files, &counted))
        };
        match stop {
            Some(stop) => tokio::select! {
                plan = work => plan,
                () = stop => Err(Error::Interrupted),
            },
            None => work.await,
        }
    }

    /// Encode every table into chunks as the multi-request workflow does, counting them and
    /// their bytes, and drop them.
    async fn count_chunks(&self, opened: Opened) -> Result<Vec<Counted>> {
        let Opened { model, readers } = opened;
        let budget = MemoryBudget::new(self.settings.buffered_bytes_limit());
        let (producer, mut rx) = self.spawn_producer(&model, readers, &budget);
        let mut counted = vec![Counted::default(); model.tables.len()];
        while let Some(chunk) = rx.recv().await {
            if let Some(t) = model.tables.iter().position(|t| t.name == chunk.table) {
                counted[t].chunks += 1;
                counted[t].bytes += chunk.body.len() as u64;
            }
        }
        let produced = join_producer(producer).await?;
        for (c, p) in counted.iter_mut().zip(produced) {
            c.rows = p.rows;
        }
        Ok(counted)
    }

    /// Encode the one table as the single-request workflow does.
    async fn count_single_request(&self, opened: Opened) -> Result<Vec<Counted>> {
        let Opened { model, readers } = opened;
        let encoded = self.encode_one(&model, readers).await?;
        Ok(vec![Counted {
            rows: encoded.rows,
            chunks: 1,
            bytes: encoded.data.len() as u64,
        }])
    }

    fn to_plan(
        &self,
        destination: Destination,
        model: Model,
        files: Vec<Option<PathBuf>>,
        counted: &[Counted],
    ) -> PushPlan {
        let tables: Vec<TablePlan> = model
            .tables
            .iter()
            .zip(files)
            .zip(counted)
            .map(|((t, file), c)| TablePlan {
                name: t.name.clone(),
                file,
                rows: c.rows,
                chunks: c.chunks,
                bytes: c.bytes,
                policy: self.settings.policy_of(&t.name),
            })
            .collect();
        let dataset = match destination {
            Destination::Create {
                name,
                folder,
                description,
            } => PlannedDataset::Create {
                name,
                folder,
                description: description.or_else(|| model.description.clone()),
            },
            Destination::Existing(d) => PlannedDataset::Update {
                dataset_id: d.id,
                found_by_name: d.found_by_name,
                definition: Box::new(d.definition),
                tolerated: d.tolerated,
            },
        };
        PushPlan {
            dataset,
            workflow: self.settings.workflow,
            orientation: match self.settings.workflow {
                Workflow::MultiRequest => self.settings.orientation,
                Workflow::SingleRequest => Orientation::Row,
            },
            chunks: tables.iter().map(|t| t.chunks).sum(),
            bytes: tables.iter().map(|t| t.bytes).sum(),
            tables,
            model,
        }
    }
}
