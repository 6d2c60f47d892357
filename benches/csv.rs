//! CSV encoding benchmark (criterion): Arrow batches -> the CSV file of a Veracity ingest job.
//!
//! On TPC-H `lineitem` (read from the cached Parquet file, see `data/`), for a rayon pool of
//! 1 thread and the default pool (all cores):
//!
//! - `pushdata_csv`: the project's encoder, `pushdata_arrow::veracity::CsvParts` with the
//!   default 8 MiB parts (slices encoded in parallel, copied into parts at row ends; every
//!   part dropped as it is emitted, as an upload would);
//! - `arrow_csv`: arrow-csv's `Writer` (default options: LF, quotes when necessary, nulls as
//!   empty fields, ISO dates) into one buffer. With all threads the batches are split into
//!   one contiguous run per thread, each written by its own `Writer` (header only in the
//!   first), and the outputs joined: the obvious parallel version.
//!
//! Configuration: `PUSHDATA_BENCH_SF` (lineitem scale factor, default 0.1 = 600k rows).
//! At the end the bench prints a markdown table (criterion's mean estimates) with MB/s of
//! CSV written, rows/s and the ratio to arrow-csv; BENCHMARKS.md pastes it.

mod data;

use std::path::{Path, PathBuf};
use std::time::Duration;

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;
use criterion::{Criterion, SamplingMode, Throughput};
use pushdata::arrow::veracity::{CsvParts, DEFAULT_PART_BYTES, VeracityError};
use rayon::prelude::*;

use data::BenchError;

const GROUP: &str = "csv_lineitem";

/// The project's encoder; returns the bytes of the file.
fn pushdata_csv(schema: &SchemaRef, batches: &[RecordBatch]) -> Result<u64, VeracityError> {
    let mut parts = CsvParts::new(schema.clone(), DEFAULT_PART_BYTES)?;
    // Every part is dropped as it is emitted, as after its upload.
    let sink = |p| {
        std::hint::black_box(p);
        Ok::<_, VeracityError>(())
    };
    for b in batches {
        parts.push(b, sink)?;
    }
    Ok(parts.finish(sink)?.bytes)
}

/// arrow-csv's writer over `batches` into one buffer (`header` or not).
fn arrow_csv(batches: &[RecordBatch], header: bool) -> Result<Vec<u8>, BenchError> {
    let mut out = Vec::new();
    let mut w = arrow_csv::WriterBuilder::new()
        .with_header(header)
        .build(&mut out);
    for b in batches {
        w.write(b)?;
    }
    drop(w);
    Ok(out)
}

/// One arrow-csv writer per contiguous run of batches (one run per thread), joined.
fn arrow_csv_parallel(batches: &[RecordBatch]) -> Result<usize, BenchError> {
    let runs = rayon::current_num_threads().max(1);
    let per = batches.len().div_ceil(runs).max(1);
    let parts = batches
        .par_chunks(per)
        .enumerate()
        .map(|(i, run)| arrow_csv(run, i == 0).map_err(|e| e.to_string()))
        .collect::<Result<Vec<_>, String>>()?;
    let joined = parts.concat();
    Ok(std::hint::black_box(joined).len())
}

fn mean_ns(dir: &Path, id: &str) -> Option<f64> {
    let path = dir.join(GROUP).join(id).join("new").join("estimates.json");
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()?;
    v.get("mean")?.get("point_estimate")?.as_f64()
}

fn main() -> Result<(), BenchError> {
    let sf = data::env_f64("PUSHDATA_BENCH_SF", 0.1)?;
    let one = rayon::ThreadPoolBuilder::new().num_threads(1).build()?;
    let all = rayon::ThreadPoolBuilder::new().build()?;
    let all_threads = all.current_num_threads();
    let (schema, batches) = data::read_parquet(&data::lineitem_parquet(sf)?)?;
    let rows: usize = batches.iter().map(RecordBatch::num_rows).sum();
    let ours_bytes = pushdata_csv(&schema, &batches)?;
    let theirs_bytes = arrow_csv(&batches, true)?.len() as u64;

    let out_dir: PathBuf = data::target_dir().join("criterion");
    let mut c = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3))
        .output_directory(&out_dir)
        .configure_from_args();
    let mut ran = Vec::new();
    {
        let mut g = c.benchmark_group(GROUP);
        g.sampling_mode(SamplingMode::Flat);
        for (suffix, pool) in [("t1", &one), ("tall", &all)] {
            let id = format!("pushdata_csv_{suffix}");
            g.throughput(Throughput::Bytes(ours_bytes));
            g.bench_function(&id, |b| {
                ran.push(id.clone());
                b.iter(|| {
                    pool.install(|| pushdata_csv(&schema, &batches).map_err(|e| e.to_string()))
                })
            });
            let id = format!("arrow_csv_{suffix}");
            g.throughput(Throughput::Bytes(theirs_bytes));
            g.bench_function(&id, |b| {
                ran.push(id.clone());
                b.iter(|| {
                    pool.install(|| {
                        if suffix == "t1" {
                            arrow_csv(&batches, true).map(|v| v.len())
                        } else {
                            arrow_csv_parallel(&batches)
                        }
                        .map_err(|e| e.to_string())
                    })
                })
            });
        }
        g.finish();
    }
    c.final_summary();

    println!();
    println!(
        "### CSV encoding for Veracity ({all_threads} threads available; MB = 10^6 bytes; times are criterion's mean)"
    );
    println!();
    println!(
        "#### TPC-H lineitem SF {sf} — {rows} rows, {} columns; pushdata CSV {:.1} MB, arrow-csv CSV {:.1} MB",
        schema.fields().len(),
        ours_bytes as f64 / 1e6,
        theirs_bytes as f64 / 1e6
    );
    println!();
    println!(
        "| encoder | threads | time (ms) | CSV MB/s | Mrows/s | speed-up vs arrow-csv (same threads) | speed-up vs arrow-csv (1 thread) |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|");
    for (suffix, threads) in [("t1", 1usize), ("tall", all_threads)] {
        let base = mean_ns(&out_dir, &format!("arrow_csv_{suffix}"));
        let base1 = mean_ns(&out_dir, "arrow_csv_t1");
        for (id, label, bytes) in [
            ("pushdata_csv", "pushdata CsvParts", ours_bytes),
            ("arrow_csv", "arrow-csv Writer", theirs_bytes),
        ] {
            let full = format!("{id}_{suffix}");
            if !ran.contains(&full) {
                continue;
            }
            let Some(ns) = mean_ns(&out_dir, &full) else {
                continue;
            };
            let secs = ns / 1e9;
            let ratio = |o: Option<f64>| o.map_or("—".to_string(), |o| format!("{:.2}×", o / ns));
            println!(
                "| {label} | {threads} | {:.1} | {:.0} | {:.2} | {} | {} |",
                ns / 1e6,
                bytes as f64 / 1e6 / secs,
                rows as f64 / 1e6 / secs,
                ratio(base),
                ratio(base1),
            );
        }
    }
    Ok(())
}
