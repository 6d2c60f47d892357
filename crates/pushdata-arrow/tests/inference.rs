#![allow(clippy::unwrap_used)]
//! The model inference with no options: the seeds' sample tables come out as the seeds'
//! authors wrote them (the whole model compared with the seed's JSON definition), the
//! two-table sample data is related by `customer_id`, and the cases where a rule must not
//! fire.

use std::path::PathBuf;
use std::sync::Arc;

use arrow_schema::{DataType as A, Field, Schema, TimeUnit};
use pushdata_arrow::{
    Model, ModelOptions, ParquetSource, Role, RoleReason, TableSchema, infer_model,
};
use pushdata_core::wire::{ColumnHeader, DataType as D, DatasetCreator, DatasetModel};

fn repo_file(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(path)
}

/// A seed sample, as `pushdata-core` keeps it verbatim in its fixtures.
fn seed(name: &str) -> String {
    let path = repo_file(&format!("crates/pushdata-core/tests/fixtures/{name}"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The Arrow type a file would have for a column the seed declares as `t`.
fn arrow_type(t: D) -> A {
    match t {
        D::String => A::Utf8,
        D::Integer => A::Int32,
        D::BigInteger => A::Int64,
        D::Bool => A::Boolean,
        D::Double => A::Float64,
        D::BigDecimal => A::Decimal128(38, 10),
        D::Date => A::Date32,
        D::Time => A::Time64(TimeUnit::Microsecond),
        D::DateTime => A::Timestamp(TimeUnit::Microsecond, None),
    }
}

fn table_schema(name: &str, headers: &[ColumnHeader]) -> TableSchema {
    let fields: Vec<Field> = headers
        .iter()
        .map(|h| Field::new(&h.name, arrow_type(h.data_type), true))
        .collect();
    TableSchema::new(name, Arc::new(Schema::new(fields)))
}

/// The API type of `table.column` among `tables`.
fn column_type<'a>(
    mut tables: impl Iterator<Item = (&'a str, &'a [ColumnHeader])>,
    table: &str,
    column: &str,
) -> D {
    tables
        .find(|(t, _)| *t == table)
        .and_then(|(_, headers)| headers.iter().find(|h| h.name == column))
        .map(|h| h.data_type)
        .unwrap_or_else(|| panic!("the seed has no column {table}.{column}"))
}

/// The seeds spell one attribute `category` and its column `Category_ID`; the API compares
/// attribute names ignoring case (so does the reference server), so the inferred name,
/// taken from the column, is compared that way and then set to the seed's spelling.
fn adopt_attribute_names<E>(
    ours: &mut [pushdata_core::wire::Attribute<E>],
    seed: &[pushdata_core::wire::Attribute<E>],
) {
    assert_eq!(ours.len(), seed.len(), "number of attributes");
    for (o, s) in ours.iter_mut().zip(seed) {
        assert!(
            o.name.eq_ignore_ascii_case(&s.name),
            "{} vs {}",
            o.name,
            s.name
        );
        o.name = s.name.clone();
    }
}

#[test]
fn seed_001_sales_table_is_inferred_as_its_authors_wrote_it() {
    let seed: DatasetCreator = serde_json::from_str(&seed("dataset_creator_001.json")).unwrap();
    let t = &seed.tables[0];
    let model = infer_model(
        &seed.name,
        &[table_schema(&t.name, &t.column_headers)],
        &ModelOptions::default(),
    )
    .unwrap();
    let mut ours = model.to_dataset_creator(vec![t.data.clone()]).unwrap();
    adopt_attribute_names(&mut ours.attributes, &seed.attributes);
    assert_eq!(ours, seed);
}

#[test]
fn seed_003_two_tables_are_inferred_as_their_authors_wrote_them() {
    let mut seed: DatasetModel = serde_json::from_str(&seed("dataset_model_003.json")).unwrap();
    let schemas: Vec<TableSchema> = seed
        .tables
        .iter()
        .map(|t| table_schema(&t.name, &t.column_headers))
        .collect();
    let opts = ModelOptions::default().with_description(seed.description.clone().unwrap());
    let model = infer_model(&seed.name, &schemas, &opts).unwrap();
    // The seed leaves out the types of forms and metrics: each is its column's type.
    let headers = seed.tables.clone();
    let tables = || {
        headers
            .iter()
            .map(|t| (t.name.as_str(), t.column_headers.as_slice()))
    };
    for form in seed
        .attributes
        .iter_mut()
        .flat_map(|a| &mut a.attribute_forms)
    {
        let e = &form.expressions[0];
        form.data_type = Some(column_type(tables(), &e.table_name, &e.column_name));
    }
    for m in &mut seed.metrics {
        let e = &m.expressions[0];
        m.data_type = Some(column_type(tables(), &e.table_name, &e.column_name));
    }
    let mut ours = model.to_dataset_model();
    adopt_attribute_names(&mut ours.attributes, &seed.attributes);
    assert_eq!(ours, seed);
    let reasons: Vec<(&str, String)> = model.tables[0]
        .columns
        .iter()
        .map(|c| (c.name.as_str(), c.reason.to_string()))
        .collect();
    assert_eq!(
        reasons,
        [
            ("ID", "integer named as a key (id)".to_string()),
            ("Date", "not numeric".to_string()),
            ("Time", "not numeric".to_string()),
            ("Category", "not numeric".to_string()),
            ("Cost", "numeric".to_string()),
        ]
    );
    assert_eq!(
        model.tables[1].columns[0].reason,
        RoleReason::CalendarPart {
            part: "year".into()
        }
    );
}

fn parquet_table(name: &str) -> TableSchema {
    let source = ParquetSource::open(name, repo_file(&format!("data/{name}.parquet"))).unwrap();
    TableSchema::new(name, source.schema())
}

/// `(column, role text, rule)` of every column of `table`.
fn roles(model: &Model, table: &str) -> Vec<(String, String, &'static str)> {
    model
        .table(table)
        .unwrap()
        .columns
        .iter()
        .map(|c| {
            let role = match &c.role {
                Role::Attribute {
                    attribute,
                    category,
                } => format!("{attribute}@{category}"),
                Role::Metric { metric } => format!("metric {metric}"),
            };
            (c.name.clone(), role, c.reason.rule())
        })
        .collect()
}

fn expect(rows: &[(&str, &str, &'static str)]) -> Vec<(String, String, &'static str)> {
    rows.iter()
        .map(|(c, r, why)| (c.to_string(), r.to_string(), *why))
        .collect()
}

#[test]
fn sample_sales_file_is_the_seed_model() {
    let model = infer_model("sales", &[parquet_table("sales")], &ModelOptions::default()).unwrap();
    assert_eq!(
        roles(&model, "sales"),
        expect(&[
            ("Year", "Year@ID", "calendar-part"),
            ("Category_ID", "Category@ID", "id-desc-pair"),
            ("Category_DESC", "Category@DESC", "id-desc-pair"),
            ("Cost", "metric Cost", "numeric"),
            ("Profit", "metric Profit", "numeric"),
        ])
    );
}

#[test]
fn two_table_sample_is_related_by_customer_id() {
    let tables = [parquet_table("orders"), parquet_table("customers")];
    let model = infer_model("shop", &tables, &ModelOptions::default()).unwrap();
    assert_eq!(
        roles(&model, "orders"),
        expect(&[
            ("order_id", "order_id@ID", "key-name"),
            ("customer_id", "customer_id@ID", "shared-across-tables"),
            ("order_date", "order_date@ID", "non-numeric"),
            ("order_time", "order_time@ID", "non-numeric"),
            ("ordered_at", "ordered_at@ID", "non-numeric"),
            ("shipped_at", "shipped_at@ID", "non-numeric"),
            ("quantity", "metric quantity", "numeric"),
            ("unit_price", "metric unit_price", "numeric"),
            ("discount", "metric discount", "numeric"),
            ("paid", "paid@ID", "non-numeric"),
            ("note", "note@ID", "non-numeric"),
        ])
    );
    assert_eq!(
        roles(&model, "customers"),
        expect(&[
            ("customer_id", "customer_id@ID", "shared-across-tables"),
            ("name", "name@ID", "non-numeric"),
            ("city", "city@ID", "non-numeric"),
            ("country", "country@ID", "non-numeric"),
            ("signup_date", "signup_date@ID", "non-numeric"),
            ("credit_limit", "metric credit_limit", "numeric"),
            ("vip", "vip@ID", "non-numeric"),
            ("created_at", "created_at@ID", "non-numeric"),
        ])
    );
    let customer = model
        .attributes
        .iter()
        .find(|a| a.name == "customer_id")
        .unwrap();
    assert_eq!(
        customer.forms[0].columns,
        [
            ("orders".to_string(), "customer_id".to_string()),
            ("customers".to_string(), "customer_id".to_string())
        ]
    );
}

fn one_table(fields: Vec<(&str, A)>) -> Model {
    one_table_with(fields, &ModelOptions::default())
}

fn one_table_with(fields: Vec<(&str, A)>, opts: &ModelOptions) -> Model {
    let fields: Vec<Field> = fields
        .into_iter()
        .map(|(n, t)| Field::new(n, t, true))
        .collect();
    let t = TableSchema::new("t", Arc::new(Schema::new(fields)));
    infer_model("d", &[t], opts).unwrap()
}

#[test]
fn words_inside_other_words_do_not_count() {
    let model = one_table(vec![
        ("Valid", A::Int32),
        ("Paid", A::Int64),
        ("Width", A::Int32),
        ("Holiday", A::Int32),
        ("Weekdays", A::Int32),
        ("lead_days", A::Int32),
        ("id_score", A::Float64),
        ("id_count", A::Int32),
        ("Score_ID", A::Float64),
    ]);
    let metrics: Vec<&str> = model.metrics.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(
        metrics,
        [
            "Valid",
            "Paid",
            "Width",
            "Holiday",
            "Weekdays",
            "lead_days",
            "id_score",
            "id_count",
            "Score_ID"
        ]
    );
    assert!(model.attributes.is_empty());
    assert!(
        model.tables[0]
            .columns
            .iter()
            .all(|c| c.reason == RoleReason::Numeric)
    );
}

#[test]
fn key_names_and_calendar_parts_in_every_spelling() {
    let model = one_table(vec![
        ("ID", A::Int32),
        ("customerId", A::Int64),
        ("ORDER_KEY", A::UInt32),
        ("Product Code", A::Int16),
        ("invoice_no", A::Decimal128(20, 0)),
        ("fiscal_quarter", A::Int8),
        ("OrderMonth", A::Int32),
        ("WEEK", A::Int32),
        ("amount", A::Decimal128(20, 2)),
    ]);
    let reasons: Vec<String> = model.tables[0]
        .columns
        .iter()
        .map(|c| c.reason.to_string())
        .collect();
    assert_eq!(
        reasons,
        [
            "integer named as a key (id)",
            "integer named as a key (id)",
            "integer named as a key (key)",
            "integer named as a key (code)",
            "integer named as a key (no)",
            "integer calendar part (quarter)",
            "integer calendar part (month)",
            "integer calendar part (week)",
            "numeric",
        ]
    );
    assert_eq!(model.metrics.len(), 1);
}

fn pair_of(model: &Model, attribute: &str) -> Vec<(String, String)> {
    let a = model
        .attributes
        .iter()
        .find(|a| a.name == attribute)
        .unwrap_or_else(|| panic!("no attribute {attribute}: {:?}", model.attributes));
    a.forms
        .iter()
        .map(|f| (f.category.clone(), f.columns[0].1.clone()))
        .collect()
}

#[test]
fn pairs_in_every_spelling() {
    let model = one_table(vec![
        ("CountryCode", A::Utf8),
        ("CountryName", A::Utf8),
        ("Product ID", A::Int64),
        ("Product Desc", A::Utf8),
        ("STORE_NO", A::Int32),
        ("store_label", A::Utf8),
    ]);
    let names: Vec<&str> = model.attributes.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names, ["Country", "Product", "STORE"]);
    assert_eq!(
        pair_of(&model, "Country"),
        [
            ("ID".to_string(), "CountryCode".to_string()),
            ("DESC".to_string(), "CountryName".to_string())
        ]
    );
    assert_eq!(pair_of(&model, "STORE")[1].1, "store_label");
    assert_eq!(
        model.tables[0].columns[3].reason,
        RoleReason::IdDescPair {
            attribute: "Product".into(),
            id_column: "Product ID".into(),
            desc_column: "Product Desc".into()
        }
    );
}

#[test]
fn no_pair_where_a_rule_must_not_fire() {
    let model = one_table(vec![
        // A description with no ID.
        ("Region_DESC", A::Utf8),
        // No X before the words.
        ("ID", A::Int32),
        ("Name", A::Utf8),
        // The ID is a double; the DESC of Shop is not text.
        ("Price_ID", A::Float64),
        ("Price_DESC", A::Utf8),
        ("Shop_ID", A::Int32),
        ("Shop_Name", A::Int32),
        // Valid / Paid hold no id.
        ("Valid", A::Utf8),
        ("Paid_Desc", A::Utf8),
    ]);
    let rules: Vec<(&str, &str)> = model.tables[0]
        .columns
        .iter()
        .map(|c| (c.name.as_str(), c.reason.rule()))
        .collect();
    assert_eq!(
        rules,
        [
            ("Region_DESC", "non-numeric"),
            ("ID", "key-name"),
            ("Name", "non-numeric"),
            ("Price_ID", "numeric"),
            ("Price_DESC", "non-numeric"),
            ("Shop_ID", "key-name"),
            ("Shop_Name", "numeric"),
            ("Valid", "non-numeric"),
            ("Paid_Desc", "non-numeric"),
        ]
    );
    assert!(model.attributes.iter().all(|a| a.forms.len() == 1));
}

#[test]
fn no_pair_when_its_name_is_taken() {
    // A column named Category already: the pair would clash with its attribute.
    let model = one_table(vec![
        ("Category", A::Utf8),
        ("Category_ID", A::Int32),
        ("Category_DESC", A::Utf8),
    ]);
    let names: Vec<&str> = model.attributes.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names, ["Category", "Category_ID", "Category_DESC"]);
    // A form choice names attribute Category.
    let fields = vec![
        ("Category_ID", A::Int32),
        ("Category_DESC", A::Utf8),
        ("label", A::Utf8),
    ];
    let opts = ModelOptions::default().with_form("Category", "label", "DESC");
    let model = one_table_with(fields, &opts);
    let names: Vec<&str> = model.attributes.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names, ["Category_ID", "Category_DESC", "Category"]);
}

#[test]
fn a_choice_on_either_column_cancels_the_pair() {
    let fields = || vec![("Category_ID", A::Int32), ("Category_DESC", A::Utf8)];
    let model = one_table_with(
        fields(),
        &ModelOptions::default().with_metric("Category_ID"),
    );
    assert_eq!(model.metrics[0].name, "Category_ID");
    assert_eq!(model.attributes[0].name, "Category_DESC");
    assert_eq!(model.tables[0].columns[1].reason, RoleReason::NonNumeric);
    let model = one_table_with(
        fields(),
        &ModelOptions::default().with_attribute("Category_DESC"),
    );
    let names: Vec<&str> = model.attributes.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names, ["Category_ID", "Category_DESC"]);
    assert_eq!(model.tables[0].columns[0].reason.rule(), "key-name");
}

