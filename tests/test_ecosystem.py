"""The pure parts of benchmarks/ecosystem.py: labels, matching, scores and the diff.

The script itself needs checkouts of third-party projects and never runs in CI."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "ecosystem.py"


def _load():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("ecosystem_script", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while being built
    spec.loader.exec_module(module)
    return module


eco = _load()


def label(path: str, line: int, code: str, verdict: str, project: str = "app") -> str:
    return json.dumps(
        {
            "project": project,
            "path": path,
            "line": line,
            "code": code,
            "verdict": verdict,
            "why": "because",
        }
    )


def finding(path: str, line: int, code: str, project: str = "app"):  # type: ignore[no-untyped-def]
    return eco.Finding(project=project, path=path, line=line, code=code)


def test_labels_parse_and_skip_blank_lines() -> None:
    labels = eco.parse_labels(
        [label("a.py", 3, "FL101", "TP"), "", label("b.py", 1, "FL402", "miss")]
    )
    assert [(x.path, x.line, x.code, x.verdict) for x in labels] == [
        ("a.py", 3, "FL101", "TP"),
        ("b.py", 1, "FL402", "miss"),
    ]


def test_an_unknown_verdict_is_an_error() -> None:
    with pytest.raises(ValueError, match="verdict 'maybe'"):
        eco.parse_labels([label("a.py", 3, "FL101", "maybe")])


def test_one_finding_labelled_twice_is_an_error() -> None:
    with pytest.raises(ValueError, match="labelled twice"):
        eco.parse_labels([label("a.py", 3, "FL101", "TP"), label("a.py", 3, "FL101", "FP")])


def test_findings_are_keyed_by_the_path_from_the_repository_root() -> None:
    project = eco.Project(name="app", repo="o/app", commit="c", category="large", lint="backend")
    report = {
        "diagnostics": [
            {"code": "FL101", "path": "svc/api.py", "line": 7, "message": "m"},
            {"code": "FL101", "path": "svc/api.py", "line": 7, "message": "m"},  # twice: once
        ]
    }
    assert [f.key for f in eco.findings_from_report(project, report)] == [
        ("app", "backend/svc/api.py", 7, "FL101")
    ]


def test_score_counts_each_verdict_and_what_nobody_judged() -> None:
    labels = eco.parse_labels(
        [
            label("a.py", 1, "FL101", "TP"),
            label("a.py", 2, "FL101", "FP"),
            label("a.py", 3, "FL101", "debatable"),
            label("a.py", 4, "FL101", "miss"),
        ]
    )
    found = [finding("a.py", n, "FL101") for n in (1, 2, 3, 9)]
    tally = eco.score(found, labels).by_code["FL101"]
    assert (tally.tp, tally.fp, tally.debatable, tally.unlabelled, tally.missed) == (1, 1, 1, 1, 1)
    assert tally.precision == 0.5  # debatable left out
    assert tally.recall == 0.5


def test_a_miss_that_is_now_reported_counts_as_found() -> None:
    labels = eco.parse_labels([label("a.py", 4, "FL502", "miss")])
    scores = eco.score([finding("a.py", 4, "FL502")], labels)
    tally = scores.by_code["FL502"]
    assert (tally.tp, tally.missed, tally.recall) == (1, 0, 1.0)
    assert [x.line for x in scores.now_found] == [4]


def test_a_true_positive_no_longer_reported_is_missed_and_an_fp_gone_is_not() -> None:
    labels = eco.parse_labels([label("a.py", 1, "FL101", "TP"), label("a.py", 2, "FL101", "FP")])
    scores = eco.score([], labels)
    tally = scores.by_code["FL101"]
    assert (tally.tp, tally.fp, tally.missed) == (0, 0, 1)
    assert tally.precision is None and tally.recall == 0.0
    assert [x.line for x in scores.lost] == [1]


def test_labels_of_projects_not_run_are_left_out() -> None:
    labels = eco.parse_labels([label("a.py", 1, "FL101", "miss", project="other")])
    assert eco.score([], labels, projects=["app"]).by_code == {}
    assert eco.score([], labels).by_code["FL101"].missed == 1


def test_families_add_up_their_rules() -> None:
    labels = eco.parse_labels(
        [
            label("a.py", 1, "FL101", "TP"),
            label("a.py", 2, "FL102", "FP"),
            label("d", 1, "FL501", "TP"),
        ]
    )
    found = [finding("a.py", 1, "FL101"), finding("a.py", 2, "FL102"), finding("d", 1, "FL501")]
    families = eco.score(found, labels).by_family()
    assert (families["FL1 event loop"].tp, families["FL1 event loop"].fp) == (1, 1)
    assert families["FL5 containers"].precision == 1.0


def test_the_table_has_a_row_per_rule_family_and_total() -> None:
    labels = eco.parse_labels([label("a.py", 1, "FL101", "TP"), label("a.py", 2, "FL101", "FP")])
    table = eco.scores_table(
        eco.score([finding("a.py", 1, "FL101"), finding("a.py", 2, "FL101")], labels)
    )
    rows = table.splitlines()
    assert rows[2] == "| FL101 | 1 | 1 | 0 | 0 | 50% | 100% |"
    assert rows[3].startswith("| **FL1 event loop** | 1 | 1 |")
    assert rows[-1].startswith("| **all rules** |")


def test_diff_lists_new_and_gone_findings_per_project_and_rule() -> None:
    before = [finding("a.py", 1, "FL101"), finding("a.py", 2, "FL101"), finding("b.py", 1, "FL402")]
    after = [finding("a.py", 1, "FL101"), finding("a.py", 5, "FL101"), finding("c.py", 1, "FL301")]
    changes = eco.diff(before, after)
    assert {
        key: ([f.line for f in new], [f.line for f in gone]) for key, (new, gone) in changes.items()
    } == {
        ("app", "FL101"): ([5], [2]),
        ("app", "FL301"): ([1], []),
        ("app", "FL402"): ([], [1]),
    }
    report = eco.diff_report(
        changes, eco.parse_labels([label("a.py", 2, "FL101", "FP")]), "old", "new"
    )
    assert "- app a.py:2 FL101 [FP]" in report
    assert "+ app a.py:5 FL101 [unlabelled]" in report


def test_no_change_says_so() -> None:
    assert (
        eco.diff_report(eco.diff([], []), [], "old", "new")
        == "No finding changed between old and new."
    )


def test_the_committed_labels_and_manifest_are_well_formed() -> None:
    projects = eco.load_manifest()
    names = {p.name for p in projects}
    assert len(projects) >= 12 and len(names) == len(projects)
    assert all(len(p.commit) == 40 for p in projects)
    labels = eco.load_labels()
    assert labels and {x.project for x in labels} <= names
