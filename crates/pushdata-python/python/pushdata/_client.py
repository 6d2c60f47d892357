"""``pushdata.connect``: a session on a Push Data API server, and push / pull in it."""

from __future__ import annotations

import json

import os
from dataclasses import dataclass
from typing import Any, Mapping

from . import _data, _jobs, _native, _progress
from ._errors import ConfigError

POLICIES = ("add", "update", "upsert", "replace")


@dataclass(frozen=True)
class TableReport:
    """One table of a push."""

    name: str
    rows: int
    chunks: int
    bytes: int
    #: Uploaded rows the policy did not write (``add`` skips stored keys, ``update`` new
    #: keys), as the reference server reports it; ``None`` from other servers.
    rows_skipped: int | None


@dataclass(frozen=True)
class PushReport:
    """What a finished push did."""

    #: The dataset pushed to (created, or given).
    dataset_id: str
    #: Rows pushed, all tables.
    rows: int
    #: Chunks uploaded.
    chunks: int
    #: Bytes of request bodies carrying data.
    bytes: int
    #: Wall time of the push.
    seconds: float
    #: Per table, in the order given.
    tables: tuple[TableReport, ...]
    #: The upload session (``None`` with ``single_request=True``).
    session_id: str | None

    @classmethod
    def _from_native(cls, d: Mapping[str, Any]) -> "PushReport":
        tables = tuple(TableReport(**t) for t in d["tables"])
        return cls(dataset_id=d["dataset_id"], rows=sum(t.rows for t in tables),
                   chunks=d["chunks"], bytes=d["bytes"], seconds=d["seconds"],
                   tables=tables, session_id=d["session_id"])


def connect(url: str | None = None, *, user: str | None = None, password: str | None = None,
            project: str | None = None) -> "Client":
    """Log in to the Push Data API server at ``url`` (e.g. ``server.url``, or
    ``https://host/MicroStrategyLibrary``) and select the project.

    As in the ``pushdata`` command line, each argument not given comes from
    ``PUSHDATA_URL``, ``PUSHDATA_USER``, ``PUSHDATA_PASSWORD`` and ``PUSHDATA_PROJECT``;
    the user defaults to ``administrator``, the password to empty, and the project to the
    user's only project (several raise :class:`~pushdata.ProjectError` listing them). Use
    the client as a context manager: it logs out on exit.
    """
    url = url if url is not None else os.environ.get("PUSHDATA_URL")
    if not url:
        raise ConfigError("no server URL: give url= or set PUSHDATA_URL "
                          "(pushdata.serve(dir) runs a reference server in process)")
    user = user if user is not None else os.environ.get("PUSHDATA_USER", _native.DEFAULT_USER)
    password = password if password is not None else os.environ.get("PUSHDATA_PASSWORD", "")
    project = project if project is not None else os.environ.get("PUSHDATA_PROJECT")
    native = _jobs.wait(_native.connect(url, user, password, project))
    return Client(native)


