"""Where chunks of comparisons run: in this process, in a local process pool, or on a Dask cluster.

All three take the same chunks and give back the same :class:`~canonjar.batch.work.Compared` values; the
runner only sees :meth:`ChunkExecutor.submit` and :meth:`ChunkExecutor.completed`.
"""

from __future__ import annotations

import concurrent.futures as cf
import importlib
import multiprocessing
import multiprocessing.context
import signal
import urllib.parse
from collections.abc import Iterator
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Protocol

from ..errors import UsageError
from ..limits import Limits
from .work import Compared, CompareTask, compare_chunk, failed

__all__ = ["ChunkExecutor", "DaskExecutor", "InlineExecutor", "PoolExecutor", "make_executor"]


class ChunkExecutor(Protocol):
    """Runs ``compare_chunk`` calls; ``completed`` yields finished chunks, in any order."""

    workers: int

    def submit(self, chunk: list[CompareTask]) -> None: ...

    def pending(self) -> int: ...

    def completed(self, block: bool = True) -> Iterator[list[Compared]]:
        """Yield every finished chunk; with ``block``, first wait until at least one has finished."""
        ...

    def close(self, abort: bool = False) -> None: ...


class InlineExecutor:
    """Compares in the calling process (``--jobs 1``): simplest, and what debugging wants."""

    workers = 1

    def __init__(self, names: tuple[str, ...], limits: Limits) -> None:
        self.names = names
        self.limits = limits
        self._done: list[list[Compared]] = []

    def submit(self, chunk: list[CompareTask]) -> None:
        self._done.append(compare_chunk(chunk, self.names, self.limits))

    def pending(self) -> int:
        return len(self._done)

    def completed(self, block: bool = True) -> Iterator[list[Compared]]:
        done, self._done = self._done, []
        yield from done

    def close(self, abort: bool = False) -> None:
        self._done = []


def _context() -> multiprocessing.context.BaseContext:
    """A fork server that has imported canonjar once: workers start without importing it again, and are never
    forked from this (multi-threaded) process. Where there is no fork server, spawned workers."""
    if "forkserver" in multiprocessing.get_all_start_methods():
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(["canonjar.batch.work"])
        return ctx
    return multiprocessing.get_context("spawn")


def _worker_init() -> None:
    """Workers ignore Ctrl-C: the parent handles it, cancels the pool and keeps every finished row."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


class PoolExecutor:
    """A local process pool (workers from a fork server, so no thread of the parent is forked).

    A worker that dies (killed, out of memory) costs the pairs of its chunk an ``error`` row each, and the
    pool is started again; it never ends the batch.
    """

    def __init__(self, workers: int, names: tuple[str, ...], limits: Limits) -> None:
        self.workers = workers
        self.names = names
        self.limits = limits
        self.pool = self._new_pool()
        self._futures: dict[cf.Future[list[Compared]], list[CompareTask]] = {}

    def _new_pool(self) -> cf.ProcessPoolExecutor:
        return cf.ProcessPoolExecutor(max_workers=self.workers, mp_context=_context(), initializer=_worker_init)

    def submit(self, chunk: list[CompareTask]) -> None:
        try:
            fut = self.pool.submit(compare_chunk, chunk, self.names, self.limits)
        except BrokenProcessPool:
            self.pool.shutdown(wait=False, cancel_futures=True)
            self.pool = self._new_pool()
            fut = self.pool.submit(compare_chunk, chunk, self.names, self.limits)
        self._futures[fut] = chunk

    def pending(self) -> int:
        return len(self._futures)

    def completed(self, block: bool = True) -> Iterator[list[Compared]]:
        if not self._futures:
            return
        if block:
            done, _ = cf.wait(self._futures, return_when=cf.FIRST_COMPLETED)
        else:
            done = {f for f in self._futures if f.done()}
        for fut in done:
            chunk = self._futures.pop(fut)
            try:
                yield fut.result()
            except (BrokenProcessPool, cf.CancelledError, OSError) as exc:
                yield [failed(t, self.names, f"worker failed: {type(exc).__name__}: {exc}") for t in chunk]

    def close(self, abort: bool = False) -> None:
        for fut in self._futures:
            fut.cancel()
        if abort:  # Ctrl-C: do not wait for running comparisons, their rows are not written anyway
            for proc in list(getattr(self.pool, "_processes", {}).values()):
                proc.terminate()
        self.pool.shutdown(wait=not abort, cancel_futures=True)


class DaskExecutor:
    """The same chunks on a Dask distributed cluster (``--executor dask://HOST:PORT``).

    The workers must see the cache and rebuild paths (a shared file system, or a cluster on this machine).
    """

    def __init__(self, address: str, names: tuple[str, ...], limits: Limits) -> None:
        try:
            distributed: Any = importlib.import_module("distributed")
        except ImportError:
            raise UsageError("--executor dask://... needs Dask: pip install 'canonjar[dask]'") from None
        self.names = names
        self.limits = limits
        try:
            self.client: Any = distributed.Client(address, timeout=30)
        except (OSError, TimeoutError) as exc:
            raise UsageError(f"--executor: cannot connect to the Dask scheduler at {address}: {exc}") from None
        self.workers = max(1, sum(int(w.get("nthreads", 1))
                                  for w in self.client.scheduler_info().get("workers", {}).values()))
        self._futures: list[tuple[Any, list[CompareTask]]] = []

    def submit(self, chunk: list[CompareTask]) -> None:
        self._futures.append((self.client.submit(compare_chunk, chunk, self.names, self.limits, pure=False), chunk))

    def pending(self) -> int:
        return len(self._futures)

    def completed(self, block: bool = True) -> Iterator[list[Compared]]:
        if not self._futures:
            return
        if block:
            distributed: Any = importlib.import_module("distributed")
            distributed.wait([f for f, _ in self._futures], return_when="FIRST_COMPLETED")
        done_keys = {f.key for f, _ in self._futures if f.done()}
        done = [(f, c) for f, c in self._futures if f.key in done_keys]
        self._futures = [(f, c) for f, c in self._futures if f.key not in done_keys]
        for fut, chunk in done:
            try:
                value: list[Compared] = fut.result()
            except Exception as exc:  # a lost worker or a cancelled task: error rows, the batch goes on
                value = [failed(t, self.names, f"dask task failed: {type(exc).__name__}: {exc}") for t in chunk]
            yield value

    def close(self, abort: bool = False) -> None:
        for fut, _ in self._futures:
            fut.cancel()
        self._futures = []
        self.client.close()


def make_executor(spec: str | None, jobs: int, names: tuple[str, ...], limits: Limits) -> ChunkExecutor:
    """``None``/``local`` -> process pool of ``jobs`` (inline when 1); ``dask://HOST:PORT`` -> Dask."""
    if spec in (None, "", "local"):
        if jobs == 1:
            return InlineExecutor(names, limits)
        return PoolExecutor(jobs, names, limits)
    assert spec is not None
    parsed = urllib.parse.urlsplit(spec)
    try:
        port = parsed.port
    except ValueError:
        port = None
    if parsed.scheme != "dask" or not parsed.hostname or port is None:
        raise UsageError(f"--executor {spec!r}: expected 'local' or dask://HOST:PORT")
    return DaskExecutor(f"tcp://{parsed.hostname}:{port}", names, limits)
