"""The speed layer's view of reads: the front end's one hook, the recorder, and the digests
it compares (syntax, imports, text)."""

from __future__ import annotations

import libcst as cst
import pytest

from fastlint.incremental.fingerprint import digest_of
from fastlint.incremental.tracking import Recorder, take_fresh
from fastlint.python import reads
from fastlint.python.module import PythonModule
from fastlint.python.project import Project
from fastlint.python.reads import IMPORTS, TEXT, WHOLE, AnswerTable, Hook, Memo

TEXT_A = "import os\n\n\ndef f(x):\n    return os.path.join(x, 'a')\n"


@pytest.fixture
def recorder():  # type: ignore[no-untyped-def]
    recorder = Recorder()
    previous = reads.install(recorder)
    yield recorder
    reads.install(previous)


def _module(path: str, text: str, name: str = "m") -> PythonModule:
    return PythonModule(path, text, cst.parse_module(text), name, False)


def test_the_default_hook_records_nothing() -> None:
    assert type(reads.hook) is Hook
    memo: Memo[str, int] = Memo()
    assert memo.get("k", lambda: 1) == 1
    assert memo.get("k", lambda: 2) == 1  # still a memo


def test_reading_the_model_or_tree_reports_the_module(recorder: Recorder) -> None:
    module = _module("m.py", TEXT_A)
    with recorder.frame() as found:
        assert module.model.functions[0].name == "f"
    assert found.modules == {("m.py", WHOLE)}
    with recorder.frame() as found:
        assert module.tree.body
    assert found.modules == {("m.py", WHOLE)}


def test_quoting_another_modules_source_reads_its_text(recorder: Recorder) -> None:
    module = _module("m.py", "x = f( 1 )\n")
    binding = module.model.module_binding("x")
    assert binding is not None and binding.value is not None
    with recorder.frame() as found:
        assert module.code(binding.value) == "f( 1 )"
    assert found.modules == {("m.py", TEXT)}


def test_a_memo_entry_charges_what_computing_it_read_to_every_later_user(
    recorder: Recorder,
) -> None:
    """A fact computed while checking one file and reused for another must still count
    against the second file: otherwise its cache entry would miss a dependency."""
    first, second = _module("a.py", TEXT_A, "a"), _module("b.py", "y = 1\n", "b")
    memo: Memo[str, int] = Memo()
    with recorder.frame() as one:
        assert memo.get("k", lambda: len(first.model.functions)) == 1
        second.model  # noqa: B018 - a read of its own
    with recorder.frame() as two:
        assert memo.get("k", lambda: 99) == 1
    assert one.modules == {("a.py", WHOLE), ("b.py", WHOLE)}
    assert two.modules == {("a.py", WHOLE)}


def test_an_answer_is_charged_as_itself_and_kept_with_its_reads(recorder: Recorder) -> None:
    module = _module("a.py", TEXT_A, "a")
    table: AnswerTable[int] = AnswerTable(
        "count", reads.as_is, int, lambda key: len(module.model.functions)
    )
    with recorder.frame() as found:
        assert table.ask("a") == 1
    assert found.modules == set()  # what it read is the answer's business
    assert found.answers == {("count", "a"): recorder.digest(table, "a")}
    (kept,) = take_fresh(table).items()
    assert kept == ("a", (1, {("a.py", WHOLE)}, set(), {}))
    assert take_fresh(table) == {}  # taken once


def test_an_answer_handed_in_is_not_computed_again(recorder: Recorder) -> None:
    project = Project([])

    def compute(key: str) -> bool:
        raise AssertionError("computed")

    project.hand_in("flag", "k", True, None)
    table = project.answers("flag", reads.as_is, reads.boolean, compute)
    assert table.ask("k") is True


def test_the_import_scan_is_an_answer_kept_with_the_test_and_texts_it_read(
    recorder: Recorder,
) -> None:
    from fastlint.python.reach import Reaches
    from fastlint.python.reads import Spelling

    modules = [
        _module("app/main.py", "from app import db\n", "app.main"),
        _module("app/db.py", "import sqlalchemy\n", "app.db"),
    ]
    project = Project(modules)
    gate = Reaches(Spelling("test-sqlalchemy-tracking", "sqlalchemy"))
    with recorder.frame() as found:
        assert gate.admits(modules[0], project)
    assert set(found.answers) == {("reaches:test-sqlalchemy-tracking", "app/main.py")}
    table = project.answer_tables["reaches:test-sqlalchemy-tracking"]
    _, (value, parts, spellings, _) = next(iter(take_fresh(table).items()))
    assert value is True
    assert parts == {("app/main.py", TEXT)}  # its own text; db.py passes the test itself
    assert spellings == {"test-sqlalchemy-tracking"}


def test_comments_and_formatting_do_not_change_the_syntax_digest() -> None:
    before = digest_of(TEXT_A, WHOLE)
    assert before is not None
    reformatted = "import os\ndef f(x):  # joins\n    return os.path.join(\n        x, 'a')\n"
    assert digest_of(reformatted, WHOLE) == before
    assert digest_of(TEXT_A.replace("'a'", "'b'"), WHOLE) != before
    assert digest_of(reformatted, TEXT) != digest_of(TEXT_A, TEXT)


def test_the_imports_digest_changes_with_the_imports_only() -> None:
    before = digest_of(TEXT_A, IMPORTS)
    assert digest_of(TEXT_A.replace("'a'", "'b'"), IMPORTS) == before
    assert digest_of(TEXT_A.replace("import os", "import os, sys"), IMPORTS) != before


def test_text_cpython_cannot_parse_has_no_syntax_digest() -> None:
    assert digest_of("def broken(:\n", WHOLE) is None
    assert digest_of("def broken(:\n", TEXT) is not None
