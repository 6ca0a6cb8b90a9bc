"""The header alias table and value labels of indicator tables, read from
importers/header_aliases.yaml (the one file that states them)."""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

ALIASES_FILE = Path(__file__).resolve().parent / "header_aliases.yaml"

_MARKS = re.compile(r"[\s*★☆]+")
_BRACKETED_NOTE = re.compile(r"[(\[【][^()\[\]【】]*[)\]】]$")


@dataclass(frozen=True)
class ColumnSpec:
    """One column of an indicator table."""
    key: str  # what the column holds (a field of the indicator, or part of one)
    header: str  # the header the writers write
    aliases: tuple[str, ...]


@dataclass(frozen=True)
class AliasTable:
    columns: tuple[ColumnSpec, ...]
    ignored: frozenset[str]
    sniffed: frozenset[str]  # headers that mean `operator` when the column holds operators
    values: dict[str, dict[str, tuple[str, ...]]]  # vocabulary → value → labels
    _by_header: dict[str, str]
    _labels: dict[str, dict[str, str]]  # vocabulary → normalised label → value

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(c.key for c in self.columns)

    def spec(self, key: str) -> ColumnSpec:
        for c in self.columns:
            if c.key == key:
                return c
        raise KeyError(key)

    def header_of(self, key: str) -> str:
        return self.spec(key).header

    def key_for(self, header: str) -> str | None:
        """The column key a header names, or None when the header is not known."""
        norm = normalise_header(header)
        if norm in self._by_header:
            return self._by_header[norm]
        stripped = _BRACKETED_NOTE.sub("", norm)
        return self._by_header.get(stripped)

    def is_ignored(self, header: str) -> bool:
        norm = normalise_header(header)
        return norm in self.ignored or _BRACKETED_NOTE.sub("", norm) in self.ignored

    def is_sniffed(self, header: str) -> bool:
        return normalise_header(header) in self.sniffed

    def value_of(self, vocabulary: str, text: str) -> str | None:
        """The value a label stands for (labels and the value itself are accepted)."""
        return self._labels[vocabulary].get(normalise_label(text))

    def label_of(self, vocabulary: str, value: str) -> str:
        """The label the writers write for a value."""
        labels = self.values[vocabulary].get(value)
        return labels[0] if labels else value

    def labels(self, vocabulary: str) -> list[str]:
        """The written labels of a vocabulary, for messages."""
        return [labels[0] for labels in self.values[vocabulary].values() if labels[0]]


def normalise_header(text: str) -> str:
    return _MARKS.sub("", unicodedata.normalize("NFKC", str(text))).strip()


def normalise_label(text: str) -> str:
    return unicodedata.normalize("NFKC", str(text)).strip().upper()


@lru_cache(maxsize=1)
def alias_table() -> AliasTable:
    raw = yaml.safe_load(ALIASES_FILE.read_text(encoding="utf-8"))
    columns = tuple(ColumnSpec(c["key"], c["header"], tuple(c.get("aliases") or ())) for c in raw["columns"])
    by_header: dict[str, str] = {}
    for c in columns:
        for header in (c.header, *c.aliases):
            norm = normalise_header(header)
            if by_header.get(norm, c.key) != c.key:
                raise ValueError(f"{ALIASES_FILE.name}: header {header!r} names two columns")
            by_header[norm] = c.key
    values = {vocab: {str(v): tuple(str(x) for x in labels) for v, labels in mapping.items()}
              for vocab, mapping in raw["values"].items()}
    labels: dict[str, dict[str, str]] = {}
    for vocab, mapping in values.items():
        index: dict[str, str] = {}
        for value, names in mapping.items():
            for name in (value, *names):
                if name:
                    index[normalise_label(name)] = value
        labels[vocab] = index
    return AliasTable(
        columns=columns,
        ignored=frozenset(normalise_header(h) for h in raw.get("ignored", [])),
        sniffed=frozenset(normalise_header(h) for h in raw.get("operator_when_values_are_operators", [])),
        values=values,
        _by_header=by_header,
        _labels=labels,
    )
