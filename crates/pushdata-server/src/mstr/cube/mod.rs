//! Cube instances: the grouped result of a cube request, materialized once and then read
//! page by page.
//!
//! Data flow of creating an instance ([`instances`]): the request is resolved against the
//! dataset ([`plan`]); the tables to read and their columns are chosen ([`tables`]); each
//! table's projected, filtered columns are streamed from the stored Parquet of one pinned
//! snapshot, each column decoded on a thread of its own ([`read`], [`filter`]); several tables are each grouped, then joined on the
//! attributes they share ([`join`]); the rows are grouped and their metrics aggregated
//! ([`aggregate`], [`accumulate`]; memory bounded by [`aggregate::MAX_GROUPS_IN_MEMORY`]
//! groups, beyond which hash partitions spill to disk; when a hash of each row's keys
//! shows them all distinct, [`distinct`], the rows are their own groups and no key rows
//! are built), [`execute`] running these steps; the grouped rows are kept in memory under
//! the server's `cube_memory_bytes` for all instances, else written to an Arrow IPC
//! file ([`result`]) under `<data_dir>/staging/cube-instances/<instanceId>/`. A page reads only the result batches
//! it covers and renders them as the grid JSON ([`grid`], values by [`cells`]).
//!
//! Tables of a multi-table dataset are joined as MicroStrategy documents for multi-table
//! datasets (KB254996): the elements of a shared attribute are the union of its tables'
//! (a full outer join on the shared forms), forms and metrics a table lacks are null, and
//! rows without a value of an attribute shown or filtered are left out; see [`execute`].
//!
//! Files, one job each:
//! - `instances`: the live instances (create, find, expire; their files go with them);
//! - `plan`: the request resolved to attributes, forms, metrics, columns and types;
//! - `tables`: which tables a plan reads, and which of their columns;
//! - `read`: one table's projected, filtered columns from a snapshot;
//! - `filter`: the view filter (check, attributes named, value on a batch);
//! - `join`: joining grouped tables on shared attribute forms;
//! - `execute`: running a plan (read, join, group);
//! - `aggregate`: grouping by key with spill partitions;
//! - `accumulate`: a metric's per-group sum or maximum;
//! - `distinct`: whether the grouped rows' keys are all distinct (by a hash per row);
//! - `result`: the instance's grouped rows (in memory or a file; written once, read pages);
//! - `grid`: a page as the v2 grid JSON;
//! - `buffers`: byte buffers used again from page to page;
//! - `cells`: values as JSON tokens and display text;
//! - `rows`: one table's stored rows exactly, a page at a time (a pushdata extension, not
//!   a cube instance: no grouping, no join);
//! - `error`: the cube's errors ([`CubeError`], answered by `crate::mstr::error`).
//!
//! Instances expire after [`instances::INSTANCE_IDLE_TIMEOUT`] without use (their files
//! are then deleted); at most [`instances::MAX_INSTANCES`] are kept (the least recently
//! used goes first). A restarted server has none.
//!
//! Errors: the cube's code returns [`CubeError`]; its entry points ([`Instances`],
//! [`grid::render`]) answer with the service's `ApiError`.

mod accumulate;
mod aggregate;
mod buffers;
pub(crate) mod cells;
mod distinct;
mod error;
mod execute;
mod filter;
pub(crate) mod grid;
mod instances;
mod join;
mod plan;
mod read;
mod result;
pub(crate) mod rows;
mod tables;

pub(crate) use error::CubeError;
pub(crate) use instances::{Instance, Instances};
