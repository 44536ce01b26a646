"""Whether a file named like a Dockerfile is one Docker could build at all.

A file of prose or a template under a Dockerfile name parses (dockerfile-parse takes every
line's first word for an instruction), and then the rules would judge it: "FROM  never sets
USER". Such a file gets one FL000 instead, which says what is wrong with it.
"""

from __future__ import annotations

from collections.abc import Sequence

from fastlint.diagnostics import Location
from fastlint.docker.model import Instruction, _split_flags


def not_a_dockerfile(instructions: Sequence[Instruction]) -> tuple[str, Location] | None:
    """Why Docker would refuse these instructions outright, and where; None when it would not:
    instructions but no FROM (prose, garbage), or a FROM that names no image."""
    real = [i for i in instructions if i.keyword != "COMMENT"]
    froms = [i for i in real if i.keyword == "FROM"]
    if real and not froms:
        first = real[0]
        return (
            f"not a Dockerfile: no FROM instruction (line {first.line} starts with "
            f"'{first.content.split()[0] if first.content.split() else first.keyword}')",
            first.location,
        )
    for instruction in froms:
        if not _split_flags(instruction.value)[1].strip():
            return "not a Dockerfile: FROM names no image", instruction.location
    return None
