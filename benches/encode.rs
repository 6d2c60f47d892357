//! Encoding benchmark (criterion): Arrow batches -> chunk JSON -> base64.
//!
//! For each workload (TPC-H `lineitem` read from the cached Parquet file, and the mixed
//! synthetic table) and for a rayon pool of 1 thread and the default pool (all cores):
//!
//! - `pushdata_row` / `pushdata_column`: the project's encoder as the push pipeline runs it
//!   (`pushdata_arrow::encoding::encode_chunks`, default 20 MiB chunks: each parallel slice task
//!   writes its JSON through a small scratch straight into base64 pieces; the PUT body is
//!   the pieces, not copied into one buffer);
//! - `arrowjson_base64`: the obvious alternative, arrow-json's `ArrayWriter` with
//!   `StructMode::ListOnly` (rows written as JSON arrays, explicit nulls) into one buffer,
//!   then the `base64` crate's `STANDARD.encode`. With all threads the batches are split
//!   into one contiguous part per thread, each written by its own `ArrayWriter`, the parts
//!   joined, and the base64 done in parallel 3 MiB blocks (the obvious parallel version);
//! - `base64_only`: only the base64 pass over the same (ROW) JSON bytes, with the
//!   project's base64 stream (base64-simd, parallel blocks): the lower bound no encoder
//!   can beat.
//!
//! Configuration (environment, since criterion owns the command line):
//! `PUSHDATA_BENCH_SF` (lineitem scale factor, default 0.1 = 600k rows) and
//! `PUSHDATA_BENCH_MIXED_ROWS` (default 100000). Criterion arguments work as usual
//! (`cargo bench --bench encode -- lineitem` runs only that group).
//!
//! At the end the bench prints markdown tables (from criterion's mean estimates) with
//! MB/s of JSON (without the chunker's whitespace padding), rows/s and the ratios to the
//! baselines; BENCHMARKS.md pastes them.

mod data;

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use arrow_array::RecordBatch;
use arrow_json::StructMode;
use arrow_json::writer::{JsonArray, WriterBuilder};
use arrow_schema::SchemaRef;
use base64::Engine;
use criterion::{Criterion, SamplingMode, Throughput};
use pushdata::arrow::encoding::{self, DEFAULT_CHUNK_BYTES, base64_append, encode_chunks};
use pushdata::arrow::{ModelOptions, TableModel, TableSchema, infer_model};
use pushdata::core::wire::Orientation;
use rayon::ThreadPool;
use rayon::prelude::*;

use data::BenchError;

/// The benchmarks that ran in this process (a criterion filter may skip some; the tables
/// never show a stale result of an earlier run).
static RAN: Mutex<Option<HashSet<String>>> = Mutex::new(None);

fn mark_ran(group: &str, id: &str) {
    if let Ok(mut ran) = RAN.lock() {
        ran.get_or_insert_with(HashSet::new)
            .insert(format!("{group}/{id}"));
    }
}

fn ran(group: &str, id: &str) -> bool {
    RAN.lock()
        .map(|r| {
            r.as_ref()
                .is_some_and(|r| r.contains(&format!("{group}/{id}")))
        })
        .unwrap_or(false)
}

/// One table to encode.
struct Workload {
    /// Criterion group name (also the directory of its results).
    group: String,
    /// How the table is described in the report.
    title: String,
    table: TableModel,
    batches: Vec<RecordBatch>,
    rows: u64,
}

/// The thread configurations: (label, pool).
struct Pools {
    one: ThreadPool,
    all: ThreadPool,
    all_threads: usize,
}

fn workload(
    group: &str,
    title: String,
    schema: SchemaRef,
    batches: Vec<RecordBatch>,
) -> Result<Workload, BenchError> {
    let model = infer_model(
        group,
        &[TableSchema::new(group, schema)],
        &ModelOptions::default(),
    )?;
    let table = model
        .table(group)
        .ok_or_else(|| format!("the model has no table {group}"))?
        .clone();
    let rows = batches.iter().map(|b| b.num_rows() as u64).sum();
    Ok(Workload {
        group: group.to_string(),
        title,
        table,
        batches,
        rows,
    })
}

/// What one run of the project's encoder produced.
struct Encoded {
    /// JSON bytes the chunks stand for, whitespace padding included.
    json: usize,
    /// Buffers the chunks' data is sent as (segments, and each chunk's end).
    segments: usize,
}

