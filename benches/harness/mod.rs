//! The orchestration shared by the end-to-end benchmarks (`bulk_load`, `veracity_load`):
//! command line, the reference server in this process or in a child process of the bench
//! binary, one worker process per measurement (peak RSS is per process), and the
//! formatting of the tables.
//!
//! A bench binary includes it with `mod harness;` next to `mod data;`; not every binary
//! uses every item.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};

use pushdata::server::{Server, ServerConfig};
use serde_json::{Value, json};

use crate::data::{self, BenchError};

/// The common command line of an end-to-end bench binary.
#[derive(Debug, Clone)]
pub(crate) struct Args {
    /// Scale factors (orchestrator) or the one to run (worker).
    pub(crate) sfs: Vec<f64>,
    /// Which measurements: `inprocess`, `child`, or both.
    pub(crate) modes: Vec<String>,
    /// Worker role: `inprocess`, `child` (client with a server child), `server`, or a
    /// bench's own.
    pub(crate) role: Option<String>,
    /// `--url URL`: a running server's base URL, for roles that work against one.
    pub(crate) url: Option<String>,
    /// The bench's own whole-number options (`--chunk-mb 16` is `("--chunk-mb", 16)`),
    /// at least 1.
    pub(crate) options: Vec<(&'static str, usize)>,
    /// The bench's own word options (`--orientation column` is
    /// `("--orientation", "column")`), each one of its allowed words.
    pub(crate) words: Vec<(&'static str, String)>,
}

/// A word option of a bench: its name (with the leading `--`) and its allowed values.
pub(crate) type WordOption = (&'static str, &'static [&'static str]);

impl Args {
    /// The value of one of the bench's own options, when given.
    pub(crate) fn option(&self, name: &str) -> Option<usize> {
        self.options
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| *v)
    }

    /// The value of one of the bench's own word options, when given.
    pub(crate) fn word(&self, name: &str) -> Option<&str> {
        self.words
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The bench's own options as worker arguments.
    fn option_args(&self) -> Vec<String> {
        self.options
            .iter()
            .map(|(n, v)| [n.to_string(), v.to_string()])
            .chain(self.words.iter().map(|(n, v)| [n.to_string(), v.clone()]))
            .flatten()
            .collect()
    }
}

/// Parse `--sf X[,Y]`, `--mode inprocess|child|both`, `--role R` and the bench's own
/// whole-number `options` (names with their leading `--`) and `words` options.
pub(crate) fn parse_args(
    options: &[&'static str],
    words: &[WordOption],
) -> Result<Args, BenchError> {
    let mut args = Args {
        sfs: Vec::new(),
        modes: vec!["inprocess".into(), "child".into()],
        role: None,
        url: None,
        options: Vec::new(),
        words: Vec::new(),
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
            "--url" => args.url = Some(value("--url")?),
            // `cargo bench` passes `--bench`; a criterion-style filter is ignored too.
            "--bench" => {}
            other => {
                if let Some(name) = options.iter().find(|n| **n == other) {
                    let v = value(name)?;
                    let n: usize = v
                        .parse()
                        .map_err(|e| format!("{name} {v:?} is not a whole number: {e}"))?;
                    args.options.retain(|(o, _)| o != name);
                    args.options.push((name, n.max(1)));
                } else if let Some((name, allowed)) = words.iter().find(|(n, _)| *n == other) {
                    let v = value(name)?;
                    if !allowed.contains(&v.as_str()) {
                        return Err(format!("{name} {v:?}: expected one of {allowed:?}").into());
                    }
                    args.words.retain(|(o, _)| o != name);
                    args.words.push((name, v));
                } else if other.starts_with("--") {
                    return Err(format!(
                        "unknown option {other:?} (options: --sf X[,Y], \
                         --mode inprocess|child|both{})",
                        options
                            .iter()
                            .map(|o| format!(", {o} N"))
                            .chain(words.iter().map(|(o, w)| format!(", {o} {}", w.join("|"))))
                            .collect::<String>()
                    )
                    .into());
                }
            }
        }
    }
    if args.sfs.is_empty() {
        args.sfs.push(0.1);
    }
    Ok(args)
}

/// The multi-threaded runtime a worker or server child runs on. With
/// `PUSHDATA_BENCH_LOG` set (a `tracing` filter such as `pushdata_server=debug`), the
/// process's log goes to stderr, with timestamps, so a run's timeline can be read.
pub(crate) fn runtime() -> Result<tokio::runtime::Runtime, BenchError> {
    if let Ok(filter) = std::env::var("PUSHDATA_BENCH_LOG") {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
            .with_writer(std::io::stderr)
            .try_init();
    }
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}

/// Where a running reference server answers.
#[derive(Debug, Clone)]
pub(crate) struct Endpoints {
    /// `http://127.0.0.1:PORT`: the Veracity emulation's root.
    pub(crate) root: String,
    /// The Push Data API's base URL.
    pub(crate) base_url: String,
}

/// `--role server`: start the reference server, print its endpoints, serve until stdin
/// closes (printing `CPU {json}`, its CPU time so far, for each line read meanwhile), shut
/// down, print `SERVER {json}` with its own peak RSS and CPU time and the bytes of the
/// table files it kept (`table_bytes`).
pub(crate) fn serve() -> Result<(), BenchError> {
    let rt = runtime()?;
    let dir = tempfile::tempdir()?;
    rt.block_on(async {
        let handle = Server::start(ServerConfig::new(dir.path().to_path_buf())).await?;
        println!(
            "SERVING {}",
            json!({"root": format!("http://{}", handle.addr()), "base_url": handle.base_url()})
        );
        std::io::stdout().flush()?;
        // Answer each line on stdin with the CPU time so far (`CPU {json}`), until the
        // parent closes our stdin (off the async threads).
        tokio::task::spawn_blocking(|| {
            for line in std::io::stdin().lock().lines() {
                if line.is_err() {
                    break;
                }
                println!("CPU {}", json!({"cpu_s": data::cpu_self()}));
                let _ = std::io::stdout().flush();
            }
        })
        .await?;
        handle.shutdown().await?;
        Ok::<_, BenchError>(())
    })?;
    drop(rt);
    let cpu_s = data::cpu_self();
    let table_bytes = parquet_bytes(dir.path())?;
    println!(
        "SERVER {}",
        json!({"peak_rss": data::peak_rss_self(), "cpu_s": cpu_s, "table_bytes": table_bytes})
    );
    Ok(())
}

/// Bytes of the Parquet files under a server's data directory `dir` but outside the
/// staging directories: the table files of the dataset versions it kept.
fn parquet_bytes(dir: &std::path::Path) -> Result<u64, BenchError> {
    let mut total = 0;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        if entry.file_type()?.is_dir() {
            if entry.file_name() != "staging" {
                total += parquet_bytes(&path)?;
            }
        } else if path.extension().is_some_and(|e| e == "parquet") {
            total += entry.metadata()?.len();
        }
    }
    Ok(total)
}

/// A server child process; dropping its stdin stops it.
struct ServerChild {
    child: std::process::Child,
    stdout: BufReader<std::process::ChildStdout>,
    endpoints: Endpoints,
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
        let serving: Value = line
            .strip_prefix("SERVING ")
            .and_then(|j| serde_json::from_str(j).ok())
            .ok_or_else(|| format!("the server child printed {line:?} instead of its URLs"))?;
        let text = |key: &str| {
            serving[key]
                .as_str()
                .map(str::to_string)
                .ok_or_else(|| format!("the server child's {key} is missing"))
        };
        let endpoints = Endpoints {
            root: text("root")?,
            base_url: text("base_url")?,
        };
        Ok(ServerChild {
            child,
            stdout,
            endpoints,
        })
    }

    /// The server's CPU seconds so far.
    fn cpu(&mut self) -> Result<f64, BenchError> {
        let stdin = self
            .child
            .stdin
            .as_mut()
            .ok_or("the server child's stdin is closed")?;
        stdin.write_all(b"cpu\n")?;
        stdin.flush()?;
        let mut line = String::new();
        self.stdout.read_line(&mut line)?;
        line.strip_prefix("CPU ")
            .and_then(|j| serde_json::from_str::<Value>(j).ok())
            .and_then(|v| f(&v, "cpu_s"))
            .ok_or_else(|| {
                format!("the server child printed {line:?} instead of its CPU time").into()
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

/// What a worker measured: the run's own value, its CPU time, and the server child's
/// `SERVER` report (`None` when the server shared the process).
pub(crate) struct Measured<T> {
    /// What the measured future returned.
    pub(crate) value: T,
    /// CPU seconds of this process during the run.
    pub(crate) cpu_s: f64,
    /// The server child's report.
    pub(crate) server: Option<Value>,
}

/// Run `run` against a reference server: in this process for `inprocess`, in a child
/// process of this binary for `child`.
pub(crate) fn measure<T, F, Fut>(role: &str, run: F) -> Result<Measured<T>, BenchError>
where
    F: FnOnce(Endpoints) -> Fut,
    Fut: Future<Output = Result<T, BenchError>>,
{
    let rt = runtime()?;
    let cpu_before = data::cpu_self();
    let (value, server) = if role == "inprocess" {
        let dir = tempfile::tempdir()?;
        let value = rt.block_on(async {
            let handle = Server::start(ServerConfig::new(dir.path().to_path_buf())).await?;
            let endpoints = Endpoints {
                root: format!("http://{}", handle.addr()),
                base_url: handle.base_url().to_string(),
            };
            let out = run(endpoints).await;
            handle.shutdown().await?;
            out
        })?;
        (value, None)
    } else {
        let server = ServerChild::spawn()?;
        let out = rt.block_on(run(server.endpoints.clone()));
        let report = server.stop()?;
        (out?, Some(report))
    };
    let cpu_s = data::cpu_self() - cpu_before;
    drop(rt);
    Ok(Measured {
        value,
        cpu_s,
        server,
    })
}

/// [`Measured`] of a run after an untimed setup: the server CPU time is the run's only.
pub(crate) struct MeasuredAfter<T> {
    /// What the run measured (its `server` is the child's final report).
    pub(crate) measured: Measured<T>,
    /// CPU seconds of the server child during the run alone.
    pub(crate) server_cpu_s: f64,
}

/// Run `setup` (not measured; e.g. a publish by another process) against a reference
/// server in a child process of this binary, then `run`, measuring this process's CPU
/// time and the server's during `run` only.
pub(crate) fn measure_after<S, T, F, Fut>(
    setup: impl FnOnce(&Endpoints) -> Result<S, BenchError>,
    run: F,
) -> Result<MeasuredAfter<T>, BenchError>
where
    F: FnOnce(Endpoints, S) -> Fut,
    Fut: Future<Output = Result<T, BenchError>>,
{
    let rt = runtime()?;
    let mut server = ServerChild::spawn()?;
    let prepared = setup(&server.endpoints)?;
    let server_before = server.cpu()?;
    let cpu_before = data::cpu_self();
    let out = rt.block_on(run(server.endpoints.clone(), prepared));
    let cpu_s = data::cpu_self() - cpu_before;
    let server_cpu_s = server.cpu()? - server_before;
    let report = server.stop()?;
    drop(rt);
    Ok(MeasuredAfter {
        measured: Measured {
            value: out?,
            cpu_s,
            server: Some(report),
        },
        server_cpu_s,
    })
}

/// Run this binary with `args` and return the `RESULT {json}` it printed (`what` names the
/// run in errors).
pub(crate) fn run_self(args: &[String], what: &str) -> Result<Value, BenchError> {
    let exe = std::env::current_exe()?;
    let out = Command::new(exe)
        .args(args)
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        return Err(format!("the {what} failed ({}): {stdout}", out.status).into());
    }
    let line = stdout
        .lines()
        .find_map(|l| l.strip_prefix("RESULT "))
        .ok_or_else(|| format!("the {what} printed no RESULT line"))?;
    Ok(serde_json::from_str(line)?)
}

/// Run every scale factor and mode of `args`, each in a fresh worker process of this
/// binary (`bench` names it in the messages), generating the Parquet files first.
pub(crate) fn run_all(bench: &str, args: &Args) -> Result<Vec<Value>, BenchError> {
    run_all_median(bench, args, 1, "wall_s")
}

/// [`run_all`], with each scale factor and mode run `runs` times (each in a fresh worker
/// process): its result is the run of median `wall_key` (of an even number of runs, the
/// lower middle one), with every run's `wall_key`, in the order they ran, under
/// `"{wall_key}_runs"` when there was more than one.
pub(crate) fn run_all_median(
    bench: &str,
    args: &Args,
    runs: usize,
    wall_key: &str,
) -> Result<Vec<Value>, BenchError> {
    let runs = runs.max(1);
    let mut results = Vec::new();
    for &sf in &args.sfs {
        data::lineitem_parquet(sf)?;
        for mode in &args.modes {
            let mut done = Vec::with_capacity(runs);
            for run in 1..=runs {
                if runs > 1 {
                    eprintln!("{bench}: SF {sf}, {mode}, run {run} of {runs} ...");
                } else {
                    eprintln!("{bench}: SF {sf}, {mode} ...");
                }
                let r = run_worker(mode, sf, args)?;
                eprintln!("{bench}: {r}");
                done.push(r);
            }
            results.push(median_run(done, wall_key));
        }
    }
    Ok(results)
}

/// The run of `runs` (at least one) with the median `wall_key`; with more than one run,
/// every run's `wall_key` is added under `"{wall_key}_runs"`.
fn median_run(mut runs: Vec<Value>, wall_key: &str) -> Value {
    let walls: Vec<Value> = runs.iter().map(|r| r[wall_key].clone()).collect();
    let wall = |r: &Value| r[wall_key].as_f64().unwrap_or(f64::INFINITY);
    runs.sort_by(|a, b| wall(a).total_cmp(&wall(b)));
    let n = runs.len();
    let mut median = runs.swap_remove((n - 1) / 2);
    if n > 1 {
        median[format!("{wall_key}_runs")] = Value::Array(walls);
    }
    median
}

fn run_worker(role: &str, sf: f64, args: &Args) -> Result<Value, BenchError> {
    let mut argv = vec!["--role".to_string(), role.to_string()];
    argv.extend(["--sf".to_string(), sf.to_string()]);
    argv.extend(args.option_args());
    run_self(&argv, &format!("{role} run of SF {sf}"))
}

/// Write the results as JSON to `target/bench-data/{name}.json`; returns the file.
pub(crate) fn write_results(
    name: &str,
    results: &[Value],
) -> Result<std::path::PathBuf, BenchError> {
    let path = data::target_dir()
        .join("bench-data")
        .join(format!("{name}.json"));
    std::fs::write(&path, serde_json::to_string_pretty(&results)?)?;
    Ok(path)
}

/// The Parquet file of `sf`, which the orchestrator generated.
pub(crate) fn lineitem_input(sf: f64) -> Result<std::path::PathBuf, BenchError> {
    let parquet = data::lineitem_path(sf);
    if !parquet.exists() {
        return Err(format!(
            "{} is missing (the orchestrator generates it)",
            parquet.display()
        )
        .into());
    }
    Ok(parquet)
}

/// A number of a result.
pub(crate) fn f(v: &Value, key: &str) -> Option<f64> {
    v.get(key).and_then(Value::as_f64)
}

/// Seconds with two decimals, or a dash.
pub(crate) fn fmt_s(v: Option<f64>) -> String {
    v.map_or("—".into(), |s| format!("{s:.2}"))
}

/// Bytes as whole MB (10^6), or a dash.
pub(crate) fn fmt_mb(v: Option<f64>) -> String {
    v.map_or("—".into(), |b| format!("{:.0}", b / 1e6))
}

/// Where the server ran, as the tables say it.
pub(crate) fn server_label(r: &Value) -> &'static str {
    if r["mode"] == "inprocess" {
        "same process"
    } else {
        "child process"
    }
}

/// The peak memory and CPU table of client and server (`title` follows "### ").
pub(crate) fn print_resources_table(results: &[Value], title: &str) {
    println!();
    println!("### {title}");
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
