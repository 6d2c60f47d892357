//! Decoding benchmark (criterion): the reference server's chunk decode, on the chunks the
//! client's encoder writes.
//!
//! TPC-H `lineitem` (read from the cached Parquet file) is encoded once per orientation
//! with `pushdata_arrow::encoding::encode_base64` (the client's encoder) into one chunk's
//! base64 data, wrapped in the chunk envelope `{"tableName", "index", "data"}`. Then, for a
//! rayon pool of 1 thread and the default pool (all cores), the two stages an upload runs
//! on the server (through `pushdata_server::fuzzing`, thin wrappers over the server's own
//! code):
//!
//! - `body_{row,column}`: the streaming envelope reader fed the body in 64 KiB frames (as
//!   the upload route feeds it): base64 decoded into the chunk JSON;
//! - `json_{row,column}`: the chunk JSON decoded into Arrow arrays of the table's types
//!   (as an upload session decodes it: parallel parts when large).
//!
//! Configuration (environment, since criterion owns the command line): `PUSHDATA_BENCH_SF`
//! (lineitem scale factor, default 0.1 = 600k rows, about one default chunk).
//!
//! After criterion, each stage is run a few more times with the process's CPU time
//! (getrusage: user + system, all threads) read around each run, and a table of CPU
//! milliseconds per MB (10^6 bytes) of JSON is printed: a figure that other work on the
//! machine moves less than wall time. `PUSHDATA_BENCH_CPU_ONLY=1` prints only that table
//! (no criterion runs); `PUSHDATA_BENCH_ORIENTATION=row` (or `column`) encodes and
//! decodes only that orientation (for instruction counts under callgrind).

mod data;

use std::time::Duration;

use arrow_array::RecordBatch;
use criterion::{Criterion, SamplingMode, Throughput};
use pushdata::arrow::encoding::encode_base64;
use pushdata::core::wire::{ColumnHeader, Orientation};
use pushdata_server::fuzzing;
use rayon::ThreadPool;

use data::BenchError;

/// Frame size the envelope reader is fed.
const FRAME: usize = 64 << 10;

/// Runs per stage for the CPU-time table.
const CPU_RUNS: usize = 5;

/// One orientation's chunk of the workload.
struct Chunk {
    orientation: Orientation,
    /// The chunk body, envelope and base64 data.
    body: Vec<u8>,
    /// The chunk JSON the body holds.
    json: Vec<u8>,
}

struct Workload {
    columns: Vec<ColumnHeader>,
    rows: usize,
    chunks: Vec<Chunk>,
}

fn workload(sf: f64) -> Result<Workload, BenchError> {
    let (table, batches) = data::lineitem_model(sf)?;
    let table = &table;
    let columns = table.column_headers();
    let rows = batches.iter().map(RecordBatch::num_rows).sum();
    let mut chunks = Vec::new();
    let only = std::env::var("PUSHDATA_BENCH_ORIENTATION").ok();
    for orientation in [Orientation::Row, Orientation::Column] {
        if only.as_deref().is_some_and(|o| o != label(orientation)) {
            continue;
        }
        let data = encode_base64(table, &batches, orientation)?;
        let body = format!(r#"{{"tableName":"lineitem","index":1,"data":"{data}"}}"#).into_bytes();
        let (_, _, json) = read_body(&body)?;
        // The decoder must take what the encoder wrote.
        fuzzing::chunk_json(&json, &columns, None, orientation)?;
        chunks.push(Chunk {
            orientation,
            body,
            json,
        });
    }
    Ok(Workload {
        columns,
        rows,
        chunks,
    })
}

fn read_body(body: &[u8]) -> Result<(String, u64, Vec<u8>), String> {
    let frames: Vec<&[u8]> = body.chunks(FRAME).collect();
    fuzzing::chunk_body(&frames, Some(body.len()))
}

fn decode_json(w: &Workload, c: &Chunk) -> Result<usize, String> {
    let parts = fuzzing::chunk_json(&c.json, &w.columns, None, c.orientation)?;
    Ok(parts.iter().map(RecordBatch::num_rows).sum())
}

fn label(o: Orientation) -> &'static str {
    match o {
        Orientation::Row => "row",
        Orientation::Column => "column",
    }
}

fn bench(c: &mut Criterion, w: &Workload, pools: &[(&str, &ThreadPool)]) {
    let mut g = c.benchmark_group("decode_lineitem");
    g.sampling_mode(SamplingMode::Flat);
    for (suffix, pool) in pools {
        for ch in &w.chunks {
            let o = label(ch.orientation);
            g.throughput(Throughput::Bytes(ch.json.len() as u64));
            g.bench_function(format!("body_{o}_{suffix}"), |b| {
                b.iter(|| pool.install(|| read_body(&ch.body).map(|(_, _, j)| j.len())))
            });
            g.bench_function(format!("json_{o}_{suffix}"), |b| {
                b.iter(|| pool.install(|| decode_json(w, ch)))
            });
        }
    }
    g.finish();
}

/// CPU seconds (all threads) of the fastest of [`CPU_RUNS`] runs of `run`.
fn cpu_of(
    pool: &ThreadPool,
    run: impl Fn() -> Result<usize, String> + Sync,
) -> Result<f64, BenchError> {
    let mut best = f64::INFINITY;
    for _ in 0..CPU_RUNS {
        let before = data::cpu_self();
        std::hint::black_box(pool.install(&run)?);
        best = best.min(data::cpu_self() - before);
    }
    Ok(best)
}

fn print_cpu_table(w: &Workload, pools: &[(&str, &ThreadPool)]) -> Result<(), BenchError> {
    println!();
    println!(
        "#### Chunk decode CPU time — lineitem, {} rows, 16 columns (the fastest of {CPU_RUNS} runs; getrusage user + system, all threads; MB = 10^6 bytes of JSON)",
        w.rows
    );
    println!();
    println!(
        "| orientation | threads | JSON MB | base64 MB | envelope + base64: CPU ms | ms/MB | JSON decode: CPU ms | ms/MB | both: ms/MB |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|---:|---:|");
    for (suffix, pool) in pools {
        for ch in &w.chunks {
            let body = cpu_of(pool, || read_body(&ch.body).map(|(_, _, j)| j.len()))?;
            let json = cpu_of(pool, || decode_json(w, ch))?;
            let mb = ch.json.len() as f64 / 1e6;
            println!(
                "| {} | {} | {:.1} | {:.1} | {:.0} | {:.2} | {:.0} | {:.2} | {:.2} |",
                label(ch.orientation).to_uppercase(),
                if *suffix == "t1" { "1" } else { "all" },
                mb,
                ch.body.len() as f64 / 1e6,
                body * 1e3,
                body * 1e3 / mb,
                json * 1e3,
                json * 1e3 / mb,
                (body + json) * 1e3 / mb,
            );
        }
    }
    Ok(())
}

fn main() -> Result<(), BenchError> {
    let sf = data::env_f64("PUSHDATA_BENCH_SF", 0.1)?;
    let w = workload(sf)?;
    let one = rayon::ThreadPoolBuilder::new().num_threads(1).build()?;
    let all = rayon::ThreadPoolBuilder::new().build()?;
    let pools = [("t1", &one), ("tall", &all)];
    if std::env::var("PUSHDATA_BENCH_CPU_ONLY").is_ok_and(|v| v == "1") {
        return print_cpu_table(&w, &pools);
    }
    let mut c = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3))
        .configure_from_args();
    bench(&mut c, &w, &pools);
    c.final_summary();
    print_cpu_table(&w, &pools)
}
