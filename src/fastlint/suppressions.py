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
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from fastlint.diagnostics import Diagnostic
from fastlint.discovery import FileKind

if TYPE_CHECKING:
    from fastlint.config import Settings
    from fastlint.registry import RuleMeta

_NOQA = re.compile(r"#\s*noqa(?P<colon>\s*:(?P<rest>[^#]*))?", re.I)
_IGNORE = re.compile(r"#\s*fastlint:\s*ignore(?:\[(?P<codes>[^\]]*)\])?(?![-\w\[])")
_IGNORE_FILE = re.compile(r"#\s*fastlint:\s*ignore-file(?:\[(?P<codes>[^\]]*)\])?")
_HEREDOC = re.compile(r"<<-?\s*(?P<quote>[\"']?)(?P<word>[A-Za-z_][A-Za-z0-9_]*)(?P=quote)")
_ESCAPE_DIRECTIVE = re.compile(r"^#\s*escape\s*=\s*(?P<char>\S)\s*$", re.I)
_TOKEN = re.compile(r"[^\s,]+")
_CODE_LIKE = re.compile(r"^[A-Za-z]{1,8}[0-9][A-Za-z0-9]*$")


@dataclass
class Marker:
    """One ``# noqa`` / ``# fastlint: ignore[...]`` comment as written: the fastlint codes it
    names (with their 1-based columns, to report or remove one) and what is wrong with it."""

    line: int
    codes: dict[str, tuple[int, int]] = field(default_factory=dict)
    blanket: bool = False  # no code list: every code
    problems: list[tuple[str, int, int]] = field(default_factory=list)  # (why, columns)
    whole_file: bool = False


def _known(token: str) -> bool:
    from fastlint import registry

    try:
        registry.expand(token)
    except registry.UnknownRuleError:
        return False
    return True


def _bracketed(marker: Marker, match: re.Match[str], column: int) -> Marker:
    """``ignore[...]`` / ``ignore-file[...]``: every name in the brackets must be ours."""
    codes = match.group("codes")
    if codes is None:
        marker.blanket = True
        return marker
    base = column + match.start("codes")
    tokens = list(_TOKEN.finditer(codes))
    if not tokens:
        marker.problems.append(("names no code", column + match.start(), column + match.end()))
    for token in tokens:
        code = token.group().upper()
        where = (base + token.start(), base + token.end())
        if code.startswith("FL") and _known(code):
            marker.codes[code] = where
        else:
            marker.problems.append((f"names '{token.group()}', not a fastlint rule", *where))
    return marker


def read_marker(comment: str, line: int, column: int = 1) -> Marker | None:
    """The marker in a comment that starts at ``column``, or None. An unknown or misspelt code
    suppresses nothing (never "everything"); another linter's code (``E501``) is left to it;
    codes may be separated by commas or spaces, as in ruff."""
    match = _IGNORE_FILE.search(comment)
    if match:
        return _bracketed(Marker(line, whole_file=True), match, column)
    match = _IGNORE.search(comment)
    if match:
        return _bracketed(Marker(line), match, column)
    match = _NOQA.search(comment)
    if not match:
        return None
    marker = Marker(line)
    if match.group("colon") is None:
        marker.blanket = True
        return marker
    base = column + match.start("rest")
    named = 0
    for token in _TOKEN.finditer(match.group("rest")):
        if not _CODE_LIKE.match(token.group()):
            break
        named += 1
        code = token.group().upper()
        where = (base + token.start(), base + token.end())
        if not code.startswith("FL"):
            continue  # another linter's code
        if _known(code):
            marker.codes[code] = where
        else:
            marker.problems.append((f"names '{token.group()}', not a fastlint rule", *where))
    if not named:
        where = (column + match.start(), column + match.end())
        marker.problems.append(("names no code after the colon", *where))
    return marker


@dataclass
class Suppressions:
    markers: list[Marker] = field(default_factory=list)
    covering: dict[int, list[int]] = field(default_factory=dict)  # line → marker indexes
    file_markers: list[int] = field(default_factory=list)
    used: set[tuple[int, str]] = field(default_factory=set)  # (marker index, code) that matched

    def keep(self, marker: Marker) -> int:
        self.markers.append(marker)
        return len(self.markers) - 1

    def add(self, line: int, marker: int) -> None:
        covering = self.covering.setdefault(line, [])
        if marker not in covering:
            covering.append(marker)

    def suppresses(self, code: str, line: int, end_line: int | None = None) -> bool:
        """Whether a finding of ``code`` starting on ``line`` is suppressed (``end_line`` is
        accepted for callers that have it; the start line decides). Remembers which marker
        and code did it, for the unused-suppression check."""
        found = False
        for index in (*self.file_markers, *self.covering.get(line, ())):
            marker = self.markers[index]
            if marker.blanket:
                found = True
            for named in marker.codes:
                if code.startswith(named):
                    found = True
                    self.used.add((index, named))
        return found

    def unused(self) -> Iterator[tuple[Marker, str]]:
        """Each fastlint code a marker names that suppressed nothing."""
        for index, marker in enumerate(self.markers):
            for code in marker.codes:
                if (index, code) not in self.used:
                    yield marker, code


