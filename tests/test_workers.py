"""Worker processes: how many CPUs a process may use, and how files are sliced among workers.

The behaviour that matters end to end (identical findings for any ``--jobs``, a dying worker
costing one file) is tested in test_determinism.py and test_robustness.py.
"""

from __future__ import annotations

import heapq
import os
import time
from pathlib import Path

import pytest

from fastlint import incremental
from fastlint.config import default_settings
from fastlint.incremental import workers
from fastlint.incremental.workers import available_cpus, cgroup_cpu_quota, contiguous_slices

needs_fork = pytest.mark.skipif(not workers.can_fork(), reason="worker processes need os.fork")


# ---------------------------------------------------------------------------- CPUs


def cgroup_v2(tmp_path: Path, cpu_max: str) -> Path:
    (tmp_path / "cpu.max").write_text(cpu_max + "\n")
    return tmp_path


def cgroup_v1(tmp_path: Path, quota: int, period: int) -> Path:
    (tmp_path / "cpu").mkdir()
    (tmp_path / "cpu" / "cpu.cfs_quota_us").write_text(f"{quota}\n")
    (tmp_path / "cpu" / "cpu.cfs_period_us").write_text(f"{period}\n")
    return tmp_path


@pytest.mark.parametrize(
    ("cpu_max", "expected"),
    [("200000 100000", 2.0), ("150000 100000", 1.5), ("max 100000", None), ("garbage", None)],
)
def test_cgroup_v2_quota(tmp_path: Path, cpu_max: str, expected: float | None) -> None:
    assert cgroup_cpu_quota(cgroup_v2(tmp_path, cpu_max)) == expected


@pytest.mark.parametrize(
    ("quota", "period", "expected"), [(300000, 100000, 3.0), (-1, 100000, None)]
)
def test_cgroup_v1_quota(tmp_path: Path, quota: int, period: int, expected: float | None) -> None:
    assert cgroup_cpu_quota(cgroup_v1(tmp_path, quota, period)) == expected


def test_no_cgroup_files_means_no_quota(tmp_path: Path) -> None:
    assert cgroup_cpu_quota(tmp_path) is None


def fake_affinity(monkeypatch: pytest.MonkeyPatch, cpus: int) -> None:
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(cpus)), raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 64)  # the host: never the answer


@pytest.mark.parametrize(
    ("affinity", "cpu_max", "expected"),
    [
        (8, "200000 100000", 2),  # docker run --cpus 2 on an 8-CPU slice of a 64-CPU host
        (8, "150000 100000", 2),  # 1.5 CPUs: two processes can use them
        (8, "50000 100000", 1),  # half a CPU: never zero
        (4, "max 100000", 4),  # no quota: the affinity mask
        (2, "800000 100000", 2),  # a quota above the mask does not add CPUs
    ],
)
def test_available_cpus(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, affinity: int, cpu_max: str, expected: int
) -> None:
    fake_affinity(monkeypatch, affinity)
    assert available_cpus(cgroup_v2(tmp_path, cpu_max)) == expected


def test_default_jobs_keep_small_runs_in_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(workers, "available_cpus", lambda: 8)
    assert workers.default_jobs(10_000) == 1  # pre-commit's few files
    assert workers.default_jobs(3 * workers.BYTES_PER_WORKER) == (3 if workers.can_fork() else 1)
    assert workers.default_jobs(100 * workers.BYTES_PER_WORKER) == (8 if workers.can_fork() else 1)


# ---------------------------------------------------------------------------- slices


@pytest.mark.parametrize(
    ("weights", "count"),
    [
        ([1] * 10, 2),
        ([1] * 10, 3),
        ([100, 1, 1, 1, 1], 2),
        ([1, 1, 1, 1, 100], 2),
        ([5], 4),
        ([3, 3], 8),
        ([0, 0, 0], 2),
        (list(range(50)), 7),
    ],
)
def test_slices_cover_every_item_once_in_order(weights: list[int], count: int) -> None:
    slices = contiguous_slices(weights, count)
    assert [index for piece in slices for index in piece] == list(range(len(weights)))
    assert all(len(piece) for piece in slices)
    assert len(slices) == min(count, len(weights))


def test_slices_balance_by_weight() -> None:
    slices = contiguous_slices([10, 10, 10, 10, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1], 2)
    loads = [
        sum([10, 10, 10, 10, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1][i] for i in piece)
        for piece in slices
    ]
    assert max(loads) - min(loads) <= 10, loads


