"""Progress of a push: a tqdm bar (or plain ``progress: ...`` lines on stderr when tqdm is
not installed), or the caller's callable, fed with the push pipeline's events.

Events are dicts with an ``"event"`` key: ``dataset_created``, ``session_opened``,
``table_started``, ``rows_read``, ``rows_encoded``, ``chunk_uploaded`` (``table``,
``index``, ``rows`` as ``(start, end)``, ``bytes``), ``table_encoded``, ``publishing``,
``published``, ``cancelled``, ``dataset_deleted``; the other keys are the event's fields.
They are delivered in the thread that called ``push``, between waits.
"""

from __future__ import annotations

import sys
import time
from typing import Any, Callable, Optional

Event = dict[str, Any]
ProgressArg = Optional[bool | Callable[[Event], Any]]

# Plain lines are written at most this often (besides steps and the last chunk).
LINE_INTERVAL_S = 1.0


def sink(progress: ProgressArg, total_rows: int | None) -> Callable[[Event], Any] | None:
    """Where the events of a push go, or ``None`` when nobody wants them."""
    if progress is None or progress is False:
        return None
    if progress is True:
        return Display(total_rows)
    if callable(progress):
        return progress
    raise TypeError(f"progress must be True, False, None or a callable, not {type(progress).__name__}")


def close(target: Callable[[Event], Any] | None) -> None:
    if isinstance(target, Display):
        target.close()


class Display:
    """Rows uploaded against the total (when known), bytes and speed."""

    def __init__(self, total_rows: int | None) -> None:
        self.total = total_rows
        self.rows = 0
        self.bytes = 0
        self.chunks = 0
        self.started = time.monotonic()
        self.last_line: float | None = None
        try:
            from tqdm.auto import tqdm
        except ImportError:
            self.bar = None
        else:
            self.bar = tqdm(total=total_rows, unit="rows", unit_scale=True, file=sys.stderr)

    def __call__(self, event: Event) -> None:
        kind = event["event"]
        if kind == "chunk_uploaded":
            start, end = event["rows"]
            self._chunk(event["table"], end - start, event["bytes"])
            return
        text = _step_text(event)
        if text is None:
            return
        if self.bar is not None:
            self.bar.set_postfix_str(text, refresh=True)
        else:
            print(f"progress: {text}", file=sys.stderr, flush=True)

    def _chunk(self, table: str, rows: int, nbytes: int) -> None:
        self.rows += rows
        self.bytes += nbytes
        self.chunks += 1
        speed = self.bytes / max(time.monotonic() - self.started, 1e-9) / 1e6
        if self.bar is not None:
            self.bar.update(rows)
            return
        now = time.monotonic()
        last = self.total is not None and self.rows >= self.total
        if self.last_line is None or now - self.last_line >= LINE_INTERVAL_S or last:
            self.last_line = now
            total = "?" if self.total is None else str(self.total)
            print(f"progress: {self.rows}/{total} rows, {self.chunks} chunk"
                  f"{'' if self.chunks == 1 else 's'} ({self.bytes / 1e6:.1f} MB), "
                  f"{speed:.1f} MB/s; last chunk of table {table}", file=sys.stderr, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _step_text(event: Event) -> str | None:
    kind = event["event"]
    if kind == "dataset_created":
        return f"dataset {event['dataset_id']} created"
    if kind == "session_opened":
        return f"upload session {event['session_id']} opened"
    if kind == "table_started":
        return f"table {event['table']}: reading"
    if kind == "table_encoded":
        return f"table {event['table']}: {event['rows']} rows encoded in {event['chunks']} chunks"
    if kind == "publishing":
        return "publishing"
    if kind == "published":
        return "published"
    if kind == "cancelled":
        return f"upload session {event['session_id']} cancelled"
    if kind == "dataset_deleted":
        return f"dataset {event['dataset_id']} deleted (the push created it and published nothing)"
    return None
