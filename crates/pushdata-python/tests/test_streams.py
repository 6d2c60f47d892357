"""Streams: read batch by batch while the push uploads, never collected; stopped by
Ctrl-C or an asyncio cancellation with nothing published."""

from __future__ import annotations

import _thread
import asyncio
import threading
import time

import pyarrow as pa
import pytest

import pushdata

ROWS_PER_BATCH = 2000
SCHEMA = pa.schema([("id", pa.int64()), ("name", pa.string()), ("value", pa.float64())])


def batch(i: int) -> pa.RecordBatch:
    start = i * ROWS_PER_BATCH
    ids = pa.array(range(start, start + ROWS_PER_BATCH), pa.int64())
    return pa.record_batch([ids, pa.array([f"name-{n:012d}" for n in ids.to_pylist()]),
                            pa.array([n * 0.5 for n in ids.to_pylist()])], schema=SCHEMA)


class Uploaded:
    """Rows the server has received, from the push's progress events (delivered in the
    test's thread), for the generator (run by the push's reader thread) to wait on."""

    def __init__(self) -> None:
        self.rows = 0
        self.cond = threading.Condition()
        self.events: list[dict] = []

    def __call__(self, event: dict) -> None:
        self.events.append(event)
        if event["event"] == "chunk_uploaded":
            with self.cond:
                self.rows += event["rows"][1] - event["rows"][0]
                self.cond.notify_all()

    def wait_for(self, rows: int, timeout: float = 30.0) -> bool:
        with self.cond:
            return self.cond.wait_for(lambda: self.rows >= rows, timeout)


def test_a_stream_larger_than_the_memory_budget_is_never_collected(client):
    """150 batches (about 11 MB of encoded chunks) through a budget of 0.5 MiB: the
    generator may only make batch k once the rows of batch k - WINDOW have reached the
    server. A push that collected the stream first would never upload anything while the
    generator waits, and the generator would give up (the push then fails)."""
    batches, window = 150, 24
    uploaded = Uploaded()
    made = []
    ahead = []  # batches made but not yet uploaded, at each batch

    def generate():
        for i in range(batches):
            if i >= window and not uploaded.wait_for((i - window + 1) * ROWS_PER_BATCH):
                raise RuntimeError(f"batch {i}: nothing uploaded while {window} batches wait")
            ahead.append(i - uploaded.rows // ROWS_PER_BATCH)
            made.append(i)
            yield batch(i)

    reader = pa.RecordBatchReader.from_batches(SCHEMA, generate())
    report = client.push(reader, dataset="big", attributes=["id"], chunk_mb=0.25,
                         max_buffered_mb=0.5, progress=uploaded)
    assert report.rows == batches * ROWS_PER_BATCH and len(made) == batches
    assert report.bytes > 15 * 0.5 * 2**20  # the data is many times the budget
    assert report.chunks > 30
    print("most batches ahead of the server:", max(ahead))
    assert max(ahead) <= window
    got = client.pull(report.dataset_id, table="big").column("id")
    assert got.to_pylist() == list(range(batches * ROWS_PER_BATCH))


def slow_stream(on_batch, batches: int = 10_000):
    """A generator that makes a batch every 20 ms, calling ``on_batch(i)`` first."""
    def generate():
        for i in range(batches):
            on_batch(i)
            time.sleep(0.02)
            yield batch(i)

    return pa.RecordBatchReader.from_batches(SCHEMA, generate())


def assert_nothing_published(client, events):
    created = [e["dataset_id"] for e in events if e["event"] == "dataset_created"]
    assert len(created) == 1
    assert any(e["event"] == "chunk_uploaded" for e in events)
    assert any(e["event"] == "cancelled" for e in events)  # the upload session
    assert [e["dataset_id"] for e in events if e["event"] == "dataset_deleted"] == created
    assert not any(e["event"] in ("publishing", "published") for e in events)
    with pytest.raises(pushdata.ApiError) as e:
        client.pull(created[0])
    assert e.value.status == 404


def test_ctrl_c_stops_the_push_and_publishes_nothing(client):
    uploaded = Uploaded()

    def on_batch(i):
        # Ctrl-C once chunks have reached the server (the generator runs on the push's
        # reader thread; the interrupt is raised in the main thread, which waits).
        if i > 0 and uploaded.rows > 0 and not interrupted:
            interrupted.append(i)
            _thread.interrupt_main()

    interrupted: list[int] = []
    with pytest.raises(KeyboardInterrupt):
        client.push(slow_stream(on_batch), dataset="stopped", chunk_mb=0.05, progress=uploaded)
    assert interrupted
    assert_nothing_published(client, uploaded.events)


def test_cancelling_push_async_stops_the_push_and_publishes_nothing(client):
    uploaded = Uploaded()

    async def main():
        task = asyncio.create_task(client.push_async(
            slow_stream(lambda i: None), dataset="cancelled", chunk_mb=0.05, progress=uploaded))
        while uploaded.rows == 0:
            await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    assert_nothing_published(client, uploaded.events)


def test_progress_true_shows_the_steps(client, capsys):
    client.push(pa.Table.from_batches([batch(0), batch(1)]), dataset="shown", progress=True)
    err = capsys.readouterr().err
    assert "published" in err


def test_an_exception_in_the_progress_callback_stops_the_push(client):
    events = []

    def callback(event):
        events.append(event)
        if event["event"] == "chunk_uploaded":
            raise ValueError("stop here")

    with pytest.raises(ValueError, match="stop here"):
        client.push(slow_stream(lambda i: None), dataset="callback", chunk_mb=0.05,
                    progress=callback)
    # The remaining events of the cleanup were not delivered (the callback failed); the
    # dataset is gone all the same.
    created = [e["dataset_id"] for e in events if e["event"] == "dataset_created"]
    with pytest.raises(pushdata.ApiError):
        client.pull(created[0])