/// The project's encoder, as the push pipeline drives it.
fn pushdata_encode(w: &Workload, orientation: Orientation) -> Result<Encoded, BenchError> {
    let sizes = encode_chunks(&w.table, &w.batches, orientation, DEFAULT_CHUNK_BYTES)?;
    Ok(Encoded {
        json: sizes.json_bytes,
        segments: sizes.data_buffers,
    })
}

fn arrow_json_writer(out: &mut Vec<u8>) -> arrow_json::Writer<&mut Vec<u8>, JsonArray> {
    WriterBuilder::new()
        .with_explicit_nulls(true)
        .with_struct_mode(StructMode::ListOnly)
        .build::<_, JsonArray>(out)
}

/// arrow-json (rows as arrays) then the base64 crate, one thread. Returns the JSON and the
/// base64 text.
fn arrow_json_base64(batches: &[RecordBatch]) -> Result<(Vec<u8>, String), BenchError> {
    let mut json = Vec::new();
    {
        let mut writer = arrow_json_writer(&mut json);
        let refs: Vec<&RecordBatch> = batches.iter().collect();
        writer.write_batches(&refs)?;
        writer.finish()?;
    }
    let b64 = base64::engine::general_purpose::STANDARD.encode(&json);
    Ok((json, b64))
}

/// The obvious parallel version: one `ArrayWriter` per contiguous part of the batches (one
/// part per thread), parts joined into one JSON array, base64 in parallel 3 MiB blocks.
fn arrow_json_base64_parallel(batches: &[RecordBatch]) -> Result<(usize, usize), BenchError> {
    let parts_n = rayon::current_num_threads().max(1);
    let per = batches.len().div_ceil(parts_n).max(1);
    let parts: Vec<Result<Vec<u8>, BenchError>> = batches
        .par_chunks(per)
        .map(|part| {
            let mut json = Vec::new();
            {
                let mut writer = arrow_json_writer(&mut json);
                let refs: Vec<&RecordBatch> = part.iter().collect();
                writer.write_batches(&refs)?;
                writer.finish()?;
            }
            Ok(json)
        })
        .collect();
    let mut json = Vec::new();
    json.push(b'[');
    for (i, p) in parts.into_iter().enumerate() {
        let p = p?;
        // Each part is `[...]`: keep what is inside the brackets.
        let inner = p.get(1..p.len().saturating_sub(1)).unwrap_or_default();
        let inner = inner.trim_ascii();
        if inner.is_empty() {
            continue;
        }
        if i > 0 && json.len() > 1 {
            json.push(b',');
        }
        json.extend_from_slice(inner);
    }
    json.push(b']');
    const BLOCK: usize = 3 << 20;
    let mut out = vec![0u8; json.len().div_ceil(3) * 4];
    let engine = &base64::engine::general_purpose::STANDARD;
    json.par_chunks(BLOCK)
        .zip(out.par_chunks_mut(BLOCK / 3 * 4))
        .try_for_each(|(src, dst)| engine.encode_slice(src, dst).map(|_| ()))?;
    Ok((json.len(), out.len()))
}

/// Only the base64 pass of the project's encoder over `json`.
fn base64_only(json: &[u8]) -> usize {
    let mut out = Vec::with_capacity(json.len() / 3 * 4 + 4);
    base64_append(json, &mut out);
    out.len()
}

/// Sizes measured once per workload (outside the timed loops).
struct Sizes {
    /// JSON of the whole table as one chunk, without the chunker's whitespace padding.
    row_json: usize,
    column_json: usize,
    arrow_json: usize,
    /// The ROW JSON of the project's encoder, the input of the base64-only pass.
    row_json_bytes: Vec<u8>,
}

fn sizes(w: &Workload) -> Result<Sizes, BenchError> {
    let mut unpadded = [0usize; 2];
    let mut row_json_bytes = Vec::new();
    for (i, o) in [Orientation::Row, Orientation::Column]
        .into_iter()
        .enumerate()
    {
        let chunked = pushdata_encode(w, o)?;
        let json = encoding::encode_json(&w.table, &w.batches, o)?;
        // The chunker's JSON differs from one-chunk JSON only by the whitespace padding of
        // its pieces (at most 2 bytes each), the 3-byte separators and the brackets of the
        // extra chunks.
        if chunked.json < json.len() || chunked.json - json.len() > 5 * chunked.segments + 64 {
            return Err(format!(
                "{} {o}: the chunker wrote {} bytes of JSON in {} segments, encode_json {}",
                w.group,
                chunked.json,
                chunked.segments,
                json.len()
            )
            .into());
        }
        unpadded[i] = json.len();
        if o == Orientation::Row {
            row_json_bytes = json;
        }
    }
    let (aj, _) = arrow_json_base64(&w.batches)?;
    Ok(Sizes {
        row_json: unpadded[0],
        column_json: unpadded[1],
        arrow_json: aj.len(),
        row_json_bytes,
    })
}

