#![allow(clippy::unwrap_used)]
//! Type mapping, model inference, overrides, shared attributes, name validation.

use std::sync::Arc;

use arrow_schema::{
    DataType as A, Field, Fields, IntervalUnit, Schema, TimeUnit, UnionFields, UnionMode,
};
use pushdata_arrow::model::{Choice, ValueText, map_arrow_type, validate_name};
use pushdata_arrow::{Error, ModelError, ModelOptions, Role, RoleReason, TableSchema, infer_model};
use pushdata_core::wire::{DataType as D, NameProblem};

fn dict(v: A) -> A {
    A::Dictionary(Box::new(A::Int32), Box::new(v))
}

#[test]
fn mapping_table_for_every_arrow_type() {
    let item = Arc::new(Field::new("item", A::Int32, true));
    let native: Vec<(A, D)> = vec![
        (A::Int8, D::Integer),
        (A::Int16, D::Integer),
        (A::Int32, D::Integer),
        (A::UInt8, D::Integer),
        (A::UInt16, D::Integer),
        (A::Int64, D::BigInteger),
        (A::UInt32, D::BigInteger),
        (A::UInt64, D::BigDecimal),
        (A::Float16, D::Double),
        (A::Float32, D::Double),
        (A::Float64, D::Double),
        (A::Decimal32(9, 2), D::BigDecimal),
        (A::Decimal64(18, 2), D::BigDecimal),
        (A::Decimal128(38, 10), D::BigDecimal),
        (A::Decimal256(76, 0), D::BigDecimal),
        (A::Utf8, D::String),
        (A::LargeUtf8, D::String),
        (A::Utf8View, D::String),
        (dict(A::Utf8), D::String),
        (dict(A::LargeUtf8), D::String),
        (dict(A::Utf8View), D::String),
        (
            A::Dictionary(Box::new(A::UInt8), Box::new(A::Utf8)),
            D::String,
        ),
        (dict(A::Int64), D::BigInteger),
        (A::Boolean, D::Bool),
        (A::Date32, D::Date),
        (A::Date64, D::Date),
        (A::Time32(TimeUnit::Second), D::Time),
        (A::Time32(TimeUnit::Millisecond), D::Time),
        (A::Time64(TimeUnit::Microsecond), D::Time),
        (A::Time64(TimeUnit::Nanosecond), D::Time),
        (A::Timestamp(TimeUnit::Second, None), D::DateTime),
        (A::Timestamp(TimeUnit::Millisecond, None), D::DateTime),
        (A::Timestamp(TimeUnit::Microsecond, None), D::DateTime),
        (A::Timestamp(TimeUnit::Nanosecond, None), D::DateTime),
        (
            A::Timestamp(TimeUnit::Microsecond, Some("+02:00".into())),
            D::DateTime,
        ),
        (
            A::Timestamp(TimeUnit::Microsecond, Some("Europe/Paris".into())),
            D::DateTime,
        ),
        (A::Null, D::String),
    ];
    for (t, want) in native {
        for as_text in [false, true] {
            let m = map_arrow_type(&t, as_text).unwrap_or_else(|e| panic!("{t}: {e:?}"));
            assert_eq!(m.data_type, want, "{t}");
            assert_eq!(m.text, ValueText::Native, "{t}");
        }
    }
    let text_only: Vec<(A, ValueText)> = vec![
        (A::List(item.clone()), ValueText::JsonText),
        (A::LargeList(item.clone()), ValueText::JsonText),
        (A::FixedSizeList(item.clone(), 2), ValueText::JsonText),
        (A::ListView(item.clone()), ValueText::JsonText),
        (
            A::Struct(Fields::from(vec![Field::new("a", A::Int32, true)])),
            ValueText::JsonText,
        ),
        (
            A::Map(
                Arc::new(Field::new(
                    "entries",
                    A::Struct(Fields::from(vec![
                        Field::new("key", A::Utf8, false),
                        Field::new("value", A::Int32, true),
                    ])),
                    false,
                )),
                false,
            ),
            ValueText::JsonText,
        ),
        (A::Binary, ValueText::Base64),
        (A::LargeBinary, ValueText::Base64),
        (A::BinaryView, ValueText::Base64),
        (A::FixedSizeBinary(4), ValueText::Base64),
        (dict(A::Binary), ValueText::Base64),
        (A::Duration(TimeUnit::Millisecond), ValueText::DisplayText),
        (
            A::Interval(IntervalUnit::MonthDayNano),
            ValueText::DisplayText,
        ),
        (A::Interval(IntervalUnit::YearMonth), ValueText::DisplayText),
    ];
    for (t, text) in text_only {
        assert!(
            map_arrow_type(&t, false).is_err(),
            "{t} needs the text option"
        );
        let m = map_arrow_type(&t, true).unwrap();
        assert_eq!(m.data_type, D::String, "{t}");
        assert_eq!(m.text, text, "{t}");
    }
    let union = A::Union(UnionFields::empty(), UnionMode::Sparse);
    assert!(map_arrow_type(&union, true).is_err());
}

