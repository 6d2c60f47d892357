//! End-to-end benchmark: push the TPC-H `lineitem` Parquet file into the reference server
//! with the multi-request workflow and default settings (`pushdata_arrow::Push`).
//!
//! ```text
//! cargo bench --bench bulk_load -- --sf 0.1            # one scale factor
//! cargo bench --bench bulk_load -- --sf 0.1 --sf 1     # several, each in its own processes
//! cargo bench --bench bulk_load -- --sf 1 --mode child # only the client-alone measurement
//! cargo bench --bench bulk_load -- --sf 1 --chunk-mb 16  # not the default chunk size
//! cargo bench --bench bulk_load -- --sf 1 --max-buffered-mb 200  # not the default memory budget
//! cargo bench --bench bulk_load -- --sf 1 --orientation column  # COLUMN chunks, not ROW
//! ```
//!
//! This binary is its own orchestrator: for every scale factor it generates (once, cached
//! under `target/bench-data/`) the Parquet file, then runs each measurement in a fresh
//! process of itself, because peak RSS (`getrusage` `ru_maxrss`) is per process:
//!
//! - `inprocess`: the server (`pushdata_server::Server::start` on 127.0.0.1:0, temporary
//!   data directory) and the client share one process; its peak RSS is both together;
//! - `child`: the server runs in a child process (this binary with `--role server`), so
//!   the client's peak RSS and CPU time are its own, and the server reports its own.
//!
//! Each run prints one `RESULT {json}` line; the orchestrator prints markdown tables and
//! writes all results to `target/bench-data/bulk_load-results.json` (which
//! `benches/mstrio_bulk_load.py` reads for its side-by-side ratio).

mod data;
mod harness;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use pushdata::arrow::{ProgressEvent, Push, PushReport};
use pushdata::core::wire::Orientation;
use pushdata::core::{Client, Credentials};
use serde_json::{Value, json};

use data::BenchError;
use harness::{Args, f, fmt_s, server_label};

const TABLE: &str = "lineitem";
/// Chunk target in MB instead of the library default.
const CHUNK_MB: &str = "--chunk-mb";
/// Memory budget for encoded chunk data in MB (MiB) instead of the library default of
/// 1.5 chunks.
const MAX_BUFFERED_MB: &str = "--max-buffered-mb";
/// The chunk orientation instead of the library default (ROW).
const ORIENTATION: harness::WordOption = ("--orientation", &["row", "column"]);
/// When set, the workers read lineitem from this object-store URL (the same file, uploaded
/// there; `benches/report.sh` uploads it to a moto S3 emulator) instead of the local file;
/// the store's endpoint and credentials come from the environment (`AWS_ENDPOINT`, ...).
const INPUT_URL_ENV: &str = "PUSHDATA_BENCH_INPUT_URL";

/// The object-store URL lineitem is read from, if not the local file.
fn input_url() -> Option<String> {
    std::env::var(INPUT_URL_ENV).ok().filter(|u| !u.is_empty())
}

/// The push settings a run changes from the library defaults.
#[derive(Debug, Clone, Copy)]
struct Settings {
    chunk_mb: Option<usize>,
    max_buffered_mb: Option<usize>,
    /// COLUMN chunks instead of ROW ones.
    column: bool,
}

impl Settings {
    fn of(args: &Args) -> Self {
        Settings {
            chunk_mb: args.option(CHUNK_MB),
            max_buffered_mb: args.option(MAX_BUFFERED_MB),
            column: args.word(ORIENTATION.0) == Some("column"),
        }
    }

    /// How the settings read in the tables' titles.
    fn describe(&self) -> String {
        let mut changes = Vec::new();
        if let Some(mb) = self.chunk_mb {
            changes.push(format!("{mb} MiB chunks"));
        }
        if let Some(mb) = self.max_buffered_mb {
            changes.push(format!("a {mb} MiB memory budget"));
        }
        if self.column {
            changes.push("COLUMN orientation".to_string());
        }
        if let Some(url) = input_url() {
            changes.push(format!("the Parquet file read from {url} (ranged reads)"));
        }
        if changes.is_empty() {
            "default settings".to_string()
        } else {
            format!("default settings but {}", changes.join(" and "))
        }
    }

