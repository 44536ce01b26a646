"""Plain data that flows from rules to reporters."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Severity(str, enum.Enum):
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"

    @property
    def rank(self) -> int:
        return _RANKS[self]

    @classmethod
    def parse(cls, text: str) -> Severity:
        """Return the severity named by ``text``; ValueError names the accepted spellings."""
        try:
            return cls(text.strip().lower())
        except ValueError:
            raise ValueError(f"'{text}' is not a severity (error, warning, info)") from None


_RANKS = {Severity.INFO: 0, Severity.WARNING: 1, Severity.ERROR: 2}


@dataclass(frozen=True)
class Location:
    """A 1-based, inclusive-start / exclusive-end source range."""

    line: int
    column: int
    end_line: int
    end_column: int

    @classmethod
    def at_line(cls, line: int, text: str = "") -> Location:
        """The whole of one line: used by line-oriented front ends (Dockerfile, shell, Procfile)."""
        return cls(line, 1, line, len(text) + 1)


@dataclass(frozen=True)
class Diagnostic:
    code: str
    name: str
    severity: Severity
    path: str
    line: int
    column: int
    end_line: int
    end_column: int
    message: str
    fix: str | None = None

    def sort_key(self) -> tuple[str, int, int, str]:
        return (self.path, self.line, self.column, self.code)

    def to_dict(self) -> dict[str, object]:
        return {
            "code": self.code,
            "name": self.name,
            "severity": self.severity.value,
            "path": self.path,
            "line": self.line,
            "column": self.column,
            "end_line": self.end_line,
            "end_column": self.end_column,
            "message": self.message,
            "fix": self.fix,
        }

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> Diagnostic:
        return cls(
            code=str(data["code"]),
            name=str(data["name"]),
            severity=Severity(data["severity"]),
            path=str(data["path"]),
            line=_integer(data["line"]),
            column=_integer(data["column"]),
            end_line=_integer(data["end_line"]),
            end_column=_integer(data["end_column"]),
            message=str(data["message"]),
            fix=None if data.get("fix") is None else str(data["fix"]),
        )


def _integer(value: object) -> int:
    """A position read back from JSON: an int, or a string or float holding one."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise TypeError(f"expected a number, got {type(value).__name__}")
    return int(value)
