"""What a module can reach through its imports, read from its text: the per-file pre-filters.

A rule declares what a module must show for the rule to find anything in it
(:class:`Mentions`, :class:`Reaches`); a module no enabled rule could report on is not parsed
for itself (it may still be parsed as another module's context). ``FL301`` cannot report on a
module from which no chain of project imports leads to a module that spells ``sqlalchemy``,
``sqlmodel`` or ``databases``: every name the analysis resolves is reached by such imports.

Imports are found by a text scan, not a parse, and it errs on the side of more: ``import a.b``
reaches every module of package ``a`` (``a.c.X`` resolves through it too), ``from a import
b`` reaches ``a`` and everything under ``a.b``, an import in a docstring counts. More only costs
a parse. The modules whose imports a scan followed are reported to the read hook as
``IMPORTS`` (:mod:`fastlint.python.reads`), so the speed layer re-asks an answer only when a
module on its path changed its imports.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections import deque
from collections.abc import Iterator
from typing import TYPE_CHECKING, Optional, Union

from fastlint.python import reads
from fastlint.python.reads import IMPORTS, Spelling

if TYPE_CHECKING:
    from fastlint.python.module import PythonModule
    from fastlint.python.project import Project

# (dots of a relative import, dotted module, imported names or None for ``import a.b``)
Import = tuple[int, str, Optional[tuple[str, ...]]]

# Blanks with backslash continuations, and a logical line. Each pattern starts with its
# keyword, which Python's ``re`` finds quickly; whether the keyword starts a statement (a
# line, or after ``;`` or ``try:``) is checked after (a leading ``(?:^|[;:])`` made ``re``
# try every position of the text: six times slower).
_GAP = r"(?:[ \t]|\\\n)"
_LOGICAL = r"[^\n]*(?:\\\n[^\n]*)*"
_FROM = re.compile(rf"from{_GAP}*(\.*){_GAP}*([\w.]*){_GAP}+import\b{_GAP}*(\([^)]*\)|{_LOGICAL})")
_IMPORT = re.compile(rf"import{_GAP}+((?:[\w. \t,]|\\\n)+)")
_WORD = re.compile(r"[A-Za-z_]\w*|\*")


def scan_imports(text: str) -> tuple[Import, ...]:
    """Every import statement the text seems to hold, sorted."""
    found: set[Import] = set()
    if "import" not in text:
        return ()
    for match in _statements(_FROM, text):
        names = tuple(sorted(set(_WORD.findall(match.group(3)))))
        found.add((len(match.group(1)), match.group(2), names))
    for match in _statements(_IMPORT, text):
        for piece in match.group(1).replace("\\\n", " ").split(","):
            words = piece.split()
            if words:
                found.add((0, words[0], None))
    return tuple(sorted(found, key=repr))


def _statements(pattern: re.Pattern[str], text: str) -> Iterator[re.Match[str]]:
    """The matches of ``pattern`` that start a statement. One that does not is passed over
    from its first character only: it may span lines (``from x import (...)``) that hold
    real imports."""
    position = 0
    while True:
        match = pattern.search(text, position)
        if match is None:
            return
        if _starts_statement(text, match.start()):
            yield match
            position = match.end()
        else:
            position = match.start() + 1


def _starts_statement(text: str, offset: int) -> bool:
    index = offset - 1
    while index >= 0 and text[index] in " \t":
        index -= 1
    return index < 0 or text[index] in "\n;:"


class ImportGraph:
    """The project's modules with the modules each one's imports may reach, built on demand.

    A plain cache, not a :class:`~fastlint.python.reads.Memo`: :func:`reaches` reports the
    ``IMPORTS`` of every module whose imports it followed itself."""

    def __init__(self, modules: list[PythonModule]) -> None:
        # Every name a module answers to: its own, and each dotted suffix of it (a project
        # linted from a parent folder imports ``app.db`` for ``shop.app.db``), sorted for
        # prefix ranges.
        keyed: list[tuple[str, str]] = []
        for module in modules:
            parts = module.name.split(".")
            keyed.extend((".".join(parts[start:]), module.path) for start in range(len(parts)))
        keyed.sort()
        self._keys = [key for key, _ in keyed]
        self._paths = [path for _, path in keyed]
        self.by_path = {module.path: module for module in modules}
        self._targets: dict[str, list[str]] = {}
        self._passing: dict[tuple[str, str], bool] = {}

    def targets(self, module: PythonModule) -> list[str]:
        """Paths of the project modules ``module``'s imports may reach directly."""
        found = self._targets.get(module.path)
        if found is None:
            paths: set[str] = set()
            for dots, dotted, names in scan_imports(module.text):
                if names is None:  # ``import a.b``: ``a.anything`` resolves through it
                    paths.update(self._under(dotted.partition(".")[0]))
                    continue
                base = absolute_import(module, dots, dotted)
                if base is None:
                    continue
                paths.update(self._named(base))
                for name in names:
                    paths.update(self._under(f"{base}.{name}" if base else name))
                if "*" in names:
                    paths.update(self._under(base))
            paths.discard(module.path)
            found = self._targets[module.path] = sorted(paths)
        return found

    def passes(self, test: Spelling, path: str) -> bool:
        key = (test.name, path)
        found = self._passing.get(key)
        if found is None:
            found = self._passing[key] = test.passes(self.by_path[path].text)
        return found

    def _named(self, name: str) -> list[str]:
        start = bisect_left(self._keys, name)
        found = []
        while start < len(self._keys) and self._keys[start] == name:
            found.append(self._paths[start])
            start += 1
        return found

    def _under(self, name: str) -> list[str]:
        """Modules called ``name`` or inside package ``name`` ("." sorts just before "/")."""
        if not name:
            return []
        low, high = bisect_left(self._keys, name + "."), bisect_left(self._keys, name + "/")
        return [*self._named(name), *self._paths[low:high]]