    fn is_default(&self) -> bool {
        self.chunk_mb.is_none()
            && self.max_buffered_mb.is_none()
            && !self.column
            && input_url().is_none()
    }
}

fn main() {
    // What the `pushdata` binary does first (one glibc arena per core), so the peak RSS
    // measured here is the one a `pushdata push`/`pull`/`serve` process gets.
    pushdata::core::allocator::one_arena_per_core();
    let options = [CHUNK_MB, MAX_BUFFERED_MB];
    let result =
        harness::parse_args(&options, &[ORIENTATION]).and_then(|args| match args.role.as_deref() {
            None => orchestrate(&args),
            Some("server") => harness::serve(),
            Some(role @ ("inprocess" | "child")) => {
                let sf = args.sfs.first().copied().unwrap_or(0.1);
                worker(role, sf, Settings::of(&args))
            }
            Some(other) => Err(format!("unknown role {other:?}").into()),
        });
    if let Err(e) = result {
        eprintln!("bulk_load: error: {e}");
        std::process::exit(1);
    }
}

// ---- the measured push -------------------------------------------------------------------

/// When the progress events of interest happened, relative to the start of the push.
#[derive(Debug, Default, Clone)]
struct Timeline {
    session_opened: Option<Duration>,
    first_chunk: Option<Duration>,
    last_chunk: Option<Duration>,
    encoded: Option<Duration>,
    publishing: Option<Duration>,
    published: Option<Duration>,
}

async fn push(
    base_url: String,
    parquet: PathBuf,
    settings: Settings,
) -> Result<(PushReport, Timeline), BenchError> {
    let client = Client::builder(&base_url).build()?;
    client
        .login(Credentials::standard("administrator", ""))
        .await?;
    client.select_project("MicroStrategy Tutorial").await?;
    let timeline = Arc::new(Mutex::new(Timeline::default()));
    let started = Instant::now();
    let tl = timeline.clone();
    let mut push = Push::create(client.clone(), "bench_lineitem");
    if let Some(mb) = settings.chunk_mb {
        push = push.with_chunk_bytes(mb * 1024 * 1024);
    }
    if let Some(mb) = settings.max_buffered_mb {
        push = push.with_max_buffered_bytes(mb * 1024 * 1024);
    }
    if settings.column {
        push = push.with_orientation(Orientation::Column);
    }
    let push = match input_url() {
        Some(url) => {
            let options = pushdata::arrow::InputOptions::default();
            let source = tokio::task::spawn_blocking(move || {
                pushdata::arrow::InputSource::open(TABLE, url, options)
            })
            .await
            .map_err(|e| e.to_string())??;
            push.with_input_table(TABLE, source)
        }
        None => push.with_parquet_table(TABLE, parquet),
    };
    let report = push
        .with_progress(move |e| {
            let at = started.elapsed();
            let Ok(mut t) = tl.lock() else { return };
            match e {
                ProgressEvent::SessionOpened { .. } => t.session_opened = Some(at),
                ProgressEvent::ChunkUploaded { .. } => {
                    t.first_chunk.get_or_insert(at);
                    t.last_chunk = Some(at);
                }
                ProgressEvent::TableEncoded { .. } => t.encoded = Some(at),
                ProgressEvent::Publishing { .. } => t.publishing = Some(at),
                ProgressEvent::Published { .. } => t.published = Some(at),
                _ => {}
            }
        })
        .execute()
        .await?;
    let _ = client.logout().await;
    let t = timeline
        .lock()
        .map_err(|_| "progress lock poisoned")?
        .clone();
    Ok((report, t))
}

