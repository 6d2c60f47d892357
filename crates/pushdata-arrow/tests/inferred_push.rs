#![allow(clippy::unwrap_used)]
//! The inferred models pushed to the reference server over HTTP with no options and read
//! back through the Cube API: the seed's sales table keeps its two-form `Category`
//! attribute in both workflows, and the two-table sample is joined on `customer_id`.

use std::path::PathBuf;

use arrow_array::RecordBatch;
use pushdata_arrow::{Pull, Push, Workflow};

mod common;
use common::Env;

fn data(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../data")
        .join(name)
}

/// Every row of `batches` as text cells, sorted.
fn rows(batches: &[RecordBatch]) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    for b in batches {
        let formatters: Vec<_> = b
            .columns()
            .iter()
            .map(|c| {
                arrow_cast::display::ArrayFormatter::try_new(c.as_ref(), &Default::default())
                    .unwrap()
            })
            .collect();
        for r in 0..b.num_rows() {
            out.push(formatters.iter().map(|f| f.value(r).to_string()).collect());
        }
    }
    out.sort();
    out
}

fn names(batches_schema: &arrow_schema::SchemaRef) -> Vec<String> {
    batches_schema
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_sales_keeps_its_two_form_attribute_in_both_workflows() {
    let env = Env::start().await;
    for workflow in [Workflow::MultiRequest, Workflow::SingleRequest] {
        let report = Push::create(env.client.clone(), format!("sales {workflow:?}"))
            .with_parquet_table("sales", data("sales.parquet"))
            .with_workflow(workflow)
            .execute()
            .await
            .unwrap();
        let id = report.dataset_id;
        let def = env.client.cube_definition(&id).await.unwrap();
        let objects = &def.definition.available_objects;
        let attributes: Vec<&str> = objects.attributes.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(attributes, ["Year", "Category"], "{workflow:?}");
        let metrics: Vec<&str> = objects.metrics.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(metrics, ["Cost", "Profit"], "{workflow:?}");
        let (schema, batches) = Pull::new(env.client.clone(), &id).collect().await.unwrap();
        assert_eq!(
            names(&schema),
            ["Year", "Category@ID", "Category@DESC", "Cost", "Profit"],
            "{workflow:?}"
        );
        let expected = [
            ["2015", "1", "Books", "1000.0", "2000.0"],
            ["2016", "2", "Movies", "2000.0", "3000.0"],
            ["2017", "3", "Musics", "3000.0", "4000.0"],
            ["2018", "4", "Electronics", "4000.0", "5000.0"],
        ];
        assert_eq!(rows(&batches), expected, "{workflow:?}");
    }
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_table_sample_is_joined_on_customer_id() {
    let env = Env::start().await;
    let report = Push::create(env.client.clone(), "shop")
        .with_parquet_table("orders", data("orders.parquet"))
        .with_parquet_table("customers", data("customers.parquet"))
        .execute()
        .await
        .unwrap();
    let (schema, batches) = Pull::new(env.client.clone(), &report.dataset_id)
        .with_attribute("customer_id")
        .with_attribute("name")
        .with_metric("quantity")
        .collect()
        .await
        .unwrap();
    assert_eq!(names(&schema), ["customer_id", "name", "quantity"]);
    let got = rows(&batches);
    assert_eq!(got.len(), 10, "{got:?}");
    // Customer 1 ordered 1 + 7 + 6 + 6; customer 7 ordered nothing.
    assert!(got.contains(&vec!["1".into(), "Zoë Müller".into(), "20".into()]));
    assert!(got.contains(&vec!["7".into(), "Ahmed Al-Farsi".into(), String::new()]));
    env.stop().await;
}
