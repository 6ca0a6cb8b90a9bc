"""Big imports as jobs: checking and applying tens of thousands of rows takes
longer than a request should wait (25 s to apply 50,000 indicators, seconds
more to check them), so above a size (`IMPORT_JOB_ROWS`, 2,000 rows by
default) the request only counts the rows and answers; the rows are checked
and applied in the background (kb.library.jobs), all or nothing as before. The job's
result is the import report; a refused import leaves the draft as it was,
its reasons (row by row, in Chinese) in the job's error and problems."""
from __future__ import annotations

from typing import Callable

from sqlalchemy.engine import Engine
from sqlmodel import Session

from kb.library import jobs
from kb.library.draft import ApplyReport

DEFAULT_JOB_ROWS = 2000


def report_dict(report: ApplyReport) -> dict:
    """An import report as JSON data (the API's ImportReport shape, with totals)."""
    return {"dry_run": report.dry_run, "added": report.added, "changed": report.changed, "unchanged": report.unchanged,
            "totals": {"added": report.total("added"), "changed": report.total("changed"), "unchanged": report.unchanged}}


def runs_as_job(rows: int, limit: int | None) -> bool:
    """Whether an import of `rows` rows goes to the background (a limit of 0 or less: never)."""
    limit = DEFAULT_JOB_ROWS if limit is None else limit
    return limit > 0 and rows > limit


Applied = ApplyReport | tuple[ApplyReport, dict]


def start_import(engine: Engine, rows: int, apply: Callable[[Session], Applied], user: str = "",
                 params: dict | None = None, extra: dict | None = None) -> jobs.JobStatus:
    """Run `apply(session)` as a job: it checks the rows (raising KbError with the problems when they are
    refused, before anything is written), applies them to the draft and returns the report, or the report
    and a dict that goes into the result beside it (e.g. the duplicates it found); `extra` goes there too."""
    def work(session: Session, progress) -> dict:
        progress(f"正在检查并写入草稿（{rows} 行）")
        applied = apply(session)
        report, found = applied if isinstance(applied, tuple) else (applied, {})
        return {**report_dict(report), **found, **(extra or {})}

    return jobs.start(engine, "import", {"rows": rows, **(params or {})}, work, user)