fn schema(fields: Vec<Field>) -> Arc<Schema> {
    Arc::new(Schema::new(fields))
}

#[test]
fn unsupported_column_error_names_table_column_and_type() {
    let s = schema(vec![
        Field::new("ok", A::Int32, true),
        Field::new("blob", A::Binary, true),
    ]);
    let err = infer_model(
        "d",
        &[TableSchema::new("t1", s.clone())],
        &ModelOptions::default(),
    )
    .unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, Error::UnsupportedType { .. }));
    assert!(
        msg.contains("\"t1\"") && msg.contains("\"blob\"") && msg.contains("Binary"),
        "{msg}"
    );
    assert!(msg.contains("with_text_fallback"), "{msg}");
    let m = infer_model(
        "d",
        &[TableSchema::new("t1", s)],
        &ModelOptions::default().with_text_fallback(true),
    )
    .unwrap();
    assert_eq!(m.tables[0].columns[1].mapping.data_type, D::String);
}

#[test]
fn named_zone_with_local_time_is_refused() {
    let s = schema(vec![Field::new(
        "ts",
        A::Timestamp(TimeUnit::Second, Some("Europe/Paris".into())),
        true,
    )]);
    let t = [TableSchema::new("t", s)];
    assert!(infer_model("d", &t, &ModelOptions::default()).is_ok());
    let err = infer_model("d", &t, &ModelOptions::default().with_utc(false)).unwrap_err();
    assert!(err.to_string().contains("fixed-offset"), "{err}");
    let s = schema(vec![Field::new(
        "ts",
        A::Timestamp(TimeUnit::Second, Some("+05:30".into())),
        true,
    )]);
    assert!(
        infer_model(
            "d",
            &[TableSchema::new("t", s)],
            &ModelOptions::default().with_utc(false)
        )
        .is_ok()
    );
}

fn sales() -> Arc<Schema> {
    schema(vec![
        Field::new("Year", A::Int32, false),
        Field::new("Category_ID", A::Int32, false),
        Field::new("Category_DESC", A::Utf8, true),
        Field::new("Cost", A::Float64, true),
        Field::new("Profit", A::Decimal128(12, 2), true),
        Field::new("Day", A::Date32, true),
    ])
}

#[test]
fn sales_columns_are_inferred_with_their_reasons() {
    let m = infer_model(
        "d",
        &[TableSchema::new("t", sales())],
        &ModelOptions::default(),
    )
    .unwrap();
    let metrics: Vec<&str> = m.metrics.iter().map(|x| x.name.as_str()).collect();
    assert_eq!(metrics, ["Cost", "Profit"]);
    let attrs: Vec<&str> = m.attributes.iter().map(|x| x.name.as_str()).collect();
    assert_eq!(attrs, ["Year", "Category", "Day"]);
    let reasons: Vec<&str> = m.tables[0]
        .columns
        .iter()
        .map(|c| c.reason.rule())
        .collect();
    assert_eq!(
        reasons,
        [
            "calendar-part",
            "id-desc-pair",
            "id-desc-pair",
            "numeric",
            "numeric",
            "non-numeric"
        ]
    );
    assert_eq!(m.attributes[2].forms[0].category, "ID");
    let headers = m.column_headers("t").unwrap();
    assert_eq!(headers[4].data_type, D::BigDecimal);
    assert_eq!(headers[5].data_type, D::Date);
}

