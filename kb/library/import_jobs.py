"""Big imports as jobs: applying tens of thousands of rows to the draft takes
longer than a request should wait (25 s for 50,000 indicators), so above a
size (`IMPORT_JOB_ROWS`, 2,000 rows by default) the rows are checked on the
request and applied in the background (kb.library.jobs), all or nothing as before.
The job's result is the import report; a refused import leaves the draft as
it was, its reasons in the job's error and problems."""
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


def start_import(engine: Engine, rows: int, apply: Callable[[Session], ApplyReport], user: str = "",
                 params: dict | None = None, extra: dict | None = None) -> jobs.JobStatus:
    """Run `apply(session)` (which applies already checked rows to the draft and returns its report) as a job;
    `extra` goes into the result beside the report (e.g. the duplicates the request listed)."""
    def work(session: Session, progress) -> dict:
        progress(f"正在写入草稿（{rows} 行）")
        return {**report_dict(apply(session)), **(extra or {})}

    return jobs.start(engine, "import", {"rows": rows, **(params or {})}, work, user)
