//! A `pushdata serve` process the CLI tests start, kill and restart, and the Parquet
//! files of `(id, label)` rows they push and read back.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;

use arrow_array::{Array, Int64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

/// The `pushdata` binary with no `PUSHDATA_*` connection setting or `RUST_LOG` from the
/// test's environment (a `std` command, for processes the test starts, kills and waits for).
pub(crate) fn bin() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_pushdata"));
    for var in [
        "PUSHDATA_URL",
        "PUSHDATA_USER",
        "PUSHDATA_PASSWORD",
        "RUST_LOG",
    ] {
        cmd.env_remove(var);
    }
    for var in [
        "URL",
        "TOKEN_URL",
        "CLIENT_ID",
        "CLIENT_SECRET",
        "SUBSCRIPTION_KEY",
        "WORKSPACE",
    ] {
        cmd.env_remove(format!("PUSHDATA_VERACITY_{var}"));
    }
    cmd
}

/// A running `pushdata serve`, its log going to a file.
pub(crate) struct Serve {
    pub(crate) child: Child,
    pub(crate) port: u16,
    pub(crate) url: String,
    pub(crate) log: PathBuf,
}

impl Serve {
    /// Start `serve` on `dir` (port 0: a free one), with `extra` flags.
    pub(crate) fn start(dir: &Path, port: u16, extra: &[&str]) -> Serve {
        let log = dir.with_extension("log");
        let err = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .unwrap();
        let mut child = bin()
            .args([
                "serve",
                "--addr",
                &format!("127.0.0.1:{port}"),
                "--data-dir",
            ])
            .arg(dir)
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(err)
            .spawn()
            .unwrap();
        let mut url = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut url)
            .unwrap();
        let url = url.trim().to_string();
        assert!(
            url.starts_with("http://127.0.0.1:"),
            "serve printed {url:?}; its log: {}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        let port = url["http://127.0.0.1:".len()..]
            .split('/')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        Serve {
            child,
            port,
            url,
            log,
        }
    }

    pub(crate) fn origin(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub(crate) fn log_len(&self) -> usize {
        std::fs::read(&self.log).map(|b| b.len()).unwrap_or(0)
    }

    /// The log written since `from` bytes.
    pub(crate) fn log_since(&self, from: usize) -> String {
        let all = std::fs::read(&self.log).unwrap_or_default();
        String::from_utf8_lossy(&all[from.min(all.len())..]).into_owned()
    }

    /// SIGKILL, and wait until the process is gone (its data-directory lock with it).
    pub(crate) fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// Restart on the same data directory and port (clients retrying reach the new server).
    pub(crate) fn restart(self, dir: &Path, extra: &[&str]) -> Serve {
        let port = self.port;
        self.kill();
        Serve::start(dir, port, extra)
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `n` rows `(id, label)` of version `version`: every row tells which version it is of.
pub(crate) fn rows(version: u32, n: usize) -> Vec<(i64, String)> {
    (0..n)
        .map(|i| {
            (
                i as i64,
                format!("v{version}-row{i:07}-{}", i * 7919 % 1000),
            )
        })
        .collect()
}

pub(crate) fn write_parquet(path: &Path, rows: &[(i64, String)]) {
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("label", DataType::Utf8, false),
    ]));
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![
            Arc::new(Int64Array::from_iter_values(rows.iter().map(|r| r.0))),
            Arc::new(StringArray::from_iter_values(rows.iter().map(|r| &r.1))),
        ],
    )
    .unwrap();
    let mut w = ArrowWriter::try_new(std::fs::File::create(path).unwrap(), schema, None).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
}

/// The `(id, label)` rows of a pulled Parquet file, sorted (the columns found by name, any
/// case; `id` read as an integer whatever type the pull gave it).
pub(crate) fn read_rows(path: &Path) -> Vec<(i64, String)> {
    let file = std::fs::File::open(path).unwrap();
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)
        .unwrap()
        .build()
        .unwrap();
    let mut out = Vec::new();
    for b in reader {
        let b = b.unwrap();
        let col = |name: &str, to: &DataType| {
            let (i, _) = b
                .schema()
                .fields()
                .iter()
                .enumerate()
                .find(|(_, f)| f.name().eq_ignore_ascii_case(name))
                .unwrap_or_else(|| panic!("no column {name} in {:?}", b.schema()));
            arrow_cast::cast(b.column(i), to).unwrap()
        };
        let ids = col("id", &DataType::Int64);
        let labels = col("label", &DataType::Utf8);
        let ids = ids.as_any().downcast_ref::<Int64Array>().unwrap();
        let labels = labels.as_any().downcast_ref::<StringArray>().unwrap();
        for i in 0..b.num_rows() {
            assert!(!ids.is_null(i) && !labels.is_null(i), "a null in row {i}");
            out.push((ids.value(i), labels.value(i).to_string()));
        }
    }
    out.sort();
    out
}

/// The `(id, label)` rows of table `t` of dataset `id`, as `pull --table` reads them into
/// `out`, sorted.
pub(crate) fn pull_rows(url: &str, id: &str, out: &Path) -> Vec<(i64, String)> {
    let o = bin()
        .args(["pull", id, "--table", "t", "--url", url, "-o"])
        .arg(out)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "pull: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    read_rows(out)
}
