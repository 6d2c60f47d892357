"""Veracity Data Workbench datasets: push a table as one ingest job, pull a dataset back.

.. code-block:: python

    import pushdata, pushdata.veracity

    with pushdata.serve("data-dir") as server:                       # has the Veracity emulation
        vc = pushdata.veracity.connect(server, workspace=WORKSPACE_ID)
        created = vc.push(table, dataset="Wind", keys=["Id"])
        vc.push(update, dataset_id=created.dataset_id, operation="upsert",
                schema_id=created.schema_id)
        back = vc.pull(created.dataset_id, schema_id=created.schema_id)   # -> pyarrow.Table

Against the service, ``url`` is its root (``https://api.veracity.com``) or gateway URL, and
the credentials come from the arguments or, as in the ``pushdata veracity`` command line,
from ``PUSHDATA_VERACITY_URL``, ``_TOKEN_URL``, ``_CLIENT_ID``, ``_CLIENT_SECRET``,
``_SUBSCRIPTION_KEY`` and ``_WORKSPACE``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Mapping

from . import _data, _jobs, _native
from ._errors import ConfigError
from ._server import Server

__all__ = ["connect", "Client", "VeracityPushReport"]

# The tenant segment of the reference server's token URL (the emulation accepts any).
EMBEDDED_TENANT = "pushdata"
OPERATIONS = ("upsert", "delete", "overwrite", "append")


@dataclass(frozen=True)
class VeracityPushReport:
    """What a finished Veracity push did."""

    dataset_id: str
    job_id: str
    #: The schema made for a created dataset: what ``schema_id`` of later pushes and pulls
    #: takes (``None`` after an operation on an existing dataset).
    schema_id: str | None
    schema_version_id: str | None
    #: ``Create``, ``Upsert``, ``Delete``, ``Overwrite`` or ``Append``.
    operation: str
    rows: int
    #: Bytes of the uploaded CSV file.
    bytes: int
    parts: int
    seconds: float
    #: The job's final status.
    status: str


def _env(name: str, value: str | None) -> str | None:
    return value if value is not None else os.environ.get(f"PUSHDATA_VERACITY_{name}")


def connect(url: str | Server | None = None, *, workspace: str | None = None,
            token_url: str | None = None, client_id: str | None = None,
            client_secret: str | None = None, subscription_key: str | None = None) -> "Client":
    """A client of Veracity workspace ``workspace``.

    ``url`` is a :class:`pushdata.Server` (its Veracity emulation, with the emulation's
    default credentials unless given), or the service root / gateway URL, for which the
    client id, secret and subscription key are required. Arguments not given come from
    the ``PUSHDATA_VERACITY_*`` variables. No call is made until the first push or pull.
    """
    workspace = _env("WORKSPACE", workspace)
    if not workspace:
        raise ConfigError("give workspace= (or set PUSHDATA_VERACITY_WORKSPACE)")
    client_id = _env("CLIENT_ID", client_id)
    client_secret = _env("CLIENT_SECRET", client_secret)
    subscription_key = _env("SUBSCRIPTION_KEY", subscription_key)
    token_url = _env("TOKEN_URL", token_url)
    if url is None:
        url = _env("URL", None)
    if isinstance(url, Server):
        root = f"http://{url._native.addr}"
        options = dict(
            url=root,
            token_url=token_url or f"{root}/{EMBEDDED_TENANT}/oauth2/token",
            client_id=client_id or _native.DEFAULT_VERACITY_CLIENT_ID,
            client_secret=client_secret or _native.DEFAULT_VERACITY_CLIENT_SECRET,
            subscription_key=subscription_key or _native.DEFAULT_VERACITY_SUBSCRIPTION_KEY,
            quick_poll=True,
        )
    elif url:
        missing = [n for n, v in [("client_id", client_id), ("client_secret", client_secret),
                                  ("subscription_key", subscription_key)] if not v]
        if missing:
            raise ConfigError(f"connecting to {url} needs {', '.join(missing)} (or the "
                              "PUSHDATA_VERACITY_* variables); pushdata.serve() gives a local emulation")
        options = dict(url=url, token_url=token_url, client_id=client_id,
                       client_secret=client_secret, subscription_key=subscription_key,
                       quick_poll=False)
    else:
        raise ConfigError("give url= (a pushdata.Server, or the service root) or set PUSHDATA_VERACITY_URL")
    return Client(_native.veracity_connect(dict(options, workspace=workspace)))


class Client:
    """A client of one Veracity workspace; made by :func:`connect`."""

    def __init__(self, native: _native.VeracityClient) -> None:
        self._native = native

    @property
    def workspace(self) -> str:
        return self._native.workspace

    def __repr__(self) -> str:
        return repr(self._native)

    def _start_push(self, data: Any, dataset: str | None, dataset_id: str | None,
                    operation: str | None, keys: Any, schema_id: str | None,
                    schema_version: str | None, description: str | None,
                    storage_options: Any = None, part_mb: int | None = None,
                    appends_in_flight: int | None = None):
        if dataset is not None and (dataset_id is not None or operation is not None):
            raise ConfigError("give dataset= (create a dataset), or dataset_id= with operation=, not both")
        if dataset_id is not None and operation is None:
            raise ConfigError(f"dataset_id= needs operation= (one of {', '.join(OPERATIONS)})")
        if dataset is None and dataset_id is None:
            raise ConfigError("give dataset= (a new dataset's name), or dataset_id= with operation=")
        if isinstance(data, (dict, list, tuple)):
            raise TypeError("a Veracity push takes one table: a Parquet path or an Arrow object")
        _check_count("part_mb", part_mb, _native.VERACITY_MAX_PART_MB)
        _check_count("appends_in_flight", appends_in_flight,
                     _native.VERACITY_MAX_APPENDS_IN_FLIGHT)
        name = dataset or f"dataset {dataset_id}"
        source = _data.source(data, f"table {name!r}")
        options = dict(dataset=dataset, dataset_id=dataset_id, operation=operation,
                       keys=_data.names(keys, "keys"), schema_id=schema_id,
                       schema_version=schema_version, description=description,
                       storage_options=_data.storage_options(storage_options),
                       part_mb=part_mb, appends_in_flight=appends_in_flight)
        return self._native.push(name, source, options)

    def push(self, data: Any, *, dataset: str | None = None, dataset_id: str | None = None,
             operation: str | None = None, keys: str | list[str] | None = None,
             schema_id: str | None = None, schema_version: str | None = None,
             description: str | None = None,
             storage_options: Mapping[str, str] | None = None,
             part_mb: int | None = None,
             appends_in_flight: int | None = None) -> VeracityPushReport:
        """Push one table (a path: a data file, a directory of part files or a glob; a
        pyarrow/polars/pandas table, a ``RecordBatchReader``, ...) as one ingest job and
        wait for the job.

        A path can be an object-store URL (``s3://bucket/prefix/``, ``gs://``, ``az://``,
        ``abfss://``, ``http(s)://``, ``file://``; an object, a prefix or a glob), read with
        the credentials of the environment (as the cloud CLIs read them) and
        ``storage_options`` (object_store's configuration keys, as for
        :meth:`pushdata.Client.push`).

        ``dataset``: create a new dataset of that name, its schema made from the data's
        Arrow schema with ``keys`` as key columns (or ``schema_version``, an existing one).
        ``dataset_id`` with ``operation`` (``upsert``, ``delete``, ``overwrite``,
        ``append``): apply it to an existing dataset; with ``schema_id`` the operation and
        the columns are checked against the dataset's schema before anything is uploaded.
        A failed job leaves the dataset unchanged (:class:`pushdata.JobError`).

        The CSV is appended in parts of ``part_mb`` MiB (default 8, at most 256; the first
        parts ramp up from a sixteenth of it), one append at a time unless
        ``appends_in_flight`` (at most 16) lets that many be sent before the first is
        answered: against a service far away each append otherwise waits a round trip.
        """
        job = self._start_push(data, dataset, dataset_id, operation, keys, schema_id,
                               schema_version, description, storage_options, part_mb,
                               appends_in_flight)
        return VeracityPushReport(**_jobs.wait(job))

    async def push_async(self, data: Any, **kwargs: Any) -> VeracityPushReport:
        """:meth:`push` for asyncio."""
        job = self._start_push(data, kwargs.pop("dataset", None), kwargs.pop("dataset_id", None),
                               kwargs.pop("operation", None), kwargs.pop("keys", None),
                               kwargs.pop("schema_id", None), kwargs.pop("schema_version", None),
                               kwargs.pop("description", None),
                               kwargs.pop("storage_options", None),
                               kwargs.pop("part_mb", None),
                               kwargs.pop("appends_in_flight", None))
        if kwargs:
            raise TypeError(f"unexpected arguments: {', '.join(kwargs)}")
        return VeracityPushReport(**await _jobs.wait_async(job))

    def pull(self, dataset_id: str, *, schema_id: str, page_size: int | None = None):
        """Read dataset ``dataset_id`` as a ``pyarrow.Table``, typed by the current version
        of schema ``schema_id``, page by page through the query API."""
        return _jobs.wait(self._native.pull(dataset_id, schema_id, page_size))

    async def pull_async(self, dataset_id: str, *, schema_id: str, page_size: int | None = None):
        """:meth:`pull` for asyncio."""
        return await _jobs.wait_async(self._native.pull(dataset_id, schema_id, page_size))


def _check_count(name: str, value: Any, most: int) -> None:
    """``value`` is None or an int from 1 to ``most``, else :class:`ConfigError`."""
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= most:
        raise ConfigError(f"{name} must be a whole number from 1 to {most}, not {value!r}")
