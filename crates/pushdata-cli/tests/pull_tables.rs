//! `pushdata pull` of a multi-table dataset (issue 12, defect 7): an order of a shop the
//! `Shops` table lacks is read with a null city, and `--table` writes one table's stored
//! rows exactly. The dataset is made with the library on the data directory the CLI's
//! embedded server then serves (over HTTP on loopback).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, Int64Type};
use arrow_array::{Array, Float64Array, Int64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use common::{json_line, pushdata};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use pushdata_arrow::{ModelOptions, Push};
use pushdata_core::wire::UpdatePolicy;
use pushdata_core::{Client, Credentials};
use pushdata_server::{Server, ServerConfig};
use serde_json::Value;
use tempfile::TempDir;

fn run_json(cwd: &Path, args: &[&str]) -> Value {
    json_line(pushdata(cwd), args)
}

fn read(path: &Path) -> Vec<RecordBatch> {
    ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(path).unwrap())
        .unwrap()
        .build()
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

fn orders_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("shop_id", DataType::Int64, false),
        Field::new("product", DataType::Utf8, true),
        Field::new("amount", DataType::Float64, true),
    ]))
}

fn orders(shops: Vec<i64>, products: Vec<&str>, amounts: Vec<f64>) -> RecordBatch {
    RecordBatch::try_new(
        orders_schema(),
        vec![
            Arc::new(Int64Array::from(shops)),
            Arc::new(StringArray::from(products)),
            Arc::new(Float64Array::from(amounts)),
        ],
    )
    .unwrap()
}

/// Shops(shop_id, city) and Orders(shop_id, product, amount), attribute `shop` with its ID
/// form in both and its DESC form in Shops; an order of shop 40 (not in Shops) upserted.
/// Made in `<dir>/.pushdata`; returns the dataset id.
fn make_dataset(dir: &Path) -> String {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let server = Server::start(ServerConfig::new(dir.join(".pushdata")))
            .await
            .unwrap();
        let client = Client::builder(server.base_url()).build().unwrap();
        client
            .login(Credentials::standard("administrator", ""))
            .await
            .unwrap();
        client
            .select_project("MicroStrategy Tutorial")
            .await
            .unwrap();
        let shops_schema: SchemaRef = Arc::new(Schema::new(vec![
            Field::new("shop_id", DataType::Int64, false),
            Field::new("city", DataType::Utf8, true),
        ]));
        let shops = RecordBatch::try_new(
            shops_schema.clone(),
            vec![
                Arc::new(Int64Array::from(vec![10, 20])),
                Arc::new(StringArray::from(vec!["Paris", "Rome"])),
            ],
        )
        .unwrap();
        let first = orders(
            vec![10, 10, 20],
            vec!["pen", "pen", "ink"],
            vec![1.0, 1.0, 2.0],
        );
        let report = Push::create(client.clone(), "shops")
            .with_memory_table("Shops", shops_schema, vec![shops])
            .with_memory_table("Orders", orders_schema(), vec![first])
            .with_model_options(
                ModelOptions::default()
                    .with_form("shop", "shop_id", "ID")
                    .with_form("shop", "city", "DESC"),
            )
            .execute()
            .await
            .unwrap();
        Push::into_dataset(client.clone(), &report.dataset_id)
            .with_memory_table(
                "Orders",
                orders_schema(),
                vec![orders(vec![40], vec!["cup"], vec![8.0])],
            )
            .with_model_options(ModelOptions::default().with_form("shop", "shop_id", "ID"))
            .with_policy(UpdatePolicy::Upsert)
            .execute()
            .await
            .unwrap();
        server.shutdown().await.unwrap();
        report.dataset_id
    })
}

#[test]
fn pull_reads_an_order_of_a_shop_missing_from_shops_with_a_null_city() {
    let tmp = TempDir::new().unwrap();
    let id = make_dataset(tmp.path());
    let out = tmp.path().join("all.parquet");
    let v = run_json(tmp.path(), &["pull", &id, "-o", out.to_str().unwrap()]);
    assert_eq!(v["rows"], 3, "{v}");
    let names: Vec<&str> = v["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["shop@ID", "shop@DESC", "product", "amount"]);
    let mut rows = Vec::new();
    for b in read(&out) {
        let shop = b.column(0).as_primitive::<Int64Type>();
        let city = b.column(1).as_string::<i32>();
        let amount = b.column(3).as_primitive::<Float64Type>();
        for i in 0..b.num_rows() {
            let city = city.is_valid(i).then(|| city.value(i).to_string());
            rows.push((shop.value(i), city, amount.value(i)));
        }
    }
    rows.sort_by(|a, b| a.partial_cmp(b).unwrap());
    assert_eq!(
        rows,
        vec![
            (10, Some("Paris".to_string()), 2.0),
            (20, Some("Rome".to_string()), 2.0),
            (40, None, 8.0),
        ]
    );
}

#[test]
fn pull_table_writes_every_stored_row() {
    let tmp = TempDir::new().unwrap();
    let id = make_dataset(tmp.path());
    let out = tmp.path().join("orders.parquet");
    let v = run_json(
        tmp.path(),
        &[
            "pull",
            &id,
            "--table",
            "Orders",
            "-o",
            out.to_str().unwrap(),
            "--page-size",
            "3",
        ],
    );
    assert_eq!(
        (v["rows"].as_u64(), v["pages"].as_u64()),
        (Some(4), Some(2)),
        "{v}"
    );
    assert_eq!(
        v["columns"],
        serde_json::json!([
            {"name": "shop_id", "arrowType": "Int64"},
            {"name": "product", "arrowType": "Utf8"},
            {"name": "amount", "arrowType": "Float64"}
        ])
    );
    let mut rows = Vec::new();
    for b in read(&out) {
        let shop = b.column(0).as_primitive::<Int64Type>();
        let product = b.column(1).as_string::<i32>();
        let amount = b.column(2).as_primitive::<Float64Type>();
        for i in 0..b.num_rows() {
            rows.push((shop.value(i), product.value(i).to_string(), amount.value(i)));
        }
    }
    // Stored order; the two equal rows (a grouped read merges them) both there.
    let stored: Vec<(i64, String, f64)> = vec![
        (10, "pen".into(), 1.0),
        (10, "pen".into(), 1.0),
        (20, "ink".into(), 2.0),
        (40, "cup".into(), 8.0),
    ];
    assert_eq!(rows, stored);
    // --table with --attribute is a usage error.
    pushdata(tmp.path())
        .args([
            "pull",
            &id,
            "--table",
            "Orders",
            "--attribute",
            "shop",
            "-o",
        ])
        .arg(tmp.path().join("x.parquet"))
        .assert()
        .code(2);
}
