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
const fn days(y: i32, m: u32, d: u32) -> i32 {
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
const fn micros(y: i32, mo: u32, d: u32, h: i64, mi: i64, s: i64, us: i64) -> i64 {
    ((days(y, mo, d) as i64) * 86_400 + h * 3600 + mi * 60 + s) * 1_000_000 + us
}

/// One row of `customers` (its `customer_id` is its position + 1).
struct Customer {
    name: &'static str,
    city: Option<&'static str>,
    country: Option<&'static str>,
    /// Days since the epoch.
    signup: Option<i32>,
    /// Decimal(12, 2): the value in cents.
    credit: Option<i128>,
    vip: Option<bool>,
    /// Microseconds since the epoch (UTC).
    created: Option<i64>,
}

/// A customer with every field set.
const fn customer(
    name: &'static str,
    city: &'static str,
    country: &'static str,
    signup: i32,
    credit: i128,
    vip: bool,
    created: i64,
) -> Customer {
    Customer {
        name,
        city: Some(city),
        country: Some(country),
        signup: Some(signup),
        credit: Some(credit),
        vip: Some(vip),
        created: Some(created),
    }
}

/// The ten customers, with nulls and non-ASCII text.
const CUSTOMERS: [Customer; 10] = [
    customer(
        "Zoë Müller",
        "Zürich",
        "CH",
        days(2019, 1, 15),
        1_000_000,
        true,
        micros(2019, 1, 15, 8, 30, 0, 0),
    ),
    customer(
        "山田 太郎",
        "東京",
        "JP",
        days(2019, 3, 2),
        250_050,
        false,
        micros(2019, 3, 2, 23, 59, 59, 999_999),
    ),
    customer(
        "João Gonçalves",
        "São Paulo",
        "BR",
        days(2020, 2, 29),
        99,
        false,
        micros(2020, 2, 29, 12, 0, 0, 500_000),
    ),
    Customer {
        name: "Ørjan Åsen",
        city: Some("Tromsø"),
        country: Some("NO"),
        signup: None,
        credit: None,
        vip: None,
        created: None,
    },
    customer(
        "Łukasz Żółć",
        "Kraków",
        "PL",
        days(2021, 7, 4),
        -1_234,
        true,
        micros(2021, 7, 4, 0, 0, 0, 0),
    ),
    customer(
        "Émilie Dubois",
        "Montréal",
        "CA",
        days(2021, 12, 31),
        500_000_000,
        false,
        micros(2021, 12, 31, 23, 0, 0, 0),
    ),
    Customer {
        city: None,
        ..customer(
            "Ahmed Al-Farsi",
            "",
            "AE",
            days(2022, 6, 1),
            0,
            true,
            micros(2022, 6, 1, 6, 15, 30, 250),
        )
    },
    customer(
        "Nguyễn Văn An",
        "Hà Nội",
        "VN",
        days(2023, 1, 1),
        123_456_789,
        false,
        micros(2023, 1, 1, 0, 0, 1, 0),
    ),
    customer(
        "Rocket Co 🚀",
        "Cape Canaveral",
        "US",
        days(1999, 12, 31),
        999_999_999_999,
        true,
        micros(1999, 12, 31, 23, 59, 59, 0),
    ),
    Customer {
        country: None,
        ..customer(
            "O'Brien & \"Sons\"",
            "Dublin",
            "",
            days(2024, 10, 10),
            10,
            false,
            micros(2024, 10, 10, 10, 10, 10, 101_010),
        )
    },
];

fn customers_schema() -> Schema {
    Schema::new(vec![
        Field::new("customer_id", DataType::Int64, false),
        Field::new("name", DataType::Utf8, false),
        Field::new("city", DataType::Utf8, true),
        Field::new("country", DataType::Utf8, true),
        Field::new("signup_date", DataType::Date32, true),
        Field::new("credit_limit", DataType::Decimal128(12, 2), true),
        Field::new("vip", DataType::Boolean, true),
        Field::new(
            "created_at",
            DataType::Timestamp(TimeUnit::Microsecond, Some(Arc::from("UTC"))),
            true,
        ),
    ])
}

/// Ten customers; `customer_id` is the key shared with `orders`.
fn customers() -> Result<RecordBatch> {
    let rows = &CUSTOMERS;
    let columns: Vec<ArrayRef> = vec![
        Arc::new(Int64Array::from_iter_values(1..=10)),
        Arc::new(StringArray::from_iter_values(rows.iter().map(|c| c.name))),
        Arc::new(StringArray::from_iter(rows.iter().map(|c| c.city))),
        Arc::new(StringArray::from_iter(rows.iter().map(|c| c.country))),
        Arc::new(Date32Array::from_iter(rows.iter().map(|c| c.signup))),
        Arc::new(
            Decimal128Array::from_iter(rows.iter().map(|c| c.credit))
                .with_precision_and_scale(12, 2)?,
        ),
        Arc::new(BooleanArray::from_iter(rows.iter().map(|c| c.vip))),
        Arc::new(
            TimestampMicrosecondArray::from_iter(rows.iter().map(|c| c.created))
                .with_timezone("UTC"),
        ),
    ];
    Ok(RecordBatch::try_new(Arc::new(customers_schema()), columns)?)
}

/// The customer of each order (customer 7 has none, customer 1 has four).
const ORDER_CUSTOMERS: [i64; 20] = [1, 2, 3, 1, 4, 5, 6, 8, 9, 10, 1, 2, 3, 4, 5, 6, 8, 9, 10, 1];

/// The note of each order.
const ORDER_NOTES: [Option<&str>; 20] = [
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

/// One row of `orders` (its `order_id` is 1001 + its position).
struct Order {
    customer: i64,
    /// Days since the epoch.
    date: i32,
    /// Microseconds since midnight.
    time: Option<i64>,
    /// Microseconds since the epoch (UTC).
    ordered_at: i64,
    /// Milliseconds since the epoch, local wall-clock time (no zone).
    shipped_at: Option<i64>,
    quantity: Option<i32>,
    /// Decimal(10, 3): thousandths.
    unit_price: Option<i128>,
    discount: Option<f64>,
    paid: Option<bool>,
    note: Option<&'static str>,
}

/// Order `i` (0-based), its values derived from `i`.
fn order(i: u32) -> Order {
    let (month, day) = (1 + i % 12, 1 + (i * 3) % 28);
    let (h, m, s) = (
        i64::from(i % 24),
        i64::from((i * 7) % 60),
        i64::from((i * 13) % 60),
    );
    let us = i64::from(i) * 12_345;
    let at = i as usize;
    Order {
        customer: ORDER_CUSTOMERS[at],
        date: days(2024, month, day),
        time: (i % 5 != 4).then_some(((h * 60 + m) * 60 + s) * 1_000_000 + us),
        ordered_at: micros(2024, month, day, h, m, s, us),
        // Shipped two days later, except every sixth order.
        shipped_at: (i % 6 != 5).then_some(micros(2024, month, day + 2, 9, 0, 0, 0) / 1000),
        quantity: (i % 7 != 6).then_some(1 + (i as i32 * 5) % 9),
        unit_price: (i % 9 != 8)
            .then_some(i128::from(1_999 + i64::from(i) * 1_250_125 % 10_000_000)),
        discount: match i % 4 {
            0 => None,
            1 => Some(0.05),
            2 => Some(0.1),
            _ => Some(1.0 / 3.0),
        },
        paid: (i % 10 != 3).then_some(!i.is_multiple_of(3)),
        note: ORDER_NOTES[at],
    }
}

fn orders_schema() -> Schema {
    Schema::new(vec![
        Field::new("order_id", DataType::Int64, false),
        Field::new("customer_id", DataType::Int64, false),
        Field::new("order_date", DataType::Date32, false),
        Field::new("order_time", DataType::Time64(TimeUnit::Microsecond), true),
        Field::new(
            "ordered_at",
            DataType::Timestamp(TimeUnit::Microsecond, Some(Arc::from("UTC"))),
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
    ])
}

/// Twenty orders of the ten customers.
fn orders() -> Result<RecordBatch> {
    let rows: Vec<Order> = (0..20).map(order).collect();
    let columns: Vec<ArrayRef> = vec![
        Arc::new(Int64Array::from_iter_values(1001..=1020)),
        Arc::new(Int64Array::from_iter_values(
            rows.iter().map(|o| o.customer),
        )),
        Arc::new(Date32Array::from_iter_values(rows.iter().map(|o| o.date))),
        Arc::new(Time64MicrosecondArray::from_iter(
            rows.iter().map(|o| o.time),
        )),
        Arc::new(
            TimestampMicrosecondArray::from_iter_values(rows.iter().map(|o| o.ordered_at))
                .with_timezone("UTC"),
        ),
        Arc::new(TimestampMillisecondArray::from_iter(
            rows.iter().map(|o| o.shipped_at),
        )),
        Arc::new(Int32Array::from_iter(rows.iter().map(|o| o.quantity))),
        Arc::new(
            Decimal128Array::from_iter(rows.iter().map(|o| o.unit_price))
                .with_precision_and_scale(10, 3)?,
        ),
        Arc::new(Float64Array::from_iter(rows.iter().map(|o| o.discount))),
        Arc::new(BooleanArray::from_iter(rows.iter().map(|o| o.paid))),
        Arc::new(StringArray::from_iter(rows.iter().map(|o| o.note))),
    ];
    Ok(RecordBatch::try_new(Arc::new(orders_schema()), columns)?)
}