def test_a_worker_done_early_takes_the_far_end_of_the_fullest_slice() -> None:
    schedule = workers._Schedule([range(0, 2), range(2, 5), range(5, 10)], [1] * 10)
    taken = [schedule.next_for(0), schedule.next_for(0)]
    assert taken == [0, 1]  # its own slice, in order
    assert schedule.next_for(0) == 9  # then the end of the slice with the most left
    assert schedule.next_for(1) == 2  # whose owners go on from their starts
    assert schedule.next_for(2) == 5
    rest = []
    while (index := schedule.next_for(0)) is not None:
        rest.append(index)
    assert sorted([*taken, 9, 2, 5, *rest]) == list(range(10))
    assert schedule.next_for(1) is None and schedule.next_for(2) is None


def test_an_item_put_back_is_taken_next() -> None:
    schedule = workers._Schedule([range(0, 3), range(3, 6)], [1] * 6)
    assert schedule.next_for(1) == 3
    schedule.put_back(3)
    assert schedule.next_for(1) == 3
    assert schedule.rest() == [0, 1, 2, 4, 5]
    assert schedule.next_for(0) is None


def test_a_worker_takes_what_it_has_worked_on_first() -> None:
    schedule = workers._Schedule([range(0, 4), range(4, 8)], [1] * 8)
    assert schedule.next_for(1) == 4
    preferred = [6, 1, 4]  # a heap; 4 is taken already
    heapq.heapify(preferred)
    assert schedule.next_for(0, preferred) == 1
    assert schedule.next_for(0, preferred) == 6
    assert schedule.next_for(0, preferred) == 0  # then its own slice, skipping 1
    assert schedule.next_for(1) == 5  # and the other worker skips 6
    assert schedule.next_for(1) == 7
    assert [schedule.next_for(0), schedule.next_for(0), schedule.next_for(0)] == [2, 3, None]


# ---------------------------------------------------------------------------- runs


LEARNED: list[int] = []  # in each worker: the lessons it was given, in order


def _learn(lesson: int) -> None:
    LEARNED.append(lesson)


def _slow_item(item: int) -> tuple[int, int, list[int]]:
    time.sleep(0.02)
    return os.getpid(), item, list(LEARNED)


def _failed(item: int, why: str) -> tuple[int, int, list[int]]:
    raise AssertionError(why)


@needs_fork
def test_a_worker_gets_the_items_its_answers_name() -> None:
    # Item 0's answer says its worker has done part of item 15 (the last item the other
    # worker would reach): that worker takes it next.
    items = list(range(16))
    answers = dict(
        workers.map_in_workers(
            items,
            [1] * 16,
            2,
            _slow_item,
            _failed,
            affinity=lambda answer: [15] if answer[1] == 0 else [],
        )
    )
    assert sorted(answers) == items
    assert answers[15][0] == answers[0][0] != answers[8][0]


ORPHANS = """
import os, signal, sys, time
from fastlint.incremental import workers

def work(item):
    time.sleep(0.05)
    return os.getpid()

answered = set()
for index, pid in workers.map_in_workers(list(range(400)), [1] * 400, 2, work, None):
    print(pid, flush=True)
    answered.add(pid)
    # Once both workers have answered (on a loaded machine the second may start late):
    if index >= 8 and len(answered) == 2:
        os.kill(os.getpid(), signal.SIGKILL)  # main dies, as under ``kill -9`` or the OOM killer
"""


@needs_fork
def test_workers_do_not_outlive_a_killed_main(tmp_path: Path) -> None:
    import subprocess
    import sys

    script = tmp_path / "orphans.py"
    script.write_text(ORPHANS)
    printed = tmp_path / "pids.txt"
    with printed.open("w") as out:  # a file, not a pipe: orphans holding it could not hang us
        done = subprocess.run([sys.executable, str(script)], stdout=out, timeout=60)
    assert done.returncode == -9
    pids = {int(line) for line in printed.read_text().split()}
    assert len(pids) == 2
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(_alive(pid) for pid in pids):
        time.sleep(0.05)
    assert not any(_alive(pid) for pid in pids)


