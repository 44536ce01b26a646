"""Project-wide call graph: which functions block the event loop, directly or through helpers.

Leaf classifiers decide whether one call site is a known blocking call; the built-in one reads
the catalogue (:mod:`fastlint.python.catalogue`). Others are passed in by whoever builds the
graph (:mod:`fastlint.python.blocking` adds sync SQLAlchemy session calls), so FL102 chains see
through helpers that block in their way.
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable

import libcst as cst

from fastlint.python import catalogue
from fastlint.python.catalogue import BlockingLeaf, LeafClassifier
from fastlint.python.jobstores import job_store_leaf
from fastlint.python.model import self_assignments, unwrap_annotation, walk
from fastlint.python.reads import Memo, TextScan, as_is, optional_string, string_list

if TYPE_CHECKING:
    from fastlint.python.model import CallSite, ClassInfo, FunctionInfo, Scope
    from fastlint.python.module import PythonModule
    from fastlint.python.project import Project


# ---------------------------------------------------------------------------- facts


@dataclass(eq=False)
class LeafSite:
    """A blocking call made directly in a function."""

    site: CallSite
    leaf: BlockingLeaf
    catalogued: bool  # from the catalogue / option (FL101's business) vs a plugged-in classifier


@dataclass(eq=False)
class Edge:
    """A direct call from one function to a project function (``site.awaited`` tells whether
    the caller awaits it: an awaited sync function returns an awaitable and is skipped)."""

    site: CallSite
    callee: str  # the callee's FunctionInfo.path


@dataclass(eq=False)
class FunctionFacts:
    """What one function does, in plain data plus the call sites to report at."""

    path: str
    label: str  # "services.fetch_rates": last module part + qualname
    is_async: bool
    can_block_caller: bool  # calling it runs its body now (sync, not a lazy generator)
    leaves: list[LeafSite] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)


@dataclass(frozen=True)
class Chain:
    """How a sync function blocks: the helpers called, outermost first, then the leaf."""

    steps: tuple[str, ...]  # function paths
    labels: tuple[str, ...]  # their labels, for messages
    leaf: BlockingLeaf

    def text(self) -> str:
        helpers = [f"{label}()" for label in self.labels]
        return " → ".join([*helpers, f"{self.leaf.description} ({self.leaf.category})"])


class CallGraph:
    """Every project function's facts, and for each sync function the chain by which it blocks.

    Built on demand, one function at a time: a run that reports on one file reads the
    modules its call chains reach, no others. A function's chain is the shortest one to an
    ``error`` leaf, else the shortest to a ``warning`` leaf, exploring calls in source order; it
    depends only on the functions reachable from it, so it is the same whichever modules a run
    happened to load first, and cycles end.
    """

    def __init__(
        self,
        project: Project,
        extra_patterns: tuple[str, ...] = (),
        classifiers: tuple[LeafClassifier, ...] = (),
    ) -> None:
        self.project = project
        self.extra_patterns = extra_patterns
        # Consulted after the catalogue for every call inside a function.
        self.classifiers = classifiers
        # Memo tables, not dicts: what they hold was read from other modules (see reads).
        self._at_path: Memo[str, FunctionFacts | None] = Memo()
        self._by_id: Memo[int, FunctionFacts | None] = Memo()  # by id() of the FunctionInfo
        self._attributes: Memo[int, dict[str, str]] = Memo()
        # Plain answers, kept across runs by the result cache (see AnswerTable).
        self._chains = project.answers(
            CHAINS + "\0".join(extra_patterns), _encode_chain, _decode_chain, self._chain
        )
        self._callees = project.answers(
            "callee", as_is, optional_string, lambda path: _callee_at(project, path)
        )
        self._returns = project.answers(
            "returns", as_is, optional_string, lambda path: _returned_at(project, path)
        )
        self._overrides = project.answers(
            "overrides", as_is, string_list, lambda path: _overrides_at(project, path)
        )

    # -- queries --------------------------------------------------------------

    def facts(self, function: FunctionInfo) -> FunctionFacts | None:
        # The FunctionInfo is kept alive by its module, so its id() is not reused in a run.
        return self._by_id.get(id(function), self._facts, function)

    def _facts(self, function: FunctionInfo) -> FunctionFacts | None:
        module = self.project.module_of(function)
        return None if module is None else self._build(module, function)

    def chain(self, path: str) -> Chain | None:
        """How calling the project function at ``path`` blocks, if it does."""
        return self._chains.ask(path)

    def _chain(self, path: str) -> Chain | None:
        return self._shortest_chain(path, "error") or self._shortest_chain(path, "warning")

    def _facts_at(self, path: str) -> FunctionFacts | None:
        return self._at_path.get(path, self._facts_at_path, path)

    def _facts_at_path(self, path: str) -> FunctionFacts | None:
        function = self.project.function_at(path)
        return None if function is None else self.facts(function)

    def _shortest_chain(self, path: str, severity: str) -> Chain | None:
        """Breadth-first through sync calls that run their callee now (not awaited), to the
        nearest function that calls a ``severity`` leaf itself."""
        start = self._facts_at(path)
        if start is None or not start.can_block_caller:
            return None
        queue: deque[tuple[FunctionFacts, tuple[FunctionFacts, ...]]] = deque([(start, ())])
        seen = {path}
        while queue:
            facts, above = queue.popleft()
            steps = (*above, facts)
            for leaf_site in facts.leaves:
                if leaf_site.leaf.severity == severity:
                    return Chain(
                        tuple(f.path for f in steps), tuple(f.label for f in steps), leaf_site.leaf
                    )
            for edge in facts.edges:
                if edge.site.awaited or edge.callee in seen:
                    continue
                seen.add(edge.callee)
                callee = self._facts_at(edge.callee)
                if callee is not None and callee.can_block_caller:
                    queue.append((callee, steps))
        return None

    # -- building -------------------------------------------------------------

    def _build(self, module: PythonModule, function: FunctionInfo) -> FunctionFacts:
        """One function's facts: each call it makes directly is a blocking leaf, an edge to a
        project function, or neither. Only functions a query reaches are ever built."""
        prefix = module.name.rsplit(".", 1)[-1]
        qualname = readable_qualname(function)
        facts = FunctionFacts(
            path=function.path,
            label=f"{prefix}.{qualname}" if prefix else qualname,
            is_async=function.is_async,
            can_block_caller=_runs_when_called(self.project, module, function),
        )
        opt_in = _opt_in_calls(function)
        for site in function.calls:
            if id(site.node) in opt_in:
                continue
            path = self.project.resolve(module, site.node.func, site.scope)
            if path is None:
                path = self._instance_attribute_path(module, site)
            if path is not None and "()" in path:
                path = self._through_attributes(self._through_returns(path))
            leaf, catalogued = self._classify(module, site, path)
            if leaf is not None:
                facts.leaves.append(LeafSite(site, leaf, catalogued))
                continue
            callee = self._callee(module, site, path)
            if callee is not None and callee != function.path:
                facts.edges.append(Edge(site, callee))
                # An abstract method (an ABC's, a Protocol's) runs one of its implementations.
                for implementation in self._overrides.ask(callee):
                    facts.edges.append(Edge(site, implementation))
        return facts

    def _callee(self, module: PythonModule, site: CallSite, path: str | None) -> str | None:
        """:func:`resolve_callee`'s function path, answered by path where the call names
        one (so a kept answer needs no module parsed)."""
        method = _self_method(self.project, site)
        if method is not None:
            return method.path
        if path is None:
            path = self.project.resolve(module, site.node.func, site.scope)
        return None if path is None else self._callees.ask(path)

    def _through_returns(self, path: str) -> str:
        """``app.clients.get_client().get`` → ``httpx.Client().get`` when the project function
        ``get_client`` is annotated ``-> httpx.Client`` or returns one expression; then on
        through methods of project classes: ``get_service().client().get`` →
        ``Service().client().get`` → ``redis.Redis().get`` when ``Service.client`` is
        annotated ``-> redis.Redis``."""
        for _ in range(_MAX_ATTRIBUTE_HOPS):
            head, found, rest = path.partition("()")
            if not found:
                return path
            returned = self._returns.ask(head)
            if returned is None and rest.startswith("."):
                method, called, tail = rest[1:].partition("()")
                if called and "." not in method and self.project.class_at(head) is not None:
                    returned, rest = self._returns.ask(f"{head}.{method}"), tail
            if returned is None:
                return path
            path = returned + rest
        return path

    def _through_attributes(self, path: str) -> str:
        """``app.svc.UserService().repo.get`` → ``app.repo.UserRepo().get`` when the project
        class ``UserService`` sets ``self.repo = UserRepo(...)`` (or takes ``repo: UserRepo``
        and stores it): attributes of instances, followed along ``self.repos.users.get()``."""
        for _ in range(_MAX_ATTRIBUTE_HOPS):
            head, found, rest = path.partition("().")
            attribute, dot, tail = rest.partition(".")
            if not found or not dot or "()" in head:
                return path
            class_info = self.project.class_at(head)
            module = None if class_info is None else self.project.module_of_path(head)
            if class_info is None or module is None:
                return path
            attributes = self._attributes.get(
                id(class_info), _instance_attributes, self.project, module, class_info
            )
            base = None if "()" in attribute else attributes.get(attribute)
            if base is None:
                return path
            path = f"{base}.{tail}"
        return path

    def _instance_attribute_path(self, module: PythonModule, site: CallSite) -> str | None:
        """``self.http.get`` where the class sets ``self.http = requests.Session()`` (in any
        method, or as a class attribute): ``requests.Session().get``."""
        func = site.node.func
        if not isinstance(func, cst.Attribute):
            return None
        parts: list[str] = [func.attr.value]
        node = func.value
        while isinstance(node, cst.Attribute) and not isinstance(node.value, cst.Name):
            parts.append(node.attr.value)
            node = node.value
        if not (isinstance(node, cst.Attribute) and isinstance(node.value, cst.Name)):
            return None
        method = _enclosing_method(site)
        if method is None or method.class_info is None or node.value.value != method.params[0].name:
            return None
        attributes = self._attributes.get(
            id(method.class_info), _instance_attributes, self.project, module, method.class_info
        )
        base = attributes.get(node.attr.value)
        return None if base is None else ".".join([base, *reversed(parts)])

    def _classify(
        self, module: PythonModule, site: CallSite, path: str | None
    ) -> tuple[BlockingLeaf | None, bool]:
        if catalogue.passes_non_blocking_flag(path, site.node):
            return None, False
        leaf = (
            catalogue.match(path, self.extra_patterns)
            or _celery_publish(self.project, module, path)
            or job_store_leaf(self.project, module, site, path)
        )
        if leaf is not None:
            return leaf, True
        for classifier in self.classifiers:
            leaf = classifier(self.project, module, site)
            if leaf is not None:
                return leaf, False
        return None, False


def _opt_in_calls(function: FunctionInfo) -> set[int]:
    """The calls a sync helper makes only when its caller opts in: in the body of
    ``if flag:`` where ``flag`` is a parameter defaulting to ``False``. onyx's
    ``optional_telemetry(..., blocking=False)`` posts from a thread unless a caller passes
    ``blocking=True``; the default path is what callers run, so the chain follows that."""
    if function.is_async or function.is_lambda:
        return set()
    flags = {
        param.name
        for param in function.params
        if isinstance(param.default, cst.Name) and param.default.value == "False"
    }
    if not flags:
        return set()
    found: set[int] = set()
    for node in walk(function.node, lambda n: _tests_flag(n, flags)):
        assert isinstance(node, cst.If)
        found.update(id(call) for call in walk(node.body, lambda n: isinstance(n, cst.Call)))
    return found


def _tests_flag(node: cst.CSTNode, flags: set[str]) -> bool:
    return isinstance(node, cst.If) and isinstance(node.test, cst.Name) and node.test.value in flags


def readable_qualname(function: FunctionInfo) -> str:
    """``outer.<locals>.inner`` → ``outer.inner`` (for messages)."""
    return function.qualname.replace(".<locals>", "")


def _runs_when_called(project: Project, module: PythonModule, function: FunctionInfo) -> bool:
    """A sync function whose body runs when it is called: not a coroutine, and not a plain
    generator (Starlette iterates those in a threadpool for StreamingResponse), unless it is a
    ``@contextmanager`` whose body runs up to ``yield`` on entry."""
    if function.is_async or function.is_lambda:
        return False
    if not function.is_generator:
        return True
    scope = function.outer_scope
    return any(
        project.resolve(module, decorator, scope) == "contextlib.contextmanager"
        for decorator in function.decorators
    )


def resolve_callee(
    project: Project, module: PythonModule, site: CallSite, path: str | None = None
) -> FunctionInfo | None:
    """The project function or method a call runs: ``helper()``, ``mod.helper()``,
    ``self.helper()``, ``Svc.helper()``, ``svc.helper()`` on a module-level instance, or a
    project class's ``__init__``."""
    func = site.node.func
    method = _self_method(project, site)
    if method is not None:
        return method
    if path is None:
        path = project.resolve(module, func, site.scope)
    return None if path is None else project.function_or_init(path)


