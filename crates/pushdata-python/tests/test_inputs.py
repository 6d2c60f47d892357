"""Every kind of data `push` accepts, and what the server stores from it."""

from __future__ import annotations

import pyarrow as pa
import pytest

import pushdata
from conftest import sales, stored, write_parquet


def test_pyarrow_table_round_trips(client):
    t = sales()
    report = client.push(t, dataset="sales", attributes=["Year"])
    assert report.rows == 4 and report.chunks == 1 and report.bytes > 0 and report.seconds > 0
    assert [(tr.name, tr.rows) for tr in report.tables] == [("sales", 4)]
    assert stored(client, report.dataset_id, "sales").equals(t.sort_by([("Year", "ascending"), ("Category", "ascending"), ("Revenue", "ascending")]))


def test_record_batch_reader_streams_every_batch(client):
    t = sales()
    reader = pa.RecordBatchReader.from_batches(t.schema, t.to_batches(max_chunksize=1))
    report = client.push(reader, dataset="streamed", attributes="Year")
    assert report.rows == 4
    assert stored(client, report.dataset_id, "streamed").num_rows == 4


def test_polars_dataframe(client):
    pl = pytest.importorskip("polars", reason="polars is not installed")
    df = pl.DataFrame({"Year": [2020, 2021], "Category": ["a", "b"], "Revenue": [1.0, 2.0]})
    report = client.push(df, dataset="from_polars", attributes=["Year"])
    got = client.pull(report.dataset_id, table="from_polars")
    assert sorted(got.column("Category").to_pylist()) == ["a", "b"]
    assert sorted(got.column("Revenue").to_pylist()) == [1.0, 2.0]


def test_duckdb_results_stream_through_the_capsule_interface(client):
    """A DuckDB relation (the result of `duckdb.sql`) and the record batch reader it hands
    out both have `__arrow_c_stream__`: pushed batch by batch, the rows exactly."""
    duckdb = pytest.importorskip("duckdb", reason="duckdb is not installed")
    con = duckdb.connect()
    relation = con.sql(
        "SELECT i AS id, 'item-' || i AS name, i * 0.25 AS price, "
        "DATE '2024-01-01' + CAST(i % 30 AS INTEGER) AS day FROM range(5000) t(i)")
    report = client.push(relation, dataset="from_duckdb", attributes=["id"])
    assert report.rows == 5000
    got = stored(client, report.dataset_id, "from_duckdb")
    want = relation.arrow()
    want = (want.read_all() if hasattr(want, "read_all") else want).sort_by("id")
    assert got.column("id").to_pylist() == want.column("id").to_pylist()
    assert got.column("name").to_pylist() == want.column("name").to_pylist()
    assert got.column("price").to_pylist() == [float(v) for v in want.column("price").to_pylist()]
    assert got.column("day").to_pylist() == want.column("day").to_pylist()

    relation = con.sql("SELECT * FROM range(3) t(n)")
    reader = (relation.to_arrow_reader(1) if hasattr(relation, "to_arrow_reader")
              else relation.fetch_record_batch(rows_per_batch=1))
    report = client.push(reader, dataset="duckdb_reader", attributes=["n"])
    assert report.rows == 3
    assert stored(client, report.dataset_id, "duckdb_reader").column("n").to_pylist() == [0, 1, 2]


def test_pandas_dataframe(client):
    pd = pytest.importorskip("pandas", reason="pandas is not installed")
    df = pd.DataFrame({"Year": [2020, 2021, 2022], "Category": ["a", "b", None],
                       "Revenue": [1.0, 2.5, float("nan")]})
    report = client.push(df, dataset="from_pandas", attributes=["Year"])
    got = stored(client, report.dataset_id, "from_pandas").to_pydict()
    assert got["Year"] == [2020, 2021, 2022]
    assert got["Category"] == ["a", "b", None]
    # NaN has no JSON value: it is written as null.
    assert got["Revenue"] == [1.0, 2.5, None]


