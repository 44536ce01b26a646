"""The project-wide deployment model (built in the deployment issue)."""

from __future__ import annotations

from typing import Any


def build_deployment(ctx: Any) -> None:
    """No deployment front end yet: there is no model to report."""
    return None
