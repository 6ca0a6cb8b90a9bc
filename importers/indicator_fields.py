"""An indicator's fields as tables and forms carry them, in one order.

What the fields are and their types come from kb.schemas.IndicatorSchema; their
columns and order from importers/header_aliases.yaml. The reader
(importers/indicator_rows.py), the writers (importers/writers.py) and the
curator's form (web/curator/forms.py) take their field lists from here, so a
new field is declared in the schema and given a column, and they follow.
"""
from __future__ import annotations

from functools import lru_cache

from marshmallow.utils import missing

from importers.aliases import alias_table
from kb.schemas import CHOICE, FLAG, LIST, OPTIONAL_TEXT, TEXT, IndicatorSchema, indicator_shapes

# Fields held in several columns: one line per reference value, and the source's parts.
VALUE_KEYS = ("reference_value", "value_basis", "value_note", "value_year")
SOURCE_KEYS = {"source_document": "document", "source_doc_number": "doc_number", "source_issuer": "issuer",
               "source_url": "url", "source_year": "year", "source_page": "page"}
COLUMNS_OF = {"reference_values": VALUE_KEYS, "source": tuple(SOURCE_KEYS)}


def columns_of(name: str) -> tuple[str, ...]:
    """The column keys that carry a field (none when the table has no column for it)."""
    keys = alias_table().keys
    return tuple(k for k in COLUMNS_OF.get(name, (name,)) if k in keys)


@lru_cache(maxsize=1)
def shapes() -> dict[str, str]:
    """field → shape (kb.schemas), in the order of the table's columns; fields
    without a column come last, in the schema's order."""
    position = {key: n for n, key in enumerate(alias_table().keys)}

    def first_column(item: tuple[str, str]) -> int:
        return min((position[k] for k in columns_of(item[0])), default=len(position))

    return dict(sorted(indicator_shapes().items(), key=first_column))


def of_shape(*wanted: str) -> tuple[str, ...]:
    return tuple(name for name, shape in shapes().items() if shape in wanted)


def has_vocabulary(name: str) -> bool:
    """Values written as labels in a table (共性, 正向 …; header_aliases.yaml `values`)."""
    return name in alias_table().values


@lru_cache(maxsize=1)
def verbatim_text() -> tuple[str, ...]:
    """Text fields whose cell is the value as written: not the code, not one whose
    labels are translated (the operator: ≥ for 不低于)."""
    return tuple(n for n in of_shape(TEXT) if n != "code" and not has_vocabulary(n))


@lru_cache(maxsize=1)
def choices() -> tuple[tuple[str, str, object], ...]:
    """(field, vocabulary, value of an empty cell) of every field written as a label."""
    declared = IndicatorSchema._declared_fields
    out = []
    for name in of_shape(CHOICE, FLAG):
        empty = declared[name].load_default
        out.append((name, "boolean" if shapes()[name] == FLAG else name, None if empty is missing else empty))
    return tuple(out)


@lru_cache(maxsize=1)
def lists() -> tuple[str, ...]:
    return of_shape(LIST)


@lru_cache(maxsize=1)
def optional_text() -> tuple[str, ...]:
    """Text fields whose empty value is None (superseded_by)."""
    return of_shape(OPTIONAL_TEXT)
