"""Cross-module view of the project's Python: module lookup and canonical paths.

A path such as ``app.deps.SessionLocal()`` names something through the module that imported it;
:meth:`Project.canonical` follows imports, re-exports and module-level assignments across the
project's modules until it reaches a definition or a third-party path
(``sqlalchemy.orm.sessionmaker()()``).
"""

from __future__ import annotations

from functools import cached_property
from typing import Any, Callable, Optional, TypeVar

import libcst as cst

from fastlint.python import reads
from fastlint.python.model import UNKNOWN, Binding, ClassInfo, FunctionInfo, Scope
from fastlint.python.module import PythonModule
from fastlint.python.reach import ImportGraph, reaches
from fastlint.python.reads import (
    AGAIN,
    WHOLE,
    AnswerTable,
    Memo,
    Spelling,
    as_is,
    boolean,
    string,
)

V = TypeVar("V")

# How to make the answer table called a given name (or a name starting with a given prefix,
# ending in ":") in a project that has not made it yet: to recompute an answer a kept file
# entry used, whatever this run happened to ask. Registered by the analyses that own them.
_MAKERS: dict[str, Callable[[Project, str], object]] = {}


def register_answers(name: str, make: Callable[[Project, str], object]) -> None:
    """``make(project, name)`` makes the answer table ``name`` (a prefix if it ends in ``:``)
    in ``project``, through :meth:`Project.answers`."""
    _MAKERS[name] = make


def _make_reach_table(project: Project, name: str) -> None:
    test = Spelling.known.get(name.partition(":")[2])
    if test is not None:
        project.reach_table(test)


register_answers("reaches:", _make_reach_table)


# What each module-level name of a module stands for, and what working that out read.
NameTable = dict[str, tuple[Optional[str], Any]]


