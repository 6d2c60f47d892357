//! Python clients we did not write, unmodified: Veracity's seed sample with Microsoft's Data Lake
//! SDK (`veracity_seed_sample_with_the_data_lake_sdk`), and mstrio-py in its default configuration,
//! against the reference server: the three ways to open a connection in a project (and the
//! LDAP and API token login modes), and the
//! SuperCube workflows (one table and several, `attribute_forms`, `to_attribute` /
//! `to_metric`, create, update with a policy, publish, `to_dataframe()`, the same-name check
//! in My Reports and in a folder). The scripts are in
//! `tests/python/`; they check what mstrio-py reads back and fail on anything mstrio-py logs
//! as a warning or an error, and these tests also check the stored tables.
//!
//! `mstrio_endpoints_as_mstrio_reads_them` checks the same endpoints over plain HTTP, so
//! that they stay covered where mstrio-py is not installed.
//!
//! The Python interpreter is `$PUSHDATA_PYTHON`, else the `mstrio-venv` that `.ci/run`
//! creates in the cargo target directory, else `python3`. When it cannot run or cannot
//! import mstrio-py and pandas, the tests print why and pass (skip).
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use arrow_cast::display::{ArrayFormatter, FormatOptions};
use pushdata_server::{DEFAULT_PROJECT_ID, Server, ServerConfig};
use serde_json::{Value, json};

/// How long one script may run before the test fails.
const SCRIPT_TIMEOUT: Duration = Duration::from_secs(300);

/// The Python interpreter to use (see the module docs).
fn python() -> PathBuf {
    if let Some(p) = std::env::var_os("PUSHDATA_PYTHON").filter(|p| !p.is_empty()) {
        return PathBuf::from(p);
    }
    // the test binary is <target>/<profile>/deps/<name>: look for <target>/mstrio-venv
    if let Ok(exe) = std::env::current_exe() {
        for dir in exe.ancestors().skip(1) {
            for bin in ["mstrio-venv/bin/python3", "mstrio-venv/Scripts/python.exe"] {
                let candidate = dir.join(bin);
                if candidate.is_file() {
                    return candidate;
                }
            }
        }
    }
    PathBuf::from("python3")
}

/// Ok(python) when it imports mstrio and pandas; else why not.
fn mstrio_python() -> Result<PathBuf, String> {
    python_with("import mstrio, pandas")
}

/// Ok(python) when it runs `imports`; else why not.
fn python_with(imports: &str) -> Result<PathBuf, String> {
    let py = python();
    match Command::new(&py).args(["-c", imports]).output() {
        Ok(o) if o.status.success() => Ok(py),
        Ok(o) => Err(format!(
            "{} cannot run {imports:?}: {}",
            py.display(),
            // the traceback's last line says what is missing
            String::from_utf8_lossy(&o.stderr)
                .lines()
                .last()
                .unwrap_or("")
                .trim()
        )),
        Err(e) => Err(format!("{} is not runnable: {e}", py.display())),
    }
}

/// What a script printed, and its `RESULT key=value` lines.
struct ScriptRun {
    stdout: String,
    results: Vec<(String, String)>,
}

impl ScriptRun {
    fn get(&self, key: &str) -> &str {
        self.results
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .unwrap_or_else(|| panic!("no RESULT {key}= in\n{}", self.stdout))
    }
}

/// Run `tests/python/{script} BASE_URL PROJECT_ID` with `python` in a scratch directory
/// (mstrio-py picks up certificate files from its working directory); fail the test
/// unless it exits 0 within [`SCRIPT_TIMEOUT`].
fn run_script(python: &Path, script: &str, base_url: &str) -> ScriptRun {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/python")
        .join(script);
    let cwd = tempfile::tempdir().unwrap();
    let out_path = cwd.path().join("stdout.txt");
    let err_path = cwd.path().join("stderr.txt");
    let mut child = Command::new(python)
        .arg(&path)
        .args([base_url, pushdata_server::DEFAULT_PROJECT_ID])
        .current_dir(cwd.path())
        .env("PYTHONUNBUFFERED", "1")
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out_path).unwrap())
        .stderr(std::fs::File::create(&err_path).unwrap())
        .spawn()
        .unwrap();
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if start.elapsed() > SCRIPT_TIMEOUT {
            child.kill().unwrap();
            child.wait().unwrap();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let stdout = std::fs::read_to_string(&out_path).unwrap();
    let stderr = std::fs::read_to_string(&err_path).unwrap();
    match status {
        Some(s) if s.success() => {}
        Some(s) => panic!("{script} failed ({s})\nstdout:\n{stdout}\nstderr:\n{stderr}"),
        None => panic!(
            "{script} did not finish in {} s\nstdout:\n{stdout}\nstderr:\n{stderr}",
            SCRIPT_TIMEOUT.as_secs()
        ),
    }
    let results = stdout
        .lines()
        .filter_map(|l| l.strip_prefix("RESULT "))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.trim().to_string()))
        .collect();
    let run = ScriptRun { stdout, results };
    // what mstrio-py logged (shown with --nocapture), then the line saying it ran
    eprintln!(
        "--- {script} stdout:\n{}--- {script} stderr:\n{stderr}",
        run.stdout
    );
    let client = run
        .results
        .iter()
        .find(|(k, _)| k == "mstrio_version")
        .map(|(_, v)| format!("mstrio-py {v}"))
        .unwrap_or_else(|| format!("azure-storage-file-datalake {}", run.get("sdk")));
    eprintln!(
        "mstrio_compat: {script} ran with {client} ({})",
        python.display()
    );
    run
}

