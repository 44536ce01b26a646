"""Split shell command lines into simple commands, and expand their words statically.

A command line (a shell script, a shell-form ``CMD``, a Procfile entry, the string given to
``sh -c``) becomes a list of :class:`SimpleCommand`: its words with quotes removed, its
``VAR=x`` prefixes, whether it was started with ``exec``, and how it is chained to the commands
around it. Splitting uses :mod:`shlex`; a quote-aware pre-scan first joins continuation lines,
replaces command substitutions (``$(nproc)``, backticks, ``$((...))``) with placeholders and
drops redirections, so shlex only sees words and the operators ``&& || ; | &``.

Words are expanded later, against what is known of the environment, by :func:`expand`: a
variable that is set expands to its value, ``${VAR:-default}`` falls back to its default but
remembers the variable could override it, and anything else (an unset variable, a command
substitution other than ``nproc``) makes the word's value unknown.
"""

from __future__ import annotations

import ast
import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field

# Placeholder for the i-th command substitution of a line: never produced by real scripts.
_SUB_OPEN, _SUB_CLOSE = "\x01", "\x02"
_SUB = re.compile(r"\x01(\d+)\x02")
_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
# Shell words that open or continue a compound command; the command follows them.
_KEYWORDS = frozenset({"then", "else", "do", "!", "{", "(", "if", "elif", "while", "until"})
_CLOSERS = frozenset({"fi", "done", "}", ")", "esac", ";;"})
# Commands that print the number of CPUs.
_CPU_COMMANDS = (
    re.compile(r"^nproc(\s+--all)?$"),
    re.compile(r"^getconf\s+_?NPROCESSORS_ONLN$"),
    re.compile(r"^python3?\s+-c\s+.*cpu_count\(\).*$"),
)


@dataclass
class SimpleCommand:
    """One simple command as written: ``[exec] [VAR=x ...] word word ...``."""

    words: list[str]  # quotes removed, not expanded ($VAR and placeholders kept)
    assignments: dict[str, str]  # VAR=x prefixes (unexpanded values)
    exec: bool  # started with the ``exec`` builtin: it replaces the shell
    line: int  # 1-based line where the command starts
    substitutions: tuple[str, ...] = ()  # inner text of each command substitution placeholder
    connector: str = ""  # operator before it: "", "&&", "||", ";", "|"
    background: bool = False  # followed by ``&``
    text: str = ""  # the logical line it came from (for messages)
    word_lines: list[int] = field(default_factory=list)  # the line each word is written on

    @property
    def name(self) -> str:
        """The command word's basename (``/usr/local/bin/gunicorn`` → ``gunicorn``)."""
        return self.words[0].rsplit("/", 1)[-1] if self.words else ""


@dataclass(frozen=True)
class Word:
    """A word after expansion: its value when known, and where that value came from."""

    value: str | None  # None when it depends on something unknown (unset variable, $(cmd))
    raw: str
    cpu: bool = False  # uses the CPU count directly (``$(nproc)``)
    cpu_fallback: bool = False  # uses it only as the default of a variable (``${W:-$(nproc)}``)
    variables: tuple[str, ...] = ()  # variables read through ``${VAR:-default}`` (overridable)
    # The variables a CPU count travelled through, from the one assigned ``$(nproc)`` on:
    # ``CORES=$(nproc); W=$CORES; -w $W`` → ("CORES", "W").
    cpu_chain: tuple[str, ...] = ()


# ---------------------------------------------------------------------------- splitting


def split_script(text: str, first_line: int = 1) -> list[SimpleCommand]:
    """Every simple command of a script (or of a one-line command string), in order."""
    commands: list[SimpleCommand] = []
    for line, logical, segments in _logical_lines(text, first_line):
        commands.extend(split_line(logical, line, segments))
    return commands


