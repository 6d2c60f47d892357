# Type stubs of the private native module (crates/pushdata-python/src). Use the public API
# in pushdata/__init__.py; this module's names may change.

import os
from typing import Any, Sequence

import pyarrow

DEFAULT_USER: str
DEFAULT_VERACITY_CLIENT_ID: str
DEFAULT_VERACITY_CLIENT_SECRET: str
DEFAULT_VERACITY_SUBSCRIPTION_KEY: str
VERACITY_MAX_PART_MB: int
VERACITY_MAX_APPENDS_IN_FLIGHT: int

class PushdataError(Exception):
    """The base class of every error pushdata raises."""

# A table's data: a Parquet path, or an object with `__arrow_c_stream__`.
_Source = str | os.PathLike[str] | Any
_Event = dict[str, Any]

class Job:
    """An operation running on the module's runtime."""

    def wait(self, timeout: float | None = None) -> bool: ...
    def done(self) -> bool: ...
    def stop(self) -> None: ...
    def events(self) -> list[_Event]: ...
    def result(self) -> Any: ...

class Server:
    def __init__(
        self,
        data_dir: str | os.PathLike[str],
        addr: str = "127.0.0.1:0",
        user: str | None = None,
        password: str | None = None,
    ) -> None: ...
    @property
    def url(self) -> str: ...
    @property
    def addr(self) -> str: ...
    @property
    def data_dir(self) -> str: ...
    @property
    def running(self) -> bool: ...
    def stop(self) -> None: ...

class Client:
    @property
    def url(self) -> str: ...
    @property
    def user(self) -> str: ...
    @property
    def project_id(self) -> str | None: ...
    # Result: the report as a dict (dataset_id, session_id, tables, chunks, bytes, seconds).
    def push(self, tables: Sequence[tuple[str, _Source]], options: dict[str, Any]) -> Job: ...
    # Result: a pyarrow.Table.
    def pull(
        self,
        dataset_id: str,
        table: str | None = None,
        attributes: Sequence[str] = ...,
        metrics: Sequence[str] = ...,
        page_size: int | None = None,
    ) -> Job: ...
    # Result: a list of {"id", "name", "rows"}.
    def dataset_tables(self, dataset_id: str) -> Job: ...
    # Result: None.
    def close(self) -> Job: ...

# Result: a Client.
def connect(url: str, user: str, password: str, project: str | None = None) -> Job: ...

# The dataset model as JSON.
def input_name(path: str) -> str | None: ...


def schema(
    dataset: str,
    tables: Sequence[tuple[str, _Source | pyarrow.Schema]],
    attributes: Sequence[str] = ...,
    metrics: Sequence[str] = ...,
    forms: Sequence[tuple[str, str, str]] = ...,
) -> str: ...

class VeracityClient:
    @property
    def workspace(self) -> str: ...
    # Result: the report as a dict.
    def push(self, name: str, data: _Source, options: dict[str, Any]) -> Job: ...
    # Result: a pyarrow.Table.
    def pull(self, dataset_id: str, schema_id: str, page_size: int | None = None) -> Job: ...

def veracity_connect(c: dict[str, Any]) -> VeracityClient: ...
