"""Which job stores an APScheduler scheduler keeps its jobs in, read from its configuration.

A scheduler's stores come from ``BackgroundScheduler(jobstores={...})``, and from
``scheduler.configure(jobstores={...})`` and ``scheduler.add_jobstore(store, "alias")`` in the
module that makes it. Each alias maps to whether its store talks to a database synchronously
(``SQLAlchemyJobStore(url=...)``, or ``{"type": "sqlalchemy", ...}``). A scheduler with none
keeps its jobs in memory, and its job methods never wait on anything.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

import libcst as cst

from fastlint.python import catalogue
from fastlint.python.catalogue import BlockingLeaf
from fastlint.python.model import (
    Binding,
    Scope,
    has_star_kwargs,
    keyword,
    positional,
    string_keyed,
)

if TYPE_CHECKING:
    from fastlint.python.model import CallSite
    from fastlint.python.module import PythonModule
    from fastlint.python.project import Project

_CONFIGURING = frozenset({"configure", "add_jobstore"})
_MAX_HOPS = 8


def job_store_leaf(
    project: Project, module: PythonModule, site: CallSite, path: str | None
) -> BlockingLeaf | None:
    """``scheduler.add_job(...)`` (and the other job methods) when the job store the call
    reads or writes is a synchronous database one."""
    func = site.node.func
    if not catalogue.touches_job_store(path) or not isinstance(func, cst.Attribute):
        return None
    made = _scheduler_binding(project, module, func.value, site.scope)
    if made is None:
        return None
    stores = _stores(project, *made)
    alias_expr = keyword(site.node, "jobstore")
    method = func.attr.value
    if alias_expr is None and has_star_kwargs(site.node):
        return None  # ``add_job(**options)`` may name any store
    if alias_expr is not None:
        alias = module.model.literal(alias_expr, site.scope)
        touched = [stores.get(alias)] if isinstance(alias, str) else []
    elif method == "add_job":
        touched = [stores.get("default")]  # a new job goes to the default store
    else:
        touched = list(stores.values())  # looked up, changed or listed in every store
    if not any(touched):
        return None
    assert path is not None
    leaf = catalogue.leaf_for("jobstore", path)
    return dataclasses.replace(leaf, suggestion=leaf.suggestion.format(method=method))


def _scheduler_binding(
    project: Project, module: PythonModule, expr: cst.BaseExpression, scope: Scope
) -> tuple[PythonModule, Binding] | None:
    """The module and binding where the scheduler ``expr`` names is made (``scheduler =
    BackgroundScheduler(...)``), through aliases and imports of project modules."""
    for _ in range(_MAX_HOPS):
        binding: Binding | None = None
        imported: str | None = None  # the path of a name in another module
        if isinstance(expr, cst.Name):
            binding = scope.lookup(expr.value)
            if binding is not None and binding.kind == "import":
                imported = binding.path
        elif isinstance(expr, cst.Attribute):
            imported = module.model.resolve(expr, scope)  # ``tasks.scheduler``
        if imported is not None:
            definition = project.definition_of(imported)
            if definition is None:
                return None
            module, binding = definition
        if binding is None or binding.kind != "value" or binding.scope is None:
            return None
        if isinstance(binding.value, cst.Call):
            return module, binding
        if not isinstance(binding.value, (cst.Name, cst.Attribute)):
            return None
        expr, scope = binding.value, binding.scope
    return None


def _stores(project: Project, module: PythonModule, made: Binding) -> dict[str, bool]:
    """Alias → whether that store of the scheduler ``made`` waits on a database."""
    assert isinstance(made.value, cst.Call) and made.scope is not None
    stores: dict[str, bool] = {}
    _add_stores(project, module, keyword(made.value, "jobstores"), made.scope, stores)
    for site in module.model.calls_named(_CONFIGURING):
        func = site.node.func
        if not (isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name)):
            continue
        if func.attr.value not in _CONFIGURING or site.scope.lookup(func.value.value) is not made:
            continue
        if func.attr.value == "configure":
            _add_stores(project, module, keyword(site.node, "jobstores"), site.scope, stores)
            continue
        store = positional(site.node, 0) or keyword(site.node, "jobstore")
        alias_expr = positional(site.node, 1) or keyword(site.node, "alias")
        alias = "default" if alias_expr is None else module.model.literal(alias_expr, site.scope)
        if store is not None and isinstance(alias, str):
            stores[alias] = _is_sync_store(project, module, store, site.scope)
    return stores


def _add_stores(
    project: Project,
    module: PythonModule,
    expr: cst.BaseExpression | None,
    scope: Scope,
    stores: dict[str, bool],
) -> None:
    """The stores of a ``jobstores={...}`` argument (a dict display, or a name bound to one)."""
    if isinstance(expr, cst.Name):
        binding = scope.lookup(expr.value)
        if binding is None or binding.kind != "value" or binding.scope is None:
            return
        expr, scope = binding.value, binding.scope
    for alias, store in (string_keyed(expr) if expr is not None else None) or ():
        stores[alias] = _is_sync_store(project, module, store, scope)


def _is_sync_store(
    project: Project, module: PythonModule, store: cst.BaseExpression, scope: Scope
) -> bool:
    if isinstance(store, cst.Call):
        return project.resolve(module, store.func, scope) in catalogue.SYNC_JOB_STORES
    for key, value in string_keyed(store) or ():  # {"type": "sqlalchemy", "url": ...}
        if key == "type":
            return module.model.literal(value, scope) in catalogue.SYNC_JOB_STORES.values()
    return False
