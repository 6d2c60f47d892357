"""``pushdata.serve``: the reference server, in process."""

from __future__ import annotations

import os
from typing import Union

from . import _native

PathType = Union[str, "os.PathLike[str]"]


class Server:
    """A running reference server (the Push Data API and the Veracity emulation), made by
    :func:`serve`. Its data stays in the data directory after it stops."""

    def __init__(self, native: _native.Server) -> None:
        self._native = native

    @property
    def url(self) -> str:
        """The base URL to :func:`pushdata.connect` to."""
        return self._native.url

    @property
    def data_dir(self) -> str:
        """The data directory (absolute)."""
        return os.fspath(self._native.data_dir)

    @property
    def running(self) -> bool:
        """Whether the server is running."""
        return self._native.running

    def stop(self) -> None:
        """Stop the server and release the data directory (stopping twice does nothing)."""
        self._native.stop()

    def __enter__(self) -> "Server":
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return repr(self._native)


def serve(data_dir: PathType = ".pushdata", *, addr: str = "127.0.0.1:0",
          user: str | None = None, password: str | None = None) -> Server:
    """Start the reference server in this process, storing into ``data_dir`` (created if
    missing), on ``addr`` (a free loopback port by default), and return it; use it as a
    context manager to stop it on exit.

    It knows one project, ``MicroStrategy Tutorial``, and by default one user,
    ``administrator`` with an empty password (``user`` / ``password`` replace it). One
    server at a time may use a data directory (:class:`~pushdata.ServerError` otherwise).
    """
    return Server(_native.Server(os.fspath(data_dir), addr, user, password))