def split_line(
    text: str, line: int = 1, segments: list[tuple[int, str]] | None = None
) -> list[SimpleCommand]:
    """The simple commands of one logical line (``a && b; exec c``).

    ``segments`` are the physical lines a continued line was joined from (line number, text):
    with them each word knows the line it is written on.
    """
    scanned, substitutions = _prescan(text)
    tokens = _tokens(scanned)
    if tokens is None:  # unbalanced quotes: not something we can read statically
        return []
    lines = _token_lines(tokens, segments, line)
    commands: list[SimpleCommand] = []
    current: list[tuple[str, int]] = []
    connector = ""

    def flush(next_connector: str, background: bool = False) -> None:
        nonlocal connector
        command = _make_command(current, line, tuple(substitutions), connector, text)
        if command is not None:
            command.background = background
            commands.append(command)
        current.clear()
        connector = next_connector

    for token, token_line in zip(tokens, lines):
        if token and set(token) <= set(";&|()"):
            if token == "&":
                flush(";", background=True)
            elif token in ("(", ")"):
                flush(connector if not current else ";")
            else:
                flush(token if token in ("&&", "||", "|") else ";")
        else:
            current.append((token, token_line))
    flush("")
    return commands


def _tokens(scanned: str) -> list[str] | None:
    lexer = shlex.shlex(scanned, posix=True, punctuation_chars=";&|()")
    lexer.whitespace_split = True
    lexer.commenters = "#"
    try:
        return list(lexer)
    except ValueError:
        return None


def _token_lines(tokens: list[str], segments: list[tuple[int, str]] | None, line: int) -> list[int]:
    """The physical line of each token; the first line when a quote spans lines."""
    if not segments or len(segments) == 1 or any(text.endswith("\n") for _, text in segments):
        return [line] * len(tokens)
    lines: list[int] = []
    for number, text in segments:
        counted = _tokens(_prescan(text)[0])
        if counted is None:
            return [line] * len(tokens)
        lines.extend([number] * len(counted))
    return lines if len(lines) == len(tokens) else [line] * len(tokens)


def _make_command(
    tokens: list[tuple[str, int]],
    line: int,
    substitutions: tuple[str, ...],
    connector: str,
    text: str,
) -> SimpleCommand | None:
    words = list(tokens)
    while words and words[0][0] in _KEYWORDS:
        words.pop(0)
    if words and words[0][0] in _CLOSERS:
        return None
    assignments: dict[str, str] = {}
    is_exec = False
    first_line = words[0][1] if words else line
    while words:
        if _ASSIGNMENT.match(words[0][0]):
            name, _, value = words.pop(0)[0].partition("=")
            assignments[name] = value
        elif words[0][0] == "exec":
            is_exec = True
            words.pop(0)
        else:
            break
    if not words and not assignments:
        return None
    return SimpleCommand(
        [word for word, _ in words],
        assignments,
        is_exec,
        first_line,
        substitutions,
        connector,
        text=text,
        word_lines=[number for _, number in words],
    )


def _logical_lines(text: str, first_line: int) -> list[tuple[int, str, list[tuple[int, str]]]]:
    """Lines with backslash continuations and multi-line quotes joined: (first line, text,
    the physical segments). A segment ends in a newline when a quote continues past it."""
    lines = text.splitlines()
    result: list[tuple[int, str, list[tuple[int, str]]]] = []
    segments: list[tuple[int, str]] = []
    for offset, raw in enumerate(lines):
        number = first_line + offset
        stripped = raw.rstrip()
        continued = stripped.endswith("\\") and not _is_comment(raw)
        segments.append((number, stripped[:-1] if continued else raw))
        if continued and offset + 1 < len(lines):
            continue
        joined = "".join(text for _, text in segments)
        if _open_quote(joined) and offset + 1 < len(lines):
            segments[-1] = (number, raw + "\n")
            continue
        result.append((segments[0][0], joined, segments))
        segments = []
    if segments:
        result.append((segments[0][0], "".join(text for _, text in segments), segments))
    return result


def _is_comment(line: str) -> bool:
    return line.lstrip().startswith("#")


def _open_quote(text: str) -> bool:
    quote = ""
    escaped = False
    for char in text:
        if escaped:
            escaped = False
        elif char == "\\" and quote != "'":
            escaped = True
        elif quote:
            if char == quote:
                quote = ""
        elif char in "'\"":
            quote = char
        elif char == "#" and not quote:
            break
    return bool(quote)


