"""One parser for ``# noqa`` and ``# fastlint: ignore[...]`` in every file kind.

Python (and Gunicorn configs): a marker in a comment on the reported line suppresses it
(``# noqa``, ``# noqa: FL101``, ``# fastlint: ignore[FL101,FL102]``); a marker on the first or
the last line of a multi-line statement covers the whole statement (where formatters leave it).
A comment line holding only ``# fastlint: ignore[...]`` suppresses the next statement, as in the
other file kinds.

Dockerfile, shell, Procfile, compose and Kubernetes YAML: a comment line
``# fastlint: ignore[FL501]`` (or ``# noqa: FL501``) suppresses the next instruction or command,
continuation lines and heredoc included (a YAML line is one "instruction"); a trailing
``# noqa`` / ``# fastlint: ignore[...]`` suppresses its own line.

Every kind: ``# fastlint: ignore-file`` or ``# fastlint: ignore-file[FL402]`` in the file's first
comment block (before any code or instruction) suppresses the whole file. Codes may be prefixes
(``FL5``); no code list means every code.
"""

from __future__ import annotations

import io
import re
import tokenize
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from fastlint.discovery import FileKind

ALL = "*"

_CODE_LIST = r"[A-Za-z]+[0-9]+(?:\s*,\s*[A-Za-z]+[0-9]+)*"
_NOQA = re.compile(rf"#\s*noqa(?::\s*(?P<codes>{_CODE_LIST}))?", re.I)
_IGNORE = re.compile(r"#\s*fastlint:\s*ignore(?:\[(?P<codes>[^\]]*)\])?(?![-\w\[])")
_IGNORE_FILE = re.compile(r"#\s*fastlint:\s*ignore-file(?:\[(?P<codes>[^\]]*)\])?")
_HEREDOC = re.compile(r"<<-?\s*(?P<quote>[\"']?)(?P<word>[A-Za-z_][A-Za-z0-9_]*)(?P=quote)")
_ESCAPE_DIRECTIVE = re.compile(r"^#\s*escape\s*=\s*(?P<char>\S)\s*$", re.I)


def _codes(text: str | None) -> frozenset[str]:
    if text is None or not text.strip():
        return frozenset({ALL})
    return frozenset(code.strip().upper() for code in re.split(r"[\s,]+", text) if code.strip())


@dataclass
class Suppressions:
    by_line: dict[int, set[str]] = field(default_factory=dict)
    file_codes: set[str] = field(default_factory=set)

    def add(self, line: int, codes: Iterable[str]) -> None:
        self.by_line.setdefault(line, set()).update(codes)

    def suppresses(self, code: str, line: int, end_line: int | None = None) -> bool:
        """Whether a finding of ``code`` starting on ``line`` is suppressed (``end_line`` is
        accepted for callers that have it; the start line decides)."""
        return _covers(self.file_codes, code) or _covers(self.by_line.get(line, set()), code)


def _covers(codes: set[str], code: str) -> bool:
    return ALL in codes or any(code.startswith(prefix) for prefix in codes)


def _line_markers(comment: str) -> frozenset[str] | None:
    """Codes a ``# noqa`` / ``# fastlint: ignore`` comment names (ALL for none), or None."""
    match = _IGNORE.search(comment)
    if match:
        return _codes(match.group("codes"))
    match = _NOQA.search(comment)
    if match:
        return _codes(match.group("codes"))
    return None


def _may_hold_a_marker(text: str) -> bool:
    """Whether ``text`` spells "noqa" or "fastlint" in any case: every marker does, and a file
    that does not (most) is not tokenized at all. (A case-insensitive regex search took seven
    times as long.)"""
    folded = text.casefold()
    return "noqa" in folded or "fastlint" in folded


def parse_suppressions(kind: FileKind, text: str) -> Suppressions:
    if not _may_hold_a_marker(text):
        return Suppressions()
    if kind in (FileKind.PYTHON, FileKind.GUNICORN):
        return _python_suppressions(text)
    return _line_suppressions(kind, text)


# ---------------------------------------------------------------------------- Python


def _python_suppressions(text: str) -> Suppressions:
    result = Suppressions()
    lines = text.splitlines()
    header_end = _first_code_line(lines)  # the first comment block ends here
    comments, statements = _python_comments(text)
    for line, comment, own_line in comments:
        file_match = _IGNORE_FILE.search(comment)
        if file_match:
            if own_line and line < header_end:
                result.file_codes |= _codes(file_match.group("codes"))
            continue
        markers = _line_markers(comment)
        if markers is None:
            continue
        result.add(line, markers)
        if own_line and _IGNORE.match(comment.strip()):
            target = _next_code_line(lines, line)
            if target is not None:
                result.add(target, markers)
    for first, last in statements:
        codes = result.by_line.get(first, set()) | result.by_line.get(last, set())
        if codes:
            for covered in range(first, last + 1):
                result.add(covered, codes)
    return result


def _first_code_line(lines: list[str]) -> int:
    for number, raw in enumerate(lines, start=1):
        stripped = raw.strip()
        if stripped and not stripped.startswith("#"):
            return number
    return len(lines) + 1


def _next_code_line(lines: list[str], line: int) -> int | None:
    for number in range(line + 1, len(lines) + 1):
        stripped = lines[number - 1].strip()
        if stripped and not stripped.startswith("#"):
            return number
    return None


