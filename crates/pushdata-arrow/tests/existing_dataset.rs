#![allow(clippy::unwrap_used)]
//! Pushing into a dataset that exists, against the reference server (127.0.0.1:0): the
//! definition check (each refused difference, the tolerated ones), the dry run (`plan`)
//! that writes nothing, the same-name check with `IfExists`, folders and descriptions, and
//! the client calls under them (definition, folder listings, object info).

use std::sync::{Arc, Mutex};

use arrow_array::{
    ArrayRef, Date32Array, Float64Array, Int32Array, Int64Array, NullArray, RecordBatch,
    StringArray, TimestampMicrosecondArray,
};
use arrow_cast::display::{ArrayFormatter, FormatOptions};
use pushdata_arrow::{
    DifferenceKind, Error, IfExists, ModelOptions, PlannedDataset, ProgressEvent, Push, Workflow,
};
use pushdata_core::Folder;
use pushdata_core::wire::{DataType as D, DatasetDefinition, OBJECT_TYPE_DATASET, UpdatePolicy};

mod common;
use common::Env;

const FOLDER: &str = "0123456789ABCDEF0123456789ABCDEF";

fn batch(columns: Vec<(&str, ArrayRef)>) -> RecordBatch {
    RecordBatch::try_from_iter(columns).unwrap()
}

/// `orders(id BIGINTEGER, name STRING, amount DOUBLE, day DATE)`, 3 rows.
fn orders() -> RecordBatch {
    batch(vec![
        ("id", Arc::new(Int64Array::from(vec![1, 2, 3]))),
        ("name", Arc::new(StringArray::from(vec!["a", "b", "c"]))),
        ("amount", Arc::new(Float64Array::from(vec![1.5, 2.5, 3.5]))),
        (
            "day",
            Arc::new(Date32Array::from(vec![19000, 19001, 19002])),
        ),
    ])
}

/// The stored rows of a table as `|`-joined text, sorted.
fn stored(env: &Env, dataset_id: &str, table: &str) -> Vec<String> {
    let opts = FormatOptions::default().with_null("null");
    let mut out = Vec::new();
    for b in env.read(dataset_id, table) {
        let f: Vec<ArrayFormatter> = b
            .columns()
            .iter()
            .map(|c| ArrayFormatter::try_new(c.as_ref(), &opts).unwrap())
            .collect();
        for i in 0..b.num_rows() {
            let row: Vec<String> = f.iter().map(|x| x.value(i).to_string()).collect();
            out.push(row.join("|"));
        }
    }
    out.sort();
    out
}

/// A dataset `name` of one table `orders` keyed by `id`; its id.
async fn create_orders(env: &Env, name: &str) -> String {
    let b = orders();
    Push::create(env.client.clone(), name)
        .with_memory_table("orders", b.schema(), vec![b])
        .with_model_options(ModelOptions::default().with_attribute("id"))
        .await
        .unwrap()
        .dataset_id
}

/// Progress events, collected.
#[derive(Clone, Default)]
struct Events(Arc<Mutex<Vec<ProgressEvent>>>);

impl Events {
    fn sink(&self) -> impl Fn(ProgressEvent) + Send + Sync + 'static {
        let events = self.0.clone();
        move |e| events.lock().unwrap().push(e)
    }

    fn any(&self, f: impl Fn(&ProgressEvent) -> bool) -> bool {
        self.0.lock().unwrap().iter().any(f)
    }
}

/// Nothing was written by the push that sent `events`: no dataset, no session, no publish.
fn assert_wrote_nothing(events: &Events) {
    assert!(!events.any(|e| matches!(
        e,
        ProgressEvent::DatasetCreated { .. }
            | ProgressEvent::SessionOpened { .. }
            | ProgressEvent::Publishing { .. }
    )));
}

