"""sitegen.parallel: forked workers give the serial results, in input order."""

from __future__ import annotations

import os

import pytest

from sitegen import parallel


def square_with_pid(x: int) -> tuple[int, int]:
    return x * x, os.getpid()


@pytest.mark.parametrize("spread", [parallel.map_items, lambda f, items, n: list(parallel.imap_items(f, items, n))])
def test_results_come_back_in_input_order_from_several_workers(spread):
    items = list(range(3 * parallel.MIN_PARALLEL))
    out = spread(square_with_pid, items, 2)
    assert [value for value, _ in out] == [x * x for x in items]
    assert os.getpid() not in {pid for _, pid in out}  # computed in the workers, not in this process


def test_imap_yields_before_every_item_is_done():
    items = list(range(4 * parallel.MIN_PARALLEL))
    stream = parallel.imap_items(square_with_pid, items, 2, chunk=8)
    assert next(stream)[0] == 0  # the first result, while the rest may still be computed
    assert [value for value, _ in stream] == [x * x for x in items[1:]]


def fail_on_seven(x: int) -> int:
    if x == 7:
        raise ValueError("seven")
    return x


@pytest.mark.parametrize("spread", [parallel.map_items, lambda f, items, n: list(parallel.imap_items(f, items, n))])
def test_a_worker_error_reaches_the_caller(spread):
    with pytest.raises(ValueError, match="seven"):
        spread(fail_on_seven, list(range(2 * parallel.MIN_PARALLEL)), 2)


def collector_state(_x: int) -> tuple[bool, int]:
    import gc

    return gc.isenabled(), gc.get_freeze_count()


@pytest.mark.parametrize("spread", [parallel.map_items, lambda f, items, n: list(parallel.imap_items(f, items, n))])
def test_workers_freeze_what_they_inherit_and_collect_their_own_garbage(spread):
    import gc

    gc.disable()  # as during a preview's rebuild
    try:
        out = spread(collector_state, list(range(2 * parallel.MIN_PARALLEL)), 2)
    finally:
        gc.enable()
    assert all(enabled for enabled, _ in out)  # the workers' collector runs (they may render the whole site)
    assert all(frozen > 1000 for _, frozen in out)  # and never walks the objects inherited from this process
    assert gc.get_freeze_count() == 0  # which stay under this process's own collector


def test_each_worker_takes_a_run_of_consecutive_items():
    # A build plans all Chinese pages, then all English ones: a worker's memo then holds one language.
    items = list(range(3 * parallel.MIN_PARALLEL + 1))
    pids = [pid for _, pid in parallel.map_items(square_with_pid, items, 2)]
    first, second = pids[0], pids[-1]
    assert first != second and pids == [first] * (len(items) // 2) + [second] * (len(items) - len(items) // 2)


def exit_on_last(x: int) -> int:
    if x == 3 * parallel.MIN_PARALLEL - 1:
        os._exit(3)  # as a worker killed by the kernel for memory
    return x


def test_a_worker_that_dies_is_an_error_not_a_hang():
    with pytest.raises(RuntimeError, match="exit status 3"):
        parallel.map_items(exit_on_last, list(range(3 * parallel.MIN_PARALLEL)), 2)
