//! Cube calls: getting a published dataset's data out, page by page
//! (`GET /api/v2/cubes/{id}`, `POST /api/v2/cubes/{id}/instances`,
//! `GET /api/v2/cubes/{id}/instances/{instanceId}`). All send `X-MSTR-ProjectID`.

use bytes::Bytes;
use http::Method;

use super::Client;
use super::request::{Call, require};
use crate::error::{Error, Result};
use crate::wire::{
    CubeDefinition, CubeInstance, CubeInstanceRequest, TABLE_VERSION_HEADER, TOTAL_ROWS_HEADER,
    TableRowsPage,
};

/// The `fields` parameter sent with instance calls: the formatted values and extras are
/// left out (the pull reads the raw values only), as mstrio-py does.
const INSTANCE_FIELDS: &str = "-data.metricValues.extras,-data.metricValues.formatted";

impl Client {
    /// The cube's attributes and metrics with their ids (`GET /api/v2/cubes/{id}`).
    pub async fn cube_definition(&self, cube_id: &str) -> Result<CubeDefinition> {
        require("cube id", cube_id)?;
        let call = self
            .call(Method::GET, &["v2", "cubes", cube_id])?
            .with_project();
        self.execute_json(&call).await
    }

    /// Create an instance of a cube and read its first page
    /// (`POST /api/v2/cubes/{id}/instances?offset=&limit=`). The response's `instanceId`
    /// names the instance for [`cube_instance_page`](Client::cube_instance_page).
    ///
    /// Retried like a read (creating an instance changes nothing on the server).
    pub async fn create_cube_instance(
        &self,
        cube_id: &str,
        request: &CubeInstanceRequest,
        offset: u64,
        limit: u64,
    ) -> Result<CubeInstance> {
        let call = self.create_instance_call(cube_id, request, offset, limit)?;
        self.execute_json(&call).await
    }

    /// [`create_cube_instance`](Client::create_cube_instance), the first page returned as
    /// the JSON the server sent (undecoded), for a reader that decodes it its own way.
    pub async fn create_cube_instance_json(
        &self,
        cube_id: &str,
        request: &CubeInstanceRequest,
        offset: u64,
        limit: u64,
    ) -> Result<Bytes> {
        let call = self.create_instance_call(cube_id, request, offset, limit)?;
        self.execute_bytes(&call).await
    }

    fn create_instance_call(
        &self,
        cube_id: &str,
        request: &CubeInstanceRequest,
        offset: u64,
        limit: u64,
    ) -> Result<Call> {
        require("cube id", cube_id)?;
        self.call(Method::POST, &["v2", "cubes", cube_id, "instances"])?
            .with_project()
            .idempotent()
            .query("offset", &offset.to_string())
            .query("limit", &limit.to_string())
            .query("fields", INSTANCE_FIELDS)
            .detail(format!("cube {cube_id}, rows {offset}.. (limit {limit})"))
            .json(request)
    }

    /// A page of an existing cube instance
    /// (`GET /api/v2/cubes/{id}/instances/{instanceId}?offset=&limit=`).
    pub async fn cube_instance_page(
        &self,
        cube_id: &str,
        instance_id: &str,
        offset: u64,
        limit: u64,
    ) -> Result<CubeInstance> {
        let call = self.instance_page_call(cube_id, instance_id, offset, limit)?;
        self.execute_json(&call).await
    }

    /// [`cube_instance_page`](Client::cube_instance_page), returned as the JSON the server
    /// sent (undecoded), for a reader that decodes it its own way.
    pub async fn cube_instance_page_json(
        &self,
        cube_id: &str,
        instance_id: &str,
        offset: u64,
        limit: u64,
    ) -> Result<Bytes> {
        let call = self.instance_page_call(cube_id, instance_id, offset, limit)?;
        self.execute_bytes(&call).await
    }

    /// [`cube_instance_page_json`](Client::cube_instance_page_json), the JSON read into
    /// `buf` (cleared first): a reader that gives the same buffer to every page reuses its
    /// memory instead of taking a new body's worth per page.
    pub async fn cube_instance_page_json_into(
        &self,
        cube_id: &str,
        instance_id: &str,
        offset: u64,
        limit: u64,
        buf: &mut Vec<u8>,
    ) -> Result<()> {
        let call = self.instance_page_call(cube_id, instance_id, offset, limit)?;
        self.execute_into(&call, buf).await
    }

    fn instance_page_call(
        &self,
        cube_id: &str,
        instance_id: &str,
        offset: u64,
        limit: u64,
    ) -> Result<Call> {
        require("cube id", cube_id)?;
        require("cube instance id", instance_id)?;
        Ok(self
            .call(
                Method::GET,
                &["v2", "cubes", cube_id, "instances", instance_id],
            )?
            .with_project()
            .query("offset", &offset.to_string())
            .query("limit", &limit.to_string())
            .query("fields", INSTANCE_FIELDS)
            .detail(format!(
                "cube {cube_id}, instance {instance_id}, rows {offset}.. (limit {limit})"
            )))
    }

    /// A page of one table's stored rows, exactly (no grouping, no join):
    /// `GET /api/datasets/{id}/tables/{table}/rows?offset=&limit=[&version=]`, a
    /// **pushdata reference-server extension** (see [`TableRowsPage`]); MicroStrategy
    /// servers answer it with an error status (404). `table` is the table's name or id;
    /// `version` is the [`TableRowsPage::version`] of an earlier page, if any.
    pub async fn table_rows(
        &self,
        dataset_id: &str,
        table: &str,
        offset: u64,
        limit: u64,
        version: Option<&str>,
    ) -> Result<TableRowsPage> {
        require("dataset id", dataset_id)?;
        require("table name", table)?;
        let mut call = self
            .call(
                Method::GET,
                &["datasets", dataset_id, "tables", table, "rows"],
            )?
            .with_project()
            .query("offset", &offset.to_string())
            .query("limit", &limit.to_string())
            .detail(format!(
                "table {table:?} of dataset {dataset_id}, rows {offset}.. (limit {limit})"
            ));
        if let Some(v) = version {
            call = call.query("version", v);
        }
        let response = self.execute(&call).await?;
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let total_rows = header(TOTAL_ROWS_HEADER)
            .and_then(|v| v.trim().parse().ok())
            .ok_or_else(|| Error::InvalidInput {
                what: "table rows response",
                message: format!("no numeric {TOTAL_ROWS_HEADER} header"),
            })?;
        let version = header(TABLE_VERSION_HEADER).unwrap_or_default();
        let ipc = response.bytes().await.map_err(|source| Error::Http {
            endpoint: Box::new(call.endpoint().clone()),
            source,
        })?;
        Ok(TableRowsPage {
            ipc,
            total_rows,
            version,
        })
    }
}
