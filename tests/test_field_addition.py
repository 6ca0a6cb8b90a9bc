"""Adding a field to a kind of record: published records that leave it blank keep
their revision, the diff and the history name only the records that hold a value,
and every content hash already stored stays what it was."""
from __future__ import annotations

import hashlib
import json

import pytest
from sqlalchemy import func, select

from kb.library import draft as kblib
from kb.library import versions
from kb.models import IndicatorRecord, Revision


class IndicatorWithReviewCycle(IndicatorRecord):
    """The indicator as it would be with one more optional field (评价周期)."""
    review_cycle: str = ""


def _revisions(session) -> dict[str, int]:
    rows = session.execute(select(Revision.code, func.max(Revision.number)).group_by(Revision.code))
    return dict(rows.all())


@pytest.fixture
def new_field(library, monkeypatch):
    """The indicator model gains `review_cycle`; the draft tables have no column for
    it yet, so the codes in the returned dict get their value where records are read."""
    monkeypatch.setitem(kblib.RECORD_MODELS, "indicator", IndicatorWithReviewCycle)
    values: dict[str, str] = {}
    read = kblib.record_data

    def record_data(kind, obj):
        data = read(kind, obj)
        if kind == "indicator" and obj.code in values:
            data["review_cycle"] = values[obj.code]
        return data

    monkeypatch.setattr(versions, "record_data", record_data)
    return values


def test_a_field_nobody_has_filled_in_gives_no_record_a_new_revision(library, new_field):
    before = _revisions(library)
    v1 = versions.resolve(library, "2024.1")
    draft = versions.record(library, "indicator", "T-001", versions.resolve(library, "draft"))
    assert kblib.record_data("indicator", draft)["review_cycle"] == ""  # the model does carry the new key

    assert versions.diff(library, v1, versions.resolve(library, "draft")) == []
    v2 = versions.publish(library, "2024.2")

    assert _revisions(library) == before
    assert versions.diff(library, v1, v2) == []
    assert versions.history(library, "T-001")[0].versions == ["2024.1", "2024.2"]


def test_a_new_field_revises_only_the_records_that_hold_a_value(library, new_field):
    before = _revisions(library)
    new_field["T-002"] = "每年"
    v1 = versions.resolve(library, "2024.1")

    pending = versions.diff(library, v1, versions.resolve(library, "draft"))
    assert [(c.code, c.change, c.fields) for c in pending] == [
        ("T-002", "changed", {"review_cycle": {"previous": None, "current": "每年"}})]
    v2 = versions.publish(library, "2024.2")

    after = _revisions(library)
    assert {code for code in after if after[code] != before.get(code)} == {"T-002"}
    assert [(c.code, c.fields) for c in versions.diff(library, v1, v2)] == [
        ("T-002", {"review_cycle": {"previous": None, "current": "每年"}})]
    entries = versions.history(library, "T-002")
    assert [e.versions for e in entries] == [["2024.1"], ["2024.2"]]
    assert entries[1].changes == {"review_cycle": {"previous": None, "current": "每年"}}
    assert versions.record(library, "indicator", "T-002", v2).review_cycle == "每年"
    assert versions.record(library, "indicator", "T-001", v2).review_cycle == ""

    # emptied again: a change back to "no value", which is a revision of its own
    new_field["T-002"] = ""
    v3 = versions.publish(library, "2024.3")
    assert [(c.code, c.fields) for c in versions.diff(library, v2, v3)] == [
        ("T-002", {"review_cycle": {"previous": "每年", "current": ""}})]
    assert versions.diff(library, v1, v3) == []


def test_stored_hashes_are_the_hash_of_the_whole_record_as_before(seeded_db):
    """Every revision published before the blank-field rule keeps matching: for
    records of today's fields the hash is still sha256 of the full JSON."""
    kinds = set()
    for kind, data, stored in seeded_db.execute(select(Revision.kind, Revision.data, Revision.content_hash)):
        whole = hashlib.sha256(json.dumps(data, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
        assert kblib.record_hash(kind, data) == whole == stored, (kind, data.get("code"))
        kinds.add(kind)
    assert kinds == set(kblib.KINDS)


@pytest.mark.parametrize("blank", ["", None, [], {}])
def test_a_missing_key_and_a_blank_value_are_no_change(blank):
    assert kblib.field_changes({"code": "X"}, {"code": "X", "new": blank}) == {}
    assert kblib.field_changes({"code": "X", "new": blank}, {"code": "X"}) == {}
    assert kblib.record_hash("indicator", {"code": "X"}) == kblib.record_hash("indicator", {"code": "X", "new": blank})


@pytest.mark.parametrize("value", [0, False, "0", ["a"], {"a": 1}])
def test_zero_false_and_filled_values_are_values(value):
    assert kblib.field_changes({"code": "X"}, {"code": "X", "new": value}) == {
        "new": {"previous": None, "current": value}}
    assert kblib.record_hash("indicator", {"code": "X"}) != kblib.record_hash("indicator", {"code": "X", "new": value})


def test_a_blank_field_of_the_original_shape_still_counts_in_the_hash():
    # formula was hashed when blank from the start; dropping it now would
    # change the stored hash of nearly every published indicator
    assert kblib.record_hash("indicator", {"code": "X", "formula": ""}) != kblib.record_hash("indicator", {"code": "X"})
