//! Dataset calls: the single-request create and update, the multi-request model, upload
//! sessions, chunks, publish, publish status and cancel. All send `X-MSTR-ProjectID`.

use http::{HeaderName, HeaderValue, Method};

use super::Client;
use super::request::{Call, require};
use crate::error::Result;
use crate::wire::{
    ChunkBody, CreateDatasetResponse, CreateModelResponse, DatasetCreator, DatasetDefinition,
    DatasetModel, DatasetTable, PublishStatus, TableCreator, UpdatePolicy, UploadSessionRequest,
    UploadSessionResponse,
};

impl Client {
    /// A call under `/api/datasets/...` that sends the project header.
    fn dataset_call(&self, method: Method, segments: &[&str]) -> Result<Call> {
        let mut all = Vec::with_capacity(segments.len() + 1);
        all.push("datasets");
        all.extend_from_slice(segments);
        Ok(self.call(method, &all)?.with_project())
    }

    /// Create and publish a one-table dataset with its data (`POST /api/datasets`).
    ///
    /// Retried on 429 and 503 (not processed), not on a timeout, a dropped connection or
    /// another 5xx (it is not idempotent).
    pub async fn create_dataset(&self, dataset: &DatasetCreator) -> Result<CreateDatasetResponse> {
        let call = self
            .dataset_call(Method::POST, &[])?
            .detail(format!("dataset {:?}", dataset.name))
            .json(dataset)?;
        self.execute_json(&call).await
    }

    /// Apply `table`'s data to a table of a dataset made with
    /// [`create_dataset`](Client::create_dataset)
    /// (`PATCH /api/datasets/{datasetId}/tables/{tableId}` with the `updatePolicy` header).
    ///
    /// `table_id_or_name` is the table id of [`CreateDatasetResponse::tables`] (servers that
    /// accept it may also take the table name). Retried on 429 and 503 only.
    pub async fn update_table(
        &self,
        dataset_id: &str,
        table_id_or_name: &str,
        policy: UpdatePolicy,
        table: &TableCreator,
    ) -> Result<()> {
        require("dataset id", dataset_id)?;
        require("table id", table_id_or_name)?;
        let call = self
            .dataset_call(Method::PATCH, &[dataset_id, "tables", table_id_or_name])?
            .detail(format!("table {:?}, policy {policy}", table.name))
            .header(
                // `UPDATE_POLICY_HEADER`; header names are case-insensitive and stored lower case.
                HeaderName::from_static("updatepolicy"),
                HeaderValue::from_static(policy.as_str()),
            )
            .json(table)?;
        self.execute_empty(&call).await
    }

    /// Create the definition of a dataset, without data (`POST /api/datasets/models`).
    ///
    /// Retried on 429 and 503 only (not processed); not idempotent.
    pub async fn create_model(&self, model: &DatasetModel) -> Result<CreateModelResponse> {
        let call = self
            .dataset_call(Method::POST, &["models"])?
            .detail(format!("dataset {:?}", model.name))
            .json(model)?;
        self.execute_json(&call).await
    }

    /// The definition of a dataset: its tables (with their published row counts) and every
    /// table's columns with their data types
    /// (`GET /api/datasets/{datasetId}?fields=tables&fields=columns`, as mstrio-py reads
    /// it).
    pub async fn dataset_definition(&self, dataset_id: &str) -> Result<DatasetDefinition> {
        require("dataset id", dataset_id)?;
        let call = self
            .dataset_call(Method::GET, &[dataset_id])?
            .query("fields", "tables")
            .query("fields", "columns");
        self.execute_json(&call).await
    }

    /// Open an upload session naming each table's update policy, orientation and column
    /// order (`POST /api/datasets/{datasetId}/uploadSessions`). Returns the session id.
    ///
    /// Retried on 429 and 503 only (not processed); not idempotent.
    pub async fn create_upload_session(
        &self,
        dataset_id: &str,
        request: &UploadSessionRequest,
    ) -> Result<String> {
        require("dataset id", dataset_id)?;
        let call = self
            .dataset_call(Method::POST, &[dataset_id, "uploadSessions"])?
            .json(request)?;
        let response: UploadSessionResponse = self.execute_json(&call).await?;
        Ok(response.upload_session_id)
    }

