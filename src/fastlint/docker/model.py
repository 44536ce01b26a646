"""The Dockerfile model: instructions with 1-based lines, grouped into stages.

dockerfile-parse does the lexing (continuation lines, comments); this module turns its flat
``structure`` into what rules and the deployment model ask about: stages and the project stage
each is built ``FROM``, ARG/ENV values with their defaults, the effective ``USER``, ``WORKDIR``,
``COPY``/``ADD`` mappings and the start command (``CMD``/``ENTRYPOINT``), with Docker's
inheritance from a parent stage. Everything is static: a value built from a variable without a
default stays unresolved, and rules stay silent on it.

Docker substitutes variables in FROM, ENV, ARG, USER, WORKDIR, COPY/ADD, EXPOSE, LABEL... but not
in RUN/CMD/ENTRYPOINT (the shell expands those at run time), so ``StartCommand.argv`` is kept as
written; call :func:`substitute` with ``stage.env`` to see what the shell would get.
"""

from __future__ import annotations

import io
import json
import posixpath
import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from dockerfile_parse import DockerfileParser

from fastlint.diagnostics import Location
from fastlint.discovery import SourceFile

# ---------------------------------------------------------------------------- substitution

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class _Unresolved(Exception):
    """Raised inside :func:`resolve` when a variable has no value."""


def _expand(text: str, env: Mapping[str, str], strict: bool) -> str:
    out: list[str] = []
    i = 0
    n = len(text)
    while i < n:
        char = text[i]
        if char == "\\" and i + 1 < n and text[i + 1] == "$":
            out.append("$")
            i += 2
            continue
        if char != "$" or i + 1 >= n:
            out.append(char)
            i += 1
            continue
        if text[i + 1] == "{":
            end = _closing_brace(text, i + 2)
            if end < 0:
                out.append(text[i:])
                break
            out.append(_expand_braced(text[i + 2 : end], text[i : end + 1], env, strict))
            i = end + 1
            continue
        match = _NAME.match(text, i + 1)
        if not match:
            out.append(char)
            i += 1
            continue
        name = match.group()
        if name in env:
            out.append(env[name])
        elif strict:
            raise _Unresolved(name)
        else:
            out.append("$" + name)
        i = match.end()
    return "".join(out)


def _closing_brace(text: str, start: int) -> int:
    depth = 1
    for index in range(start, len(text)):
        if text[index] == "{":
            depth += 1
        elif text[index] == "}":
            depth -= 1
            if depth == 0:
                return index
    return -1


def _expand_braced(inner: str, original: str, env: Mapping[str, str], strict: bool) -> str:
    match = _NAME.match(inner)
    if not match:
        if strict:
            raise _Unresolved(inner)
        return original
    name, rest = match.group(), inner[match.end() :]
    value = env.get(name)
    for operator in (":-", "-", ":+", "+"):
        if rest.startswith(operator):
            word = rest[len(operator) :]
            unset = value is None or (operator.startswith(":") and value == "")
            if operator.endswith("-"):
                return _expand(word, env, strict) if unset else str(value)
            return "" if unset else _expand(word, env, strict)
    if rest:  # ${VAR?err}, ${VAR#pattern}...: not something we evaluate
        if strict:
            raise _Unresolved(name)
        return original
    if value is None:
        if strict:
            raise _Unresolved(name)
        return original
    return value


def substitute(text: str, env: Mapping[str, str]) -> str:
    """``text`` with ``$VAR``, ``${VAR}``, ``${VAR:-default}``, ``${VAR-default}``,
    ``${VAR:+alt}`` and ``${VAR+alt}`` replaced from ``env``; unknown variables are left as
    written (so ``'$' in result`` tells a caller something stayed dynamic). ``\\$`` is a literal."""
    return _expand(text, env, strict=False)


def resolve(text: str, env: Mapping[str, str]) -> str | None:
    """Like :func:`substitute`, but None when any variable has no value (and no default)."""
    try:
        return _expand(text, env, strict=True)
    except _Unresolved:
        return None


