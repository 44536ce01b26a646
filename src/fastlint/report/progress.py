"""A Rich progress bar on stderr for long runs (only when stderr is a terminal)."""

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

            self._progress = Progress(console=Console(stderr=True), transient=True)
            self._progress.start()
            self._task = self._progress.add_task("linting", total=total)
        self._progress.update(self._task, completed=done)
        if done >= total:
            self._progress.stop()
