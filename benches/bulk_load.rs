//! End-to-end benchmark: push the TPC-H `lineitem` Parquet file into the reference server
//! with the multi-request workflow and default settings (`pushdata_arrow::Push`).
//!
//! ```text
//! cargo bench --bench bulk_load -- --sf 0.1            # one scale factor
//! cargo bench --bench bulk_load -- --sf 0.1 --sf 1     # several, each in its own processes
//! cargo bench --bench bulk_load -- --sf 1 --mode child # only the client-alone measurement
//! cargo bench --bench bulk_load -- --sf 1 --chunk-mb 16  # not the default chunk size
//! cargo bench --bench bulk_load -- --sf 1 --max-buffered-mb 200  # not the default memory budget
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

use std::io::{BufRead, BufReader, Read, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use pushdata::arrow::{ProgressEvent, Push, PushReport};
use pushdata::core::{Client, Credentials};
use pushdata::server::{Server, ServerConfig};
use serde_json::{Value, json};

use data::BenchError;

const TABLE: &str = "lineitem";

/// Command line of this binary.
#[derive(Debug, Clone)]
struct Args {
    /// Scale factors (orchestrator) or the one to run (worker).
    sfs: Vec<f64>,
    /// Which measurements: `inprocess`, `child`, or both.
    modes: Vec<String>,
    /// Worker role: `inprocess`, `child` (client with a server child), `server`.
    role: Option<String>,
    /// Chunk target in MB instead of the library default (`--chunk-mb`).
    chunk_mb: Option<usize>,
    /// Memory budget for encoded chunk data in MB (MiB) instead of the library default
    /// of 1.5 chunks (`--max-buffered-mb`).
    max_buffered_mb: Option<usize>,
}

/// The push settings a run changes from the library defaults.
#[derive(Debug, Clone, Copy)]
struct Settings {
    chunk_mb: Option<usize>,
    max_buffered_mb: Option<usize>,
}

impl Settings {
    /// Worker arguments that pass these settings on.
    fn args(&self) -> Vec<String> {
        let mut args = Vec::new();
        if let Some(mb) = self.chunk_mb {
            args.extend(["--chunk-mb".to_string(), mb.to_string()]);
        }
        if let Some(mb) = self.max_buffered_mb {
            args.extend(["--max-buffered-mb".to_string(), mb.to_string()]);
        }
        args
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
        if changes.is_empty() {
            "default settings".to_string()
        } else {
            format!("default settings but {}", changes.join(" and "))
        }
    }

    fn is_default(&self) -> bool {
        self.chunk_mb.is_none() && self.max_buffered_mb.is_none()
    }
}

impl Args {
    fn settings(&self) -> Settings {
        Settings {
            chunk_mb: self.chunk_mb,
            max_buffered_mb: self.max_buffered_mb,
        }
    }
}

fn parse_args() -> Result<Args, BenchError> {
    let mut args = Args {
        sfs: Vec::new(),
        modes: vec!["inprocess".into(), "child".into()],
        role: None,
        chunk_mb: None,
        max_buffered_mb: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let mut value = |name: &str| it.next().ok_or_else(|| format!("{name} needs a value"));
        match a.as_str() {
            "--sf" => {
                for v in value("--sf")?.split(',') {
                    args.sfs.push(
                        v.trim()
                            .parse()
                            .map_err(|e| format!("--sf {v:?} is not a number: {e}"))?,
                    );
                }
            }
            "--mode" => {
                let m = value("--mode")?;
                args.modes = match m.as_str() {
                    "both" => vec!["inprocess".into(), "child".into()],
                    "inprocess" | "child" => vec![m],
                    other => {
                        return Err(
                            format!("--mode {other:?}: expected inprocess, child or both").into(),
                        );
                    }
                };
            }
            "--role" => args.role = Some(value("--role")?),
            "--chunk-mb" => {
                let v = value("--chunk-mb")?;
                let mb: usize = v
                    .parse()
                    .map_err(|e| format!("--chunk-mb {v:?} is not a whole number: {e}"))?;
                args.chunk_mb = Some(mb.max(1));
            }
            "--max-buffered-mb" => {
                let v = value("--max-buffered-mb")?;
                let mb: usize = v
                    .parse()
                    .map_err(|e| format!("--max-buffered-mb {v:?} is not a whole number: {e}"))?;
                args.max_buffered_mb = Some(mb.max(1));
            }
            // `cargo bench` passes `--bench`; a criterion-style filter is ignored too.
            "--bench" => {}
            other if other.starts_with("--") => {
                return Err(format!(
                    "unknown option {other:?} (options: --sf X[,Y], --mode inprocess|child|both, \
                     --chunk-mb N, --max-buffered-mb N)"
                )
                .into());
            }
            _ => {}
        }
    }
    if args.sfs.is_empty() {
        args.sfs.push(0.1);
    }
    Ok(args)
}

fn main() {
    let result = parse_args().and_then(|args| match args.role.as_deref() {
        None => orchestrate(&args),
        Some("server") => serve(),
        Some(role @ ("inprocess" | "child")) => {
            let sf = args.sfs.first().copied().unwrap_or(0.1);
            worker(role, sf, args.settings())
        }
        Some(other) => Err(format!("unknown role {other:?}").into()),
    });
    if let Err(e) = result {
        eprintln!("bulk_load: error: {e}");
        std::process::exit(1);
    }
}

fn runtime() -> Result<tokio::runtime::Runtime, BenchError> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}

