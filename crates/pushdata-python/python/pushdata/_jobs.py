"""Waiting for a native job, from plain code and from asyncio.

The wait releases the GIL for at most ``POLL_S`` at a time; in between, Python runs its
signal handlers (so Ctrl-C raises ``KeyboardInterrupt`` promptly) and the progress events
are handed to the caller's callback in the caller's thread. When the wait is interrupted
(``KeyboardInterrupt``, an asyncio cancellation, an exception of the callback), the job is
stopped, which for a push cancels its upload session and deletes a dataset it created, and
the wait goes on until that cleanup is done, then the interruption is raised again. A
second Ctrl-C during the cleanup stops waiting for it (the cleanup goes on in the
background).
"""

from __future__ import annotations

import asyncio
from typing import Any, Callable

from ._native import Job

POLL_S = 0.05

Deliver = Callable[[dict[str, Any]], Any] | None


class _Delivery:
    """Hands a job's progress events to the caller's callback, until it raises."""

    def __init__(self, job: Job, deliver: Deliver) -> None:
        self.job = job
        self.deliver = deliver
        self.broken = False

    def __call__(self) -> None:
        if self.deliver is None or self.broken:
            return
        try:
            for event in self.job.events():
                self.deliver(event)
        except BaseException:
            self.broken = True
            raise

    def after_stop(self) -> None:
        """The events of the cleanup (session cancelled, dataset deleted), while an
        interruption is on its way: an error of the callback now is dropped."""
        try:
            self()
        except Exception:
            pass


def wait(job: Job, deliver: Deliver = None) -> Any:
    """Wait for ``job`` and return its result (or raise its error)."""
    delivery = _Delivery(job, deliver)
    try:
        while not job.wait(POLL_S):
            delivery()
        delivery()
    except BaseException:
        job.stop()
        while not job.wait(POLL_S):
            delivery.after_stop()
        delivery.after_stop()
        raise
    return job.result()


async def wait_async(job: Job, deliver: Deliver = None) -> Any:
    """:func:`wait` for asyncio: the event loop keeps running while the job does."""
    loop = asyncio.get_running_loop()
    delivery = _Delivery(job, deliver)
    try:
        while not await loop.run_in_executor(None, job.wait, POLL_S):
            delivery()
        delivery()
    except BaseException:
        job.stop()
        # Shielded from a second cancellation: the cleanup is waited for.
        while not job.wait(0):
            try:
                await asyncio.shield(loop.run_in_executor(None, job.wait, POLL_S))
            except asyncio.CancelledError:
                continue
            delivery.after_stop()
        delivery.after_stop()
        raise
    return job.result()
