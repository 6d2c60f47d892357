//! End-to-end benchmark of Veracity ingest: push the TPC-H `lineitem` Parquet file into a
//! new dataset of the reference server's Veracity emulation with
//! `pushdata_arrow::veracity::VeracityPush::create` (schema made from the Arrow schema with
//! the keys `l_orderkey`, `l_linenumber`; register; the CSV file encoded while its parts are
//! appended; flush; start; job status polled).
//!
//! ```text
//! cargo bench --bench veracity_load -- --sf 0.1            # one scale factor
//! cargo bench --bench veracity_load -- --sf 0.1 --sf 1     # several, each in its own processes
//! cargo bench --bench veracity_load -- --sf 1 --mode child # only the client-alone measurement
//! cargo bench --bench veracity_load -- --sf 1 --part-mb 8  # not the default part size
//! cargo bench --bench veracity_load -- --sf 0.1 --runs 1   # one run of each (default 5)
//! ```
//!
//! Like `bulk_load`, this binary is its own orchestrator: the Parquet file is generated once
//! and cached under `target/bench-data/`, and each measurement runs in a fresh process of
//! itself, because peak RSS (`getrusage` `ru_maxrss`) is per process:
//!
//! - `inprocess`: the server (`pushdata_server::Server::start` on 127.0.0.1:0, temporary
//!   data directory) and the client share one process;
//! - `child`: the server runs in a child process (this binary with `--role server`), so
//!   the client's peak RSS and CPU time are its own, and the server reports its own.
//!
//! The wall time is the push's own (`VeracityPushReport::seconds`: from opening the Parquet
//! file to the job's final status, including the token request). The job status is polled
//! every 20 ms, as `benches/veracity_python.py` does (the library's default waits 20 ms,
//! then longer and longer).
//!
//! Each scale factor and mode is run `--runs` times (default [`DEFAULT_RUNS`]), each in a
//! fresh process; the tables and the results file hold the run of median wall time, with
//! every run's wall time under `wall_s_runs` (a single push's wall time moved by about a
//! tenth from run to run on this shared 2-core machine).
//!
//! Each run prints one `RESULT {json}` line; the orchestrator prints markdown tables and
//! writes all results to `target/bench-data/veracity_load-results.json` (which
//! `benches/veracity_python.py` reads for its side-by-side ratio).

mod data;
mod harness;

use std::path::PathBuf;
use std::time::Duration;

use pushdata::arrow::veracity::{DEFAULT_PART_BYTES, VeracityPush, VeracityPushReport};
use pushdata::core::BackoffConfig;
use pushdata::core::veracity::{Client, JobWait};
use pushdata::server::{
    DEFAULT_VERACITY_CLIENT_ID, DEFAULT_VERACITY_CLIENT_SECRET, DEFAULT_VERACITY_SUBSCRIPTION_KEY,
};
use serde_json::{Value, json};

use data::BenchError;
use harness::{Args, f, server_label};

/// Any workspace id: the emulation keeps each workspace's datasets apart.
const WORKSPACE: &str = "5f1c2d3e-0000-4000-a000-0000000000b1";
/// The emulation's gateway, under the server's root.
const GATEWAY: &str = "/veracity/dw/gateway/api/v2";
/// The key columns of `lineitem`.
const KEYS: [&str; 2] = ["l_orderkey", "l_linenumber"];
/// The job status poll interval (both sides of the comparison).
const POLL: Duration = Duration::from_millis(20);
/// Part size in MiB instead of the library default.
const PART_MB: &str = "--part-mb";
/// Runs of each scale factor and mode, instead of [`DEFAULT_RUNS`].
const RUNS: &str = "--runs";
/// Runs of each scale factor and mode: the median one is reported.
const DEFAULT_RUNS: usize = 5;

fn main() {
    // What the `pushdata` binary does first (one glibc arena per core), so the peak RSS
    // measured here is the one a `pushdata push`/`pull`/`serve` process gets.
    pushdata::core::allocator::one_arena_per_core();
    let result =
        harness::parse_args(&[PART_MB, RUNS], &[]).and_then(|args| match args.role.as_deref() {
            None => orchestrate(&args),
            Some("server") => harness::serve(),
            Some(role @ ("inprocess" | "child")) => {
                let sf = args.sfs.first().copied().unwrap_or(0.1);
                worker(role, sf, args.option(PART_MB))
            }
            Some(other) => Err(format!("unknown role {other:?}").into()),
        });
    if let Err(e) = result {
        eprintln!("veracity_load: error: {e}");
        std::process::exit(1);
    }
}

// ---- the measured push -------------------------------------------------------------------