#[test]
fn the_best_words_make_the_pair_when_several_could() {
    let model = one_table(vec![
        ("Item_Code", A::Utf8),
        ("Item_ID", A::Int32),
        ("Item_Name", A::Utf8),
        ("Item_DESC", A::Utf8),
    ]);
    assert_eq!(
        pair_of(&model, "Item"),
        [
            ("ID".to_string(), "Item_ID".to_string()),
            ("DESC".to_string(), "Item_DESC".to_string())
        ]
    );
    let rules: Vec<&str> = model.tables[0]
        .columns
        .iter()
        .map(|c| c.reason.rule())
        .collect();
    assert_eq!(
        rules,
        ["non-numeric", "id-desc-pair", "non-numeric", "id-desc-pair"]
    );
}

#[test]
fn a_pair_relates_the_tables_that_hold_its_id() {
    let products = Schema::new(vec![
        Field::new("Category_ID", A::Int32, false),
        Field::new("Category_DESC", A::Utf8, true),
    ]);
    let sales = Schema::new(vec![
        Field::new("category_id", A::Int32, false),
        Field::new("Revenue", A::Float64, true),
    ]);
    let tables = [
        TableSchema::new("sales", sales),
        TableSchema::new("products", products),
    ];
    let model = infer_model("d", &tables, &ModelOptions::default()).unwrap();
    assert_eq!(model.attributes.len(), 1);
    let category = &model.attributes[0];
    assert_eq!(category.name, "Category");
    assert_eq!(
        category.forms[0].columns,
        [
            ("sales".to_string(), "category_id".to_string()),
            ("products".to_string(), "Category_ID".to_string())
        ]
    );
    assert_eq!(category.forms[1].columns.len(), 1);
    assert_eq!(model.tables[0].columns[0].reason.rule(), "id-desc-pair");
}