def test_a_path_and_a_list_of_paths(client, tmp_path):
    one = write_parquet(tmp_path / "orders.parquet", sales(), row_group_size=2)
    report = client.push(one)
    assert [t.name for t in report.tables] == ["orders"]
    assert stored(client, report.dataset_id, "orders").num_rows == 4

    customers = pa.table({"Category": ["c0", "c1"], "Name": ["zero", "one"]})
    two = [tmp_path / "orders.parquet", write_parquet(tmp_path / "customers.parquet", customers)]
    report = client.push(two, dataset="shop", attributes=["Year"])
    assert [(t.name, t.rows) for t in report.tables] == [("orders", 4), ("customers", 2)]
    assert stored(client, report.dataset_id, "customers").column("Name").to_pylist() == ["zero", "one"]


def test_a_pyarrow_dataset_and_scanner_are_streamed(client, tmp_path):
    import pyarrow.dataset as ds

    parts = tmp_path / "parts"
    parts.mkdir()
    write_parquet(parts / "a.parquet", sales(years=(2020, 2021), revenue=(1.0, 2.0)))
    write_parquet(parts / "b.parquet", sales(years=(2022,), revenue=(3.0,)))
    dataset = ds.dataset(parts)
    report = client.push(dataset, dataset="parts", attributes=["Year"])
    assert report.rows == 3
    scanned = client.push(dataset.scanner(filter=ds.field("Year") > 2020), dataset="scanned",
                          attributes=["Year"])
    assert sorted(stored(client, scanned.dataset_id, "scanned").column("Year").to_pylist()) == [2021, 2022]


def test_a_dict_is_a_multi_table_dataset(client):
    orders = sales()
    customers = pa.table({"Category": ["c0", "c1"], "Name": ["zero", "one"]})
    report = client.push({"orders": orders, "customers": customers}, dataset="shop",
                         attributes=["Year"])
    assert [t.name for t in report.tables] == ["orders", "customers"]
    # The Cube API joins the tables on their shared attribute (Category).
    joined = client.pull(report.dataset_id, attributes=["Category", "Name"], metrics=["Revenue"])
    rows = sorted(zip(joined.column("Category").to_pylist(), joined.column("Name").to_pylist(),
                      joined.column("Revenue").to_pylist()))
    assert rows == [("c0", "zero", 1.5 + 3.0), ("c1", "one", 2.5 + 4.0)]


def test_a_push_into_an_existing_dataset_finds_its_only_table(client):
    report = client.push(sales(), dataset="sales", attributes=["Year"])
    again = client.push(sales(years=(2030,), revenue=(9.0,)), dataset_id=report.dataset_id,
                        policy="add")
    assert again.dataset_id == report.dataset_id and again.tables[0].name == "sales"
    assert stored(client, report.dataset_id, "sales").num_rows == 5


def test_single_request_and_column_orientation(client):
    report = client.push(sales(), dataset="small", single_request=True)
    assert report.session_id is None and report.chunks == 1
    col = client.push(sales(), dataset="columns", orientation="column", chunk_mb=0.001)
    assert stored(client, col.dataset_id, "columns").equals(stored(client, report.dataset_id, "small"))


def test_schema_is_the_model_push_would_create(tmp_path):
    t = sales()
    model = pushdata.schema(t, dataset="sales", attributes=["Year"])
    assert model["name"] == "sales"
    assert [a["name"] for a in model["attributes"]] == ["Year", "Category"]
    assert [m["name"] for m in model["metrics"]] == ["Revenue"]
    path = write_parquet(tmp_path / "sales.parquet", t)
    assert pushdata.schema(path, attributes=["Year"]) == model
    # A reader's schema is read without consuming it.
    reader = pa.RecordBatchReader.from_batches(t.schema, t.to_batches())
    assert pushdata.schema(reader, dataset="sales", attributes="Year") == model
    assert reader.read_all().num_rows == 4
    forms = pushdata.schema(pa.table({"Category_ID": [1], "Category": ["a"]}), dataset="f",
                            forms={"Category": {"ID": "Category_ID", "DESC": "Category"}})
    assert [f["category"] for f in forms["attributes"][0]["attributeForms"]] == ["ID", "DESC"]


def test_what_is_not_data_is_refused_with_the_accepted_types(client):
    with pytest.raises(TypeError, match="__arrow_c_stream__"):
        client.push({"a": 1}, dataset="x")
    with pytest.raises(TypeError, match="a list must hold paths"):
        client.push([sales()], dataset="x")
