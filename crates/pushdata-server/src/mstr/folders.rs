//! Folders: where the service's datasets are saved, and what each folder holds.
//!
//! A dataset created without a `folderId` (or with a blank one, as mstrio-py sends) is saved
//! in its owner's **My Reports**, a folder with a stable id per user. Any other folder is
//! created on demand: a `folderId` of 32 hex digits names a folder of the project, empty
//! until a dataset is created in it. A folder holds the datasets created in it; a caller
//! sees those of their project that are theirs, as every other route does.

use std::sync::Arc;

use super::Dataset;
use super::error::{ApiError, Result};
use super::service::Service;
use crate::config::ProjectConfig;
use crate::ids;

/// The id of `user`'s My Reports folder (the same for any case of the user name).
pub(crate) fn my_reports_id(user: &str) -> String {
    ids::stable_id(&format!("my-reports/{}", user.to_lowercase()))
}

/// The name My Reports folders have.
pub(crate) const MY_REPORTS_NAME: &str = "My Reports";

/// The folder a dataset of `owner` created with `folder_id` is saved in: `None` for My
/// Reports (no id, a blank one, or the owner's My Reports id), else the id in upper case.
/// An id that is not 32 hex digits is refused (400).
pub(crate) fn folder_of(folder_id: Option<&str>, owner: &str) -> Result<Option<String>> {
    let Some(id) = folder_id.map(str::trim).filter(|f| !f.is_empty()) else {
        return Ok(None);
    };
    let id = parse_folder_id(id)?;
    Ok((id != my_reports_id(owner)).then_some(id))
}

/// A folder id as stored: 32 hex digits, upper case (400 otherwise).
pub(crate) fn parse_folder_id(id: &str) -> Result<String> {
    if id.len() != 32 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(ApiError::bad_request(format!(
            "folder id {id:?} is not an object id (32 hexadecimal digits)"
        )));
    }
    Ok(id.to_ascii_uppercase())
}

impl Service {
    /// The datasets of `project` visible to `user` in folder `folder` (`None`: the user's My
    /// Reports), by name (any case), then id.
    pub(crate) fn folder_datasets(
        &self,
        project: &ProjectConfig,
        user: &str,
        folder: Option<&str>,
    ) -> Vec<Arc<Dataset>> {
        let mut found: Vec<Arc<Dataset>> = self
            .catalog
            .list()
            .into_iter()
            .filter(|d| d.def.project_id.eq_ignore_ascii_case(&project.id))
            .filter(|d| d.def.is_visible_to(user))
            .filter(|d| d.def.folder_id.as_deref() == folder)
            .collect();
        found.sort_by(|a, b| {
            (a.def.name.to_lowercase(), &a.def.id).cmp(&(b.def.name.to_lowercase(), &b.def.id))
        });
        found
    }

    /// The folder `id` as `user` sees it in `project`: `None` for their My Reports, else the
    /// id. 404 when the id is that of a project or of a dataset (they are not folders), 400
    /// when it is not an object id.
    pub(crate) fn folder(
        &self,
        project: &ProjectConfig,
        user: &str,
        id: &str,
    ) -> Result<Option<String>> {
        let id = parse_folder_id(id.trim())?;
        if id == my_reports_id(user) {
            return Ok(None);
        }
        let is_project = self.projects.iter().any(|p| p.id.eq_ignore_ascii_case(&id));
        if is_project || self.catalog.get(&id).is_some() {
            return Err(ApiError::not_found(format!(
                "object {id} of project {} is not a folder",
                project.id
            )));
        }
        Ok(Some(id))
    }
}
