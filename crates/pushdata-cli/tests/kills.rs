//! Kills, through the real binaries (issue 16): `pushdata serve` SIGKILLed during a push
//! (staging, publish) and during a Veracity ingest job, then restarted on the same data
//! directory and port; `pushdata push` SIGKILLed mid-push. After each kill every dataset
//! reads back as exactly its previous or its new version (all rows compared), the server
//! starts, a new push succeeds, and no upload session's staging is left behind.
//!
//! Kill moments are random over the length of a push (a seeded RNG: the seed is printed,
//! `PUSHDATA_KILL_SEED` replays it). `PUSHDATA_KILL_ITERATIONS` kills per scenario
//! (default 3, for CI); `tests/reliability/run-kills.sh` runs many and writes the figures
//! into RELIABILITY.md. Each scenario prints one `KILLS` summary line.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::serve::{Serve, bin as pushdata, pull_rows, read_rows, rows, write_parquet};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::Value;

const WS: &str = "5f1c2d3e-0000-4000-a000-00000000c0de";
/// How long a client may take to finish (or give up) after the server it talked to died.
const CLIENT_DEADLINE: Duration = Duration::from_secs(120);

fn iterations() -> usize {
    std::env::var("PUSHDATA_KILL_ITERATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3)
}

fn rng(scenario: &str) -> StdRng {
    let seed = std::env::var("PUSHDATA_KILL_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
        });
    eprintln!("{scenario}: seed {seed} (PUSHDATA_KILL_SEED={seed} replays it)");
    StdRng::seed_from_u64(seed)
}

/// Which of `versions` the rows are exactly (all rows compared), or `None`.
fn which(got: &[(i64, String)], versions: &[(u32, &Vec<(i64, String)>)]) -> Option<u32> {
    versions
        .iter()
        .find(|(_, rows)| got == rows.as_slice())
        .map(|(v, _)| *v)
}

/// Rows of `expected` missing from `got` (what a half-published version would lose).
fn lost(got: &[(i64, String)], expected: &[(i64, String)]) -> usize {
    let got: std::collections::HashSet<&(i64, String)> = got.iter().collect();
    expected.iter().filter(|r| !got.contains(r)).count()
}

