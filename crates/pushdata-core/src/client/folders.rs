//! Folder calls: what a folder holds (`GET /api/folders/{id}`, and
//! `GET /api/folders/preDefined/20` for My Reports), an object's metadata
//! (`GET /api/objects/{id}?type=`), and finding the objects of one name in a folder, the
//! same-name check mstrio-py makes before it creates a dataset. All send
//! `X-MSTR-ProjectID`.

use std::fmt;

use http::Method;

use super::Client;
use super::request::require;
use crate::error::Result;
use crate::wire::{MY_REPORTS_FOLDER, ObjectInfo, TOTAL_COUNT_HEADER};

/// Objects asked for per page of a folder listing (mstrio-py's page size).
const PAGE_SIZE: u64 = 1000;

/// A folder of a project: where a dataset is created, and where a name is looked up.
///
/// ```
/// use pushdata_core::Folder;
/// assert_eq!(Folder::from_id(None), Folder::MyReports);
/// assert_eq!(Folder::from_id(Some("".into())), Folder::MyReports);
/// let f = Folder::from_id(Some("0123456789ABCDEF0123456789ABCDEF".into()));
/// assert_eq!(f.id(), Some("0123456789ABCDEF0123456789ABCDEF"));
/// assert_eq!(f.to_string(), "folder 0123456789ABCDEF0123456789ABCDEF");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub enum Folder {
    /// The user's My Reports: where a dataset created without a folder id is saved.
    #[default]
    MyReports,
    /// The folder with this id.
    Id(String),
}

impl Folder {
    /// The folder `id`, or My Reports when there is none (or it is blank), as the API
    /// reads a `folderId`.
    pub fn from_id(id: Option<String>) -> Self {
        match id {
            Some(id) if !id.trim().is_empty() => Folder::Id(id.trim().to_string()),
            _ => Folder::MyReports,
        }
    }

    /// The `folderId` to create a dataset with (`None`: My Reports).
    pub fn id(&self) -> Option<&str> {
        match self {
            Folder::MyReports => None,
            Folder::Id(id) => Some(id),
        }
    }
}

impl fmt::Display for Folder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Folder::MyReports => f.write_str("My Reports"),
            Folder::Id(id) => write!(f, "folder {id}"),
        }
    }
}

/// One page of a folder's contents.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct FolderPage {
    /// The objects of the page, in the server's order.
    pub objects: Vec<ObjectInfo>,
    /// The number of objects in the folder ([`TOTAL_COUNT_HEADER`]), when the server said.
    pub total: Option<u64>,
}

impl Client {
    /// The objects in `folder`, from `offset`, at most `limit` of them
    /// (`GET /api/folders/{id}?offset=&limit=`, or `GET /api/folders/preDefined/20` for My
    /// Reports).
    pub async fn folder_contents(
        &self,
        folder: &Folder,
        offset: u64,
        limit: u64,
    ) -> Result<FolderPage> {
        let call = match folder {
            Folder::MyReports => self.call(
                Method::GET,
                &["folders", "preDefined", &MY_REPORTS_FOLDER.to_string()],
            )?,
            Folder::Id(id) => {
                require("folder id", id)?;
                self.call(Method::GET, &["folders", id])?
            }
        };
        let call = call
            .with_project()
            .query("offset", &offset.to_string())
            .query("limit", &limit.to_string())
            .detail(format!("{folder}, objects {offset}.. (limit {limit})"));
        let (objects, headers) = self
            .execute_json_with_headers::<Vec<ObjectInfo>>(&call)
            .await?;
        let total = headers
            .get(TOTAL_COUNT_HEADER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse().ok());
        Ok(FolderPage { objects, total })
    }

    /// The objects of type `object_type` named `name` in `folder`, every page read.
    ///
    /// This is the check mstrio-py makes before it creates a dataset (it lists the folder
    /// and keeps the objects of that name). Names are compared ignoring ASCII case, as the
    /// reference server compares table and column names: `Sales` finds `sales`.
    pub async fn find_in_folder(
        &self,
        folder: &Folder,
        name: &str,
        object_type: i32,
    ) -> Result<Vec<ObjectInfo>> {
        let mut found = Vec::new();
        let mut offset = 0u64;
        loop {
            let page = self.folder_contents(folder, offset, PAGE_SIZE).await?;
            let n = page.objects.len() as u64;
            found.extend(
                page.objects
                    .into_iter()
                    .filter(|o| o.object_type == object_type && o.name.eq_ignore_ascii_case(name)),
            );
            offset += n;
            let done = match page.total {
                Some(total) => offset >= total,
                None => n < PAGE_SIZE,
            };
            if done || n == 0 {
                return Ok(found);
            }
        }
    }

    /// An object's metadata: name, description, owner, the folder it is in
    /// (`GET /api/objects/{id}?type=`; 3 for a dataset, 8 for a folder).
    pub async fn object_info(&self, id: &str, object_type: i32) -> Result<ObjectInfo> {
        require("object id", id)?;
        let call = self
            .call(Method::GET, &["objects", id])?
            .with_project()
            .query("type", &object_type.to_string());
        self.execute_json(&call).await
    }
}
