"""Event-loop rules: blocking calls in async code, directly (FL101) and through helpers (FL102).

Both read the project's call graph (:mod:`fastlint.python.callgraph`), built once per run; the
blocking calls themselves are data in :mod:`fastlint.python.catalogue`, and where a call runs
(per request, at startup, in a thread) comes from :mod:`fastlint.python.execution`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from fastlint.diagnostics import Severity
from fastlint.python import catalogue, serving
from fastlint.python.blocking import call_graph
from fastlint.python.callgraph import CallGraph, FunctionFacts, readable_qualname
from fastlint.python.catalogue import BlockingLeaf
from fastlint.python.model import CallSite, FunctionInfo
from fastlint.python.module import PythonModule
from fastlint.python.reach import ASYNC_DEF
from fastlint.registry import register
from fastlint.rules import catalog
from fastlint.rules.base import PythonRule

if TYPE_CHECKING:
    from fastlint.context import LintContext

_PHASE_TEXT = {
    serving.STARTUP: "runs once at startup, so it delays startup and readiness rather than "
    "every request",
    serving.SHUTDOWN: "runs once at shutdown, so it delays graceful shutdown rather than "
    "every request",
}


class _EventLoopRule(PythonRule):
    needs = ASYNC_DEF

    def graph(self, ctx: LintContext) -> CallGraph:
        """The run's call graph (built by the first rule that asks, then shared)."""
        extra = tuple(str(item) for item in self.option("blocking-calls"))
        return call_graph(ctx.project, extra)

    def coroutines(
        self, unit: PythonModule, ctx: LintContext
    ) -> Iterator[tuple[FunctionInfo, FunctionFacts]]:
        """Each ``async def`` in the module with its call-graph facts."""
        if not any(function.is_async for function in unit.model.functions):
            return  # nothing here runs on the event loop; don't build the graph for it
        graph = self.graph(ctx)
        for function in unit.model.functions:
            facts = graph.facts(function) if function.is_async else None
            if facts is not None:
                yield function, facts


def _severity(leaf: BlockingLeaf, phase: str, once: bool = False) -> Severity:
    if phase == serving.REQUEST and once:
        return Severity.INFO
    if phase != serving.REQUEST or leaf.severity == "warning":
        return Severity.WARNING
    return Severity.ERROR


_ONCE_TEXT = (
    "runs only on first use (behind a cache or a lazily initialised global), so the first "
    "request after a start pays rather than every request"
)


def _phase(rule: PythonRule, ctx: LintContext, unit: PythonModule, site: CallSite) -> str | None:
    """Where the call runs (see :func:`serving.call_context`); None also for code the app
    never serves unless ``report-unserved-async`` asks for it."""
    phase = serving.call_context(ctx.project, unit, site)
    if phase == serving.NEVER and not rule.option("report-unserved-async"):
        return None
    return phase


def unserved_text(ctx: LintContext, function: FunctionInfo) -> str:
    why = serving.placement(ctx.project, function)[1] or "not served"
    return (
        f"runs in code the app never serves ({why}), where it stalls everything else on "
        "that event loop"
    )


@register
class BlockingCallInAsync(_EventLoopRule):
    meta = catalog.FL101

    def check(self, unit: PythonModule, ctx: LintContext) -> None:
        for _, facts in self.coroutines(unit, ctx):
            for leaf_site in facts.leaves:
                if not leaf_site.catalogued:
                    continue  # plugged-in classifiers have their own rules (FL103)
                site, leaf = leaf_site.site, leaf_site.leaf
                phase = _phase(self, ctx, unit, site)
                if phase is None:
                    continue
                once = phase == serving.REQUEST and serving.runs_once(ctx.project, unit, site)
                self.report(
                    unit,
                    site.node,
                    self._message(ctx, unit, leaf_site.site, leaf, phase, once),
                    severity=_severity(leaf, phase, once),
                    fix=leaf.suggestion,
                )

    def _message(
        self,
        ctx: LintContext,
        unit: PythonModule,
        site: CallSite,
        leaf: BlockingLeaf,
        phase: str,
        once: bool,
    ) -> str:
        call = f"{leaf.description}()"
        offloader = serving.offloader_receiving(ctx.project, unit, site)
        if offloader is not None:
            return (
                f"{call} runs on the event loop before {offloader} even starts, so offloading "
                f"its result does not help; pass the function and its arguments instead: "
                f"'{offloader}({leaf.description}, ...)'."
            )
        if phase in _PHASE_TEXT:
            return f"{call} blocks the event loop but {_PHASE_TEXT[phase]}; {leaf.suggestion}."
        if phase == serving.NEVER and site.function is not None:
            return (
                f"{call} blocks the event loop but {unserved_text(ctx, site.function)}; "
                f"{leaf.suggestion}."
            )
        if once:
            return f"{call} blocks the event loop but {_ONCE_TEXT}; {leaf.suggestion}."
        return f"{call} {catalogue.why(leaf)}; {leaf.suggestion}."


@register
class BlockingCallViaHelper(_EventLoopRule):
    meta = catalog.FL102

    def check(self, unit: PythonModule, ctx: LintContext) -> None:
        for function, facts in self.coroutines(unit, ctx):
            graph = self.graph(ctx)
            for edge in facts.edges:
                if edge.site.awaited:
                    continue  # a sync def that returns an awaitable (decorated, wrapped)
                if graph.chain(edge.callee) is None:
                    continue
                phase = _phase(self, ctx, unit, edge.site)
                if phase is None:
                    continue
                chain, once = serving.request_chain(ctx.project, graph, edge.callee)
                assert chain is not None
                once = phase == serving.REQUEST and (
                    once or serving.runs_once(ctx.project, unit, edge.site)
                )
                helper = chain.labels[0].rsplit(".", 1)[-1]
                path = f"{readable_qualname(function)}() → {chain.text()}"
                if phase in _PHASE_TEXT:
                    when = f"blocks the event loop and {_PHASE_TEXT[phase]}"
                elif phase == serving.NEVER:
                    when = f"blocks the event loop and {unserved_text(ctx, function)}"
                elif once:
                    when = f"blocks the event loop but {_ONCE_TEXT}"
                else:
                    when = "blocks the event loop, stalling every request while it runs"
                self.report(
                    unit,
                    edge.site.node,
                    f"Sync helper call {path} {when}; run it with "
                    f"'await asyncio.to_thread({helper}, ...)' or make the helper async "
                    f"({chain.leaf.suggestion}).",
                    severity=_severity(chain.leaf, phase, once),
                    fix=f"await asyncio.to_thread({helper}, ...)",
                )