def is_dynamic(text: str) -> bool:
    """True when ``text`` still refers to a variable (``$NAME`` or ``${...}``)."""
    return bool(re.search(r"(?<!\\)\$(\{|[A-Za-z_])", text))


# ---------------------------------------------------------------------------- data


@dataclass(frozen=True)
class Instruction:
    keyword: str  # upper case: FROM, RUN, USER, CMD, ... (COMMENT for comment lines)
    value: str  # continuation lines joined, as dockerfile-parse gives it (heredoc body appended)
    line: int  # 1-based first line
    end_line: int  # 1-based last line
    content: str  # the raw text, continuation lines included

    @property
    def flags(self) -> dict[str, str]:
        """Leading ``--name=value`` flags (``RUN --mount=...``, ``COPY --from=...``)."""
        return _split_flags(self.value)[0]

    @property
    def arguments(self) -> str:
        """The value without its leading flags: the script of a RUN, the image of a FROM."""
        return _split_flags(self.value)[1]

    @property
    def location(self) -> Location:
        """The instruction's first line, for reports (what fixtures and editors point at)."""
        first = self.content.splitlines()[0] if self.content else ""
        return Location(self.line, 1, self.line, len(first.rstrip()) + 1)


@dataclass
class StartCommand:
    """A CMD or ENTRYPOINT. ``argv`` is the JSON array for the exec form; for the shell form it is
    ``shlex.split(raw)`` and Docker really runs ``["/bin/sh", "-c", raw]`` (see ``process_argv``).
    Variables are left as written (Docker does not substitute in CMD/ENTRYPOINT)."""

    form: str  # "exec" | "shell"
    argv: list[str]
    raw: str
    line: int
    instruction: Instruction

    @property
    def is_shell_form(self) -> bool:
        return self.form == "shell"

    @property
    def process_argv(self) -> list[str]:
        """What Docker executes as PID 1 (before ENTRYPOINT/CMD are combined)."""
        return ["/bin/sh", "-c", self.raw] if self.form == "shell" else list(self.argv)


@dataclass(eq=False)
class Copy:
    """A COPY or ADD: ``sources`` (as written, variables substituted) land at ``destination``."""

    sources: list[str]
    destination: str
    from_stage: str | None  # the raw --from= value (a stage name, index or image), else None
    line: int
    instruction: Instruction
    workdir: str | None = None  # WORKDIR in effect (relative destinations are relative to it)
    source_stage: Stage | None = None  # the project stage --from names, if any
    keyword: str = "COPY"

    @property
    def absolute_destination(self) -> str:
        dest = self.destination
        if not dest.startswith("/"):
            dest = posixpath.join(self.workdir or "/", dest)
        normal = posixpath.normpath(dest)
        # "COPY a b/" keeps its meaning: b/ is a folder.
        return normal + "/" if self.destination.endswith("/") and normal != "/" else normal

    def sources_for(self, container_path: str) -> list[str]:
        """Build-context paths this instruction may have put at ``container_path`` (absolute).

        Candidates, not facts (whether a source is a folder needs the file system): check which
        exists in the project."""
        target = posixpath.normpath(container_path)
        dest = self.absolute_destination
        dest_is_dir = dest.endswith("/") or len(self.sources) > 1
        dest_dir = dest.rstrip("/") or "/"
        found: list[str] = []
        for source in self.sources:
            if "://" in source:  # ADD https://...
                continue
            src = posixpath.normpath(source.lstrip("/")) if source not in ("", ".") else "."
            base = "" if src == "." else src
            name = posixpath.basename(base)
            if not dest_is_dir and target == dest_dir and base:
                found.append(base)  # COPY a.sh /entrypoint.sh
            elif name and not _has_glob(name) and target == posixpath.join(dest_dir, name):
                found.append(base)  # COPY a.sh /app/ -> /app/a.sh
            elif _has_glob(name) and posixpath.dirname(target) == dest_dir:
                found.append(posixpath.join(posixpath.dirname(base), posixpath.basename(target)))
            if target.startswith(dest_dir.rstrip("/") + "/") and _may_be_folder(source):
                # A folder's contents copied: COPY . /app -> /app/x/y comes from x/y.
                rest = target[len(dest_dir.rstrip("/")) + 1 :]
                if not _has_glob(base):
                    found.append(posixpath.normpath(posixpath.join(base or ".", rest)))
        return list(dict.fromkeys(found))


