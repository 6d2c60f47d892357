//! Cube instances: the grouped result of a cube request, materialized once and then read
//! page by page.
//!
//! Creating an instance resolves the request ([`plan`]), reads the stored Parquet batch
//! by batch, groups and sums ([`aggregate`], memory bounded by
//! [`aggregate::MAX_GROUPS_IN_MEMORY`] groups, beyond which it spills hash partitions to
//! disk) and writes the grouped rows to an Arrow IPC file under
//! `<data_dir>/staging/cube-instances/<instanceId>/`, in batches of [`RESULT_BATCH_ROWS`]
//! rows. A page reads only the batches it covers, so memory per page is the page itself.
//!
//! Instances expire after [`INSTANCE_IDLE_TIMEOUT`] without use (their files are then
//! deleted); at most [`MAX_INSTANCES`] are kept (the least recently used goes first).
//! A restarted server has none.

pub mod aggregate;
pub mod cells;
pub mod grid;
pub mod plan;

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufReader, BufWriter};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;
use parking_lot::Mutex;
use pushdata_core::wire::CubeInstanceRequest;

use crate::mstr::Dataset;
use crate::mstr::error::{ApiError, Result};
pub use plan::Plan;

/// An instance unused for this long expires.
pub const INSTANCE_IDLE_TIMEOUT: Duration = Duration::from_secs(10 * 60);
/// The most instances kept at once.
pub const MAX_INSTANCES: usize = 256;
/// Rows per batch of an instance's result file (the unit a page read skips by).
pub const RESULT_BATCH_ROWS: usize = 8192;

fn st(ctx: &'static str) -> impl Fn(arrow_schema::ArrowError) -> ApiError {
    move |e| ApiError::internal(ctx, e)
}

/// The grouped rows of an instance, in an Arrow IPC file.
#[derive(Debug)]
pub struct ResultFile {
    path: PathBuf,
    /// Row offset of each batch.
    starts: Vec<u64>,
    /// Rows in all.
    pub total: u64,
}

impl ResultFile {
    /// Write `rows` batches to `path`.
    fn write(
        path: &Path,
        schema: &SchemaRef,
        fill: impl FnOnce(&mut dyn FnMut(RecordBatch) -> Result<()>) -> Result<()>,
    ) -> Result<Self> {
        let f = File::create(path)
            .map_err(|e| ApiError::io(format!("creating {}", path.display()), e))?;
        let mut w = arrow_ipc::writer::FileWriter::try_new(BufWriter::new(f), schema)
            .map_err(st("writing a cube instance"))?;
        let mut starts = Vec::new();
        let mut total = 0u64;
        fill(&mut |b: RecordBatch| {
            let mut off = 0;
            while off < b.num_rows() {
                let len = RESULT_BATCH_ROWS.min(b.num_rows() - off);
                let part = b.slice(off, len);
                let part = RecordBatch::try_new(schema.clone(), part.columns().to_vec())
                    .map_err(st("writing a cube instance"))?;
                w.write(&part).map_err(st("writing a cube instance"))?;
                starts.push(total);
                total += len as u64;
                off += len;
            }
            Ok(())
        })?;
        w.finish().map_err(st("writing a cube instance"))?;
        Ok(ResultFile {
            path: path.to_path_buf(),
            starts,
            total,
        })
    }

    /// Rows `offset..offset + limit` (fewer at the end).
    pub fn read(&self, offset: u64, limit: u64) -> Result<Vec<RecordBatch>> {
        let end = offset.saturating_add(limit).min(self.total);
        if offset >= end {
            return Ok(Vec::new());
        }
        let f = File::open(&self.path)
            .map_err(|e| ApiError::io(format!("opening {}", self.path.display()), e))?;
        let mut r = arrow_ipc::reader::FileReader::try_new(BufReader::new(f), None)
            .map_err(st("reading a cube instance"))?;
        let first = self
            .starts
            .partition_point(|s| *s <= offset)
            .saturating_sub(1);
        let mut out = Vec::new();
        r.set_index(first).map_err(st("reading a cube instance"))?;
        let mut start = self.starts.get(first).copied().unwrap_or(0);
        while start < end {
            let Some(b) = r.next() else { break };
            let b = b.map_err(st("reading a cube instance"))?;
            let n = b.num_rows() as u64;
            let lo = offset.max(start) - start;
            let hi = end.min(start + n) - start;
            if hi > lo {
                out.push(b.slice(lo as usize, (hi - lo) as usize));
            }
            start += n;
        }
        Ok(out)
    }
}