/// Benchmark ids (without the thread suffix) and their labels in the report.
const IDS: &[(&str, &str)] = &[
    ("pushdata_row", "pushdata ROW"),
    ("pushdata_column", "pushdata COLUMN"),
    ("arrowjson_base64", "arrow-json + base64"),
    ("base64_only", "base64 only (lower bound)"),
];

fn bench_workload(c: &mut Criterion, w: &Workload, s: &Sizes, pools: &Pools) {
    let mut g = c.benchmark_group(&w.group);
    g.sampling_mode(SamplingMode::Flat);
    for (suffix, pool) in [("t1", &pools.one), ("tall", &pools.all)] {
        let group = w.group.as_str();
        let id = format!("pushdata_row_{suffix}");
        g.throughput(Throughput::Bytes(s.row_json as u64));
        g.bench_function(&id, |b| {
            mark_ran(group, &id);
            b.iter(|| {
                pool.install(|| pushdata_encode(w, Orientation::Row).map_err(|e| e.to_string()))
            })
        });
        let id = format!("pushdata_column_{suffix}");
        g.throughput(Throughput::Bytes(s.column_json as u64));
        g.bench_function(&id, |b| {
            mark_ran(group, &id);
            b.iter(|| {
                pool.install(|| pushdata_encode(w, Orientation::Column).map_err(|e| e.to_string()))
            })
        });
        let id = format!("arrowjson_base64_{suffix}");
        g.throughput(Throughput::Bytes(s.arrow_json as u64));
        g.bench_function(&id, |b| {
            mark_ran(group, &id);
            b.iter(|| {
                pool.install(|| {
                    if suffix == "t1" {
                        arrow_json_base64(&w.batches).map(|(j, b)| (j.len(), b.len()))
                    } else {
                        arrow_json_base64_parallel(&w.batches)
                    }
                    .map_err(|e| e.to_string())
                })
            })
        });
        let id = format!("base64_only_{suffix}");
        g.throughput(Throughput::Bytes(s.row_json as u64));
        g.bench_function(&id, |b| {
            mark_ran(group, &id);
            b.iter(|| pool.install(|| base64_only(&s.row_json_bytes)))
        });
    }
    g.finish();
}

/// Criterion's mean estimate (ns) of `group/id`, if that benchmark ran.
fn mean_ns(dir: &Path, group: &str, id: &str) -> Option<f64> {
    if !ran(group, id) {
        return None;
    }
    let path = dir.join(group).join(id).join("new").join("estimates.json");
    let text = std::fs::read_to_string(path).ok()?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    v.get("mean")?.get("point_estimate")?.as_f64()
}

