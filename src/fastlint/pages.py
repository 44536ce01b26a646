"""Rule pages (``rules/FLxxx.md``): find them, parse them, print them for ``--explain``.

A wheel carries the pages inside the package as ``fastlint/_rule_pages/`` (hatchling
force-include); an editable install does not, so the loader falls back to the checkout's
top-level ``rules/`` folder.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from fastlint import registry

if TYPE_CHECKING:
    from rich.console import Console

_PACKAGE_DIR = Path(__file__).resolve().parent
_WHEEL_PAGES = _PACKAGE_DIR / "_rule_pages"
_PAGE_NAME = re.compile(r"^FL\d{3}\.md$")
_HEADER = re.compile(r"^#\s+(?P<code>FL\d{3})\s+(?P<name>[a-z0-9][a-z0-9-]*)\s*$")
_SEVERITY = re.compile(r"^severity:\s*(?P<severity>[^·]*)")
_FENCE = re.compile(r"^(?P<fence>`{3,}|~{3,})\s*(?P<language>[\w+-]*)")
_FILE_TARGET = re.compile(r"^#\s*file:\s*(?P<path>\S+)\s*$")


@dataclass(frozen=True)
class CodeBlock:
    """One fenced block of a page section; ``target`` comes from a first line ``# file: PATH``."""

    language: str
    text: str
    target: str | None = None

    @property
    def body(self) -> str:
        """The block without its ``# file:`` line: what gets written to disk."""
        if self.target is None:
            return self.text
        return self.text.split("\n", 1)[1] if "\n" in self.text else ""


@dataclass(frozen=True)
class RulePage:
    code: str | None  # None when the header line is malformed
    name: str | None
    severity: str | None  # the text after "severity:", e.g. "error with credentials, warning"
    text: str
    sections: dict[str, str] = field(default_factory=dict)  # "## Title" → markdown body
    blocks: dict[str, list[CodeBlock]] = field(default_factory=dict)  # section → fenced blocks


def pages_dir() -> Path | None:
    """The folder holding ``FLxxx.md`` pages: the wheel's copy, else the checkout's ``rules/``."""
    if _WHEEL_PAGES.is_dir():
        return _WHEEL_PAGES
    # From src/fastlint/ the checkout is two levels up; look no further than three so an
    # unrelated ``rules/`` folder (next to site-packages, in a home folder) is never picked.
    for folder in list(_PACKAGE_DIR.parents)[:3]:
        candidate = folder / "rules"
        if candidate.is_dir() and any(_PAGE_NAME.match(p.name) for p in candidate.iterdir()):
            return candidate
    return None


def page_paths() -> dict[str, Path]:
    """Every rule page by code, sorted by code."""
    folder = pages_dir()
    if folder is None:
        return {}
    return {p.stem: p for p in sorted(folder.iterdir()) if _PAGE_NAME.match(p.name)}


@cache
def home_url() -> str | None:
    """The project's repository URL from the installed package metadata; None when it names
    none (links are then left out rather than pointing somewhere made up)."""
    from importlib.metadata import PackageNotFoundError, metadata

    try:
        entries = metadata("fastlint").get_all("Project-URL") or []
    except PackageNotFoundError:
        entries = []
    urls = {}
    for entry in entries:
        label, _, url = entry.partition(",")
        urls[label.strip().lower()] = url.strip().rstrip("/")
    for label in ("repository", "source", "source code", "homepage"):
        if urls.get(label, "").startswith("https://"):
            return urls[label]
    return None


def page_url(code: str) -> str | None:
    """Where a browser shows ``code``'s page (SARIF helpUri), when the repository is known."""
    home = home_url()
    return None if home is None else f"{home}/blob/main/rules/{code}.md"


def page_text(code: str) -> str:
    """The markdown of ``code``'s page; UnknownRuleError for an unregistered code,
    LookupError for a registered rule whose page is missing."""
    registry.meta_for(code)  # raises UnknownRuleError
    path = page_paths().get(code)
    if path is None:
        where = pages_dir() or "rules/"
        raise LookupError(f"{code} is a rule but has no documentation page ({where}/{code}.md)")
    return path.read_text(encoding="utf-8")


def parse_page(text: str) -> RulePage:
    """Split a page into its header facts, ``## `` sections and fenced code blocks."""
    lines = text.splitlines()
    header = _HEADER.match(lines[0]) if lines else None
    severity = None
    for line in lines[1:4]:
        match = _SEVERITY.match(line.strip())
        if match:
            severity = match.group("severity").strip()
            break
    sections: dict[str, list[str]] = {}
    blocks: dict[str, list[CodeBlock]] = {}
    current: str | None = None
    fence: str | None = None
    language = ""
    block_lines: list[str] = []
    for line in lines[1:]:
        if fence is None and line.startswith("## "):
            current = line[3:].strip()
            sections[current] = []
            blocks.setdefault(current, [])
            continue
        if current is None:
            continue
        sections[current].append(line)
        fence_match = _FENCE.match(line.strip())
        if fence is None and fence_match:
            fence, block_lines = fence_match.group("fence"), []
            language = fence_match.group("language").lower()
        elif fence is not None and _closes(line, fence):
            blocks[current].append(_code_block(language, block_lines))
            fence = None
        elif fence is not None:
            block_lines.append(line)
    return RulePage(
        code=header.group("code") if header else None,
        name=header.group("name") if header else None,
        severity=severity,
        text=text,
        sections={title: "\n".join(body).strip() for title, body in sections.items()},
        blocks=blocks,
    )


def _closes(line: str, fence: str) -> bool:
    stripped = line.strip()
    return len(stripped) >= len(fence) and set(stripped) == {fence[0]}


def _code_block(language: str, lines: list[str]) -> CodeBlock:
    text = "\n".join(lines) + "\n"
    target = _FILE_TARGET.match(lines[0].strip()) if lines else None
    return CodeBlock(language, text, target.group("path") if target else None)


def code_blocks(text: str, section: str) -> list[CodeBlock]:
    """The fenced blocks of one section (e.g. "Example", "Use instead") of a page's text."""
    return parse_page(text).blocks.get(section, [])


def load_page(code: str) -> RulePage:
    return parse_page(page_text(code))


# ---------------------------------------------------------------------------- printing


def _console(color: bool) -> Console:
    import sys

    from fastlint.report.base import console_for

    return console_for(sys.stdout, color)


def print_page(code: str, color: bool = False) -> None:
    """Render ``code``'s page (``--explain``) with Rich Markdown."""
    from rich.markdown import Markdown

    text = page_text(code)
    # On a terminal a link is its text, clickable; elsewhere (a pipe, a file, an editor's
    # panel) the URL must be printed or it is lost: "text (url)".
    theme = "ansi_dark" if color else "default"
    _console(color).print(Markdown(text, code_theme=theme, hyperlinks=color))


def print_rule_table(color: bool = False, metas: list[registry.RuleMeta] | None = None) -> None:
    """Every rule, or ``metas`` (``--list-rules``): code, name, severity, front end, summary."""
    from rich import box
    from rich.table import Table

    table = Table(box=box.SIMPLE_HEAD, highlight=False)
    for column in ("Code", "Name", "Severity", "Front end"):
        table.add_column(column, no_wrap=True)
    table.add_column("Summary", overflow="fold")
    for meta in registry.all_metas() if metas is None else metas:
        table.add_row(meta.code, meta.name, meta.severity.value, meta.front_end, meta.summary)
    _console(color).print(table)
