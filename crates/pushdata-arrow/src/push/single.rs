//! The single-request workflow: one table, encoded whole, sent in one request.

use std::sync::Arc;

use arrow_array::RecordBatch;
use pushdata_core::wire::Orientation;

use super::target::Destination;
use super::{Opened, ProgressEvent, ProgressSink, PushReport, Run, TableReport};
use crate::encode::{ZoneMode, encode_base64};
use crate::error::{Error, Result};
use crate::model::{Model, TableModel};
use crate::source::TableReader;

/// The table of a single-request push, encoded.
pub(super) struct Encoded {
    /// Its base64 data (ROW orientation).
    pub(super) data: String,
    /// Its rows.
    pub(super) rows: u64,
}

impl Run {
    /// Read and encode the one table, then create the dataset or update the table.
    pub(super) async fn single_request(
        &self,
        opened: Opened,
        destination: &Destination,
    ) -> Result<PushReport> {
        let Opened { model, readers } = opened;
        let encoded = self.encode_one(&model, readers).await?;
        let (rows, bytes) = (encoded.rows, encoded.data.len() as u64);
        let dataset_id = self.send(&model, encoded.data, destination).await?;
        (self.progress)(ProgressEvent::Published {
            dataset_id: dataset_id.clone(),
        });
        Ok(PushReport {
            dataset_id,
            session_id: None,
            tables: vec![TableReport {
                name: model.tables[0].name.clone(),
                rows,
                chunks: 1,
                bytes,
                rows_skipped: None,
            }],
            chunks: 1,
            bytes,
            elapsed: self.started.elapsed(),
        })
    }

    /// Read and encode the one table of a single-request push (`check` made sure there is
    /// one).
    pub(super) async fn encode_one(
        &self,
        model: &Arc<Model>,
        mut readers: Vec<TableReader>,
    ) -> Result<Encoded> {
        match (model.tables.len(), readers.pop()) {
            (1, Some(reader)) => self.encode(model, reader).await,
            (n, _) => Err(Error::Internal(format!(
                "the single-request workflow pushes one table, not {n}"
            ))),
        }
    }

    /// Read the whole table and encode it, on a blocking thread.
    async fn encode(&self, model: &Arc<Model>, reader: TableReader) -> Result<Encoded> {
        let model = model.clone();
        let zones = self.settings.zones();
        let progress = self.progress.clone();
        tokio::task::spawn_blocking(move || {
            encode_whole_table(&model.tables[0], reader, zones, &progress)
        })
        .await
        .map_err(|source| Error::Task {
            task: "the encoder thread failed".into(),
            source,
        })?
    }

    /// `POST /api/datasets` (new dataset, in its folder) or `PATCH` the table (existing
    /// dataset); returns the dataset id.
    async fn send(&self, model: &Model, data: String, destination: &Destination) -> Result<String> {
        let table = &model.tables[0].name;
        match destination {
            Destination::Existing(d) => {
                let id = &d.id;
                let creator = model.to_table_creator(table, data)?;
                let table_ref = d.table_id.as_ref().unwrap_or(table);
                let policy = self.settings.policy_of(table);
                self.tracker.publish_requested();
                self.client
                    .update_table(id, table_ref, policy, &creator)
                    .await
                    .map_err(self.maybe_published(
                        format!("update table {table:?} of dataset {id} ({policy})"),
                        Some(id.clone()),
                        None,
                    ))?;
                Ok(id.clone())
            }
            Destination::Create { folder, .. } => {
                let mut creator = model.to_dataset_creator(vec![data])?;
                creator.folder_id = folder.id().map(str::to_string);
                self.tracker.publish_requested();
                let created =
                    self.client
                        .create_dataset(&creator)
                        .await
                        .map_err(self.maybe_published(
                            format!("create dataset {:?}", model.name),
                            None,
                            None,
                        ))?;
                (self.progress)(ProgressEvent::DatasetCreated {
                    dataset_id: created.dataset_id.clone(),
                });
                Ok(created.dataset_id)
            }
        }
    }
}

/// Read every batch of `table` and encode them into one ROW body (blocking).
fn encode_whole_table(
    table: &TableModel,
    reader: TableReader,
    zones: ZoneMode,
    progress: &ProgressSink,
) -> Result<Encoded> {
    progress(ProgressEvent::TableStarted {
        table: table.name.clone(),
    });
    let mut batches: Vec<RecordBatch> = Vec::new();
    reader.read(&table.name, &mut |b| {
        batches.push(b);
        Ok(())
    })?;
    let rows: u64 = batches.iter().map(|b| b.num_rows() as u64).sum();
    progress(ProgressEvent::RowsRead {
        table: table.name.clone(),
        rows,
    });
    let data = encode_base64(table, &batches, Orientation::Row, zones)?;
    progress(ProgressEvent::RowsEncoded {
        table: table.name.clone(),
        rows,
    });
    Ok(Encoded { data, rows })
}
