"""fastlint: static production-readiness linter for FastAPI services."""

__version__ = "0.1.0"
