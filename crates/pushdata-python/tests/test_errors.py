"""Errors: the class follows the Rust error's variant, the attributes what it knows."""

from __future__ import annotations

import builtins
import socket

import pyarrow as pa
import pytest

import pushdata
from conftest import sales

MISSING = "0" * 32


def test_a_refused_call_is_an_api_error_with_status_code_and_ticket(client):
    with pytest.raises(pushdata.ApiError) as e:
        client.pull(MISSING)
    err = e.value
    assert isinstance(err, pushdata.PushdataError)
    assert err.status == 404 and err.code == "ERR004"
    assert err.ticket_id and err.ticket_id in str(err)
    assert err.step == f"create cube instance of {MISSING}"
    assert err.endpoint.startswith(f"POST /MicroStrategyLibrary/api/v2/cubes/{MISSING}/instances")


def test_a_table_the_dataset_lacks_is_refused_before_anything_is_sent(client):
    report = client.push(sales(), dataset="sales", attributes=["Year"])
    with pytest.raises(pushdata.DefinitionDriftError) as e:
        client.push(sales(), dataset_id=report.dataset_id, table="nope", policy="upsert")
    assert isinstance(e.value, pushdata.DataError)
    assert e.value.dataset_id == report.dataset_id
    assert len(e.value.differences) == 1


def test_a_taken_name_is_refused_naming_the_dataset(client):
    report = client.push(sales(), dataset="taken")
    with pytest.raises(pushdata.DatasetExistsError) as e:
        client.push(sales(), dataset="taken")
    assert e.value.name == "taken" and e.value.existing_ids == [report.dataset_id]


def test_wrong_credentials_are_an_authentication_error(server):
    with pytest.raises(pushdata.AuthenticationError) as e:
        pushdata.connect(server.url, password="wrong")
    assert isinstance(e.value, pushdata.ApiError)
    assert e.value.status == 401 and e.value.code == "ERR003"


def test_an_unknown_project_lists_the_available_ones(server):
    with pytest.raises(pushdata.ProjectError) as e:
        pushdata.connect(server.url, project="Nope")
    assert e.value.available == ["MicroStrategy Tutorial"]
    with pushdata.connect(server.url, project="microstrategy tutorial") as c:
        assert c.project_id == "B19DEDCC11D4E0EFC000EB9495D0F44F"


def test_an_unsupported_type_is_a_model_error_naming_table_and_column(client):
    with pytest.raises(pushdata.ModelError) as e:
        client.push(pa.table({"k": ["a"], "tags": [[1, 2]]}), dataset="nested")
    assert (e.value.table, e.value.column) == ("nested", "tags")


def test_a_missing_file_is_a_data_error_naming_the_path(client, tmp_path):
    path = tmp_path / "missing.parquet"
    with pytest.raises(pushdata.DataError) as e:
        client.push(path)
    assert e.value.path == str(path) and e.value.table == "missing"


def test_a_stream_failing_midway_is_a_data_error_and_publishes_nothing(client):
    def batches():
        yield sales().to_batches()[0]
        raise RuntimeError("the source broke")

    reader = pa.RecordBatchReader.from_batches(sales().schema, batches())
    events = []
    with pytest.raises(pushdata.DataError) as e:
        client.push(reader, dataset="broken", progress=events.append)
    assert e.value.table == "broken" and "the source broke" in str(e.value)
    created = [ev["dataset_id"] for ev in events if ev["event"] == "dataset_created"]
    assert [ev["dataset_id"] for ev in events if ev["event"] == "dataset_deleted"] == created
    with pytest.raises(pushdata.ApiError) as gone:
        client.pull(created[0])
    assert gone.value.status == 404


def test_bad_options_are_config_errors_before_anything_is_sent(client):
    for kwargs in [dict(policy="merge"), dict(orientation="diagonal"), dict(chunk_mb=-1),
                   dict(concurrency=0), dict(dataset_id="X")]:
        with pytest.raises(pushdata.ConfigError) as e:
            client.push(sales(), dataset="x", **kwargs)
        assert isinstance(e.value, ValueError)
    with pytest.raises(pushdata.ConfigError):
        client.push(sales())  # no dataset name


def test_an_unreachable_server_is_a_connection_error():
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(pushdata.ConnectionError) as e:
        pushdata.connect(f"http://127.0.0.1:{port}/MicroStrategyLibrary")
    assert isinstance(e.value, builtins.ConnectionError)
    assert e.value.endpoint == "POST /MicroStrategyLibrary/api/auth/login"


def test_a_second_server_on_a_data_directory_is_a_server_error(server):
    with pytest.raises(pushdata.ServerError) as e:
        pushdata.serve(server.data_dir)
    assert e.value.path == server.data_dir


def test_a_closed_client_says_so(server):
    c = pushdata.connect(server.url)
    c.close()
    with pytest.raises(pushdata.ClosedError):
        c.pull(MISSING)


def test_connect_reads_the_pushdata_variables(server, monkeypatch):
    monkeypatch.setenv("PUSHDATA_URL", server.url)
    monkeypatch.setenv("PUSHDATA_USER", "administrator")
    monkeypatch.setenv("PUSHDATA_PASSWORD", "wrong")
    with pytest.raises(pushdata.AuthenticationError):
        pushdata.connect()
    monkeypatch.setenv("PUSHDATA_PASSWORD", "")
    monkeypatch.setenv("PUSHDATA_PROJECT", "MicroStrategy Tutorial")
    with pushdata.connect() as c:
        assert c.url == server.url
        assert c.push(sales(), dataset="env").rows == 4


def test_a_server_with_its_own_user(tmp_path):
    with pushdata.serve(tmp_path / "d", user="jdoe", password="s3cret") as s:
        with pytest.raises(pushdata.AuthenticationError):
            pushdata.connect(s.url)
        with pushdata.connect(s.url, user="jdoe", password="s3cret") as c:
            assert "s3cret" not in repr(c)
            assert c.push(sales(), dataset="mine").rows == 4