#[test]
fn overrides_and_forms() {
    let opts = ModelOptions::default()
        .with_attribute("Cost")
        .with_form("Category", "Category_ID", "ID")
        .with_form("Category", "t.Category_DESC", "desc");
    let m = infer_model("d", &[TableSchema::new("t", sales())], &opts).unwrap();
    let attrs: Vec<&str> = m.attributes.iter().map(|x| x.name.as_str()).collect();
    assert_eq!(attrs, ["Year", "Category", "Cost", "Day"]);
    let cat = &m.attributes[1];
    assert_eq!(cat.forms.len(), 2);
    assert_eq!(cat.forms[0].category, "ID");
    assert_eq!(cat.forms[0].data_type, D::Integer);
    assert_eq!(cat.forms[1].category, "DESC");
    assert_eq!(
        cat.forms[1].columns,
        vec![("t".to_string(), "Category_DESC".to_string())]
    );
    let columns = &m.tables[0].columns;
    assert_eq!(
        columns[1].role,
        Role::Attribute {
            attribute: "Category".into(),
            category: "ID".into()
        }
    );
    assert_eq!(columns[1].reason, RoleReason::UserForm);
    assert_eq!(columns[2].reason, RoleReason::UserForm);
    assert_eq!(columns[3].reason, RoleReason::UserAttribute);
    // The wire forms.
    let creator = m.to_dataset_creator(vec!["W10=".into()]).unwrap();
    let json = serde_json::to_value(&creator).unwrap();
    assert_eq!(
        json["attributes"][1]["attributeForms"][1]["expressions"][0]["formula"],
        "t.Category_DESC"
    );
    assert_eq!(json["tables"][0]["data"], "W10=");
    let model = serde_json::to_value(m.to_dataset_model()).unwrap();
    assert_eq!(
        model["attributes"][1]["attributeForms"][0]["expressions"][0],
        serde_json::json!({"tableName": "t", "columnName": "Category_ID"})
    );
    assert_eq!(model["metrics"][0]["name"], "Profit");
    assert!(m.to_dataset_creator(vec![]).is_err());
}

fn model_error(tables: &[TableSchema], opts: &ModelOptions) -> ModelError {
    match infer_model("d", tables, opts).unwrap_err() {
        Error::Model(e) => *e,
        other => panic!("not a model error: {other:?}"),
    }
}

#[test]
fn metric_override_and_conflicts() {
    let s = schema(vec![
        Field::new("code", A::Int32, false),
        Field::new("name", A::Utf8, false),
    ]);
    let t = [TableSchema::new("t", s)];
    let opts = ModelOptions::default()
        .with_attribute("code")
        .with_metric("t.code");
    assert_eq!(
        model_error(&t, &opts),
        ModelError::AttributeAndMetric {
            table: "t".into(),
            column: "code".into()
        }
    );
    assert_eq!(
        model_error(&t, &ModelOptions::default().with_metric("name")),
        ModelError::MetricNotNumeric {
            table: "t".into(),
            column: "name".into(),
            data_type: D::String
        }
    );
    assert_eq!(
        model_error(&t, &ModelOptions::default().with_attribute("nope")),
        ModelError::UnknownColumn {
            choice: Choice::Attribute,
            column: "nope".into()
        }
    );
    // An integer key name made a metric.
    let m = infer_model("d", &t, &ModelOptions::default().with_metric("code")).unwrap();
    assert_eq!(m.metrics[0].name, "code");
    assert_eq!(m.tables[0].columns[0].reason, RoleReason::UserMetric);
}

#[test]
fn form_choices_are_checked() {
    let t = [TableSchema::new("t", sales())];
    let e = model_error(
        &t,
        &ModelOptions::default().with_form("Cat", "Cost", "LATITUDE"),
    );
    assert!(
        matches!(&e, ModelError::UnknownFormCategory { column, source }
            if column == "Cost" && source.given == "LATITUDE" && source.expected == ["ID", "DESC"]),
        "{e:?}"
    );
    let e = model_error(&t, &ModelOptions::default().with_form("Cat", "Nope", "ID"));
    assert_eq!(
        e,
        ModelError::UnknownColumn {
            choice: Choice::Form {
                attribute: "Cat".into(),
                category: "ID".into()
            },
            column: "Nope".into()
        }
    );
    let opts = ModelOptions::default()
        .with_form("A", "Cost", "ID")
        .with_form("B", "t.Cost", "DESC");
    assert!(
        matches!(model_error(&t, &opts), ModelError::TwoForms { table, column, .. }
            if table == "t" && column == "Cost")
    );
    let opts = ModelOptions::default()
        .with_form("A", "Cost", "ID")
        .with_form("A", "Profit", "id");
    assert_eq!(
        model_error(&t, &opts),
        ModelError::FormTwoColumns {
            attribute: "A".into(),
            category: "ID".into(),
            table: "t".into(),
            first: "Cost".into(),
            second: "Profit".into()
        }
    );
    let opts = ModelOptions::default()
        .with_form("A", "Cost", "ID")
        .with_metric("Cost");
    assert!(matches!(
        model_error(&t, &opts),
        ModelError::AttributeAndMetric { .. }
    ));
}

