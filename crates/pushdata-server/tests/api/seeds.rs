//! The API docs' sample requests replayed verbatim, and both workflows end to end.

use reqwest::Method;

use crate::common::*;

const LOGIN: &str = include_str!("../fixtures/seed_login.json");
const CREATE: &str = include_str!("../fixtures/seed_create_dataset.json");
const UPDATE: &str = include_str!("../fixtures/seed_update_table.json");
const MODEL: &str = include_str!("../fixtures/seed_model.json");
const SESSION: &str = include_str!("../fixtures/seed_upload_session.json");
const CHUNK: &str = include_str!("../fixtures/seed_chunk.json");

#[tokio::test]
async fn single_request_workflow_replays_the_seed_samples() {
    let dir = tempfile::tempdir().unwrap();
    let h = start(dir.path()).await;
    let mut api = Api::new(&h);
    api.project = None;

    // Log in with the sample body: 204, token header, session cookie.
    let r = api
        .send(
            Method::POST,
            "/api/auth/login",
            Some(LOGIN),
            &[("Accept", "application/json")],
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.body);
    let token = r.headers["x-mstr-authtoken"].to_str().unwrap().to_string();
    assert!(token.len() >= 32);
    assert!(
        r.headers["set-cookie"]
            .to_str()
            .unwrap()
            .starts_with("JSESSIONID=")
    );
    api.token = Some(token);

    // Projects: the sample's project id is listed.
    let r = api.get("/api/projects").await;
    assert_eq!(r.status, 200);
    let projects = r.json();
    let project = projects[0]["id"].as_str().unwrap().to_string();
    assert_eq!(project, PROJECT);
    assert_eq!(projects[0]["name"], "MicroStrategy Tutorial");
    api.project = Some(project);

    // Create with the sample body (row objects, "string" data type, 1000.00 doubles).
    let r = api
        .send(Method::POST, "/api/datasets", Some(CREATE), &[])
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let created = r.json();
    let ds = created["datasetId"].as_str().unwrap().to_string();
    assert_eq!(ds.len(), 32);
    assert!(
        ds.bytes()
            .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase())
    );
    assert_eq!(created["name"], "SALES_TABLE");
    assert_eq!(created["tables"][0]["name"], "SALES_TABLE");
    let table_id = created["tables"][0]["id"].as_str().unwrap().to_string();
    assert_eq!(
        stored(dir.path(), &ds, "SALES_TABLE"),
        vec![
            "2015|1|Books|1000.0|2000.0",
            "2016|2|Movies|2000.0|3000.0",
            "2017|3|Musics|3000.0|4000.0",
            "2018|4|Electronics|4000.0|5000.0",
        ]
    );

    // PATCH with the update sample and `updatePolicy: Replace`, table by id.
    let r = api
        .send(
            Method::PATCH,
            &format!("/api/datasets/{ds}/tables/{table_id}"),
            Some(UPDATE),
            &[("updatePolicy", "Replace")],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        stored(dir.path(), &ds, &table_id),
        vec![
            "2015|1|Books|1000.0|2000.0",
            "2016|5|Movies|2000.0|3000.0",
            "2017|3|Musics|6000.0|4000.0",
            "2019|4|Electronics|6000.0|6000.0",
        ]
    );

    // Same sample with upsert, table by name: keys are Year + Category_ID + Category_DESC
    // (all attribute forms), so nothing changes value-wise and no duplicates appear.
    let r = api
        .send(
            Method::PATCH,
            &format!("/api/datasets/{ds}/tables/SALES_TABLE"),
            Some(UPDATE),
            &[("updatePolicy", "upsert")],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(stored(dir.path(), &ds, "SALES_TABLE").len(), 4);

    // Log out kills the token.
    let r = api.send(Method::POST, "/api/auth/logout", None, &[]).await;
    assert_eq!(r.status, 204);
    api.get("/api/projects")
        .await
        .assert_error(401, &["log in"]);
    h.shutdown().await.unwrap();
}

