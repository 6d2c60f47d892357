"""Veracity: create, operations, pull, against the reference server's emulation."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import pushdata
import pushdata.veracity
from conftest import write_parquet

WORKSPACE = "8a0e2c7f-0000-4000-8000-00000000beef"


def wind(ids, speeds) -> pa.Table:
    return pa.table({"Id": pa.array(ids, pa.int64()), "Speed": pa.array(speeds, pa.float64()),
                     "Site": pa.array([f"s{i}" for i in ids])})


@pytest.fixture
def vc(server):
    return pushdata.veracity.connect(server, workspace=WORKSPACE)


def rows(table: pa.Table):
    return sorted(zip(*table.select(["Id", "Speed", "Site"]).to_pydict().values()))


def test_create_upsert_and_pull(vc, tmp_path):
    created = vc.push(wind([1, 2], [5.0, 6.0]), dataset="Wind", keys=["Id"])
    assert created.operation == "Create" and created.status == "Completed"
    assert created.rows == 2 and created.schema_id
    path = write_parquet(tmp_path / "update.parquet", wind([2, 3], [60.0, 7.0]))
    upserted = vc.push(path, dataset_id=created.dataset_id, operation="upsert",
                       schema_id=created.schema_id)
    assert upserted.operation == "Upsert" and upserted.dataset_id == created.dataset_id
    back = vc.pull(created.dataset_id, schema_id=created.schema_id, page_size=1)
    assert rows(back) == [(1, 5.0, "s1"), (2, 60.0, "s2"), (3, 7.0, "s3")]


def test_a_reader_and_delete(vc):
    created = vc.push(wind([1, 2, 3], [1.0, 2.0, 3.0]), dataset="Wind", keys="Id")
    t = wind([2], [0.0])
    reader = pa.RecordBatchReader.from_batches(t.schema, t.to_batches())
    vc.push(reader, dataset_id=created.dataset_id, operation="delete", keys=["Id"])
    back = vc.pull(created.dataset_id, schema_id=created.schema_id)
    assert [r[0] for r in rows(back)] == [1, 3]


def test_an_operation_the_schema_forbids_is_refused_before_the_upload(vc):
    created = vc.push(wind([1], [1.0]), dataset="Wind", keys=["Id"])
    with pytest.raises(pushdata.ModelError) as e:
        vc.push(wind([2], [2.0]), dataset_id=created.dataset_id, operation="append",
                schema_id=created.schema_id)
    assert e.value.column == "Id"
    with pytest.raises(pushdata.ConfigError):
        vc.push(wind([2], [2.0]), dataset_id=created.dataset_id, operation="merge")


def test_wrong_credentials_are_an_authentication_error(server):
    vc = pushdata.veracity.connect(server, workspace=WORKSPACE, client_secret="wrong")
    with pytest.raises(pushdata.AuthenticationError) as e:
        vc.push(wind([1], [1.0]), dataset="Wind")
    assert e.value.status == 401


def test_a_remote_service_needs_every_credential(monkeypatch):
    for name in ("CLIENT_ID", "CLIENT_SECRET", "SUBSCRIPTION_KEY", "URL", "TOKEN_URL"):
        monkeypatch.delenv(f"PUSHDATA_VERACITY_{name}", raising=False)
    with pytest.raises(pushdata.ConfigError, match="client_secret"):
        pushdata.veracity.connect("https://api.veracity.com", workspace=WORKSPACE,
                                  client_id="id", subscription_key="key")


def test_a_file_url_of_part_files(vc, tmp_path):
    out = tmp_path / "wind"
    out.mkdir()
    write_parquet(out / "part-0.parquet", wind([1, 2], [5.0, 6.0]))
    write_parquet(out / "part-1.parquet", wind([3], [7.0]))
    (out / "_SUCCESS").write_bytes(b"")
    created = vc.push(f"file://{out}/", dataset="Wind", keys=["Id"])
    assert created.rows == 3
    back = vc.pull(created.dataset_id, schema_id=created.schema_id)
    assert rows(back) == [(1, 5.0, "s1"), (2, 6.0, "s2"), (3, 7.0, "s3")]
    # The local store takes no option: one given is refused before anything is sent.
    with pytest.raises(pushdata.DataError) as e:
        vc.push(f"file://{out}/", dataset="Wind again", storage_options={"no_such_option": "1"})
    assert e.value.table == "Wind again" and e.value.path is None


def test_an_s3_prefix_with_storage_options(vc, moto):
    moto.fs.create_dir("lake")
    for i, (ids, speeds) in enumerate([([1, 2], [5.0, 6.0]), ([3], [7.0])]):
        pq.write_table(wind(ids, speeds), f"lake/wind/part-{i}.parquet", filesystem=moto.fs)
    created = vc.push("s3://lake/wind/", dataset="Wind", keys=["Id"],
                      storage_options=moto.options)
    assert created.rows == 3
    back = vc.pull(created.dataset_id, schema_id=created.schema_id)
    assert rows(back) == [(1, 5.0, "s1"), (2, 6.0, "s2"), (3, 7.0, "s3")]


def test_small_parts_several_in_flight_arrive_whole(vc):
    n = 120_000
    table = pa.table({"Id": pa.array(range(n), pa.int64()),
                      "Speed": pa.array([i * 0.5 for i in range(n)], pa.float64()),
                      "Site": pa.array([f"site number {i}" for i in range(n)])})
    created = vc.push(table, dataset="Wind", keys=["Id"], part_mb=1, appends_in_flight=3)
    assert created.status == "Completed" and created.rows == n
    assert created.parts >= max(3, -(-created.bytes // (1024 * 1024))), created
    back = vc.pull(created.dataset_id, schema_id=created.schema_id, page_size=50_000)
    assert sorted(back.column("Id").to_pylist()) == list(range(n))


@pytest.mark.parametrize("option", [dict(part_mb=0), dict(part_mb=257), dict(part_mb=1.5),
                                    dict(appends_in_flight=0), dict(appends_in_flight=True)])
def test_part_size_and_appends_in_flight_out_of_range_are_config_errors(vc, option):
    with pytest.raises(pushdata.ConfigError) as e:
        vc.push(wind([1], [1.0]), dataset="Wind", keys=["Id"], **option)
    assert next(iter(option)) in str(e.value)
