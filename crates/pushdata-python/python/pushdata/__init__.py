"""pushdata: push Arrow and Parquet data (pyarrow, polars, pandas, Parquet files) into
analytics datasets over REST, with the Rust engine of the ``pushdata`` command line.

.. code-block:: python

    import pushdata

    with pushdata.serve("data-dir") as server:            # the reference server, in process
        with pushdata.connect(server.url) as client:       # logs out on exit
            report = client.push(data, dataset="sales", attributes=["Year"], policy="replace")
            client.push(more, dataset_id=report.dataset_id, policy="upsert")
            table = client.pull(report.dataset_id)         # -> pyarrow.Table
    model = pushdata.schema(data, dataset="sales", attributes=["Year"])

``pushdata.veracity`` pushes to and pulls from Veracity Data Workbench datasets.
"""

from __future__ import annotations

from ._client import Client, PushReport, TableReport, connect
from ._errors import (
    ApiError,
    AuthenticationError,
    ClosedError,
    ConfigError,
    ConnectionError,
    DataError,
    DatasetExistsError,
    DefinitionDriftError,
    JobError,
    ModelError,
    ProjectError,
    PublishError,
    PublishOutcomeUnknownError,
    PushdataError,
    ServerError,
)
from ._schema import schema
from ._server import Server, serve

from . import veracity  # noqa: E402  (pushdata.veracity.connect after `import pushdata`)

__all__ = [
    "connect",
    "serve",
    "schema",
    "Client",
    "Server",
    "PushReport",
    "TableReport",
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
    "veracity",
]
