"""Start commands as text spans: the words of a Procfile line, a shell command or a Dockerfile
``CMD``/``ENTRYPOINT`` (shell form or JSON exec form), and edits that add, drop or change a
server option in place without touching the rest of the line."""

from __future__ import annotations

import re
from dataclasses import dataclass

from fastlint.discovery import FileKind
from fastlint.fix.base import Edit, Source

SERVERS = ("gunicorn", "uvicorn", "fastapi", "hypercorn", "granian")
_OPERATORS = ("&&", "||", ";;", ";", "|", "&", "(", ")")
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')


@dataclass(frozen=True)
class Word:
    start: int  # offsets in the file's text
    end: int
    value: str  # without quotes


@dataclass(frozen=True)
class Command:
    """One server invocation: its words (executable first) and how it is written."""

    words: tuple[Word, ...]
    exec_form: bool  # a JSON array: new words are written as JSON strings
    server: str

    def option(self, *names: str) -> tuple[int, int] | None:
        """Index range of an option and its value (``-w 4``, ``--workers=4``, ``-w4``)."""
        for index, word in enumerate(self.words[1:], start=1):
            for name in names:
                if word.value == name:
                    return index, min(index + 2, len(self.words))
                if name.startswith("--") and word.value.startswith(name + "="):
                    return index, index + 1
                if len(name) == 2 and word.value.startswith(name) and len(word.value) > 2:
                    return index, index + 1
        return None

    def flag(self, *names: str) -> int | None:
        for index, word in enumerate(self.words[1:], start=1):
            if word.value in names or any(word.value.startswith(n + "=") for n in names):
                return index
        return None


def statement_span(source: Source, line: int) -> tuple[int, int]:
    """The text of the instruction or command starting on ``line``, continuation lines too."""
    start, end = source.line_span(line)
    last = line
    while source.text[start:end].rstrip().endswith("\\") and last < len(source.line_starts):
        last += 1
        _, end = source.line_span(last)
    return start, end


def server_command(source: Source, line: int, servers: tuple[str, ...] = SERVERS) -> Command | None:
    """The server invocation written on ``line`` (and its continuation lines)."""
    start, end = statement_span(source, line)
    text = source.text[start:end]
    if source.kind is FileKind.DOCKERFILE:
        keyword = re.match(r"\s*(CMD|ENTRYPOINT|RUN)\s+", text, re.I)
        if keyword is None:
            return None
        body = keyword.end()
        if text[body:].lstrip().startswith("["):
            return _json_command(text, start, body, servers)
        return _shell_command(_shell_words(text, start, body), servers)
    if source.kind is FileKind.PROCFILE:
        colon = text.find(":")
        return _shell_command(_shell_words(text, start, colon + 1), servers)
    return _shell_command(_shell_words(text, start, 0), servers)


def _json_command(text: str, base: int, body: int, servers: tuple[str, ...]) -> Command | None:
    words = []
    for match in _JSON_STRING.finditer(text, body):
        words.append(Word(base + match.start(), base + match.end(), match.group()[1:-1]))
    return _pick(words, servers, exec_form=True)


def _shell_command(tokens: list[Word | str], servers: tuple[str, ...]) -> Command | None:
    """The first simple command (between operators) that runs a server."""
    current: list[Word] = []
    for token in [*tokens, ";"]:
        if isinstance(token, str):
            command = _pick(current, servers, exec_form=False)
            if command is not None:
                return command
            current = []
        else:
            current.append(token)
    return None


def _pick(words: list[Word], servers: tuple[str, ...], exec_form: bool) -> Command | None:
    for index, word in enumerate(words):
        name = word.value.rsplit("/", 1)[-1]
        if name in servers:
            return Command(tuple(words[index:]), exec_form, name)
        if name.startswith("python") and index + 2 < len(words) and words[index + 1].value == "-m":
            module = words[index + 2].value
            if module in servers:
                return Command(tuple(words[index + 2 :]), exec_form, module)
    return None


def _shell_words(text: str, base: int, position: int) -> list[Word | str]:
    """Words (with their spans) and operators of a shell command line; quotes are removed from
    values, a backslash-newline joins lines, a ``#`` starting a word ends the line."""
    tokens: list[Word | str] = []
    i = position
    length = len(text)
    while i < length:
        char = text[i]
        if char == "\\" and text[i + 1 : i + 2] in ("\n", "\r"):
            i += 2
            continue
        if char in " \t\r\n":
            i += 1
            continue
        if char == "#":
            break
        operator = next((op for op in _OPERATORS if text.startswith(op, i)), None)
        if operator is not None:
            tokens.append(operator)
            i += len(operator)
            continue
        start, value = i, []
        while i < length and text[i] not in " \t\r\n" and not text.startswith(_OPERATORS, i):
            if text[i] in "'\"":
                close = text.find(text[i], i + 1)
                close = length if close < 0 else close
                value.append(text[i + 1 : close])
                i = close + 1
            elif text[i] == "\\" and i + 1 < length:
                value.append(text[i + 1])
                i += 2
            else:
                value.append(text[i])
                i += 1
        tokens.append(Word(base + start, base + i, "".join(value)))
    return tokens


# ---------------------------------------------------------------------------- edits


def _quote(value: str, exec_form: bool) -> str:
    if exec_form:
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return value


def add_words(command: Command, *values: str) -> Edit:
    """Append words to the command, after its last word."""
    last = command.words[-1]
    if command.exec_form:
        added = "".join(", " + _quote(value, True) for value in values)
    else:
        added = "".join(" " + value for value in values)
    return Edit(last.end, last.end, added)


def remove_words(command: Command, first: int, stop: int) -> Edit:
    """Remove words ``first`` to ``stop`` (exclusive) and the separator before them."""
    previous = command.words[first - 1]
    return Edit(previous.end, command.words[stop - 1].end, "")


def replace_word(command: Command, index: int, value: str) -> Edit:
    word = command.words[index]
    return Edit(word.start, word.end, _quote(value, command.exec_form))