def _prescan(text: str) -> tuple[str, list[str]]:
    """Replace ``$(...)``, ``$((...))`` and backticks with placeholders; drop redirections."""
    out: list[str] = []
    substitutions: list[str] = []
    quote = ""
    index = 0
    length = len(text)
    while index < length:
        char = text[index]
        if quote == "'":
            out.append(char)
            if char == "'":
                quote = ""
            index += 1
            continue
        if char == "\\" and index + 1 < length:
            out.append(text[index : index + 2])
            index += 2
            continue
        if char == "$" and text.startswith("$(", index):
            end = _matching_paren(text, index + 1)
            inner = text[index + 2 : end]
            substitutions.append(inner)
            out.append(f"{_SUB_OPEN}{len(substitutions) - 1}{_SUB_CLOSE}")
            index = end + 1
            continue
        if char == "`":
            end = text.find("`", index + 1)
            end = length if end < 0 else end
            substitutions.append(text[index + 1 : end])
            out.append(f"{_SUB_OPEN}{len(substitutions) - 1}{_SUB_CLOSE}")
            index = end + 1
            continue
        if char == '"':
            quote = "" if quote == '"' else '"'
        elif char == "'" and not quote:
            quote = "'"
        elif not quote:
            skip = _redirection_length(text, index, out)
            if skip:
                index += skip
                continue
        out.append(char)
        index += 1
    return "".join(out), substitutions


_REDIRECT = re.compile(r"(?:\d*>>?|&>>?|\d*<)(?:&\d+|&-|\s*[^\s;&|()]+)")


def _redirection_length(text: str, index: int, out: list[str]) -> int:
    """Length of a redirection (``2>&1``, ``> /dev/null``, ``< in``) starting at ``index``."""
    char = text[index]
    at_word_start = not out or out[-1][-1:].isspace()
    if char.isdigit():
        if not at_word_start or not re.match(r"\d+[<>]", text[index:]):
            return 0
    elif char == "&":
        if not text.startswith("&>", index):
            return 0
    elif char not in "<>":
        return 0
    match = _REDIRECT.match(text, index)
    return 0 if match is None else match.end() - index


def _matching_paren(text: str, open_index: int) -> int:
    depth = 0
    for index in range(open_index, len(text)):
        if text[index] == "(":
            depth += 1
        elif text[index] == ")":
            depth -= 1
            if depth == 0:
                return index
    return len(text)


# ---------------------------------------------------------------------------- expansion

_VARIABLE = re.compile(r"\$(?:\{(?P<braced>[^}]*)\}|(?P<plain>[A-Za-z_][A-Za-z0-9_]*|[@*#?0-9]))")


def expand(
    word: str,
    env: Mapping[str, str | None],
    substitutions: tuple[str, ...] = (),
    cpus: int = 4,
    origins: Mapping[str, Word] | None = None,
) -> Word:
    """Expand ``$VAR``, ``${VAR:-default}``, ``$(nproc)`` and ``$((...))`` in one word.

    ``env`` maps variables known to be set to their value (None: set, value unknown). CPU counts
    evaluate to ``cpus`` and mark the word; anything unknown makes ``value`` None. ``origins``
    holds the expanded words variables were assigned from (``W=$(nproc)``), so ``-w $W`` is
    marked as CPU-derived too. Every variable read is listed in ``variables``.
    """
    state = _Expansion(origins=origins or {})
    value = _expand_text(word, env, substitutions, cpus, state, in_default=False)
    return Word(
        value=None if state.unknown else value,
        raw=word,
        cpu=state.cpu,
        cpu_fallback=state.cpu_fallback,
        variables=tuple(state.variables),
        cpu_chain=state.cpu_chain,
    )


@dataclass
class _Expansion:
    unknown: bool = False
    cpu: bool = False
    cpu_fallback: bool = False
    variables: list[str] = field(default_factory=list)
    origins: Mapping[str, Word] = field(default_factory=dict)
    cpu_chain: tuple[str, ...] = ()

    def read(self, name: str, in_default: bool) -> None:
        if name not in self.variables:
            self.variables.append(name)
        origin = self.origins.get(name)
        if origin is None:
            return
        if (origin.cpu or origin.cpu_fallback) and not self.cpu_chain:
            self.cpu_chain = (*origin.cpu_chain, name)
        if origin.cpu and not in_default:
            self.cpu = True
        elif origin.cpu or origin.cpu_fallback:
            self.cpu_fallback = True
        self.variables.extend(v for v in origin.variables if v not in self.variables)


