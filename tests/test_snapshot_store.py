"""kb.library.snapshot: a published version's indicators read from its file (one per version, shared by the workers)
answer exactly as the records read from the database did, and a newly published version gets a file of its own."""
from __future__ import annotations

from collections import OrderedDict

import pytest

from kb.library import draft as library, snapshot, versions
from kb.models import IndicatorRecord
from kb.library.snapshot import ROW_LISTS, ROW_SHARED, ROW_TEXT, IndicatorFile, name_key

SMALL = ("quota", "sector", "department", "project_type", "case")


@pytest.fixture
def store(tmp_path, monkeypatch):
    """A store folder of the test's own, and no snapshot remembered from another test."""
    folder = tmp_path / "snapshots"
    monkeypatch.setattr(snapshot, "STORE_DIR", folder)
    monkeypatch.setattr(snapshot, "_cache", OrderedDict())
    return folder


def _as_records(session, ref) -> dict:
    """The version as the snapshot read it before it had a file: every kind's records from the database."""
    return {kind: versions.records(session, kind, ref) for kind in ("indicator", *SMALL)}


def _row_values(row) -> tuple:
    return tuple(getattr(row, name) for name in ("at", "key", *ROW_TEXT, *ROW_SHARED))


def test_the_stored_snapshot_answers_as_the_records_did(seeded_db, store):
    ref = versions.resolve(seeded_db)
    old = _as_records(seeded_db, ref)
    records = old["indicator"]
    snap = snapshot.load(seeded_db)
    assert isinstance(snap.indicators, IndicatorFile) and len(list(store.glob("*.zbs"))) == 1
    assert len(records) > 1000

    assert len(snap.indicators) == len(records)
    assert list(snap.indicators) == records  # every record equal, in the same (code) order
    assert snap.indicators[-1] == records[-1] and snap.indicators[3:5] == records[3:5]
    for row, rec in zip(snap.rows, records):
        for name in (*ROW_TEXT, *ROW_SHARED):
            expected = tuple(getattr(rec, name)) if name in ROW_LISTS else getattr(rec, name)
            assert getattr(row, name) == expected, (rec.code, name)
        assert row.key == name_key(rec.name) and row.target_dims == rec.target_dims
        assert snap.record(row) == rec and snap.row(rec.code) is row
    assert dict(snap.by_code) == {r.code: r for r in records}
    by_name: dict = {}
    for r in records:
        by_name.setdefault(name_key(r.name), []).append(r)
    assert {key: snap.by_name[key] for key in snap.by_name} == by_name
    assert snap.active_rows == [row for row in snap.rows if snap.record(row).status in ("standard", "candidate")]

    assert snap.quotas == old["quota"]
    assert snap.sectors == {s.code: s for s in old["sector"]}
    assert snap.departments == {d.code: d for d in old["department"]}
    assert snap.project_types == {t.code: t for t in old["project_type"]}
    assert snap.cases == [c for c in old["case"] if c.status != "retired"]

    # rows made from record objects (the draft's way) are the same rows
    made = snapshot.Snapshot(ref, records, snap.quotas, snap.sectors, snap.departments, snap.project_types)
    assert [_row_values(r) for r in made.rows] == [_row_values(r) for r in snap.rows]


def test_a_restarted_worker_opens_the_file_and_a_process_without_a_folder_builds_the_same(seeded_db, store,
                                                                                          monkeypatch):
    first = snapshot.load(seeded_db)
    monkeypatch.setattr(snapshot, "_cache", OrderedDict())

    def must_not_write(session, ref):
        raise AssertionError("the version's file was written again")

    with monkeypatch.context() as m:
        m.setattr(snapshot, "_encode_version", must_not_write)
        reopened = snapshot.load(seeded_db)
    assert list(reopened.indicators) == list(first.indicators)

    monkeypatch.setattr(snapshot, "STORE_DIR", None)
    monkeypatch.setattr(snapshot, "_cache", OrderedDict())
    in_memory = snapshot.load(seeded_db)
    assert isinstance(in_memory.indicators._source, snapshot._Bytes)
    assert list(in_memory.indicators) == list(first.indicators)
    assert [_row_values(r) for r in in_memory.rows] == [_row_values(r) for r in first.rows]


def test_a_file_of_another_format_is_written_again(seeded_db, store):
    snapshot.load(seeded_db)
    (path,) = store.glob("*.zbs")
    path.write_bytes(b"not a snapshot")
    snapshot._cache.clear()
    again = snapshot.load(seeded_db)
    assert len(again.indicators) == len(again.rows) > 1000
    assert path.read_bytes().startswith(snapshot.MAGIC)


