//! What the store's unit tests share: a one-table definition of Int32 values, uploads of
//! values, and reading the values back.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use arrow_array::{Int32Array, RecordBatch};
use arrow_schema::{DataType as A, Field, Schema};
use pushdata_core::wire::{ColumnHeader, DataType};
use serde::{Deserialize, Serialize};

use super::commit::{CommitControl, TableUpload, UploadSource};
use super::{Definition, MergePolicy, Snapshot, TableDef};
use crate::hook::NoHook;

/// A dataset `D` of one table `T` with an Int32 column `v` (the key when `keyed`).
#[derive(Debug, Serialize, Deserialize)]
pub(super) struct Def {
    pub(super) id: String,
    pub(super) tables: Vec<TableDef>,
}

impl Definition for Def {
    fn id(&self) -> &str {
        &self.id
    }
    fn name(&self) -> &str {
        "d"
    }
    fn tables(&self) -> &[TableDef] {
        &self.tables
    }
}

/// The definition of dataset `D`.
pub(super) fn def(keyed: bool) -> Def {
    Def {
        id: "D".into(),
        tables: vec![TableDef {
            id: "T".into(),
            name: "t".into(),
            columns: vec![ColumnHeader::new("v", DataType::Integer)],
            key_columns: if keyed { vec![0] } else { vec![] },
        }],
    }
}

/// A batch of `values`.
pub(super) fn batch(values: impl IntoIterator<Item = i32>) -> RecordBatch {
    let schema = Arc::new(Schema::new(vec![Field::new("v", A::Int32, true)]));
    RecordBatch::try_new(schema, vec![Arc::new(Int32Array::from_iter_values(values))]).unwrap()
}

/// `values` uploaded to `T` under `policy`.
pub(super) fn upload_with(policy: MergePolicy, values: &[i32]) -> TableUpload {
    TableUpload {
        table_id: "T".into(),
        policy,
        source: UploadSource::Batches(vec![batch(values.iter().copied())]),
    }
}

/// `values` replacing `T`.
pub(super) fn upload(values: &[i32]) -> TableUpload {
    upload_with(MergePolicy::Replace, values)
}

/// A commit with no hook, never cancelled.
pub(super) fn control() -> CommitControl<'static> {
    CommitControl {
        hook: &NoHook,
        cancelled: &|| false,
    }
}

/// The values of `T` in `snap`, in order.
pub(super) fn values(snap: &Snapshot) -> Vec<i32> {
    snap.read_table("T")
        .unwrap()
        .iter()
        .flat_map(|b| {
            let a = b.column(0).as_any().downcast_ref::<Int32Array>().unwrap();
            a.values().to_vec()
        })
        .collect()
}