def _may_be_folder(source: str) -> bool:
    """Without the file system we guess: ``.``, ``dir/`` and names without a suffix."""
    name = posixpath.basename(source.rstrip("/"))
    return source.endswith("/") or name in ("", ".") or "." not in name


def _has_glob(text: str) -> bool:
    return any(char in text for char in "*?[")


@dataclass(eq=False)  # identity: stages refer to each other
class Stage:
    index: int
    name: str | None  # the AS alias (lower case, as Docker compares them), or None
    base_image: str  # as written after FROM (flags and AS removed)
    base: str  # base_image with global ARGs substituted (unknown variables left as written)
    from_instruction: Instruction
    parent: Stage | None = None  # the project stage this one is built FROM
    instructions: list[Instruction] = field(default_factory=list)  # after FROM, COMMENTs included
    env: dict[str, str] = field(default_factory=dict)  # ENV (the container's environment)
    args: dict[str, str] = field(default_factory=dict)  # ARGs in scope with their defaults
    user: str | None = None  # last USER (substituted; may stay dynamic), inherited from parent
    user_instruction: Instruction | None = None  # where that USER is written (maybe in parent)
    workdir: str | None = None  # last WORKDIR, absolute, inherited from parent
    copies: list[Copy] = field(default_factory=list)  # this stage's own COPY/ADD, in order
    cmd: StartCommand | None = None  # inherited from parent unless set or reset by ENTRYPOINT
    entrypoint: StartCommand | None = None
    # (line, variables from that line on), appended at each ARG/ENV: see variables_at().
    _history: list[tuple[int, dict[str, str]]] = field(default_factory=list, repr=False)

    @property
    def variables(self) -> dict[str, str]:
        """What Dockerfile substitution sees at the end of the stage: ARGs, overridden by ENV."""
        return {**self.args, **self.env}

    def variables_at(self, line: int) -> dict[str, str]:
        """ARG/ENV values in effect at ``line`` of this stage: what a RUN there sees."""
        if line <= self.from_instruction.line and self.parent is not None:
            return self.parent.variables_at(line)
        current: dict[str, str] = {}
        for changed_at, values in self._history:
            if changed_at >= line:
                break
            current = values
        return dict(current)

    @property
    def start_command(self) -> StartCommand | None:
        """The instruction that decides PID 1: ENTRYPOINT if set, else CMD."""
        return self.entrypoint or self.cmd

    @property
    def process_argv(self) -> list[str] | None:
        """What the container runs, ENTRYPOINT and CMD combined as Docker does (a shell-form
        ENTRYPOINT ignores CMD); None without either."""
        if self.entrypoint is None:
            return None if self.cmd is None else self.cmd.process_argv
        if self.entrypoint.is_shell_form or self.cmd is None:
            return self.entrypoint.process_argv
        return self.entrypoint.process_argv + self.cmd.process_argv

    @property
    def ancestry(self) -> list[Stage]:
        """This stage, then the project stage it is built FROM, and so on."""
        chain: list[Stage] = []
        stage: Stage | None = self
        while stage is not None and stage not in chain:
            chain.append(stage)
            stage = stage.parent
        return chain

    @property
    def root_base(self) -> str:
        """The external image at the bottom of the ancestry (``FROM builder`` looks through)."""
        return self.ancestry[-1].base

    @property
    def all_copies(self) -> list[Copy]:
        """COPY/ADD of this stage and the project stages it is built FROM, oldest first."""
        return [copy for stage in reversed(self.ancestry) for copy in stage.copies]

    def sources_for(self, container_path: str, _depth: int = 0) -> list[str]:
        """Build-context paths that may end up at ``container_path`` in this stage, most recent
        COPY first; a ``COPY --from=<project stage>`` is followed into that stage."""
        found: list[str] = []
        for copy in reversed(self.all_copies):
            if copy.from_stage is None:
                found.extend(copy.sources_for(container_path))
            elif copy.source_stage is not None and _depth < 8:
                for inner in copy.sources_for(container_path):
                    found.extend(copy.source_stage.sources_for("/" + inner, _depth + 1))
        return list(dict.fromkeys(found))

    def instructions_of(self, *keywords: str) -> list[Instruction]:
        return [ins for ins in self.instructions if ins.keyword in keywords]

    def written_file(self, container_path: str) -> tuple[str, int] | None:
        """The text a ``RUN cat > PATH <<'EOF'`` heredoc writes at ``container_path`` (absolute)
        in this stage or one it is built FROM, and the Dockerfile line its body starts on; the
        last such RUN wins. None when no RUN writes it that way."""
        target = posixpath.normpath(container_path)
        for stage in self.ancestry:
            for instruction in reversed(stage.instructions_of("RUN")):
                command, _, body = instruction.value.partition("\n")
                match = _CAT_TO_FILE.match(command.strip())
                if match is None or not body:
                    continue
                written = posixpath.join(stage.workdir_at(instruction.line), match.group(1))
                if posixpath.normpath(written) == target:
                    return body, instruction.line + 1
        return None

    def workdir_at(self, line: int) -> str:
        """The WORKDIR in effect at ``line`` of this stage (``/`` before any)."""
        workdir = self.parent.workdir_at(line) if self.parent is not None else "/"
        for instruction in self.instructions_of("WORKDIR"):
            if instruction.line < line:
                path = substitute(instruction.value.strip(), self.variables_at(instruction.line))
                workdir = posixpath.normpath(posixpath.join(workdir, path))
        return workdir


