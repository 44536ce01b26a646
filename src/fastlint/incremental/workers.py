"""Checking files in worker processes (``--jobs``), and how many CPUs this process may use.

Workers are forked once the run has read its files and run its project rules, so each starts
with the run's state (settings, texts, rules, whatever main has parsed) without pickling any
of it, and sends back one plain, picklable result per file. Main hands out the files one at a
time. Each worker starts on its own contiguous slice of the files, balanced by size:
neighbouring files import the same modules, so a slice needs less of the rest of the project
parsed as context than a scattered one would. A worker done with its slice takes files from
the far end of another's, so none waits at the end while another still works.

Workers also avoid doing each other's work. With each file, a worker gets the cross-module
answers the others computed since (a call chain through a shared helper, say), so it does not
parse that helper's module to compute them again. And a worker that parsed files as context
for its own checks gets those files to check next, instead of another worker parsing them
again. On prefect (865 files) the two cut what two workers spend beyond the CPU time of one
process from 5 s to under 2 s; most of the rest is modules both need for different questions.

A worker that dies (the native parser crashing, the OOM killer) loses only the file it was
checking, which gets the ``died`` answer; a new worker, forked from main again, takes its
place. Results come back by file, so the output does not depend on the number of workers or
on which finished first.

Forking needs ``os.fork`` (not on Windows); without it every run checks in-process.
"""

from __future__ import annotations

import heapq
import math
import multiprocessing
import os
import signal
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
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


class _Schedule:
    """Which item each worker takes next.

    First an item it has already done much of the work for (``preferred``: a file it parsed
    as another file's context), lowest index first; then its own contiguous slice, in order;
    once that is done, the last item of the slice with the most weight left (the far end from
    where that slice's worker is, so their neighbourhoods stay apart)."""

    def __init__(self, slices: list[range], weights: Sequence[int]) -> None:
        self._left = [deque(piece) for piece in slices]
        self._weight_left = [sum(weights[index] for index in piece) for piece in slices]
        self._slot_of = {index: slot for slot, piece in enumerate(slices) for index in piece}
        self._weights = weights
        self._taken: set[int] = set()

    @property
    def slots(self) -> int:
        return len(self._left)

    def next_for(self, slot: int, preferred: list[int] | None = None) -> int | None:
        """The next item for worker ``slot``; ``preferred`` is a heap of item indices (items
        taken already are dropped from it)."""
        while preferred:
            popped = heapq.heappop(preferred)
            if popped not in self._taken:
                return self._take(popped)
        index = self._first_free(self._left[slot], left=True)
        if index is not None:
            return self._take(index)
        for victim in sorted(range(self.slots), key=lambda other: -self._weight_left[other]):
            index = self._first_free(self._left[victim], left=False)
            if index is not None:
                return self._take(index)
        return None

    def _first_free(self, items: deque[int], left: bool) -> int | None:
        """The first (or last) item not taken yet, dropping the taken ones before it."""
        while items:
            index = items.popleft() if left else items.pop()
            if index not in self._taken:
                return index
        return None

    def _take(self, index: int) -> int:
        self._taken.add(index)
        self._weight_left[self._slot_of[index]] -= self._weights[index]
        return index

    def put_back(self, index: int) -> None:
        """An item handed out that no worker checked: the first its slice's worker takes."""
        self._taken.discard(index)
        slot = self._slot_of[index]
        self._left[slot].appendleft(index)
        self._weight_left[slot] += self._weights[index]

    def rest(self) -> list[int]:
        """Every item no worker has taken, emptying the schedule."""
        rest = sorted({index for left in self._left for index in left} - self._taken)
        for index in rest:
            self._take(index)
        for left in self._left:
            left.clear()
        return rest