#[test]
fn shared_attributes_across_tables() {
    let t1 = schema(vec![
        Field::new("Region", A::Utf8, false),
        Field::new("Sales", A::Float64, true),
    ]);
    let t2 = schema(vec![
        Field::new("region", A::Utf8, false),
        Field::new("Sales", A::Float64, true),
        Field::new("Target", A::Int64, true),
    ]);
    let tables = [TableSchema::new("t1", t1), TableSchema::new("t2", t2)];
    let m = infer_model("d", &tables, &ModelOptions::default()).unwrap();
    let attrs: Vec<&str> = m.attributes.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(attrs, ["Region", "Sales"]);
    assert_eq!(
        m.attributes[0].forms[0].columns,
        vec![
            ("t1".to_string(), "Region".to_string()),
            ("t2".to_string(), "region".to_string())
        ]
    );
    assert_eq!(
        m.tables[1].columns[1].reason,
        RoleReason::SharedAcrossTables {
            tables: vec!["t1".into(), "t2".into()]
        }
    );
    assert_eq!(m.metrics.len(), 1);
    assert_eq!(m.metrics[0].name, "Target");
    let wire = m.to_dataset_model();
    assert_eq!(wire.tables.len(), 2);
    assert_eq!(wire.attributes[0].attribute_forms[0].expressions.len(), 2);
    // A shared numeric column chosen as a metric is one metric over both tables.
    let m = infer_model("d", &tables, &ModelOptions::default().with_metric("Sales")).unwrap();
    assert_eq!(m.metrics[0].name, "Sales");
    assert_eq!(m.metrics[0].columns.len(), 2);
}

#[test]
fn attribute_and_metric_of_same_name_conflict() {
    let t1 = schema(vec![Field::new("X", A::Float64, true)]);
    let t2 = schema(vec![Field::new("X", A::Utf8, true)]);
    let tables = [TableSchema::new("t1", t1), TableSchema::new("t2", t2)];
    assert_eq!(
        model_error(&tables, &ModelOptions::default().with_metric("t1.X")),
        ModelError::AttributeNamedLikeMetric { name: "X".into() }
    );
}

#[test]
fn name_validation() {
    assert!(validate_name("table", "sales 2024 (€)").is_ok());
    for bad in [
        "",
        "   ",
        "a[b",
        "a]b",
        "a\"b",
        "a\\b",
        "tab\there",
        "nul\u{0}",
    ] {
        let e = validate_name("table", bad).unwrap_err();
        assert!(matches!(e, Error::InvalidName { .. }), "{bad:?}");
    }
    let long = "x".repeat(251);
    assert!(matches!(
        validate_name("table", &long),
        Err(Error::InvalidName {
            reason: NameProblem::TooLong { chars: 251 },
            ..
        })
    ));
    assert!(validate_name("table", &"é".repeat(250)).is_ok());

    let dup_cols = schema(vec![
        Field::new("a", A::Int32, true),
        Field::new("a", A::Int64, true),
    ]);
    let err = infer_model(
        "d",
        &[TableSchema::new("t", dup_cols)],
        &ModelOptions::default(),
    )
    .unwrap_err();
    assert!(
        matches!(
            &err,
            Error::InvalidName {
                reason: NameProblem::DuplicateColumn,
                ..
            }
        ),
        "{err}"
    );
    let dup_case = schema(vec![
        Field::new("Region", A::Utf8, true),
        Field::new("region", A::Utf8, true),
    ]);
    let err = infer_model(
        "d",
        &[TableSchema::new("t", dup_case)],
        &ModelOptions::default(),
    )
    .unwrap_err();
    assert!(
        matches!(
            &err,
            Error::InvalidName {
                reason: NameProblem::DuplicateColumn,
                ..
            }
        ),
        "{err}"
    );
    let s = schema(vec![Field::new("a", A::Int32, true)]);
    let err = infer_model(
        "d",
        &[
            TableSchema::new("T", s.clone()),
            TableSchema::new("t", s.clone()),
        ],
        &ModelOptions::default(),
    )
    .unwrap_err();
    assert!(
        matches!(
            &err,
            Error::InvalidName {
                reason: NameProblem::DuplicateTable,
                ..
            }
        ),
        "{err}"
    );
    let err = infer_model(
        "d",
        &[
            TableSchema::new("t", s.clone()),
            TableSchema::new("t", s.clone()),
        ],
        &ModelOptions::default(),
    )
    .unwrap_err();
    assert!(
        matches!(
            &err,
            Error::InvalidName {
                reason: NameProblem::DuplicateTable,
                ..
            }
        ),
        "{err}"
    );
    let bad_col = schema(vec![Field::new("a\"b", A::Int32, true)]);
    let err = infer_model(
        "d",
        &[TableSchema::new("t", bad_col)],
        &ModelOptions::default(),
    )
    .unwrap_err();
    assert!(
        matches!(
            &err,
            Error::InvalidName {
                what,
                reason: NameProblem::ForbiddenCharacter('"'),
                ..
            } if what == "column of table \"t\""
        ),
        "{err}"
    );
    assert!(
        infer_model(
            "",
            &[TableSchema::new("t", s.clone())],
            &ModelOptions::default()
        )
        .is_err()
    );
    assert!(infer_model("d", &[], &ModelOptions::default()).is_err());
}
