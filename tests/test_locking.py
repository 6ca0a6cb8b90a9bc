"""The one optimistic-locking helper (kb.library.draft.guarded_update / require_revision) that draft records,
plan milestones and the curators' merge save through: of two editors who loaded the same revision only the
first one's save lands; the second is refused and nothing of it is written."""
import pytest

from kb import db as kbdb
from kb.errors import Conflict
from kb.library.draft import guarded_update, require_revision
from kb.models import Indicator


def test_the_second_of_two_saves_from_one_revision_is_refused(library, engine):
    first = library
    seen = first.get(Indicator, "T-002").revision
    with kbdb.session(engine) as second:
        assert second.get(Indicator, "T-002").revision == seen  # both editors loaded the same revision
        guarded_update(first, Indicator, "T-002", seen, {"name": "甲改的名称"}, "已被他人修改")
        first.commit()
        with pytest.raises(Conflict, match="已被他人修改"):
            guarded_update(second, Indicator, "T-002", seen, {"name": "乙改的名称"}, "已被他人修改")
        assert not second.in_transaction()  # rolled back: nothing of the refused save is pending
    first.expire_all()
    saved = first.get(Indicator, "T-002")
    assert (saved.name, saved.revision) == ("甲改的名称", seen + 1)
    require_revision(saved, seen + 1, "不应拒绝")
    with pytest.raises(Conflict, match="请刷新"):
        require_revision(saved, seen, "请刷新")
