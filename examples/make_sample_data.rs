//! (Re)generates the sample Parquet files under `data/`:
//!
//! - `data/sales.parquet`: the `SALES_TABLE` rows of the Push Data API docs (4 rows);
//! - `data/customers.parquet` + `data/orders.parquet`: a two-table set sharing `customer_id`,
//!   with dates, times, timestamps with and without a zone, decimals, nulls and non-ASCII
//!   text ("Zürich", "東京", emoji).
//!
//! ```bash
//! cargo run --example make_sample_data            # writes into <repo>/data
//! cargo run --example make_sample_data -- /tmp/x  # or into another directory
//! ```

use std::error::Error;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::{
    ArrayRef, BooleanArray, Date32Array, Decimal128Array, Float64Array, Int32Array, Int64Array,
    RecordBatch, StringArray, Time64MicrosecondArray, TimestampMicrosecondArray,
    TimestampMillisecondArray,
};
use arrow_schema::{DataType, Field, Schema, TimeUnit};
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;

type Result<T> = std::result::Result<T, Box<dyn Error>>;

fn main() -> Result<()> {
    let dir = match std::env::args_os().nth(1) {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("data"),
    };
    std::fs::create_dir_all(&dir)?;
    for (name, batch) in [
        ("sales", sales()?),
        ("customers", customers()?),
        ("orders", orders()?),
    ] {
        let path = dir.join(format!("{name}.parquet"));
        write(&path, &batch)?;
        println!("wrote {} ({} rows)", path.display(), batch.num_rows());
    }
    Ok(())
}

fn write(path: &Path, batch: &RecordBatch) -> Result<()> {
    let props = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_created_by("pushdata make_sample_data".to_string())
        .build();
    let mut writer = ArrowWriter::try_new(File::create(path)?, batch.schema(), Some(props))?;
    writer.write(batch)?;
    writer.close()?;
    Ok(())
}

