//! End to end: the project's own Veracity client (`pushdata_core::veracity::Client`)
//! against the emulation: token, schema, create, upload, start, wait, upsert, query.

use bytes::Bytes;
use pushdata_core::veracity::wire::{
    AddSchemaRequest, ColumnType, CreateDatasetRequest, FileOperation, IngestFile, QueryRequest,
    SchemaColumn, UpdateDatasetRequest,
};
use pushdata_core::veracity::{Client, JobWait};
use pushdata_server::{
    DEFAULT_VERACITY_CLIENT_ID, DEFAULT_VERACITY_CLIENT_SECRET, DEFAULT_VERACITY_SUBSCRIPTION_KEY,
};

use crate::common::{GATEWAY, WS, start};

fn file(op: FileOperation) -> Vec<IngestFile> {
    vec![IngestFile {
        file_name: "ImportData.csv".into(),
        operation: op,
    }]
}

#[tokio::test]
async fn the_project_client_ingests_and_queries() {
    let dir = tempfile::tempdir().unwrap();
    let v = start(dir.path()).await;
    let client = Client::builder(WS)
        .with_base_url(format!("{}{GATEWAY}", v.root))
        .with_token_url(format!("{}/tenant/oauth2/token", v.root))
        .with_credentials(DEFAULT_VERACITY_CLIENT_ID, DEFAULT_VERACITY_CLIENT_SECRET)
        .with_subscription_key(DEFAULT_VERACITY_SUBSCRIPTION_KEY)
        .build()
        .unwrap();
    let schema = client
        .add_schema(&AddSchemaRequest {
            name: "Wind".into(),
            short_name: None,
            description: None,
            columns: vec![
                SchemaColumn::new("Id", ColumnType::Int64).with_key(true),
                SchemaColumn::new("Speed", ColumnType::Double),
            ],
            row_validators: None,
        })
        .await
        .unwrap();
    let create = CreateDatasetRequest {
        dataset_name: "Wind".into(),
        dataset_description: None,
        schema_version_id: schema.schema_versions[0].id.clone(),
        files: file(FileOperation::Create),
        tags: Vec::new(),
        provider: Some("BYOD".into()),
        start_automatically: false,
    };
    let reg = client.create_dataset(&create).await.unwrap();
    let csv = Bytes::from_static(b"Id,Speed\n1,3.5\n2,4.5\n");
    client.upload(&reg, "ImportData.csv", csv).await.unwrap();
    client.start_job(&reg.job_id).await.unwrap();
    let done = client
        .wait_for_job(&reg.job_id, &JobWait::default())
        .await
        .unwrap();
    let id = done.dataset_id.clone().unwrap();
    let update = UpdateDatasetRequest {
        files: file(FileOperation::Upsert),
        start_automatically: true,
    };
    let reg = client.update_dataset(&id, &update).await.unwrap();
    let csv = Bytes::from_static(b"Id,Speed\n2,9\n3,1\n");
    client.upload(&reg, "ImportData.csv", csv).await.unwrap();
    client
        .wait_for_job(&reg.job_id, &JobWait::default())
        .await
        .unwrap();
    let page = client.query(&id, &QueryRequest::page(1, 10)).await.unwrap();
    assert_eq!(page.pagination.total_count, 3);
    let speeds: Vec<f64> = page
        .rows()
        .unwrap()
        .iter()
        .map(|r| r["Speed"].as_f64().unwrap())
        .collect();
    assert_eq!(speeds, [3.5, 9.0, 1.0]);
}
