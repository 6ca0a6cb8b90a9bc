"""Errors the library raises. Messages are Chinese: they reach finance clerks
through the pages, the API and the command line unchanged."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input or the draft, located precisely enough to fix."""
    message: str
    location: str = ""  # file / sheet / record
    row: int | None = None
    field: str = ""

    def __str__(self) -> str:
        where = " ".join(p for p in (self.location, f"第{self.row}行" if self.row else "", self.field) if p)
        return f"{where}: {self.message}" if where else self.message


class KbError(Exception):
    """Base of every error caused by input; `status` is the HTTP status it maps to."""
    status = 400

    def __init__(self, message: str, problems: list[Problem] | None = None):
        super().__init__(message)
        self.message = message
        self.problems = problems or []


class NotFound(KbError):
    status = 404


class UnknownVersion(NotFound):
    def __init__(self, label: str):
        super().__init__(f"未找到版本“{label}”")


class UnknownCode(NotFound):
    def __init__(self, code: str, what: str = "指标"):
        super().__init__(f"未找到{what}“{code}”")


class InvalidInput(KbError):
    status = 422


class Conflict(KbError):
    """A stale write (someone saved first) or a concurrent publish."""
    status = 409


class PublishRefused(KbError):
    status = 409


class ImmutableError(KbError):
    status = 409
