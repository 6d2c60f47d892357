//! The live cube instances of a server: creating one (resolve the request, run the plan,
//! keep the grouped rows in memory or write them under `<root>/<instanceId>/`), finding one, and expiring them
//! (after [`INSTANCE_IDLE_TIMEOUT`] unused, or the least recently used beyond
//! [`MAX_INSTANCES`]; an instance's files go with it).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use pushdata_core::wire::CubeInstanceRequest;

use super::aggregate;
use super::buffers::BufferPool;
use super::error::{CubeError, Result};
use super::execute::Execution;
use super::plan::Plan;
use super::read::cast_to;
use super::result::ResultFile;
use crate::budget::Budget;
use crate::mstr::Dataset;
use crate::mstr::error::Result as ApiResult;
use crate::store::Snapshot;

/// An instance unused for this long expires.
pub(crate) const INSTANCE_IDLE_TIMEOUT: Duration = Duration::from_secs(10 * 60);
/// The most instances kept at once.
pub(crate) const MAX_INSTANCES: usize = 256;
/// One cube instance.
#[derive(Debug)]
pub(crate) struct Instance {
    /// The `instanceId` clients page with.
    pub(crate) id: String,
    /// The cube (dataset) id.
    pub(crate) cube_id: String,
    /// The cube name, echoed in every page.
    pub(crate) cube_name: String,
    /// What it reads.
    pub(crate) plan: Plan,
    /// Its grouped rows.
    pub(crate) result: ResultFile,
    /// Where its pages' buffers come from and go back to (the server's).
    pub(crate) buffers: Arc<BufferPool>,
    /// Its files (deleted when it is dropped).
    dir: PathBuf,
    /// When it was last created or read.
    last_used: Mutex<Instant>,
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The live cube instances of a server.
#[derive(Debug)]
pub(crate) struct Instances {
    /// Where instances keep their files.
    root: PathBuf,
    /// How long an unused instance lives.
    idle_timeout: Duration,
    /// The grouping's memory bound (see [`aggregate::aggregate`]).
    max_groups_in_memory: usize,
    /// The memory of the instances' grouped rows.
    memory: Budget,
    /// Buffers pages are rendered into, kept from page to page.
    buffers: Arc<BufferPool>,
    /// Instances by id.
    map: Mutex<HashMap<String, Arc<Instance>>>,
}

impl Instances {
    /// Instances whose files live under `root` (cleared on start: instances do not survive
    /// a restart), their grouped rows kept in memory up to `memory_bytes` in all (the
    /// server's `cube_memory_bytes`), else in files.
    pub(crate) fn new(root: PathBuf, memory_bytes: usize) -> Self {
        let _ = std::fs::remove_dir_all(&root);
        Instances {
            root,
            idle_timeout: INSTANCE_IDLE_TIMEOUT,
            max_groups_in_memory: aggregate::MAX_GROUPS_IN_MEMORY,
            memory: Budget::new(memory_bytes),
            buffers: Arc::default(),
            map: Mutex::new(HashMap::new()),
        }
    }

    /// Drop the instances unused for too long, and the least recently used beyond
    /// [`MAX_INSTANCES`] (leaving room for one more).
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
    pub(crate) fn create(
        &self,
        ds: &Dataset,
        req: &CubeInstanceRequest,
    ) -> ApiResult<Arc<Instance>> {
        self.expire();
        let snap = ds.snapshot();
        let plan = Plan::resolve(ds, &snap, req)?;
        if plan.attributes.is_empty() && plan.metrics.is_empty() {
            return Err(CubeError::NothingRequested {
                cube: ds.def.id.clone(),
            }
            .into());
        }
        let id = crate::ids::new_object_id();
        let dir = self.root.join(&id);
        std::fs::create_dir_all(&dir).map_err(CubeError::io("creating", &dir))?;
        let result = self.materialize(ds, &snap, &plan, &dir).inspect_err(|_| {
            let _ = std::fs::remove_dir_all(&dir);
        })?;
        let inst = Arc::new(Instance {
            id: id.clone(),
            cube_id: ds.def.id.clone(),
            cube_name: ds.def.name.clone(),
            plan,
            result,
            buffers: self.buffers.clone(),
            dir,
            last_used: Mutex::new(Instant::now()),
        });
        tracing::debug!(cube = %inst.cube_id, instance = %id, rows = inst.result.total, "cube instance created");
        self.map.lock().insert(id, inst.clone());
        Ok(inst)
    }

