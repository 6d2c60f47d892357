"""Fixtures: a reference server on a temporary data directory (127.0.0.1, a free port) and
a client logged in to it."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import pushdata


@pytest.fixture
def server(tmp_path):
    with pushdata.serve(tmp_path / "data") as s:
        yield s


@pytest.fixture
def client(server):
    with pushdata.connect(server.url) as c:
        yield c


def sales(years=(2020, 2021, 2021, 2022), revenue=(1.5, 2.5, 3.0, 4.0)) -> pa.Table:
    """A small table: Year and Category are the key (attributes), Revenue a metric."""
    n = len(years)
    return pa.table({
        "Year": pa.array(years, pa.int32()),
        "Category": pa.array([f"c{i % 2}" for i in range(n)]),
        "Revenue": pa.array(revenue, pa.float64()),
    })


def write_parquet(path, table: pa.Table, row_group_size: int | None = None) -> str:
    pq.write_table(table, path, row_group_size=row_group_size)
    return str(path)


def stored(client, dataset_id: str, table: str) -> pa.Table:
    """A table's stored rows, exactly (no grouping), sorted by every column."""
    t = client.pull(dataset_id, table=table)
    return t.sort_by([(name, "ascending") for name in t.column_names])
