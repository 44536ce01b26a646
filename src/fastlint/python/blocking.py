"""What blocks the event loop, project-wide: the call graph with every leaf classifier the
Python front end knows (the catalogue, and sync SQLAlchemy sessions), built once per run."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastlint.python.callgraph import CHAINS, CallGraph
from fastlint.python.catalogue import LeafClassifier
from fastlint.python.project import register_answers
from fastlint.python.sqla import blocking_leaf

if TYPE_CHECKING:
    from fastlint.python.project import Project

CLASSIFIERS: tuple[LeafClassifier, ...] = (blocking_leaf,)


def call_graph(project: Project, extra_patterns: tuple[str, ...] = ()) -> CallGraph:
    """The project's call graph, built on first use and shared by every rule in the run;
    ``extra_patterns``: blocking calls configured on top of the catalogue."""
    return project.memo("call-graph").get(
        extra_patterns, CallGraph, project, extra_patterns, CLASSIFIERS
    )


def _patterns(name: str) -> tuple[str, ...]:
    joined = name[len(CHAINS) :]
    return tuple(joined.split("\0")) if joined else ()


register_answers(CHAINS, lambda project, name: call_graph(project, _patterns(name)))
register_answers("callee", lambda project, name: call_graph(project))
register_answers("returns", lambda project, name: call_graph(project))
register_answers("overrides", lambda project, name: call_graph(project))
