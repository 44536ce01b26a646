"""The Dockerfile model: instructions with 1-based lines, grouped into stages."""

from __future__ import annotations

import io
from dataclasses import dataclass, field

from dockerfile_parse import DockerfileParser

from fastlint.discovery import SourceFile


@dataclass(frozen=True)
class Instruction:
    keyword: str  # upper case: FROM, RUN, USER, CMD, ... (COMMENT for comment lines)
    value: str  # continuation lines joined, as dockerfile-parse gives it
    line: int  # 1-based first line
    end_line: int  # 1-based last line
    content: str  # the raw text, continuation lines included


@dataclass
class DockerfileModel:
    source: SourceFile
    text: str
    instructions: list[Instruction] = field(default_factory=list)

    @property
    def path(self) -> str:
        return self.source.display


def load_dockerfile(source: SourceFile, text: str) -> DockerfileModel:
    parser = DockerfileParser(fileobj=io.BytesIO(text.encode("utf-8")))
    model = DockerfileModel(source, text)
    for entry in parser.structure:
        model.instructions.append(
            Instruction(
                keyword=entry["instruction"].upper(),
                value=entry["value"],
                line=entry["startline"] + 1,
                end_line=entry["endline"] + 1,
                content=entry["content"],
            )
        )
    return model