def absolute_import(module: PythonModule, dots: int, dotted: str) -> str | None:
    """The module a ``from`` import names, relative imports made absolute; None when it climbs
    above the project."""
    if not dots:
        return dotted
    package = module.name.split(".") if module.is_package else module.name.split(".")[:-1]
    if dots - 1 > len(package):
        return None
    base = package[: len(package) - (dots - 1)]
    return ".".join([*base, dotted] if dotted else base)


def reaches(project: Project, test: Spelling, path: str) -> bool:
    """Whether the module at ``path``, or a project module its imports lead to, passes
    ``test``. Reported as read: the test, and the imports of the modules whose imports decide it
    (the chain to the nearest module passing, or every module reached when none does)."""
    graph = project.import_graph
    start = graph.by_path.get(path)
    if start is None:
        return False
    test(start)  # reports the test
    # Its own text: any edit re-asks (its file is checked again anyway), and the store needs
    # no earlier copy of it to compare imports.
    reads.hook.read(path, reads.TEXT)
    if graph.passes(test, path):
        return True
    parents: dict[str, str | None] = {path: None}
    queue = deque([path])
    while queue:
        current = queue.popleft()
        for target in graph.targets(graph.by_path[current]):
            if target in parents:
                continue
            # Tested when first seen, not when its turn comes: the same module is found (the
            # first in breadth-first order), without queueing the rest of a wide level.
            if graph.passes(test, target):
                step: str | None = current
                while step is not None and step != path:
                    reads.hook.read(step, IMPORTS)
                    step = parents[step]
                return True
            parents[target] = current
            queue.append(target)
    for reached in parents:
        if reached != path:
            reads.hook.read(reached, IMPORTS)
    return False


# ---------------------------------------------------------------------------- gates


class Mentions:
    """A rule's pre-filter: the module's own text must match one of ``patterns`` (give each
    a literal start, as for :class:`~fastlint.python.reads.Spelling`)."""

    def __init__(self, *patterns: str) -> None:
        self.regexes = tuple(re.compile(pattern) for pattern in patterns)

    def admits(self, module: PythonModule, project: Project) -> bool:
        return any(regex.search(module.text) is not None for regex in self.regexes)


class Reaches:
    """A rule's pre-filter: the module, or a project module its imports lead to, passes the
    text test (a third-party name the rule needs resolved through imports)."""

    def __init__(self, test: Spelling) -> None:
        self.test = test

    def admits(self, module: PythonModule, project: Project) -> bool:
        return project.reaches(self.test, module)


Gate = Union[Mentions, Reaches]

# For rules that check coroutines only: a module without one has nothing to report.
ASYNC_DEF = Mentions(r"async[\s\\]+def")