    /// Run `plan` and write its grouped rows under `dir` (spilling under `dir/spill`, which
    /// is removed after).
    fn materialize(
        &self,
        ds: &Dataset,
        snap: &Snapshot,
        plan: &Plan,
        dir: &Path,
    ) -> Result<ResultFile> {
        let schema = plan.result_schema(ds, snap);
        let spill = dir.join("spill");
        let run = Execution {
            plan,
            ds,
            snap,
            max_groups: self.max_groups_in_memory,
            spill_dir: &spill,
        };
        let result = ResultFile::write(&dir.join("rows.arrow"), &schema, &self.memory, |sink| {
            run.run(&mut |b| sink(cast_to(&b, &schema, "writing a cube instance")?))
        })?;
        let _ = std::fs::remove_dir_all(&spill);
        Ok(result)
    }

    /// A live instance of cube `cube_id` (404 when unknown or expired).
    pub(crate) fn get(&self, cube_id: &str, instance_id: &str) -> ApiResult<Arc<Instance>> {
        self.expire();
        let map = self.map.lock();
        let inst = map
            .get(instance_id)
            .or_else(|| map.get(&instance_id.to_ascii_uppercase()))
            .filter(|i| i.cube_id.eq_ignore_ascii_case(cube_id))
            .cloned()
            .ok_or_else(|| CubeError::InstanceNotFound {
                cube: cube_id.to_string(),
                instance: instance_id.to_string(),
                idle_secs: self.idle_timeout.as_secs(),
            })?;
        *inst.last_used.lock() = Instant::now();
        Ok(inst)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::sync::Arc;

    use arrow_array::{Int32Array, Int64Array, RecordBatch, StringArray};
    use arrow_schema::{DataType as A, Field, Schema};
    use pushdata_core::wire::DatasetModel;

    use super::*;
    use crate::config::DEFAULT_CUBE_MEMORY_BYTES;
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
        let keys: Vec<String> = (0..n).map(|i| format!("k{}", i / 3)).collect();
        replace_rows(&ds, &keys);
        ds
    }

