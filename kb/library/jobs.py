"""Long operations as jobs: publishing a big draft takes longer than anyone
should wait on one request, so the request starts a job and answers at once;
the job runs in a thread of the same process with its own database session,
and its row says how it went (queued → running → done | failed).

A job whose process died (a worker killed or restarted) cannot finish: when
it is read on the same host and its process is gone, it is marked failed.
"""
from __future__ import annotations

import logging
import os
import socket
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable

from sqlalchemy.engine import Engine
from sqlmodel import Session

from kb import db as kbdb
from kb.errors import KbError, UnknownJob
from kb.models import Job, utcnow

Work = Callable[[Session, Callable[[str], None]], dict]
HOST = socket.gethostname()[:120]
log = logging.getLogger(__name__)


@dataclass
class JobStatus:
    id: int
    kind: str
    status: str
    progress: str
    result: dict
    error: str
    problems: list[dict] = field(default_factory=list)
    params: dict = field(default_factory=dict)
    created_by: str = ""
    created_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None

    @property
    def finished(self) -> bool:
        return self.status in ("done", "failed")

    def to_dict(self) -> dict:
        when = lambda t: t.isoformat() if t else None  # noqa: E731
        return {"id": self.id, "kind": self.kind, "status": self.status, "progress": self.progress,
                "result": self.result, "error": self.error, "problems": self.problems, "params": self.params,
                "created_by": self.created_by,
                "created_at": when(self.created_at), "started_at": when(self.started_at),
                "finished_at": when(self.finished_at)}


def _status(job: Job) -> JobStatus:
    return JobStatus(job.id, job.kind, job.status, job.progress, job.result or {}, job.error, job.problems or [],
                     job.params or {}, job.created_by, job.created_at, job.started_at, job.finished_at)


def start(engine: Engine, kind: str, params: dict, work: Work, user: str = "") -> JobStatus:
    """Record a job and run `work(session, progress)` in a thread; returns at once."""
    with kbdb.session(engine) as session:
        job = Job(kind=kind, params=params, created_by=user or "", host=HOST, pid=os.getpid(), progress="排队中")
        session.add(job)
        session.commit()
        status = _status(job)
    threading.Thread(target=_run, args=(engine, status.id, work), daemon=True, name=f"job-{status.id}").start()
    return status


def _update(engine: Engine, job_id: int, **values) -> None:
    with kbdb.session(engine) as session:
        job = session.get(Job, job_id)
        for key, value in values.items():
            setattr(job, key, value)
        session.commit()


def _run(engine: Engine, job_id: int, work: Work) -> None:
    try:
        _record(engine, job_id, work)
    except Exception:  # the database itself is gone (shutting down): nothing left to record it in
        log.exception("job %s could not record its outcome", job_id)


def _record(engine: Engine, job_id: int, work: Work) -> None:
    _update(engine, job_id, status="running", started_at=utcnow(), progress="进行中")
    try:
        with kbdb.session(engine) as session:
            result = work(session, lambda text: _update(engine, job_id, progress=text[:200]))
        _update(engine, job_id, status="done", result=result, progress="已完成", finished_at=utcnow())
    except KbError as exc:
        problems = [{"message": p.message, "location": p.location, "row": p.row, "field": p.field} for p in exc.problems]
        _update(engine, job_id, status="failed", error=exc.message, problems=problems, progress="未完成", finished_at=utcnow())
    except Exception as exc:  # the job's row must say it failed, whatever the reason
        _update(engine, job_id, status="failed", error=f"处理时出错：{exc.__class__.__name__}", progress="未完成",
                finished_at=utcnow())


def _alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def get(session: Session, job_id: int) -> JobStatus:
    if not 0 < job_id < 2**31:  # no job has it (the column is a 4-byte integer on PostgreSQL): not found, not refused
        raise UnknownJob(job_id)
    job = session.get(Job, job_id)
    if job is None:
        raise UnknownJob(job_id)
    if job.status in ("queued", "running") and job.host == HOST and not _alive(job.pid):
        job.status, job.error, job.progress, job.finished_at = "failed", "处理该任务的进程已退出，任务未完成；请重新发起", "未完成", utcnow()
        session.commit()
    return _status(job)


def wait(engine: Engine, job_id: int, timeout: float = 60.0) -> JobStatus:
    """The job once finished (for the command line and tests)."""
    deadline = time.monotonic() + timeout
    while True:
        with kbdb.session(engine) as session:
            status = get(session, job_id)
        if status.finished or time.monotonic() > deadline:
            return status
        time.sleep(0.05)