class Client:
    """A logged-in session with a project selected; made by :func:`connect`."""

    def __init__(self, native: _native.Client) -> None:
        self._native = native
        self._closed = False

    @property
    def url(self) -> str:
        """The server's base URL."""
        return self._native.url

    @property
    def project_id(self) -> str | None:
        """The id of the project selected."""
        return self._native.project_id

    def __repr__(self) -> str:
        state = " (closed)" if self._closed else ""
        return f"<pushdata.Client {self._native.url} as {self._native.user!r}{state}>"

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    async def __aenter__(self) -> "Client":
        return self

    async def __aexit__(self, *exc: object) -> None:
        if not self._closed:
            self._closed = True
            await _jobs.wait_async(self._native.close())

    def close(self) -> None:
        """Log out (once; later calls do nothing)."""
        if not self._closed:
            self._closed = True
            _jobs.wait(self._native.close())

    # -- push ---------------------------------------------------------------------------

    def _start_push(self, data: Any, dataset: str | None, dataset_id: str | None,
                    table: str | None, options: dict[str, Any],
                    progress: _progress.ProgressArg):
        if dataset is not None and dataset_id is not None:
            raise ConfigError("give dataset (a new dataset's name) or dataset_id (an existing dataset), not both")
        if dataset_id is None and dataset is None:
            first = _data.first_path(data)
            if first is None:
                raise ConfigError("give dataset= (the new dataset's name) or dataset_id= (an existing dataset)")
            dataset = _data.stem(first)
        default_table = dataset
        if dataset_id is not None and table is None and _needs_table_name(data):
            default_table = self._only_table(dataset_id)
        tables = _data.tables(data, table, default_table)
        target = _progress.sink(progress, _total_rows(tables) if progress is True else None)
        options.update(dataset=dataset, dataset_id=dataset_id, progress=target is not None)
        return self._native.push(tables, options), target

    def _only_table(self, dataset_id: str) -> str:
        tables = _jobs.wait(self._native.dataset_tables(dataset_id))
        if len(tables) != 1:
            names = ", ".join(repr(t["name"]) for t in tables) or "(none)"
            raise ConfigError(f"dataset {dataset_id} has {len(tables)} tables ({names}); "
                              "give table= to say which one the data goes to")
        return tables[0]["name"]

    def push(self, data: Any, *, dataset: str | None = None, dataset_id: str | None = None,
             table: str | None = None, attributes: str | list[str] | None = None,
             metrics: str | list[str] | None = None, forms: dict[str, dict[str, str]] | None = None,
             policy: str | Mapping[str, str] = "replace", orientation: str = "row",
             chunk_mb: float | None = None, concurrency: int | None = None,
             max_buffered_mb: float | None = None, single_request: bool = False,
             folder: str | None = None, description: str | None = None,
             if_exists: str | None = None, dry_run: bool = False,
             progress: _progress.ProgressArg = None,
             storage_options: Mapping[str, str] | None = None) -> "PushReport | dict[str, Any]":
        """Push ``data`` into a new dataset named ``dataset`` or into the existing dataset
        ``dataset_id``, and return the :class:`PushReport` once it is published.

        ``data``: an object with the Arrow PyCapsule stream interface (pyarrow ``Table`` or
        ``RecordBatchReader``, polars ``DataFrame``, DuckDB result, ...), a
        ``pyarrow.dataset`` ``Dataset`` or ``Scanner``, a pandas ``DataFrame``, a Parquet path or a list of them (one table per file, named
        after the file stem), or a dict ``{table_name: data}`` for a multi-table dataset.
        A stream is read batch by batch as the push goes, never collected: memory stays
        bounded as for a Parquet file (``max_buffered_mb`` of encoded chunks plus the
        batches being encoded).

        A single in-memory table is named ``table``, else after the dataset (a new one) or
        after the dataset's only table (``dataset_id``). A new dataset without ``dataset``
        is named after the first file.

        ``attributes`` / ``metrics``: columns (``COL`` or ``TABLE.COL``) made attributes or
        metrics instead of what the model rules infer (ID/DESC pairs, key names, calendar
        parts and columns shared by tables are attributes, other numeric columns metrics;
        :func:`pushdata.schema` shows the result).
        ``forms``: ``{attribute: {category: column}}``, e.g.
        ``{"Category": {"ID": "Category_ID", "DESC": "Category"}}``.
        ``policy``: ``add``, ``update``, ``upsert`` or ``replace`` (default), or a dict
        ``{table: policy}``. ``orientation``: ``row`` (default) or ``column``.
        ``chunk_mb``, ``concurrency``, ``max_buffered_mb``, ``single_request``: as the
        command line's options. ``progress``: ``True`` shows a bar (tqdm when installed,
        else lines on stderr); a callable receives every event as a dict.

        ``folder`` (an id; default My Reports) and ``description``: for a new dataset. A
        new dataset's name taken in its folder raises :class:`DatasetExistsError`, unless
        ``if_exists="update"``: the data then goes into that dataset with ``policy``.
        Pushing into an existing dataset first compares the data with its definition and
        raises :class:`DefinitionDriftError` listing every difference.
        ``dry_run=True`` makes every check, local and on the server, encodes the data as
        the push would, writes nothing, and returns the plan as a dict (``action``,
        ``name``, ``dataset_id``, ``tables`` with rows, chunks, bytes and policy, ``rows``,
        ``chunks``, ``bytes``, ``model``, ``tolerated``): the fields ``pushdata push
        --dry-run --json`` prints, in snake_case.

        A path can be an object-store URL (``s3://bucket/prefix/``, ``gs://``, ``az://``,
        ``abfss://``, ``http(s)://``, ``file://``; a file, a prefix or a glob), read with the
        credentials of the environment (as the cloud CLIs read them) and ``storage_options``
        (``{"aws_region": "eu-west-1", "aws_endpoint": ...}``: object_store's configuration
        keys).

        Ctrl-C raises ``KeyboardInterrupt`` after the push has cancelled its upload
        session (and deleted the dataset it created): nothing is published.
        """
        options = _push_options(attributes, metrics, forms, policy, orientation, chunk_mb,
                                concurrency, max_buffered_mb, single_request, folder,
                                description, if_exists, dry_run)
        options["storage_options"] = _data.storage_options(storage_options)
        job, target = self._start_push(data, dataset, dataset_id, table, options, progress)
        try:
            return _outcome(_jobs.wait(job, target))
        finally:
            _progress.close(target)

    async def push_async(self, data: Any, *, dataset: str | None = None,
                         dataset_id: str | None = None, table: str | None = None,
                         attributes: str | list[str] | None = None,
                         metrics: str | list[str] | None = None,
                         forms: dict[str, dict[str, str]] | None = None,
                         policy: str | Mapping[str, str] = "replace", orientation: str = "row",
                         chunk_mb: float | None = None, concurrency: int | None = None,
                         max_buffered_mb: float | None = None, single_request: bool = False,
                         folder: str | None = None, description: str | None = None,
                         if_exists: str | None = None, dry_run: bool = False,
                         progress: _progress.ProgressArg = None,
                         storage_options: Mapping[str, str] | None = None) -> "PushReport | dict[str, Any]":
        """:meth:`push` for asyncio: the event loop runs while the data is pushed;
        cancelling the task stops the push (its upload session is cancelled)."""
        options = _push_options(attributes, metrics, forms, policy, orientation, chunk_mb,
                                concurrency, max_buffered_mb, single_request, folder,
                                description, if_exists, dry_run)
        options["storage_options"] = _data.storage_options(storage_options)
        job, target = self._start_push(data, dataset, dataset_id, table, options, progress)
        try:
            return _outcome(await _jobs.wait_async(job, target))
        finally:
            _progress.close(target)

    # -- pull ---------------------------------------------------------------------------

    def _start_pull(self, dataset_id: str, table: str | None, attributes: Any, metrics: Any,
                    page_size: int | None):
        if table is not None and (attributes or metrics):
            raise ConfigError("table= reads a table's stored rows exactly; it takes no attributes or metrics")
        if page_size is not None and page_size < 1:
            raise ConfigError(f"page_size must be at least 1, not {page_size}")
        return self._native.pull(dataset_id, table, _data.names(attributes, "attributes"),
                                 _data.names(metrics, "metrics"), page_size)

    def pull(self, dataset_id: str, *, table: str | None = None,
             attributes: str | list[str] | None = None, metrics: str | list[str] | None = None,
             page_size: int | None = None):
        """Read dataset ``dataset_id`` back as a ``pyarrow.Table``.

        Through the Cube API, as a report would: rows grouped by the ``attributes`` read
        and ``metrics`` summed (default: all of both; the tables of a multi-table dataset
        joined on their shared attributes), typed from the column types (DATE as date32,
        DATETIME as timestamp[us], BIGDECIMAL as decimal128, ...). With ``table``, that
        table's stored rows exactly instead (every row, stored order and types), through an
        extension of the pushdata reference server that MicroStrategy servers do not have.
        """
        return _jobs.wait(self._start_pull(dataset_id, table, attributes, metrics, page_size))

    async def pull_async(self, dataset_id: str, *, table: str | None = None,
                         attributes: str | list[str] | None = None,
                         metrics: str | list[str] | None = None, page_size: int | None = None):
        """:meth:`pull` for asyncio."""
        return await _jobs.wait_async(self._start_pull(dataset_id, table, attributes, metrics, page_size))


