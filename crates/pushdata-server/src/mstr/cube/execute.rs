//! Running a plan on a pinned snapshot: choose the tables ([`super::tables`]), read each
//! ([`super::read`]), and group ([`super::aggregate`]).
//!
//! Semantics (as a cube does): rows are grouped by the requested attributes' forms and
//! metrics are summed. When the attributes and metrics come from several tables, each
//! table is first grouped by its requested attributes plus the attributes it shares with
//! the other tables read, then the tables are joined ([`super::join`]) on the shared
//! attributes' forms, then the joined rows are grouped by the requested attributes.
//!
//! The join follows MicroStrategy's documented behaviour for multi-table datasets
//! (Knowledge Base KB254996, "How data is joined and handled when using the new
//! Multi-Table Data Import feature in MicroStrategy 10",
//! <https://community.strategy.com/article/KB254996-How-data-is-joined-and-handled-when-using-the-new-Multi>):
//! - an attribute shared by several tables is read from all of them with "a full outer
//!   join ... to get a full set of elements" (its elements are the union of the tables');
//!   forms a table lacks (a DESC only one table has) are null on the elements only the
//!   other tables have;
//! - metrics are outer joined: a metric is null on the elements its table lacks;
//! - "attributes not shared between the tables will eliminate rows from the result set
//!   where they do not possess a value": a row is kept only when each attribute requested
//!   (or named by the view filter) has a value from some table holding it
//!   ([`tables::presence_groups`], [`join::keep_present`]); a value stored as null counts as
//!   a value.
//!
//! The KB does not say how a row is matched when tables share several attributes, nor
//! what a filter on an attribute of one table does to the rows of another: here rows are
//! matched on every shared form, and a filtered attribute is treated like a shown one (a
//! row needs a value of it that passes the filter).
//!
//! Memory: one table is streamed batch by batch from its Parquet file and grouped with
//! the bound of [`super::aggregate`]. A join of several tables holds their grouped rows in
//! memory.

use std::path::Path;

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;

use super::aggregate;
use super::error::{CubeError, Result};
use super::join::{self, Grouped};
use super::plan::{Plan, key_name, metric_name};
use super::read::read_table;
use super::tables::{self, TableRead};
use crate::mstr::Dataset;
use crate::store::{Snapshot, TableDef};

/// Where the grouped rows go.
pub(crate) type Sink<'a> = &'a mut dyn FnMut(RecordBatch) -> Result<()>;

/// One run of a plan.
#[derive(Debug)]
pub(crate) struct Execution<'a> {
    /// What to read.
    pub(crate) plan: &'a Plan,
    /// The dataset the plan was resolved against.
    pub(crate) ds: &'a Dataset,
    /// The snapshot read (pinned for the whole run).
    pub(crate) snap: &'a Snapshot,
    /// Groups held in memory before the final grouping spills.
    pub(crate) max_groups: usize,
    /// Where spill partitions go.
    pub(crate) spill_dir: &'a Path,
}

impl Execution<'_> {
    /// Read the data and hand the grouped rows to `sink`: the attributes' forms (request
    /// order), then the metrics.
    pub(crate) fn run(&self, sink: Sink<'_>) -> Result<()> {
        let involved = tables::involved(self.plan, &self.ds.def)?;
        match involved.as_slice() {
            [] => Ok(()),
            [t] => {
                let read = tables::alone(self.plan, &self.ds.def, t)?;
                self.group_table(&read, self.max_groups, sink).map(drop)
            }
            _ => self.group_joined(&involved, sink),
        }
    }

    /// Read one table and group it by its keys, `max_groups` in memory at most; the
    /// schema of the rows read.
    fn group_table(
        &self,
        read: &TableRead<'_>,
        max_groups: usize,
        sink: Sink<'_>,
    ) -> Result<SchemaRef> {
        let (schema, mut input) =
            read_table(&self.ds.def, self.snap, read, self.plan.filter.as_ref())?;
        aggregate::aggregate(
            &schema,
            read.n_keys,
            &mut input,
            stored_rows(self.snap, read.table),
            max_groups,
            self.spill_dir,
            sink,
        )?;
        Ok(schema)
    }

    /// Group each of several tables by its keys, join them, and group the joined rows by
    /// the requested attributes.
    fn group_joined(&self, involved: &[&TableDef], sink: Sink<'_>) -> Result<()> {
        let mut grouped = (0..involved.len())
            .map(|ti| {
                let read = tables::joined(self.plan, &self.ds.def, involved, ti);
                self.group_in_memory(&read, ti)
            })
            .collect::<Result<Vec<_>>>()?;
        let first = grouped.remove(0);
        let joined = join::join_all(first, grouped)?;
        let required = tables::presence_groups(self.plan, &self.ds.def, involved);
        let joined = join::keep_present(joined, &required)?;
        let projected = self.requested_columns(&joined)?;
        let rows = projected.num_rows() as u64;
        let schema = projected.schema();
        let n_keys = self.plan.attributes.iter().map(|a| a.forms.len()).sum();
        aggregate::aggregate(
            &schema,
            n_keys,
            &mut std::iter::once(Ok(projected)),
            rows,
            self.max_groups,
            self.spill_dir,
            sink,
        )
    }

    /// Read and group one table, the `ti`-th read, entirely in memory (a side of a join).
    fn group_in_memory(&self, read: &TableRead<'_>, ti: usize) -> Result<Grouped> {
        let mut parts = Vec::new();
        let schema = self.group_table(read, usize::MAX, &mut |b| {
            parts.push(b);
            Ok(())
        })?;
        let out_schema = aggregate::output_schema(&schema, read.n_keys);
        let rows = arrow_select::concat::concat_batches(&out_schema, &parts)
            .map_err(CubeError::arrow("joining tables"))?;
        Grouped::new(read.table.name.clone(), rows, ti)
    }

    /// The requested forms (request order), then the metrics, of the joined rows.
    fn requested_columns(&self, joined: &RecordBatch) -> Result<RecordBatch> {
        let schema = joined.schema();
        let keys = self
            .plan
            .attributes
            .iter()
            .flat_map(|a| a.forms.iter().map(|f| key_name(a.index, f.index)));
        let metrics = self.plan.metrics.iter().map(|mo| metric_name(mo.index));
        let idx = keys
            .chain(metrics)
            .map(|n| schema.index_of(&n))
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(CubeError::arrow("joining tables"))?;
        joined
            .project(&idx)
            .map_err(CubeError::arrow("joining tables"))
    }
}

/// The rows table `t` has in `snap` (a hint for the grouping's partitions).
fn stored_rows(snap: &Snapshot, t: &TableDef) -> u64 {
    snap.manifest()
        .tables
        .get(&t.id)
        .map(|tv| tv.rows)
        .unwrap_or(0)
}