def _callee_at(project: Project, path: str) -> str | None:
    function = project.function_or_init(path)
    return None if function is None else function.path


def _returned_at(project: Project, path: str) -> str | None:
    function = project.function_at(path)
    return None if function is None else _returned_path(project, function)


def _returned_path(project: Project, function: FunctionInfo) -> str | None:
    """What calling ``function`` gives: its return annotation's class as an instance
    (``-> httpx.Client`` gives ``httpx.Client()``), else its only ``return`` value's path."""
    module = project.module_of(function)
    if module is None or function.is_lambda or function.is_generator:
        return None
    if function.return_annotation is not None:
        annotation = unwrap_annotation(function.return_annotation)
        outer = function.outer_scope
        resolved = project.resolve(module, annotation, outer) if annotation is not None else None
        return None if resolved is None else f"{resolved}()"
    values = [ret.value for ret in function.returns if ret.value is not None]
    if len(values) != 1 or len(function.returns) != 1:
        return None
    singleton = _lazy_global(function, values[0])
    if singleton is not None:
        return project.resolve(module, singleton, function.scope)
    return project.resolve(module, values[0], function.scope)


def _lazy_global(function: FunctionInfo, value: cst.BaseExpression) -> cst.BaseExpression | None:
    """A lazily made singleton: ``global client; if client is None: client = Client(...);
    return client`` returns what its one assignment in the function makes."""
    if not isinstance(value, cst.Name):
        return None
    name = value.value
    declared = walk(
        function.node.body, lambda node: isinstance(node, cst.Global), into_expressions=False
    )
    if not any(item.name.value == name for node in declared for item in node.names):  # type: ignore[attr-defined]
        return None
    assigned = [
        node.value
        for node in walk(function.node.body, _assigns(name), into_expressions=False)
        if isinstance(node, cst.Assign)
    ]
    return assigned[0] if len(assigned) == 1 else None