    /// Replace the rows of `ds`'s table with `keys`, metric 1 each.
    fn replace_rows(ds: &Dataset, keys: &[impl AsRef<str>]) {
        let schema = Arc::new(Schema::new(vec![
            Field::new("k", A::Utf8, true),
            Field::new("m", A::Int32, true),
        ]));
        let b = RecordBatch::try_new(
            schema,
            vec![
                Arc::new(StringArray::from_iter_values(
                    keys.iter().map(|k| k.as_ref()),
                )),
                Arc::new(Int32Array::from_iter_values(keys.iter().map(|_| 1))),
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
        let mem = Instances::new(dir.path().join("a"), DEFAULT_CUBE_MEMORY_BYTES);
        let mut spill = Instances::new(dir.path().join("b"), DEFAULT_CUBE_MEMORY_BYTES);
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
    fn results_over_the_memory_budget_are_read_from_a_file_alike() {
        let dir = tempfile::tempdir().unwrap();
        let ds = dataset(dir.path(), 30_000);
        let mem = Instances::new(dir.path().join("a"), DEFAULT_CUBE_MEMORY_BYTES);
        let mut file = Instances::new(dir.path().join("b"), DEFAULT_CUBE_MEMORY_BYTES);
        file.memory = Budget::new(0);
        let req = CubeInstanceRequest::all();
        let a = mem.create(&ds, &req).unwrap();
        let b = file.create(&ds, &req).unwrap();
        assert!(!a.result.in_file() && b.result.in_file());
        assert!(mem.memory.used() > 0, "the rows in memory are charged");
        assert_eq!(groups(&a), groups(&b));
        for (offset, limit) in [(0, 5), (8190, 5), (9998, 10), (10_000, 1), (0, 10_000)] {
            let (pa, pb) = (a.result.read(offset, limit), b.result.read(offset, limit));
            assert_eq!(pa.unwrap(), pb.unwrap(), "rows {offset}+{limit}");
        }
        drop(a);
        mem.map.lock().clear();
        assert_eq!(
            mem.memory.used(),
            0,
            "a dropped instance gives its memory back"
        );
    }

    #[test]
    fn distinct_keys_are_groups_of_their_own_and_a_repeat_is_summed() {
        let dir = tempfile::tempdir().unwrap();
        let ds = dataset(dir.path(), 0);
        let keys: Vec<String> = (0..20_000).map(|i| format!("k{i}")).collect();
        replace_rows(&ds, &keys);
        let inst = Instances::new(dir.path().join("i"), DEFAULT_CUBE_MEMORY_BYTES);
        let req = CubeInstanceRequest::all();
        let a = inst.create(&ds, &req).unwrap();
        let mut want: Vec<(String, i64)> = keys.iter().map(|k| (k.clone(), 1)).collect();
        want.sort();
        assert_eq!(groups(&a), want);
        // The same keys with the last repeated: grouped, its metric summed.
        let mut repeated = keys.clone();
        repeated.push("k19999".to_string());
        replace_rows(&ds, &repeated);
        let b = inst.create(&ds, &req).unwrap();
        let gb = groups(&b);
        assert_eq!(gb.len(), 20_000);
        assert_eq!(gb.iter().find(|(k, _)| k == "k19999").unwrap().1, 2);
        assert_eq!(gb.iter().map(|(_, m)| m).sum::<i64>(), 20_001);
    }

    #[test]
    fn rendered_pages_are_exactly_the_json_of_their_structs() {
        // Keys with characters serde_json escapes in its own way (\b, \f, \u001f) and
        // characters it does not escape (non-ASCII); pages from the start, the middle
        // (spanning result batches), past the end, with and without formatted values.
        let dir = tempfile::tempdir().unwrap();
        let ds = dataset(dir.path(), 30_000);
        let inst = Instances::new(dir.path().join("i"), DEFAULT_CUBE_MEMORY_BYTES);
        let a = inst.create(&ds, &CubeInstanceRequest::all()).unwrap();
        for (offset, limit, formatted) in [
            (0, 5, true),
            (8190, 5, false),
            (9998, 10, true),
            (10_000, 10, true),
            (0, 10_000, false),
        ] {
            let bytes = super::super::grid::render(&a, offset, limit, formatted).unwrap();
            let bytes = bytes.as_ref().to_vec();
            let page: pushdata_core::wire::CubeInstance = serde_json::from_slice(&bytes).unwrap();
            assert_eq!(
                String::from_utf8(serde_json::to_vec(&page).unwrap()).unwrap(),
                String::from_utf8(bytes).unwrap(),
                "page {offset}+{limit}"
            );
            assert_eq!(page.data.paging.offset, offset);
            assert_eq!(
                page.data.metric_values.formatted.is_some(),
                formatted,
                "formatted values"
            );
        }
        // Pages rendered again, into the buffers and element tables of the pages before.
        let first = super::super::grid::render(&a, 0, 10_000, false).unwrap();
        let first = first.as_ref().to_vec();
        for _ in 0..3 {
            let again = super::super::grid::render(&a, 0, 10_000, false).unwrap();
            assert_eq!(again.as_ref(), &first[..], "a page rendered again");
        }
        let odd = dataset_with_keys(
            dir.path(),
            &[
                "a\u{8}b",
                "c\u{c}\"d\\",
                "\u{1f}é😀",
                "plain",
                "a\u{8}b",
                "",
                "\u{0}",
                "",
            ],
        );
        let b = inst.create(&odd, &CubeInstanceRequest::all()).unwrap();
        let bytes = super::super::grid::render(&b, 0, 10, true).unwrap();
        let bytes = bytes.as_ref().to_vec();
        let page: pushdata_core::wire::CubeInstance = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(serde_json::to_vec(&page).unwrap(), bytes);
        assert_eq!(page.data.paging.current, 6, "a repeated key is one group");
        let ids: Vec<&str> = page.definition.grid.rows[0]
            .elements
            .iter()
            .map(|e| e.id.split_once(':').unwrap().1)
            .collect();
        assert_eq!(
            ids,
            ["a\u{8}b", "c\u{c}\"d\\", "\u{1f}é😀", "plain", "", "\u{0}"]
        );
    }

    /// A dataset like [`dataset`] with the given keys (metric 1 each).
    fn dataset_with_keys(dir: &Path, keys: &[&str]) -> Arc<Dataset> {
        let ds = dataset(&dir.join("odd"), 0);
        replace_rows(&ds, keys);
        ds
    }

    #[test]
    fn instances_expire_and_their_files_go() {
        let dir = tempfile::tempdir().unwrap();
        let ds = dataset(dir.path(), 10);
        let mut inst = Instances::new(dir.path().join("i"), DEFAULT_CUBE_MEMORY_BYTES);
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
