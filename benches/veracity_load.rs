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
//! every 50 ms (the library's default starts at 1 s, which would dominate at SF 0.1), as
//! `benches/veracity_python.py` does.
//!
//! Each run prints one `RESULT {json}` line; the orchestrator prints markdown tables and
//! writes all results to `target/bench-data/veracity_load-results.json` (which
//! `benches/veracity_python.py` reads for its side-by-side ratio).

mod data;

use std::io::{BufRead, BufReader, Read, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use pushdata::arrow::veracity::{DEFAULT_PART_BYTES, VeracityPush, VeracityPushReport};
use pushdata::core::BackoffConfig;
use pushdata::core::veracity::{Client, JobWait};
use pushdata::server::{
    DEFAULT_VERACITY_CLIENT_ID, DEFAULT_VERACITY_CLIENT_SECRET, DEFAULT_VERACITY_SUBSCRIPTION_KEY,
    Server, ServerConfig,
};
use serde_json::{Value, json};

use data::BenchError;

/// Any workspace id: the emulation keeps each workspace's datasets apart.
const WORKSPACE: &str = "5f1c2d3e-0000-4000-a000-0000000000b1";
/// The emulation's gateway, under the server's root.
const GATEWAY: &str = "/veracity/dw/gateway/api/v2";
/// The key columns of `lineitem`.
const KEYS: [&str; 2] = ["l_orderkey", "l_linenumber"];
/// The job status poll interval (both sides of the comparison).
const POLL: Duration = Duration::from_millis(50);

/// Command line of this binary.
#[derive(Debug, Clone)]
struct Args {
    /// Scale factors (orchestrator) or the one to run (worker).
    sfs: Vec<f64>,
    /// Which measurements: `inprocess`, `child`, or both.
    modes: Vec<String>,
    /// Worker role: `inprocess`, `child` (client with a server child), `server`.
    role: Option<String>,
    /// Part size in MiB instead of the library default (`--part-mb`).
    part_mb: Option<usize>,
}

fn parse_args() -> Result<Args, BenchError> {
    let mut args = Args {
        sfs: Vec::new(),
        modes: vec!["inprocess".into(), "child".into()],
        role: None,
        part_mb: None,
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
            "--part-mb" => {
                let v = value("--part-mb")?;
                let mb: usize = v
                    .parse()
                    .map_err(|e| format!("--part-mb {v:?} is not a whole number: {e}"))?;
                args.part_mb = Some(mb.max(1));
            }
            // `cargo bench` passes `--bench`; a criterion-style filter is ignored too.
            "--bench" => {}
            other if other.starts_with("--") => {
                return Err(format!(
                    "unknown option {other:?} (options: --sf X[,Y], --mode inprocess|child|both, \
                     --part-mb N)"
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
            worker(role, sf, args.part_mb)
        }
        Some(other) => Err(format!("unknown role {other:?}").into()),
    });
    if let Err(e) = result {
        eprintln!("veracity_load: error: {e}");
        std::process::exit(1);
    }
}

fn runtime() -> Result<tokio::runtime::Runtime, BenchError> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}

// ---- server child ----------------------------------------------------------------------

/// `--role server`: start the reference server, print its root URL, serve until stdin
/// closes, shut down, print `SERVER {json}` with its own peak RSS and CPU time.
fn serve() -> Result<(), BenchError> {
    let rt = runtime()?;
    let dir = tempfile::tempdir()?;
    rt.block_on(async {
        let handle = Server::start(ServerConfig::new(dir.path().to_path_buf())).await?;
        println!("http://{}", handle.addr());
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
    root: String,
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
        let root = line.trim().to_string();
        if !root.starts_with("http://127.0.0.1:") {
            return Err(format!("the server child printed {line:?} instead of its URL").into());
        }
        Ok(ServerChild {
            child,
            stdout,
            root,
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

/// One `VeracityPush::create` of the Parquet file against the emulation at `root`
/// (`http://host:port`).
async fn push(
    root: &str,
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
    let (report, server) = if role == "inprocess" {
        let dir = tempfile::tempdir()?;
        let report = rt.block_on(async {
            let handle = Server::start(ServerConfig::new(dir.path().to_path_buf())).await?;
            let root = format!("http://{}", handle.addr());
            let out = push(&root, parquet.clone(), part_mb).await;
            handle.shutdown().await?;
            out
        })?;
        (report, None)
    } else {
        let server = ServerChild::spawn()?;
        let pushed = rt.block_on(push(&server.root.clone(), parquet.clone(), part_mb));
        let server_report = server.stop()?;
        (pushed?, Some(server_report))
    };
    let cpu = data::cpu_self() - cpu_before;
    drop(rt);
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
        "cpu_s": cpu,
        "peak_rss": data::peak_rss_self(),
        "server": server,
    });
    println!("RESULT {result}");
    Ok(())
}

// ---- orchestrator ----------------------------------------------------------------------------

fn run_worker(role: &str, sf: f64, part_mb: Option<usize>) -> Result<Value, BenchError> {
    let exe = std::env::current_exe()?;
    let mut cmd = Command::new(exe);
    cmd.args(["--role", role, "--sf", &sf.to_string()]);
    if let Some(mb) = part_mb {
        cmd.args(["--part-mb", &mb.to_string()]);
    }
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
    let mut results = Vec::new();
    for &sf in &args.sfs {
        data::lineitem_parquet(sf)?;
        for mode in &args.modes {
            eprintln!("veracity_load: SF {sf}, {mode} ...");
            let r = run_worker(mode, sf, args.part_mb)?;
            eprintln!("veracity_load: {r}");
            results.push(r);
        }
    }
    let mut name = "veracity_load-results".to_string();
    if let Some(mb) = args.part_mb {
        name.push_str(&format!("-part{mb}mb"));
    }
    let path = data::target_dir()
        .join("bench-data")
        .join(format!("{name}.json"));
    std::fs::write(&path, serde_json::to_string_pretty(&results)?)?;
    let parts = match args.part_mb {
        Some(mb) => format!("{mb} MiB parts"),
        None => format!("default {} MiB parts", DEFAULT_PART_BYTES / (1024 * 1024)),
    };
    print_throughput_table(&results, &parts);
    print_resources_table(&results, &parts);
    eprintln!("veracity_load: results written to {}", path.display());
    Ok(())
}

fn server_label(r: &Value) -> &'static str {
    if r["mode"] == "inprocess" {
        "same process"
    } else {
        "child process"
    }
}

/// The end-to-end table: rows, CSV bytes, parts, wall time and rates.
fn print_throughput_table(results: &[Value], parts: &str) {
    println!();
    println!(
        "### Veracity ingest: lineitem Parquet -> reference server's Veracity emulation \
         (VeracityPush::create, {parts}; MB = 10^6 bytes)"
    );
    println!();
    println!("| SF | server | rows | CSV MB | parts | job status | wall (s) | rows/s | CSV MB/s |");
    println!("|---|---|---:|---:|---:|---|---:|---:|---:|");
    for r in results {
        let wall = f(r, "wall_s").unwrap_or(f64::NAN);
        let rows = f(r, "rows").unwrap_or(0.0);
        let bytes = f(r, "csv_bytes").unwrap_or(0.0);
        println!(
            "| {} | {} | {:.0} | {:.0} | {:.0} | {} | {:.2} | {:.0} | {:.1} |",
            f(r, "sf").unwrap_or(0.0),
            server_label(r),
            rows,
            bytes / 1e6,
            f(r, "parts").unwrap_or(0.0),
            r["status"].as_str().unwrap_or("?"),
            wall,
            rows / wall,
            bytes / 1e6 / wall,
        );
    }
}

/// Peak resident memory and CPU time of client and server.
fn print_resources_table(results: &[Value], parts: &str) {
    println!();
    println!("### Veracity ingest: peak resident memory and CPU time (getrusage; {parts})");
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
            server_label(r),
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
