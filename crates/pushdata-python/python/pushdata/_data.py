"""What ``push`` and ``schema`` accept as data, turned into ``(table name, source)`` pairs
for the native module: a source is a Parquet path or an object with the Arrow PyCapsule
stream interface (``__arrow_c_stream__``), which Rust imports zero-copy."""

from __future__ import annotations

import os
import sys
from typing import Any, Union

from . import _native
from ._errors import ConfigError

PathType = Union[str, "os.PathLike[str]"]

ACCEPTED = (
    "an object with __arrow_c_stream__ (pyarrow Table or RecordBatchReader, polars "
    "DataFrame, DuckDB result, ...), a pyarrow.dataset Dataset or Scanner, a pandas "
    "DataFrame, a path (Parquet, Arrow IPC, CSV or NDJSON file, a directory of part files, "
    "or a glob), a list of paths, or a dict {table_name: data}"
)


def _is_path(obj: Any) -> bool:
    return isinstance(obj, (str, os.PathLike))


def _is_pandas(obj: Any) -> bool:
    # pandas is only looked at when the caller has imported it.
    pandas = sys.modules.get("pandas")
    return pandas is not None and isinstance(obj, pandas.DataFrame)


def _dataset_reader(obj: Any) -> Any | None:
    """A pyarrow.dataset Dataset or Scanner as a RecordBatchReader (read lazily), else None."""
    dataset = sys.modules.get("pyarrow.dataset")
    if dataset is None:
        return None
    if isinstance(obj, dataset.Scanner):
        return obj.to_reader()
    if isinstance(obj, dataset.Dataset):
        return obj.scanner().to_reader()
    return None


def stem(path: PathType) -> str:
    """The default table (and dataset) name of a path: a file's name without its
    extension, a directory's name, or a glob's last literal folder."""
    name = _native.input_name(os.fspath(path))
    if not name:
        raise ConfigError(f"cannot name a table after the path {os.fspath(path)!r}; give table=")
    return name


def source(obj: Any, what: str) -> Any:
    """One table's data as the native module takes it: a path, or an Arrow stream."""
    if _is_path(obj):
        return os.fspath(obj)
    if _is_pandas(obj):
        import pyarrow as pa

        return pa.Table.from_pandas(obj)
    if hasattr(obj, "__arrow_c_stream__"):
        return obj
    reader = _dataset_reader(obj)
    if reader is not None:
        return reader
    raise TypeError(f"{what}: cannot push a {type(obj).__module__}.{type(obj).__qualname__}; "
                    f"expected {ACCEPTED}")


def tables(data: Any, table: str | None, default_name: str | None) -> list[tuple[str, Any]]:
    """``data`` as ``(table name, source)`` pairs.

    A single in-memory table is named ``table``, else ``default_name``; a path is named
    ``table`` or its file stem; a list of paths makes one table per file (named after the
    stems); a dict names its tables itself.
    """
    if isinstance(data, dict):
        if table is not None:
            raise ConfigError("table= names the table of a single input; a dict names its tables itself")
        if not data:
            raise ConfigError("the dict of tables is empty")
        return [(_name(k), source(v, f"table {k!r}")) for k, v in data.items()]
    if isinstance(data, (list, tuple)):
        if not data or not all(_is_path(p) for p in data):
            raise TypeError(f"a list must hold paths (one table per path); expected {ACCEPTED}")
        if table is not None and len(data) != 1:
            raise ConfigError(f"table= names the table of a single file, but {len(data)} files were given "
                              "(each file's table is named after its file stem)")
        names = [table] if table is not None else [stem(p) for p in data]
        seen: set[str] = set()
        for n in names:
            if n in seen:
                raise ConfigError(f"two files would both become table {n!r}; rename one of them")
            seen.add(n)
        return [(n, os.fspath(p)) for n, p in zip(names, data)]
    if _is_path(data):
        return [(table or stem(data), os.fspath(data))]
    name = table or default_name
    if name is None:
        raise ConfigError("name the table: give table= (or dataset= for a new dataset)")
    return [(name, source(data, f"table {name!r}"))]


def _name(key: Any) -> str:
    if not isinstance(key, str):
        raise TypeError(f"table names must be str, not {type(key).__name__} ({key!r})")
    return key


def first_path(data: Any) -> PathType | None:
    """The first Parquet path of ``data`` (the CLI names the dataset after it)."""
    if _is_path(data):
        return data
    if isinstance(data, (list, tuple)) and data and _is_path(data[0]):
        return data[0]
    return None


def forms(value: dict[str, dict[str, str]] | None) -> list[tuple[str, str, str]]:
    """``{attribute: {form category: column}}`` as ``(attribute, column, category)``."""
    if not value:
        return []
    out = []
    for attribute, by_category in value.items():
        if not isinstance(by_category, dict):
            raise TypeError(f"forms[{attribute!r}] must be a dict {{category: column}}, "
                            f"e.g. {{'ID': 'Category_ID', 'DESC': 'Category'}}")
        for category, column in by_category.items():
            out.append((attribute, column, category))
    return out


def names(value: str | list[str] | tuple[str, ...] | None, what: str) -> list[str]:
    """A column list given as one name or several."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if not all(isinstance(v, str) for v in value):
        raise TypeError(f"{what} must be column names (str)")
    return list(value)


def storage_options(options: Any) -> dict[str, str]:
    """``storage_options`` (a mapping of object_store configuration keys) as strings."""
    if options is None:
        return {}
    if not hasattr(options, "items"):
        raise ConfigError(f"storage_options must be a dict, not {type(options).__name__}")
    return {str(k): str(v) for k, v in options.items()}
