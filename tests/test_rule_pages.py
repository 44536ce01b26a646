"""Rule pages are tested documentation: every page's Example raises exactly its rule, its
"Use instead" raises nothing, and pages, registry and fixture markers agree.

Pages are collected from ``rules/`` when the tests start, so a new page is a new test.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from fixture_support import REPO, MarkerError, fixture_files, parse_expectations

from fastlint import pages, registry
from fastlint.cli import cli
from fastlint.config import build_settings, read_table
from fastlint.engine import lint
from fastlint.pages import CodeBlock, code_blocks, parse_page

RULES_DIR = REPO / "rules"
PAGES = sorted(RULES_DIR.glob("FL*.md"))
PAGE_IDS = [p.stem for p in PAGES]

# Where a block goes when its first line is not ``# file: PATH``.
DEFAULT_FILES = {
    "python": "app.py",
    "dockerfile": "Dockerfile",
    "gunicorn": "gunicorn.conf.py",
    "shell": "entrypoint.sh",
    "sh": "entrypoint.sh",
    "bash": "entrypoint.sh",
    "procfile": "Procfile",
    "toml": "pyproject.toml",
}
REQUIRED_SECTIONS = (
    "What it does",
    "Why it matters in production",
    "Example",
    "Use instead",
    "Fix",
)


def write_project(blocks: list[CodeBlock], root: Path) -> list[str]:
    """Write a section's blocks as files under ``root``; return their relative paths."""
    written: list[str] = []
    for block in blocks:
        target = block.target or DEFAULT_FILES.get(block.language)
        if target is None:
            pytest.fail(f"a '{block.language}' block needs a first line '# file: PATH'")
        if target in written:
            pytest.fail(f"two blocks write {target}; start one with '# file: OTHER_PATH'")
        path = root / target
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(block.body, encoding="utf-8")
        written.append(target)
    return written


def lint_blocks(blocks: list[CodeBlock], root: Path) -> list[str]:
    """``path:line: CODE message`` for every finding in the project the blocks make."""
    write_project(blocks, root)
    config = root / "pyproject.toml"
    settings = build_settings(read_table(config) if config.exists() else {})
    result = lint([root], settings, root=root, cwd=root)
    return [f"{d.path}:{d.line}: {d.code} {d.message}" for d in result.diagnostics]


def _codes(findings: list[str]) -> set[str]:
    return {finding.split(": ", 1)[1].split(" ", 1)[0] for finding in findings}


def _page(path: Path) -> pages.RulePage:
    return parse_page(path.read_text(encoding="utf-8"))


# ---------------------------------------------------------------------------- per page


@pytest.mark.parametrize("path", PAGES, ids=PAGE_IDS)
def test_page_header_matches_registry(path: Path) -> None:
    page = _page(path)
    assert page.code == path.stem, f"first line must be '# {path.stem} <rule-name>'"
    meta = registry.meta_for(path.stem)
    assert page.name == meta.name, f"page names the rule '{page.name}', registry '{meta.name}'"
    # A rule whose severity depends on the case says so ("error with credentials, warning
    # otherwise"); the registry's default must be among the levels the page names.
    levels = set(re.findall(r"\b(error|warning|info)\b", page.severity or ""))
    assert meta.severity.value in levels, (
        f"page says 'severity: {page.severity}', registry says {meta.severity.value}"
    )


@pytest.mark.parametrize("path", PAGES, ids=PAGE_IDS)
def test_page_has_the_required_sections(path: Path) -> None:
    page = _page(path)
    missing = [title for title in REQUIRED_SECTIONS if not page.sections.get(title)]
    assert not missing, f"{path.name} lacks sections: {missing}"
    for title in ("Example", "Use instead"):
        assert page.blocks[title], f"{path.name}: '## {title}' has no code block"


@pytest.mark.parametrize("path", PAGES, ids=PAGE_IDS)
def test_example_raises_exactly_its_rule(path: Path, tmp_path: Path) -> None:
    findings = lint_blocks(code_blocks(path.read_text(encoding="utf-8"), "Example"), tmp_path)
    assert findings, f"the Example of {path.stem} raises nothing"
    assert _codes(findings) == {path.stem}, "the Example raises other codes:\n  " + "\n  ".join(
        findings
    )


@pytest.mark.parametrize("path", PAGES, ids=PAGE_IDS)
def test_use_instead_raises_nothing(path: Path, tmp_path: Path) -> None:
    findings = lint_blocks(code_blocks(path.read_text(encoding="utf-8"), "Use instead"), tmp_path)
    assert not findings, "'Use instead' raises:\n  " + "\n  ".join(findings)