def _alive(pid: int) -> bool:
    """Whether the process is running (a zombie, reaped by init, counts as gone)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@needs_fork
def test_workers_learn_what_the_others_shared() -> None:
    items = list(range(16))
    answers = dict(
        workers.map_in_workers(
            items, [1] * 16, 2, _slow_item, _failed, share=lambda answer: answer[1], learn=_learn
        )
    )
    assert sorted(answers) == items
    worker_of = {item: pid for item, (pid, _, _) in answers.items()}
    assert len(set(worker_of.values())) == 2
    for pid, _, learned in answers.values():
        assert len(learned) == len(set(learned))  # each lesson once
        assert all(worker_of[lesson] != pid for lesson in learned)  # and from another worker
    assert any(learned for _, _, learned in answers.values())
    assert LEARNED == []  # main learns nothing: it has every answer


# ---------------------------------------------------------------------------- runs


@pytest.mark.parametrize("jobs", [1, pytest.param(2, marks=needs_fork)])
def test_the_checking_process_reads_the_suppressions(tmp_path: Path, jobs: int) -> None:
    # The worker that found something in a file reads its markers too (main does not wait
    # for the last worker to start on them); they suppress the same findings.
    for name in ("a.py", "b.py"):
        (tmp_path / name).write_text(
            "import time\n\nasync def f():\n    time.sleep(1)  # noqa: FL101\n    time.sleep(2)\n"
        )
    result = incremental.lint(
        [tmp_path], default_settings(), cache_dir=None, cwd=tmp_path, jobs=jobs
    )
    assert [(d.path, d.line) for d in result.diagnostics] == [("a.py", 5), ("b.py", 5)]
    assert set(result.cache_report.suppressions) == {"a.py", "b.py"}
    assert result.cache_report.suppressions["a.py"].suppresses("FL101", 4)


@needs_fork
def test_more_jobs_than_files(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text("import time\n\nasync def f():\n    time.sleep(1)\n")
    one = incremental.lint([tmp_path], default_settings(), cache_dir=None, cwd=tmp_path, jobs=1)
    many = incremental.lint([tmp_path], default_settings(), cache_dir=None, cwd=tmp_path, jobs=16)
    assert [d.code for d in one.diagnostics] == ["FL101"]
    assert many.diagnostics == one.diagnostics


@pytest.mark.parametrize("jobs", [1, pytest.param(2, marks=needs_fork)])
def test_a_check_that_raises_costs_one_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, jobs: int
) -> None:
    # An exception outside every rule's guard (here: in the parse step) is reported for the
    # file it happened on; the worker goes on with the next file.
    from fastlint.python.module import PythonModule

    for name in ("a.py", "b.py", "c.py", "d.py"):
        (tmp_path / name).write_text("import time\n\nasync def f():\n    time.sleep(1)\n")
    real_load = PythonModule.load

    def load(module: PythonModule) -> Exception | None:
        if module.path == "b.py":
            raise KeyError("parser bug")
        return real_load(module)

    monkeypatch.setattr(PythonModule, "load", load)
    result = incremental.lint(
        [tmp_path], default_settings(), cache_dir=None, cwd=tmp_path, jobs=jobs
    )
    by_file = {(d.path, d.code) for d in result.diagnostics}
    assert by_file == {("a.py", "FL101"), ("b.py", "FL000"), ("c.py", "FL101"), ("d.py", "FL101")}
    (message,) = [d.message for d in result.diagnostics if d.path == "b.py"]
    assert "KeyError" in message and "parser bug" in message


def test_progress_bar_starts_no_thread() -> None:
    # Workers are forked while the bar is on screen: a refresh thread holding the terminal's
    # lock at that moment would be copied into every worker, lock held.
    import threading

    from fastlint.report.progress import ProgressBar

    before = threading.active_count()
    bar = ProgressBar()
    for done in range(1, 251):
        bar(done, 300)
        assert threading.active_count() == before
    bar(300, 300)


@needs_fork
def test_a_refused_fork_checks_in_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A process limit (EAGAIN) or no memory for a new process: the run still checks every file.
    import multiprocessing.process

    for name in ("a.py", "b.py", "c.py"):
        (tmp_path / name).write_text("import time\n\nasync def f():\n    time.sleep(1)\n")
    expected = incremental.lint(
        [tmp_path], default_settings(), cache_dir=None, cwd=tmp_path, jobs=1
    )

    def refuse(self: object) -> None:
        raise BlockingIOError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(multiprocessing.process.BaseProcess, "start", refuse)
    refused = incremental.lint([tmp_path], default_settings(), cache_dir=None, cwd=tmp_path, jobs=2)
    assert refused.diagnostics == expected.diagnostics
    assert len(expected.diagnostics) == 3


@needs_fork
def test_an_answer_that_does_not_pickle_costs_one_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fastlint import engine

    for name in ("a.py", "b.py", "c.py", "d.py"):
        (tmp_path / name).write_text("import time\n\nasync def f():\n    time.sleep(1)\n")
    real_call = engine.PythonChecks.__call__

    def call(self: engine.PythonChecks, module: object) -> engine.Checked:
        checked = real_call(self, module)
        if module.path == "c.py":  # type: ignore[attr-defined]
            checked.diagnostics.append(lambda: None)  # type: ignore[arg-type]
        return checked

    monkeypatch.setattr(engine.PythonChecks, "__call__", call)
    result = incremental.lint([tmp_path], default_settings(), cache_dir=None, cwd=tmp_path, jobs=2)
    by_file = {(d.path, d.code) for d in result.diagnostics}
    assert by_file == {("a.py", "FL101"), ("b.py", "FL101"), ("c.py", "FL000"), ("d.py", "FL101")}