/// One cube instance.
#[derive(Debug)]
pub struct Instance {
    /// Instance id.
    pub id: String,
    /// The cube (dataset) id.
    pub cube_id: String,
    /// The cube name.
    pub cube_name: String,
    /// What it reads.
    pub plan: Plan,
    /// Its rows.
    pub result: ResultFile,
    dir: PathBuf,
    last_used: Mutex<Instant>,
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The live cube instances of a server.
#[derive(Debug)]
pub struct Instances {
    root: PathBuf,
    idle_timeout: Duration,
    max_groups_in_memory: usize,
    map: Mutex<HashMap<String, Arc<Instance>>>,
}

impl Instances {
    /// Instances whose files live under `root` (cleared on start: instances do not survive
    /// a restart).
    pub fn new(root: PathBuf) -> Self {
        let _ = std::fs::remove_dir_all(&root);
        Instances {
            root,
            idle_timeout: INSTANCE_IDLE_TIMEOUT,
            max_groups_in_memory: aggregate::MAX_GROUPS_IN_MEMORY,
            map: Mutex::new(HashMap::new()),
        }
    }

    fn expire(&self) {
        let now = Instant::now();
        let mut map = self.map.lock();
        map.retain(|_, i| now.duration_since(*i.last_used.lock()) < self.idle_timeout);
        while map.len() >= MAX_INSTANCES {
            let oldest = map
                .iter()
                .min_by_key(|(_, i)| *i.last_used.lock())
                .map(|(k, _)| k.clone());
            match oldest {
                Some(k) => {
                    map.remove(&k);
                }
                None => break,
            }
        }
    }

    /// Create an instance of `ds` for `req` (blocking: reads and groups the data).
    pub fn create(&self, ds: &Dataset, req: &CubeInstanceRequest) -> Result<Arc<Instance>> {
        self.expire();
        let snap = ds.snapshot();
        let plan = Plan::resolve(ds, &snap, req)?;
        if plan.attributes.is_empty() && plan.metrics.is_empty() {
            return Err(ApiError::bad_request(format!(
                "requestedObjects names no attribute and no metric of cube {}; ask for at least one",
                ds.def.id
            )));
        }
        let id = crate::ids::new_object_id();
        let dir = self.root.join(&id);
        std::fs::create_dir_all(&dir)
            .map_err(|e| ApiError::io(format!("creating {}", dir.display()), e))?;
        let cleanup = |e: ApiError| {
            let _ = std::fs::remove_dir_all(&dir);
            e
        };
        let schema = plan.result_schema(ds, &snap);
        let spill = dir.join("spill");
        let result = ResultFile::write(&dir.join("rows.arrow"), &schema, |sink| {
            plan.execute(ds, &snap, self.max_groups_in_memory, &spill, &mut |b| {
                let cols = b
                    .columns()
                    .iter()
                    .zip(schema.fields())
                    .map(|(c, f)| {
                        if c.data_type() == f.data_type() {
                            Ok(c.clone())
                        } else {
                            arrow_cast::cast(c, f.data_type())
                                .map_err(st("writing a cube instance"))
                        }
                    })
                    .collect::<Result<Vec<_>>>()?;
                let opts =
                    arrow_array::RecordBatchOptions::new().with_row_count(Some(b.num_rows()));
                let b = RecordBatch::try_new_with_options(schema.clone(), cols, &opts)
                    .map_err(st("writing a cube instance"))?;
                sink(b)
            })
        })
        .map_err(cleanup)?;
        let _ = std::fs::remove_dir_all(&spill);
        let inst = Arc::new(Instance {
            id: id.clone(),
            cube_id: ds.def.id.clone(),
            cube_name: ds.def.name.clone(),
            plan,
            result,
            dir,
            last_used: Mutex::new(Instant::now()),
        });
        tracing::debug!(cube = %inst.cube_id, instance = %id, rows = inst.result.total, "cube instance created");
        self.map.lock().insert(id, inst.clone());
        Ok(inst)
    }

