//! Dataset queries: paging, projection, filters, sorting, typed values.

use serde_json::{Value, json};

use crate::common::{keyed_columns, start};

const CSV: &str = "Id,Name,Value,TS,Ok\n1,alpha,1.5,2024-05-01T10:00:00,true\n2,beta,2.5,2024-05-02T10:00:00,false\n3,gamma,3.5,2024-05-03T10:00:00,true\n4,delta,,2024-05-04T10:00:00,false\n5,Alphabet,5,2024-05-05T10:00:00,true\n";

fn ids(page: &pushdata_core::veracity::wire::QueryPage) -> Vec<i64> {
    page.rows()
        .unwrap()
        .iter()
        .map(|r| r["Id"].as_i64().unwrap())
        .collect()
}

#[tokio::test]
async fn paging_projection_and_sorting() {
    let dir = tempfile::tempdir().unwrap();
    let v = start(dir.path()).await;
    let id = v.dataset(keyed_columns(), CSV).await;
    let p = v.query(&id, json!({"pageIndex": 2, "pageSize": 2, "sorting": {"column": "Id", "order": "Descending"}, "columnFilter": ["Id", "Ok"]})).await;
    assert_eq!(ids(&p), [3, 2]);
    assert_eq!(
        Value::Object(p.rows().unwrap()[0].clone()),
        json!({"Id": 3, "Ok": true})
    );
    assert_eq!(
        (
            p.pagination.page_index,
            p.pagination.page_size,
            p.pagination.total_pages,
            p.pagination.total_count
        ),
        (2, 2, 3, 5)
    );
    let last = v.query(&id, json!({"pageIndex": 3, "pageSize": 2, "sorting": {"column": "Id", "order": "Ascending"}})).await;
    assert_eq!(ids(&last), [5]);
    assert!(!last.has_next());
    let by_name = v.query(&id, json!({"pageIndex": 1, "pageSize": 10, "sorting": {"column": "Name", "order": "Ascending"}})).await;
    assert_eq!(ids(&by_name), [5, 1, 2, 4, 3]);
    let bad = v
        .gw(
            reqwest::Method::POST,
            &format!("/datasets/{id}/query"),
            Some(json!({"pageIndex": 1, "pageSize": 1, "columnFilter": ["Nope"]})),
        )
        .await;
    assert_eq!(bad.status, 400);
}

#[tokio::test]
async fn every_filter_operator() {
    let dir = tempfile::tempdir().unwrap();
    let v = start(dir.path()).await;
    let id = v.dataset(keyed_columns(), CSV).await;
    let cases: [(&str, &str, &[&str], &[i64]); 10] = [
        ("Id", "Equals", &["2"], &[2]),
        ("Id", "List", &["1", "3", "9"], &[1, 3]),
        ("Id", "NonFromList", &["1", "3"], &[2, 4, 5]),
        ("Value", "Greater", &["2.5"], &[3, 5]),
        ("Value", "GreaterOrEqual", &["2.5"], &[2, 3, 5]),
        ("Value", "Less", &["2.5"], &[1]),
        ("Value", "LessOrEqual", &["2.5"], &[1, 2]),
        ("Name", "StringContains", &["alpha"], &[1, 5]),
        ("TS", "Greater", &["2024-05-03"], &[3, 4, 5]),
        ("Ok", "Equals", &["false"], &[2, 4]),
    ];
    for (column, op, values, want) in cases {
        let p = v
            .query(&id, json!({"pageIndex": 1, "pageSize": 100, "queryFilters": [{"column": column, "filterType": op, "filterValues": values}], "sorting": {"column": "Id", "order": "Ascending"}}))
            .await;
        assert_eq!(ids(&p), want, "{column} {op} {values:?}");
    }
    let both = v
        .query(
            &id,
            json!({"pageIndex": 1, "pageSize": 100, "queryFilters": [
            {"column": "Ok", "filterType": "Equals", "filterValues": ["true"]},
            {"column": "Id", "filterType": "Greater", "filterValues": ["1"]}]}),
        )
        .await;
    assert_eq!(ids(&both), [3, 5]);
}