# `RUN cat > /app/entrypoint.sh << 'EOF'` (the heredoc marker is already cut from the value).
_CAT_TO_FILE = re.compile(r"^cat\s*>\s*([^\s;&|<>]+)$")


@dataclass(eq=False)
class DockerfileModel:
    source: SourceFile
    text: str
    instructions: list[Instruction] = field(default_factory=list)  # every one, in line order
    stages: list[Stage] = field(default_factory=list)
    args: dict[str, str] = field(default_factory=dict)  # global ARGs (before the first FROM)

    @property
    def path(self) -> str:
        return self.source.display

    @property
    def final_stage(self) -> Stage | None:
        """The stage that ships: the last one, unless it is named for tests or development
        (``FROM base AS test`` after the runtime stage, built with ``--target``). Then a stage
        named for production (``prod``, ``runtime``, ``release``...), else the last stage that
        could run as a container: one with a start command, or one no other stage builds on.
        None when only intermediate stages are left (``base``, ``deps``: a builder nobody runs),
        since judging those as the service reports what never runs."""
        if not self.stages:
            return None
        kept = [s for s in self.stages if not (s.name and _is_development_name(s.name))]
        if not kept:
            return self.stages[-1]
        if kept[-1] is self.stages[-1]:
            return kept[-1]
        for stage in reversed(kept):
            if stage.name and _is_production_name(stage.name):
                return stage
        built_on = {id(s.parent) for s in self.stages if s.parent is not None}
        built_on |= {id(c.source_stage) for s in self.stages for c in s.copies if c.source_stage}
        for stage in reversed(kept):
            if stage.start_command is not None or id(stage) not in built_on:
                return stage
        return None

    def stage_named(self, name: str) -> Stage | None:
        """A stage by ``AS`` alias (case-insensitive) or by index, as ``--from=`` may name it."""
        wanted = name.lower()
        for stage in self.stages:
            if stage.name == wanted:
                return stage
        if wanted.isdigit() and int(wanted) < len(self.stages):
            return self.stages[int(wanted)]
        return None

    @property
    def is_development(self) -> bool:
        """Named for local development or CI (``Dockerfile.dev``, ``test.Dockerfile``,
        ``.devcontainer/Dockerfile``): production rules stay quiet on these."""
        parts = PurePosixPath(self.source.relpath).parts
        if any(part == ".devcontainer" for part in parts[:-1]):
            return True
        return bool(parts) and _is_development_name(parts[-1])

    @property
    def in_test_folder(self) -> bool:
        """Under a ``tests/``, ``e2e/``... folder: test infrastructure, unless deployed."""
        return in_test_folder(self.source.relpath)