/// Start a server on a fresh data directory, run `script` against it, stop the server.
/// None (after printing why) when mstrio-py is not available.
async fn run_against_server(script: &'static str) -> Option<(tempfile::TempDir, ScriptRun)> {
    let py = match mstrio_python() {
        Ok(py) => py,
        Err(why) => {
            eprintln!(
                "SKIP mstrio_compat ({script}): {why}; pip install mstrio-py (or run .ci/run)"
            );
            return None;
        }
    };
    run_with(py, script).await
}

/// Run `script` with `py` against a server on a fresh data directory.
async fn run_with(py: PathBuf, script: &'static str) -> Option<(tempfile::TempDir, ScriptRun)> {
    let dir = tempfile::tempdir().unwrap();
    let handle = Server::start(ServerConfig::new(dir.path())).await.unwrap();
    let base = handle.base_url().to_string();
    let run = tokio::task::spawn_blocking(move || run_script(&py, script, &base))
        .await
        .unwrap();
    handle.shutdown().await.unwrap();
    Some((dir, run))
}

/// The stored rows of a table, `|`-joined, sorted.
fn stored_rows(data_dir: &Path, dataset_id: &str, table: &str) -> Vec<String> {
    let batches = pushdata_server::read_table(data_dir, dataset_id, table).unwrap();
    let opts = FormatOptions::default();
    let mut rows = Vec::new();
    for b in &batches {
        let f: Vec<ArrayFormatter> = b
            .columns()
            .iter()
            .map(|c| ArrayFormatter::try_new(c.as_ref(), &opts).unwrap())
            .collect();
        for i in 0..b.num_rows() {
            rows.push(
                f.iter()
                    .map(|x| x.value(i).to_string())
                    .collect::<Vec<_>>()
                    .join("|"),
            );
        }
    }
    rows.sort();
    rows
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mstrio_connection_forms() {
    let Some((_dir, run)) = run_against_server("mstrio_connection.py").await else {
        return;
    };
    let want = format!("{} MicroStrategy Tutorial", DEFAULT_PROJECT_ID);
    for how in [
        "project_id",
        "project_name",
        "select_project(project_id)",
        "select_project(project_name)",
        "select_project(name as project)",
        "select_project(id as project)",
        "ldap",
        "api_token",
    ] {
        assert_eq!(run.get(how), want, "{how}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mstrio_supercube_create_update_publish() {
    let Some((dir, run)) = run_against_server("mstrio_supercube.py").await else {
        return;
    };
    let rows = stored_rows(dir.path(), run.get("cube_id"), "items");
    assert_eq!(
        rows,
        vec![
            "1|a|1.5|10",
            "2|b|2.5|20",
            "3|c|30.5|31",
            "4|d|40.5|41",
            "5|e|50.5|51"
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mstrio_multitable_supercube() {
    let Some((dir, run)) = run_against_server("mstrio_multitable.py").await else {
        return;
    };
    let multi = run.get("multi_id");
    assert_eq!(
        stored_rows(dir.path(), multi, "Stores"),
        vec![
            "1|New York|100",
            "2|Seattle|250",
            "3|Los Angeles|300",
            "4|Austin|400"
        ]
    );
    assert_eq!(
        stored_rows(dir.path(), multi, "Sales"),
        vec![
            "1|TV|400|400",
            "2|Books|200|200",
            "3|Accessories|150|150",
            "5|Toys|50|50"
        ]
    );
    let forms = run.get("forms_id");
    assert_eq!(
        stored_rows(dir.path(), forms, "Sales"),
        vec!["1|TV|400", "2|Books|200", "3|Accessories|100", "5|Toys|50"]
    );
}

/// mstrio-py's own same-name check (`SuperCube.create()` lists the folder first): a second
/// cube of a name is refused in My Reports and in a folder by id, and accepted in the
/// other folder; nothing is created for a refused cube.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mstrio_refuses_a_second_cube_of_a_name_in_a_folder() {
    let Some((dir, run)) = run_against_server("mstrio_same_name.py").await else {
        return;
    };
    let mine = run.get("my_reports_id");
    let there = run.get("folder_cube_id");
    assert_ne!(mine, there);
    assert_eq!(stored_rows(dir.path(), mine, "t"), vec!["1|1.0", "2|2.0"]);
    assert_eq!(
        stored_rows(dir.path(), there, "t"),
        vec!["1|20.0", "2|21.0"]
    );
    let datasets = std::fs::read_dir(dir.path().join("datasets"))
        .unwrap()
        .filter(|e| e.as_ref().unwrap().path().is_dir())
        .count();
    assert_eq!(datasets, 2, "the refused cubes created nothing");
}

/// A logged-in HTTP caller of a test server.
struct Http {
    client: reqwest::Client,
    base: String,
    token: String,
}

impl Http {
    async fn login(base: &str) -> Http {
        let client = reqwest::Client::new();
        let resp = client
            .post(format!("{base}/api/auth/login"))
            .json(&json!({"loginMode": 1, "username": "administrator", "password": ""}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 204);
        let token = resp.headers()["X-MSTR-AuthToken"]
            .to_str()
            .unwrap()
            .to_string();
        Http {
            client,
            base: base.to_string(),
            token,
        }
    }

    /// `GET path` with the token (when `auth`) and the default project: (status, JSON body).
    async fn get(&self, path: &str, auth: bool) -> (u16, Value) {
        let mut req = self
            .client
            .get(format!("{}{path}", self.base))
            .header("X-MSTR-ProjectID", DEFAULT_PROJECT_ID);
        if auth {
            req = req.header("X-MSTR-AuthToken", &self.token);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    async fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        let resp = self
            .client
            .post(format!("{}{path}", self.base))
            .header("X-MSTR-ProjectID", DEFAULT_PROJECT_ID)
            .header("X-MSTR-AuthToken", &self.token)
            .json(body)
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }
}

/// The endpoints mstrio-py calls when it selects a project and around SuperCube, with the
/// fields it reads, over plain HTTP (runs without Python).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mstrio_endpoints_as_mstrio_reads_them() {
    let dir = tempfile::tempdir().unwrap();
    let handle = Server::start(ServerConfig::new(dir.path())).await.unwrap();
    let http = Http::login(handle.base_url()).await;
    let pid = DEFAULT_PROJECT_ID;

    // the project as an object (what `Project(conn, id=...)` fetches first)
    let (status, body) = http
        .get(&format!("/api/objects/{pid}?type=32&comments=true"), true)
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["id"], pid);
    assert_eq!(body["name"], "MicroStrategy Tutorial");
    assert_eq!(body["type"], 32);
    assert_eq!(body["subtype"], 8192);
    let lower = pid.to_lowercase();
    let (status, _) = http
        .get(&format!("/api/objects/{lower}?type=32"), true)
        .await;
    assert_eq!(status, 200);
    let (status, body) = http
        .get(&format!("/api/objects/{pid}?type=32"), false)
        .await;
    assert_eq!(status, 401, "{body}");
    let other = "0123456789ABCDEF0123456789ABCDEF";
    let (status, body) = http
        .get(&format!("/api/objects/{other}?type=32"), true)
        .await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(body["code"], "ERR004");
    // a project is not a folder
    let (status, body) = http.get(&format!("/api/objects/{pid}?type=8"), true).await;
    assert_eq!(status, 404, "{body}");
    let (status, body) = http.get(&format!("/api/objects/{pid}?type=9"), true).await;
    assert_eq!(status, 400, "{body}");
    let (status, body) = http.get(&format!("/api/objects/{pid}?type=x"), true).await;
    assert_eq!(status, 400, "{body}");

    // one project, by id or by name (mstrio-py reads status and alias by name)
    for key in [pid, "MicroStrategy%20Tutorial"] {
        let (status, body) = http.get(&format!("/api/projects/{key}"), true).await;
        assert_eq!(status, 200, "{key}: {body}");
        assert_eq!(body["id"], pid);
        assert_eq!(body["name"], "MicroStrategy Tutorial");
        assert_eq!(body["status"], 0);
        assert_eq!(body["alias"], "");
    }
    let (status, _) = http.get("/api/projects/No%20Such%20Project", true).await;
    assert_eq!(status, 404);
    let (status, _) = http.get(&format!("/api/projects/{pid}"), false).await;
    assert_eq!(status, 401);

    // the cluster's nodes, with the project loaded (what `Project.is_loaded()` reads)
    let (status, body) = http.get("/api/monitors/iServer/nodes", true).await;
    assert_eq!(status, 200, "{body}");
    let nodes = body["nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), 1, "{body}");
    assert_eq!(nodes[0]["status"], "running");
    assert_eq!(nodes[0]["address"], "127.0.0.1");
    assert_eq!(nodes[0]["projects"][0]["id"], pid);
    assert_eq!(nodes[0]["projects"][0]["status"], "loaded");
    let (_, body) = http
        .get(
            &format!("/api/monitors/iServer/nodes?projects.id={pid}"),
            true,
        )
        .await;
    assert_eq!(body["nodes"][0]["projects"].as_array().unwrap().len(), 1);
    let (_, body) = http
        .get(
            &format!("/api/monitors/iServer/nodes?projects.id={other}"),
            true,
        )
        .await;
    assert_eq!(body["nodes"][0]["projects"], json!([]));
    let (_, body) = http
        .get("/api/monitors/iServer/nodes?name=elsewhere", true)
        .await;
    assert_eq!(body["nodes"], json!([]));
    let (status, _) = http.get("/api/monitors/iServer/nodes", false).await;
    assert_eq!(status, 401);

    // who is logged in (`conn.user_id`, `user_full_name`, `user_initials`)
    let (status, body) = http.get("/api/sessions/userInfo", true).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["id"].as_str().unwrap().len(), 32);
    assert_eq!(body["fullName"], "administrator");
    assert_eq!(body["initials"], "A");

    // mstrio-py models a column two tables share as one attribute per table, by the
    // column's name: the dataset has one attribute, in both tables
    let attr = |table: &str| {
        json!({"name": "store_id", "attributeForms": [{"category": "ID",
            "expressions": [{"tableName": table, "columnName": "store_id"}]}]})
    };
    let model = json!({
        "name": "shared", "description": "", "folderId": "",
        "tables": [
            {"name": "Stores", "columnHeaders": [{"name": "store_id", "dataType": "INTEGER"}]},
            {"name": "Sales", "columnHeaders": [
                {"name": "store_id", "dataType": "INTEGER"},
                {"name": "sales", "dataType": "DOUBLE"}]}
        ],
        "attributes": [attr("Stores"), attr("Sales")],
        "metrics": [{"name": "sales", "expressions": [{"tableName": "Sales", "columnName": "sales"}]}]
    });
    let (status, body) = http.post("/api/datasets/models", &model).await;
    assert_eq!(status, 200, "{body}");
    let id = body["id"].as_str().unwrap().to_string();
    let (status, body) = http.get(&format!("/api/v2/cubes/{id}"), true).await;
    assert_eq!(status, 200, "{body}");
    let attributes = body["definition"]["availableObjects"]["attributes"]
        .as_array()
        .unwrap();
    assert_eq!(attributes.len(), 1, "{body}");
    assert_eq!(attributes[0]["name"], "store_id");

    handle.shutdown().await.unwrap();
}

/// Veracity's own Python sample (seeds/002: `requests` and Microsoft's
/// `azure-storage-file-datalake`), its calls unmodified, against the Veracity emulation on
/// the same server: token, register an Upsert, `DataLakeFileClient` create / append /
/// flush through the SAS URI, start, status; then the rows read back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn veracity_seed_sample_with_the_data_lake_sdk() {
    let script = "veracity_seed_sample.py";
    let py = match python_with("import requests, azure.storage.filedatalake") {
        Ok(py) => py,
        Err(why) => {
            eprintln!(
                "SKIP mstrio_compat ({script}): {why}; pip install requests azure-storage-file-datalake (or run .ci/run)"
            );
            return;
        }
    };
    let Some((_dir, run)) = run_with(py, script).await else {
        return;
    };
    assert_eq!(run.get("status"), "Completed");
    assert_eq!(run.get("validation"), "[]");
    assert_eq!(
        run.get("rows"),
        "1|alpha|1.5,2|beta|20.5,3|gamma|3.5",
        "the Upsert replaced key 2 and added key 3"
    );
}
