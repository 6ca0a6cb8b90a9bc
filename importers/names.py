"""When two indicators are the same one: normalised names, scopes, and the
codes given to imported rows that have none.

Generated codes: a row without a code gets `IMP-<tag>-<hash>`, where <tag> is
the smallest sector code of the row (else its first project type without
"PT-", else its first department without "D-", else "GX") and <hash> is the
first 8 hex digits (upper case) of SHA-256 over the kind, the normalised name
and the sorted scope codes. The same name and scope therefore always get the
same code, so importing a workbook twice updates instead of duplicating. A
second row of the same file with the same name and scope gets "-2", "-3"…
"""
from __future__ import annotations

import hashlib
import unicodedata

GENERATED_PREFIX = "IMP-"


def normalised_name(name: str) -> str:
    """The name without spaces or punctuation, full-width folded to half-width, lower case."""
    text = unicodedata.normalize("NFKC", name or "").lower()
    return "".join(ch for ch in text if not unicodedata.category(ch).startswith(("P", "Z", "C")))


def _get(record, key: str):
    return record.get(key) if isinstance(record, dict) else getattr(record, key, None)


def scope_of(record) -> tuple:
    """What an indicator (record data or record object) applies to: its kind
    and sorted sector, department and project type codes."""
    return (
        _get(record, "kind") or "",
        tuple(sorted(_get(record, "sectors") or ())),
        tuple(sorted(_get(record, "departments") or ())),
        tuple(sorted(_get(record, "project_types") or ())),
    )


def identity(record) -> tuple:
    """Two indicators with the same identity are duplicates, whatever their codes."""
    return (normalised_name(_get(record, "name") or ""), scope_of(record))


def generated_code(data: dict) -> str:
    kind, sectors, departments, project_types = scope_of(data)
    if sectors:
        tag = sectors[0]
    elif project_types:
        tag = project_types[0].removeprefix("PT-")
    elif departments:
        tag = departments[0].removeprefix("D-")
    else:
        tag = "GX"
    tag = "".join(ch for ch in tag.upper() if ch.isascii() and (ch.isalnum() or ch in ".-"))[:20].strip("-.") or "GX"
    key = "|".join([kind, normalised_name(data.get("name", "")), ",".join(sectors), ",".join(departments), ",".join(project_types)])
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:8].upper()
    return f"{GENERATED_PREFIX}{tag}-{digest}"