def _needs_table_name(data: Any) -> bool:
    """Whether ``data`` is one table that does not name itself (not a path, list or dict)."""
    return not isinstance(data, (dict, list, tuple, str, os.PathLike))


def _push_options(attributes, metrics, forms, policy, orientation, chunk_mb, concurrency,
                  max_buffered_mb, single_request, folder, description, if_exists,
                  dry_run) -> dict[str, Any]:
    if isinstance(policy, Mapping):
        default, table_policies = "replace", dict(policy)
    else:
        default, table_policies = policy, {}
    return {
        "attributes": _data.names(attributes, "attributes"),
        "metrics": _data.names(metrics, "metrics"),
        "forms": _data.forms(forms),
        "policy": default,
        "table_policies": table_policies,
        "orientation": orientation,
        "chunk_mb": None if chunk_mb is None else float(chunk_mb),
        "concurrency": concurrency,
        "max_buffered_mb": None if max_buffered_mb is None else float(max_buffered_mb),
        "single_request": bool(single_request),
        "folder": folder,
        "description": description,
        "if_exists": if_exists,
        "dry_run": bool(dry_run),
    }


def _outcome(result: Mapping[str, Any]) -> "PushReport | dict[str, Any]":
    """The report of a push, or a dry run's plan as a dict (its ``model`` parsed)."""
    if result.get("dry_run"):
        plan = dict(result)
        plan["model"] = json.loads(plan["model"])
        return plan
    return PushReport._from_native(result)


def _total_rows(tables: list[tuple[str, Any]]) -> int | None:
    """Rows about to be pushed, when cheap to know (for the progress bar's total)."""
    total = 0
    for _, src in tables:
        if isinstance(src, str):
            import pyarrow.parquet as pq

            try:
                total += pq.ParquetFile(src).metadata.num_rows
            except (OSError, ValueError):
                return None  # the push reports the file's error itself
        elif isinstance(getattr(src, "num_rows", None), int):
            total += src.num_rows
        elif isinstance(getattr(src, "height", None), int):
            total += src.height
        else:
            return None
    return total