_NOT_CODE = frozenset(
    {tokenize.NL, tokenize.COMMENT, tokenize.INDENT, tokenize.DEDENT, tokenize.ENDMARKER}
)


def _python_comments(
    text: str,
) -> tuple[list[tuple[int, str, bool]], list[tuple[int, int]]]:
    """(line, comment, is_own_line) for every real comment (a ``#`` inside a string literal is
    not one), and the (first, last) lines of each multi-line statement. The tokenizer may
    reject grammar newer than the running interpreter; a string-aware scanner takes over then
    (without statement ranges)."""
    comments: list[tuple[int, str, bool]] = []
    statements: list[tuple[int, int]] = []
    start: int | None = None
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type == tokenize.COMMENT:
                own_line = not token.line[: token.start[1]].strip()
                comments.append((token.start[0], token.string, own_line))
            elif token.type == tokenize.NEWLINE:
                if start is not None and token.start[0] > start:
                    statements.append((start, token.start[0]))
                start = None
            elif token.type not in _NOT_CODE and start is None:
                start = token.start[0]
        return comments, statements
    except (tokenize.TokenError, SyntaxError):  # IndentationError is a SyntaxError
        return list(_scan_comments(text)), []


def _scan_comments(text: str) -> Iterator[tuple[int, str, bool]]:
    """A small scanner that skips string literals (triple-quoted, raw, escaped quotes)."""
    line = 1
    line_start = 0
    quote: str | None = None  # the closing delimiter while inside a string
    raw = False
    i = 0
    length = len(text)
    while i < length:
        char = text[i]
        if char == "\n":
            line += 1
            line_start = i + 1
            if quote is not None and len(quote) == 1:
                quote = None  # an unterminated one-line string ends at the line end
            i += 1
            continue
        if quote is not None:
            if char == "\\" and not raw:
                if i + 1 < length and text[i + 1] == "\n":
                    line += 1
                    line_start = i + 2
                i += 2
                continue
            if text.startswith(quote, i):
                i += len(quote)
                quote = None
                continue
            i += 1
            continue
        if char == "#":
            end = text.find("\n", i)
            end = length if end < 0 else end
            own_line = not text[line_start:i].strip()
            yield line, text[i:end].rstrip("\r"), own_line
            i = end
            continue
        if char in "'\"":
            prefix_start = i
            while prefix_start > line_start and text[prefix_start - 1].isalpha():
                prefix_start -= 1
            raw = "r" in text[prefix_start:i].lower()
            quote = char * 3 if text.startswith(char * 3, i) else char
            i += len(quote)
            continue
        i += 1


# ---------------------------------------------------------------------------- line files


def _line_suppressions(kind: FileKind, text: str) -> Suppressions:
    """Dockerfile, shell script, Procfile: comment lines apply to the next instruction."""
    result = Suppressions()
    lines = text.splitlines()
    escape = _dockerfile_escape(lines) if kind is FileKind.DOCKERFILE else "\\"
    in_header = True
    pending: frozenset[str] | None = None
    number = 1
    while number <= len(lines):
        stripped = lines[number - 1].strip()
        if not stripped:
            number += 1
            continue
        if stripped.startswith("#"):
            file_match = _IGNORE_FILE.search(stripped)
            if file_match:
                if in_header:
                    result.file_codes |= _codes(file_match.group("codes"))
            else:
                markers = _line_markers(stripped)
                if markers is not None:
                    pending = markers if pending is None else pending | markers
            number += 1
            continue
        in_header = False
        last = _instruction_end(kind, lines, number, escape)
        trailing = _trailing_markers(lines[number - 1])
        if trailing is not None:
            result.add(number, trailing)
        if pending is not None:
            for covered in range(number, last + 1):
                result.add(covered, pending)
            pending = None
        number = last + 1
    return result


def _dockerfile_escape(lines: list[str]) -> str:
    """The continuation character: ``\\`` unless a leading ``# escape=`` directive says so."""
    for raw in lines:
        stripped = raw.strip()
        if not stripped.startswith("#"):
            break
        match = _ESCAPE_DIRECTIVE.match(stripped)
        if match:
            return match.group("char")
    return "\\"


def _instruction_end(kind: FileKind, lines: list[str], start: int, escape: str) -> int:
    """The last line of the instruction or command starting at ``start``: continuation lines
    (comment lines inside a Dockerfile continuation do not end it) and heredoc bodies."""
    if kind in (FileKind.PROCFILE, FileKind.COMPOSE, FileKind.KUBERNETES):
        return start
    line = start
    heredocs: list[str] = []
    while True:
        current = lines[line - 1]
        heredocs.extend(match.group("word") for match in _HEREDOC.finditer(current))
        if current.rstrip().endswith(escape) and line < len(lines):
            line += 1
            while (
                kind is FileKind.DOCKERFILE
                and line < len(lines)
                and lines[line - 1].strip().startswith("#")
            ):
                line += 1
            continue
        break
    for word in heredocs:
        while line < len(lines):
            line += 1
            if lines[line - 1].strip() == word:
                break
    return line


def _trailing_markers(raw: str) -> frozenset[str] | None:
    """A ``# noqa`` at the end of a command line, outside quotes."""
    quote: str | None = None
    for index, char in enumerate(raw):
        if quote is not None:
            if char == quote:
                quote = None
        elif char in "'\"":
            quote = char
        elif char == "#" and index > 0 and raw[index - 1] in " \t":
            return _line_markers(raw[index:])
    return None
