//! Table-file benchmark: the reference server's CPU time and bytes for writing its Parquet
//! table files, without HTTP.
//!
//! TPC-H `lineitem` (the cached Parquet file) is encoded once by the client's encoder into
//! one ROW chunk and decoded by the server's chunk decoder (`pushdata_server::fuzzing`), so
//! the arrays are those an upload hands the store. They are cut into batches of 8192 rows
//! and written as staged files of 256 Ki rows, as a Veracity job stages its parsed rows,
//! through `fuzzing::staged_file` (the store's own staging write: the stored schema, the
//! Parquet sink, the fsync). The rows of the first run are read back and compared with
//! those written.
//!
//! ```text
//! cargo bench --bench table_write                          # SF 0.1
//! PUSHDATA_BENCH_SF=1 cargo bench --bench table_write      # another scale factor
//! ```
//!
//! Prints the fastest of `PUSHDATA_BENCH_RUNS` runs (default 5) of the CPU time of writing
//! every file (getrusage: user + system of the process, all threads, since the sink
//! encodes the columns on the rayon pool), and the files' total size. For instruction
//! counts: `valgrind --tool=callgrind --toggle-collect='pushdata_server::fuzzing::staged_file*'
//! <bench binary>`.

mod data;

use arrow_array::{Array, RecordBatch};
use pushdata::arrow::encoding::encode_base64;
use pushdata::core::wire::{ColumnHeader, Orientation};
use pushdata_server::fuzzing;

use data::BenchError;

/// Rows of a batch written (a Veracity job's parsed batches).
const BATCH_ROWS: usize = 8192;
/// Rows of a staged file (a Veracity job's groups).
const FILE_ROWS: usize = 256 * 1024;

fn main() -> Result<(), BenchError> {
    let sf = data::env_f64("PUSHDATA_BENCH_SF", 0.1)?;
    let runs = data::env_f64("PUSHDATA_BENCH_RUNS", 5.0)?.max(1.0) as usize;
    let (columns, batches) = decoded_lineitem(sf)?;
    let rows: usize = batches.iter().map(RecordBatch::num_rows).sum();
    let files = cut(&batches);
    let dir = tempfile::tempdir()?;
    let mut best = f64::MAX;
    let mut bytes = 0;
    for run in 0..runs {
        let started = data::cpu_self();
        bytes = 0;
        for (i, file) in files.iter().enumerate() {
            let path = dir.path().join(format!("f{i}.parquet"));
            let (size, back) = fuzzing::staged_file(&path, &columns, file.clone(), run == 0)?;
            bytes += size;
            if run == 0 {
                same_rows(file, &back).map_err(|e| format!("file {i}: {e}"))?;
            }
        }
        let cpu = data::cpu_self() - started;
        // The first run also read the files back.
        if run > 0 || runs == 1 {
            best = best.min(cpu);
        }
    }
    println!(
        "#### Table files: lineitem SF {sf}, {rows} rows in {} staged files of up to {FILE_ROWS} rows (batches of {BATCH_ROWS})\n",
        files.len()
    );
    println!(
        "| CPU ms (fastest of {runs} runs; user + system, all threads) | files MB (10^6 bytes) |"
    );
    println!("|---:|---:|");
    println!("| {:.1} | {:.2} |", best * 1e3, bytes as f64 / 1e6);
    Ok(())
}

/// lineitem's column headers, and its rows as the server's chunk decoder gives them.
fn decoded_lineitem(sf: f64) -> Result<(Vec<ColumnHeader>, Vec<RecordBatch>), BenchError> {
    let (table, batches) = data::lineitem_model(sf)?;
    let columns = table.column_headers();
    let data = encode_base64(&table, &batches, Orientation::Row)?;
    let body = format!(r#"{{"tableName":"lineitem","index":1,"data":"{data}"}}"#).into_bytes();
    let (_, _, json) = fuzzing::chunk_body(&[&body], Some(body.len()))?;
    let decoded = fuzzing::chunk_json(&json, &columns, None, Orientation::Row)?;
    Ok((columns, decoded))
}

/// `batches` cut into files of [`FILE_ROWS`] rows, each of batches of [`BATCH_ROWS`].
fn cut(batches: &[RecordBatch]) -> Vec<Vec<RecordBatch>> {
    let mut files = vec![Vec::new()];
    let mut file_rows = 0;
    for b in batches {
        let mut offset = 0;
        while offset < b.num_rows() {
            if file_rows == FILE_ROWS {
                files.push(Vec::new());
                file_rows = 0;
            }
            let len = BATCH_ROWS
                .min(b.num_rows() - offset)
                .min(FILE_ROWS - file_rows);
            if let Some(f) = files.last_mut() {
                f.push(b.slice(offset, len));
            }
            offset += len;
            file_rows += len;
        }
    }
    files
}

/// Whether `back` holds the rows of `written` (whatever the batch boundaries).
fn same_rows(written: &[RecordBatch], back: &[RecordBatch]) -> Result<(), String> {
    let (mut w, mut b) = (written.iter(), back.iter());
    let (mut wb, mut bb) = (w.next().cloned(), b.next().cloned());
    let mut row = 0;
    while let (Some(x), Some(y)) = (&wb, &bb) {
        let n = x.num_rows().min(y.num_rows());
        for (c, (xc, yc)) in x.columns().iter().zip(y.columns()).enumerate() {
            let (xs, ys) = (xc.slice(0, n), yc.slice(0, n));
            if xs.to_data() != ys.to_data() {
                return Err(format!("column {c} differs in rows {row}..{}", row + n));
            }
        }
        row += n;
        wb = rest(x, n).or_else(|| w.next().cloned());
        bb = rest(y, n).or_else(|| b.next().cloned());
    }
    if wb.is_some() || bb.is_some() {
        return Err(format!("{row} rows match, then one side has more"));
    }
    Ok(())
}

/// The rows of `b` after its first `n` (`None` when there are none).
fn rest(b: &RecordBatch, n: usize) -> Option<RecordBatch> {
    (n < b.num_rows()).then(|| b.slice(n, b.num_rows() - n))
}
