//! Dataset calls: paths, headers and bodies on the wire; responses decoded.

use bytes::Bytes;
use pushdata_core::wire::{
    AUTH_TOKEN_HEADER, ChunkBody, ChunkBodyWriter, ColumnExpression, ColumnHeader, DIExpression,
    DataType, DatasetCreator, DatasetModel, Form, Metric, Orientation, PROJECT_ID_HEADER,
    TableCreator, TableDefinition, UpdatePolicy, UploadSessionRequest, UploadSessionTable,
};
use pushdata_core::{Client, Credentials, Error};
use serde_json::json;
use wiremock::matchers::{body_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::common::*;

fn sales_table() -> TableCreator {
    TableCreator {
        name: "SALES_TABLE".into(),
        column_headers: vec![
            ColumnHeader::new("Year", DataType::Integer),
            ColumnHeader::new("Cost", DataType::Double),
        ],
        data: "W3siWWVhciI6MjAxNSwiQ29zdCI6MTAwMC4wfV0=".into(),
    }
}

#[tokio::test]
async fn create_dataset_posts_the_creator_with_token_and_project() {
    let server = MockServer::start().await;
    let client = logged_in(&server).await;
    let creator = DatasetCreator {
        name: "SALES_TABLE".into(),
        folder_id: None,
        tables: vec![sales_table()],
        attributes: vec![pushdata_core::wire::Attribute {
            name: "Year".into(),
            description: None,
            attribute_forms: vec![Form {
                category: "ID".into(),
                expressions: vec![DIExpression::new("SALES_TABLE", "Year")],
                data_type: None,
            }],
        }],
        metrics: vec![Metric {
            name: "Cost".into(),
            description: None,
            data_type: Some(DataType::Double),
            expressions: vec![DIExpression::new("SALES_TABLE", "Cost")],
        }],
    };
    Mock::given(method("POST"))
        .and(path(api("datasets")))
        .and(header(AUTH_TOKEN_HEADER, TOKEN))
        .and(header(PROJECT_ID_HEADER, PROJECT))
        .and(header("content-type", "application/json"))
        .and(header("accept", "application/json"))
        .and(body_json(serde_json::to_value(&creator).unwrap()))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "datasetId": "105E10C94CF881BE3DDBA6B97E61FBC5",
            "name": "SALES_TABLE",
            "tables": [{"id": "67DD8A4015E4C176A2517420A3D14666", "name": "SALES_TABLE"}]
        })))
        .expect(1)
        .mount(&server)
        .await;
    let r = client.create_dataset(&creator).await.unwrap();
    assert_eq!(r.dataset_id, "105E10C94CF881BE3DDBA6B97E61FBC5");
    assert_eq!(r.tables[0].id, "67DD8A4015E4C176A2517420A3D14666");
}