async fn definition(env: &Env, id: &str) -> DatasetDefinition {
    env.client.dataset_definition(id).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_refused_difference_is_listed_and_nothing_is_written() {
    let env = Env::start().await;
    let id = create_orders(&env, "orders").await;
    let before = definition(&env, &id).await;

    // id: BIGINTEGER -> STRING; name and day missing; extra is new; table returns unknown.
    let changed = batch(vec![
        ("id", Arc::new(StringArray::from(vec!["4"]))),
        ("amount", Arc::new(Float64Array::from(vec![4.5]))),
        ("extra", Arc::new(Int32Array::from(vec![7]))),
    ]);
    let returns = batch(vec![("rid", Arc::new(Int64Array::from(vec![1])))]);
    for workflow in [Workflow::MultiRequest, Workflow::SingleRequest] {
        let events = Events::default();
        let mut push = Push::into_dataset(env.client.clone(), &id)
            .with_memory_table("orders", changed.schema(), vec![changed.clone()])
            .with_workflow(workflow)
            .with_progress(events.sink());
        if workflow == Workflow::MultiRequest {
            push = push.with_memory_table("returns", returns.schema(), vec![returns.clone()]);
        }
        let err = push.await.unwrap_err();
        let Error::DefinitionDrift {
            dataset_id,
            differences,
        } = &err
        else {
            panic!("{err}");
        };
        assert_eq!(dataset_id, &id);
        let kinds: Vec<&DifferenceKind> = differences.iter().map(|d| &d.kind).collect();
        let mut want = vec![
            DifferenceKind::TypeChanged {
                column: "id".into(),
                file_type: D::String,
                dataset_type: D::BigInteger,
            },
            DifferenceKind::ColumnExtra {
                column: "extra".into(),
                file_type: D::Integer,
            },
            DifferenceKind::ColumnMissing {
                column: "name".into(),
                dataset_type: D::String,
            },
            DifferenceKind::ColumnMissing {
                column: "day".into(),
                dataset_type: D::Date,
            },
        ];
        if workflow == Workflow::MultiRequest {
            want.push(DifferenceKind::TableMissing {
                dataset_tables: vec!["orders".into()],
            });
        }
        assert_eq!(kinds, want.iter().collect::<Vec<_>>(), "{workflow:?}");
        assert!(differences[..4].iter().all(|d| d.table == "orders"));
        assert!(differences.iter().all(|d| !d.kind.is_tolerated()));
        assert_wrote_nothing(&events);
    }
    assert_eq!(definition(&env, &id).await, before);
    assert_eq!(
        stored(&env, &id, "orders"),
        [
            "1|a|1.5|2022-01-08",
            "2|b|2.5|2022-01-09",
            "3|c|3.5|2022-01-10"
        ]
    );
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn order_case_widenings_and_null_columns_are_tolerated() {
    let env = Env::start().await;
    let first = batch(vec![
        ("k", Arc::new(Int64Array::from(vec![1]))),
        (
            "At",
            Arc::new(TimestampMicrosecondArray::from(vec![1_000_000])),
        ),
        ("v", Arc::new(Float64Array::from(vec![0.5]))),
        ("note", Arc::new(Float64Array::from(vec![9.5]))),
    ]);
    let id = Push::create(env.client.clone(), "tolerant")
        .with_memory_table("t", first.schema(), vec![first])
        .await
        .unwrap()
        .dataset_id;
    // Another order, `V` for `v`, INTEGER into BIGINTEGER, DATE into DATETIME, all nulls.
    let next = batch(vec![
        ("V", Arc::new(Float64Array::from(vec![2.5, 3.5]))),
        ("k", Arc::new(Int32Array::from(vec![2_000_000_000, -7]))),
        ("At", Arc::new(Date32Array::from(vec![19000, 0]))),
        ("note", Arc::new(NullArray::new(2))),
    ]);
    let push = || {
        Push::into_dataset(env.client.clone(), &id)
            .with_memory_table("T", next.schema(), vec![next.clone()])
            .with_policy(UpdatePolicy::Add)
    };
    let plan = push().plan().await.unwrap();
    let PlannedDataset::Update {
        dataset_id,
        found_by_name,
        tolerated,
        ..
    } = &plan.dataset
    else {
        panic!("{:?}", plan.dataset);
    };
    assert_eq!((dataset_id.as_str(), *found_by_name), (id.as_str(), false));
    let kinds: Vec<DifferenceKind> = tolerated.iter().map(|d| d.kind.clone()).collect();
    assert_eq!(
        kinds,
        [
            DifferenceKind::NameCase {
                column: None,
                dataset_name: "t".into()
            },
            DifferenceKind::NameCase {
                column: Some("V".into()),
                dataset_name: "v".into()
            },
            DifferenceKind::TypeWidened {
                column: "k".into(),
                file_type: D::Integer,
                dataset_type: D::BigInteger
            },
            DifferenceKind::TypeWidened {
                column: "At".into(),
                file_type: D::Date,
                dataset_type: D::DateTime
            },
            DifferenceKind::NullColumn {
                column: "note".into(),
                dataset_type: D::Double
            },
            DifferenceKind::ColumnOrder {
                dataset_order: vec!["k".into(), "At".into(), "v".into(), "note".into()]
            },
        ]
    );
    assert!(tolerated.iter().all(|d| d.kind.is_tolerated()));

    let report = push().await.unwrap();
    assert_eq!(report.dataset_id, id);
    assert_eq!(
        stored(&env, &id, "t"),
        [
            "-7|1970-01-01T00:00:00|3.5|null",
            "1|1970-01-01T00:00:01|0.5|9.5",
            "2000000000|2022-01-08T00:00:00|2.5|null",
        ]
    );
    // The single-request workflow (PATCH of the table) carries the same differences.
    let one = next.slice(1, 1);
    Push::into_dataset(env.client.clone(), &id)
        .with_memory_table("T", one.schema(), vec![one.clone()])
        .with_policy(UpdatePolicy::Replace)
        .with_workflow(Workflow::SingleRequest)
        .await
        .unwrap();
    assert_eq!(stored(&env, &id, "t"), ["-7|1970-01-01T00:00:00|3.5|null"]);
    push().await.unwrap();
    assert_eq!(
        stored(&env, &id, "t"),
        [
            "-7|1970-01-01T00:00:00|3.5|null",
            "2000000000|2022-01-08T00:00:00|2.5|null",
        ]
    );
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plan_checks_and_counts_everything_and_writes_nothing() {
    let env = Env::start().await;
    let b = orders();
    let push = |events: &Events| {
        Push::create(env.client.clone(), "planned")
            .with_memory_table("orders", b.schema(), vec![b.clone()])
            .with_chunk_bytes(1024)
            .with_folder(FOLDER)
            .with_description("what it holds")
            .with_progress(events.sink())
    };
    let events = Events::default();
    let plan = push(&events).plan().await.unwrap();
    match &plan.dataset {
        PlannedDataset::Create {
            name,
            folder,
            description,
        } => {
            assert_eq!(name, "planned");
            assert_eq!(folder, &Folder::Id(FOLDER.into()));
            assert_eq!(description.as_deref(), Some("what it holds"));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(plan.rows(), 3);
    assert_eq!(plan.tables[0].policy, UpdatePolicy::Replace);
    let attributes: Vec<&str> = plan
        .model
        .attributes
        .iter()
        .map(|a| a.name.as_str())
        .collect();
    assert_eq!(
        attributes,
        ["id", "name", "day"],
        "an integer id is a key, so an attribute"
    );
    assert_wrote_nothing(&events);
    assert!(events.any(|e| matches!(e, ProgressEvent::TableEncoded { rows: 3, .. })));
    let folder = Folder::Id(FOLDER.into());
    let listed = env.client.folder_contents(&folder, 0, 100).await.unwrap();
    assert_eq!((listed.objects.len(), listed.total), (0, Some(0)));
    assert!(
        !env.dir.path().join("data/datasets").exists() || {
            std::fs::read_dir(env.dir.path().join("data/datasets"))
                .unwrap()
                .next()
                .is_none()
        }
    );

    // The push itself sends what the plan counted.
    let report = push(&Events::default()).await.unwrap();
    assert_eq!((report.chunks, report.bytes), (plan.chunks, plan.bytes));
    assert_eq!(report.tables[0].rows, plan.tables[0].rows);

    // A plan into the dataset leaves its definition and data as they were.
    let before = definition(&env, &report.dataset_id).await;
    let events = Events::default();
    let plan = Push::into_dataset(env.client.clone(), &report.dataset_id)
        .with_memory_table("orders", b.schema(), vec![b.clone()])
        .with_policy(UpdatePolicy::Upsert)
        .with_workflow(Workflow::SingleRequest)
        .with_progress(events.sink())
        .plan()
        .await
        .unwrap();
    assert_eq!(plan.chunks, 1);
    assert_eq!(plan.tables[0].policy, UpdatePolicy::Upsert);
    let PlannedDataset::Update { definition: d, .. } = &plan.dataset else {
        panic!("{:?}", plan.dataset);
    };
    assert_eq!(**d, before);
    assert_wrote_nothing(&events);
    assert_eq!(definition(&env, &report.dataset_id).await, before);
    assert_eq!(stored(&env, &report.dataset_id, "orders").len(), 3);
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_taken_name_fails_unless_told_to_update_which_keeps_the_id() {
    let env = Env::start().await;
    let id = create_orders(&env, "Sales").await;
    let more = batch(vec![
        ("id", Arc::new(Int64Array::from(vec![3, 4]))),
        ("name", Arc::new(StringArray::from(vec!["c", "d"]))),
        ("amount", Arc::new(Float64Array::from(vec![30.5, 4.5]))),
        ("day", Arc::new(Date32Array::from(vec![19002, 19003]))),
    ]);
    let again = |name: &str| {
        Push::create(env.client.clone(), name)
            .with_memory_table("orders", more.schema(), vec![more.clone()])
            .with_model_options(ModelOptions::default().with_attribute("id"))
    };

    // The name is taken (in any case): refused, naming the dataset and its id.
    let events = Events::default();
    let err = again("SALES")
        .with_progress(events.sink())
        .await
        .unwrap_err();
    match &err {
        Error::DatasetExists {
            name,
            folder,
            existing,
        } => {
            assert_eq!((name.as_str(), folder), ("SALES", &Folder::MyReports));
            assert_eq!(existing.len(), 1);
            assert_eq!(
                (existing[0].id.as_str(), existing[0].name.as_str()),
                (id.as_str(), "Sales")
            );
        }
        e => panic!("{e}"),
    }
    assert_wrote_nothing(&events);

    // Told to update: the same dataset, the policy applied.
    let events = Events::default();
    let report = again("sales")
        .with_if_exists(IfExists::Update)
        .with_policy(UpdatePolicy::Upsert)
        .with_progress(events.sink())
        .await
        .unwrap();
    assert_eq!(report.dataset_id, id);
    assert!(events.any(|e| matches!(e, ProgressEvent::DatasetFound { dataset_id, name } if *dataset_id == id && name == "Sales")));
    assert!(!events.any(|e| matches!(e, ProgressEvent::DatasetCreated { .. })));
    assert_eq!(
        stored(&env, &id, "orders"),
        [
            "1|a|1.5|2022-01-08",
            "2|b|2.5|2022-01-09",
            "3|c|30.5|2022-01-10",
            "4|d|4.5|2022-01-11"
        ]
    );

    // Another folder does not hold the name: a new dataset there.
    let other = again("Sales").with_folder(FOLDER).await.unwrap();
    assert_ne!(other.dataset_id, id);

    // Two datasets of one name (the API lets a client make them): which to update is
    // not known.
    let mut model = Push::create(env.client.clone(), "twice")
        .with_memory_table("orders", more.schema(), vec![more.clone()])
        .plan()
        .await
        .unwrap()
        .model
        .to_dataset_model();
    model.name = "twice".into();
    let a = env.client.create_model(&model).await.unwrap().id;
    let b = env.client.create_model(&model).await.unwrap().id;
    let err = again("twice")
        .with_if_exists(IfExists::Update)
        .await
        .unwrap_err();
    match &err {
        Error::DatasetNameAmbiguous { existing, .. } => {
            let mut ids: Vec<&str> = existing.iter().map(|d| d.id.as_str()).collect();
            ids.sort_unstable();
            let mut want = [a.as_str(), b.as_str()];
            want.sort_unstable();
            assert_eq!(ids, want);
        }
        e => panic!("{e}"),
    }
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn folder_and_description_are_stored_and_found() {
    let env = Env::start().await;
    let b = orders();
    let report = Push::create(env.client.clone(), "described")
        .with_memory_table("orders", b.schema(), vec![b.clone()])
        .with_folder(FOLDER)
        .with_description("orders of the week")
        .await
        .unwrap();
    let info = env
        .client
        .object_info(&report.dataset_id, OBJECT_TYPE_DATASET)
        .await
        .unwrap();
    assert_eq!(info.description.as_deref(), Some("orders of the week"));
    assert_eq!(info.ancestors.unwrap()[0].id, FOLDER);
    let folder = Folder::Id(FOLDER.into());
    let found = env
        .client
        .find_in_folder(&folder, "DESCRIBED", OBJECT_TYPE_DATASET)
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].id, report.dataset_id);
    let in_my_reports = env
        .client
        .find_in_folder(&Folder::MyReports, "described", OBJECT_TYPE_DATASET)
        .await
        .unwrap();
    assert!(in_my_reports.is_empty());

    // The single-request workflow creates in the folder too; it has no description.
    let single = Push::create(env.client.clone(), "single")
        .with_memory_table("orders", b.schema(), vec![b.clone()])
        .with_folder(FOLDER)
        .with_workflow(Workflow::SingleRequest)
        .await
        .unwrap();
    let page = env.client.folder_contents(&folder, 1, 1).await.unwrap();
    assert_eq!(page.total, Some(2));
    assert_eq!(page.objects.len(), 1);
    assert_eq!(page.objects[0].id, single.dataset_id);
    let err = Push::create(env.client.clone(), "single described")
        .with_memory_table("orders", b.schema(), vec![b])
        .with_description("x")
        .with_workflow(Workflow::SingleRequest)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Config(_)), "{err}");
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_definition_lists_tables_with_rows_and_typed_columns() {
    let env = Env::start().await;
    let id = create_orders(&env, "defined").await;
    let d = definition(&env, &id).await;
    assert_eq!(d.id, id);
    assert_eq!(d.name, "defined");
    let objects = d.result.definition.available_objects;
    let tables = objects.tables.unwrap();
    assert_eq!(tables.len(), 1);
    assert_eq!(
        (tables[0].name.as_str(), tables[0].row_count),
        ("orders", 3)
    );
    let columns: Vec<(String, D)> = objects
        .columns
        .unwrap()
        .into_iter()
        .map(|c| (c.column_name, c.data_type))
        .collect();
    assert_eq!(
        columns,
        [
            ("id".to_string(), D::BigInteger),
            ("name".to_string(), D::String),
            ("amount".to_string(), D::Double),
            ("day".to_string(), D::Date)
        ]
    );
    let err = env
        .client
        .dataset_definition("0123456789ABCDEF0123456789ABCDEF")
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(404));
    env.stop().await;
}
