"""Read a whole-library JSON document (what `zhibiao export --format json` writes)."""
from __future__ import annotations

from pathlib import Path

from kb import untrusted
from kb.errors import InvalidInput
from kb.library import Batch, build_batch
from kb.versions import EXPORT_FORMAT, EXPORT_KEYS


def read_document(doc: dict, location: str = "JSON") -> Batch:
    if not isinstance(doc, dict) or doc.get("format") != EXPORT_FORMAT:
        raise InvalidInput(f"不是指标库导出文件（缺少 \"format\": \"{EXPORT_FORMAT}\"）")
    entries = []
    for kind, key in EXPORT_KEYS.items():
        items = doc.get(key, [])
        if not isinstance(items, list):
            raise InvalidInput(f"“{key}”应为列表")
        entries += [(kind, item, f"{location} {key}", i) for i, item in enumerate(items, start=1)]
    batch, problems = build_batch(entries)
    if problems:
        raise InvalidInput(f"文件中有 {len(problems)} 处错误，未导入任何内容", problems)
    return batch


def document_rows(doc: dict) -> int:
    """How many records a whole-library document carries, without checking any (what decides whether its
    import runs as a job: checking 50,000 of them is itself too long for a request)."""
    if not isinstance(doc, dict):
        return 0
    return sum(len(items) for key in EXPORT_KEYS.values() if isinstance(items := doc.get(key), list))


def read_file(path: Path) -> Batch:
    try:
        doc = untrusted.loads(Path(path).read_bytes())
    except untrusted.MalformedInput as exc:
        raise InvalidInput(exc.message) from None
    return read_document(doc, Path(path).name)
