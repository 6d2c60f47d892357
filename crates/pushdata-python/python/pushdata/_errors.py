"""The exceptions pushdata raises.

Every one is a :class:`PushdataError`. The class says what kind of failure it is (chosen
from the Rust error's variant, never from its text), the message is the one the
``pushdata`` command line prints, and the attributes carry what the error knows; an
attribute the error does not know is ``None``.
"""

from __future__ import annotations

import builtins

from ._native import PushdataError

__all__ = [
    "PushdataError",
    "ConfigError",
    "ModelError",
    "DataError",
    "ApiError",
    "AuthenticationError",
    "ConnectionError",
    "ProjectError",
    "PublishError",
    "PublishOutcomeUnknownError",
    "ClosedError",
    "JobError",
    "ServerError",
    "DefinitionDriftError",
    "DatasetExistsError",
]


class ConfigError(PushdataError, ValueError):
    """An option or argument that cannot be used (an unknown policy, both ``dataset`` and
    ``dataset_id``, a negative chunk size, ...). Nothing was sent."""


class ModelError(PushdataError):
    """The data cannot become the dataset's model: a column type the API has no type for,
    a name the server would refuse, attribute/metric overrides that conflict.

    ``table`` and ``column`` name the culprit when known."""

    table: str | None = None
    column: str | None = None


class DataError(PushdataError):
    """Reading the data failed, or a value cannot be written: ``table``, ``column`` and
    ``row`` (0-based over everything pushed to the table) say where; ``path`` names the
    Parquet file."""

    table: str | None = None
    column: str | None = None
    row: int | None = None
    path: str | None = None


class ApiError(PushdataError):
    """The server refused a call (``status``, the HTTP status) or answered in a way the
    client cannot read (``status`` is ``None``).

    ``code`` and ``ticket_id`` are the server's error code and ticket (quote the ticket
    when reporting the error); ``endpoint`` is the call (method and path); ``step`` what
    the push was doing; ``table`` and ``chunk`` the chunk being uploaded. Veracity errors
    also have ``trace_id`` and ``job_id``."""

    status: int | None = None
    code: str | None = None
    ticket_id: str | None = None
    endpoint: str | None = None
    step: str | None = None
    table: str | None = None
    chunk: int | None = None
    trace_id: str | None = None
    job_id: str | None = None


class AuthenticationError(ApiError):
    """The server rejected the credentials or the session (HTTP 401)."""


class ConnectionError(PushdataError, builtins.ConnectionError):
    """The server could not be reached, or the connection broke or timed out (after the
    client's retries). ``endpoint`` is the call, ``step`` what the push was doing."""

    endpoint: str | None = None
    step: str | None = None
    table: str | None = None
    chunk: int | None = None
    status: int | None = None


class ProjectError(PushdataError):
    """The project named does not exist, or none was named and the user does not see
    exactly one: ``available`` lists the project names the user can see."""

    available: list[str] | None = None


class PublishError(PushdataError):
    """The server failed to publish the upload session (nothing was published)."""

    dataset_id: str | None = None
    session_id: str | None = None
    status: int | None = None


class PublishOutcomeUnknownError(PushdataError):
    """The publish was requested but whether it happened is not known (its status could
    not be read, or the push was stopped after the request). Check ``dataset_id`` before
    pushing again. Every other push error means nothing was published."""

    dataset_id: str | None = None
    session_id: str | None = None


class ClosedError(PushdataError):
    """The client is not logged in (it was closed)."""


class JobError(PushdataError):
    """A Veracity ingest job failed or did not finish in time; ``job_id`` names it and the
    message holds its validation messages. A failed job leaves the dataset unchanged."""

    job_id: str | None = None
    table: str | None = None
    status: int | None = None
    endpoint: str | None = None
    trace_id: str | None = None
    code: str | None = None


class ServerError(PushdataError):
    """The in-process reference server could not start or stop (``path``: a data directory
    another server uses)."""

    path: str | None = None


class DefinitionDriftError(DataError):
    """The data does not match the existing dataset it is pushed into: ``differences``
    lists every refused difference (table, column, both types), ``dataset_id`` names the
    dataset. Checked before anything is sent; nothing was written."""

    dataset_id: str | None = None
    differences: list[str] | None = None


class DatasetExistsError(PushdataError):
    """A dataset named ``name`` already exists in the folder a new one would be created in
    (``existing_ids``). Push into it with ``dataset_id=``, or choose another name."""

    name: str | None = None
    existing_ids: list[str] | None = None
