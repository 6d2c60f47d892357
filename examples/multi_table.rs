//! Push two related Parquet files (`data/orders.parquet`, `data/customers.parquet`, sharing
//! `customer_id`) as two tables of one dataset, on an embedded reference server.
//!
//! ```bash
//! cargo run --example multi_table
//! ```

use std::error::Error;
use std::path::Path;

use pushdata::arrow::{ModelOptions, ProgressEvent, Push};
use pushdata::core::wire::Orientation;
use pushdata::core::{Client, Credentials};
use pushdata::server::{Server, ServerConfig};

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("data");
    let data_dir = tempfile::tempdir()?;
    let server = Server::start(ServerConfig::new(data_dir.path().to_path_buf())).await?;

    let client = Client::builder(server.base_url()).build()?;
    client
        .login(Credentials::standard("administrator", ""))
        .await?;
    client.select_project("MicroStrategy Tutorial").await?;

    // The inference already makes `customer_id` (in both tables) the attribute that links
    // them, one expression per table, and `order_id` (an integer key name) an attribute;
    // naming them states it explicitly (`pushdata schema` shows the rule of each column).
    let model = ModelOptions::default()
        .with_attribute("customer_id")
        .with_attribute("order_id");
    let report = Push::create(client.clone(), "orders and customers")
        .with_parquet_files([data.join("orders.parquet"), data.join("customers.parquet")])
        .with_orientation(Orientation::Column)
        .with_model_options(model)
        .with_progress(|event| {
            if let ProgressEvent::ChunkUploaded {
                table, index, rows, ..
            } = event
            {
                println!("  uploaded chunk {index} of {table} (rows {rows:?})");
            }
        })
        .execute()
        .await?;

    println!("dataset {}", report.dataset_id);
    for table in &report.tables {
        println!(
            "  table {}: {} rows, {} chunk(s)",
            table.name, table.rows, table.chunks
        );
    }
    client.logout().await?;
    server.shutdown().await?;

    for (table, expected) in [("orders", 20), ("customers", 10)] {
        let stored = pushdata::server::read_table(data_dir.path(), &report.dataset_id, table)?;
        let rows: usize = stored.iter().map(|b| b.num_rows()).sum();
        println!("the server stored {rows} rows in {table}");
        if rows != expected {
            return Err(format!("{table}: expected {expected} rows, found {rows}").into());
        }
    }
    Ok(())
}
