//! Every JSON sample of the API documents (/work/shared/seeds 001 and 003), copied verbatim
//! into `tests/fixtures/`, parsed into its wire type, written back, and compared with the
//! original (after canonicalizing what writing canonicalizes: the case of data types,
//! policies and orientations, and `index`/`status`/`loginMode` given as strings).
#![allow(clippy::unwrap_used)]

use std::fmt::Debug;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use pushdata_core::wire::{
    ChunkBody, ChunkRequest, CreateDatasetResponse, CreateModelResponse, DataType, DatasetCreator,
    DatasetModel, LoginMode, LoginRequest, Orientation, Project, PublishState, PublishStatus,
    TableCreator, UpdatePolicy, UploadSessionRequest, UploadSessionResponse,
};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// What writing does to a value that parsing accepts in several spellings.
fn canonicalize(v: &mut Value) {
    match v {
        Value::Object(map) => {
            for (key, value) in map.iter_mut() {
                match (key.as_str(), &*value) {
                    ("dataType" | "orientation", Value::String(s)) => {
                        *value = Value::String(s.to_ascii_uppercase());
                    }
                    ("updatePolicy", Value::String(s)) => {
                        *value = Value::String(s.to_ascii_lowercase());
                    }
                    ("index" | "status" | "loginMode", Value::String(s)) => {
                        *value = json!(s.trim().parse::<i64>().unwrap());
                    }
                    _ => canonicalize(value),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(canonicalize),
        _ => {}
    }
}

/// Parse the fixture into `T`, write it back, compare with the canonicalized original, and
/// check that re-parsing what was written gives the same value.
fn round_trip<T: Serialize + DeserializeOwned + PartialEq + Debug>(name: &str) -> T {
    let text = fixture(name);
    let mut expected: Value = serde_json::from_str(&text).unwrap();
    canonicalize(&mut expected);
    let parsed: T = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
    let written = serde_json::to_value(&parsed).unwrap();
    assert_eq!(
        written, expected,
        "{name}: written JSON differs from the sample"
    );
    let reparsed: T = serde_json::from_value(written).unwrap();
    assert_eq!(reparsed, parsed, "{name}: re-parse differs");
    parsed
}

fn decode_data(data: &str) -> Value {
    let bytes = STANDARD.decode(data).unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

fn assert_rows(rows: &Value, expected: &[(i64, i64, &str, f64, f64)]) {
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), expected.len());
    for (row, &(year, id, desc, cost, profit)) in rows.iter().zip(expected) {
        let obj = row.as_object().unwrap();
        assert_eq!(obj.len(), 5, "{row}");
        assert_eq!(obj["Year"].as_i64(), Some(year), "{row}");
        assert_eq!(obj["Category_ID"].as_i64(), Some(id), "{row}");
        assert_eq!(obj["Category_DESC"].as_str(), Some(desc), "{row}");
        assert_eq!(obj["Cost"].as_f64(), Some(cost), "{row}");
        assert_eq!(obj["Profit"].as_f64(), Some(profit), "{row}");
    }
}

#[test]
fn login_request() {
    let login: LoginRequest = round_trip("login_request.json");
    assert_eq!(login.login_mode, LoginMode::STANDARD);
    assert_eq!(login.username.as_deref(), Some("administrator"));
    assert_eq!(login.password.as_ref().map(|p| p.expose()), Some(""));
}

#[test]
fn projects_of_both_seeds() {
    for name in ["projects_001.json", "projects_003.json"] {
        let projects: Vec<Project> = round_trip(name);
        assert_eq!(projects.len(), 2);
        assert_eq!(projects[0].id, "B19DEDCC11D4E0EFC000EB9495D0F44F");
        assert_eq!(projects[0].name, "MicroStrategy Tutorial");
        assert_eq!(projects[0].alias.as_deref(), Some(""));
        assert_eq!(projects[0].status, Some(0));
        assert_eq!(projects[1].id, "AF09B3E3458F78B4FBE4DEB68528BF7B");
        assert_eq!(projects[1].name, "Human Resources Analysis Module");
    }
}

#[test]
fn dataset_creator_and_its_data() {
    let d: DatasetCreator = round_trip("dataset_creator_001.json");
    assert_eq!(d.name, "SALES_TABLE");
    assert_eq!(d.tables.len(), 1);
    let t = &d.tables[0];
    assert_eq!(t.name, "SALES_TABLE");
    let types: Vec<(&str, DataType)> = t
        .column_headers
        .iter()
        .map(|c| (c.name.as_str(), c.data_type))
        .collect();
    assert_eq!(
        types,
        [
            ("Year", DataType::Integer),
            ("Category_ID", DataType::Integer),
            ("Category_DESC", DataType::String),
            ("Cost", DataType::Double),
            ("Profit", DataType::Double),
        ]
    );
    assert_eq!(d.metrics.len(), 2);
    assert_eq!(d.metrics[0].name, "Cost");
    assert_eq!(d.metrics[0].data_type, Some(DataType::Double));
    assert_eq!(
        d.metrics[1].expressions[0].resolve(["SALES_TABLE"]),
        Some(("SALES_TABLE", "Profit"))
    );
    assert_eq!(d.attributes.len(), 2);
    let category = &d.attributes[1];
    assert_eq!(category.name, "category");
    assert_eq!(category.attribute_forms.len(), 2);
    assert_eq!(category.attribute_forms[1].category, "DESC");
    assert_eq!(
        category.attribute_forms[1].data_type,
        Some(DataType::String)
    );
    assert_eq!(
        category.attribute_forms[1].expressions[0].formula,
        "SALES_TABLE.Category_DESC"
    );

    assert_rows(
        &decode_data(&t.data),
        &[
            (2015, 1, "Books", 1000.0, 2000.0),
            (2016, 2, "Movies", 2000.0, 3000.0),
            (2017, 3, "Musics", 3000.0, 4000.0),
            (2018, 4, "Electronics", 4000.0, 5000.0),
        ],
    );
}

#[test]
fn create_dataset_response() {
    let r: CreateDatasetResponse = round_trip("create_dataset_response_001.json");
    assert_eq!(r.dataset_id, "105E10C94CF881BE3DDBA6B97E61FBC5");
    assert_eq!(r.name, "SALES_TABLE");
    assert_eq!(r.tables.len(), 1);
    assert_eq!(r.tables[0].id, "67DD8A4015E4C176A2517420A3D14666");
    assert_eq!(r.tables[0].name, "SALES_TABLE");
}

#[test]
fn patch_body_and_its_data() {
    let t: TableCreator = round_trip("table_creator_patch_001.json");
    assert_eq!(t.name, "SALES_TABLE");
    assert_eq!(t.column_headers.len(), 5);
    assert_eq!(t.column_headers[2].data_type, DataType::String);
    assert_rows(
        &decode_data(&t.data),
        &[
            (2015, 1, "Books", 1000.0, 2000.0),
            (2016, 5, "Movies", 2000.0, 3000.0),
            (2017, 3, "Musics", 6000.0, 4000.0),
            (2019, 4, "Electronics", 6000.0, 6000.0),
        ],
    );
}

#[test]
fn dataset_model() {
    let m: DatasetModel = round_trip("dataset_model_003.json");
    assert_eq!(m.name, "testModel");
    assert_eq!(
        m.description.as_deref(),
        Some("This is a dataset definition created by the Push Data API")
    );
    assert_eq!(m.tables.len(), 2);
    let t1: Vec<DataType> = m.tables[0]
        .column_headers
        .iter()
        .map(|c| c.data_type)
        .collect();
    assert_eq!(
        t1,
        [
            DataType::Integer,
            DataType::Date,
            DataType::Time,
            DataType::String,
            DataType::Double
        ]
    );
    assert_eq!(m.tables[1].column_headers[1].data_type, DataType::DateTime);
    assert_eq!(m.metrics.len(), 2);
    assert_eq!(m.metrics[1].expressions[0].table_name, "table2");
    assert_eq!(m.metrics[1].expressions[0].column_name, "Profit");
    let names: Vec<&str> = m.attributes.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(
        names,
        ["ID", "Date", "Time", "Category", "Year", "DateTime"]
    );
}

#[test]
fn create_model_response() {
    let r: CreateModelResponse = round_trip("create_model_response_003.json");
    assert_eq!(r.id, "D13539E5433CDB837363F086C6DA6B5C");
    assert_eq!(r.name, "testModel");
}

#[test]
fn upload_session_request_and_response() {
    let r: UploadSessionRequest = round_trip("upload_session_request_003.json");
    assert_eq!(r.tables.len(), 2);
    assert_eq!(r.tables[0].name, "table1");
    assert_eq!(r.tables[0].update_policy, UpdatePolicy::Replace);
    assert_eq!(r.tables[0].orientation, Some(Orientation::Row));
    assert_eq!(
        r.tables[0].column_headers.as_deref(),
        Some(&["ID", "Date", "Time", "Category", "Cost"].map(String::from)[..])
    );
    assert_eq!(r.tables[1].update_policy, UpdatePolicy::Add);

    let s: UploadSessionResponse = round_trip("upload_session_response_003.json");
    assert_eq!(s.upload_session_id, "9A4EE1C04C4EA20C8A976A8172034DD0");
}

#[test]
fn chunk_body_with_string_index() {
    let text = fixture("chunk_request_003.json");
    let chunk: ChunkRequest = serde_json::from_slice(text.as_bytes()).unwrap();
    assert_eq!(chunk.table_name, "table1");
    assert_eq!(chunk.index.0, 1);
    // Borrowed from the request bytes, not copied.
    assert!(matches!(chunk.data, std::borrow::Cow::Borrowed(_)));

    let mut expected: Value = serde_json::from_str(&text).unwrap();
    canonicalize(&mut expected);
    let written = serde_json::to_vec(&chunk).unwrap();
    assert_eq!(serde_json::from_slice::<Value>(&written).unwrap(), expected);
    let reparsed: ChunkRequest = serde_json::from_slice(&written).unwrap();
    assert_eq!(reparsed, chunk);

    // The client's in-place body says the same thing.
    let body = ChunkBody::from_base64("table1", 1, chunk.data.as_bytes());
    assert_eq!(
        serde_json::from_slice::<Value>(&body.to_bytes()).unwrap(),
        expected
    );

    assert_eq!(
        decode_data(&chunk.data),
        json!([[1, "2017-12-4", "11:00:00", "Books", 100.52]])
    );
}

#[test]
fn publish_status_samples() {
    let ready: PublishStatus = round_trip("publish_status_ready_003.json");
    assert_eq!(ready.upload_session_id, "D13539E5433CDB837363F086C6DA6B5C");
    assert_eq!(ready.status, PublishState::READY);
    assert!(ready.status.is_ready());
    assert_eq!(ready.message, "result ready");

    let running: PublishStatus = round_trip("publish_status_running_003.json");
    assert_eq!(running.status, PublishState::RUNNING);
    assert!(!running.status.is_ready());
    assert!(!running.status.is_failed());
    assert_eq!(running.message, "sql execution");
}
