#![allow(clippy::unwrap_used)]
//! Multi-table reads over HTTP against the reference server (issue 12, defect 7): the
//! elements of an attribute several tables hold are the union of theirs (MicroStrategy's
//! documented multi-table behaviour, KB254996), and `Pull::table` reads one table's stored
//! rows exactly.

use std::sync::Arc;

use arrow_array::*;
use arrow_schema::{DataType as A, Field, Schema, SchemaRef};
use pushdata_arrow::{Error, ModelOptions, Pull, Push};
use pushdata_core::wire::UpdatePolicy;

mod common;
use common::Env;

fn shops_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("shop_id", A::Int64, false),
        Field::new("city", A::Utf8, true),
    ]))
}

fn orders_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("shop_id", A::Int64, false),
        Field::new("product", A::Utf8, true),
        Field::new("amount", A::Float64, true),
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

/// mstrio-py's multi-table example: `Shops(shop_id, city)`, `Orders(shop_id, product,
/// amount)`, attribute `shop` with its ID form in both tables and its DESC form in
/// `Shops`; then an order for shop 40, which `Shops` lacks, is upserted. Orders has two
/// equal rows (shop 10, pen, 1.0). Returns the dataset id.
async fn shops_and_orders(env: &Env) -> String {
    let shops = RecordBatch::try_new(
        shops_schema(),
        vec![
            Arc::new(Int64Array::from(vec![10, 20, 30])),
            Arc::new(StringArray::from(vec!["Paris", "Rome", "Oslo"])),
        ],
    )
    .unwrap();
    let first = orders(
        vec![10, 10, 10, 30],
        vec!["pen", "pen", "ink", "pen"],
        vec![1.0, 1.0, 2.0, 4.0],
    );
    let model = || {
        ModelOptions::default()
            .with_form("shop", "shop_id", "ID")
            .with_form("shop", "city", "DESC")
    };
    let report = Push::create(env.client.clone(), "shops and orders")
        .with_memory_table("Shops", shops_schema(), vec![shops])
        .with_memory_table("Orders", orders_schema(), vec![first])
        .with_model_options(model())
        .execute()
        .await
        .unwrap();
    let shop_40 = orders(vec![40], vec!["cup"], vec![8.0]);
    Push::into_dataset(env.client.clone(), &report.dataset_id)
        .with_memory_table("Orders", orders_schema(), vec![shop_40])
        .with_model_options(ModelOptions::default().with_form("shop", "shop_id", "ID"))
        .with_policy(UpdatePolicy::Upsert)
        .execute()
        .await
        .unwrap();
    report.dataset_id
}

/// The rows of `batches` as text, sorted.
fn sorted_rows(schema: &SchemaRef, batches: &[RecordBatch]) -> Vec<Vec<Option<String>>> {
    let b = arrow_select::concat::concat_batches(schema, batches).unwrap();
    let opts = arrow_cast::display::FormatOptions::default();
    let fmts: Vec<_> = b
        .columns()
        .iter()
        .map(|c| arrow_cast::display::ArrayFormatter::try_new(c.as_ref(), &opts).unwrap())
        .collect();
    let mut rows: Vec<Vec<Option<String>>> = (0..b.num_rows())
        .map(|r| {
            b.columns()
                .iter()
                .zip(&fmts)
                .map(|(c, f)| c.is_valid(r).then(|| f.value(r).to_string()))
                .collect()
        })
        .collect();
    rows.sort();
    rows
}

fn row(cells: &[Option<&str>]) -> Vec<Option<String>> {
    cells.iter().map(|c| c.map(str::to_string)).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_order_of_a_shop_missing_from_shops_is_read_with_a_null_city() {
    let env = Env::start().await;
    let id = shops_and_orders(&env).await;

    // Everything: shop 40's order is there, its city (the DESC form only Shops has) null.
    // Shop 20 has no order, so no product: MicroStrategy leaves such rows out (KB254996).
    let (schema, got) = Pull::new(env.client.clone(), &id)
        .with_page_size(2)
        .collect()
        .await
        .unwrap();
    let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    assert_eq!(names, ["shop@ID", "shop@DESC", "product", "amount"]);
    assert_eq!(
        sorted_rows(&schema, &got),
        vec![
            row(&[Some("10"), Some("Paris"), Some("ink"), Some("2.0")]),
            row(&[Some("10"), Some("Paris"), Some("pen"), Some("2.0")]),
            row(&[Some("30"), Some("Oslo"), Some("pen"), Some("4.0")]),
            row(&[Some("40"), None, Some("cup"), Some("8.0")]),
        ]
    );

    // By shop: its elements are the union of both tables' (20 without orders, 40
    // without a shop row), the metric null where Orders has no row.
    let (schema, got) = Pull::new(env.client.clone(), &id)
        .with_attribute("shop")
        .with_metric("amount")
        .collect()
        .await
        .unwrap();
    assert_eq!(
        sorted_rows(&schema, &got),
        vec![
            row(&[Some("10"), Some("Paris"), Some("4.0")]),
            row(&[Some("20"), Some("Rome"), None]),
            row(&[Some("30"), Some("Oslo"), Some("4.0")]),
            row(&[Some("40"), None, Some("8.0")]),
        ]
    );

    // The attribute alone: the same union.
    let (schema, got) = Pull::new(env.client.clone(), &id)
        .with_attribute("shop")
        .collect()
        .await
        .unwrap();
    assert_eq!(
        sorted_rows(&schema, &got),
        vec![
            row(&[Some("10"), Some("Paris")]),
            row(&[Some("20"), Some("Rome")]),
            row(&[Some("30"), Some("Oslo")]),
            row(&[Some("40"), None]),
        ]
    );
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_table_read_gives_every_stored_row_exactly() {
    let env = Env::start().await;
    let id = shops_and_orders(&env).await;
    let stored = env.read(&id, "Orders");
    let stored_schema = stored[0].schema();
    let stored = arrow_select::concat::concat_batches(&stored_schema, &stored).unwrap();
    assert_eq!(stored.num_rows(), 5, "the two equal rows are stored apart");

    // Pages of 2 rows: every stored row, in stored order, with the stored types.
    let (schema, got) = Pull::table(env.client.clone(), &id, "Orders")
        .with_page_size(2)
        .collect()
        .await
        .unwrap();
    assert_eq!(got.len(), 3);
    let got = arrow_select::concat::concat_batches(&schema, &got).unwrap();
    assert_eq!(schema.fields().len(), 3);
    for (f, s) in schema.fields().iter().zip(stored_schema.fields()) {
        assert_eq!((f.name(), f.data_type()), (s.name(), s.data_type()));
    }
    assert_eq!(got.columns(), stored.columns());

    // A grouped read merges the equal rows.
    let (schema, grouped) = Pull::new(env.client.clone(), &id)
        .with_attribute("shop")
        .with_attribute("product")
        .with_metric("amount")
        .collect()
        .await
        .unwrap();
    assert_eq!(sorted_rows(&schema, &grouped).len(), 4);

    // To Parquet, and the report counts the rows.
    let path = env.dir.path().join("orders.parquet");
    let report = Pull::table(env.client.clone(), &id, "Orders")
        .to_parquet(&path)
        .await
        .unwrap();
    assert_eq!((report.rows, report.pages), (5, 1));

    // An unknown table: the typed error naming the extension (404).
    let e = Pull::table(env.client.clone(), &id, "Nope")
        .collect()
        .await
        .unwrap_err();
    assert!(matches!(e, Error::NoTableRowsExtension { .. }), "{e}");
    env.stop().await;
}