@dataclass
class _Worker:
    slot: int
    process: Any  # multiprocessing's fork Process
    tasks: Connection  # main → worker: (item index, lessons), or None to stop
    results: Connection  # worker → main: one answer per task
    current: int | None = None  # the item it is checking
    lessons: list[Any] = field(default_factory=list)  # what the others shared since its task
    preferred: list[int] = field(default_factory=list)  # a heap: items it has parsed already


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
    tasks: Connection,
    results: Connection,
    items: Sequence[Any],
    work: Callable,
    failed: Callable,
    learn: Callable[[Any], None] | None,
    foreign: list[Connection],
) -> None:
    """A worker's life: take a task, learn what the other workers shared, answer the item;
    until main says stop (or is gone). Then leave without tearing the heap down. Ctrl-C
    reaches the whole process group: main handles it and stops the workers."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # Main's ends of every pipe, copied by the fork. Kept open here, they would hide main's
    # death from this worker (no end of file on its tasks: it would wait forever) and this
    # worker's death from the others.
    for connection in foreign:
        connection.close()
    while True:
        try:
            task = tasks.recv()
        except (EOFError, OSError):
            break
        if task is None:
            break
        index, lessons = task
        try:
            if learn is not None:
                for lesson in lessons:
                    learn(lesson)
        except Exception as error:  # a fastlint bug: this item is reported, the worker goes on
            answer = failed(items[index], describe(error))
        else:
            answer = _answer(work, failed, items[index])
        try:
            results.send(answer)
        except OSError:  # main is gone
            break
        except Exception as error:  # an answer that does not pickle: a fastlint bug
            results.send(failed(items[index], describe(error)))
    results.close()
    os._exit(0)


def map_in_workers(
    items: Sequence[T],
    weights: Sequence[int],
    jobs: int,
    work: Callable[[T], R],
    failed: Callable[[T, str], R],
    share: Callable[[R], Any] | None = None,
    learn: Callable[[Any], None] | None = None,
    affinity: Callable[[R], Iterable[int]] | None = None,
) -> Iterator[tuple[int, R]]:
    """``(index, work(item))`` for every item, computed in up to ``jobs`` forked workers.

    Main hands each worker one item at a time (see :class:`_Schedule`), so a worker that is
    done early helps the others. ``share(answer)``, when given, is what the other workers
    should learn from an answer: each gets it with its next item and passes it to ``learn``
    before checking that item (cross-module answers one worker computed, the other then
    need not compute, nor parse the modules behind them). ``affinity(answer)`` names the
    items the worker did part of the work for while computing it (files it parsed as
    context): it gets those next, rather than another worker doing that work again.

    An item whose ``work`` raised (the worker goes on), or whose worker died while on it,
    gets ``failed(item, why)`` instead; a new worker takes the dead one's place. Answers
    arrive as workers finish them, in no set order.
    """
    context = multiprocessing.get_context("fork")
    schedule = _Schedule(contiguous_slices(weights, jobs), weights)
    workers: list[_Worker] = []

    def start(slot: int) -> None:
        task_reader, task_writer = context.Pipe(duplex=False)
        result_reader, result_writer = context.Pipe(duplex=False)
        # Main's pipe ends, which the fork copies: the worker closes them (see _serve).
        foreign = [end for worker in workers for end in (worker.tasks, worker.results)]
        foreign += [task_writer, result_reader]
        process = context.Process(
            target=_serve,
            args=(task_reader, result_writer, items, work, failed, learn, foreign),
            daemon=True,
        )
        try:
            process.start()
        except OSError:  # the system refused a process (EAGAIN, ENOMEM): the others go on
            task_writer.close()
            result_reader.close()
            return
        finally:  # the worker holds the only result writer: its death is the reader's EOF
            task_reader.close()
            result_writer.close()
        worker = _Worker(slot, process, task_writer, result_reader)
        workers.append(worker)
        _dispatch(worker, schedule, workers)

    try:
        for slot in range(schedule.slots):
            start(slot)
        while workers:
            ready = wait([worker.results for worker in workers])
            for worker in [w for w in workers if w.results in ready]:
                try:
                    answer = worker.results.recv()
                except (EOFError, OSError):
                    _retire(worker, workers)
                    if worker.current is not None:  # it died on the item it was checking
                        yield (
                            worker.current,
                            failed(items[worker.current], _death(worker.process.exitcode)),
                        )
                        start(worker.slot)
                    continue
                index, worker.current = worker.current, None
                assert index is not None
                yield index, answer
                lesson = None if share is None else share(answer)
                if lesson:
                    _relay(lesson, worker, workers)
                for index in [] if affinity is None else affinity(answer):
                    heapq.heappush(worker.preferred, index)
                _dispatch(worker, schedule, workers)
        for index in schedule.rest():  # no worker could be started: main checks them
            yield index, _answer(work, failed, items[index])
    finally:  # Ctrl-C, or the caller stopped early: no worker outlives the run
        for worker in workers:
            worker.process.kill()
            worker.process.join()


def _relay(lesson: Any, sender: _Worker, workers: list[_Worker]) -> None:
    """Queue ``lesson`` for every worker but its sender: each gets it with its next item."""
    for other in workers:
        if other is not sender:
            other.lessons.append(lesson)


def _dispatch(worker: _Worker, schedule: _Schedule, workers: list[_Worker]) -> None:
    """Send ``worker`` its next item and the lessons waiting for it, or tell it to stop."""
    index = schedule.next_for(worker.slot, worker.preferred)
    try:
        if index is None:
            worker.tasks.send(None)
        else:
            worker.tasks.send((index, worker.lessons))
            worker.lessons, worker.current = [], index
            return
    except OSError:  # gone between two items: whoever comes next takes the item
        if index is not None:
            schedule.put_back(index)
    _retire(worker, workers)


def _retire(worker: _Worker, workers: list[_Worker]) -> None:
    if worker in workers:
        workers.remove(worker)
        worker.tasks.close()
        worker.results.close()
        worker.process.join()


def describe(error: Exception) -> str:
    return f"internal error {type(error).__name__}: {error}"


def _death(exitcode: int | None) -> str:
    if exitcode is not None and exitcode < 0:
        try:
            return f"the worker process was killed by {signal.Signals(-exitcode).name}"
        except ValueError:
            return f"the worker process was killed by signal {-exitcode}"
    return f"the worker process exited with code {exitcode}"
