"""Versions: publish gates, immutability, diff, history, optimistic locking."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select, update
from sqlmodel import Session

from kb.library import draft as kblib
from kb.library import versions
from kb.errors import Conflict, ImmutableError, InvalidInput, PublishRefused, UnknownCode, UnknownVersion
from kb.models import Department, Indicator, IndicatorSystem, Revision, Version, VersionItem


def _version_count(session) -> int:
    return session.execute(select(func.count()).select_from(Version)).scalar()


def _revision_count(session) -> int:
    return session.execute(select(func.count()).select_from(Revision)).scalar()


def _assert_refused(session, match: str):
    before_versions, before_revisions = _version_count(session), _revision_count(session)
    current = versions.resolve(session).label
    with pytest.raises(PublishRefused) as info:
        versions.publish(session, "2024.2")
    assert any(match in str(p) for p in info.value.problems), info.value.problems
    assert _version_count(session) == before_versions
    assert _revision_count(session) == before_revisions
    assert versions.resolve(session).label == current


def test_fixture_library_publishes_and_reads_back(library):
    v = versions.resolve(library)
    assert v.label == "2024.1" and v.is_current
    names = {i.name for i in versions.records(library, "indicator", v)}
    assert "资金到位率" in names
    assert v.counts["indicator"] == 4


def test_publish_refuses_duplicate_codes_across_kinds(library):
    system = library.get(IndicatorSystem, "SYS-DEMO")
    library.add(IndicatorSystem(**{**library_record(system), "code": "T-001"}))
    library.commit()
    _assert_refused(library, "T-001")


def library_record(obj) -> dict:
    return {k: getattr(obj, k) for k in type(obj).model_fields if k != "revision"}


def test_publish_refuses_missing_required_fields(library):
    library.execute(update(Indicator).where(Indicator.code == "T-002").values(level2=""))
    library.commit()
    _assert_refused(library, "缺少必填项")


def test_publish_refuses_specific_indicator_without_scope(library):
    library.execute(update(Indicator).where(Indicator.code == "T-003").values(sectors=[]))
    library.commit()
    _assert_refused(library, "没有适用范围")


def test_publish_refuses_weights_not_summing_to_100(library):
    system = library.get(IndicatorSystem, "SYS-DEMO")
    nodes = [dict(n) for n in system.nodes]
    nodes[1] = {**nodes[1], "weight": 45}  # children still sum to 40
    library.refresh(system)
    library_update(library, "system", "SYS-DEMO", {"nodes": nodes}, system.revision)
    _assert_refused(library, "权重合计")


def library_update(session, kind, code, changes, revision):
    return kblib.update_record(session, kind, code, changes, revision, user="test")


def test_publish_refuses_weights_of_children_not_summing_to_parent(library):
    system = library.get(IndicatorSystem, "SYS-DEMO")
    nodes = [dict(n) for n in system.nodes]
    nodes[0] = {**nodes[0], "children": [{"indicator": "T-001", "weight": 30}, {"indicator": "T-002", "weight": 20}]}
    library_update(library, "system", "SYS-DEMO", {"nodes": nodes}, system.revision)
    _assert_refused(library, "过程")


def _write_past_the_checks(session, obj, **fields):
    """What a restored old backup or a hand edit of the database may hold: the gates still refuse it."""
    for key, value in fields.items():
        setattr(obj, key, value)
    session.commit()


def test_publish_refuses_dangling_references(library):
    _write_past_the_checks(library, library.get(Indicator, "T-003"), sectors=["21099"])
    _assert_refused(library, "21099")


def test_publish_refuses_system_leaf_pointing_to_unknown_indicator(library):
    system = library.get(IndicatorSystem, "SYS-DEMO")
    nodes = [dict(n) for n in system.nodes]
    nodes[1] = {**nodes[1], "children": [{"indicator": "NOPE-1", "weight": 40}]}
    _write_past_the_checks(library, system, nodes=nodes)
    _assert_refused(library, "NOPE-1")


def test_publish_refuses_an_indicator_that_replaces_itself_or_a_code_of_two_kinds(library):
    _write_past_the_checks(library, library.get(Indicator, "T-003"), status="superseded", superseded_by="T-003")
    _assert_refused(library, "不能被自己替代")


@pytest.mark.parametrize(("kind", "code", "changes", "words"), [
    ("indicator", "T-003", {"sectors": ["21099"]}, "21099"),
    ("indicator", "T-003", {"status": "superseded", "superseded_by": "T-003"}, "不能被自己替代"),
    ("system", "SYS-DEMO", {"nodes": [{"indicator": "NOPE-1", "weight": 100}]}, "NOPE-1"),
])
def test_writes_refuse_what_publishing_would(library, kind, code, changes, words):
    obj = kblib.draft_record(library, kind, code)
    with pytest.raises(InvalidInput) as info:
        library_update(library, kind, code, changes, obj.revision)
    assert words in str(info.value.problems)
    library.rollback()
    assert kblib.draft_record(library, kind, code).revision == obj.revision  # nothing written


def test_a_new_record_may_not_take_a_code_of_another_kind(library):
    department = library.exec(select(Department)).scalars().first()
    record = {"code": department.code, "kind": "specific", "level1": "产出指标", "level2": "数量指标", "name": "冒名指标",
              "sectors": ["210"], "source": {"document": "测试"}, "provenance": "local"}
    with pytest.raises(InvalidInput) as info:
        kblib.create_record(library, "indicator", record)
    assert "已被部门使用" in str(info.value.problems)


def test_publish_refuses_invalid_and_reused_labels(library):
    for bad in ("", "draft", "current", "v1", "2024/1", "2024.1; drop table"):
        with pytest.raises(InvalidInput):
            versions.publish(library, bad)
    with pytest.raises(Conflict):
        versions.publish(library, "2024.1")
    assert _version_count(library) == 1


def test_published_version_cannot_be_changed(library):
    rev = library.execute(select(Revision)).scalars().first()
    rev.data = {**rev.data, "name": "篡改"}
    with pytest.raises(ImmutableError):
        library.flush()
    library.rollback()
    with pytest.raises(ImmutableError):
        library.execute(update(Revision).values(data={}))
    library.rollback()
    with pytest.raises(ImmutableError):
        library.execute(update(VersionItem).values(code="X"))
    library.rollback()
    version = library.execute(select(Version)).scalars().first()
    library.delete(version)
    with pytest.raises(ImmutableError):
        library.flush()
    library.rollback()
    v = versions.resolve(library, "2024.1")
    assert {i.name for i in versions.records(library, "indicator", v)} >= {"资金到位率"}


def test_edit_publish_edit_publish_diff_and_history(library):
    ind = library.get(Indicator, "T-002")
    library_update(library, "indicator", "T-002", {"definition": "实际支出/到位资金", "unit": "%"}, ind.revision)
    library.add(Indicator(code="T-005", kind="common", level1="产出指标", level2="时效指标", name="完成及时率",
                          source={"document": "测试"}, provenance="local"))
    library.commit()
    v2 = versions.publish(library, "2024.2")
    ind = library.get(Indicator, "T-002")
    library_update(library, "indicator", "T-002", {"unit": "百分比"}, ind.revision)
    gone = library.get(Indicator, "T-004")
    library.delete(gone)
    library.commit()
    v3 = versions.publish(library, "2024.3")

    changes = {(c.code, c.change): c for c in versions.diff(library, versions.resolve(library, "2024.1"), v2)}
    assert set(changes) == {("T-002", "changed"), ("T-005", "added")}
    assert set(changes[("T-002", "changed")].fields) == {"definition"}

    changes = {(c.code, c.change): c for c in versions.diff(library, v2, v3)}
    assert set(changes) == {("T-002", "changed"), ("T-004", "removed")}
    assert changes[("T-002", "changed")].fields == {"unit": {"previous": "%", "current": "百分比"}}

    entries = versions.history(library, "T-002")
    assert [e.number for e in entries] == [1, 2, 3]
    assert entries[0].versions == ["2024.1"]
    assert entries[1].versions == ["2024.2"] and set(entries[1].changes) == {"definition"}
    assert entries[2].changes == {"unit": {"previous": "%", "current": "百分比"}}
    # unchanged records share their revision between versions
    assert versions.history(library, "T-001")[0].versions == ["2024.1", "2024.2", "2024.3"]


def test_reads_are_pinned_to_a_version(library):
    ind = library.get(Indicator, "T-001")
    library_update(library, "indicator", "T-001", {"name": "资金到位率（新）"}, ind.revision)
    versions.publish(library, "2024.2")
    old = versions.record(library, "indicator", "T-001", versions.resolve(library, "2024.1"))
    new = versions.record(library, "indicator", "T-001", versions.resolve(library))
    assert (old.name, new.name) == ("资金到位率", "资金到位率（新）")
    with pytest.raises(UnknownVersion):
        versions.resolve(library, "2030.9")
    with pytest.raises(UnknownCode):
        versions.record(library, "indicator", "NOPE", versions.resolve(library))


def test_two_editors_second_save_gets_conflict_and_first_change_is_kept(library, engine):
    with Session(engine) as a, Session(engine) as b:
        rev_a = a.get(Indicator, "T-001").revision
        rev_b = b.get(Indicator, "T-001").revision
        kblib.update_record(a, "indicator", "T-001", {"definition": "甲的修改"}, rev_a, user="甲")
        with pytest.raises(Conflict):
            kblib.update_record(b, "indicator", "T-001", {"definition": "乙的修改"}, rev_b, user="乙")
    with Session(engine) as c:
        row = c.get(Indicator, "T-001")
        assert row.definition == "甲的修改" and row.revision == rev_a + 1
        log = kblib.change_log(c, "T-001")
        assert log[0].user == "甲" and log[0].changes["definition"]["current"] == "甲的修改"


def test_update_validates_and_refuses_code_change(library):
    ind = library.get(Indicator, "T-001")
    with pytest.raises(InvalidInput) as info:
        library_update(library, "indicator", "T-001", {"operator": "约等于"}, ind.revision)
    assert info.value.problems[0].field == "operator"
    with pytest.raises(InvalidInput):
        library_update(library, "indicator", "T-001", {"code": "T-999"}, ind.revision)
    assert library.get(Indicator, "T-001").revision == ind.revision


def test_failed_publish_midway_leaves_previous_version(library, monkeypatch):
    ind = library.get(Indicator, "T-001")
    library_update(library, "indicator", "T-001", {"definition": "改了"}, ind.revision)
    before_versions, before_revisions = _version_count(library), _revision_count(library)

    def boom(session, ref):
        raise RuntimeError("index build failed")

    with pytest.raises(RuntimeError):
        versions.publish(library, "2024.2", after_snapshot=boom)
    assert versions.resolve(library).label == "2024.1"
    assert _version_count(library) == before_versions
    assert _revision_count(library) == before_revisions
    with pytest.raises(UnknownVersion):
        versions.resolve(library, "2024.2")

    real = versions._freeze_revisions

    def half(session, *args):
        real(session, *args)
        raise OSError("disk full")

    monkeypatch.setattr(versions, "_freeze_revisions", half)
    with pytest.raises(OSError):
        versions.publish(library, "2024.2")
    monkeypatch.undo()
    assert versions.resolve(library).label == "2024.1"
    assert _revision_count(library) == before_revisions
    assert versions.publish(library, "2024.2").label == "2024.2"


def test_retire_and_supersede(library):
    ind = library.get(Indicator, "T-004")
    kblib.retire_indicator(library, "T-004", ind.revision, user="t")
    assert library.get(Indicator, "T-004").status == "retired"
    ind = library.get(Indicator, "T-002")
    kblib.retire_indicator(library, "T-002", ind.revision, superseded_by="T-001")
    row = library.get(Indicator, "T-002")
    assert (row.status, row.superseded_by) == ("superseded", "T-001")
    with pytest.raises(UnknownCode):
        kblib.retire_indicator(library, "T-001", 1, superseded_by="NOPE")


def test_system_referencing_retired_indicator_is_refused(library):
    ind = library.get(Indicator, "T-001")
    kblib.retire_indicator(library, "T-001", ind.revision)
    _assert_refused(library, "已停用")


def test_export_contains_every_kind(library):
    doc = versions.export_library(library, versions.resolve(library))
    assert doc["version"] == "2024.1"
    assert {i["code"] for i in doc["indicators"]} == {"T-001", "T-002", "T-003", "T-004"}
    assert doc["quotas"][0]["effective_date"] == "2016-07-01"
    assert doc["systems"][0]["nodes"][0]["weight"] == 60