def _assigns(name: str) -> Callable[[cst.CSTNode], bool]:
    def test(node: cst.CSTNode) -> bool:
        return isinstance(node, cst.Assign) and any(
            isinstance(target.target, cst.Name) and target.target.value == name
            for target in node.targets
        )

    return test


# ---------------------------------------------------------------------------- interfaces

_MAX_ATTRIBUTE_HOPS = 4

_MAX_IMPLEMENTATIONS = 8


def _overrides_at(project: Project, path: str) -> list[str]:
    """For an abstract method (``@abstractmethod``, or a body of only a docstring, ``...``,
    ``pass`` or ``raise NotImplementedError``) of a project class: the paths of the methods
    that implement it in the project's other classes (test code aside). A call through the
    interface (a repository typed ``IUserRepository``, a backend a factory returns as
    ``CacheBackend``) runs one of them."""
    function = project.function_at(path)
    if function is None or function.class_info is None or not _is_abstract(function):
        return []
    found: list[str] = []
    for class_path in _implementations(project, function.class_info):
        class_info = project.class_at(class_path)
        method = None if class_info is None else project.method_of(class_info, function.name)
        if method is not None and method is not function and not _is_abstract(method):
            found.append(method.path)
    return found


def _implementations(project: Project, interface: ClassInfo) -> list[str]:
    """Project classes (outside test code) that derive from ``interface`` or, when it is a
    ``Protocol``, whose names end with its name without an ``I`` prefix
    (``SQLAlchemyUserRepository`` implements ``IUserRepository``). Only modules whose class
    statements name the interface (or end with its stem) are parsed."""
    headers = project.memo("class-headers").get("", _class_headers, project)
    stem = _interface_stem(interface.name)
    structural = _is_protocol(project, interface)
    found: list[str] = []
    wanted = [interface.name]  # the interface, then each subclass found (for their subclasses)
    seen_paths = {interface.path}
    while wanted and len(found) < _MAX_IMPLEMENTATIONS:
        base_name = wanted.pop(0)
        candidates = set(headers.by_base.get(base_name, ()))
        if structural and base_name == interface.name:
            candidates.update(
                path
                for name, paths in headers.by_name.items()
                if name.endswith(stem)
                for path in paths
            )
        for module_path in sorted(candidates):
            module = headers.modules[module_path]
            if module.is_test_code:
                continue
            for class_info in module.model.classes:
                if class_info.path in seen_paths:
                    continue
                if project.subclasses_path(class_info, interface.path) or (
                    structural and class_info.name.endswith(stem)
                ):
                    seen_paths.add(class_info.path)
                    found.append(class_info.path)
                    wanted.append(class_info.name)
    return found[:_MAX_IMPLEMENTATIONS]


