//! Bad input, table-driven, over both services of one server: every row is a malformed or
//! refused request (sent with reqwest, or raw over TCP where reqwest cannot express it),
//! its expected 4xx status and the error code field of its body. After every row the
//! server still answers, the committed files of the data directory are byte for byte what
//! they were, and the stored rows read back unchanged. Prints `bad_input rows tried: N`.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

#[allow(dead_code)]
#[path = "api/common.rs"]
mod mstr_common;
#[allow(dead_code)]
#[path = "veracity/common.rs"]
mod veracity_common;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use base64::Engine;
use pushdata_core::veracity::wire::IngestResponse;
use pushdata_server::{Server, ServerConfig};
use reqwest::Method;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use mstr_common::{Api, BASE_ROWS, PROJECT, b64, items_model, stored};
use veracity_common::{FileUrl, GATEWAY, To, V, WS, keyed_columns};

/// The server's body limit in this test: small, so an oversized body is cheap to send.
const MAX_BODY: usize = 64 * 1024;
/// A CSV whose quote never closes.
const BAD_QUOTING: &str = "Id,Name,Value,TS,Ok\n2,\"two,2.5,2024-01-01T00:00:00Z,true\n";
const VERACITY_CSV: &str = "Id,Name,Value,TS,Ok\n1,one,1.5,2024-01-01T00:00:00Z,true\n";

/// How a row's request goes out.
enum Wire {
    /// Through reqwest: method, URL, headers, body.
    Http {
        method: Method,
        url: String,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    },
    /// Raw bytes on a fresh TCP connection; the write side is closed after them.
    Raw(Vec<u8>),
}

/// One malformed request and what the server must answer.
struct Row {
    name: &'static str,
    wire: Wire,
    status: u16,
    /// The body's error code field: `code` (Push Data API), `error.code` (Data Lake),
    /// `type` (gateway), `error` (Azure AD), `statusCode` (API Management); "" for a bare
    /// HTTP-level refusal.
    code: &'static str,
}

/// The error code field of an error body, whichever service's style it is in.
fn error_code(body: &str) -> String {
    let Ok(v) = serde_json::from_str::<Value>(body) else {
        return String::new();
    };
    for ptr in ["/code", "/error/code", "/type", "/error", "/statusCode"] {
        match v.pointer(ptr) {
            Some(Value::String(s)) => return s.clone(),
            Some(Value::Number(n)) => return n.to_string(),
            _ => {}
        }
    }
    String::new()
}

/// What the fixture set up: ids, tokens and SAS folders the rows aim at.
struct Fixture {
    addr: SocketAddr,
    base: String,
    root: String,
    token: String,
    bob_token: String,
    dead_token: String,
    ds: String,
    open_sid: String,
    published_sid: String,
    vds: String,
    vtoken: String,
    sas_a: FileUrl,
    sas_b: FileUrl,
    sas_started: FileUrl,
    /// Bytes already appended to and flushed in job A's file.
    a_len: usize,
}

fn http(method: Method, url: String, headers: &[(&str, &str)], body: &[u8]) -> Wire {
    Wire::Http {
        method,
        url,
        headers: headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        body: body.to_vec(),
    }
}

/// A Push Data API request with the admin's token and the project.
fn mstr(f: &Fixture, method: Method, path: &str, body: &str) -> Wire {
    let url = format!("{}{path}", f.base);
    let h = [
        ("X-MSTR-AuthToken", f.token.as_str()),
        ("X-MSTR-ProjectID", PROJECT),
        ("Content-Type", "application/json"),
    ];
    http(method, url, &h, body.as_bytes())
}

/// A Push Data API request with `token` and optionally a project header.
fn mstr_as(f: &Fixture, token: &str, project: Option<&str>, path: &str) -> Wire {
    let url = format!("{}{path}", f.base);
    let mut h = vec![("X-MSTR-AuthToken", token)];
    if let Some(p) = project {
        h.push(("X-MSTR-ProjectID", p));
    }
    http(Method::GET, url, &h, b"")
}

/// A chunk body for the open session.
fn chunk(table: &str, index: u64, data: &str) -> String {
    json!({"tableName": table, "index": index, "data": data}).to_string()
}

/// A gateway request with the default key and a token.
fn gw(f: &Fixture, method: Method, path: &str, token: &str, body: &str) -> Wire {
    let url = format!("{}{GATEWAY}/workspaces/{WS}{path}", f.root);
    let bearer = format!("Bearer {token}");
    let h = [
        (
            "Ocp-Apim-Subscription-Key",
            pushdata_server::DEFAULT_VERACITY_SUBSCRIPTION_KEY,
        ),
        ("Authorization", bearer.as_str()),
        ("Content-Type", "application/json"),
    ];
    http(method, url, &h, body.as_bytes())
}