def _expand_text(
    text: str,
    env: Mapping[str, str | None],
    substitutions: tuple[str, ...],
    cpus: int,
    state: _Expansion,
    in_default: bool,
) -> str:
    def substitution(match: re.Match[str]) -> str:
        index = int(match.group(1))
        inner = substitutions[index].strip() if index < len(substitutions) else ""
        if inner.startswith("(") and inner.endswith(")"):  # $((arithmetic))
            scanned, nested = _prescan(inner[1:-1])
            expression = _expand_text(scanned, env, tuple(nested), cpus, state, in_default)
            result = _arithmetic(expression, env)
            if result is None:
                state.unknown = True
                return ""
            return str(result)
        if any(pattern.match(inner) for pattern in _CPU_COMMANDS):
            if in_default:
                state.cpu_fallback = True
            else:
                state.cpu = True
            if not inner.startswith(("nproc", "getconf")):
                state.unknown = True  # python -c "...cpu_count() * 2 + 1": some formula of it
            return str(cpus)
        state.unknown = True
        return ""

    def variable(match: re.Match[str]) -> str:
        braced = match.group("braced")
        if braced is None:
            return _lookup(match.group("plain"), env, state, in_default)
        operator = re.match(r"^([A-Za-z_][A-Za-z0-9_]*)(:?[-=])(.*)$", braced, re.S)
        if operator is None:
            return _lookup(braced, env, state, in_default)
        name, _, default = operator.groups()
        if name in env:
            return _lookup(name, env, state, in_default)
        state.read(name, in_default)
        return _expand_text(default, env, substitutions, cpus, state, in_default=True)

    # Variables first: a default's own substitutions are expanded as fallbacks.
    text = _VARIABLE.sub(variable, text)
    return _SUB.sub(substitution, text)


def _lookup(name: str, env: Mapping[str, str | None], state: _Expansion, in_default: bool) -> str:
    if name not in ("@", "*", "#", "?") and not name.isdigit():
        state.read(name, in_default)
    value = env.get(name)
    if value is None:
        state.unknown = True
        return ""
    return value


def _arithmetic(expression: str, env: Mapping[str, str | None]) -> int | None:
    """Evaluate ``$((...))``: integers, variable names, + - * / % and parentheses."""

    def name(match: re.Match[str]) -> str:
        value = env.get(match.group(0))
        return value if value is not None and value.strip().lstrip("-").isdigit() else "?"

    text = re.sub(r"[A-Za-z_][A-Za-z0-9_]*", name, expression).replace("/", "//")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError:
        return None
    return _integer(tree.body)


_OPERATORS = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.FloorDiv: lambda a, b: a // b if b else None,
    ast.Mod: lambda a, b: a % b if b else None,
}


def _integer(node: ast.AST) -> int | None:
    """An integer expression's value, computed on the parsed tree (nothing is executed)."""
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        inner = _integer(node.operand)
        return None if inner is None else -inner
    if isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
        left, right = _integer(node.left), _integer(node.right)
        if left is None or right is None:
            return None
        return _OPERATORS[type(node.op)](left, right)
    return None


def positional_args(words: list[str]) -> bool:
    """Whether a command is ``"$@"`` (or ``$*``): it runs the script's arguments."""
    return bool(words) and words[0] in ("$@", "$*", "${@}", "${*}")


# Commands that copy or arrange files and then return: a container whose start command runs
# only these is a one-shot job (it fills a volume and exits), not a long-running service.
_FILE_COMMANDS = frozenset(
    {"cp", "mv", "rm", "mkdir", "ln", "touch", "chmod", "chown", "rsync", "tar", "find"}
    | {"echo", "printf", "true", ":", "test", "[", "ls", "cat"}
)
_SHELL_NAMES = frozenset({"sh", "bash", "dash", "ash", "zsh"})


def copies_and_exits(argv: list[str]) -> str | None:
    """The file command (``cp``...) a container's start command ``argv`` runs when it runs
    nothing else (``["sh", "-c", "mkdir -p /out && cp -r /build/* /out/"]``), else None."""
    if not argv:
        return None
    name = argv[0].rsplit("/", 1)[-1]
    if name in _SHELL_NAMES and len(argv) >= 3 and argv[1] == "-c":
        commands = [c for c in split_script(argv[2]) if c.words]
        if not commands or any(c.name not in _FILE_COMMANDS or c.background for c in commands):
            return None
        return next((c.name for c in commands if c.name in ("cp", "rsync", "mv", "tar")), None)
    return name if name in ("cp", "rsync") else None