// ---- server child ----------------------------------------------------------------------

/// `--role server`: start the reference server, print its base URL, serve until stdin
/// closes, shut down, print `SERVER {json}` with its own peak RSS and CPU time.
fn serve() -> Result<(), BenchError> {
    let rt = runtime()?;
    let dir = tempfile::tempdir()?;
    rt.block_on(async {
        let handle = Server::start(ServerConfig::new(dir.path().to_path_buf())).await?;
        println!("{}", handle.base_url());
        std::io::stdout().flush()?;
        // Wait for the parent to close our stdin (off the async threads).
        tokio::task::spawn_blocking(|| {
            let mut sink = Vec::new();
            let _ = std::io::stdin().read_to_end(&mut sink);
        })
        .await?;
        handle.shutdown().await?;
        Ok::<_, BenchError>(())
    })?;
    drop(rt);
    println!(
        "SERVER {}",
        json!({"peak_rss": data::peak_rss_self(), "cpu_s": data::cpu_self()})
    );
    Ok(())
}

/// A server child process; dropping its stdin stops it.
struct ServerChild {
    child: std::process::Child,
    stdout: BufReader<std::process::ChildStdout>,
    base_url: String,
}

impl ServerChild {
    fn spawn() -> Result<Self, BenchError> {
        let exe = std::env::current_exe()?;
        let mut child = Command::new(exe)
            .args(["--role", "server"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()?;
        let out = child
            .stdout
            .take()
            .ok_or("the server child has no stdout")?;
        let mut stdout = BufReader::new(out);
        let mut line = String::new();
        stdout.read_line(&mut line)?;
        let base_url = line.trim().to_string();
        if !base_url.starts_with("http://127.0.0.1:") {
            return Err(format!("the server child printed {line:?} instead of its URL").into());
        }
        Ok(ServerChild {
            child,
            stdout,
            base_url,
        })
    }

    /// Stop the server and return its `SERVER` report.
    fn stop(mut self) -> Result<Value, BenchError> {
        drop(self.child.stdin.take());
        let mut rest = String::new();
        self.stdout.read_to_string(&mut rest)?;
        let status = self.child.wait()?;
        if !status.success() {
            return Err(format!("the server child exited with {status}").into());
        }
        let line = rest
            .lines()
            .find_map(|l| l.strip_prefix("SERVER "))
            .ok_or("the server child printed no SERVER line")?;
        Ok(serde_json::from_str(line)?)
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
    base_url: &str,
    parquet: PathBuf,
    settings: Settings,
) -> Result<(PushReport, Timeline), BenchError> {
    let client = Client::builder(base_url).build()?;
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
    let report = push
        .with_parquet_table(TABLE, parquet)
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
    let parquet = data::lineitem_path(sf);
    if !parquet.exists() {
        return Err(format!(
            "{} is missing (the orchestrator generates it)",
            parquet.display()
        )
        .into());
    }
    let input_bytes = std::fs::metadata(&parquet)?.len();
    let rt = runtime()?;
    let cpu_before = data::cpu_self();
    let (report, timeline, server) = if role == "inprocess" {
        let dir = tempfile::tempdir()?;
        let (report, timeline) = rt.block_on(async {
            let handle = Server::start(ServerConfig::new(dir.path().to_path_buf())).await?;
            let out = push(handle.base_url(), parquet.clone(), settings).await;
            handle.shutdown().await?;
            out
        })?;
        (report, timeline, None)
    } else {
        let server = ServerChild::spawn()?;
        let pushed = rt.block_on(push(&server.base_url.clone(), parquet.clone(), settings));
        let server_report = server.stop()?;
        let (report, timeline) = pushed?;
        (report, timeline, Some(server_report))
    };
    let cpu = data::cpu_self() - cpu_before;
    drop(rt);
    let secs = |d: Option<Duration>| d.map(|d| d.as_secs_f64());
    let rows: u64 = report.tables.iter().map(|t| t.rows).sum();
    let result = json!({
        "mode": role,
        "chunk_mb": settings.chunk_mb,
        "max_buffered_mb": settings.max_buffered_mb,
        "sf": sf,
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
        "cpu_s": cpu,
        "peak_rss": data::peak_rss_self(),
        "server": server,
    });
    println!("RESULT {result}");
    Ok(())
}

// ---- orchestrator ----------------------------------------------------------------------------

fn run_worker(role: &str, sf: f64, settings: Settings) -> Result<Value, BenchError> {
    let exe = std::env::current_exe()?;
    let mut cmd = Command::new(exe);
    cmd.args(["--role", role, "--sf", &sf.to_string()]);
    cmd.args(settings.args());
    let out = cmd.stdin(Stdio::null()).stderr(Stdio::inherit()).output()?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        return Err(format!(
            "the {role} run of SF {sf} failed ({}): {stdout}",
            out.status
        )
        .into());
    }
    let line = stdout
        .lines()
        .find_map(|l| l.strip_prefix("RESULT "))
        .ok_or_else(|| format!("the {role} run of SF {sf} printed no RESULT line"))?;
    Ok(serde_json::from_str(line)?)
}

fn f(v: &Value, key: &str) -> Option<f64> {
    v.get(key).and_then(Value::as_f64)
}

fn fmt_s(v: Option<f64>) -> String {
    v.map_or("—".into(), |s| format!("{s:.2}"))
}

fn fmt_mb(v: Option<f64>) -> String {
    v.map_or("—".into(), |b| format!("{:.0}", b / 1e6))
}

fn orchestrate(args: &Args) -> Result<(), BenchError> {
    let results = run_all(args)?;
    let path = write_results(args, &results)?;
    let settings = args.settings().describe();
    print_throughput_table(&results, &settings);
    print_resources_table(&results, &settings);
    print_client_scaling(&results, args.settings().is_default());
    eprintln!("bulk_load: results written to {}", path.display());
    Ok(())
}

/// One worker per scale factor and mode, in order.
fn run_all(args: &Args) -> Result<Vec<serde_json::Value>, BenchError> {
    let mut results = Vec::new();
    for &sf in &args.sfs {
        data::lineitem_parquet(sf)?;
        for mode in &args.modes {
            eprintln!("bulk_load: SF {sf}, {mode} ...");
            let r = run_worker(mode, sf, args.settings())?;
            eprintln!("bulk_load: {r}");
            results.push(r);
        }
    }
    Ok(results)
}

/// Write the results as JSON under `target/bench-data`; returns the file.
fn write_results(args: &Args, results: &[serde_json::Value]) -> Result<PathBuf, BenchError> {
    let mut name = "bulk_load-results".to_string();
    if let Some(mb) = args.chunk_mb {
        name.push_str(&format!("-chunk{mb}mb"));
    }
    if let Some(mb) = args.max_buffered_mb {
        name.push_str(&format!("-buffered{mb}mb"));
    }
    let path = data::target_dir()
        .join("bench-data")
        .join(format!("{name}.json"));
    std::fs::write(&path, serde_json::to_string_pretty(&results)?)?;
    Ok(path)
}

/// The end-to-end table: rows, chunks, payload, wall time and its phases.
fn print_throughput_table(results: &[serde_json::Value], settings: &str) {
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
            if r["mode"] == "inprocess" {
                "same process"
            } else {
                "child process"
            },
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

/// Peak resident memory and CPU time of client and server.
fn print_resources_table(results: &[serde_json::Value], settings: &str) {
    println!();
    println!("### Peak resident memory and CPU time (getrusage; {settings})");
    println!();
    println!(
        "| SF | server | peak RSS MB (this process) | of which client alone | server process peak RSS MB | client CPU (s) | server CPU (s) |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|");
    for r in results {
        let child = r["mode"] == "child";
        let server = r.get("server").filter(|s| !s.is_null());
        println!(
            "| {} | {} | {} | {} | {} | {} | {} |",
            f(r, "sf").unwrap_or(0.0),
            if child {
                "child process"
            } else {
                "same process"
            },
            fmt_mb(f(r, "peak_rss")),
            if child {
                fmt_mb(f(r, "peak_rss"))
            } else {
                "(shared)".into()
            },
            fmt_mb(server.and_then(|s| f(s, "peak_rss"))),
            if child {
                fmt_s(f(r, "cpu_s"))
            } else {
                format!("{} (both)", fmt_s(f(r, "cpu_s")))
            },
            fmt_s(server.and_then(|s| f(s, "cpu_s"))),
        );
    }
}

/// How the client's peak RSS grows with the scale factor (server in a child process);
/// `default_settings`: whether the targets for the default settings apply.
fn print_client_scaling(results: &[serde_json::Value], default_settings: bool) {
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
