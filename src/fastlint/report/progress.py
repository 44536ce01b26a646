"""A Rich progress bar on stderr for long runs (only when stderr is a terminal).

It redraws when told, never from a thread of its own: worker processes are forked while it is
on screen, and a fork must not copy a thread that may hold the terminal's lock.
"""

from __future__ import annotations

from typing import Any

_MIN_FILES = 200  # short runs finish before a bar would be worth drawing


class ProgressBar:
    def __init__(self) -> None:
        self._progress: Any = None
        self._task: Any = None

    def __call__(self, done: int, total: int) -> None:
        if total < _MIN_FILES:
            return
        if self._progress is None:
            from rich.console import Console
            from rich.progress import Progress

            self._progress = Progress(
                console=Console(stderr=True), transient=True, auto_refresh=False
            )
            self._progress.start()
            self._task = self._progress.add_task("checking", total=total)
        self._progress.update(self._task, completed=done, refresh=True)
        if done >= total:
            self._progress.stop()