def in_test_folder(path: str) -> bool:
    """``path`` lies under a folder of test code (``tests/``, ``e2e/``, ``integration_tests/``)."""
    return any(part.lower() in _TEST_FOLDERS for part in PurePosixPath(path).parts[:-1])


# Folders of test code: a Dockerfile in one builds a test fixture (a mock server), unless a
# production deployment runs it.
_TEST_FOLDERS = frozenset(
    {"tests", "test", "testing", "e2e", "integration_tests", "integration-tests", "__tests__"}
    | {"loadtest", "loadtests", "load_tests", "load-tests"}
)

_DEV_WORDS = frozenset(
    {"dev", "development", "local", "test", "tests", "testing", "ci", "debug", "lint"}
)


def _is_development_name(name: str) -> bool:
    words = set(re.split(r"[._-]", name.lower())) - {"dockerfile", "containerfile"}
    return bool(words & _DEV_WORDS)


# Stage names that say "this is the image that ships".
_PRODUCTION_WORDS = frozenset({"prod", "production", "runtime", "release", "final", "app"})


def _is_production_name(name: str) -> bool:
    return bool(set(re.split(r"[._-]", name.lower())) & _PRODUCTION_WORDS)


# ---------------------------------------------------------------------------- parsing


def load_dockerfile(source: SourceFile, text: str) -> DockerfileModel:
    """Parse ``text``. Odd input is read as leniently as Docker reads it; only a file Docker
    would refuse outright (no FROM, a FROM without an image) raises UnreadableFile (FL000)."""
    model = DockerfileModel(source, text)
    model.instructions = _instructions(text)
    _refuse_non_dockerfile(model.instructions, text)
    _build_stages(model)
    return model


def _refuse_non_dockerfile(instructions: list[Instruction], text: str) -> None:
    """A file of prose or a template under a Dockerfile name parses (dockerfile-parse takes
    every line's first word for an instruction), and then the rules would judge it ("FROM
    never sets USER"). Such a file gets one FL000 instead, which says what is wrong with it."""
    from fastlint.reading import UnreadableFile

    problem = not_a_dockerfile(instructions)
    if problem is not None:
        raise UnreadableFile(*problem, text=text)


def not_a_dockerfile(instructions: list[Instruction]) -> tuple[str, Location] | None:
    """Why Docker would refuse these instructions outright, and where; None when it would not:
    instructions but no FROM (prose, garbage), or a FROM that names no image."""
    real = [i for i in instructions if i.keyword != "COMMENT"]
    froms = [i for i in real if i.keyword == "FROM"]
    if real and not froms:
        first = real[0]
        return (
            f"not a Dockerfile: no FROM instruction (line {first.line} starts with "
            f"'{first.content.split()[0] if first.content.split() else first.keyword}')",
            first.location,
        )
    for instruction in froms:
        if not _split_flags(instruction.value)[1].strip():
            return "not a Dockerfile: FROM names no image", instruction.location
    return None