/// `--role inprocess|child`: one measured push; prints `RESULT {json}`.
fn worker(role: &str, sf: f64, settings: Settings) -> Result<(), BenchError> {
    let parquet = harness::lineitem_input(sf)?;
    let input_bytes = std::fs::metadata(&parquet)?.len();
    let measured = harness::measure(role, |at| push(at.base_url, parquet.clone(), settings))?;
    let (report, timeline) = measured.value;
    let secs = |d: Option<Duration>| d.map(|d| d.as_secs_f64());
    let rows: u64 = report.tables.iter().map(|t| t.rows).sum();
    let result = json!({
        "mode": role,
        "chunk_mb": settings.chunk_mb,
        "max_buffered_mb": settings.max_buffered_mb,
        "orientation": if settings.column { "column" } else { "row" },
        "sf": sf,
        "input_url": input_url(),
        "rows": rows,
        "chunks": report.chunks,
        "payload_bytes": report.bytes,
        "parquet_bytes": input_bytes,
        "wall_s": report.elapsed.as_secs_f64(),
        "session_opened_s": secs(timeline.session_opened),
        "first_chunk_s": secs(timeline.first_chunk),
        "last_chunk_s": secs(timeline.last_chunk),
        "encoded_s": secs(timeline.encoded),
        "publishing_s": secs(timeline.publishing),
        "published_s": secs(timeline.published),
        "cpu_s": measured.cpu_s,
        "peak_rss": data::peak_rss_self(),
        "server": measured.server,
    });
    println!("RESULT {result}");
    Ok(())
}

// ---- orchestrator ----------------------------------------------------------------------------

fn orchestrate(args: &Args) -> Result<(), BenchError> {
    let results = harness::run_all("bulk_load", args)?;
    let settings = Settings::of(args);
    let mut name = "bulk_load-results".to_string();
    if let Some(mb) = settings.chunk_mb {
        name.push_str(&format!("-chunk{mb}mb"));
    }
    if let Some(mb) = settings.max_buffered_mb {
        name.push_str(&format!("-buffered{mb}mb"));
    }
    if settings.column {
        name.push_str("-column");
    }
    if input_url().is_some() {
        name.push_str("-object-store");
    }
    let path = harness::write_results(&name, &results)?;
    let described = settings.describe();
    print_throughput_table(&results, &described);
    harness::print_resources_table(
        &results,
        &format!("Peak resident memory and CPU time (getrusage; {described})"),
    );
    print_client_scaling(&results, settings.is_default());
    print_scale_targets(&results, settings.is_default());
    eprintln!("bulk_load: results written to {}", path.display());
    Ok(())
}

/// The end-to-end table: rows, chunks, payload, wall time and its phases.
fn print_throughput_table(results: &[Value], settings: &str) {
    println!();
    println!(
        "### End to end: lineitem Parquet -> reference server (multi-request, {settings}; MB = 10^6 bytes)"
    );
    println!();
    println!(
        "| SF | server | rows | chunks | payload MB | wall (s) | rows/s | payload MB/s | setup (s) | streaming (s) | publish + wait (s) | encoding done at (s) |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for r in results {
        let wall = f(r, "wall_s").unwrap_or(f64::NAN);
        let rows = f(r, "rows").unwrap_or(0.0);
        let bytes = f(r, "payload_bytes").unwrap_or(0.0);
        let opened = f(r, "session_opened_s");
        let last = f(r, "last_chunk_s");
        let published = f(r, "published_s");
        println!(
            "| {} | {} | {:.0} | {:.0} | {:.0} | {:.2} | {:.0} | {:.1} | {} | {} | {} | {} |",
            f(r, "sf").unwrap_or(0.0),
            server_label(r),
            rows,
            f(r, "chunks").unwrap_or(0.0),
            bytes / 1e6,
            wall,
            rows / wall,
            bytes / 1e6 / wall,
            fmt_s(opened),
            fmt_s(last.zip(opened).map(|(l, o)| l - o)),
            fmt_s(published.zip(last).map(|(p, l)| p - l)),
            fmt_s(f(r, "encoded_s")),
        );
    }
}

