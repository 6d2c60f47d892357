//! End-to-end benchmark of the read-back side: publish the TPC-H `lineitem` Parquet file
//! into the reference server once (not timed), then read the whole dataset back through
//! the Cube API with `pushdata_arrow::Pull` (every attribute and metric, the default page
//! size) and time that.
//!
//! ```text
//! cargo bench --bench pull_load -- --sf 0.1            # one scale factor
//! cargo bench --bench pull_load -- --sf 0.1 --sf 1     # several, each in its own processes
//! ```
//!
//! Like `bulk_load`, this binary is its own orchestrator: the Parquet file is generated once
//! and cached under `target/bench-data/`, and each measurement runs in a fresh process of
//! itself, because peak RSS (`getrusage` `ru_maxrss`) is per process. The server always
//! runs in a child process (this binary with `--role server`) and the publish in another
//! (`--role publish --url URL`, the `bulk_load` push with default settings), so the
//! measuring process's peak RSS and CPU time are the pull's alone; the server's CPU time
//! is taken just before and after the pull.
//!
//! Timed: from [`Pull::open`] (the cube instance is created on the server: its rows are
//! read from the stored Parquet and grouped) to the last page decoded into an Arrow
//! batch; the batches are counted and dropped (nothing is written). Login is not timed.
//!
//! Each run prints one `RESULT {json}` line; the orchestrator prints markdown tables and
//! writes all results to `target/bench-data/pull_load-results.json` (which
//! `benches/mstrio_pull.py` reads for its side-by-side ratio).

mod data;
mod harness;

use std::time::Instant;

use pushdata::arrow::{Pull, Push};
use pushdata::core::{Client, Credentials};
use serde_json::{Value, json};

use data::BenchError;
use harness::{Args, f, fmt_mb, fmt_s};

const TABLE: &str = "lineitem";
const PROJECT: &str = "MicroStrategy Tutorial";

fn main() {
    // What the `pushdata` binary does first (one glibc arena per core), so the peak RSS
    // measured here is the one a `pushdata push`/`pull`/`serve` process gets.
    pushdata::core::allocator::one_arena_per_core();
    let result = harness::parse_args(&[], &[]).and_then(|args| {
        let sf = args.sfs.first().copied().unwrap_or(0.1);
        match args.role.as_deref() {
            None => orchestrate(&args),
            Some("server") => harness::serve(),
            Some("publish") => publish_role(&args, sf),
            Some("child") => worker(sf),
            Some(other) => {
                Err(format!("unknown role {other:?} (this bench runs child only)").into())
            }
        }
    });
    if let Err(e) = result {
        eprintln!("pull_load: error: {e}");
        std::process::exit(1);
    }
}

/// A client of the server at `base_url`, logged in, project selected.
async fn login(base_url: &str) -> Result<Client, BenchError> {
    let client = Client::builder(base_url).build()?;
    client
        .login(Credentials::standard("administrator", ""))
        .await?;
    client.select_project(PROJECT).await?;
    Ok(client)
}

/// `--role publish --url URL`: push the Parquet file of `sf` as a new dataset; prints
/// `RESULT {"dataset_id", "rows"}`.
fn publish_role(args: &Args, sf: f64) -> Result<(), BenchError> {
    let url = args.url.clone().ok_or("--role publish needs --url")?;
    let parquet = harness::lineitem_input(sf)?;
    let report = harness::runtime()?.block_on(async {
        let client = login(&url).await?;
        let report = Push::create(client.clone(), "bench_lineitem_pull")
            .with_parquet_table(TABLE, parquet)
            .execute()
            .await?;
        let _ = client.logout().await;
        Ok::<_, BenchError>(report)
    })?;
    let rows: u64 = report.tables.iter().map(|t| t.rows).sum();
    println!(
        "RESULT {}",
        json!({"dataset_id": report.dataset_id, "rows": rows})
    );
    Ok(())
}

/// What one pull read.
struct Pulled {
    rows: u64,
    pages: u64,
    columns: usize,
    wall_s: f64,
}

/// The measured pull: every page of the whole dataset, decoded and dropped.
async fn pull(base_url: String, dataset_id: String) -> Result<Pulled, BenchError> {
    let client = login(&base_url).await?;
    let started = Instant::now();
    let mut pages = Pull::new(client.clone(), dataset_id).open().await?;
    let mut rows = 0u64;
    while let Some(batch) = pages.next_batch().await? {
        rows += batch.num_rows() as u64;
    }
    let wall_s = started.elapsed().as_secs_f64();
    let report = pages.report();
    let _ = client.logout().await;
    Ok(Pulled {
        rows,
        pages: report.pages,
        columns: report.schema.fields().len(),
        wall_s,
    })
}

