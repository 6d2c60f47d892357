//! Where a push writes, settled on the server before anything is written: a new dataset's
//! name looked up in its folder ([`IfExists`]), and an existing dataset's definition read
//! and compared with the tables ([`drift`](super::drift)).

use std::path::PathBuf;

use pushdata_core::Folder;
use pushdata_core::wire::{DatasetDefinition, IdName, OBJECT_TYPE_DATASET};

use super::drift::{self, Difference};
use super::{IfExists, NewDataset, ProgressEvent, Run, Target};
use crate::error::{Error, Result};
use crate::model::Model;

/// Where a push writes, once checked against the server.
#[derive(Debug, Clone)]
pub(super) enum Destination {
    /// A dataset the push creates.
    Create {
        /// Its name.
        name: String,
        /// The folder it is created in.
        folder: Folder,
        /// Its description, if the push gives one.
        description: Option<String>,
    },
    /// An existing dataset, given by id or found by name, whose definition matches the
    /// tables (up to `tolerated` differences).
    Existing(Box<ExistingTarget>),
}

/// An existing dataset a push writes to.
#[derive(Debug, Clone)]
pub(super) struct ExistingTarget {
    /// The dataset id.
    pub(super) id: String,
    /// What a single-request update `PATCH`es (default: the table name).
    pub(super) table_id: Option<String>,
    /// Its definition, as read before the push.
    pub(super) definition: DatasetDefinition,
    /// The differences between the tables and the definition that the push carries.
    pub(super) tolerated: Vec<Difference>,
    /// Whether it was found by name ([`IfExists::Update`]) rather than given by id.
    pub(super) found_by_name: bool,
}

impl Run {
    /// Settle the destination of the push: look a new dataset's name up in its folder, read
    /// an existing dataset's definition and compare it with the tables of `model` (read
    /// from `files`). Writes nothing.
    pub(super) async fn resolve(
        &self,
        model: &Model,
        files: &[Option<PathBuf>],
    ) -> Result<Destination> {
        let new = match &self.target {
            Target::Existing(d) => {
                let checked = self.check_definition(&d.id, model, files).await?;
                return Ok(Destination::Existing(Box::new(ExistingTarget {
                    table_id: d.table_id.clone(),
                    ..checked
                })));
            }
            Target::New(new) => new,
        };
        let found = self.same_named(new).await?;
        match (found.as_slice(), new.if_exists) {
            ([], _) => Ok(Destination::Create {
                name: new.name.clone(),
                folder: new.folder.clone(),
                description: new.description.clone(),
            }),
            (_, IfExists::Fail) => Err(Error::DatasetExists {
                name: new.name.clone(),
                folder: new.folder.clone(),
                existing: found,
            }),
            ([one], IfExists::Update) => {
                tracing::info!(dataset_id = %one.id, name = %one.name, folder = %new.folder, "pushing into the dataset of that name");
                (self.progress)(ProgressEvent::DatasetFound {
                    dataset_id: one.id.clone(),
                    name: one.name.clone(),
                });
                self.tracker.dataset(&one.id, false);
                let checked = self.check_definition(&one.id, model, files).await?;
                Ok(Destination::Existing(Box::new(ExistingTarget {
                    found_by_name: true,
                    ..checked
                })))
            }
            (_, IfExists::Update) => Err(Error::DatasetNameAmbiguous {
                name: new.name.clone(),
                folder: new.folder.clone(),
                existing: found,
            }),
        }
    }

    /// The datasets named as `new` in its folder.
    async fn same_named(&self, new: &NewDataset) -> Result<Vec<IdName>> {
        let found = self
            .client
            .find_in_folder(&new.folder, &new.name, OBJECT_TYPE_DATASET)
            .await
            .map_err(Run::api(format!(
                "look for a dataset named {:?} in {}",
                new.name, new.folder
            )))?;
        Ok(found
            .into_iter()
            .map(|o| IdName {
                id: o.id,
                name: o.name,
            })
            .collect())
    }

    /// Read the definition of dataset `id` and compare it with the tables of `model`:
    /// [`Error::DefinitionDrift`] listing every refused difference, else the dataset with
    /// the tolerated ones.
    async fn check_definition(
        &self,
        id: &str,
        model: &Model,
        files: &[Option<PathBuf>],
    ) -> Result<ExistingTarget> {
        let definition = self
            .client
            .dataset_definition(id)
            .await
            .map_err(Run::api(format!("read the definition of dataset {id}")))?;
        let (tolerated, refused): (Vec<Difference>, Vec<Difference>) =
            drift::compare(model, files, &definition)
                .into_iter()
                .partition(|d| d.kind.is_tolerated());
        if !refused.is_empty() {
            return Err(Error::DefinitionDrift {
                dataset_id: id.to_string(),
                differences: refused,
            });
        }
        for d in &tolerated {
            tracing::info!(dataset_id = id, "tolerated difference: {d}");
        }
        Ok(ExistingTarget {
            id: id.to_string(),
            table_id: None,
            definition,
            tolerated,
            found_by_name: false,
        })
    }
}
