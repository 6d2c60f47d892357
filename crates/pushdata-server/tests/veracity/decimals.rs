//! `Decimal` columns are exact: through a job, the store and the query endpoint (JSON
//! numbers with every digit), in filters and sorting; a value that does not fit fails the
//! job, naming its row and column, and leaves the dataset as it was.

use pushdata_core::veracity::wire::JobState;
use reqwest::Method;
use serde_json::{Value, json};

use crate::common::{To, V, start};

fn columns() -> Value {
    json!([
        {"name": "Id", "type": "Int64", "isKey": true},
        {"name": "Amount", "type": "Decimal"}
    ])
}

const CSV: &str =
    "Id,Amount\n1,123456789012345.678901\n2,-0.000001\n3,123456789012345.678902\n4,\n5,7\n";

/// The raw body of a query (rows as the server wrote them).
async fn query_body(v: &V, id: &str, body: Value) -> String {
    let r = v
        .gw(Method::POST, &format!("/datasets/{id}/query"), Some(body))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body
}

/// The `Id`s of a query's rows, in order.
async fn ids(v: &V, id: &str, body: Value) -> Vec<i64> {
    v.query(id, body)
        .await
        .rows()
        .unwrap()
        .iter()
        .map(|r| r["Id"].as_i64().unwrap())
        .collect()
}

#[tokio::test]
async fn decimals_round_trip_exactly_through_a_job_and_the_query() {
    let dir = tempfile::tempdir().unwrap();
    let v = start(dir.path()).await;
    let id = v.dataset(columns(), CSV).await;
    let body = query_body(
        &v,
        &id,
        json!({"pageIndex": 1, "pageSize": 10, "sorting": {"column": "Id", "order": "Ascending"}}),
    )
    .await;
    let page: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(page["pagination"]["totalCount"], 5);
    for row in [
        r#"{"Id":1,"Amount":123456789012345.678901}"#,
        r#"{"Id":2,"Amount":-0.000001}"#,
        r#"{"Id":3,"Amount":123456789012345.678902}"#,
        r#"{"Id":4,"Amount":null}"#,
        r#"{"Id":5,"Amount":7.000000}"#,
    ] {
        assert!(body.contains(row), "{row} not in {body}");
    }
    // An Upsert with a larger scale: every stored value keeps its digits.
    let up = v
        .ingest(To::Existing(&id), "Upsert", "Id,Amount\n5,0.12345678901\n")
        .await;
    assert_eq!(up.status, JobState::Completed, "{up:?}");
    let body = query_body(&v, &id, json!({"pageIndex": 1, "pageSize": 10})).await;
    for row in [
        r#"{"Id":1,"Amount":123456789012345.67890100000}"#,
        r#"{"Id":2,"Amount":-0.00000100000}"#,
        r#"{"Id":5,"Amount":0.12345678901}"#,
    ] {
        assert!(body.contains(row), "{row} not in {body}");
    }
}

#[tokio::test]
async fn filters_and_sorting_compare_decimals_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let v = start(dir.path()).await;
    let id = v.dataset(columns(), CSV).await;
    // Rows 1 and 3 differ in the 21st digit: the same 64-bit float.
    let filter = |op: &str, values: &[&str]| {
        json!({"pageIndex": 1, "pageSize": 10,
               "queryFilters": [{"column": "Amount", "filterType": op, "filterValues": values}],
               "sorting": {"column": "Id", "order": "Ascending"}})
    };
    let cases: [(&str, &[&str], &[i64]); 6] = [
        ("Equals", &["123456789012345.678901"], &[1]),
        ("Equals", &["123456789012345.6789010000"], &[1]),
        ("Greater", &["123456789012345.678901"], &[3]),
        ("LessOrEqual", &["123456789012345.678901"], &[1, 2, 5]),
        ("List", &["-0.000001", "7", "8"], &[2, 5]),
        ("Less", &["0"], &[2]),
    ];
    for (op, values, want) in cases {
        assert_eq!(
            ids(&v, &id, filter(op, values)).await,
            want,
            "{op} {values:?}"
        );
    }
    let sorted = ids(
        &v,
        &id,
        json!({"pageIndex": 1, "pageSize": 10, "sorting": {"column": "Amount", "order": "Descending"}}),
    )
    .await;
    assert_eq!(
        sorted,
        [3, 1, 5, 2, 4],
        "nulls sort first, so last descending"
    );
    let bad = v
        .gw(
            Method::POST,
            &format!("/datasets/{id}/query"),
            Some(filter("Equals", &["twelve"])),
        )
        .await;
    assert_eq!(bad.status, 400, "{}", bad.body);
}

#[tokio::test]
async fn a_decimal_that_does_not_fit_fails_the_job_and_leaves_the_dataset() {
    let dir = tempfile::tempdir().unwrap();
    let v = start(dir.path()).await;
    // 30 digits before the point are stored.
    let id = v
        .dataset(columns(), "Id,Amount\n1,123456789012345678901234567890\n")
        .await;
    let before = v.rows(&id, "Id").await;
    let cases = [
        // 39 digits in one value.
        (
            "Upsert",
            "Id,Amount\n2,1\n3,123456789012345678901234567890123456789\n",
            2,
        ),
        // 9 digits after the point: 30 + 9 is more than the 38 a Decimal holds (rows are
        // numbered from the first data row).
        ("Upsert", "Id,Amount\n2,0.5\n3,0.5\n4,0.123456789\n", 3),
        ("Upsert", "Id,Amount\n2,0.5\n3,12abc\n", 2),
        ("Upsert", "Id,Amount\n2,NaN\n", 1),
    ];
    for (op, csv, row) in cases {
        let s = v.ingest(To::Existing(&id), op, csv).await;
        assert_eq!(s.status, JobState::Failed, "{csv:?}: {s:?}");
        let issue = &s.validation_error[0];
        assert_eq!(
            (issue.row, issue.column.as_deref()),
            (Some(row), Some("Amount")),
            "{csv:?}: {issue:?}"
        );
        assert_eq!(
            v.rows(&id, "Id").await,
            before,
            "{csv:?} changed the dataset"
        );
    }
    // Overwrite does not keep the stored rows: the same 9 digits after the point fit.
    let over = v
        .ingest(To::Existing(&id), "Overwrite", "Id,Amount\n4,0.123456789\n")
        .await;
    assert_eq!(over.status, JobState::Completed, "{over:?}");
    assert_eq!(
        v.rows(&id, "Id").await,
        [r#"{"Amount":0.123456789,"Id":4}"#]
    );
}
