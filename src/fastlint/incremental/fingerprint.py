"""Digests of what another file's findings can read of a module: its syntax, its exact text,
and what its imports name.

The syntax digest is CPython's ``ast.dump`` of the module, which leaves out positions, comments,
blank lines and formatting: a comment added to a module leaves every other file's cached
findings valid. CPython's ``ast`` is used because it is an order of magnitude faster than
LibCST and this only compares; the analysis itself is LibCST's. Where CPython cannot parse the
text (grammar newer than this interpreter, say) there is no syntax digest and the module counts
as changed, which is always safe.

Earlier versions kept a digest per part of a module (each function's body, each module-level
name), so that an edit inside one function re-checked only the files whose findings read it.
Measured on prefect, with the answers of :mod:`fastlint.incremental.tracking` doing most of that
work, per-part digests saved 0-0.7 s on a one-file edit: not enough for what they cost to keep
right, so the unit is the module.
"""

from __future__ import annotations

import ast
import hashlib
import warnings

from fastlint.python.reach import scan_imports
from fastlint.python.reads import IMPORTS, SCAN, TEXT, WHOLE, TextScan


def digest_of(text: str, what: str) -> str | None:
    """The digest of ``what`` (:data:`WHOLE`, :data:`TEXT`, :data:`IMPORTS` or a named text
    scan) of a module whose text is ``text``; None when it has none (syntax CPython cannot
    parse, a scan this version does not know)."""
    if what == TEXT:
        return _digest(text)
    if what == IMPORTS:
        return _digest(repr(list(scan_imports(text))))
    if what.startswith(SCAN):
        scan = TextScan.known.get(what[len(SCAN) :])
        return None if scan is None else _digest(repr(scan.scan(text)))
    if what == WHOLE:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # e.g. SyntaxWarning for "\d" on Python 3.12+
                return _digest(ast.dump(ast.parse(text)))
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return None
    return None


def _digest(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest()
