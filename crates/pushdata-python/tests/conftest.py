"""Fixtures: a reference server on a temporary data directory (127.0.0.1, a free port) and
a client logged in to it."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.fs as pafs
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


class Moto:
    """A moto S3 server on loopback: ``fs``, pyarrow's S3 client of it (buckets made on first
    write), and ``options``, the ``storage_options`` that reach it."""

    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint
        self.fs = pafs.S3FileSystem(access_key="test", secret_key="test", region="us-east-1",
                                    endpoint_override=endpoint, scheme="http",
                                    allow_bucket_creation=True, connect_timeout=5,
                                    request_timeout=30)
        self.options = {"aws_endpoint": endpoint, "aws_allow_http": "true",
                        "aws_region": "us-east-1", "aws_access_key_id": "test",
                        "aws_secret_access_key": "test"}


def moto_server() -> str:
    """``$PUSHDATA_MOTO_SERVER``, else the ``moto-venv/bin/moto_server`` that ``.ci/run``
    installs into the target directory; raises ``LookupError`` saying why there is none."""
    given = os.environ.get("PUSHDATA_MOTO_SERVER")
    if given:
        return given
    root = Path(__file__).resolve().parents[3]
    target = Path(os.environ.get("CARGO_TARGET_DIR") or root / "target")
    server = target / "moto-venv" / "bin" / "moto_server"
    if not server.is_file():
        raise LookupError(f"no {server} (.ci/run installs it) and no PUSHDATA_MOTO_SERVER")
    return str(server)


@pytest.fixture
def moto():
    try:
        server = moto_server()
    except LookupError as e:
        pytest.skip(f"no S3 emulator: {e}")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    process = subprocess.Popen([server, "-H", "127.0.0.1", "-p", str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    pytest.skip(f"no S3 emulator: {server} did not listen on port {port}")
                time.sleep(0.1)
        yield Moto(f"http://127.0.0.1:{port}")
    finally:
        process.terminate()
        process.wait()
