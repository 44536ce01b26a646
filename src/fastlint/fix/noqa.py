"""``--add-noqa``: a ``# noqa: CODE`` marker for every current finding, so a team can adopt
fastlint on an existing service and fix the findings one at a time.

Python (and Gunicorn configs): at the end of the statement's last line, where the marker
covers the whole statement. Shell scripts and Procfiles: at the end of a one-line command, or
a comment line above a command with continuation lines. Dockerfiles: a comment line above the
instruction (a Dockerfile comment cannot trail an instruction). Codes are merged into a marker
already there.
"""

from __future__ import annotations

import io
import re
import tokenize
from collections import defaultdict
from pathlib import Path

from fastlint.discovery import FileKind
from fastlint.fix.apply import BOM, write_atomically
from fastlint.fix.base import Source
from fastlint.fix.commands import statement_span
from fastlint.result import LintResult
from fastlint.suppressions import read_marker

_NOT_CODE = frozenset({tokenize.NL, tokenize.COMMENT, tokenize.INDENT, tokenize.DEDENT})
_NOT_CODE = frozenset({tokenize.NL, tokenize.COMMENT, tokenize.INDENT, tokenize.DEDENT})
_NOT_SUPPRESSIBLE = frozenset({"FL000", "FL001", "FL002"})
_CODE_LIST_END = re.compile(
    r"#\s*noqa\s*:\s*[A-Za-z]{1,8}[0-9][A-Za-z0-9]*(?:[\s,]+[A-Za-z]{1,8}[0-9][A-Za-z0-9]*)*",
    re.I,
)


def add_noqa(result: LintResult) -> tuple[int, list[str]]:
    """Add the markers in place; (how many lines got one, problems writing)."""
    if result.context is None:
        return 0, []
    files = {source.display: source for source in result.context.files}
    wanted: dict[str, dict[int, set[str]]] = defaultdict(lambda: defaultdict(set))
    for diagnostic in result.diagnostics:
        if diagnostic.code in _NOT_SUPPRESSIBLE or diagnostic.path not in files:
            continue
        wanted[diagnostic.path][diagnostic.line].add(diagnostic.code)
    added = 0
    problems = []
    for display, by_line in sorted(wanted.items()):
        source_file = files[display]
        try:
            raw = Path(source_file.path).read_bytes().decode("utf-8")
        except (OSError, UnicodeDecodeError) as error:
            problems.append(f"{display}: cannot read: {error}")
            continue
        bom = BOM if raw.startswith(BOM) else ""
        text, count = with_markers(Source(display, source_file.kind, raw[len(bom) :]), by_line)
        if count:
            try:
                write_atomically(Path(source_file.path).resolve(), bom + text)
            except OSError as error:
                problems.append(f"{display}: cannot write: {error.strerror or error}")
                continue
            added += count
    return added, problems


def with_markers(source: Source, by_line: dict[int, set[str]]) -> tuple[str, int]:
    """The text with markers for ``by_line`` (reported line → codes), and how many lines
    were marked."""
    lines = source.text.splitlines(keepends=True)
    trailing: dict[int, set[str]] = defaultdict(set)  # line → codes at its end
    above: dict[int, set[str]] = defaultdict(set)  # line → codes on a comment line above
    python = source.kind in (FileKind.PYTHON, FileKind.GUNICORN)
    ends = _statement_ends(source.text) if python else {}
    for line, codes in by_line.items():
        if python:
            trailing[ends.get(line, line)] |= codes
        elif source.kind is FileKind.DOCKERFILE:
            above[line] |= codes
        else:
            start, end = statement_span(source, line)
            if "\n" in source.text[start:end]:
                above[line] |= codes
            else:
                trailing[line] |= codes
    count = 0
    for line in sorted(set(trailing) | set(above), reverse=True):
        if line > len(lines):
            continue
        if line in trailing:
            lines[line - 1] = _merged_at_end(lines[line - 1], trailing[line])
        if line in above:
            previous = lines[line - 2] if line > 1 else ""
            marker = (
                read_marker(previous.strip(), line - 1)
                if previous.strip().startswith("#")
                else None
            )
            if marker is not None and not marker.whole_file:
                lines[line - 2] = _merged_at_end(previous, above[line])
            else:
                body = lines[line - 1]
                indent = body[: len(body) - len(body.lstrip())]
                lines.insert(
                    line - 1, f"{indent}# noqa: {', '.join(sorted(above[line]))}{source.newline}"
                )
        count += 1
    return "".join(lines), count


def _merged_at_end(line: str, codes: set[str]) -> str:
    """``line`` with ``codes`` in its marker, or a new ``# noqa:`` at its end."""
    body = line.rstrip("\r\n")
    newline = line[len(body) :]
    hash_at = _comment_start(body)
    marker = read_marker(body[hash_at:], 1) if hash_at is not None else None
    if marker is not None and marker.blanket:
        return line
    if marker is not None and not marker.whole_file:
        missing = sorted(
            code for code in codes if not any(code.startswith(c) for c in marker.codes)
        )
        if not missing:
            return line
        assert hash_at is not None
        comment = body[hash_at:]
        bracket = re.search(r"fastlint:\s*ignore\[[^\]]*(?=\])", comment)
        listing = bracket or _CODE_LIST_END.search(comment)
        if listing is not None:
            at = hash_at + listing.end()
            return body[:at] + ", " + ", ".join(missing) + body[at:] + newline
    return f"{body}  # noqa: {', '.join(sorted(codes))}{newline}"


def _comment_start(line: str) -> int | None:
    """Where the line's comment starts, outside quotes (a Python or shell line)."""
    quote: str | None = None
    for index, char in enumerate(line):
        if quote is not None:
            if char == quote:
                quote = None
        elif char in "'\"":
            quote = char
        elif char == "#":
            return index
    return None


def _statement_ends(text: str) -> dict[int, int]:
    """Each line of a multi-line statement → the statement's last line, where a marker
    covers it all (a comment cannot go inside a multi-line string)."""
    ends: dict[int, int] = {}
    start: int | None = None
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type == tokenize.NEWLINE:
                if start is not None:
                    for line in range(start, token.start[0] + 1):
                        ends[line] = token.start[0]
                start = None
            elif start is None and token.type not in _NOT_CODE:
                start = token.start[0]
    except (tokenize.TokenError, SyntaxError):
        pass
    return ends
