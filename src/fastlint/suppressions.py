"""One parser for ``# noqa`` and ``# fastlint: ignore[...]`` in every file kind.

Python: a marker on the reported line suppresses it (``# noqa``, ``# noqa: FL101``,
``# fastlint: ignore[FL101,FL102]``); ``# fastlint: ignore-file`` / ``ignore-file[FL402]`` in the
file's first comment block suppresses the file. Dockerfile, shell and Procfile: a comment line
``# fastlint: ignore[FL501]`` suppresses the next instruction or line, and a trailing
``# noqa``/``ignore`` on a line suppresses that line. Codes may be prefixes (``FL5``).
"""

from __future__ import annotations

import io
import re
import tokenize
from dataclasses import dataclass, field

from fastlint.discovery import FileKind

ALL = "*"

_NOQA = re.compile(r"#\s*noqa(?::\s*(?P<codes>[A-Z]+[0-9]+(?:[\s,]+[A-Z]+[0-9]+)*))?", re.I)
_IGNORE = re.compile(r"#\s*fastlint:\s*ignore(?:\[(?P<codes>[^\]]*)\])?(?![-\w])")
_IGNORE_FILE = re.compile(r"#\s*fastlint:\s*ignore-file(?:\[(?P<codes>[^\]]*)\])?")


def _codes(text: str | None) -> frozenset[str]:
    if not text:
        return frozenset({ALL})
    return frozenset(code.strip().upper() for code in re.split(r"[\s,]+", text) if code.strip())


@dataclass
class Suppressions:
    by_line: dict[int, set[str]] = field(default_factory=dict)
    file_codes: set[str] = field(default_factory=set)

    def add(self, line: int, codes: frozenset[str]) -> None:
        self.by_line.setdefault(line, set()).update(codes)

    def suppresses(self, code: str, line: int) -> bool:
        return _covers(self.file_codes, code) or _covers(self.by_line.get(line, set()), code)


def _covers(codes: set[str], code: str) -> bool:
    return ALL in codes or any(code.startswith(prefix) for prefix in codes)


def _line_markers(comment: str) -> frozenset[str] | None:
    match = _IGNORE.search(comment)
    if match:
        return _codes(match.group("codes"))
    match = _NOQA.search(comment)
    if match:
        return _codes(match.group("codes"))
    return None


def _python_comments(text: str) -> list[tuple[int, str, bool]]:
    """(line, comment, is_own_line) for every comment token; a regex fallback when the
    tokenizer gives up (grammar newer than the running interpreter)."""
    comments: list[tuple[int, str, bool]] = []
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type == tokenize.COMMENT:
                own_line = not token.line[: token.start[1]].strip()
                comments.append((token.start[0], token.string, own_line))
        return comments
    except (tokenize.TokenError, IndentationError, SyntaxError):
        pass
    for number, line in enumerate(text.splitlines(), start=1):
        index = line.find("#")
        if index >= 0:
            comments.append((number, line[index:], not line[:index].strip()))
    return comments


def parse_suppressions(kind: FileKind, text: str) -> Suppressions:
    result = Suppressions()
    if kind in (FileKind.PYTHON, FileKind.GUNICORN):
        for line, comment, own_line in _python_comments(text):
            file_match = _IGNORE_FILE.search(comment)
            if file_match:
                if own_line and _only_blank_before(text, line):
                    result.file_codes |= _codes(file_match.group("codes"))
                continue
            markers = _line_markers(comment)
            if markers is not None:
                result.add(line, markers)
        return result

    lines = text.splitlines()
    pending: frozenset[str] | None = None
    for number, raw in enumerate(lines, start=1):
        stripped = raw.strip()
        if stripped.startswith("#"):
            file_match = _IGNORE_FILE.search(stripped)
            if file_match:
                result.file_codes |= _codes(file_match.group("codes"))
                continue
            markers = _line_markers(stripped)
            if markers is not None:
                pending = markers if pending is None else pending | markers
            continue
        if not stripped:
            continue
        if pending is not None:
            result.add(number, pending)
            # A continued instruction is one unit: suppress its continuation lines too.
            follow = number
            while follow <= len(lines) and lines[follow - 1].rstrip().endswith("\\"):
                follow += 1
                result.add(follow, pending)
            pending = None
        index = raw.find(" #")
        if index >= 0:
            markers = _line_markers(raw[index:])
            if markers is not None:
                result.add(number, markers)
    return result


def _only_blank_before(text: str, line: int) -> bool:
    """Whether only blank lines, a shebang/encoding line or comments precede ``line``."""
    for previous in text.splitlines()[: line - 1]:
        stripped = previous.strip()
        if stripped and not stripped.startswith("#"):
            return False
    return True
