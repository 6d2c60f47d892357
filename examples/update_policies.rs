//! Each update policy on overlapping keys: a table holds apple, banana, cherry; then
//! banana, cherry, durian arrive with new quantities under `add`, `update`, `upsert` and
//! `replace`. Prints the rows each policy leaves (embedded reference server).
//!
//! ```bash
//! cargo run --example update_policies
//! ```

use std::error::Error;
use std::path::Path;
use std::sync::Arc;

use arrow_array::{Array, ArrayRef, Int64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use pushdata::arrow::Push;
use pushdata::core::wire::UpdatePolicy;
use pushdata::core::{Client, Credentials};
use pushdata::server::{Server, ServerConfig};

type Result<T> = std::result::Result<T, Box<dyn Error>>;

#[tokio::main]
async fn main() -> Result<()> {
    let data_dir = tempfile::tempdir()?;
    let server = Server::start(ServerConfig::new(data_dir.path().to_path_buf())).await?;
    let client = Client::builder(server.base_url()).build()?;
    client
        .login(Credentials::standard("administrator", ""))
        .await?;
    client.select_project("MicroStrategy Tutorial").await?;

    // `fruit` (STRING) is an attribute, so it is the key; `quantity` (BIGINTEGER) a metric.
    let schema = Arc::new(Schema::new(vec![
        Field::new("fruit", DataType::Utf8, false),
        Field::new("quantity", DataType::Int64, false),
    ]));
    let first = batch(&schema, &[("apple", 1), ("banana", 2), ("cherry", 3)])?;
    let second = batch(&schema, &[("banana", 20), ("cherry", 30), ("durian", 40)])?;

    // (policy, rows expected after it)
    let cases = [
        (UpdatePolicy::Add, 4),     // apple 1, banana 2, cherry 3, durian 40
        (UpdatePolicy::Update, 3),  // apple 1, banana 20, cherry 30
        (UpdatePolicy::Upsert, 4),  // apple 1, banana 20, cherry 30, durian 40
        (UpdatePolicy::Replace, 3), // banana 20, cherry 30, durian 40
    ];
    println!("before: apple 1, banana 2, cherry 3; pushed: banana 20, cherry 30, durian 40");
    for (policy, expected) in cases {
        // A fresh dataset holding the first rows...
        let created = Push::create(client.clone(), format!("fruit {policy}"))
            .with_memory_table("fruit", schema.clone(), vec![first.clone()])
            .execute()
            .await?;
        // ...then the overlapping rows with the policy.
        Push::into_dataset(client.clone(), created.dataset_id.clone())
            .with_memory_table("fruit", schema.clone(), vec![second.clone()])
            .with_policy(policy)
            .execute()
            .await?;

        let rows = stored_rows(data_dir.path(), &created.dataset_id)?;
        let text: Vec<String> = rows.iter().map(|(f, q)| format!("{f} {q}")).collect();
        println!(
            "{:>8}: {} rows: {}",
            policy.as_str(),
            rows.len(),
            text.join(", ")
        );
        if rows.len() != expected {
            return Err(format!("{policy}: expected {expected} rows, found {}", rows.len()).into());
        }
    }

    client.logout().await?;
    server.shutdown().await?;
    Ok(())
}

fn batch(schema: &SchemaRef, rows: &[(&str, i64)]) -> Result<RecordBatch> {
    let fruit: ArrayRef = Arc::new(StringArray::from_iter_values(rows.iter().map(|r| r.0)));
    let quantity: ArrayRef = Arc::new(Int64Array::from_iter_values(rows.iter().map(|r| r.1)));
    Ok(RecordBatch::try_new(schema.clone(), vec![fruit, quantity])?)
}

/// The published rows of table `fruit`, sorted by fruit, read from the server's data
/// directory.
fn stored_rows(data_dir: &Path, dataset_id: &str) -> Result<Vec<(String, i64)>> {
    let mut rows = Vec::new();
    for b in pushdata::server::read_table(data_dir, dataset_id, "fruit")? {
        let fruit = b
            .column_by_name("fruit")
            .and_then(|c| c.as_any().downcast_ref::<StringArray>())
            .ok_or("column fruit is not a string column")?;
        let quantity = b
            .column_by_name("quantity")
            .and_then(|c| c.as_any().downcast_ref::<Int64Array>())
            .ok_or("column quantity is not an Int64 column")?;
        for i in 0..b.num_rows() {
            let q = if quantity.is_null(i) {
                0
            } else {
                quantity.value(i)
            };
            rows.push((fruit.value(i).to_string(), q));
        }
    }
    rows.sort();
    Ok(rows)
}