#[tokio::test]
async fn update_table_patches_with_the_update_policy_header() {
    let server = MockServer::start().await;
    let client = logged_in(&server).await;
    let table = sales_table();
    for policy in UpdatePolicy::ALL {
        let _mock = Mock::given(method("PATCH"))
            .and(path(api("datasets/DS1/tables/TB1")))
            .and(header("updatePolicy", policy.as_str()))
            .and(header(PROJECT_ID_HEADER, PROJECT))
            .and(header(AUTH_TOKEN_HEADER, TOKEN))
            .and(body_json(serde_json::to_value(&table).unwrap()))
            .respond_with(ResponseTemplate::new(204))
            .expect(1)
            .mount_as_scoped(&server)
            .await;
        client
            .update_table("DS1", "TB1", *policy, &table)
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn path_segments_are_percent_encoded() {
    let server = MockServer::start().await;
    let client = logged_in(&server).await;
    Mock::given(method("PATCH"))
        .and(path(api("datasets/DS1/tables/my%20table%2F2")))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(&server)
        .await;
    client
        .update_table("DS1", "my table/2", UpdatePolicy::Upsert, &sales_table())
        .await
        .unwrap();
}

#[tokio::test]
async fn create_model_and_upload_session() {
    let server = MockServer::start().await;
    let client = logged_in(&server).await;
    let model = DatasetModel {
        name: "testModel".into(),
        description: Some("d".into()),
        folder_id: None,
        tables: vec![TableDefinition {
            name: "table1".into(),
            description: None,
            column_headers: vec![ColumnHeader::new("Cost", DataType::Double)],
        }],
        metrics: vec![Metric {
            name: "Cost".into(),
            description: None,
            data_type: None,
            expressions: vec![ColumnExpression::new("table1", "Cost")],
        }],
        attributes: vec![],
    };
    Mock::given(method("POST"))
        .and(path(api("datasets/models")))
        .and(header(PROJECT_ID_HEADER, PROJECT))
        .and(body_json(serde_json::to_value(&model).unwrap()))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(
                json!({"id": "D13539E5433CDB837363F086C6DA6B5C", "name": "testModel"}),
            ),
        )
        .expect(1)
        .mount(&server)
        .await;
    let session = UploadSessionRequest {
        tables: vec![UploadSessionTable {
            name: "table1".into(),
            update_policy: UpdatePolicy::Replace,
            orientation: Some(Orientation::Column),
            column_headers: Some(vec!["Cost".into()]),
        }],
    };
    Mock::given(method("POST"))
        .and(path(api(
            "datasets/D13539E5433CDB837363F086C6DA6B5C/uploadSessions",
        )))
        .and(header(PROJECT_ID_HEADER, PROJECT))
        .and(body_json(json!({"tables": [{
            "name": "table1", "updatePolicy": "replace", "orientation": "COLUMN",
            "columnHeaders": ["Cost"]
        }]})))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"uploadSessionId": "9A4EE1C04C4EA20C8A976A8172034DD0"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let created = client.create_model(&model).await.unwrap();
    assert_eq!(created.id, "D13539E5433CDB837363F086C6DA6B5C");
    let id = client
        .create_upload_session(&created.id, &session)
        .await
        .unwrap();
    assert_eq!(id, "9A4EE1C04C4EA20C8A976A8172034DD0");
}

#[tokio::test]
async fn put_chunk_sends_exactly_the_chunk_body() {
    let server = MockServer::start().await;
    let client = logged_in(&server).await;
    Mock::given(method("PUT"))
        .and(path(api("datasets/D/uploadSessions/S")))
        .and(header(PROJECT_ID_HEADER, PROJECT))
        .and(header(AUTH_TOKEN_HEADER, TOKEN))
        .and(header("content-type", "application/json"))
        .respond_with(ResponseTemplate::new(200))
        .expect(3)
        .mount(&server)
        .await;
    // A chunk written in place, one from ready base64, and one of many segments (as the
    // encoder hands them over, some empty).
    let mut w = ChunkBodyWriter::new("table1", 7, 64);
    w.buffer().extend_from_slice(
        b"Ww0KCSAgIFsNCgkJICAxLA0KCQkgICIyMDE3LTEyLTQiLA0KCQkgICIxMTowMDowMCIsDQoJCSAgIkJvb2tzIiwNCgkJICAxMDAuNTINCgkgICBdDQoJXQ==",
    );
    let big = vec![b'A'; 3 * 1024 * 1024];
    let pieces: Vec<Bytes> = (0..200)
        .map(|i| Bytes::from(vec![b"ABCD"[i % 4]; (i % 7) * 4000]))
        .collect();
    let chunks = [
        w.finish(),
        ChunkBody::from_base64("t\"2", 8, &big),
        ChunkBody::from_segments("t3", 9, pieces),
    ];
    for chunk in &chunks {
        client.put_chunk("D", "S", chunk).await.unwrap();
    }
    let got = requests_to(&server, &api("datasets/D/uploadSessions/S")).await;
    assert_eq!(got.len(), 3);
    for (request, chunk) in got.iter().zip(&chunks) {
        assert_eq!(request.body.as_slice(), chunk.to_bytes().as_ref());
        assert_eq!(
            request
                .headers
                .get("content-length")
                .unwrap()
                .to_str()
                .unwrap(),
            chunk.len().to_string()
        );
        assert!(request.headers.get("transfer-encoding").is_none());
    }
}

/// One request as a raw HTTP/1.1 server saw it.
#[derive(Debug, Clone)]
struct RawRequest {
    method: String,
    path: String,
    /// Header names in lower case.
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl RawRequest {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Read one request (head, then exactly `Content-Length` bytes; a chunked body is read
/// to its end so the test can report it). `None` when the connection closed.
async fn read_raw_request(
    stream: &mut tokio::io::BufReader<tokio::net::TcpStream>,
) -> Option<RawRequest> {
    use tokio::io::{AsyncBufReadExt, AsyncReadExt};
    let mut line = String::new();
    if stream.read_line(&mut line).await.ok()? == 0 {
        return None;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_string();
    let path = parts.next()?.to_string();
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        stream.read_line(&mut h).await.ok()?;
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        let (n, v) = h.split_once(':')?;
        headers.push((n.trim().to_ascii_lowercase(), v.trim().to_string()));
    }
    let mut request = RawRequest {
        method,
        path,
        headers,
        body: Vec::new(),
    };
    if let Some(len) = request.header("content-length") {
        let mut body = vec![0; len.parse().ok()?];
        stream.read_exact(&mut body).await.ok()?;
        request.body = body;
    } else if request.header("transfer-encoding").is_some() {
        loop {
            let mut size = String::new();
            stream.read_line(&mut size).await.ok()?;
            let n = usize::from_str_radix(size.trim(), 16).ok()?;
            let mut data = vec![0; n + 2];
            stream.read_exact(&mut data).await.ok()?;
            if n == 0 {
                break;
            }
            request.body.extend_from_slice(&data[..n]);
        }
    }
    Some(request)
}

/// A raw HTTP/1.1 server on 127.0.0.1:0: logs in with [`TOKEN`], answers the chunk PUTs
/// with the given statuses in turn (then 200), and records every request.
async fn raw_server(
    put_statuses: Vec<u16>,
) -> (String, std::sync::Arc<std::sync::Mutex<Vec<RawRequest>>>) {
    use tokio::io::AsyncWriteExt;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}{BASE}", listener.local_addr().unwrap());
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let statuses = std::sync::Arc::new(std::sync::Mutex::new(put_statuses.into_iter()));
    let log = seen.clone();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let (log, statuses) = (log.clone(), statuses.clone());
            tokio::spawn(async move {
                let mut stream = tokio::io::BufReader::new(socket);
                while let Some(request) = read_raw_request(&mut stream).await {
                    let response = if request.path.ends_with("/auth/login") {
                        format!("HTTP/1.1 204 No Content\r\n{AUTH_TOKEN_HEADER}: {TOKEN}\r\n\r\n")
                    } else {
                        let status = statuses.lock().unwrap().next().unwrap_or(200);
                        format!(
                            "HTTP/1.1 {status} X\r\ncontent-length: 0\r\nretry-after: 0\r\n\r\n"
                        )
                    };
                    log.lock().unwrap().push(request);
                    if stream
                        .get_mut()
                        .write_all(response.as_bytes())
                        .await
                        .is_err()
                    {
                        break;
                    }
                }
            });
        }
    });
    (url, seen)
}

