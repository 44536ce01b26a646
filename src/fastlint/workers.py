"""Checking files in worker processes (``--jobs``), and how many CPUs this process may use.

Workers are forked once the run has read its files and run its project rules, so each starts
with the run's state (settings, texts, rules, whatever main has parsed) without pickling any
of it, and sends back one plain, picklable result per file. Each worker takes a contiguous
slice of the files, balanced by size: neighbouring files import the same modules, so a slice
needs less of the rest of the project parsed as context than a scattered one would.

A worker that dies (the native parser crashing, the OOM killer) loses only the file it was
checking, which gets the ``died`` answer; a new worker, forked from main again, takes the rest
of its slice. Results come back by file, so the output does not depend on the number of
workers or on which finished first.

Forking needs ``os.fork`` (not on Windows); without it every run checks in-process.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import signal
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any, Callable, TypeVar

T = TypeVar("T")
R = TypeVar("R")

# A worker is worth forking for this much Python source: below it, the context modules both
# workers would parse cost more than the parallelism saves (pre-commit runs stay in-process).
BYTES_PER_WORKER = 512 * 1024


def can_fork() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()


# ---------------------------------------------------------------------------- CPUs


def available_cpus(cgroup_root: Path = Path("/sys/fs/cgroup")) -> int:
    """The CPUs this process may run on: its affinity mask, capped by a cgroup CPU quota
    (a container started with ``--cpus 2`` on a 64-core host gets 2). ``os.cpu_count()``
    counts the host's CPUs, which is the very bug FL603 reports in gunicorn configs."""
    try:
        count = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # macOS, Windows
        count = os.cpu_count() or 1
    quota = cgroup_cpu_quota(cgroup_root)
    if quota is not None:
        count = min(count, max(1, math.ceil(quota)))
    return max(1, count)


def cgroup_cpu_quota(root: Path) -> float | None:
    """CPUs allowed by the cgroup quota (v2 ``cpu.max``, else v1 ``cpu.cfs_quota_us``), or
    None when there is no quota or it cannot be read."""
    try:
        fields = (root / "cpu.max").read_text().split()
        if len(fields) == 2 and fields[0] != "max":
            return int(fields[0]) / int(fields[1])
        return None
    except (OSError, ValueError, ZeroDivisionError):
        pass
    try:
        quota = int((root / "cpu" / "cpu.cfs_quota_us").read_text())
        period = int((root / "cpu" / "cpu.cfs_period_us").read_text())
    except (OSError, ValueError):
        return None
    return quota / period if quota > 0 and period > 0 else None


def default_jobs(total_bytes: int) -> int:
    """Workers for a run checking ``total_bytes`` of Python when ``--jobs`` is not given."""
    if not can_fork():
        return 1
    return max(1, min(available_cpus(), total_bytes // BYTES_PER_WORKER))


# ---------------------------------------------------------------------------- slices


def contiguous_slices(weights: Sequence[int], count: int) -> list[range]:
    """``count`` contiguous, non-empty index ranges whose weights are about equal."""
    count = max(1, min(count, len(weights)))
    total = sum(weights) or 1
    slices: list[range] = []
    start, running = 0, 0
    for index, weight in enumerate(weights):
        running += weight
        remaining_slices = count - len(slices) - 1
        remaining_items = len(weights) - index - 1
        boundary = total * (len(slices) + 1) / count
        if remaining_slices and (running >= boundary or remaining_items == remaining_slices):
            slices.append(range(start, index + 1))
            start = index + 1
    slices.append(range(start, len(weights)))
    return [piece for piece in slices if len(piece)]


# ---------------------------------------------------------------------------- workers


@dataclass
class _Worker:
    process: Any  # multiprocessing's fork Process
    reader: Connection
    pending: list[int]  # item indices not answered yet, in the order the worker takes them


def _answer(work: Callable[[T], R], failed: Callable[[T, str], R], item: T) -> R:
    """``work(item)``, or ``failed(item, why)`` when it raises: one item's failure is
    reported, not fatal. The same in a worker, in main, and in a run without workers."""
    try:
        return work(item)
    except Exception as error:
        return failed(item, describe(error))


def map_in_process(
    items: Sequence[T], work: Callable[[T], R], failed: Callable[[T, str], R]
) -> Iterator[tuple[int, R]]:
    """What :func:`map_in_workers` answers, computed in this process, in order."""
    for index, item in enumerate(items):
        yield index, _answer(work, failed, item)


def _serve(
    writer: Connection, items: Sequence[Any], indices: list[int], work: Callable, failed: Callable
) -> None:
    """A worker's life: answer each item in turn, then leave without tearing the heap down.
    Ctrl-C reaches the whole process group: main handles it and stops the workers."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for index in indices:
        answer = _answer(work, failed, items[index])
        try:
            writer.send(answer)
        except Exception as error:  # an answer that does not pickle: a fastlint bug
            writer.send(failed(items[index], describe(error)))
    writer.close()
    os._exit(0)


def map_in_workers(
    items: Sequence[T],
    weights: Sequence[int],
    jobs: int,
    work: Callable[[T], R],
    failed: Callable[[T, str], R],
) -> Iterator[tuple[int, R]]:
    """``(index, work(item))`` for every item, computed in up to ``jobs`` forked workers.

    An item whose ``work`` raised (the worker goes on), or whose worker died while on it,
    gets ``failed(item, why)`` instead. Answers arrive as workers finish them, in no set order.
    """
    context = multiprocessing.get_context("fork")
    workers: list[_Worker] = []
    unforked: list[int] = []  # the system refused a process (EAGAIN, ENOMEM): main does these

    def start(indices: list[int]) -> None:
        reader, writer = context.Pipe(duplex=False)
        process = context.Process(
            target=_serve, args=(writer, items, indices, work, failed), daemon=True
        )
        try:
            process.start()
        except OSError:
            reader.close()
            unforked.extend(indices)
            return
        finally:
            writer.close()  # the worker holds the only writer: its death is the reader's EOF
        workers.append(_Worker(process, reader, list(indices)))

    try:
        for piece in contiguous_slices(weights, jobs):
            start(list(piece))
        yield from _collect(workers, items, start, failed)
        for index in sorted(unforked):
            yield index, _answer(work, failed, items[index])
    finally:  # Ctrl-C, or the caller stopped early: no worker outlives the run
        for worker in workers:
            worker.process.kill()
            worker.process.join()


def _collect(
    workers: list[_Worker],
    items: Sequence[T],
    start: Callable[[list[int]], None],
    failed: Callable[[T, str], R],
) -> Iterator[tuple[int, R]]:
    while workers:
        ready = wait([worker.reader for worker in workers])
        for worker in [w for w in workers if w.reader in ready]:
            try:
                answer = worker.reader.recv()
            except (EOFError, OSError):
                workers.remove(worker)
                worker.reader.close()
                worker.process.join()
                if worker.pending:  # it died on its first pending item
                    culprit, *rest = worker.pending
                    yield culprit, failed(items[culprit], _death(worker.process.exitcode))
                    if rest:
                        start(rest)
                continue
            yield worker.pending.pop(0), answer


def describe(error: Exception) -> str:
    return f"internal error {type(error).__name__}: {error}"


def _death(exitcode: int | None) -> str:
    if exitcode is not None and exitcode < 0:
        try:
            return f"the worker process was killed by {signal.Signals(-exitcode).name}"
        except ValueError:
            return f"the worker process was killed by signal {-exitcode}"
    return f"the worker process exited with code {exitcode}"