@pytest.mark.parametrize("path", PAGES, ids=PAGE_IDS)
def test_fix_section_says_what_fix_does(
    path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A page whose Fix section starts with "None" has no fix for its Example; any other page's
    Example loses findings of its rule under --fix --unsafe-fixes, and gains none."""
    says_none = _page(path).sections["Fix"].lstrip().startswith("None")
    before = lint_blocks(code_blocks(path.read_text(encoding="utf-8"), "Example"), tmp_path)
    monkeypatch.chdir(tmp_path)
    CliRunner().invoke(cli, ["--fix", "--unsafe-fixes", "--no-cache", "."])
    settings = (
        build_settings(read_table(tmp_path / "pyproject.toml"))
        if (tmp_path / "pyproject.toml").exists()
        else build_settings({})
    )
    after = lint([tmp_path], settings, root=tmp_path, cwd=tmp_path).diagnostics
    remaining = [d for d in after if d.code == path.stem]
    assert _codes([f"{d.path}:{d.line}: {d.code} {d.message}" for d in after]) <= {path.stem}
    if says_none:
        assert len(remaining) == len(before), f"{path.stem} says None, but --fix changed it"
    else:
        assert len(remaining) < len(before), f"--fix fixed nothing in {path.stem}'s Example"


# ---------------------------------------------------------------------------- registry


def test_every_registered_rule_has_a_page() -> None:
    missing = [meta.code for meta in registry.all_metas() if meta.code not in PAGE_IDS]
    assert not missing, f"rules without a page in rules/: {missing}"


def test_every_page_belongs_to_a_registered_rule() -> None:
    codes = {meta.code for meta in registry.all_metas()}
    orphans = [code for code in PAGE_IDS if code not in codes]
    assert not orphans, f"pages for unregistered codes: {orphans}"
    strays = [p.name for p in RULES_DIR.iterdir() if p.suffix == ".md" and p not in PAGES]
    assert not strays, f"files in rules/ that are not FLxxx.md pages: {strays}"


def test_fixture_markers_name_registered_rules() -> None:
    # parse_expectations raises MarkerError for an unknown or misspelt code.
    problems = []
    for _, path in fixture_files():
        try:
            parse_expectations(path)
        except MarkerError as error:
            problems.append(str(error))
    assert not problems, "\n".join(problems)


@pytest.mark.skipif(
    (Path(pages.__file__).parent / "_rule_pages").is_dir(),
    reason="installed from a wheel: pages come from the package (see test_wheel.py)",
)
def test_pages_are_found_from_the_checkout() -> None:
    # An editable install has no fastlint/_rule_pages/: the loader falls back to rules/.
    assert pages.pages_dir() == RULES_DIR
    assert list(pages.page_paths()) == PAGE_IDS


# ---------------------------------------------------------------------------- parsing

SAMPLE = """\
# FL999 sample-rule
severity: warning · file kinds: python, dockerfile

## What it does
Text.

## Example
```python
# file: app/main.py
## not a heading inside a fence
x = 1
```

~~~dockerfile
FROM python:3.12
~~~

## Use instead
````python
```
````
"""


def test_parse_page_sections_and_blocks() -> None:
    page = parse_page(SAMPLE)
    assert (page.code, page.name, page.severity) == ("FL999", "sample-rule", "warning")
    mixed = parse_page("# FL1 x\nseverity: error with a, warning · file kinds: python\n")
    assert mixed.severity == "error with a, warning"
    assert list(page.sections) == ["What it does", "Example", "Use instead"]
    first, second = page.blocks["Example"]
    assert first == CodeBlock(
        "python", "# file: app/main.py\n## not a heading inside a fence\nx = 1\n", "app/main.py"
    )
    assert first.body == "## not a heading inside a fence\nx = 1\n"
    assert second == CodeBlock("dockerfile", "FROM python:3.12\n", None)
    assert page.blocks["Use instead"] == [CodeBlock("python", "```\n", None)]


def test_malformed_header_is_reported_as_none() -> None:
    page = parse_page("FL101 no hash\nseverity: error\n")
    assert page.code is None and page.name is None


def test_write_project_uses_default_names_and_targets(tmp_path: Path) -> None:
    blocks = [
        CodeBlock("python", "x = 1\n"),
        CodeBlock("dockerfile", "# file: deploy/Dockerfile\nFROM python\n", "deploy/Dockerfile"),
        CodeBlock("procfile", "web: uvicorn app:app\n"),
    ]
    assert write_project(blocks, tmp_path) == ["app.py", "deploy/Dockerfile", "Procfile"]
    assert (tmp_path / "deploy" / "Dockerfile").read_text() == "FROM python\n"


# ---------------------------------------------------------------------------- --explain


def test_print_page_renders_markdown(capsys: pytest.CaptureFixture[str]) -> None:
    pages.print_page("FL000", color=False)
    output = capsys.readouterr().out
    assert "FL000 unreadable-file" in output
    assert "async def list_items(:" in output  # code blocks are printed as written
    assert "\x1b[" not in output
    assert "## What it does" not in output  # rendered, not raw markdown


def test_unknown_code_is_a_usage_error() -> None:
    with pytest.raises(registry.UnknownRuleError):
        pages.print_page("FL999")
    result = CliRunner().invoke(cli, ["--explain", "FL999"])
    assert result.exit_code == 2
    (line,) = result.output.strip().splitlines()
    assert line.startswith("fastlint: error: unknown rule code or name 'FL999'")


def test_registered_rule_without_page(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(pages, "pages_dir", lambda: tmp_path)
    with pytest.raises(LookupError, match=r"FL000 is a rule but has no documentation page"):
        pages.page_text("FL000")


def test_cli_explain_and_list_rules() -> None:
    runner = CliRunner()
    explain = runner.invoke(cli, ["--explain", "fl000", "--color", "never"])
    assert explain.exit_code == 0
    assert "FL000 unreadable-file" in explain.output
    listing = runner.invoke(cli, ["--list-rules", "--color", "never"])
    assert listing.exit_code == 0
    assert "\x1b[" not in listing.output
    for meta in registry.all_metas():
        assert re.search(
            rf"{meta.code}\s+{re.escape(meta.name)}\s+{meta.severity.value}", listing.output
        )
