"""Dockerfile front end (stages, USER/CMD/ENTRYPOINT model on dockerfile-parse)."""

from __future__ import annotations

from fastlint.docker.model import DockerfileModel, load_dockerfile

__all__ = ["DockerfileModel", "load_dockerfile"]
