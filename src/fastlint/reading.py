"""Reading a source file, or saying in one FL000 reason why it cannot be read.

Light to import: the result cache hashes files through :func:`read_bytes` too, so a file the run
would skip unread (a named pipe, which blocks forever; a file over max-file-size) is skipped
there as well, and its key is the reason the run will report.
"""

from __future__ import annotations

import errno
import stat
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from fastlint.diagnostics import Location
from fastlint.discovery import SourceFile
from fastlint.rules.catalog import MAX_FILE_SIZE

if TYPE_CHECKING:
    from fastlint.config import Settings


class UnreadableFile(Exception):
    """A file fastlint cannot read or parse; becomes one FL000 diagnostic."""

    def __init__(
        self, reason: str, location: Location | None = None, text: str | None = None
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.location = location or Location(1, 1, 1, 1)
        self.text = text  # set when the text was read but not parsed (ignore-file still works)


def max_file_size(settings: Settings) -> int:
    return int(settings.options.get(MAX_FILE_SIZE.name, MAX_FILE_SIZE.default))


def read_bytes(path: Path, max_size: int) -> bytes:
    """The file's bytes, or UnreadableFile saying why not (too big, not a file, gone)."""
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            # A FIFO or device named like a source file would block or never end.
            raise UnreadableFile("not a regular file (pipe, socket or device); skipped")
        size = info.st_size
        if size > max_size:
            raise UnreadableFile(
                f"file is {size:,} bytes, over max-file-size ({max_size:,}); skipped"
            )
        return path.read_bytes()
    except UnreadableFile:
        raise
    except FileNotFoundError:
        if path.is_symlink():
            raise UnreadableFile("broken symbolic link: its target does not exist") from None
        raise UnreadableFile("file disappeared while fastlint was running") from None
    except PermissionError:
        raise UnreadableFile("permission denied reading the file") from None
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise UnreadableFile("symbolic link loop: the link points back to itself") from None
        reason = error.strerror or type(error).__name__
        raise UnreadableFile(f"cannot read the file: {reason}") from None


def read_text(source: SourceFile, max_size: int) -> str:
    """The file's text, or UnreadableFile saying why not (also: binary, not UTF-8)."""
    data = read_bytes(source.path, max_size)
    if b"\x00" in data:
        raise UnreadableFile("file contains NUL bytes (binary?); skipped")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise UnreadableFile(
            f"file is not valid UTF-8 (byte 0x{data[error.start]:02x} at offset {error.start})",
            Location(line, 1, line, 1),
        ) from None


@dataclass
class TextUnit:
    """A line-oriented file (shell script, Procfile) as read: front ends parse it further."""

    source: SourceFile
    text: str

    @property
    def path(self) -> str:
        return self.source.display

    @cached_property
    def lines(self) -> list[str]:
        return self.text.splitlines()
