"""Errors the library raises. Messages are Chinese: they reach finance clerks
through the pages, the API and the command line unchanged.

Every error also has a stable identifier (`error`, snake_case English) that a
program can branch on while the Chinese wording changes: each class names its
own, and the ones the HTTP layer adds (api.errors) join the same catalogue,
CODES, which the OpenAPI document lists."""
from __future__ import annotations

from dataclasses import dataclass

# error identifier → (HTTP status, what it means): every identifier any API answer may carry
CODES: dict[str, tuple[int, str]] = {}


def register(error: str, status: int, meaning: str) -> str:
    """Add an identifier to CODES; one identifier keeps one status, or clients could not rely on it."""
    known = CODES.setdefault(error, (status, meaning))
    if known[0] != status:
        raise ValueError(f"error {error!r} registered with status {known[0]} and {status}")
    return error


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
    """Base of every error caused by input; `status` is the HTTP status it maps to, `error` its identifier
    and `meaning` what that identifier stands for. A subclass that sets `error` registers it in CODES."""
    status = 400
    error = "bad_request"
    meaning = "请求有误"

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "error" in cls.__dict__:
            register(cls.error, cls.status, cls.meaning)

    def __init__(self, message: str, problems: list[Problem] | None = None):
        super().__init__(message)
        self.message = message
        self.problems = problems or []


register(KbError.error, KbError.status, KbError.meaning)


class NotFound(KbError):
    status = 404
    error = "not_found"
    meaning = "没有这条记录"


class UnknownVersion(NotFound):
    error = "version_not_found"
    meaning = "没有这个版本号"

    def __init__(self, label: str):
        super().__init__(f"未找到版本“{label}”")


class UnknownCode(NotFound):
    """A code the version read does not have. One class for every kind of record; its identifier names
    the kind (indicator_not_found, quota_not_found …: kb.schemas registers one per kind), since a client
    that asked for a quota and a case in turn wants to know which was missing."""

    def __init__(self, code: str, kind: str, what: str):
        super().__init__(f"未找到{what}“{code}”")
        self.kind = kind
        self.error = f"{kind}_not_found"


class UnknownJob(NotFound):
    error = "job_not_found"
    meaning = "没有这个编号的后台任务"

    def __init__(self, job_id: int):
        super().__init__(f"未找到任务 #{job_id}")


class BadParameter(KbError):
    """A query parameter a page cannot use (a page number that is not one, a quantity that is no number …)."""
    status = 400
    error = "bad_parameter"
    meaning = "查询参数无法使用"


class InvalidInput(KbError):
    status = 422
    error = "invalid_input"
    meaning = "内容有误（errors.problems 逐条说明位置与原因）"


class Conflict(KbError):
    """A stale write (someone saved first) or a concurrent publish."""
    status = 409
    error = "conflict"
    meaning = "与他人同时进行的修改或发布冲突，请刷新后再试"


class AlreadyExists(Conflict):
    """A code, label or name that is already taken."""
    error = "already_exists"
    meaning = "编码、版本号或名称已被占用"


class DuplicatesRefused(KbError):
    """An import whose new indicators repeat draft indicators (the same name or a synonym), not confirmed."""
    status = 409
    error = "import_duplicates"
    meaning = "导入的新指标与草稿中已有指标同名或同义（errors.problems 逐条列出），未导入；确属不同指标的，确认后再导入"


class PublishRefused(KbError):
    status = 409
    error = "publish_refused"
    meaning = "草稿未通过发布检查（errors.problems 列出各项问题）"


class ImmutableError(KbError):
    status = 409
    error = "version_immutable"
    meaning = "已发布的版本不可修改"
