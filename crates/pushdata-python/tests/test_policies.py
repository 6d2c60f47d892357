"""Each update policy on overlapping keys (Year, Category), read back exactly."""

from __future__ import annotations

import pyarrow as pa
import pytest

from conftest import stored


def rows(client, dataset_id):
    t = stored(client, dataset_id, "t")
    return sorted(zip(t.column("Year").to_pylist(), t.column("Category").to_pylist(),
                      t.column("Revenue").to_pylist()))


def table(rows):
    years, cats, revenue = zip(*rows)
    return pa.table({"Year": pa.array(years, pa.int32()), "Category": list(cats),
                     "Revenue": pa.array(revenue, pa.float64())})


STORED = [(2020, "a", 1.0), (2021, "b", 2.0)]
UPLOAD = [(2021, "b", 20.0), (2022, "c", 30.0)]  # one stored key, one new key


@pytest.mark.parametrize("policy, expected", [
    ("add", [(2020, "a", 1.0), (2021, "b", 2.0), (2022, "c", 30.0)]),
    ("update", [(2020, "a", 1.0), (2021, "b", 20.0)]),
    ("upsert", [(2020, "a", 1.0), (2021, "b", 20.0), (2022, "c", 30.0)]),
    ("replace", [(2021, "b", 20.0), (2022, "c", 30.0)]),
])
def test_policy(client, policy, expected):
    first = client.push(table(STORED), dataset="t", attributes=["Year"])
    report = client.push(table(UPLOAD), dataset_id=first.dataset_id, policy=policy)
    assert rows(client, first.dataset_id) == expected
    skipped = {"add": 1, "update": 1, "upsert": 0, "replace": 0}[policy]
    assert report.tables[0].rows_skipped == skipped


def test_a_policy_per_table(client):
    # Revenue is in both tables, which would make it an attribute relating them: a metric
    # here.
    first = client.push({"t": table(STORED), "u": table(STORED)}, dataset="two",
                        attributes=["Year"], metrics=["Revenue"])
    client.push({"t": table(UPLOAD), "u": table(UPLOAD)}, dataset_id=first.dataset_id,
                policy={"t": "add", "u": "replace"})
    assert rows(client, first.dataset_id) == [(2020, "a", 1.0), (2021, "b", 2.0), (2022, "c", 30.0)]
    u = stored(client, first.dataset_id, "u")
    assert u.num_rows == 2 and sorted(u.column("Year").to_pylist()) == [2021, 2022]