/// `--role child`: publish (another process), then one measured pull; prints
/// `RESULT {json}`.
fn worker(sf: f64) -> Result<(), BenchError> {
    let m = harness::measure_after(
        |at| {
            let args = [
                "--role",
                "publish",
                "--sf",
                &sf.to_string(),
                "--url",
                &at.base_url,
            ]
            .map(str::to_string);
            harness::run_self(&args, &format!("publish of SF {sf}"))
        },
        |at, published| async move {
            let id = published["dataset_id"]
                .as_str()
                .ok_or("the publish printed no dataset_id")?
                .to_string();
            let want = f(&published, "rows").unwrap_or(-1.0) as u64;
            let pulled = pull(at.base_url, id).await?;
            if pulled.rows != want {
                return Err(format!("pulled {} rows, published {want}", pulled.rows).into());
            }
            Ok(pulled)
        },
    )?;
    let p = &m.measured.value;
    let result = json!({
        "mode": "child",
        "sf": sf,
        "rows": p.rows,
        "pages": p.pages,
        "columns": p.columns,
        "wall_s": p.wall_s,
        "cpu_s": m.measured.cpu_s,
        "peak_rss": data::peak_rss_self(),
        "server_cpu_s": m.server_cpu_s,
        "server": m.measured.server,
    });
    println!("RESULT {result}");
    Ok(())
}

// ---- orchestrator ----------------------------------------------------------------------------

fn orchestrate(args: &Args) -> Result<(), BenchError> {
    let mut args = args.clone();
    args.modes = vec!["child".into()];
    let results = harness::run_all("pull_load", &args)?;
    let path = harness::write_results("pull_load-results", &results)?;
    print_table(&results);
    print_client_scaling(&results);
    eprintln!("pull_load: results written to {}", path.display());
    Ok(())
}

/// The pull table: rows, pages, wall time, client and server CPU, client peak RSS.
fn print_table(results: &[Value]) {
    println!();
    println!(
        "### Pull: the whole lineitem dataset read back through the Cube API \
         (pushdata_arrow::Pull, default page size; server in a child process; MB = 10^6 bytes)"
    );
    println!();
    println!(
        "| SF | rows | columns | pages | wall (s) | rows/s | client CPU (s) | client CPU s per million rows | client peak RSS MB | server CPU (s) |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for r in results {
        let wall = f(r, "wall_s").unwrap_or(f64::NAN);
        let rows = f(r, "rows").unwrap_or(0.0);
        let cpu = f(r, "cpu_s");
        println!(
            "| {} | {rows:.0} | {:.0} | {:.0} | {wall:.2} | {:.0} | {} | {} | {} | {} |",
            f(r, "sf").unwrap_or(0.0),
            f(r, "columns").unwrap_or(0.0),
            f(r, "pages").unwrap_or(0.0),
            rows / wall,
            fmt_s(cpu),
            fmt_s(cpu.map(|c| c / (rows / 1e6))),
            fmt_mb(f(r, "peak_rss")),
            fmt_s(f(r, "server_cpu_s")),
        );
    }
    println!();
    println!(
        "Timed from the instance's creation (the server reads and groups the rows) to the last \
         page decoded into an Arrow batch (batches dropped); client CPU = this process's user + \
         system time during the pull; server CPU = the server child's during the pull (the \
         publish before it excluded)."
    );
}

/// How the client's peak RSS grows with the scale factor.
fn print_client_scaling(results: &[Value]) {
    let rss: Vec<(f64, f64)> = results
        .iter()
        .filter_map(|r| Some((f(r, "sf")?, f(r, "peak_rss")?)))
        .collect();
    let Some(small) = rss.iter().min_by(|a, b| a.0.total_cmp(&b.0)) else {
        return;
    };
    let larger: Vec<_> = rss.iter().filter(|c| c.0 > small.0).collect();
    if larger.is_empty() {
        return;
    }
    println!();
    println!("Client peak RSS against SF {}:", small.0);
    println!();
    for large in larger {
        println!(
            "- SF {} -> SF {}: {:.0} MB -> {:.0} MB = {:.2}× for {:.0}× the rows.",
            small.0,
            large.0,
            small.1 / 1e6,
            large.1 / 1e6,
            large.1 / small.1,
            large.0 / small.0,
        );
    }
}
