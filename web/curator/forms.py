"""Form fields ↔ record fields for the curator's edit forms.

A form's state is a dict of strings (what the page shows, and what a failed
save shows again, unchanged); `*_from_form` turns it into record fields for
kb/, whose schemas then decide what is valid.
"""
from __future__ import annotations

import re

from importers import indicator_fields
from importers.aliases import alias_table
from importers.indicator_fields import SOURCE_KEYS
from importers.taxonomy import AXES
from kb import untrusted
from kb.errors import InvalidInput, Problem
from kb.schemas import CHOICE, FLAG, TEXT, IndicatorSchema
from web.field_names import FIELD_NAMES

LIST_SPLIT = re.compile(r"[,，、;；\s]+")
KEYWORD_SPLIT = re.compile(r"[,，、;；\n]+")
VALUE_SPLIT = re.compile(r"\s*[|｜]\s*")
MIN_YEAR, MAX_YEAR = 1949, 2100
MAX_REVISION = 2**31 - 1  # the database's integer column
# The indicator's fields by how the form carries them, read off the schema in the
# table's column order (importers.indicator_fields): a new field joins its group.
INDICATOR_TEXT = tuple(n for n in indicator_fields.of_shape(TEXT, CHOICE) if n != "code")
OPTIONAL_CHOICES = tuple(n for n in indicator_fields.of_shape(CHOICE)  # an empty select keeps the stored value
                         if not IndicatorSchema._declared_fields[n].required)
INDICATOR_LISTS = tuple(n for n in indicator_fields.lists() if n in AXES)  # codes, separated by spaces or commas
WORD_LISTS = tuple(n for n in indicator_fields.lists() if n not in AXES)  # words, which may hold spaces
OPTIONAL_TEXT = indicator_fields.optional_text()
FLAGS = indicator_fields.of_shape(FLAG)
SOURCE_FIELDS = tuple(SOURCE_KEYS.values())
INDICATOR_FORM_FIELDS = (*INDICATOR_TEXT, *INDICATOR_LISTS, *WORD_LISTS, *OPTIONAL_TEXT, "reference_values",
                         *FLAGS, *(f"source_{k}" for k in SOURCE_FIELDS))


def _text(value) -> str:
    return "" if value is None else str(value)


# --- indicators -------------------------------------------------------------------------

def indicator_form(record) -> dict[str, str]:
    """The form state of a record (a draft row, a record object or a dict of fields)."""
    get = record.get if isinstance(record, dict) else (lambda k, d=None: getattr(record, k, d))
    form = {k: _text(get(k, "")) for k in INDICATOR_TEXT}
    for k in INDICATOR_LISTS:
        form[k] = " ".join(get(k, None) or [])
    for k in WORD_LISTS:
        form[k] = "、".join(get(k, None) or [])
    for k in OPTIONAL_TEXT:
        form[k] = _text(get(k, ""))
    form["reference_values"] = "\n".join(
        " | ".join([_text(r.get("value")), _text(r.get("basis")), _text(r.get("note"))] + ([str(r["year"])] if r.get("year") else []))
        for r in get("reference_values", None) or []
    )
    for k in FLAGS:
        form[k] = "1" if get(k, False) else ""
    source = get("source", None) or {}
    for k in SOURCE_FIELDS:
        form[f"source_{k}"] = _text(source.get(k))
    form["code"] = _text(get("code", ""))
    return form


def form_state(values) -> dict[str, str]:
    """The submitted form as a plain dict (a MultiDict keeps only first values)."""
    return {k: values.get(k, "") for k in ("code", *INDICATOR_FORM_FIELDS)}


def indicator_from_form(form: dict[str, str]) -> tuple[dict, list[Problem]]:
    """Record fields from a form state, and the problems of fields the form itself cannot read."""
    problems: list[Problem] = []
    data: dict = {k: (form.get(k) or "").strip() for k in INDICATOR_TEXT}
    for k in OPTIONAL_CHOICES:
        if not data[k]:
            del data[k]  # left to the stored value or the schema's default
    for k in INDICATOR_LISTS:
        data[k] = [v for v in LIST_SPLIT.split(form.get(k) or "") if v]
    for k in WORD_LISTS:
        data[k] = [v.strip() for v in KEYWORD_SPLIT.split(form.get(k) or "") if v.strip()]
    for k in OPTIONAL_TEXT:
        data[k] = (form.get(k) or "").strip() or None
    for k in FLAGS:
        data[k] = bool(form.get(k))
    data["qualitative"] = data["qualitative"] or data["operator"] == "定性"
    values = []
    for n, line in enumerate((form.get("reference_values") or "").splitlines(), start=1):
        if not line.strip():
            continue
        parts = VALUE_SPLIT.split(line.strip())
        value = {"value": parts[0], "basis": parts[1] if len(parts) > 1 and parts[1] else "其他标准",
                 "note": parts[2] if len(parts) > 2 else ""}
        if len(parts) > 3 and parts[3]:
            if _year(parts[3]) is None:
                problems.append(Problem(f"第{n}行的年份“{parts[3][:20]}”应为 {MIN_YEAR}–{MAX_YEAR} 之间的年份",
                                        field="reference_values"))
            else:
                value["year"] = _year(parts[3])
        values.append(value)
    data["reference_values"] = values
    source = {k: (form.get(f"source_{k}") or "").strip() for k in SOURCE_FIELDS}
    year = source.pop("year")
    if year:
        if _year(year) is None:
            problems.append(Problem(f"来源年份“{year[:20]}”应为 {MIN_YEAR}–{MAX_YEAR} 之间的年份", field="source.year"))
        else:
            source["year"] = _year(year)
    data["source"] = {k: v for k, v in source.items() if v not in ("", None)}
    code = (form.get("code") or "").strip().upper()
    if code:
        data["code"] = code
    return data, problems


def revision_field(form, name: str = "revision", then: str = "再改") -> int:
    """The revision a form was rendered with (optimistic locking), or a Chinese refusal."""
    try:
        return untrusted.bounded_int(form.get(name, ""), "修订号", 1, MAX_REVISION)
    except untrusted.MalformedInput:
        raise InvalidInput(f"表单缺少修订号或修订号无效，请刷新页面后{then}") from None


def _year(text: str) -> int | None:
    try:
        return untrusted.bounded_int(text, "年份", MIN_YEAR, MAX_YEAR)
    except untrusted.MalformedInput:
        return None


# --- milestones ---------------------------------------------------------------------------

MILESTONE_FORM_FIELDS = ("code", "year", "title", "sector", "department", "project_type", "measure", "target_count",
                         "due_date", "owner", "note")


def milestone_form(data: dict) -> dict[str, str]:
    values = {k: data.get(k) for k in MILESTONE_FORM_FIELDS}
    return {k: v.isoformat() if hasattr(v, "isoformat") else _text(v) for k, v in values.items()}


def milestone_from_form(form) -> dict:
    """Strings as the schema reads them; it reports bad numbers and dates in Chinese."""
    data = {k: (form.get(k) or "").strip() for k in MILESTONE_FORM_FIELDS}
    data["code"] = data["code"].upper()
    data["target_count"] = data["target_count"] or "0"
    return data


def source_label(part: str) -> str:
    """A part of a record's source in Chinese ("doc_number" → 文号): the table's header for it."""
    key = f"source_{part}"
    return alias_table().header_of(key) if key in SOURCE_KEYS else part


def form_label(key: str) -> str:
    """A field of the indicator form in Chinese ("source_doc_number" → 文号)."""
    if key in SOURCE_KEYS:
        return source_label(SOURCE_KEYS[key])
    return FIELD_NAMES.get(key, key)
