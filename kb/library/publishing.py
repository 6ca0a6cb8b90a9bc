"""Publishing as a job: the label is checked at once (a clear 4xx before
anything starts), then the gates, the snapshot and the search index run in
the background (kb.library.jobs)."""
from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session

from kb.library import jobs, snapshot, versions


def start_publish(session: Session, engine: Engine, label: str, notes: str, user: str, index_dir: Path | str | None) -> jobs.JobStatus:
    label = (label or "").strip()
    versions.validate_label(session, label)

    def work(job_session: Session, progress) -> dict:
        from kb.search import publish_hook

        ref = versions.publish(job_session, label, notes=notes, user=user,
                               after_snapshot=publish_hook(index_dir) if index_dir else None, progress=progress)
        snapshot.prepare(job_session, ref)
        prepare_cases(job_session, ref)
        return {"version": {"label": ref.label, "published_at": ref.published_at.isoformat() if ref.published_at else None,
                            "counts": ref.counts, "notes": ref.notes}}

    return jobs.start(engine, "publish", {"label": label, "notes": notes}, work, user)


def prepare_cases(session: Session, ref: versions.VersionRef) -> None:
    """Match the new version's case rows to its indicators now (kept beside the version's file), so that a
    worker's warm-up reads the matches instead of computing them. Nothing without a store folder."""
    if snapshot.STORE_DIR is None:
        return
    from kb.targets.cases import case_index  # the case library is read by targets; publishing only prepares it

    case_index(snapshot.load(session, ref))
