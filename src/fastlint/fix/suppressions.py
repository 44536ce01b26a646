"""FL001: remove a code that suppresses nothing from its marker (safe: it suppressed nothing),
or the whole marker when it was the only code; a comment line left empty goes too."""

from __future__ import annotations

import re

from fastlint.diagnostics import Diagnostic
from fastlint.fix.base import Edit, Fix, Source, fixes

_MARKER_START = re.compile(r"#\s*(?:noqa\b|fastlint:\s*ignore)", re.I)
_SEPARATOR = re.compile(r"[\s,]*")


@fixes("FL001")
def fix_unused_suppression(diagnostic: Diagnostic, source: Source) -> list[Fix]:
    line_start, line_end = source.line_span(diagnostic.line)
    line = source.text[line_start:line_end]
    start, end = diagnostic.column - 1, diagnostic.end_column - 1
    markers = [m for m in _MARKER_START.finditer(line) if m.start() < start]
    if not markers or not line[start:end].upper().startswith("FL"):
        return []
    marker = markers[-1]
    code = line[start:end]
    others = _other_codes(line, marker.end(), start, end)
    if others:
        after = _SEPARATOR.match(line, end)
        before = start
        while before > 0 and line[before - 1] in " ,":
            before -= 1
        if after is not None and after.end() < len(line) and line[after.end()] not in "]#":
            remove = (start, after.end())  # "FL101, FL102" → "FL102"
        else:
            remove = (before, end)  # "FL101, FL102" → "FL101"
        edit = Edit(line_start + remove[0], line_start + remove[1], "")
        return [Fix(f"remove {code} from the suppression", (edit,), safe=True)]
    closing = line.find("]", end)
    marker_end = closing + 1 if "ignore" in marker.group().lower() and closing >= 0 else end
    rest = line[marker_end:]
    head = line[: marker.start()]
    if not head.strip() and not rest.strip():
        # A comment line holding only the marker: the whole line goes.
        next_start = line_end + (2 if source.text.startswith("\r\n", line_end) else 1)
        edit = Edit(line_start, min(next_start, len(source.text)), "")
    else:
        keep_from = marker.start()
        while keep_from > 0 and line[keep_from - 1] in " \t":
            keep_from -= 1
        tail = rest.lstrip(" \t")
        if tail.startswith("#") and head.strip():
            replacement = "  " + tail  # another comment followed the marker
        elif tail.startswith("#"):
            replacement = head + tail  # keep that comment where the marker was
            keep_from = 0
        else:
            replacement = (" " + tail) if tail else ""
        edit = Edit(line_start + keep_from, line_end, replacement)
    return [Fix(f"remove the unused suppression of {code}", (edit,), safe=True)]


def _other_codes(line: str, after_marker: int, start: int, end: int) -> bool:
    """Whether the marker names other codes (any linter's) besides the one at start:end."""
    listing = line[after_marker:]
    listing = listing.split("#", 1)[0]
    if "[" in listing:
        listing = listing.split("]", 1)[0]
    own = line[start:end]
    names = re.findall(r"[A-Za-z]{1,8}[0-9][A-Za-z0-9]*", listing)
    return len([name for name in names if name != own]) + names.count(own) - 1 > 0
