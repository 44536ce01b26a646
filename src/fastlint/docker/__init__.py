"""Dockerfile front end (stages, USER/CMD/ENTRYPOINT model on dockerfile-parse)."""

from __future__ import annotations

from fastlint.docker.model import (
    Copy,
    DockerfileModel,
    Instruction,
    Stage,
    StartCommand,
    is_dynamic,
    load_dockerfile,
    resolve,
    substitute,
)

__all__ = [
    "Copy",
    "DockerfileModel",
    "Instruction",
    "Stage",
    "StartCommand",
    "is_dynamic",
    "load_dockerfile",
    "resolve",
    "substitute",
]