class Project:
    def __init__(self, modules: list[PythonModule]) -> None:
        self.modules = modules
        self.by_name: dict[str, PythonModule] = {}
        for module in modules:
            self.by_name.setdefault(module.name, module)
        self._suffix_index: dict[str, list[PythonModule]] = {}
        for module in modules:
            parts = module.name.split(".")
            for start in range(1, len(parts)):
                self._suffix_index.setdefault(".".join(parts[start:]), []).append(module)
        self._memos: dict[str, Memo[Any, Any]] = {}
        self._tables: dict[str, AnswerTable[Any]] = {}
        # Answers handed in for tables not made yet: table name → key → (raw value, reads).
        self._handed_in: dict[str, dict[str, tuple[Any, Any]]] = {}
        self._canonical_table = self.answers("canonical", as_is, string, self._canonical)
        self._splits: dict[str, tuple[PythonModule, list[str]] | None] = {}
        # Module path → what each of its module-level names stands for (see _name_target).
        self._name_tables: dict[str, NameTable] = {}
        self._unshared_tables: dict[str, NameTable] = {}

    def memo(self, name: str) -> Memo[Any, Any]:
        """The run's memo table called ``name`` (one per analysis that shares results across
        files): see :mod:`fastlint.python.reads` for why it must be a ``Memo``."""
        found = self._memos.get(name)
        if found is None:
            found = self._memos[name] = Memo()
        return found

    def answers(
        self,
        name: str,
        encode: Callable[[V], Any],
        decode: Callable[[Any], V],
        compute: Callable[[str], V],
        cycle: Any = AGAIN,
    ) -> AnswerTable[V]:
        """The answer table called ``name``: string keys, ``compute(key)`` the answer, which
        ``encode`` writes as JSON and ``decode`` reads back; a key asked again while its answer
        is being computed gives ``cycle`` (or is computed again)."""
        found = self._tables.get(name)
        if found is None:
            found = self._tables[name] = AnswerTable(name, encode, decode, compute, cycle)
            for key, (raw, read) in self._handed_in.pop(name, {}).items():
                found.seed(key, raw, read)
        return found

    def answer_table(self, name: str) -> AnswerTable[Any] | None:
        """The answer table called ``name``, made now if need be; None when no analysis makes
        such a table."""
        table = self._tables.get(name)
        if table is None:
            make = _MAKERS.get(name) or _MAKERS.get(name.partition(":")[0] + ":")
            if make is None:
                return None
            make(self, name)
            table = self._tables.get(name)
        return table

    @property
    def answer_tables(self) -> dict[str, AnswerTable[Any]]:
        """Every answer table made so far, by name."""
        return self._tables

    def hand_in(self, name: str, key: str, raw: Any, read: Any) -> None:
        """An answer worked out elsewhere (an earlier run, another process): asked here, it is
        answered without being computed again. An answer this project has already is kept."""
        table = self._tables.get(name)
        if table is None:
            self._handed_in.setdefault(name, {}).setdefault(key, (raw, read))
        else:
            table.seed(key, raw, read)

    # -- modules ----------------------------------------------------------------

    @cached_property
    def import_graph(self) -> ImportGraph:
        return ImportGraph(self.modules)

    def reaches(self, test: Spelling, module: PythonModule) -> bool:
        """Whether ``module``, or a project module its imports lead to, passes ``test``: the
        rules' per-file pre-filter (:mod:`fastlint.python.reach`)."""
        return self.reach_table(test).ask(module.path)

    def reach_table(self, test: Spelling) -> AnswerTable[bool]:
        return self.answers(
            f"reaches:{test.name}", as_is, boolean, lambda path: reaches(self, test, path)
        )

    def find_module(self, name: str) -> PythonModule | None:
        """The project module called ``name``; a suffix match covers projects linted from a
        parent folder (``fixtures/projects/shop/app/db.py`` answers ``app.db``): the only one,
        or the one in the shallowest folder."""
        if name in self.by_name:
            return self.by_name[name]
        candidates = self._suffix_index.get(name, [])
        if len(candidates) == 1:
            return candidates[0]
        if len(candidates) > 1:
            # The shallowest folder holding it is the import root (``backend/onyx/auth`` for
            # ``onyx.auth``, not the ``backend/ee/onyx/auth`` that overrides it); a tie is
            # ambiguous (two services' ``app.db``).
            depth = min(module.name.count(".") for module in candidates)
            shallowest = [m for m in candidates if m.name.count(".") == depth]
            if len(shallowest) == 1:
                return shallowest[0]
        if name.startswith("src.") and not candidates:
            # A project package literally named src (``src/__init__.py``, imported as
            # ``from src.utils import x``): module names drop a leading src/ (the src layout).
            return self.find_module(name[len("src.") :])
        return None

    def _split(self, path: str) -> tuple[PythonModule, list[str]] | None:
        """The longest project-module prefix of ``path`` and the remaining attribute parts."""
        # A plain dict is enough here (see reads): the answer reads module names only.
        if path in self._splits:
            found = self._splits[path]
            return None if found is None else (found[0], list(found[1]))
        found = self._splits[path] = self._split_uncached(path)
        return None if found is None else (found[0], list(found[1]))

    def _split_uncached(self, path: str) -> tuple[PythonModule, list[str]] | None:
        parts = path.split(".")
        for end in range(len(parts), 0, -1):
            head = ".".join(parts[:end])
            if "()" in head:
                continue
            module = self.find_module(head)
            if module is not None:
                return module, parts[end:]
        return None

    # -- canonical paths ----------------------------------------------------------

    def canonical(self, path: str) -> str:
        return self._canonical_table.ask(path)

    def _canonical(self, path: str, depth: int = 0) -> str:
        if depth > 20:
            return path
        split = self._split(path)
        if split is None:
            return path
        module, rest = split
        if not rest:
            return module.name
        first, tail = rest[0], rest[1:]
        call_suffix = ""
        if first.endswith("()"):
            # e.g. "app.db.SessionLocal()" → look up SessionLocal, keep the call.
            stripped = first.rstrip("()")
            call_suffix = first[len(stripped) :]
            first = stripped
        target = self._name_target(module, first)
        if target is None:
            return path
        new_path = ".".join([target + call_suffix, *tail])
        if new_path == path:
            return path
        return self._canonical(new_path, depth + 1)

    def _name_target(self, module: PythonModule, name: str) -> str | None:
        """The path the module-level ``name`` of ``module`` stands for (None: not bound, or
        not to a known path), read from the module's name table. The table is worked out
        once per module, or handed in by another process that worked it out (see
        :meth:`learn_tables`). Either way the read hook is told what working it out read."""
        table = self._name_tables.get(module.path)
        if table is None:
            table = self._name_tables[module.path] = self._name_table(module)
            self._unshared_tables[module.path] = table
        entry = table.get(name)
        if entry is None:
            reads.hook.read(module.path, WHOLE)  # what asking the model reads
            return self._star_target(module, name, 0)
        target, read = entry
        reads.hook.used(read)
        return target

    def _name_table(self, module: PythonModule) -> NameTable:
        table: NameTable = {}
        for name, binding in module.model.scope.bindings.items():
            listener = reads.hook
            token = listener.begin()
            try:
                listener.read(module.path, WHOLE)
                target = self._binding_target(module, binding, name)
            finally:
                read = listener.end(token, join=False)
            table[name] = (target, read)
        return table

    def _star_target(self, module: PythonModule, name: str, depth: int) -> str | None:
        """``name`` brought in by ``from .processor import *`` (through chains of them): the
        path in the module that binds it."""
        if depth > 10:
            return None
        for source in module.model.star_imports:
            star = self.find_module(source)
            if star is None or star is module or not star.model.exports(name):
                continue
            if star.model.module_binding(name) is not None:
                return f"{star.name}.{name}"
            found = self._star_target(star, name, depth + 1)
            if found is not None:
                return found
        return None

    def take_unshared_tables(self) -> dict[str, NameTable]:
        """The name tables worked out since the last call (for other processes)."""
        tables, self._unshared_tables = self._unshared_tables, {}
        return tables

    def learn_tables(self, tables: dict[str, NameTable]) -> None:
        """Name tables another process worked out from the same texts (so the same tables)."""
        for path, table in tables.items():
            self._name_tables.setdefault(path, table)

    def _binding_target(self, module: PythonModule, binding: Binding, name: str) -> str | None:
        if binding.kind in ("def", "class"):
            return binding.path
        if binding.kind == "import":
            return binding.path
        if binding.kind == "value":
            return module.model.resolve_binding(binding)
        return None

    def resolve(self, module: PythonModule, expr: cst.BaseExpression, scope: Scope) -> str | None:
        """Resolve ``expr`` in ``module`` and make the result canonical across the project."""
        path = module.model.resolve(expr, scope)
        return None if path is None else self.canonical(path)

    def literal(
        self, module: PythonModule, expr: cst.BaseExpression, scope: Scope | None = None
    ) -> object:
        """:meth:`ModuleModel.literal`, also through a name imported from a project module
        (``from app.config import ORIGINS`` where ``ORIGINS = ["*"]``); else UNKNOWN."""
        value = module.model.literal(expr, scope)
        if value is not UNKNOWN or not isinstance(expr, cst.Name):
            return value
        binding = (scope or module.model.scope).lookup(expr.value)
        if binding is None or binding.kind != "import" or binding.path is None:
            return UNKNOWN
        definition = self.definition_of(binding.path)
        if definition is None:
            return UNKNOWN
        target, found = definition
        if found.kind != "value" or found.value is None:
            return UNKNOWN
        return target.model.literal(found.value, found.scope)

    # -- definitions ----------------------------------------------------------------

    def definition_of(self, path: str) -> tuple[PythonModule, Binding] | None:
        """The module-level binding a path names, following imports and re-exports:
        ``app.deps.SessionLocal`` → (``app.db.session``, the binding ``SessionLocal = ...``),
        so a rule can read the defining expression (e.g. the keywords of ``sessionmaker(...)``)."""
        for _ in range(20):
            split = self._split(path)
            if split is None or len(split[1]) != 1 or "()" in split[1][0]:
                return None
            module, (name,) = split
            binding = module.model.module_binding(name)
            if binding is None:
                star = self._star_target(module, name, 0)
                if star is None:
                    return None
                path = star
                continue
            if binding.kind != "import" or binding.path is None:
                return module, binding
            path = binding.path
        return None

    def function_at(self, path: str) -> FunctionInfo | None:
        """The project function or method a canonical path names: ``pkg.mod.helper``,
        ``pkg.mod.Svc.run`` or ``pkg.mod.Svc().run`` (a method through an instance)."""
        split = self._split(path.replace("()", "", 1) if path.count("()") == 1 else path)
        if split is None:
            return None
        module, rest = split
        if "()" in ".".join(rest):
            return None
        qualname = ".".join(rest)
        function = module.model.function_by_qualname(qualname)
        if function is not None:
            return function
        if len(rest) == 2:
            class_info = module.model.class_by_name(rest[0])
            if class_info is not None:
                return self.method_of(class_info, rest[1])
        return None

    def function_or_init(self, path: str) -> FunctionInfo | None:
        """What calling ``path`` runs: the project function or method it names, or, for a
        project class, its ``__init__`` (through base classes)."""
        function = self.function_at(path)
        if function is None:
            class_info = self.class_at(path)
            function = self.method_of(class_info, "__init__") if class_info else None
        return function

    def class_at(self, path: str) -> ClassInfo | None:
        split = self._split(path)
        if split is None or len(split[1]) != 1:
            return None
        return split[0].model.class_by_name(split[1][0])

    def method_of(self, class_info: ClassInfo, name: str, depth: int = 0) -> FunctionInfo | None:
        """``name`` on ``class_info`` or, through project base classes, an ancestor."""
        if name in class_info.methods:
            return class_info.methods[name]
        if depth > 10:
            return None
        module = self.module_of_path(class_info.path)
        if module is None:
            return None
        for base in class_info.bases:
            base_path = self.resolve(module, base, class_info.scope)
            base_class = self.class_at(base_path) if base_path else None
            if base_class is not None:
                found = self.method_of(base_class, name, depth + 1)
                if found is not None:
                    return found
        return None

    def module_of_path(self, path: str) -> PythonModule | None:
        split = self._split(path)
        return None if split is None else split[0]

    def module_of(self, function: FunctionInfo) -> PythonModule | None:
        return self.module_of_path(function.path)

    def subclasses_path(self, class_info: ClassInfo, base_path: str, depth: int = 0) -> bool:
        """Whether a project class derives (at any depth) from the class at ``base_path``."""
        if depth > 10:
            return False
        module = self.module_of_path(class_info.path)
        if module is None:
            return False
        for base in class_info.bases:
            resolved = self.resolve(module, base, class_info.scope)
            if resolved is None:
                continue
            if resolved == base_path:
                return True
            parent = self.class_at(resolved)
            if parent is not None and self.subclasses_path(parent, base_path, depth + 1):
                return True
        return False
