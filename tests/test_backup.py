"""Backup and restore, including SQLite → PostgreSQL."""
from datetime import datetime

import pytest
from sqlalchemy import func, select

from kb.library import backup, versions
from kb import db as kbdb
from kb.errors import InvalidInput
from kb.models import ChangeLog, Indicator, Milestone, Revision, Version
from tests.conftest import load_fixture_library


def _counts(session):
    return {m.__name__: session.execute(select(func.count()).select_from(m)).scalar()
            for m in (Version, Revision, Indicator, ChangeLog, Milestone)}


@pytest.fixture
def sqlite_library(tmp_path):
    engine = kbdb.make_engine(f"sqlite:///{tmp_path / 'src.sqlite3'}")
    kbdb.upgrade(engine)
    with kbdb.session(engine) as s:
        load_fixture_library(s)
        versions.publish(s, "2024.1")
        ind = s.get(Indicator, "T-001")
        from kb.library import draft as library
        library.update_record(s, "indicator", "T-001", {"definition": "第二版"}, ind.revision, user="甲")
        versions.publish(s, "2024.2")
    yield engine
    engine.dispose()


def test_backup_restores_every_version_into_another_database(sqlite_library, database_url, tmp_path):
    target_file = tmp_path / "backup.json.gz"
    (tmp_path / "backup.json.gz.tmp").write_bytes(b"left from a crashed run")
    (tmp_path / "backup.json.gz.tmp").chmod(0o644)
    counts = backup.backup(sqlite_library, target_file)
    assert counts["version"] == 2
    # it holds password and key hashes: its owner's only
    assert target_file.stat().st_mode & 0o777 == 0o600
    target = kbdb.make_engine(database_url)
    restored = backup.restore(target, target_file)
    assert restored == counts
    with kbdb.session(sqlite_library) as a, kbdb.session(target) as b:
        assert _counts(a) == _counts(b)
        for label in ("2024.1", "2024.2"):
            ea = versions.export_library(a, versions.resolve(a, label))
            eb = versions.export_library(b, versions.resolve(b, label))
            assert ea == eb
        assert versions.resolve(b).label == "2024.2"
        assert [e.number for e in versions.history(b, "T-001")] == [1, 2]
        # timestamps come back as timestamps, equal to the originals
        published = {v.label: v.published_at for v in a.execute(select(Version)).scalars()}
        for v in b.execute(select(Version)).scalars():
            assert isinstance(v.published_at, datetime)
            assert v.published_at.replace(tzinfo=None) == published[v.label].replace(tzinfo=None)
        # the restored database keeps working: ids continue after the restored ones
        versions.publish(b, "2024.3")
    with pytest.raises(InvalidInput):
        backup.restore(target, target_file)  # not an empty database
    target.dispose()


def test_restore_refuses_a_file_that_is_not_a_backup(tmp_path, database_url):
    bad = tmp_path / "bad.json"
    bad.write_text('{"hello": 1}', encoding="utf-8")
    with pytest.raises(InvalidInput):
        backup.restore(kbdb.make_engine(database_url), bad)