/// Wait for `child` (a client whose server was killed and restarted), at most
/// [`CLIENT_DEADLINE`]; its output. A client that ends with an error names it, and never
/// panics.
fn finish_client(child: Child, what: &str) -> Output {
    let pid = child.id();
    let waiter = std::thread::spawn(move || child.wait_with_output().unwrap());
    let started = Instant::now();
    while !waiter.is_finished() {
        assert!(
            started.elapsed() < CLIENT_DEADLINE,
            "{what}: the client (pid {pid}) did not end within {CLIENT_DEADLINE:?} of the server's restart"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = waiter.join().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{what}: {stderr}");
    if !out.status.success() {
        assert!(
            stderr.contains("error"),
            "{what}: the client failed without saying why: {stderr}"
        );
    }
    out
}

fn json(out: &Output, what: &str) -> Value {
    assert!(
        out.status.success(),
        "{what} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Upload sessions' staging directories under `dir` (32 hex digits: session ids).
fn session_staging(dir: &Path) -> Vec<String> {
    let Ok(rd) = std::fs::read_dir(dir.join("staging")) else {
        return Vec::new();
    };
    rd.flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.len() == 32 && n.chars().all(|c| c.is_ascii_hexdigit()))
        .collect()
}

/// Where a push was when its server was killed, from the server's log since it began.
fn phase(log: &str) -> &'static str {
    if log.contains("published") {
        "after publish"
    } else if log.contains("publish started") {
        "publish"
    } else if log.contains("upload session created") {
        "staging"
    } else {
        "before the upload session"
    }
}

/// Wait for the moment to kill: half the time a uniformly random one over `took` (the
/// length of the last complete push), else a random few milliseconds after `marker`
/// appears in the server's log (the start of a publish or job, which a uniform moment
/// rarely hits). What was waited.
fn kill_moment(
    rng: &mut StdRng,
    serve: &Serve,
    from: usize,
    took: Duration,
    marker: &str,
) -> String {
    if rng.random_bool(0.5) {
        let delay = took.mul_f64(rng.random_range(0.0..1.1));
        std::thread::sleep(delay);
        return format!("{delay:?} after the start");
    }
    let started = Instant::now();
    while !serve.log_since(from).contains(marker) && started.elapsed() < took * 2 {
        std::thread::sleep(Duration::from_millis(1));
    }
    let delay = Duration::from_micros(rng.random_range(0..30_000));
    std::thread::sleep(delay);
    format!("{delay:?} after {marker:?}")
}

/// Counts of one scenario, printed as its `KILLS` line.
#[derive(Default)]
struct Tally {
    kills: usize,
    survived: usize,
    rows_lost: usize,
    phases: std::collections::BTreeMap<&'static str, usize>,
    outcomes: std::collections::BTreeMap<String, usize>,
}

impl Tally {
    /// Count the rows a mismatch lost (against the nearer version) and print the line.
    fn fail(&mut self, got: &[(i64, String)], f: &MstrFixture, scenario: &str) {
        self.rows_lost += f
            .versions
            .iter()
            .map(|(_, rows)| lost(got, rows))
            .min()
            .unwrap_or(0);
        self.print(scenario);
    }

    /// Which of `f`'s versions `got` is (`next + 1` is the new one), counted among the
    /// outcomes with the client's (`client_ok`: `None` when the client was the one
    /// killed). When it is neither, the rows lost are counted and printed, and `kill`
    /// panics; a client that says it pushed must have made the new version.
    fn version(
        &mut self,
        got: &[(i64, String)],
        f: &MstrFixture,
        next: usize,
        client_ok: Option<bool>,
        scenario: &str,
        kill: &str,
    ) -> u32 {
        let Some(v) = which(got, &f.expected()) else {
            self.fail(got, f, scenario);
            panic!(
                "{kill}: the dataset is neither version ({} rows read)",
                got.len()
            );
        };
        let new = v as usize == next + 1;
        if client_ok == Some(true) {
            assert!(new, "{kill}: the client said it pushed");
        }
        let outcome = if new { "new" } else { "old" };
        let key = match client_ok {
            Some(ok) => format!("{outcome} (client {})", if ok { "ok" } else { "failed" }),
            None => outcome.to_string(),
        };
        *self.outcomes.entry(key).or_default() += 1;
        v
    }

    fn print(&self, scenario: &str) {
        let join = |m: &std::collections::BTreeMap<_, usize>| {
            m.iter()
                .map(|(k, v)| format!("{k}: {v}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let phases: std::collections::BTreeMap<String, usize> = self
            .phases
            .iter()
            .map(|(k, v)| (k.to_string(), *v))
            .collect();
        println!(
            "KILLS | {scenario} | kills {} | survived {} | rows lost {} | killed at: {} | read back: {}",
            self.kills,
            self.survived,
            self.rows_lost,
            join(&phases),
            join(&self.outcomes),
        );
    }
}

/// The Push Data API dataset used by a scenario: its files and id.
struct MstrFixture {
    dir: tempfile::TempDir,
    data: PathBuf,
    versions: [(PathBuf, Vec<(i64, String)>); 2],
}

impl MstrFixture {
    fn new(n: usize) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let versions = [1, 2].map(|v| {
            let rows = rows(v, n + v as usize * 11);
            let path = dir.path().join(format!("t_v{v}.parquet"));
            write_parquet(&path, &rows);
            let mut sorted = rows;
            sorted.sort();
            (path, sorted)
        });
        MstrFixture {
            dir,
            data,
            versions,
        }
    }

    fn push_cmd(&self, url: &str, version: usize, dataset: Option<&str>) -> Command {
        let mut cmd = pushdata();
        cmd.arg("push").arg(&self.versions[version].0).args([
            "--url",
            url,
            "--table",
            "t",
            "--json",
            "--chunk-mb",
            "1",
        ]);
        match dataset {
            Some(id) => cmd.args(["--dataset-id", id, "--policy", "replace"]),
            None => cmd.args(["--dataset", "kills"]),
        };
        cmd
    }

    /// The dataset's rows as `pull --table` reads them.
    fn read(&self, url: &str, id: &str) -> Vec<(i64, String)> {
        pull_rows(url, id, &self.dir.path().join("pulled.parquet"))
    }

    /// Push `version` to completion (timed), and check it reads back exactly.
    fn push_fully(&self, url: &str, version: usize, dataset: Option<&str>) -> (String, Duration) {
        let started = Instant::now();
        let out = self.push_cmd(url, version, dataset).output().unwrap();
        let took = started.elapsed();
        let id = json(&out, "push")["datasetId"]
            .as_str()
            .unwrap()
            .to_string();
        assert_eq!(
            self.read(url, &id),
            self.versions[version].1,
            "a completed push reads back exactly"
        );
        (id, took)
    }

    fn expected(&self) -> [(u32, &Vec<(i64, String)>); 2] {
        [(1, &self.versions[0].1), (2, &self.versions[1].1)]
    }
}

/// `serve` SIGKILLed at a random moment of a push that replaces a dataset's rows.
#[test]
fn server_killed_during_a_push_keeps_every_dataset_at_its_old_or_new_version() {
    let mut rng = rng("server killed during a push");
    let f = MstrFixture::new(60_000);
    let mut serve = Serve::start(&f.data, 0, &[]);
    let (id, mut took) = f.push_fully(&serve.url, 0, None);
    let mut current = 0;
    let mut tally = Tally::default();
    for i in 0..iterations() {
        let next = 1 - current;
        let from = serve.log_len();
        let client = f
            .push_cmd(&serve.url, next, Some(&id))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let delay = kill_moment(&mut rng, &serve, from, took, "publish started");
        let at = phase(&serve.log_since(from));
        serve = serve.restart(&f.data, &[]);
        tally.kills += 1;
        *tally.phases.entry(at).or_default() += 1;
        let out = finish_client(client, &format!("kill {i} ({at}, after {delay})"));
        let got = f.read(&serve.url, &id);
        let v = tally.version(
            &got,
            &f,
            next,
            Some(out.status.success()),
            "server killed during a push (staging, publish)",
            &format!("kill {i} ({at}, after {delay})"),
        );
        assert!(
            session_staging(&f.data).is_empty(),
            "kill {i}: staging left"
        );
        // A new push succeeds and reads back exactly.
        let target = if v as usize == next + 1 {
            current
        } else {
            next
        };
        took = f.push_fully(&serve.url, target, Some(&id)).1;
        current = target;
        tally.survived += 1;
    }
    tally.print("server killed during a push (staging, publish)");
}

/// `push` SIGKILLed at a random moment: nothing half-published, and the server reclaims the
/// session and its staged files (1 s idle timeout; chunks staged as files).
#[test]
fn client_killed_mid_push_publishes_nothing_partial_and_its_staging_is_reclaimed() {
    let mut rng = rng("client killed mid-push");
    let f = MstrFixture::new(60_000);
    let flags = ["--session-idle-secs", "1", "--staging-memory-mb", "0"];
    let serve = Serve::start(&f.data, 0, &flags);
    let (id, mut took) = f.push_fully(&serve.url, 0, None);
    let mut current = 0;
    let mut tally = Tally::default();
    for i in 0..iterations() {
        let next = 1 - current;
        let from = serve.log_len();
        let mut client = f
            .push_cmd(&serve.url, next, Some(&id))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let delay = kill_moment(&mut rng, &serve, from, took, "upload session created");
        let at = phase(&serve.log_since(from));
        client.kill().unwrap();
        client.wait().unwrap();
        tally.kills += 1;
        *tally.phases.entry(at).or_default() += 1;
        // Reclaimed: within a few idle timeouts no session's staging is left.
        let started = Instant::now();
        while !session_staging(&f.data).is_empty() {
            assert!(
                started.elapsed() < Duration::from_secs(15),
                "kill {i} ({at}): staging of {:?} not reclaimed",
                session_staging(&f.data)
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        let got = f.read(&serve.url, &id);
        let v = tally.version(
            &got,
            &f,
            next,
            None,
            "client killed mid-push",
            &format!("kill {i} ({at}, after {delay})"),
        );
        let target = if v as usize == next + 1 {
            current
        } else {
            next
        };
        took = f.push_fully(&serve.url, target, Some(&id)).1;
        current = target;
        tally.survived += 1;
    }
    tally.print("client killed mid-push");
}

/// The flags of `veracity push` against `serve`.
fn veracity_flags(serve: &Serve) -> Vec<String> {
    let origin = serve.origin();
    [
        "--workspace",
        WS,
        "--url",
        &origin,
        "--token-url",
        &format!("{origin}/tenant/oauth2/token"),
        "--client-id",
        pushdata_server::DEFAULT_VERACITY_CLIENT_ID,
        "--client-secret",
        pushdata_server::DEFAULT_VERACITY_CLIENT_SECRET,
        "--subscription-key",
        pushdata_server::DEFAULT_VERACITY_SUBSCRIPTION_KEY,
        "--json",
    ]
    .map(String::from)
    .to_vec()
}

/// Job records under the data directory still `Running`.
fn running_jobs(data: &Path) -> usize {
    let Ok(rd) = std::fs::read_dir(data.join("veracity/jobs")) else {
        return 0;
    };
    rd.flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
        .filter_map(|e| std::fs::read(e.path()).ok())
        .filter_map(|b| serde_json::from_slice::<Value>(&b).ok())
        .filter(|j| j["progress"]["state"] == "Running")
        .count()
}

/// `serve` SIGKILLed at a random moment of a Veracity overwrite job.
#[test]
fn server_killed_during_a_veracity_job_leaves_the_dataset_old_or_new_and_the_job_ends() {
    let mut rng = rng("server killed during a Veracity job");
    let f = MstrFixture::new(20_000);
    let mut serve = Serve::start(&f.data, 0, &[]);
    let push = |serve: &Serve, version: usize, target: Option<(&str, &str)>| {
        let mut cmd = pushdata();
        cmd.args(["veracity", "push"]).arg(&f.versions[version].0);
        match target {
            Some((id, schema)) => cmd.args([
                "--dataset-id",
                id,
                "--schema-id",
                schema,
                "--operation",
                "overwrite",
            ]),
            None => cmd.args(["--create", "kills"]),
        };
        cmd.args(veracity_flags(serve));
        cmd
    };
    let read = |serve: &Serve, id: &str, schema: &str| {
        let out = f.dir.path().join("vpulled.parquet");
        let o = pushdata()
            .args([
                "veracity",
                "pull",
                id,
                "--schema-id",
                schema,
                "--page-size",
                "50000",
                "-o",
            ])
            .arg(&out)
            .args(veracity_flags(serve))
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "pull: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        read_rows(&out)
    };
    let started = Instant::now();
    let created = json(&push(&serve, 0, None).output().unwrap(), "veracity push");
    let mut took = started.elapsed();
    let id = created["datasetId"].as_str().unwrap().to_string();
    let schema = created["schemaId"].as_str().unwrap().to_string();
    assert_eq!(read(&serve, &id, &schema), f.versions[0].1);
    let mut current = 0;
    let mut tally = Tally::default();
    for i in 0..iterations() {
        let next = 1 - current;
        let from = serve.log_len();
        let client = push(&serve, next, Some((&id, &schema)))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let delay = kill_moment(&mut rng, &serve, from, took, "ingest job running");
        let log = serve.log_since(from);
        let at = if log.contains("ingest job ended") {
            "after the job"
        } else if log.contains("ingest job running") {
            "job running"
        } else {
            "upload"
        };
        serve = serve.restart(&f.data, &[]);
        tally.kills += 1;
        *tally.phases.entry(at).or_default() += 1;
        let out = finish_client(client, &format!("kill {i} ({at}, after {delay})"));
        // Every job left running is re-run or completed by the restarted server.
        let waited = Instant::now();
        while running_jobs(&f.data) > 0 {
            assert!(
                waited.elapsed() < Duration::from_secs(60),
                "kill {i}: a job stays Running"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        let got = read(&serve, &id, &schema);
        let v = tally.version(
            &got,
            &f,
            next,
            Some(out.status.success()),
            "server killed during a Veracity ingest job",
            &format!("kill {i} ({at}, after {delay})"),
        );
        let target = if v as usize == next + 1 {
            current
        } else {
            next
        };
        let started = Instant::now();
        json(
            &push(&serve, target, Some((&id, &schema))).output().unwrap(),
            "veracity push after a restart",
        );
        took = started.elapsed();
        assert_eq!(read(&serve, &id, &schema), f.versions[target].1);
        current = target;
        tally.survived += 1;
    }
    tally.print("server killed during a Veracity ingest job");
}
