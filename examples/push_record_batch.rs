//! Push a `RecordBatch` built in code into a new dataset on an embedded reference server.
//!
//! ```bash
//! cargo run --example push_record_batch
//! ```

use std::error::Error;
use std::sync::Arc;

use arrow_array::{
    ArrayRef, Date32Array, Float64Array, Int32Array, RecordBatch, StringArray,
    TimestampMicrosecondArray,
};
use arrow_schema::{DataType, Field, Schema, TimeUnit};
use pushdata::arrow::{ModelOptions, Push};
use pushdata::core::wire::UpdatePolicy;
use pushdata::core::{Client, Credentials};
use pushdata::server::{Server, ServerConfig};

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    // An embedded reference server with its data in a temporary directory.
    let data_dir = tempfile::tempdir()?;
    let server = Server::start(ServerConfig::new(data_dir.path().to_path_buf())).await?;

    let client = Client::builder(server.base_url()).build()?;
    client
        .login(Credentials::standard("administrator", ""))
        .await?;
    client.select_project("MicroStrategy Tutorial").await?;

    // Three rows, built in code.
    let schema = Arc::new(Schema::new(vec![
        Field::new("store_id", DataType::Int32, false),
        Field::new("city", DataType::Utf8, true),
        Field::new("opened", DataType::Date32, true),
        Field::new(
            "last_sale",
            DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
            true,
        ),
        Field::new("revenue", DataType::Float64, true),
    ]));
    let columns: Vec<ArrayRef> = vec![
        Arc::new(Int32Array::from(vec![1, 2, 3])),
        Arc::new(StringArray::from(vec![Some("Zürich"), Some("東京"), None])),
        // Days since 1970-01-01.
        Arc::new(Date32Array::from(vec![Some(17_532), Some(18_000), None])),
        Arc::new(
            TimestampMicrosecondArray::from(vec![
                Some(1_700_000_000_000_000),
                None,
                Some(1_710_000_000_123_456),
            ])
            .with_timezone("UTC"),
        ),
        Arc::new(Float64Array::from(vec![Some(1234.5), Some(99.99), None])),
    ];
    let batch = RecordBatch::try_new(schema.clone(), columns)?;

    // Any iterator of `Result<RecordBatch, ArrowError>` (e.g. a RecordBatchReader) works.
    let report = Push::create(client.clone(), "stores")
        .with_batches_table("stores", schema, vec![Ok(batch)])
        .with_policy(UpdatePolicy::Replace)
        .with_model_options(ModelOptions::default().with_attribute("store_id"))
        .execute()
        .await?;
    println!(
        "dataset {}: {} rows in {} chunk(s), {} bytes, {:.2?}",
        report.dataset_id, report.tables[0].rows, report.chunks, report.bytes, report.elapsed
    );

    client.logout().await?;
    server.shutdown().await?;

    // What the server stored (read from its data directory).
    let stored = pushdata::server::read_table(data_dir.path(), &report.dataset_id, "stores")?;
    let rows: usize = stored.iter().map(RecordBatch::num_rows).sum();
    println!("the server stored {rows} rows");
    if rows != 3 {
        return Err(format!("expected 3 stored rows, found {rows}").into());
    }
    Ok(())
}