    /// Upload one chunk (`PUT /api/datasets/{datasetId}/uploadSessions/{uploadSessionId}`).
    ///
    /// The body's segments are sent one after the other, without joining them into one
    /// buffer, with an exact `Content-Length` (never chunked transfer encoding). Resending
    /// an index replaces that chunk, so the call is retried on timeouts, dropped
    /// connections and 429/502/503/504, with the same segments. Errors name the table and
    /// chunk index.
    pub async fn put_chunk(
        &self,
        dataset_id: &str,
        session_id: &str,
        chunk: &ChunkBody,
    ) -> Result<()> {
        require("dataset id", dataset_id)?;
        require("upload session id", session_id)?;
        let call = self
            .dataset_call(Method::PUT, &[dataset_id, "uploadSessions", session_id])?
            .detail(format!(
                "table {:?}, chunk {}",
                chunk.table_name(),
                chunk.index()
            ))
            .body_segments(chunk.segments());
        self.execute_empty(&call).await
    }

    /// Publish the data uploaded in a session
    /// (`POST /api/datasets/{datasetId}/uploadSessions/{uploadSessionId}/publish`).
    ///
    /// Returns once the server accepted the request; use
    /// [`wait_for_publish`](Client::wait_for_publish) to wait for the result. Retried on 429
    /// and 503 only (not processed); not idempotent.
    pub async fn publish(&self, dataset_id: &str, session_id: &str) -> Result<()> {
        require("dataset id", dataset_id)?;
        require("upload session id", session_id)?;
        let call = self.dataset_call(
            Method::POST,
            &[dataset_id, "uploadSessions", session_id, "publish"],
        )?;
        self.execute_empty(&call).await
    }

    /// The publish status of a session
    /// (`GET /api/datasets/{datasetId}/uploadSessions/{uploadSessionId}/publishStatus`).
    pub async fn publish_status(
        &self,
        dataset_id: &str,
        session_id: &str,
    ) -> Result<PublishStatus> {
        require("dataset id", dataset_id)?;
        require("upload session id", session_id)?;
        let call = self.dataset_call(
            Method::GET,
            &[dataset_id, "uploadSessions", session_id, "publishStatus"],
        )?;
        self.execute_json(&call).await
    }

    /// The tables of a dataset, with their ids and published row counts: the tables of
    /// [`Client::dataset_definition`].
    pub async fn dataset_tables(&self, dataset_id: &str) -> Result<Vec<DatasetTable>> {
        let definition = self.dataset_definition(dataset_id).await?;
        Ok(definition
            .result
            .definition
            .available_objects
            .tables
            .unwrap_or_default())
    }

    /// Delete a dataset and its data (`DELETE /api/objects/{datasetId}?type=3`, as
    /// mstrio-py does; the reference server implements it). Retried like every DELETE.
    pub async fn delete_dataset(&self, dataset_id: &str) -> Result<()> {
        require("dataset id", dataset_id)?;
        let call = self
            .call(Method::DELETE, &["objects", dataset_id])?
            .with_project()
            .query("type", "3");
        self.execute_empty(&call).await
    }

    /// End an upload session: cancel it, or clean up after publishing
    /// (`DELETE /api/datasets/{datasetId}/uploadSessions/{uploadSessionId}`).
    pub async fn cancel_upload_session(&self, dataset_id: &str, session_id: &str) -> Result<()> {
        require("dataset id", dataset_id)?;
        require("upload session id", session_id)?;
        let call =
            self.dataset_call(Method::DELETE, &[dataset_id, "uploadSessions", session_id])?;
        self.execute_empty(&call).await
    }
}
