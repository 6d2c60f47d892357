"""``pushdata.schema``: the model a push would create, without a server."""

from __future__ import annotations

import json
from typing import Any

from . import _data, _native
from ._errors import ConfigError


def schema(data: Any, *, dataset: str | None = None, table: str | None = None,
           attributes: str | list[str] | None = None, metrics: str | list[str] | None = None,
           forms: dict[str, dict[str, str]] | None = None,
           storage_options: dict[str, str] | None = None) -> dict[str, Any]:
    """The dataset model :meth:`Client.push` would create for ``data`` (the body of
    ``POST /api/datasets/models``: tables with their column headers, attributes with
    their forms, metrics), as a dict. Only schemas are read: Parquet footers, or the
    schema of an Arrow object; a ``RecordBatchReader`` is not consumed.

    ``data``, ``table``, ``attributes``, ``metrics``, ``forms`` and ``storage_options`` are as for
    :meth:`Client.push`; ``dataset`` names the dataset (default: the first file's stem,
    or the table's name).
    """
    first = _data.first_path(data)
    if dataset is None:
        dataset = table if first is None else _data.stem(first)
    if dataset is None and not isinstance(data, dict):
        raise ConfigError("give dataset= (or table=) to name the dataset")
    tables = _data.tables(data, table, dataset)
    if dataset is None:
        dataset = tables[0][0]
    schemas = [(name, _schema_source(src)) for name, src in tables]
    model = _native.schema(dataset, schemas, _data.names(attributes, "attributes"),
                           _data.names(metrics, "metrics"), _data.forms(forms),
                           _data.storage_options(storage_options))
    return json.loads(model)


def _schema_source(src: Any) -> Any:
    """The schema of ``src`` without reading its data when it has one to give."""
    if isinstance(src, str) or hasattr(src, "__arrow_c_schema__"):
        return src
    s = getattr(src, "schema", None)
    if s is not None and hasattr(s, "__arrow_c_schema__"):
        return s
    return src
