//! The HTTP client against wiremock servers on 127.0.0.1: headers, bodies, retries,
//! re-login, timeouts, publish waits, error bodies and secret hygiene.
#![allow(clippy::unwrap_used)]

mod auth;
mod common;
mod datasets;
mod publish;
mod retry;
mod secrets;

/// Every call's future is `Send`, so callers can `tokio::spawn` uploads.
#[test]
fn call_futures_are_send() {
    use pushdata_core::wire::{
        ChunkBody, DatasetCreator, DatasetModel, TableCreator, UpdatePolicy, UploadSessionRequest,
    };
    use pushdata_core::{Client, Credentials, PublishWait};

    fn assert_send<T: Send>(_: T) {}
    let c = Client::builder("http://127.0.0.1:1/lib").build().unwrap();
    let creator = DatasetCreator {
        name: "d".into(),
        folder_id: None,
        tables: vec![],
        attributes: vec![],
        metrics: vec![],
    };
    let model = DatasetModel {
        name: "d".into(),
        description: None,
        folder_id: None,
        tables: vec![],
        metrics: vec![],
        attributes: vec![],
    };
    let table = TableCreator {
        name: "t".into(),
        column_headers: vec![],
        data: String::new(),
    };
    let session = UploadSessionRequest { tables: vec![] };
    let chunk = ChunkBody::from_base64("t", 1, b"W10=");
    let wait = PublishWait::default();
    // Futures do nothing until polled; building them is enough to check `Send`.
    assert_send(c.login(Credentials::guest()));
    assert_send(c.logout());
    assert_send(c.projects());
    assert_send(c.select_project("p"));
    assert_send(c.create_dataset(&creator));
    assert_send(c.update_table("d", "t", UpdatePolicy::Add, &table));
    assert_send(c.create_model(&model));
    assert_send(c.create_upload_session("d", &session));
    assert_send(c.put_chunk("d", "s", &chunk));
    assert_send(c.publish("d", "s"));
    assert_send(c.publish_status("d", "s"));
    assert_send(c.wait_for_publish("d", "s", &wait));
    assert_send(c.cancel_upload_session("d", "s"));
}
