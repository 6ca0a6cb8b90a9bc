"""One field list: every field of an indicator (kb.schemas.IndicatorSchema) is carried
by the table's columns both ways, by the curator's form and its template, and has a
Chinese label; a field added to the schema and not handled fails here, by name."""
from __future__ import annotations

import re

import pytest
from marshmallow import fields, validate

from importers import indicator_fields
from importers.aliases import alias_table
from importers.indicator_rows import ImportDefaults, merge, read_row
from importers.table import ColumnRef, TableRow, TableSheet
from importers.taxonomy import AXES, Taxonomy
from importers.writers import table_rows
from kb.models import IndicatorRecord
from kb.schemas import CHOICE, FLAG, LIST, OPTIONAL_TEXT, TEXT, IndicatorSchema
from web.curator import forms as curator_forms
from web.field_names import FIELD_NAMES

# Fields the form carries in inputs of other names (the code is the page's address or
# its own input; the source is one input per part, source_document …).
FORM_CARRIES_OTHERWISE = {"code": ("code",), "source": tuple(f"source_{k}" for k in curator_forms.SOURCE_FIELDS)}
# Fields shown under another heading than FIELD_NAMES (the code is printed as it is).
UNLABELLED = {"code"}


def unhandled() -> list[str]:
    """What is missing for each field of the schema, in words."""
    missing = []
    form = set(curator_forms.INDICATOR_FORM_FIELDS) | {"code"}
    for name in indicator_fields.shapes():
        if not indicator_fields.columns_of(name):
            missing.append(f"{name}: no column in importers/header_aliases.yaml")
        if not set(FORM_CARRIES_OTHERWISE.get(name, (name,))) <= form:
            missing.append(f"{name}: not in the curator's form (web/curator/forms.py)")
        if name not in FIELD_NAMES and name not in UNLABELLED:
            missing.append(f"{name}: no Chinese label (web/field_names.py FIELD_NAMES)")
    return missing


def test_every_indicator_field_has_a_column_a_form_field_and_a_label():
    assert unhandled() == []


def test_every_column_belongs_to_a_field():
    carried = {key for name in indicator_fields.shapes() for key in indicator_fields.columns_of(name)}
    assert set(alias_table().keys) == carried


def test_only_the_operator_is_text_whose_labels_are_translated():
    # the reader normalises 运算符 by name (importers/indicator_rows.py): any other
    # text field with a value vocabulary would be left unread
    texts = indicator_fields.of_shape(TEXT)
    assert [n for n in texts if indicator_fields.has_vocabulary(n)] == ["operator"]
    assert all(indicator_fields.has_vocabulary(n) for n in indicator_fields.of_shape(CHOICE))


def test_a_field_added_to_the_schema_and_not_handled_is_named(monkeypatch):
    monkeypatch.setitem(IndicatorSchema._declared_fields, "review_cycle", fields.String(load_default=""))
    indicator_fields.shapes.cache_clear()
    try:
        assert unhandled() == [
            "review_cycle: no column in importers/header_aliases.yaml",
            "review_cycle: not in the curator's form (web/curator/forms.py)",
            "review_cycle: no Chinese label (web/field_names.py FIELD_NAMES)",
        ]
    finally:
        monkeypatch.undo()
        indicator_fields.shapes.cache_clear()


# --- every field survives the table and the form ---------------------------------------

TAXONOMY = Taxonomy({"sectors": {"21002": "公立医院"}, "departments": {"D-HOSP": "市级综合医院"},
                     "project_types": {"PT-EQUIP": "设备购置"}})


def _filled_value(name: str, shape: str):
    """A value unlike the field's default, chosen by its shape, so a field dropped on the way shows."""
    field = IndicatorSchema._declared_fields[name]
    if name == "operator":
        return "≥"
    if shape == TEXT:
        return "T-FULL" if name == "code" else f"{name}的内容"
    if shape == CHOICE:
        choices = next(v.choices for v in field.validators if isinstance(v, validate.OneOf))
        return [c for c in choices if c != field.load_default][-1]
    if shape == FLAG:
        return True
    if shape == LIST:
        return list(TAXONOMY.names[name])[:1] if name in AXES else ["甲", "乙丙"]
    if shape == OPTIONAL_TEXT:
        return "T-OTHER"
    if name == "reference_values":
        return [{"value": "95", "basis": "历史标准", "note": "近三年平均", "year": 2024}]
    if name == "source":
        return {"document": "某某管理办法", "doc_number": "财预〔2020〕10号", "issuer": "财政部", "url": "https://example.gov.cn/a",
                "year": 2020, "page": "3"}
    raise AssertionError(f"{name}: give this test a value for the shape {shape}")


@pytest.fixture
def full_record() -> dict:
    return {name: _filled_value(name, shape) for name, shape in indicator_fields.shapes().items()}


def test_every_field_goes_through_a_table_and_back(full_record):
    keys = alias_table().keys
    [texts] = table_rows([IndicatorRecord(**full_record)], TAXONOMY)
    sheet = TableSheet("指标", header_row=1, columns={k: ColumnRef(n, alias_table().header_of(k)) for n, k in enumerate(keys)})
    row = TableRow("指标", 2, dict(zip(keys, texts)))
    read = read_row(row, sheet, TAXONOMY)
    assert read.problems == []
    back = merge(read, full_record["code"], None, ImportDefaults())
    assert {k: back.get(k) for k in full_record} == full_record


def test_every_field_goes_through_the_curator_form_and_back(full_record):
    form = curator_forms.indicator_form(full_record)
    data, problems = curator_forms.indicator_from_form(form)
    assert problems == []
    assert {k: data.get(k) for k in full_record} == full_record


def test_the_edit_page_has_an_input_for_every_form_field(app):
    from tests.test_curator import login, make_user

    app.config["WTF_CSRF_ENABLED"] = False
    make_user(app, "维护员")
    client = app.test_client()
    assert login(client).status_code == 302
    for path in ("/curator/draft/new", "/curator/draft/T-001"):
        page = client.get(path).get_data(as_text=True)
        named = set(re.findall(r'<(?:input|textarea|select)[^>]*\sname="([^"]+)"', page))
        assert set(curator_forms.INDICATOR_FORM_FIELDS) - named == set(), path


def test_the_kind_labels_come_from_one_table(app, monkeypatch):
    """共性指标/个性指标 are written once (kb.schemas.KIND_LABELS): the reconciliation types
    and search documents take it, and a renamed label shows on the curator's import page."""
    from kb import reconcile
    from kb.schemas import KIND_LABELS
    from kb.search import documents
    from tests.test_curator import login, make_user

    assert reconcile.TYPES.items() >= KIND_LABELS.items() and documents.KIND_LABELS is KIND_LABELS
    monkeypatch.setitem(KIND_LABELS, "common", "通用类指标")
    app.config["WTF_CSRF_ENABLED"] = False
    make_user(app, "维护员")
    client = app.test_client()
    assert login(client).status_code == 302
    page = client.get("/curator/import").get_data(as_text=True)
    assert '<option value="common">通用类指标</option>' in page and '<option value="specific">个性指标</option>' in page
