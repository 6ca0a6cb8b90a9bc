"""One table row → one indicator record (before validation by kb.schemas).

Rules (importers/README.md states them for curators):
- A column the file has decides its field, an empty cell included (it clears
  an optional field). Fields the file has no column for keep the draft's value
  for a code already in the draft, and take the caller's defaults (source,
  provenance, kind) or the schema's defaults for a new one. An empty cell in a
  required column (类别, 一级, 二级, 名称, 来源, 来源性质 …) counts as absent.
- 行业/部门/项目类别 cells list codes or names ("21002", "公立医院",
  "21002 公立医院"), separated by 、，; or new lines; names are resolved
  against the draft's taxonomy and must name exactly one code.
- 指标值/取值依据/指标值说明/指标值年份 hold one reference value per line.
  A basis that is not one of the four 取值依据 is kept as the value's note
  under 其他标准; a value without any basis gets 其他标准.
- Without an 指标性质 column, a value written "≥95%" gives the operator ≥ and
  the value 95 (the unit is dropped when it is the row's 计量单位).
- A source cell "XX办法（财预〔2020〕10号）" gives the document and the 文号,
  unless the file has a 文号 column.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from importers import indicator_fields
from importers.aliases import alias_table
from importers.indicator_fields import SOURCE_KEYS, VALUE_KEYS
from importers.table import ColumnRef, TableRow, TableSheet
from importers.taxonomy import AXES, Taxonomy, split_list
from kb.dimensions import dimensions
from kb.errors import InvalidInput, Problem

DEFAULT_PROVENANCE = "verbatim"  # imported rows are copied from the file's source document
DEFAULT_BASIS = "其他标准"
REQUIRED_KEYS = {"kind", "level1", "level2", "name", "status", "provenance", "certainty", "code"}
_DOC_NUMBER = re.compile(r"[（(]?\s*([\u4e00-\u9fffA-Za-z]{1,16}\s*[〔\[［【]\s*\d{4}\s*[〕\]］】]\s*\d+\s*号)\s*[）)]?")
_LEADING_OPERATOR = re.compile(r"^(≥|≤|>=|<=|=>|=<|＞＝|＜＝|>|<|=|＞|＜|＝)\s*(.+)$")
_NUMBER = re.compile(r"^[+-]?\d+(\.\d+)?$")


@dataclass(frozen=True)
class ImportDefaults:
    """What the caller says about rows that do not say it themselves
    (a curator importing a province's workbook names its source once)."""
    source_document: str = ""
    doc_number: str = ""
    issuer: str = ""
    url: str = ""
    year: int | None = None
    kind: str = ""  # common | specific (共性/个性 accepted)
    provenance: str = DEFAULT_PROVENANCE
    certainty: str = ""

    def checked(self) -> "ImportDefaults":
        aliases = alias_table()
        kind = aliases.value_of("kind", self.kind) if self.kind else ""
        if self.kind and not kind:
            raise InvalidInput(f"默认指标类别“{self.kind}”无效，应为：共性、个性")
        provenance = aliases.value_of("provenance", self.provenance) if self.provenance else DEFAULT_PROVENANCE
        if not provenance:
            raise InvalidInput(f"默认来源性质“{self.provenance}”无效，应为：{'、'.join(aliases.labels('provenance'))}")
        certainty = aliases.value_of("certainty", self.certainty) if self.certainty else ""
        if self.certainty and not certainty:
            raise InvalidInput(f"默认可靠程度“{self.certainty}”无效，应为：{'、'.join(aliases.labels('certainty'))}")
        return ImportDefaults(self.source_document.strip(), self.doc_number.strip(), self.issuer.strip(), self.url.strip(),
                              self.year, kind or "", provenance, certainty or "")

    def source(self) -> dict | None:
        if not self.source_document:
            return None
        document, number = self.source_document, self.doc_number
        if not number:
            document, number = split_doc_number(document)
        source: dict[str, Any] = {"document": document}
        for key, value in (("doc_number", number), ("issuer", self.issuer), ("url", self.url), ("year", self.year)):
            if value:
                source[key] = value
        return source


def split_doc_number(text: str) -> tuple[str, str]:
    """("XX办法", "财预〔2020〕10号") from "XX办法（财预〔2020〕10号）"."""
    match = _DOC_NUMBER.search(text or "")
    if not match:
        return text, ""
    number = re.sub(r"\s+", "", match.group(1))
    number = re.sub(r"[\[［【]", "〔", re.sub(r"[\]］】]", "〕", number))
    document = (text[: match.start()] + text[match.end():]).strip(" ，,、:：　")
    return (document if len(document) >= 2 else text), number


@dataclass
class RowFields:
    """What one row states: indicator fields, and its source when it names one."""
    values: dict[str, Any] = field(default_factory=dict)
    source: dict | None = None
    source_extra: dict = field(default_factory=dict)  # 文号/发文机关… without a document in the row
    problems: list[Problem] = field(default_factory=list)


def column_label(sheet: TableSheet | None, key: str) -> str:
    column: ColumnRef | None = sheet.columns.get(key) if sheet else None
    return column.label if column else alias_table().header_of(key)


def read_row(row: TableRow, sheet: TableSheet, taxonomy: Taxonomy) -> RowFields:
    aliases = alias_table()
    out = RowFields(problems=list(row.problems))
    cells = row.cells
    values = out.values

    def problem(key: str, message: str) -> None:
        out.problems.append(Problem(message, sheet.name, row.row, column_label(sheet, key)))

    def vocabulary(key: str, vocab: str, empty: Any = None) -> None:
        text = cells[key]
        if not text:
            if key not in REQUIRED_KEYS:
                values[key] = empty
            return
        value = aliases.value_of(vocab, text)
        if value is None:
            problem(key, f"“{text}”无效，应为：{'、'.join(aliases.labels(vocab))}")
        else:
            values[key] = value

    if cells.get("code"):
        values["code"] = cells["code"]
    for key in indicator_fields.verbatim_text():
        if key in cells and (cells[key] or key not in REQUIRED_KEYS):
            values[key] = cells[key]
    for key, vocab, empty in indicator_fields.choices():
        if key in cells:
            vocabulary(key, vocab, empty)
            if vocab == "boolean" and isinstance(values.get(key), str):
                values[key] = values[key] == "true"
    if "operator" in cells:
        text = cells["operator"]
        operator = (aliases.value_of("operator", text) or text) if text else ""
        if operator and operator not in dimensions().operators:
            problem("operator", f"“{text}”无效，指标性质（运算符）须为：{'、'.join(dimensions().operators)}")
        values["operator"] = operator
    for key in indicator_fields.optional_text():
        if key in cells:
            values[key] = cells[key] or None
    _fix_level2(values)
    for key in indicator_fields.lists():
        if key not in cells:
            continue
        if key in AXES:  # codes or names of the taxonomy
            codes, problems = taxonomy.resolve(key, cells[key])
            values[key] = codes
            for message in problems:
                problem(key, message)
        else:
            values[key] = split_list(cells[key])
    if any(key in cells for key in VALUE_KEYS):
        _reference_values(cells, sheet, values, problem)
    _source(cells, out, problem)
    return out


def _fix_level2(values: dict) -> None:
    """"数量" under 产出指标 is 数量指标: target tables often drop the 指标."""
    level1, level2 = values.get("level1"), values.get("level2")
    if level1 and level2:
        allowed = dimensions().level2_of(level1)
        if allowed and level2 not in allowed and f"{level2}指标" in allowed:
            values["level2"] = f"{level2}指标"


def _reference_values(cells: dict, sheet: TableSheet, values: dict, problem) -> None:
    lines = {key: cells.get(key, "").split("\n") if cells.get(key) else [] for key in VALUE_KEYS}
    count = max(len(v) for v in lines.values())
    if count == 0:
        values["reference_values"] = []
        return
    notes = lines["value_note"]
    if count > 1 and len(notes) == count and len(lines["reference_value"]) == 1 and len(lines["value_basis"]) <= 1:
        count = 1  # one value whose note runs over several lines
    if count == 1 and len(notes) > 1:
        notes = ["\n".join(notes)]
    bases = dimensions().value_bases
    refs = []
    for i in range(count):
        value = _line(lines["reference_value"], i)
        basis_text = _line(lines["value_basis"], i)
        note = _line(notes, i)
        basis = next((b for b in bases if basis_text == b), None)
        if basis is None and basis_text:
            basis = next((b for b in bases if b in basis_text), DEFAULT_BASIS)
            rest = basis_text.removeprefix(basis).lstrip("：:，, ") if basis_text.startswith(basis) else basis_text
            note = note or rest
        ref: dict[str, Any] = {"value": value, "basis": basis or DEFAULT_BASIS, "note": note}
        year = _line(lines["value_year"], i)
        if year:
            if not year.isdigit():
                problem("value_year", f"年份“{year}”应为四位数字")
                continue
            ref["year"] = int(year)
        refs.append(ref)
    if "operator" not in sheet.columns and count == 1 and refs:
        _operator_from_value(refs[0], values)
    values["reference_values"] = refs


def _line(lines: list[str], i: int) -> str:
    return lines[i].strip() if i < len(lines) else ""


def _operator_from_value(ref: dict, values: dict) -> None:
    """"≥95%" in a workbook without an 指标性质 column: operator ≥, value 95."""
    match = _LEADING_OPERATOR.match(ref["value"])
    if not match:
        return
    operator = alias_table().value_of("operator", match.group(1))
    if operator is None:
        return
    value = match.group(2).strip()
    unit = values.get("unit") or ""
    if unit and value.endswith(unit) and _NUMBER.match(value[: -len(unit)].strip()):
        value = value[: -len(unit)].strip()
    ref["value"] = value
    values["operator"] = operator


def _source(cells: dict, out: RowFields, problem) -> None:
    present = {key: cells[key] for key in SOURCE_KEYS if key in cells}
    if not present:
        return
    parts: dict[str, Any] = {}
    for key, text in present.items():
        if key == "source_year" and text:
            if not text.isdigit():
                problem(key, f"年份“{text}”应为四位数字")
                continue
            parts["year"] = int(text)
        elif key != "source_document" and text:
            parts[SOURCE_KEYS[key]] = text
    document = present.get("source_document", "")
    if not document:
        out.source_extra = parts
        return
    if "source_doc_number" not in cells:
        document, number = split_doc_number(document)
        if number:
            parts["doc_number"] = number
    out.source = {"document": document, **parts}


def merge(fields: RowFields, code: str, base: dict | None, defaults: ImportDefaults) -> dict:
    """The raw record of a row: the draft's record (if any), overlaid with what the row states;
    for a new code, the caller's defaults fill what the row does not state."""
    raw = dict(base) if base else {}
    raw.update(fields.values)
    raw["code"] = code
    if fields.source is not None:
        old = (base or {}).get("source") or {}
        if old.get("document") == fields.source["document"]:
            raw["source"] = {**old, **fields.source}
        else:
            raw["source"] = fields.source
    if base is None:
        if not raw.get("kind") and defaults.kind:
            raw["kind"] = defaults.kind
        if not raw.get("source"):
            default_source = defaults.source()
            if default_source:
                raw["source"] = default_source
        raw.setdefault("provenance", defaults.provenance or DEFAULT_PROVENANCE)
        if defaults.certainty:
            raw.setdefault("certainty", defaults.certainty)
    if fields.source_extra and raw.get("source"):
        raw["source"] = {**raw["source"], **fields.source_extra}
    return raw


def field_column(field_path: str) -> str:
    """The column key a validation error of a record field belongs to."""
    head, _, rest = field_path.partition(".")
    if head == "reference_values":
        leaf = rest.split(".")[-1] if rest else "value"
        return {"value": "reference_value", "basis": "value_basis", "note": "value_note", "year": "value_year"}.get(leaf, "reference_value")
    if head == "source":
        leaf = rest.split(".")[-1] if rest else "document"
        return {v: k for k, v in SOURCE_KEYS.items()}.get(leaf, "source_document")
    return head if head in alias_table().keys else ""