def _instructions(text: str) -> list[Instruction]:
    try:
        parser = DockerfileParser(fileobj=io.BytesIO(text.encode("utf-8")))
        structure = list(parser.structure)
    except Exception:  # dockerfile-parse is lenient, but a linter must never crash on input
        return []
    entries = sorted(structure, key=lambda entry: (entry["startline"], entry["endline"]))
    lines = text.splitlines()
    result: list[Instruction] = []
    swallowed_until = -1
    for entry in entries:
        if entry["startline"] <= swallowed_until:
            continue  # a line of a heredoc body that dockerfile-parse took for an instruction
        instruction = Instruction(
            keyword=str(entry["instruction"]).upper(),
            value=str(entry.get("value") or ""),
            line=entry["startline"] + 1,
            end_line=entry["endline"] + 1,
            content=str(entry.get("content") or ""),
        )
        instruction, swallowed_until = _with_heredocs(instruction, lines, swallowed_until)
        result.append(instruction)
    return result


_HEREDOC = re.compile(r"<<(-?)\s*([\"']?)([A-Za-z_][A-Za-z0-9_]*)\2")


def _with_heredocs(
    instruction: Instruction, lines: list[str], swallowed_until: int
) -> tuple[Instruction, int]:
    """``RUN <<EOF`` ... ``EOF``: append the body to the instruction's value."""
    if instruction.keyword not in ("RUN", "COPY", "ADD") or "<<" not in instruction.value:
        return instruction, swallowed_until
    cursor = instruction.end_line  # 0-based index of the first body line
    bodies: list[str] = []
    for match in _HEREDOC.finditer(instruction.value):
        delimiter = match.group(3)
        body: list[str] = []
        while cursor < len(lines):
            line = lines[cursor]
            cursor += 1
            if (line.lstrip("\t") if match.group(1) else line) == delimiter:
                break
            body.append(line)
        bodies.append("\n".join(body))
    if not bodies:
        return instruction, swallowed_until
    value = _HEREDOC.sub("", instruction.value).strip()
    joined = "\n".join(part for part in [value, *bodies] if part)
    content = "\n".join(lines[instruction.line - 1 : cursor]) + "\n"
    updated = Instruction(instruction.keyword, joined, instruction.line, cursor, content)
    return updated, cursor - 1


def _split_flags(value: str) -> tuple[dict[str, str], str]:
    """Leading ``--name=value`` flags of an instruction, and the rest."""
    flags: dict[str, str] = {}
    rest = value.strip()
    while rest.startswith("--"):
        head, _, tail = rest.partition(" ")
        name, _, flag_value = head[2:].partition("=")
        flags[name.lower()] = flag_value
        rest = tail.strip()
    return flags, rest


def _split_words(text: str) -> list[str]:
    try:
        return shlex.split(text)
    except ValueError:  # unbalanced quotes: Docker would fail the build; we just read words
        return text.split()


def _parse_assignments(value: str) -> list[tuple[str, str | None]]:
    """``ENV A=1 B="two words"``, legacy ``ENV A one two``, ``ARG NAME``, ``ARG NAME=default``."""
    words = _split_words(value)
    if not words:
        return []
    if "=" not in words[0]:
        # Legacy ENV form: one variable, the rest of the line is its value.
        name, _, rest = value.strip().partition(" ")
        return [(name, rest.strip() if rest.strip() else None)]
    pairs: list[tuple[str, str | None]] = []
    for word in words:
        name, sep, assigned = word.partition("=")
        if _NAME.fullmatch(name):
            pairs.append((name, assigned if sep else None))
    return pairs


def _start_command(instruction: Instruction) -> StartCommand:
    raw = instruction.value.strip()
    if raw.startswith("["):
        try:
            parsed = json.loads(raw)
        except ValueError:
            parsed = None
        if isinstance(parsed, list) and all(isinstance(item, str) for item in parsed):
            return StartCommand("exec", list(parsed), raw, instruction.line, instruction)
    # Invalid JSON is run by Docker as a shell command: so do we.
    return StartCommand("shell", _split_words(raw), raw, instruction.line, instruction)