fn print_table(dir: &Path, w: &Workload, s: &Sizes, pools: &Pools) {
    let any = ["t1", "tall"].iter().any(|t| {
        IDS.iter()
            .any(|(id, _)| ran(&w.group, &format!("{id}_{t}")))
    });
    if !any {
        return;
    }
    println!();
    println!(
        "#### {} — {} rows, {} columns; ROW JSON {:.1} MB, COLUMN JSON {:.1} MB, arrow-json JSON {:.1} MB",
        w.title,
        w.rows,
        w.table.columns.len(),
        s.row_json as f64 / 1e6,
        s.column_json as f64 / 1e6,
        s.arrow_json as f64 / 1e6,
    );
    println!();
    println!(
        "| encoder | threads | time (ms) | JSON MB/s | Mrows/s | speed-up vs arrow-json + base64 (same threads) | speed-up vs arrow-json + base64 (1 thread) | time ÷ base64-only pass (same threads) |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|---:|");
    for (suffix, threads) in [("t1", 1usize), ("tall", pools.all_threads)] {
        let base = mean_ns(dir, &w.group, &format!("arrowjson_base64_{suffix}"));
        let base1 = mean_ns(dir, &w.group, "arrowjson_base64_t1");
        let b64 = mean_ns(dir, &w.group, &format!("base64_only_{suffix}"));
        for (id, label) in IDS {
            let Some(ns) = mean_ns(dir, &w.group, &format!("{id}_{suffix}")) else {
                continue;
            };
            let json = match *id {
                "pushdata_column" => s.column_json,
                "arrowjson_base64" => s.arrow_json,
                _ => s.row_json,
            };
            let secs = ns / 1e9;
            let ratio = |other: Option<f64>, inverse: bool| match other {
                Some(o) if *id != "base64_only" => {
                    if inverse {
                        format!("{:.2}×", ns / o)
                    } else {
                        format!("{:.2}×", o / ns)
                    }
                }
                _ => "—".to_string(),
            };
            println!(
                "| {label} | {threads} | {:.1} | {:.0} | {:.2} | {} | {} | {} |",
                ns / 1e6,
                json as f64 / 1e6 / secs,
                w.rows as f64 / 1e6 / secs,
                if *id == "arrowjson_base64" {
                    "1.00×".into()
                } else {
                    ratio(base, false)
                },
                ratio(base1, false),
                ratio(b64, true),
            );
        }
    }
}

fn verdict(met: bool) -> &'static str {
    if met { "met" } else { "missed" }
}

/// The encoding targets, per workload, with all threads.
fn print_targets(dir: &Path, workloads: &[Workload]) {
    println!();
    println!("#### Encoding targets (all threads)");
    println!();
    for w in workloads {
        let g = w.group.as_str();
        let t = |id: &str| mean_ns(dir, g, id);
        for (id, label) in [("pushdata_row", "ROW"), ("pushdata_column", "COLUMN")] {
            let (Some(ours), Some(base_all), Some(base_one), Some(b64)) = (
                t(&format!("{id}_tall")),
                t("arrowjson_base64_tall"),
                t("arrowjson_base64_t1"),
                t("base64_only_tall"),
            ) else {
                continue;
            };
            println!(
                "- {}, {label}: {:.2}× the arrow-json + base64 baseline (one thread, as it runs; target ≥ 3×: {}), {:.2}× its parallelised version (≥ 3×: {}); {:.2}× the base64-only pass (target ≤ 4×: {}).",
                w.title,
                base_one / ours,
                verdict(base_one / ours >= 3.0),
                base_all / ours,
                verdict(base_all / ours >= 3.0),
                ours / b64,
                verdict(ours / b64 <= 4.0),
            );
        }
    }
}

fn main() -> Result<(), BenchError> {
    let sf = data::env_f64("PUSHDATA_BENCH_SF", 0.1)?;
    let mixed_rows = data::env_f64("PUSHDATA_BENCH_MIXED_ROWS", 100_000.0)? as usize;
    let pools = Pools {
        one: rayon::ThreadPoolBuilder::new().num_threads(1).build()?,
        all: rayon::ThreadPoolBuilder::new().build()?,
        all_threads: rayon::current_num_threads(),
    };
    let path = data::lineitem_parquet(sf)?;
    let (schema, batches) = data::read_parquet(&path)?;
    let lineitem = workload(
        "lineitem",
        format!("TPC-H lineitem SF {sf}"),
        schema,
        batches,
    )?;
    let (schema, batches) = data::mixed_batches(mixed_rows)?;
    let mixed = workload(
        "mixed",
        "mixed synthetic table (nulls, timestamps, decimals, long strings)".into(),
        schema,
        batches,
    )?;
    let workloads = [lineitem, mixed];
    let sizes: Vec<Sizes> = workloads.iter().map(sizes).collect::<Result<_, _>>()?;

    let out_dir: PathBuf = data::target_dir().join("criterion");
    let mut c = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3))
        .output_directory(&out_dir)
        .configure_from_args();
    for (w, s) in workloads.iter().zip(&sizes) {
        bench_workload(&mut c, w, s, &pools);
    }
    c.final_summary();

    println!();
    println!(
        "### Encoding ({} threads available; MB = 10^6 bytes; times are criterion's mean)",
        pools.all_threads
    );
    for (w, s) in workloads.iter().zip(&sizes) {
        print_table(&out_dir, w, s, &pools);
    }
    print_targets(&out_dir, &workloads);
    Ok(())
}