/// A Data Lake call on `file` with its SAS and extra query parameters.
fn lake(method: Method, file: &FileUrl, ops: &str, body: &[u8]) -> Wire {
    let url = format!("{}?{}&{ops}", file.base, file.sas);
    http(method, url, &[("x-ms-version", "2023-05-03")], body)
}

/// A raw HTTP/1.1 request: `head` lines (without the Host), then `body`.
fn raw(f: &Fixture, request_line: &str, headers: &str, body: &[u8]) -> Wire {
    let mut bytes = format!(
        "{request_line} HTTP/1.1\r\nHost: {}\r\n{headers}\r\n",
        f.addr
    )
    .into_bytes();
    bytes.extend_from_slice(body);
    Wire::Raw(bytes)
}

fn row(name: &'static str, wire: Wire, status: u16, code: &'static str) -> Row {
    Row {
        name,
        wire,
        status,
        code,
    }
}

/// The Push Data API rows.
fn mstr_rows(f: &Fixture) -> Vec<Row> {
    let ds = &f.ds;
    let sid = &f.open_sid;
    let chunk_path = format!("/api/datasets/{ds}/uploadSessions/{sid}");
    let patch_path = format!("/api/datasets/{ds}/tables/items");
    let single = |data: &str| {
        json!({"name": "items", "columnHeaders": [
            {"name": "id", "dataType": "INTEGER"}, {"name": "name", "dataType": "STRING"},
            {"name": "value", "dataType": "DOUBLE"}], "data": data})
        .to_string()
    };
    let auth =
        |token: &str| format!("X-MSTR-AuthToken: {token}\r\nX-MSTR-ProjectID: {PROJECT}\r\n");
    let token = auth(&f.token);
    let not_utf8 = base64::engine::general_purpose::STANDARD.encode(b"[[1,\"\xff\xfe\",1.0]]");
    vec![
        row(
            "login: malformed JSON",
            mstr(f, Method::POST, "/api/auth/login", "{\"username\":"),
            400,
            "ERR004",
        ),
        row(
            "login: wrong types",
            mstr(
                f,
                Method::POST,
                "/api/auth/login",
                r#"{"loginMode":"one","username":7}"#,
            ),
            400,
            "ERR004",
        ),
        row(
            "login: wrong password",
            mstr(
                f,
                Method::POST,
                "/api/auth/login",
                r#"{"loginMode":1,"username":"bob","password":"nope"}"#,
            ),
            401,
            "ERR003",
        ),
        row(
            "login: body over the limit",
            mstr(
                f,
                Method::POST,
                "/api/auth/login",
                &format!("{{\"username\":\"{}\"}}", "x".repeat(2 << 20)),
            ),
            413,
            "ERR007",
        ),
        row(
            "no auth token",
            mstr_as(f, "", Some(PROJECT), &format!("/api/datasets/{ds}")),
            401,
            "ERR003",
        ),
        row(
            "unknown auth token",
            mstr_as(
                f,
                "0123456789ABCDEF0123456789ABCDEF",
                Some(PROJECT),
                &format!("/api/datasets/{ds}"),
            ),
            401,
            "ERR003",
        ),
        row(
            "token used after logout",
            mstr_as(
                f,
                &f.dead_token,
                Some(PROJECT),
                &format!("/api/datasets/{ds}"),
            ),
            401,
            "ERR003",
        ),
        row(
            "no X-MSTR-ProjectID",
            mstr_as(f, &f.token, None, &format!("/api/datasets/{ds}")),
            400,
            "ERR004",
        ),
        row(
            "unknown X-MSTR-ProjectID",
            mstr_as(
                f,
                &f.token,
                Some("00000000000000000000000000000000"),
                &format!("/api/datasets/{ds}"),
            ),
            401,
            "ERR003",
        ),
        row(
            "another user's dataset",
            mstr_as(
                f,
                &f.bob_token,
                Some(PROJECT),
                &format!("/api/datasets/{ds}"),
            ),
            404,
            "ERR004",
        ),
        row(
            "unknown dataset id",
            mstr(
                f,
                Method::GET,
                "/api/datasets/0123456789ABCDEF0123456789ABCDEF",
                "",
            ),
            404,
            "ERR004",
        ),
        row(
            "dataset id escaping the data directory",
            mstr(
                f,
                Method::GET,
                "/api/datasets/..%2F..%2F..%2Fetc%2Fpasswd",
                "",
            ),
            404,
            "ERR004",
        ),
        row(
            "dataset id of dots",
            mstr(f, Method::GET, "/api/datasets/..", ""),
            404,
            "ERR004",
        ),
        row(
            "table rows: table name escaping",
            mstr(
                f,
                Method::GET,
                &format!("/api/datasets/{ds}/tables/..%2F..%2Fcatalog/rows"),
                "",
            ),
            404,
            "ERR004",
        ),
        row(
            "model: malformed JSON",
            mstr(f, Method::POST, "/api/datasets/models", "{\"name\": [}"),
            400,
            "ERR004",
        ),
        row(
            "model: wrong types",
            mstr(
                f,
                Method::POST,
                "/api/datasets/models",
                r#"{"name": 5, "tables": "items"}"#,
            ),
            400,
            "ERR004",
        ),
        row(
            "model: unknown data type",
            mstr(
                f,
                Method::POST,
                "/api/datasets/models",
                r#"{"name": "m", "tables": [{"name": "t", "columnHeaders": [{"name": "a", "dataType": "BLOB"}]}]}"#,
            ),
            400,
            "ERR004",
        ),
        row(
            "single request: bad base64",
            mstr(f, Method::PATCH, &patch_path, &single("!!!not base64")),
            400,
            "ERR004",
        ),
        row(
            "single request: wrong column count",
            mstr(f, Method::PATCH, &patch_path, &single(&b64(r#"[[1,"a"]]"#))),
            400,
            "ERR004",
        ),
        row(
            "single request: wrong type",
            mstr(
                f,
                Method::PATCH,
                &patch_path,
                &single(&b64(r#"[[1,"a","lots"]]"#)),
            ),
            400,
            "ERR004",
        ),
        row(
            "single request: unknown table",
            mstr(
                f,
                Method::PATCH,
                &format!("/api/datasets/{ds}/tables/nope"),
                &single(&b64("[]")),
            ),
            404,
            "ERR004",
        ),
        row(
            "single request: unknown update policy",
            http(
                Method::PATCH,
                format!("{}{patch_path}", f.base),
                &[
                    ("X-MSTR-AuthToken", &f.token),
                    ("X-MSTR-ProjectID", PROJECT),
                    ("updatePolicy", "merge-ish"),
                    ("Content-Type", "application/json"),
                ],
                single(&b64(BASE_ROWS)).as_bytes(),
            ),
            400,
            "ERR004",
        ),
        row(
            "session: malformed JSON",
            mstr(
                f,
                Method::POST,
                &format!("/api/datasets/{ds}/uploadSessions"),
                "{\"tables\": [{",
            ),
            400,
            "ERR004",
        ),
        row(
            "session: unknown table",
            mstr(
                f,
                Method::POST,
                &format!("/api/datasets/{ds}/uploadSessions"),
                r#"{"tables": [{"name": "nope", "updatePolicy": "add"}]}"#,
            ),
            400,
            "ERR004",
        ),
        row(
            "session: unknown update policy",
            mstr(
                f,
                Method::POST,
                &format!("/api/datasets/{ds}/uploadSessions"),
                r#"{"tables": [{"name": "items", "updatePolicy": "sometimes"}]}"#,
            ),
            400,
            "ERR004",
        ),
        row(
            "chunk: bad base64",
            mstr(f, Method::PUT, &chunk_path, &chunk("items", 1, "@@@@")),
            400,
            "ERR004",
        ),
        row(
            "chunk: truncated base64",
            mstr(
                f,
                Method::PUT,
                &chunk_path,
                &chunk("items", 1, &b64(BASE_ROWS)[..13]),
            ),
            400,
            "ERR004",
        ),
        row(
            "chunk: malformed JSON inside",
            mstr(
                f,
                Method::PUT,
                &chunk_path,
                &chunk("items", 1, &b64(r#"[[1,"a",1.0],[2,"#)),
            ),
            400,
            "ERR004",
        ),
        row(
            "chunk: wrong column count",
            mstr(
                f,
                Method::PUT,
                &chunk_path,
                &chunk("items", 1, &b64(r#"[[1,"a",1.0,4]]"#)),
            ),
            400,
            "ERR004",
        ),
        row(
            "chunk: wrong type",
            mstr(
                f,
                Method::PUT,
                &chunk_path,
                &chunk("items", 1, &b64(r#"[["x","a",1.0]]"#)),
            ),
            400,
            "ERR004",
        ),
        row(
            "chunk: integer out of range",
            mstr(
                f,
                Method::PUT,
                &chunk_path,
                &chunk("items", 1, &b64(r#"[[30000000000,"a",1.0]]"#)),
            ),
            400,
            "ERR004",
        ),
        row(
            "chunk: not UTF-8 inside",
            mstr(f, Method::PUT, &chunk_path, &chunk("items", 1, &not_utf8)),
            400,
            "ERR004",
        ),
        row(
            "chunk: index of the wrong type",
            mstr(
                f,
                Method::PUT,
                &chunk_path,
                r#"{"tableName": "items", "index": "one", "data": ""}"#,
            ),
            400,
            "ERR004",
        ),
        row(
            "chunk: unknown table",
            mstr(f, Method::PUT, &chunk_path, &chunk("nope", 1, &b64("[]"))),
            400,
            "ERR004",
        ),
        row(
            "chunk: unknown session",
            mstr(
                f,
                Method::PUT,
                &format!("/api/datasets/{ds}/uploadSessions/0123456789ABCDEF0123456789ABCDEF"),
                &chunk("items", 1, &b64(BASE_ROWS)),
            ),
            404,
            "ERR004",
        ),
        row(
            "chunk: session id escaping",
            mstr(
                f,
                Method::PUT,
                &format!("/api/datasets/{ds}/uploadSessions/..%2F..%2Fdatasets"),
                &chunk("items", 1, &b64(BASE_ROWS)),
            ),
            404,
            "ERR004",
        ),
        row(
            "chunk: over the body limit",
            mstr(
                f,
                Method::PUT,
                &chunk_path,
                &chunk("items", 1, &"A".repeat(MAX_BODY + 10)),
            ),
            413,
            "ERR007",
        ),
        row(
            "chunk after publish",
            mstr(
                f,
                Method::PUT,
                &format!("/api/datasets/{ds}/uploadSessions/{}", f.published_sid),
                &chunk("items", 2, &b64(BASE_ROWS)),
            ),
            409,
            "ERR006",
        ),
        row(
            "publish twice",
            mstr(
                f,
                Method::POST,
                &format!(
                    "/api/datasets/{ds}/uploadSessions/{}/publish",
                    f.published_sid
                ),
                "",
            ),
            409,
            "ERR006",
        ),
        row(
            "publish of an unknown session",
            mstr(
                f,
                Method::POST,
                &format!(
                    "/api/datasets/{ds}/uploadSessions/0123456789ABCDEF0123456789ABCDEF/publish"
                ),
                "",
            ),
            404,
            "ERR004",
        ),
        row(
            "publish status of an unknown session",
            mstr(
                f,
                Method::GET,
                &format!(
                    "/api/datasets/{ds}/uploadSessions/0123456789ABCDEF0123456789ABCDEF/publishStatus"
                ),
                "",
            ),
            404,
            "ERR004",
        ),
        row(
            "cube instance of an unknown cube",
            mstr(
                f,
                Method::POST,
                "/api/v2/cubes/0123456789ABCDEF0123456789ABCDEF/instances",
                "{}",
            ),
            404,
            "ERR004",
        ),
        row(
            "cube instance: malformed JSON",
            mstr(
                f,
                Method::POST,
                &format!("/api/v2/cubes/{ds}/instances"),
                "{\"requestedObjects\": ",
            ),
            400,
            "ERR004",
        ),
        row(
            "cube instance: unknown instance",
            mstr(
                f,
                Method::GET,
                &format!("/api/v2/cubes/{ds}/instances/0123456789ABCDEF0123456789ABCDEF"),
                "",
            ),
            404,
            "ERR004",
        ),
        row(
            "object delete without a type",
            mstr(f, Method::DELETE, &format!("/api/objects/{ds}"), ""),
            400,
            "ERR004",
        ),
        row(
            "unknown predefined folder",
            mstr(f, Method::GET, "/api/folders/preDefined/notakind", ""),
            400,
            "ERR004",
        ),
        row(
            "unknown endpoint",
            mstr(f, Method::GET, "/api/nothing/here", ""),
            404,
            "ERR004",
        ),
        row(
            "wrong method on an endpoint",
            mstr(f, Method::DELETE, "/api/datasets/models", ""),
            405,
            "ERR004",
        ),
        row(
            "Host naming another server",
            Wire::Raw(
                b"GET /MicroStrategyLibrary/api/status HTTP/1.1\r\nHost: evil.example\r\n\r\n"
                    .to_vec(),
            ),
            403,
            "ERR003",
        ),
        row(
            "truncated body (Content-Length lies)",
            raw(
                f,
                &format!("PUT /MicroStrategyLibrary{chunk_path}"),
                &format!("{token}Content-Type: application/json\r\nContent-Length: 500\r\n"),
                chunk("items", 1, &b64(BASE_ROWS)).as_bytes(),
            ),
            400,
            "ERR004",
        ),
        row(
            "header section over the limit",
            raw(
                f,
                "GET /MicroStrategyLibrary/api/status",
                &format!("X-Big: {}\r\n", "h".repeat(1 << 20)),
                b"",
            ),
            431,
            "",
        ),
        row(
            "malformed Content-Length",
            raw(
                f,
                &format!("PUT /MicroStrategyLibrary{chunk_path}"),
                &format!("{token}Content-Length: lots\r\n"),
                b"{}",
            ),
            400,
            "",
        ),
        row(
            "chunk with a wrong Content-Type",
            http(
                Method::PUT,
                format!("{}{chunk_path}", f.base),
                &[
                    ("X-MSTR-AuthToken", &f.token),
                    ("X-MSTR-ProjectID", PROJECT),
                    ("Content-Type", "text/csv"),
                ],
                b"1,a,1.0\n",
            ),
            400,
            "ERR004",
        ),
    ]
}

/// The Veracity rows.
fn veracity_rows(f: &Fixture) -> Vec<Row> {
    let token_url = format!("{}/dnvglb2cprod.onmicrosoft.com/oauth2/token", f.root);
    let form = |s: &str| {
        http(
            Method::POST,
            token_url.clone(),
            &[("Content-Type", "application/x-www-form-urlencoded")],
            s.as_bytes(),
        )
    };
    let t = f.vtoken.as_str();
    let vds = &f.vds;
    let id = pushdata_server::DEFAULT_VERACITY_CLIENT_ID;
    let no_key = http(
        Method::GET,
        format!("{}{GATEWAY}/workspaces/{WS}/ingest/job/x/status", f.root),
        &[("Authorization", &format!("Bearer {t}"))],
        b"",
    );
    let other_folder = FileUrl {
        base: f.sas_b.base.clone(),
        sas: f.sas_a.sas.clone(),
    };
    let tampered = FileUrl {
        base: f.sas_a.base.clone(),
        sas: f.sas_a.sas.replace("sig=", "sig=AAAA"),
    };
    let escaped = FileUrl {
        base: format!("{}/../../../../etc/passwd", f.sas_a.base),
        sas: f.sas_a.sas.clone(),
    };
    let no_sas = FileUrl {
        base: f.sas_a.base.clone(),
        sas: "x=1".to_string(),
    };
    let a = f.a_len;
    vec![
        row(
            "token: wrong grant type",
            form(&format!(
                "grant_type=password&client_id={id}&client_secret=x"
            )),
            400,
            "unsupported_grant_type",
        ),
        row(
            "token: missing fields",
            form("grant_type=client_credentials"),
            400,
            "invalid_request",
        ),
        row(
            "token: wrong secret",
            form(&format!(
                "grant_type=client_credentials&client_id={id}&client_secret=wrong"
            )),
            401,
            "invalid_client",
        ),
        row(
            "token: unknown client",
            form("grant_type=client_credentials&client_id=nobody&client_secret=x"),
            400,
            "unauthorized_client",
        ),
        row(
            "token: body over the limit",
            form(&format!("grant_type={}", "x".repeat(3 << 20))),
            400,
            "invalid_request",
        ),
        row("gateway: no subscription key", no_key, 401, "401"),
        row(
            "gateway: wrong bearer token",
            gw(f, Method::GET, "/ingest/job/x/status", "not-a-token", ""),
            401,
            "401",
        ),
        row(
            "gateway: workspace that is not a UUID",
            http(
                Method::GET,
                format!(
                    "{}{GATEWAY}/workspaces/..%2F..%2Fetc/ingest/job/x/status",
                    f.root
                ),
                &[
                    (
                        "Ocp-Apim-Subscription-Key",
                        pushdata_server::DEFAULT_VERACITY_SUBSCRIPTION_KEY,
                    ),
                    ("Authorization", &format!("Bearer {t}")),
                ],
                b"",
            ),
            404,
            "NotFound",
        ),
        row(
            "schema: malformed JSON",
            gw(f, Method::POST, "/schemas/add", t, "{\"name\": "),
            400,
            "BusinessError",
        ),
        row(
            "schema: wrong types",
            gw(
                f,
                Method::POST,
                "/schemas/add",
                t,
                r#"{"name": 1, "columns": {}}"#,
            ),
            400,
            "BusinessError",
        ),
        row(
            "schema: unknown column type",
            gw(
                f,
                Method::POST,
                "/schemas/add",
                t,
                r#"{"name": "s", "columns": [{"name": "a", "type": "Blob"}]}"#,
            ),
            400,
            "BusinessError",
        ),
        row(
            "schema: unknown id",
            gw(
                f,
                Method::GET,
                "/schemas/0c0c0c0c-0000-4000-a000-000000000000",
                t,
                "",
            ),
            404,
            "NotFound",
        ),
        row(
            "register: unknown schema version",
            gw(
                f,
                Method::POST,
                "/ingest/dataset",
                t,
                r#"{"datasetName": "x", "schemaVersionId": "0c0c0c0c-0000-4000-a000-000000000000", "files": [{"fileName": "a.csv", "operation": "Create"}]}"#,
            ),
            404,
            "NotFound",
        ),
        row(
            "register: unknown dataset",
            gw(
                f,
                Method::PUT,
                "/ingest/dataset/0c0c0c0c-0000-4000-a000-000000000000",
                t,
                r#"{"files": [{"fileName": "a.csv", "operation": "Upsert"}]}"#,
            ),
            404,
            "NotFound",
        ),
        row(
            "register: file name escaping",
            gw(
                f,
                Method::PUT,
                &format!("/ingest/dataset/{vds}"),
                t,
                r#"{"files": [{"fileName": "../../x.csv", "operation": "Upsert"}]}"#,
            ),
            400,
            "BusinessError",
        ),
        row(
            "job start: unknown job",
            gw(
                f,
                Method::POST,
                "/ingest/job/0c0c0c0c-0000-4000-a000-000000000000/start",
                t,
                "",
            ),
            404,
            "NotFound",
        ),
        row(
            "query: unknown dataset",
            gw(
                f,
                Method::POST,
                "/datasets/0c0c0c0c-0000-4000-a000-000000000000/query",
                t,
                r#"{"pageIndex": 1, "pageSize": 10}"#,
            ),
            404,
            "NotFound",
        ),
        row(
            "query: malformed JSON",
            gw(
                f,
                Method::POST,
                &format!("/datasets/{vds}/query"),
                t,
                "{\"pageIndex\": ",
            ),
            400,
            "BusinessError",
        ),
        row(
            "query: wrong types",
            gw(
                f,
                Method::POST,
                &format!("/datasets/{vds}/query"),
                t,
                r#"{"pageIndex": "first", "pageSize": -1}"#,
            ),
            400,
            "BusinessError",
        ),
        row(
            "gateway: body over the limit",
            gw(
                f,
                Method::POST,
                "/schemas/add",
                t,
                &format!("{{\"name\": \"{}\"}}", "x".repeat(2 << 20)),
            ),
            400,
            "BusinessError",
        ),
        row(
            "gateway: wrong method",
            gw(f, Method::DELETE, "/schemas/add", t, ""),
            404,
            "NotFound",
        ),
        row(
            "gateway: unknown endpoint",
            gw(f, Method::GET, "/nothing", t, ""),
            404,
            "NotFound",
        ),
        row(
            "lake: no SAS",
            lake(
                Method::PATCH,
                &no_sas,
                &format!("action=append&position={a}"),
                b"x",
            ),
            403,
            "AuthenticationFailed",
        ),
        row(
            "lake: tampered signature",
            lake(
                Method::PATCH,
                &tampered,
                &format!("action=append&position={a}"),
                b"x",
            ),
            403,
            "AuthenticationFailed",
        ),
        row(
            "lake: a SAS for another folder",
            lake(
                Method::PATCH,
                &other_folder,
                "action=append&position=0",
                b"x",
            ),
            403,
            "AuthenticationFailed",
        ),
        row(
            "lake: path escaping the folder",
            lake(Method::PUT, &escaped, "resource=file", b""),
            403,
            "AuthenticationFailed",
        ),
        row(
            "lake: append inside the flushed bytes",
            lake(
                Method::PATCH,
                &f.sas_a,
                "action=append&position=3",
                b"2,two",
            ),
            400,
            "InvalidFlushPosition",
        ),
        row(
            "lake: append without a position",
            lake(Method::PATCH, &f.sas_a, "action=append", b"2,two"),
            400,
            "InvalidQueryParameterValue",
        ),
        row(
            "lake: flush at the wrong position",
            lake(
                Method::PATCH,
                &f.sas_a,
                &format!("action=flush&position={}", a + 1),
                b"",
            ),
            400,
            "InvalidFlushPosition",
        ),
        row(
            "lake: flush with a body",
            lake(
                Method::PATCH,
                &f.sas_a,
                &format!("action=flush&position={a}"),
                b"extra",
            ),
            400,
            "ContentLengthMustBeZero",
        ),
        row(
            "lake: unknown action",
            lake(Method::PATCH, &f.sas_a, "action=delete", b""),
            400,
            "InvalidQueryParameterValue",
        ),
        row(
            "lake: append after the job started",
            lake(
                Method::PATCH,
                &f.sas_started,
                &format!("action=append&position={}", BAD_QUOTING.len()),
                b"9,late",
            ),
            409,
            "OperationNotAllowedOnThePath",
        ),
        row(
            "lake: read (unsupported method)",
            lake(Method::GET, &f.sas_a, "", b""),
            404,
            "ResourceNotFound",
        ),
        row(
            "lake: append over the body limit",
            lake(
                Method::PATCH,
                &f.sas_a,
                &format!("action=append&position={a}"),
                &vec![b'x'; MAX_BODY + 1],
            ),
            413,
            "RequestBodyTooLarge",
        ),
    ]
}

/// Send one row's request; returns status and body (a raw connection the server closed
/// without an answer is status 0).
async fn send(client: &reqwest::Client, addr: SocketAddr, wire: &Wire) -> (u16, String) {
    match wire {
        Wire::Http {
            method,
            url,
            headers,
            body,
        } => {
            let mut r = client.request(method.clone(), url).body(body.clone());
            for (k, v) in headers {
                r = r.header(k, v);
            }
            let resp = r.send().await.unwrap();
            let status = resp.status().as_u16();
            (status, resp.text().await.unwrap_or_default())
        }
        Wire::Raw(bytes) => {
            let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
            // The server may answer (and close) before it has read everything.
            let _ = s.write_all(bytes).await;
            let _ = s.shutdown().await;
            let mut out = Vec::new();
            let _ = tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut out)).await;
            parse_raw(&out)
        }
    }
}

/// Status and body of a raw HTTP/1.1 answer.
fn parse_raw(out: &[u8]) -> (u16, String) {
    let text = String::from_utf8_lossy(out);
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

/// Every committed file of the data directory (the staging area and the lock left out),
/// as path → bytes digest.
fn digest(dir: &Path) -> BTreeMap<String, u64> {
    use std::hash::{Hash, Hasher};
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            let p = e.path();
            let rel = p.strip_prefix(dir).unwrap().display().to_string();
            if rel.starts_with("staging") || rel.ends_with(".lock") {
                continue;
            }
            if e.file_type().unwrap().is_dir() {
                stack.push(p);
            } else {
                let mut h = std::collections::hash_map::DefaultHasher::new();
                std::fs::read(&p).unwrap().hash(&mut h);
                out.insert(rel, h.finish());
            }
        }
    }
    out
}

/// The digest once the data directory has stopped changing (a failed job finalises its
/// record and removes its upload just after its status turns terminal).
async fn settled_digest(dir: &Path) -> BTreeMap<String, u64> {
    let mut last = digest(dir);
    let mut same = 0;
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let now = digest(dir);
        same = if now == last { same + 1 } else { 0 };
        if same == 3 && !now.keys().any(|k| k.contains(".tmp-")) {
            return now;
        }
        last = now;
    }
    panic!("the data directory never settled: {last:?}");
}

/// Register a job on the Veracity dataset; returns its id and the URL of its file.
async fn register_file(v: &V, vds: &str) -> (String, FileUrl) {
    let r = v.register(To::Existing(vds), "Upsert", false).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let reg: IngestResponse = serde_json::from_str(&r.body).unwrap();
    (
        reg.job_id,
        FileUrl::new(reg.sas_token.expose(), "ImportData.csv"),
    )
}

/// One server, both services, the state every row aims at.
async fn fixture(dir: &Path) -> (Fixture, V) {
    let config = ServerConfig::new(dir)
        .with_addr("127.0.0.1:0".parse().unwrap())
        .with_user("administrator", "")
        .with_user("bob", "bobs password")
        .with_max_body_bytes(MAX_BODY)
        .with_body_idle_timeout(Duration::from_secs(2));
    let h = Server::start(config).await.unwrap();
    let api = Api::login(&h).await;
    let bob = Api::login_as(&h, "bob", "bobs password").await;
    let dead = Api::login(&h).await;
    let r = dead.send(Method::POST, "/api/auth/logout", None, &[]).await;
    assert_eq!(r.status, 204, "{}", r.body);
    let ds = api.create_model(&items_model("bad-input")).await;
    api.push(&ds, &[("items", "replace", BASE_ROWS)]).await;
    let items = json!([{"name": "items", "updatePolicy": "add"}]);
    let published_sid = api.open_session(&ds, &items).await;
    let r = api
        .put_chunk(&ds, &published_sid, "items", 1, r#"[[4,"d",4.0]]"#)
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        api.publish_and_wait(&ds, &published_sid)
            .await
            .status
            .is_ready()
    );
    let open_sid = api.open_session(&ds, &items).await;
    let (addr, base) = (h.addr(), h.base_url().to_string());
    let v = veracity_common::connect(h).await;
    let vds = v.dataset(keyed_columns(), VERACITY_CSV).await;
    let (_, sas_a) = register_file(&v, &vds).await;
    assert_eq!(sas_a.create(&v).await.status, 201);
    let first = b"Id,Name,Value,TS,Ok\n";
    assert_eq!(sas_a.append(&v, 0, first.to_vec()).await.status, 202);
    assert_eq!(sas_a.flush(&v, first.len()).await.status, 200);
    let (_, sas_b) = register_file(&v, &vds).await;
    let (job, sas_started) = register_file(&v, &vds).await;
    // Bad quoting: the job fails, the dataset stays as it was.
    let bad_quoting = BAD_QUOTING;
    assert_eq!(sas_started.create(&v).await.status, 201);
    let r = sas_started
        .append(&v, 0, bad_quoting.as_bytes().to_vec())
        .await;
    assert_eq!(r.status, 202, "{}", r.body);
    let r = sas_started.flush(&v, bad_quoting.len()).await;
    assert_eq!(r.status, 200, "{}", r.body);
    v.start_job(&job).await;
    assert!(!v.wait(&job).await.status.is_success());
    let upload = dir.join("veracity/uploads").join(format!("{job}.csv"));
    for _ in 0..500 {
        if !upload.exists() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let f = Fixture {
        addr,
        base,
        root: v.root.clone(),
        token: api.token.clone().unwrap(),
        bob_token: bob.token.clone().unwrap(),
        dead_token: dead.token.clone().unwrap(),
        ds,
        open_sid,
        published_sid,
        vds,
        vtoken: v.token.clone(),
        sas_a,
        sas_b,
        sas_started,
        a_len: first.len(),
    };
    (f, v)
}

#[tokio::test]
async fn malformed_requests_get_4xx_and_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (f, v) = fixture(dir.path()).await;
    let api = Api {
        client: reqwest::Client::new(),
        base: f.base.clone(),
        token: Some(f.token.clone()),
        project: Some(PROJECT.to_string()),
    };
    let mstr_before = stored(dir.path(), &f.ds, "items");
    let veracity_before = v.rows(&f.vds, "Id").await;
    let files_before = settled_digest(dir.path()).await;
    let rows: Vec<Row> = mstr_rows(&f).into_iter().chain(veracity_rows(&f)).collect();
    let client = reqwest::Client::new();
    let mut failures = Vec::new();
    for r in &rows {
        let (status, body) = send(&client, f.addr, &r.wire).await;
        let code = error_code(&body);
        if status != r.status || code != r.code {
            failures.push(format!(
                "{}: got {status} {code:?}, expected {} {:?}: {body:.300}",
                r.name, r.status, r.code
            ));
        }
        api.assert_alive().await;
        let now = digest(dir.path());
        let changed: Vec<&String> = now
            .keys()
            .chain(files_before.keys())
            .filter(|k| now.get(*k) != files_before.get(*k))
            .collect();
        assert!(
            changed.is_empty(),
            "after {:?}: changed {changed:?}",
            r.name
        );
    }
    println!("bad_input rows tried: {}", rows.len());
    assert!(
        failures.is_empty(),
        "{} rows failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(rows.len() >= 40);
    assert_eq!(stored(dir.path(), &f.ds, "items"), mstr_before);
    assert_eq!(v.rows(&f.vds, "Id").await, veracity_before);
}

/// A client that trickles its body (a byte at a time, each well inside the idle timeout)
/// is cut off by the body deadline with 408 or a closed connection, and the server serves
/// others all along.
#[tokio::test]
async fn a_trickling_body_times_out_and_others_are_served() {
    let dir = tempfile::tempdir().unwrap();
    let config = ServerConfig::new(dir.path())
        .with_addr("127.0.0.1:0".parse().unwrap())
        .with_body_idle_timeout(Duration::from_secs(1))
        .with_body_deadline(Duration::from_secs(3));
    let h = Server::start(config).await.unwrap();
    let api = Api::login(&h).await;
    let ds = api.create_model(&items_model("trickle")).await;
    let sid = api
        .open_session(&ds, &json!([{"name": "items", "updatePolicy": "add"}]))
        .await;
    let body = chunk("items", 1, &b64(BASE_ROWS));
    let head = format!(
        "PUT /MicroStrategyLibrary/api/datasets/{ds}/uploadSessions/{sid} HTTP/1.1\r\nHost: {}\r\nX-MSTR-AuthToken: {}\r\nX-MSTR-ProjectID: {PROJECT}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        h.addr(),
        api.token.as_deref().unwrap(),
        body.len() + 1000
    );
    let mut s = tokio::net::TcpStream::connect(h.addr()).await.unwrap();
    s.write_all(head.as_bytes()).await.unwrap();
    let started = std::time::Instant::now();
    let (mut rd, mut wr) = s.into_split();
    let trickle = tokio::spawn(async move {
        for b in body.bytes().cycle() {
            if wr.write_all(&[b]).await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    });
    let answer = tokio::spawn(async move {
        let mut out = Vec::new();
        let _ = rd.read_to_end(&mut out).await;
        out
    });
    // Others are served while the trickle goes on.
    for _ in 0..5 {
        api.assert_alive().await;
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let out = tokio::time::timeout(Duration::from_secs(20), answer)
        .await
        .expect("the trickling client still holds its connection after 20 s")
        .unwrap();
    trickle.abort();
    let waited = started.elapsed();
    let (status, body) = parse_raw(&out);
    assert!(
        status == 408 || (status == 0 && out.is_empty()),
        "got {status}: {body}"
    );
    if status == 408 {
        assert_eq!(error_code(&body), "ERR001");
    }
    assert!(waited >= Duration::from_secs(3), "{waited:?}");
    api.assert_alive().await;
    // The session still takes a good chunk: the trickle staged nothing.
    let r = api.put_chunk(&ds, &sid, "items", 1, BASE_ROWS).await;
    assert_eq!(r.status, 200, "{}", r.body);
    h.shutdown().await.unwrap();
}
