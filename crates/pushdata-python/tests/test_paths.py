"""Paths as pipelines write them, read by the same Rust source as the CLI's: a directory of
part files with hive partitions, a glob, CSV and NDJSON files."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq

from conftest import stored


def part(path, ids):
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table({"id": pa.array(ids, pa.int64()),
                             "amount": pa.array([i * 1.5 for i in ids])}), path)


def test_a_directory_of_parts_is_one_table_with_its_partition_columns(client, tmp_path):
    out = tmp_path / "orders"
    part(out / "year=2024" / "part-0.parquet", [1, 2])
    part(out / "year=2025" / "part-0.parquet", [3])
    (out / "_SUCCESS").write_text("")
    report = client.push(out)
    assert report.tables[0].name == "orders" and report.rows == 3
    t = stored(client, report.dataset_id, "orders")
    rows = sorted(zip(t.column("id").to_pylist(), t.column("year").to_pylist()))
    assert rows == [(1, 2024), (2, 2024), (3, 2025)]


def test_a_glob_is_one_table_named_after_its_folder(client, tmp_path):
    part(tmp_path / "lake" / "a.parquet", [1])
    part(tmp_path / "lake" / "b.parquet", [2, 3])
    report = client.push(str(tmp_path / "lake" / "*.parquet"))
    assert report.tables[0].name == "lake" and report.rows == 3


def test_csv_and_ndjson_files_are_read_with_inferred_types(client, tmp_path):
    csv = tmp_path / "sales.csv"
    csv.write_text("id,amount\n1,1.5\n2,3.0\n")
    ndjson = tmp_path / "more.ndjson"
    ndjson.write_text('{"id": 3, "amount": 4.5}\n')
    report = client.push({"sales": csv, "more": ndjson}, dataset="formats")
    assert [t.rows for t in report.tables] == [2, 1]
    t = stored(client, report.dataset_id, "sales")
    assert sorted(t.column("amount").to_pylist()) == [1.5, 3.0]
