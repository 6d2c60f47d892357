"""Helpers shared by the mstrio-py compatibility scripts.

The scripts drive the pushdata reference server with the unmodified mstrio-py client in its
default configuration: nothing in ``mstrio.config`` is changed (``verbose`` stays True, so
mstrio-py fetches and logs what it would for its users). The only addition is a logging
handler that records what mstrio-py logs at WARNING or above, so that a call the server
answers badly, which mstrio-py would only log, fails the script instead of passing silently.
"""

import logging
import sys

import mstrio
from mstrio.connection import Connection

USER = "administrator"
PASSWORD = ""
PROJECT_NAME = "MicroStrategy Tutorial"


class _Recorder(logging.Handler):
    """Keeps every record mstrio-py logs at WARNING or above."""

    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


_RECORDER = _Recorder()
logging.getLogger("mstrio").addHandler(_RECORDER)


def check(cond: bool, what: str) -> None:
    """Fail the script with `what` unless `cond`."""
    if not cond:
        raise AssertionError(what)


def connect(base_url: str, **kwargs) -> Connection:
    """``Connection(base_url, username, password, **kwargs)`` with the default login mode."""
    return Connection(base_url, USER, PASSWORD, **kwargs)


def result(key: str, value) -> None:
    """Print one result line for the Rust test: ``RESULT key=value``."""
    print(f"RESULT {key}={value}", flush=True)


def finish() -> None:
    """Exit non-zero when mstrio-py logged a warning or an error."""
    if _RECORDER.records:
        for r in _RECORDER.records:
            print(f"mstrio-py logged {r.levelname}: {r.getMessage()}", file=sys.stderr)
        sys.exit(1)
    result("mstrio_version", mstrio.__version__)
    print("OK", flush=True)


def rows(df, columns) -> list[tuple]:
    """The rows of `df` for `columns`, sorted, with numbers as floats (mstrio-py reads
    attributes back as strings and metrics as floats)."""
    out = [tuple(_norm(v) for v in rec) for rec in df[columns].itertuples(index=False)]
    return sorted(out, key=_sort_key)


def _sort_key(row: tuple) -> tuple:
    # numbers before strings, so that rows with missing values (NaN, None) still sort
    return tuple((0, v, "") if isinstance(v, float) and v == v else (1, 0.0, str(v)) for v in row)


def _norm(v):
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return float(v)
    try:
        return float(v)
    except (TypeError, ValueError):
        return str(v)