/// The SALES_TABLE of the Push Data API workflow samples.
fn sales() -> Result<RecordBatch> {
    let schema = Schema::new(vec![
        Field::new("Year", DataType::Int32, false),
        Field::new("Category_ID", DataType::Int32, false),
        Field::new("Category_DESC", DataType::Utf8, false),
        Field::new("Cost", DataType::Float64, false),
        Field::new("Profit", DataType::Float64, false),
    ]);
    let columns: Vec<ArrayRef> = vec![
        Arc::new(Int32Array::from(vec![2015, 2016, 2017, 2018])),
        Arc::new(Int32Array::from(vec![1, 2, 3, 4])),
        Arc::new(StringArray::from(vec![
            "Books",
            "Movies",
            "Musics",
            "Electronics",
        ])),
        Arc::new(Float64Array::from(vec![1000.0, 2000.0, 3000.0, 4000.0])),
        Arc::new(Float64Array::from(vec![2000.0, 3000.0, 4000.0, 5000.0])),
    ];
    Ok(RecordBatch::try_new(Arc::new(schema), columns)?)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days(y: i32, m: u32, d: u32) -> i32 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let m = m as i32;
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + d as i32 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Microseconds since the epoch of a UTC date and time.
fn micros(y: i32, mo: u32, d: u32, h: i64, mi: i64, s: i64, us: i64) -> i64 {
    (i64::from(days(y, mo, d)) * 86_400 + h * 3600 + mi * 60 + s) * 1_000_000 + us
}

/// Ten customers; `customer_id` is the key shared with `orders`.
fn customers() -> Result<RecordBatch> {
    let utc = Some(Arc::<str>::from("UTC"));
    let schema = Schema::new(vec![
        Field::new("customer_id", DataType::Int64, false),
        Field::new("name", DataType::Utf8, false),
        Field::new("city", DataType::Utf8, true),
        Field::new("country", DataType::Utf8, true),
        Field::new("signup_date", DataType::Date32, true),
        Field::new("credit_limit", DataType::Decimal128(12, 2), true),
        Field::new("vip", DataType::Boolean, true),
        Field::new(
            "created_at",
            DataType::Timestamp(TimeUnit::Microsecond, utc.clone()),
            true,
        ),
    ]);
    let names = [
        "Zoë Müller",
        "山田 太郎",
        "João Gonçalves",
        "Ørjan Åsen",
        "Łukasz Żółć",
        "Émilie Dubois",
        "Ahmed Al-Farsi",
        "Nguyễn Văn An",
        "Rocket Co 🚀",
        "O'Brien & \"Sons\"",
    ];
    let cities = [
        Some("Zürich"),
        Some("東京"),
        Some("São Paulo"),
        Some("Tromsø"),
        Some("Kraków"),
        Some("Montréal"),
        None,
        Some("Hà Nội"),
        Some("Cape Canaveral"),
        Some("Dublin"),
    ];
    let countries = [
        Some("CH"),
        Some("JP"),
        Some("BR"),
        Some("NO"),
        Some("PL"),
        Some("CA"),
        Some("AE"),
        Some("VN"),
        Some("US"),
        None,
    ];
    let signup = [
        Some(days(2019, 1, 15)),
        Some(days(2019, 3, 2)),
        Some(days(2020, 2, 29)),
        None,
        Some(days(2021, 7, 4)),
        Some(days(2021, 12, 31)),
        Some(days(2022, 6, 1)),
        Some(days(2023, 1, 1)),
        Some(days(1999, 12, 31)),
        Some(days(2024, 10, 10)),
    ];
    // Decimal(12, 2): the values are in cents.
    let credit = [
        Some(1_000_000),
        Some(250_050),
        Some(99),
        None,
        Some(-1_234),
        Some(500_000_000),
        Some(0),
        Some(123_456_789),
        Some(999_999_999_999),
        Some(10),
    ];
    let vip = [
        Some(true),
        Some(false),
        Some(false),
        None,
        Some(true),
        Some(false),
        Some(true),
        Some(false),
        Some(true),
        Some(false),
    ];
    let created = [
        Some(micros(2019, 1, 15, 8, 30, 0, 0)),
        Some(micros(2019, 3, 2, 23, 59, 59, 999_999)),
        Some(micros(2020, 2, 29, 12, 0, 0, 500_000)),
        None,
        Some(micros(2021, 7, 4, 0, 0, 0, 0)),
        Some(micros(2021, 12, 31, 23, 0, 0, 0)),
        Some(micros(2022, 6, 1, 6, 15, 30, 250)),
        Some(micros(2023, 1, 1, 0, 0, 1, 0)),
        Some(micros(1999, 12, 31, 23, 59, 59, 0)),
        Some(micros(2024, 10, 10, 10, 10, 10, 101_010)),
    ];
    let columns: Vec<ArrayRef> = vec![
        Arc::new(Int64Array::from_iter_values(1..=10)),
        Arc::new(StringArray::from(names.to_vec())),
        Arc::new(StringArray::from(cities.to_vec())),
        Arc::new(StringArray::from(countries.to_vec())),
        Arc::new(Date32Array::from(signup.to_vec())),
        Arc::new(Decimal128Array::from(credit.to_vec()).with_precision_and_scale(12, 2)?),
        Arc::new(BooleanArray::from(vip.to_vec())),
        Arc::new(TimestampMicrosecondArray::from(created.to_vec()).with_timezone_opt(utc)),
    ];
    Ok(RecordBatch::try_new(Arc::new(schema), columns)?)
}

/// Twenty orders of the ten customers (customer 7 has none, customer 1 has four).
fn orders() -> Result<RecordBatch> {
    let utc = Some(Arc::<str>::from("UTC"));
    let schema = Schema::new(vec![
        Field::new("order_id", DataType::Int64, false),
        Field::new("customer_id", DataType::Int64, false),
        Field::new("order_date", DataType::Date32, false),
        Field::new("order_time", DataType::Time64(TimeUnit::Microsecond), true),
        Field::new(
            "ordered_at",
            DataType::Timestamp(TimeUnit::Microsecond, utc.clone()),
            false,
        ),
        Field::new(
            "shipped_at",
            DataType::Timestamp(TimeUnit::Millisecond, None),
            true,
        ),
        Field::new("quantity", DataType::Int32, true),
        Field::new("unit_price", DataType::Decimal128(10, 3), true),
        Field::new("discount", DataType::Float64, true),
        Field::new("paid", DataType::Boolean, true),
        Field::new("note", DataType::Utf8, true),
    ]);
    let customer = [1, 2, 3, 1, 4, 5, 6, 8, 9, 10, 1, 2, 3, 4, 5, 6, 8, 9, 10, 1];
    let notes = [
        Some("Lieferung nach Zürich"),
        Some("東京へ配送"),
        None,
        Some("gift 🎁"),
        Some("fragile ⚠️"),
        Some(""),
        Some("tab\there"),
        Some("line\nbreak"),
        Some("🚀🚀🚀"),
        Some("\"quoted\""),
        None,
        Some("お急ぎ便"),
        Some("naïve café"),
        Some("back\\slash"),
        None,
        Some("Ελληνικά"),
        Some("Русский"),
        Some("עברית"),
        Some("العربية"),
        Some("last one 👋"),
    ];
    let mut order_date = Vec::new();
    let mut order_time = Vec::new();
    let mut ordered_at = Vec::new();
    let mut shipped_at = Vec::new();
    let mut quantity = Vec::new();
    let mut unit_price = Vec::new();
    let mut discount = Vec::new();
    let mut paid = Vec::new();
    for i in 0..20u32 {
        let (month, day) = (1 + i % 12, 1 + (i * 3) % 28);
        let (h, m, s) = (
            i64::from(i % 24),
            i64::from((i * 7) % 60),
            i64::from((i * 13) % 60),
        );
        let us = i64::from(i) * 12_345;
        order_date.push(days(2024, month, day));
        order_time.push((i % 5 != 4).then_some(((h * 60 + m) * 60 + s) * 1_000_000 + us));
        ordered_at.push(micros(2024, month, day, h, m, s, us));
        // Shipped two days later (local wall-clock time, no zone), except every sixth order.
        shipped_at.push((i % 6 != 5).then_some(micros(2024, month, day + 2, 9, 0, 0, 0) / 1000));
        quantity.push((i % 7 != 6).then_some(1 + (i as i32 * 5) % 9));
        // Decimal(10, 3): thousandths.
        unit_price.push((i % 9 != 8).then_some(1_999 + i64::from(i) * 1_250_125 % 10_000_000));
        discount.push(match i % 4 {
            0 => None,
            1 => Some(0.05),
            2 => Some(0.1),
            _ => Some(1.0 / 3.0),
        });
        paid.push((i % 10 != 3).then_some(i % 3 != 0));
    }
    let columns: Vec<ArrayRef> = vec![
        Arc::new(Int64Array::from_iter_values(1001..=1020)),
        Arc::new(Int64Array::from(customer.to_vec())),
        Arc::new(Date32Array::from(order_date)),
        Arc::new(Time64MicrosecondArray::from(order_time)),
        Arc::new(TimestampMicrosecondArray::from(ordered_at).with_timezone_opt(utc)),
        Arc::new(TimestampMillisecondArray::from(shipped_at)),
        Arc::new(Int32Array::from(quantity)),
        Arc::new(
            Decimal128Array::from(
                unit_price
                    .into_iter()
                    .map(|v| v.map(i128::from))
                    .collect::<Vec<_>>(),
            )
            .with_precision_and_scale(10, 3)?,
        ),
        Arc::new(Float64Array::from(discount)),
        Arc::new(BooleanArray::from(paid)),
        Arc::new(StringArray::from(notes.to_vec())),
    ];
    Ok(RecordBatch::try_new(Arc::new(schema), columns)?)
}
