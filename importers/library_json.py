"""Read a whole-library JSON document (what `zhibiao export --format json` writes)."""
from __future__ import annotations

from pathlib import Path

from kb import untrusted
from kb.errors import InvalidInput
from kb.library.draft import Batch, build_batch
from kb.library.versions import EXPORT_FORMAT, EXPORT_KEYS


# what a document carries beside its records (kb.library.versions.export_library writes them; only format is read)
HEADER_KEYS = {"format": "格式", "format_version": "格式版本", "version": "导出的版本", "published_at": "发布时间"}


def check_shape(doc) -> None:
    """Refuse (InvalidInput) what is no whole-library document, without reading a record: the format, the
    known keys only (a misspelt "indicator" would otherwise import nothing and say nothing), lists of records."""
    if not isinstance(doc, dict) or doc.get("format") != EXPORT_FORMAT:
        raise InvalidInput(f"不是指标库导出文件（缺少 \"format\": \"{EXPORT_FORMAT}\"）")
    unknown = sorted(set(doc) - set(HEADER_KEYS) - set(EXPORT_KEYS.values()))
    if unknown:
        known = "、".join([*HEADER_KEYS, *EXPORT_KEYS.values()])
        raise InvalidInput(f"指标库文件中有不认识的项“{'”“'.join(unknown)}”（可有的项：{known}）；未导入任何内容")
    version = doc.get("format_version", 1)
    if version != 1 or isinstance(version, bool):
        raise InvalidInput(f"不支持的格式版本“{version}”：本系统读取格式版本 1")
    for key in ("version", "published_at"):
        if not isinstance(doc.get(key), (str, type(None))):
            raise InvalidInput(f"“{key}”（{HEADER_KEYS[key]}）应为文字")
    for key in EXPORT_KEYS.values():
        if not isinstance(doc.get(key, []), list):
            raise InvalidInput(f"“{key}”应为列表")


def read_document(doc: dict, location: str = "JSON") -> Batch:
    check_shape(doc)
    entries = []
    for kind, key in EXPORT_KEYS.items():
        items = doc.get(key, [])
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