def suppression_findings(
    texts: dict[str, tuple[FileKind, str]],
    reportable: dict[str, str],
    read: dict[str, Suppressions],
    settings: Settings,
    unchecked: Collection[str] = (),
) -> list[Diagnostic]:
    """FL001 for each selected code a marker names that suppressed nothing (run after every
    finding went through :meth:`Suppressions.suppresses`), FL002 for each invalid marker.
    ``read``: the files' markers read so far (the rest are read here). Files in ``unchecked``
    (FL000: not parsed, or a rule crashed on them) get no FL001: their findings are missing."""
    from fastlint import registry

    unused, invalid = registry.UNUSED_SUPPRESSION, registry.INVALID_SUPPRESSION
    if not settings.is_enabled(unused.code) and not settings.is_enabled(invalid.code):
        return []
    found: list[Diagnostic] = []
    for path, (kind, text) in texts.items():
        relpath = reportable.get(path)
        if relpath is None or not _may_name_a_code(text):
            continue
        suppressions = read.get(path) or parse_suppressions(kind, text)

        def selected(code: str, relpath: str = relpath) -> bool:
            return settings.is_enabled(code) and not settings.ignored_in(relpath, code)

        if selected(unused.code) and path not in unchecked:
            for marker, code in suppressions.unused():
                if not any(selected(rule) for rule in registry.expand(code)):
                    continue
                start, end = marker.codes[code]
                message = (
                    f"This suppression names {code}, but no {code} finding is on the lines it "
                    "covers, so it hides nothing today and would hide the next real one; "
                    f"remove {code} from it."
                )
                found.append(_hygiene(unused, path, marker.line, start, end, message))
        if selected(invalid.code):
            for marker in suppressions.markers:
                for why, start, end in marker.problems:
                    message = (
                        f"This suppression {why}, so it suppresses nothing (a typo must not "
                        "silence every code on the line); write a rule code such as FL101 "
                        "(see 'fastlint --list-rules')."
                    )
                    found.append(_hygiene(invalid, path, marker.line, start, end, message))
    return found


def _hygiene(
    meta: RuleMeta, path: str, line: int, start: int, end: int, message: str
) -> Diagnostic:
    return Diagnostic(meta.code, meta.name, meta.severity, path, line, start, line, end, message)


# A noqa that names an FL code (or a misspelling of one), or nothing after its colon.
_NOQA_NAMING_OURS = re.compile(r"noqa\s*:(?:[^\n#]*\bfl|[ \t]*(?:#|$))", re.M)


def _may_name_a_code(text: str) -> bool:
    """Whether any marker in ``text`` may matter to FL001 or FL002: a ``fastlint:`` marker, or
    a ``noqa`` naming an FL code or nothing. Most files with markers have only other linters'
    (``# noqa: E501``) and are not tokenized for these checks (on a 3,340-file project,
    tokenizing every file with a ``noqa:`` took 3.6 s)."""
    folded = text.casefold()
    return "fastlint" in folded or _NOQA_NAMING_OURS.search(folded) is not None


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
    for line, column, comment, own_line in comments:
        marker = read_marker(comment, line, column)
        if marker is None:
            continue
        if marker.whole_file:
            if own_line and line < header_end:
                result.file_markers.append(result.keep(marker))
            continue
        index = result.keep(marker)
        result.add(line, index)
        if own_line and _IGNORE.match(comment.strip()):
            target = _next_code_line(lines, line)
            if target is not None:
                result.add(target, index)
    for first, last in statements:
        indexes = [*result.covering.get(first, ()), *result.covering.get(last, ())]
        for covered in range(first, last + 1):
            for index in indexes:
                result.add(covered, index)
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
) -> tuple[list[tuple[int, int, str, bool]], list[tuple[int, int]]]:
    """(line, 1-based column, comment, is_own_line) for every real comment (a ``#`` inside a
    string literal is not one), and the (first, last) lines of each multi-line statement. The
    tokenizer may reject grammar newer than the running interpreter; a string-aware scanner
    takes over then (without statement ranges)."""
    comments: list[tuple[int, int, str, bool]] = []
    statements: list[tuple[int, int]] = []
    start: int | None = None
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type == tokenize.COMMENT:
                own_line = not token.line[: token.start[1]].strip()
                comments.append((token.start[0], token.start[1] + 1, token.string, own_line))
            elif token.type == tokenize.NEWLINE:
                if start is not None and token.start[0] > start:
                    statements.append((start, token.start[0]))
                start = None
            elif token.type not in _NOT_CODE and start is None:
                start = token.start[0]
        return comments, statements
    except (tokenize.TokenError, SyntaxError):  # IndentationError is a SyntaxError
        return list(_scan_comments(text)), []


def _scan_comments(text: str) -> Iterator[tuple[int, int, str, bool]]:
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
            yield line, i - line_start + 1, text[i:end].rstrip("\r"), own_line
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
    pending: list[int] = []
    number = 1
    while number <= len(lines):
        raw = lines[number - 1]
        stripped = raw.strip()
        if not stripped:
            number += 1
            continue
        if stripped.startswith("#"):
            marker = read_marker(stripped, number, raw.index("#") + 1)
            if marker is not None and marker.whole_file:
                if in_header:
                    result.file_markers.append(result.keep(marker))
            elif marker is not None:
                pending.append(result.keep(marker))
            number += 1
            continue
        in_header = False
        last = _instruction_end(kind, lines, number, escape)
        trailing = _trailing_marker(raw, number)
        if trailing is not None:
            result.add(number, result.keep(trailing))
        for index in pending:
            for covered in range(number, last + 1):
                result.add(covered, index)
        pending = []
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


def _trailing_marker(raw: str, line: int) -> Marker | None:
    """A ``# noqa`` at the end of a command line, outside quotes."""
    quote: str | None = None
    for index, char in enumerate(raw):
        if quote is not None:
            if char == quote:
                quote = None
        elif char in "'\"":
            quote = char
        elif char == "#" and index > 0 and raw[index - 1] in " \t":
            return read_marker(raw[index:], line, index + 1)
    return None