/// The issue's scale targets, from SF 1 to SF 10 (server in a child process): client peak
/// RSS within 1.2×, the wall time in proportion to the rows, and the server's peak RSS
/// beside it. Printed only when both scale factors ran with the default settings.
fn print_scale_targets(results: &[Value], default_settings: bool) {
    let child = |sf: f64| {
        results
            .iter()
            .find(|r| r["mode"] == "child" && f(r, "sf") == Some(sf))
    };
    let (Some(one), Some(ten)) = (child(1.0), child(10.0)) else {
        return;
    };
    if !default_settings {
        return;
    }
    let pair = |key: &str| Some((f(one, key)?, f(ten, key)?));
    let server = |r: &Value| f(&r["server"], "peak_rss");
    println!();
    println!("Scale, SF 1 -> SF 10 (server in a child process, default settings):");
    println!();
    if let Some((a, b)) = pair("rows") {
        println!("- rows: {a:.0} -> {b:.0} = {:.2}×.", b / a);
    }
    if let Some((a, b)) = pair("wall_s") {
        let per_row = pair("rows").map(|(ra, rb)| (b / rb) / (a / ra));
        println!(
            "- wall: {a:.2} s -> {b:.2} s = {:.2}×; time per row at SF 10 against SF 1: {} (target: in proportion, at most 1.00×: {}).",
            b / a,
            per_row.map_or("—".to_string(), |p| format!("{p:.2}×")),
            match per_row {
                Some(p) if p <= 1.0 => "met",
                Some(_) => "missed",
                None => "not measured",
            },
        );
        // Beside the verdict, not instead of it: SF 10's keys have a digit more, so its
        // rows are longer on the wire than SF 1's.
        if let Some((pa, pb)) = pair("payload_bytes") {
            println!(
                "- payload: {:.0} MB -> {:.0} MB = {:.2}×; time per payload byte at SF 10 against SF 1: {:.2}× (for reading the row figure).",
                pa / 1e6,
                pb / 1e6,
                pb / pa,
                (b / pb) / (a / pa),
            );
        }
    }
    if let Some((a, b)) = pair("peak_rss") {
        println!(
            "- client peak RSS: {:.0} MB -> {:.0} MB = {:.2}× (target: within 1.2×: {}).",
            a / 1e6,
            b / 1e6,
            b / a,
            if b / a <= 1.2 { "met" } else { "missed" },
        );
    }
    if let (Some(a), Some(b)) = (server(one), server(ten)) {
        println!(
            "- server peak RSS: {:.0} MB -> {:.0} MB = {:.2}× (its staging memory budget: {} MiB, chunk slots: {}).",
            a / 1e6,
            b / 1e6,
            b / a,
            pushdata::server::DEFAULT_STAGING_MEMORY_BYTES >> 20,
            pushdata::server::ServerConfig::default().max_concurrent_chunks,
        );
    }
}

/// How the client's peak RSS grows with the scale factor (server in a child process);
/// `default_settings`: whether the targets for the default settings apply.
fn print_client_scaling(results: &[Value], default_settings: bool) {
    let client: Vec<(f64, f64)> = results
        .iter()
        .filter(|r| r["mode"] == "child")
        .filter_map(|r| Some((f(r, "sf")?, f(r, "peak_rss")?)))
        .collect();
    let Some(small) = client.iter().min_by(|a, b| a.0.total_cmp(&b.0)) else {
        return;
    };
    if client.len() < 2 {
        return;
    }
    println!();
    println!(
        "Client peak RSS (server in a child process), against SF {}:",
        small.0
    );
    println!();
    for large in client.iter().filter(|c| c.0 > small.0) {
        let ratio = large.1 / small.1;
        let targets = if large.0 == 1.0 && small.0 == 0.1 && default_settings {
            format!(
                " (targets for SF 1: under 600 MB: {}; under 1.5× the SF 0.1 figure: {})",
                if large.1 < 600e6 { "met" } else { "missed" },
                if ratio < 1.5 { "met" } else { "missed" },
            )
        } else {
            String::new()
        };
        println!(
            "- SF {} -> SF {}: {:.0} MB -> {:.0} MB = {:.2}×{targets}.",
            small.0,
            large.0,
            small.1 / 1e6,
            large.1 / 1e6,
            ratio,
        );
    }
}