@dataclass
class _ClassHeaders:
    """Every module's ``class`` statements, from the text: which modules (by path) define a
    class of a name, and which name a word among a class's bases."""

    modules: dict[str, PythonModule] = field(default_factory=dict)
    by_name: dict[str, list[str]] = field(default_factory=dict)
    by_base: dict[str, list[str]] = field(default_factory=dict)


_CLASS_HEADER = re.compile(r"class[ \t]+(\w+)[ \t]*(?:\(([^)]*)\))?[ \t]*:")
_WORD = re.compile(r"\w+")


def _headers_in(text: str) -> list[tuple[str, list[str]]]:
    """Each ``class`` statement of a module's text: its name and the words among its bases."""
    if "class" not in text:
        return []
    return [
        (match.group(1), sorted(set(_WORD.findall(match.group(2) or ""))))
        for match in _CLASS_HEADER.finditer(text)
    ]


_CLASS_HEADERS = TextScan("class-headers", _headers_in)


def _class_headers(project: Project) -> _ClassHeaders:
    headers = _ClassHeaders()
    for module in project.modules:
        found = _CLASS_HEADERS(module)
        if not found:
            continue
        headers.modules[module.path] = module
        for name, words in found:
            headers.by_name.setdefault(name, []).append(module.path)
            for word in words:
                headers.by_base.setdefault(word, []).append(module.path)
    return headers