#[tokio::test]
async fn put_chunk_streams_segments_with_an_exact_content_length() {
    // 503 twice: the chunk is sent three times, each time the same bytes.
    let (url, seen) = raw_server(vec![503, 503]).await;
    let client = Client::builder(url)
        .with_retry(fast_retry())
        .build()
        .unwrap();
    client
        .login(Credentials::standard("administrator", PASSWORD))
        .await
        .unwrap();
    client.set_project_id(PROJECT);
    let pieces: Vec<Bytes> = (0..300)
        .map(|i| Bytes::from(vec![b"QUJD"[i % 4]; 4 * (1 + i * 37 % 5000)]))
        .collect();
    let chunk = ChunkBody::from_segments("lineitem", 4, pieces);
    assert!(chunk.len() > 1_000_000);
    client.put_chunk("D", "S", &chunk).await.unwrap();
    let seen = seen.lock().unwrap().clone();
    let puts: Vec<&RawRequest> = seen.iter().filter(|r| r.method == "PUT").collect();
    assert_eq!(puts.len(), 3);
    let want = chunk.to_bytes();
    for put in puts {
        assert_eq!(put.path, format!("{BASE}/api/datasets/D/uploadSessions/S"));
        assert_eq!(put.header("transfer-encoding"), None, "{:?}", put.headers);
        assert_eq!(
            put.header("content-length"),
            Some(chunk.len().to_string().as_str())
        );
        assert_eq!(put.body.len(), want.len());
        assert!(put.body == want.as_ref(), "the body arrived altered");
        let req: pushdata_core::wire::ChunkRequest = serde_json::from_slice(&put.body).unwrap();
        assert_eq!(req.table_name, "lineitem");
        assert_eq!(req.index.0, 4);
        assert_eq!(req.data.len(), chunk.data_len());
    }
}

