"""Read a whole-library JSON document (what `zhibiao export --format json` writes)."""
from __future__ import annotations

import json
from pathlib import Path

from kb.errors import InvalidInput, Problem
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


def read_file(path: Path) -> Batch:
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise InvalidInput("文件不是 UTF-8 编码的 JSON")
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"JSON 格式错误：第{exc.lineno}行第{exc.colno}列", [Problem(exc.msg, Path(path).name, exc.lineno)])
    return read_document(doc, Path(path).name)