def _parse_from(value: str) -> tuple[str, str | None]:
    _, rest = _split_flags(value)
    words = rest.split()
    if not words:
        return "", None
    name = None
    if len(words) >= 3 and words[1].lower() == "as":
        name = words[2].lower()
    return words[0], name


def _build_stages(model: DockerfileModel) -> None:
    current: Stage | None = None
    for instruction in model.instructions:
        keyword = instruction.keyword
        if keyword == "FROM":
            current = _new_stage(model, instruction)
            model.stages.append(current)
            continue
        if current is None:
            if keyword == "ARG":
                for name, default in _parse_assignments(instruction.value):
                    value = substitute(default, model.args) if default is not None else None
                    if value is not None:
                        model.args[name] = value
            continue
        current.instructions.append(instruction)
        _apply(model, current, instruction)


def _new_stage(model: DockerfileModel, instruction: Instruction) -> Stage:
    image, name = _parse_from(instruction.value)
    base = substitute(image, model.args)
    stage = Stage(
        index=len(model.stages),
        name=name,
        base_image=image,
        base=base,
        from_instruction=instruction,
    )
    parent = next((s for s in reversed(model.stages) if s.name and s.name == base.lower()), None)
    if parent is not None:
        stage.parent = parent
        stage.env = dict(parent.env)
        stage.user = parent.user
        stage.user_instruction = parent.user_instruction
        stage.workdir = parent.workdir
        stage.cmd = parent.cmd
        stage.entrypoint = parent.entrypoint
    stage._history.append((instruction.line, stage.variables))
    return stage


def _apply(model: DockerfileModel, stage: Stage, instruction: Instruction) -> None:
    keyword = instruction.keyword
    if keyword == "ARG":
        for name, default in _parse_assignments(instruction.value):
            if default is not None:
                stage.args[name] = substitute(default, stage.variables)
            elif name in model.args:  # `ARG NAME` brings a global ARG into the stage
                stage.args[name] = model.args[name]
    elif keyword == "ENV":
        for name, value in _parse_assignments(instruction.value):
            if value is not None:
                stage.env[name] = substitute(value, stage.variables)
    if keyword in ("ARG", "ENV"):
        stage._history.append((instruction.line, stage.variables))
    elif keyword == "USER":
        stage.user = substitute(instruction.value.strip(), stage.variables)
        stage.user_instruction = instruction
    elif keyword == "WORKDIR":
        path = substitute(instruction.value.strip(), stage.variables)
        if path:
            stage.workdir = posixpath.normpath(posixpath.join(stage.workdir or "/", path))
    elif keyword in ("COPY", "ADD"):
        copy = _parse_copy(model, stage, instruction)
        if copy is not None:
            stage.copies.append(copy)
    elif keyword == "CMD":
        stage.cmd = _start_command(instruction)
    elif keyword == "ENTRYPOINT":
        stage.entrypoint = _start_command(instruction)
        if stage.cmd is not None and stage.cmd.instruction not in stage.instructions:
            stage.cmd = None  # Docker resets an inherited CMD when ENTRYPOINT is set


def _parse_copy(model: DockerfileModel, stage: Stage, instruction: Instruction) -> Copy | None:
    flags, rest = _split_flags(instruction.value)
    rest = rest.strip()
    words: list[str] | None = None
    if rest.startswith("["):
        try:
            parsed = json.loads(rest)
        except ValueError:
            parsed = None
        if isinstance(parsed, list) and all(isinstance(item, str) for item in parsed):
            words = parsed
    if words is None:
        words = _split_words(rest)
    words = [substitute(word, stage.variables) for word in words]
    if len(words) < 2:
        return None
    from_value = flags.get("from")
    return Copy(
        sources=words[:-1],
        destination=words[-1],
        from_stage=from_value or None,
        line=instruction.line,
        instruction=instruction,
        workdir=stage.workdir,
        source_stage=model.stage_named(from_value) if from_value else None,
        keyword=instruction.keyword,
    )