def _interface_stem(name: str) -> str:
    if len(name) > 2 and name[0] == "I" and name[1].isupper():
        return name[1:]
    for suffix in ("Protocol", "Interface"):
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


def _is_protocol(project: Project, class_info: ClassInfo) -> bool:
    module = project.module_of_path(class_info.path)
    if module is None:
        return False
    for base in class_info.bases:
        if isinstance(base, cst.Subscript):
            base = base.value
        if project.resolve(module, base, class_info.scope) in _PROTOCOLS:
            return True
    return False


_PROTOCOLS = frozenset({"typing.Protocol", "typing_extensions.Protocol"})


def _is_abstract(function: FunctionInfo) -> bool:
    for decorator in function.decorators:
        name = decorator.attr.value if isinstance(decorator, cst.Attribute) else None
        if isinstance(decorator, cst.Name):
            name = decorator.value
        if name == "abstractmethod":
            return True
    node = function.node
    if not isinstance(node, cst.FunctionDef):
        return False
    body = node.body
    statements = body.body if isinstance(body, cst.IndentedBlock) else [body]
    return all(_is_placeholder(statement) for statement in statements)


def _is_placeholder(statement: cst.CSTNode) -> bool:
    """A docstring, ``...``, ``pass`` or ``raise NotImplementedError``."""
    smalls = statement.body if isinstance(statement, cst.SimpleStatementLine) else None
    if isinstance(statement, cst.SimpleStatementSuite):
        smalls = statement.body
    if smalls is None:
        return False
    for small in smalls:
        if isinstance(small, cst.Pass):
            continue
        if isinstance(small, cst.Expr) and isinstance(
            small.value, (cst.Ellipsis, cst.SimpleString, cst.ConcatenatedString)
        ):
            continue
        if isinstance(small, cst.Raise) and small.exc is not None:
            raised = small.exc.func if isinstance(small.exc, cst.Call) else small.exc
            if isinstance(raised, cst.Name) and raised.value == "NotImplementedError":
                continue
        return False
    return True


def _enclosing_method(site: CallSite) -> FunctionInfo | None:
    """The method a call is written in (through lambdas), if it has a receiver parameter."""
    method = site.function
    while method is not None and method.is_lambda:
        method = method.parent
    if method is None or method.class_info is None or not method.params:
        return None
    return method