#[tokio::test]
async fn chunk_errors_name_the_table_and_index() {
    let server = MockServer::start().await;
    let client = logged_in(&server).await;
    Mock::given(method("PUT"))
        .and(path(api("datasets/D/uploadSessions/S")))
        .respond_with(ResponseTemplate::new(400).set_body_json(error_body(
            "ERR006",
            "column 'Cost' row 3: not a number",
            "tk",
        )))
        .expect(1)
        .mount(&server)
        .await;
    let chunk = ChunkBody::from_base64("sales", 3, b"W1tdXQ==");
    let e = client.put_chunk("D", "S", &chunk).await.unwrap_err();
    let text = e.to_string();
    assert!(text.contains("(table \"sales\", chunk 3)"), "{text}");
    assert!(text.contains("column 'Cost' row 3: not a number"), "{text}");
    assert_eq!(
        e.endpoint().unwrap().detail.as_deref(),
        Some("table \"sales\", chunk 3")
    );
}

#[tokio::test]
async fn publish_status_and_cancel() {
    let server = MockServer::start().await;
    let client = logged_in(&server).await;
    Mock::given(method("POST"))
        .and(path(api("datasets/D/uploadSessions/S/publish")))
        .and(header(PROJECT_ID_HEADER, PROJECT))
        .and(header("content-length", "0"))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(api("datasets/D/uploadSessions/S/publishStatus")))
        .and(header(PROJECT_ID_HEADER, PROJECT))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "uploadSessionId": "S", "status": "6", "message": "sql execution"
        })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path(api("datasets/D/uploadSessions/S")))
        .and(header(PROJECT_ID_HEADER, PROJECT))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(&server)
        .await;
    client.publish("D", "S").await.unwrap();
    let s = client.publish_status("D", "S").await.unwrap();
    assert_eq!(s.status.0, 6);
    assert_eq!(s.message, "sql execution");
    client.cancel_upload_session("D", "S").await.unwrap();
}

#[tokio::test]
async fn malformed_response_is_a_decode_error_naming_the_endpoint() {
    let server = MockServer::start().await;
    let client = logged_in(&server).await;
    Mock::given(method("GET"))
        .and(path(api("datasets/D/uploadSessions/S/publishStatus")))
        .respond_with(ResponseTemplate::new(200).set_body_string("{\"status\": true}"))
        .mount(&server)
        .await;
    let e = client.publish_status("D", "S").await.unwrap_err();
    assert!(matches!(e, Error::Decode { .. }), "{e}");
    let text = e.to_string();
    assert!(
        text.contains("GET /MicroStrategyLibrary/api/datasets/D/uploadSessions/S/publishStatus"),
        "{text}"
    );
}

#[tokio::test]
async fn empty_ids_are_rejected_before_sending() {
    let server = MockServer::start().await;
    let client = logged_in(&server).await;
    let before = server.received_requests().await.unwrap().len();
    let e = client.publish("", "S").await.unwrap_err();
    assert!(
        matches!(
            e,
            Error::InvalidInput {
                what: "dataset id",
                ..
            }
        ),
        "{e}"
    );
    let e = client.cancel_upload_session("D", " ").await.unwrap_err();
    assert!(
        matches!(
            e,
            Error::InvalidInput {
                what: "upload session id",
                ..
            }
        ),
        "{e}"
    );
    assert_eq!(server.received_requests().await.unwrap().len(), before);
}

#[tokio::test]
async fn trailing_slash_in_base_url_is_ignored() {
    let server = MockServer::start().await;
    mount_login(&server, TOKEN).await;
    let client = pushdata_core::Client::builder(format!("{}{BASE}/", server.uri()))
        .build()
        .unwrap();
    client
        .login(pushdata_core::Credentials::standard("administrator", ""))
        .await
        .unwrap();
    assert_eq!(requests_to(&server, &api("auth/login")).await.len(), 1);
}
