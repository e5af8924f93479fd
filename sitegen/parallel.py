"""Spread CPU-bound stages over all cores with forked worker processes.

Workers are forked after the model is built, so they inherit it (nothing is pickled but small results).
Work is split deterministically, into n runs of consecutive items; outputs do not depend on the split.
Consecutive items are alike (a build plans all Chinese pages, then all English ones): a worker's own
memo (e.g. the list items it rendered) then serves its pages and holds one language, not both.

Each worker freezes the objects it inherits out of the cyclic garbage collector (see :func:`gc.freeze`):
its collections then never walk the inherited model, which costs time and turns shared copy-on-write pages
into private copies. (Freezing in the parent around the pool instead defeats the parent's own full
collections after ``gc.unfreeze``: its garbage then piled up build after build.)
"""

from __future__ import annotations

import gc
import multiprocessing
import os
from typing import Callable, Iterator, Sequence

# Below this many items the cost of forking is larger than the gain.
MIN_PARALLEL = 64

_TASK: tuple | None = None


def workers() -> int:
    configured = os.environ.get("SITEGEN_WORKERS")
    if configured and configured.isdigit() and int(configured) > 0:
        return int(configured)
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def _worker_start() -> None:
    """In each worker: the inherited objects are frozen out of the collector, which stays on (a preview
    pauses it in the parent while it rebuilds)."""
    gc.freeze()
    gc.enable()


def _pool(n: int):
    """A pool of ``n`` forked workers (see the module's notes)."""
    return multiprocessing.get_context("fork").Pool(n, initializer=_worker_start)


def _run_share(index: int, conn) -> None:
    """In worker ``index``: compute its run of items and send ``(ok, results or exception)`` back."""
    _worker_start()
    func, items, count = _TASK
    try:
        outcome = (True, [func(item) for item in items[len(items) * index // count:len(items) * (index + 1) // count]])
    except BaseException as error:  # noqa: BLE001 - handed to the caller, which re-raises it
        outcome = (False, error)
    try:
        conn.send(outcome)
    except Exception as error:  # noqa: BLE001 - a result or exception that cannot be pickled
        conn.send((False, RuntimeError(f"a worker's outcome could not be sent back: {error}")))
    conn.close()


def _receive(worker, receiver) -> tuple:
    try:
        return receiver.recv()
    except EOFError:  # it ended without sending: killed, or out of memory
        worker.join()
        return False, RuntimeError(f"a worker process ended without its results (exit status {worker.exitcode})")


def map_items(func: Callable, items: Sequence, n: int | None = None) -> list:
    """``[func(x) for x in items]`` computed in forked workers; results in input order.

    Worker ``i`` of ``n`` computes the ``i``-th run of consecutive items: one process per run, so no
    worker can take two runs while another has none. Exceptions raised by ``func`` propagate to the
    caller (the first in input order).
    """
    global _TASK
    n = min(n or workers(), len(items))
    if n <= 1 or len(items) < MIN_PARALLEL or "fork" not in multiprocessing.get_all_start_methods():
        return [func(item) for item in items]
    context = multiprocessing.get_context("fork")
    _TASK = (func, items, n)
    started = []
    try:
        for index in range(n):
            receiver, sender = context.Pipe(duplex=False)
            worker = context.Process(target=_run_share, args=(index, sender), daemon=True)
            worker.start()
            sender.close()
            started.append((worker, receiver))
        outcomes = [_receive(worker, receiver) for worker, receiver in started]  # before joining: results fill pipes
    except BaseException:
        for worker, _ in started:
            worker.terminate()
        raise
    finally:
        _TASK = None
        for worker, receiver in started:
            receiver.close()
            worker.join()
    results = []
    for ok, value in outcomes:
        if not ok:
            raise value
        results.extend(value)
    return results


def _run_one(index: int):
    func, items, _ = _TASK
    return func(items[index])


def imap_items(func: Callable, items: Sequence, n: int | None = None, chunk: int = 32) -> Iterator:
    """``(func(x) for x in items)`` computed in forked workers, yielded in input order as they are done:
    the caller holds a few results at a time, not all of them (large results, e.g. whole pages)."""
    global _TASK
    n = min(n or workers(), len(items))
    if n <= 1 or len(items) < MIN_PARALLEL or "fork" not in multiprocessing.get_all_start_methods():
        yield from (func(item) for item in items)
        return
    _TASK = (func, items, n)
    try:
        with _pool(n) as pool:
            yield from pool.imap(_run_one, range(len(items)), chunksize=chunk)
    finally:
        _TASK = None