def _instance_attributes(
    project: Project, module: PythonModule, class_info: ClassInfo
) -> dict[str, str]:
    """Resolved paths of ``self.NAME = value`` assignments in a class's methods, and of class
    attributes; a name assigned two different things is left out."""
    found: dict[str, str | None] = {}

    def record(name: str, value: cst.BaseExpression, scope: Scope) -> None:
        path = project.resolve(module, value, scope)
        if isinstance(value, cst.BooleanOperation) and isinstance(value.operator, cst.Or):
            # ``self.repo = repo or SqlRepo(session)``: an injected one, else the default.
            path = path or project.resolve(module, value.right, scope)
        if name in found and found[name] != path:
            found[name] = None
        else:
            found[name] = path

    body = class_info.node.body
    for statement in body.body if isinstance(body, cst.IndentedBlock) else ():
        if isinstance(statement, cst.SimpleStatementLine):
            for small in statement.body:
                if isinstance(small, cst.Assign) and len(small.targets) == 1:
                    target = small.targets[0].target
                    if isinstance(target, cst.Name):
                        scope = class_info.scope
                        # Class attributes resolve in the scope around the class body.
                        record(target.value, small.value, scope)
                elif isinstance(small, cst.AnnAssign) and isinstance(small.target, cst.Name):
                    if small.value is not None:
                        record(small.target.value, small.value, class_info.scope)
                        continue
                    # ``users: UserRepository`` (dataclasses, DI containers): an instance.
                    annotation = unwrap_annotation(small.annotation.annotation)
                    resolved = (
                        None
                        if annotation is None
                        else project.resolve(module, annotation, class_info.scope)
                    )
                    if resolved is not None:
                        found.setdefault(small.target.value, f"{resolved}()")
    for attribute, value, scope in self_assignments(class_info):
        record(attribute, value, scope)
    return {name: path for name, path in found.items() if path is not None}


def _self_method(project: Project, site: CallSite) -> FunctionInfo | None:
    """``self.x()`` / ``cls.x()`` / ``cls(...).x()`` inside a method: ``x`` on its class."""
    func = site.node.func
    if not isinstance(func, cst.Attribute):
        return None
    receiver_expr = func.value
    if isinstance(receiver_expr, cst.Call):
        receiver_expr = receiver_expr.func  # cls(...).x(): an instance of the same class
    if not isinstance(receiver_expr, cst.Name):
        return None
    method = _enclosing_method(site)
    if method is None or method.class_info is None:
        return None
    receiver = method.params[0].name
    if receiver_expr.value != receiver:
        return None
    binding = site.scope.lookup(receiver)
    if binding is None or binding.node is not method.params[0].node:
        return None  # rebound or shadowed
    return project.method_of(method.class_info, func.attr.value)


_CELERY_SUFFIXES = (".delay", ".apply_async")


def _celery_publish(
    project: Project, module: PythonModule, path: str | None
) -> BlockingLeaf | None:
    """``task.delay(...)`` / ``task.apply_async(...)`` on a project function decorated as a
    Celery task: a synchronous publish to the broker."""
    if path is None or not path.endswith(_CELERY_SUFFIXES):
        return None
    base, _, method = path.rpartition(".")
    task = project.function_at(base)
    if task is None:
        return None
    task_module = project.module_of(task)
    if task_module is None:
        return None
    scope = task.outer_scope
    for decorator in task.decorators:
        resolved = project.resolve(task_module, decorator, scope) or ""
        resolved = resolved[:-2] if resolved.endswith("()") else resolved
        if resolved == "celery.shared_task" or (
            resolved.startswith("celery.") and resolved.endswith(".task")
        ):
            from fastlint.python import catalogue

            leaf = catalogue.leaf_for("queue", f"{task.name}.{method}")
            return leaf
    return None


# ---------------------------------------------------------------------------- kept answers


def _encode_chain(chain: Chain | None) -> object:
    if chain is None:
        return None
    leaf = chain.leaf
    return {
        "steps": list(chain.steps),
        "labels": list(chain.labels),
        "leaf": [leaf.category, leaf.description, leaf.suggestion, leaf.severity],
    }


def _decode_chain(raw: object) -> Chain | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise TypeError("expected a chain")
    steps, labels, leaf = raw["steps"], raw["labels"], raw["leaf"]
    strings = [*steps, *labels, *leaf]
    if not all(isinstance(item, str) for item in strings) or len(leaf) != 4:
        raise TypeError("expected a chain of strings")
    return Chain(tuple(steps), tuple(labels), BlockingLeaf(*leaf))


CHAINS = "chain:"  # + the extra blocking-call patterns, joined by NUL