/// One `VeracityPush::create` of the Parquet file against the emulation at `root`
/// (`http://host:port`).
async fn push(
    root: String,
    parquet: PathBuf,
    part_mb: Option<usize>,
) -> Result<VeracityPushReport, BenchError> {
    let client = Client::builder(WORKSPACE)
        .with_base_url(format!("{root}{GATEWAY}"))
        .with_token_url(format!("{root}/tenant/oauth2/token"))
        .with_credentials(DEFAULT_VERACITY_CLIENT_ID, DEFAULT_VERACITY_CLIENT_SECRET)
        .with_subscription_key(DEFAULT_VERACITY_SUBSCRIPTION_KEY)
        .build()?;
    let mut push = VeracityPush::create(client, "bench_lineitem").with_parquet(parquet);
    for key in KEYS {
        push = push.with_key(key);
    }
    if let Some(mb) = part_mb {
        push = push.with_part_bytes(mb * 1024 * 1024);
    }
    let wait = JobWait::default().with_poll(
        BackoffConfig::default()
            .with_init_backoff(POLL)
            .with_max_backoff(POLL),
    );
    Ok(push.with_job_wait(wait).await?)
}

/// `--role inprocess|child`: one measured push; prints `RESULT {json}`.
fn worker(role: &str, sf: f64, part_mb: Option<usize>) -> Result<(), BenchError> {
    let parquet = harness::lineitem_input(sf)?;
    let input_bytes = std::fs::metadata(&parquet)?.len();
    let measured = harness::measure(role, |at| push(at.root, parquet.clone(), part_mb))?;
    let report = measured.value;
    let result = json!({
        "mode": role,
        "part_mb": part_mb,
        "sf": sf,
        "rows": report.rows,
        "csv_bytes": report.bytes,
        "parts": report.parts,
        "parquet_bytes": input_bytes,
        "wall_s": report.seconds,
        "status": report.status.as_str(),
        "cpu_s": measured.cpu_s,
        "peak_rss": data::peak_rss_self(),
        "server": measured.server,
    });
    println!("RESULT {result}");
    Ok(())
}

// ---- orchestrator ----------------------------------------------------------------------------

fn orchestrate(args: &Args) -> Result<(), BenchError> {
    let runs = args.option(RUNS).unwrap_or(DEFAULT_RUNS);
    let results = harness::run_all_median("veracity_load", args, runs, "wall_s")?;
    let part_mb = args.option(PART_MB);
    let mut name = "veracity_load-results".to_string();
    if let Some(mb) = part_mb {
        name.push_str(&format!("-part{mb}mb"));
    }
    let path = harness::write_results(&name, &results)?;
    let parts = match part_mb {
        Some(mb) => format!("{mb} MiB parts"),
        None => format!("default {} MiB parts", DEFAULT_PART_BYTES / (1024 * 1024)),
    };
    let parts = format!("{parts}; the run of median wall time of {runs}");
    print_throughput_table(&results, &parts);
    harness::print_resources_table(
        &results,
        &format!("Veracity ingest: peak resident memory and CPU time (getrusage; {parts})"),
    );
    eprintln!("veracity_load: results written to {}", path.display());
    Ok(())
}

/// The end-to-end table: rows, CSV bytes, parts, wall time and rates.
fn print_throughput_table(results: &[Value], parts: &str) {
    println!();
    println!(
        "### Veracity ingest: lineitem Parquet -> reference server's Veracity emulation \
         (VeracityPush::create, {parts}; MB = 10^6 bytes)"
    );
    println!();
    println!(
        "| SF | server | rows | CSV MB | parts | job status | wall (s) | rows/s | CSV MB/s | \
         wall of each run (s) |"
    );
    println!("|---|---|---:|---:|---:|---|---:|---:|---:|---|");
    for r in results {
        let wall = f(r, "wall_s").unwrap_or(f64::NAN);
        let rows = f(r, "rows").unwrap_or(0.0);
        let bytes = f(r, "csv_bytes").unwrap_or(0.0);
        let each: Vec<String> = r["wall_s_runs"]
            .as_array()
            .map(|runs| {
                runs.iter()
                    .filter_map(Value::as_f64)
                    .map(|w| format!("{w:.2}"))
                    .collect()
            })
            .unwrap_or_else(|| vec![format!("{wall:.2}")]);
        println!(
            "| {} | {} | {:.0} | {:.0} | {:.0} | {} | {:.2} | {:.0} | {:.1} | {} |",
            f(r, "sf").unwrap_or(0.0),
            server_label(r),
            rows,
            bytes / 1e6,
            f(r, "parts").unwrap_or(0.0),
            r["status"].as_str().unwrap_or("?"),
            wall,
            rows / wall,
            bytes / 1e6 / wall,
            each.join(", "),
        );
    }
}