#[tokio::test]
async fn multi_request_workflow_replays_the_seed_samples() {
    let dir = tempfile::tempdir().unwrap();
    let h = start(dir.path()).await;
    let api = Api::login(&h).await;

    let r = api
        .send(Method::POST, "/api/datasets/models", Some(MODEL), &[])
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let ds = r.json()["id"].as_str().unwrap().to_string();
    assert_eq!(r.json()["name"], "testModel");

    let r = api
        .send(
            Method::POST,
            &format!("/api/datasets/{ds}/uploadSessions"),
            Some(SESSION),
            &[],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let sid = r.json()["uploadSessionId"].as_str().unwrap().to_string();
    assert_eq!(sid.len(), 32);

    // The sample chunk: "index": "1", ROW orientation, date "2017-12-4".
    let r = api
        .send(
            Method::PUT,
            &format!("/api/datasets/{ds}/uploadSessions/{sid}"),
            Some(CHUNK),
            &[],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);

    let st = api.publish_and_wait(&ds, &sid).await;
    assert_eq!(st.status.0, 1, "{st:?}");
    assert_eq!(st.message, "result ready");
    assert_eq!(st.upload_session_id, sid);

    assert_eq!(
        stored(dir.path(), &ds, "table1"),
        vec!["1|2017-12-04|11:00:00|Books|100.52"]
    );
    assert!(stored(dir.path(), &ds, "table2").is_empty());

    // The published session takes no more chunks (409), DELETE ends it, then 404.
    let r = api
        .send(
            Method::PUT,
            &format!("/api/datasets/{ds}/uploadSessions/{sid}"),
            Some(CHUNK),
            &[],
        )
        .await;
    r.assert_error(409, &["already published"]);
    let r = api
        .send(
            Method::DELETE,
            &format!("/api/datasets/{ds}/uploadSessions/{sid}"),
            None,
            &[],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    api.get(&format!(
        "/api/datasets/{ds}/uploadSessions/{sid}/publishStatus"
    ))
    .await
    .assert_error(404, &[&sid]);

    // The definition lists tables and columns.
    let def = api
        .get(&format!("/api/datasets/{ds}?fields=tables&fields=columns"))
        .await
        .json();
    let objects = &def["result"]["definition"]["availableObjects"];
    assert_eq!(objects["tables"][0]["name"], "table1");
    assert_eq!(objects["tables"][0]["rowCount"], 1);
    assert_eq!(objects["columns"].as_array().unwrap().len(), 8);
    assert_eq!(objects["columns"][0]["columnName"], "ID");
    assert_eq!(objects["columns"][0]["tableName"], "table1");
    h.shutdown().await.unwrap();
}

#[tokio::test]
async fn column_orientation_all_types_and_parallel_chunks() {
    let dir = tempfile::tempdir().unwrap();
    let h = start(dir.path()).await;
    let api = Api::login(&h).await;
    let ds = api
        .create_model(&serde_json::json!({
            "name": "types",
            "tables": [{"name": "t", "columnHeaders": [
                {"name": "s", "dataType": "STRING"},
                {"name": "i", "dataType": "INTEGER"},
                {"name": "bi", "dataType": "BIGINTEGER"},
                {"name": "b", "dataType": "BOOL"},
                {"name": "d", "dataType": "DOUBLE"},
                {"name": "dec", "dataType": "BIGDECIMAL"},
                {"name": "dt", "dataType": "DATE"},
                {"name": "tm", "dataType": "TIME"},
                {"name": "ts", "dataType": "DATETIME"}]}],
            "attributes": [{"name": "s", "attributeForms": [{"category": "ID",
                "expressions": [{"tableName": "t", "columnName": "s"}]}]}],
            "metrics": []
        }))
        .await;
    let sid = api
        .open_session(
            &ds,
            &serde_json::json!([{"name": "t", "updatePolicy": "replace", "orientation": "COLUMN"}]),
        )
        .await;
    // Chunks sent in parallel and out of order; index 2 is sent twice (the retry wins).
    let c1 = r#"[["x",null],[1,-2],[9007199254740993,null],[true,false],[1.5,null],[-12.340,"18446744073709551615"],["2020-02-29",null],["23:59:59.123456",null],["2020-01-01T00:00:00.000","2020-01-01 10:00:00+02:00"]]"#;
    let c2_bad_retry = r#"[["dropped"],[0],[0],[0],[0],[0],[null],[null],[null]]"#;
    let c2 = r#"[["y"],[3.0],["42"],["false"],[2],[1e2],["2021-1-2"],["00:00:01"],["1999-12-31T23:59:59Z"]]"#;
    let (a, b) = tokio::join!(
        api.put_chunk(&ds, &sid, "t", 2, c2_bad_retry),
        api.put_chunk(&ds, &sid, "t", 1, c1)
    );
    assert_eq!((a.status, b.status), (200, 200), "{} {}", a.body, b.body);
    let r = api.put_chunk(&ds, &sid, "t", 2, c2).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let st = api.publish_and_wait(&ds, &sid).await;
    assert!(st.status.is_ready(), "{st:?}");
    assert_eq!(
        stored(dir.path(), &ds, "t"),
        vec![
            "x|1|9007199254740993|true|1.5|-12.340|2020-02-29|23:59:59.123456|2020-01-01T00:00:00",
            "|-2||false||18446744073709551615.000|||2020-01-01T08:00:00",
            "y|3|42|false|2.0|100.000|2021-01-02|00:00:01|1999-12-31T23:59:59",
        ]
    );
    h.shutdown().await.unwrap();
}

#[tokio::test]
async fn big_decimals_stay_exact_across_chunks_and_publishes() {
    let dir = tempfile::tempdir().unwrap();
    let h = start(dir.path()).await;
    let api = Api::login(&h).await;
    let ds = api
        .create_model(&serde_json::json!({
            "name": "dec",
            "tables": [{"name": "t", "columnHeaders": [
                {"name": "k", "dataType": "INTEGER"},
                {"name": "amount", "dataType": "BIGDECIMAL"}]}],
            "attributes": [{"name": "k", "attributeForms": [{"category": "ID",
                "expressions": [{"tableName": "t", "columnName": "k"}]}]}],
            "metrics": [{"name": "amount", "expressions": [{"tableName": "t", "columnName": "amount"}]}]
        }))
        .await;
    api.push(&ds, &[("t", "replace", r#"[[1,0.1],[2,"-12.340"]]"#)])
        .await;
    let b = pushdata_server::read_table(dir.path(), &ds, "t").unwrap();
    assert_eq!(
        b[0].schema().field(1).data_type(),
        &arrow_schema::DataType::Decimal128(38, 3)
    );
    // Stored as the digits the values need (5 at scale 3): a 64-bit Parquet integer.
    assert_eq!(
        stored_physical_types(dir.path()),
        vec![parquet::basic::Type::INT32, parquet::basic::Type::INT32]
    );
    // 20 digits no longer fit 64 bits: 16-byte decimals, still exact.
    api.push(&ds, &[("t", "add", r#"[[4,"12345678901234567.891"]]"#)])
        .await;
    assert_eq!(
        stored_physical_types(dir.path()),
        vec![
            parquet::basic::Type::INT32,
            parquet::basic::Type::FIXED_LEN_BYTE_ARRAY
        ]
    );
    assert_eq!(
        stored(dir.path(), &ds, "t"),
        vec!["1|0.100", "2|-12.340", "4|12345678901234567.891"]
    );
    // A 40-digit value in a later upsert widens the column to Decimal256, exactly.
    api.push(
        &ds,
        &[(
            "t",
            "upsert",
            r#"[[3,1234567890123456789012345678901234567890.5],[1,0.25]]"#,
        )],
    )
    .await;
    let b = pushdata_server::read_table(dir.path(), &ds, "t").unwrap();
    assert_eq!(
        b[0].schema().field(1).data_type(),
        &arrow_schema::DataType::Decimal256(76, 3)
    );
    assert_eq!(
        stored(dir.path(), &ds, "t"),
        vec![
            "2|-12.340",
            "4|12345678901234567.891",
            "3|1234567890123456789012345678901234567890.500",
            "1|0.250"
        ]
    );
    h.shutdown().await.unwrap();
}

/// The Parquet physical types of the columns of the newest table file under `dir`.
fn stored_physical_types(dir: &std::path::Path) -> Vec<parquet::basic::Type> {
    use parquet::file::reader::FileReader;
    let mut files = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                todo.push(p);
            } else if p.extension().is_some_and(|x| x == "parquet") {
                files.push(p);
            }
        }
    }
    files.sort();
    let newest = files.last().expect("a table file");
    let r = parquet::file::reader::SerializedFileReader::new(std::fs::File::open(newest).unwrap())
        .unwrap();
    r.metadata()
        .file_metadata()
        .schema_descr()
        .columns()
        .iter()
        .map(|c| c.physical_type())
        .collect()
}