def test_a_folder_that_cannot_be_written_leaves_the_version_in_memory(seeded_db, store, monkeypatch):
    store.parent.mkdir(exist_ok=True)
    store.write_text("a file where the folder should be")
    snap = snapshot.load(seeded_db)
    assert isinstance(snap.indicators._source, snapshot._Bytes)
    assert snap.by_code[snap.rows[0].code].code == snap.rows[0].code


def test_a_record_stored_before_a_field_existed_reads_with_its_default():
    data = {"code": "T-1", "kind": "common", "level1": "产出指标", "level2": "数量指标", "name": "培训人数",
            "sectors": ["210"], "unit": "人次"}
    pieces = snapshot.encode([data], {kind: [] for kind in SMALL})
    source = snapshot._Bytes(b"".join(pieces))
    stored = IndicatorFile(source, *snapshot.read_head(source))
    assert stored[0] == IndicatorRecord.model_validate(data)
    assert stored[0].national_monitoring is False and stored[0].departments == []
    (row,) = stored.rows()
    assert (row.code, row.sectors, row.departments, row.status) == ("T-1", ("210",), (), "standard")


def test_a_newly_published_version_is_read_from_a_file_of_its_own(seeded_db, store, monkeypatch):
    before = snapshot.load(seeded_db)
    code = before.rows[0].code
    old_name = before.by_code[code].name
    draft = library.draft_record(seeded_db, "indicator", code)
    library.update_record(seeded_db, "indicator", code, {"name": old_name + "（新）"}, draft.revision, user="t")
    seeded_db.commit()
    ref = versions.publish(seeded_db, "2024.2")

    snapshot.prepare(seeded_db, ref)  # what the publish job does: the file is there before anyone asks
    assert len(list(store.glob("*.zbs"))) == 2
    monkeypatch.setattr(snapshot, "_encode_version", lambda session, ref: pytest.fail("written twice"))
    after = snapshot.load(seeded_db)
    assert after.version.label == "2024.2"
    assert after.by_code[code].name == old_name + "（新）"
    assert after.by_name[name_key(old_name + "（新）")][0].code == code
    assert before.by_code[code].name == old_name  # the old version's snapshot still answers for it
    assert snapshot.load(seeded_db, "2024.1").by_code[code].name == old_name


def test_derived_data_is_kept_beside_the_version_and_read_by_a_restarted_worker(seeded_db, store, monkeypatch):
    from kb.targets import cases

    snap = snapshot.load(seeded_db)
    first = cases.case_index(snap)
    (kept,) = store.glob(f"*.zbs.{cases.ROW_MATCHES}.json")
    assert any(row.indicator for rows in first.rows for row in rows)

    monkeypatch.setattr(snapshot, "_cache", OrderedDict())
    monkeypatch.setattr(cases, "_match_rows", lambda snap, found: pytest.fail("case rows matched again"))
    again = cases.case_index(snapshot.load(seeded_db))
    assert again.rows == first.rows

    kept.write_text("{cut short", encoding="utf-8")  # a writer that died: computed and written again
    monkeypatch.undo()
    monkeypatch.setattr(snapshot, "STORE_DIR", store)
    monkeypatch.setattr(snapshot, "_cache", OrderedDict())
    assert cases.case_index(snapshot.load(seeded_db)).rows == first.rows
    assert kept.read_text(encoding="utf-8").startswith("{\"")


def test_without_a_store_folder_derived_data_is_computed_each_time(seeded_db, monkeypatch):
    monkeypatch.setattr(snapshot, "STORE_DIR", None)
    monkeypatch.setattr(snapshot, "_cache", OrderedDict())
    snap = snapshot.load(seeded_db)
    calls = []
    assert snap.kept("x-1", lambda: calls.append(1) or {"a": 1}) == {"a": 1}
    assert snap.kept("x-1", lambda: calls.append(1) or {"a": 1}) == {"a": 1}
    assert calls == [1, 1]


def test_pruning_a_version_file_takes_what_was_kept_beside_it(store):
    store.mkdir(parents=True)
    gone, kept = store / "a1.zbs.case-rows-1.json", store / "b2.zbs.case-rows-1.json"
    (store / "b2.zbs").write_bytes(b"x")
    gone.write_text("{}")
    kept.write_text("{}")
    snapshot._prune(store, store / "b2.zbs")
    assert not gone.exists() and kept.exists()


def test_the_publish_job_matches_the_case_rows_before_any_worker_asks(seeded_db, store):
    from kb.library import publishing
    from kb.targets import cases

    ref = versions.resolve(seeded_db)
    snapshot.prepare(seeded_db, ref)
    publishing.prepare_cases(seeded_db, ref)
    assert len(list(store.glob(f"*.zbs.{cases.ROW_MATCHES}.json"))) == 1