    /// A live instance of cube `cube_id` (404 when unknown or expired).
    pub fn get(&self, cube_id: &str, instance_id: &str) -> Result<Arc<Instance>> {
        self.expire();
        let map = self.map.lock();
        let inst = map
            .get(instance_id)
            .or_else(|| map.get(&instance_id.to_ascii_uppercase()))
            .filter(|i| i.cube_id.eq_ignore_ascii_case(cube_id))
            .cloned()
            .ok_or_else(|| {
                ApiError::not_found(format!(
                    "cube instance {instance_id:?} of cube {cube_id} does not exist or has expired (instances expire after {} s unused and do not survive a restart); create a new one with POST /api/v2/cubes/{cube_id}/instances",
                    self.idle_timeout.as_secs()
                ))
            })?;
        *inst.last_used.lock() = Instant::now();
        Ok(inst)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::sync::Arc;

    use arrow_array::{Int32Array, Int64Array, StringArray};
    use arrow_schema::{DataType as A, Field, Schema};
    use pushdata_core::wire::DatasetModel;

    use super::*;
    use crate::hook::NoHook;
    use crate::mstr::DatasetDef;
    use crate::store::{Catalog, CommitControl, MergePolicy, TableUpload, UploadSource};

    /// A dataset with `n` rows: `k` (attribute, n / 3 distinct values), `m` (metric, 1).
    fn dataset(dir: &Path, n: i64) -> Arc<Dataset> {
        let model: DatasetModel = serde_json::from_value(serde_json::json!({
            "name": "d",
            "tables": [{"name": "t", "columnHeaders": [
                {"name": "k", "dataType": "STRING"}, {"name": "m", "dataType": "INTEGER"}]}],
            "attributes": [{"name": "K", "attributeForms": [
                {"category": "ID", "expressions": [{"tableName": "t", "columnName": "k"}]}]}],
            "metrics": [{"name": "M", "expressions": [{"tableName": "t", "columnName": "m"}]}]
        }))
        .unwrap();
        let catalog = Catalog::open(dir).unwrap();
        let def = DatasetDef::from_model(model, "P", "u").unwrap();
        let ds = catalog.create(def).unwrap();
        let schema = Arc::new(Schema::new(vec![
            Field::new("k", A::Utf8, true),
            Field::new("m", A::Int32, true),
        ]));
        let b = RecordBatch::try_new(
            schema,
            vec![
                Arc::new(StringArray::from_iter_values(
                    (0..n).map(|i| format!("k{}", i / 3)),
                )),
                Arc::new(Int32Array::from_iter_values((0..n).map(|_| 1))),
            ],
        )
        .unwrap();
        let control = CommitControl {
            hook: &NoHook,
            cancelled: &|| false,
        };
        ds.commit(
            vec![TableUpload {
                table_id: ds.def.tables[0].id.clone(),
                policy: MergePolicy::Replace,
                source: UploadSource::Batches(vec![b]),
            }],
            control,
        )
        .unwrap();
        ds
    }

    fn groups(inst: &Instance) -> Vec<(String, i64)> {
        let mut out = Vec::new();
        for b in inst.result.read(0, inst.result.total).unwrap() {
            let k = b.column(0).as_any().downcast_ref::<StringArray>().unwrap();
            let m = b.column(1).as_any().downcast_ref::<Int64Array>().unwrap();
            for i in 0..b.num_rows() {
                out.push((k.value(i).to_string(), m.value(i)));
            }
        }
        out.sort();
        out
    }

    #[test]
    fn spilled_grouping_equals_in_memory_grouping() {
        let dir = tempfile::tempdir().unwrap();
        let ds = dataset(dir.path(), 30_000);
        let mem = Instances::new(dir.path().join("a"));
        let mut spill = Instances::new(dir.path().join("b"));
        spill.max_groups_in_memory = 1000; // 30 partitions
        let req = CubeInstanceRequest::all();
        let a = mem.create(&ds, &req).unwrap();
        let b = spill.create(&ds, &req).unwrap();
        assert_eq!(a.result.total, 10_000);
        assert!(a.result.starts.len() > 1, "several result batches");
        let ga = groups(&a);
        assert_eq!(ga, groups(&b));
        assert!(ga.iter().all(|(_, m)| *m == 3));
        // A page in the middle spans two result batches.
        let page = a.result.read(8190, 5).unwrap();
        assert_eq!(page.iter().map(RecordBatch::num_rows).sum::<usize>(), 5);
    }

    #[test]
    fn instances_expire_and_their_files_go() {
        let dir = tempfile::tempdir().unwrap();
        let ds = dataset(dir.path(), 10);
        let mut inst = Instances::new(dir.path().join("i"));
        inst.idle_timeout = Duration::from_millis(50);
        let i = inst.create(&ds, &CubeInstanceRequest::all()).unwrap();
        let id = i.id.clone();
        let file_dir = i.dir.clone();
        drop(i);
        assert!(inst.get(&ds.def.id, &id).is_ok());
        std::thread::sleep(Duration::from_millis(80));
        let e = inst.get(&ds.def.id, &id).unwrap_err().to_string();
        assert!(e.contains("expired"), "{e}");
        assert!(
            !file_dir.exists(),
            "files of an expired instance are deleted"
        );
    }
}
