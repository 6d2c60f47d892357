"""Pull round trips of every Arrow type the API takes: the exact table read gives the
stored types, the Cube API the types mapped back from the column types."""

from __future__ import annotations

import asyncio
import datetime as dt
from decimal import Decimal

import pyarrow as pa

from conftest import sales

ROWS = 3


def every_type() -> pa.Table:
    return pa.table({
        "k": pa.array(["k1", "k2", "k3"]),
        "i8": pa.array([1, -2, None], pa.int8()),
        "i16": pa.array([1, -300, 3], pa.int16()),
        "i32": pa.array([1, -70000, 3], pa.int32()),
        "i64": pa.array([1, 2**40, -(2**62)], pa.int64()),
        "u8": pa.array([1, 255, 0], pa.uint8()),
        "u16": pa.array([1, 65535, 0], pa.uint16()),
        "u32": pa.array([1, 2**31, 0], pa.uint32()),
        "u64": pa.array([1, 2**63, 0], pa.uint64()),
        "f32": pa.array([1.5, None, -0.25], pa.float32()),
        "f64": pa.array([1.25, -3.5, 1e300], pa.float64()),
        "dec": pa.array([Decimal("1.23"), Decimal("-45.60"), None], pa.decimal128(10, 2)),
        "s": pa.array(["a", None, "ü \"quoted\""]),
        "ls": pa.array(["x", "y", ""], pa.large_string()),
        "b": pa.array([True, False, None]),
        "d": pa.array([dt.date(2020, 1, 2), dt.date(1999, 12, 31), None]),
        "ts": pa.array([dt.datetime(2020, 1, 2, 3, 4, 5, 123456), None,
                        dt.datetime(1970, 1, 1)], pa.timestamp("us")),
        "tz": pa.array([dt.datetime(2020, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc), None,
                        dt.datetime(2000, 6, 1, 12, tzinfo=dt.timezone.utc)], pa.timestamp("ms", "UTC")),
        "tm": pa.array([dt.time(1, 2, 3), dt.time(23, 59, 59, 500000), None], pa.time64("us")),
    })


# Arrow type pushed -> Arrow type read back (both reads agree).
READ_AS = {
    "i8": pa.int32(), "i16": pa.int32(), "i32": pa.int32(), "i64": pa.int64(),
    "u8": pa.int32(), "u16": pa.int32(), "u32": pa.int64(), "u64": pa.decimal128(38, 0),
    "f32": pa.float64(), "f64": pa.float64(), "dec": pa.decimal128(38, 2),
    "s": pa.string(), "ls": pa.string(), "k": pa.string(), "b": pa.bool_(),
    "d": pa.date32(), "ts": pa.timestamp("us"), "tz": pa.timestamp("us"), "tm": pa.time64("us"),
}


def expected(name: str, t: pa.Table) -> list:
    col = t.column(name)
    if name == "tz":  # zoned timestamps are written in UTC and read back as wall time
        col = col.cast(pa.timestamp("ms")).cast(pa.timestamp("us"))
    if name == "u64":
        return [None if v is None else Decimal(v) for v in col.to_pylist()]
    return col.cast(READ_AS[name]).to_pylist()


def check(got: pa.Table, pushed: pa.Table) -> None:
    got = got.sort_by("k")
    assert got.num_rows == ROWS
    for name in pushed.column_names:
        assert got.schema.field(name).type == READ_AS[name], name
        assert got.column(name).to_pylist() == expected(name, pushed), name


def test_every_type_round_trips_through_the_exact_table_read(client):
    t = every_type()
    report = client.push(t, dataset="types", attributes=["k"])
    check(client.pull(report.dataset_id, table="types"), t)


def test_every_type_round_trips_through_the_cube_api(client):
    t = every_type()
    # Every column an attribute: one row per distinct key, nothing summed.
    report = client.push(t, dataset="types", attributes=t.column_names)
    check(client.pull(report.dataset_id, page_size=2), t)


def test_pull_of_named_attributes_and_metrics_groups_and_sums(client):
    report = client.push(sales(), dataset="sales", attributes=["Year"])
    t = client.pull(report.dataset_id, attributes=["Year"], metrics="Revenue")
    assert t.column_names == ["Year", "Revenue"]
    assert sorted(zip(*t.to_pydict().values())) == [(2020, 1.5), (2021, 5.5), (2022, 4.0)]


def test_async_push_and_pull(client):
    async def main():
        reports = await asyncio.gather(
            client.push_async(sales(), dataset="a", attributes=["Year"]),
            client.push_async(sales(), dataset="b", attributes=["Year"]),
        )
        tables = await asyncio.gather(*(client.pull_async(r.dataset_id, table=n)
                                        for r, n in zip(reports, ["a", "b"])))
        return reports, tables

    reports, tables = asyncio.run(main())
    assert reports[0].dataset_id != reports[1].dataset_id
    assert [t.num_rows for t in tables] == [4, 4]
