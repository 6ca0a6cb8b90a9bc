"""Taking an uploaded file in: size and row limits, the file's type, and the
error for a file that cannot be read at all."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Union

from kb.errors import InvalidInput

Source = Union[bytes, bytearray, str, Path, BinaryIO]

ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .xls and encrypted workbooks
FORMATS = {".xlsx": "xlsx", ".xlsm": "xlsx", ".csv": "csv", ".txt": "csv", ".tsv": "csv", ".json": "json"}
DEFAULT_MAX_MB = 10
DEFAULT_MAX_ROWS = 50_000


class FileRejected(InvalidInput):
    """A file that cannot be read at all: empty, too large, of the wrong type or damaged."""
    error = "file_rejected"
    meaning = "上传的文件无法读取：为空、类型不对或已损坏"


class FileTooLarge(FileRejected):
    status = 413
    error = "file_too_large"
    meaning = "上传的文件超过大小或行数上限"


@dataclass(frozen=True)
class Limits:
    max_bytes: int = DEFAULT_MAX_MB * 1024 * 1024
    max_rows: int = DEFAULT_MAX_ROWS
    # A workbook is a zip: refuse one that inflates far beyond any real table.
    max_unzipped_bytes: int = 10 * DEFAULT_MAX_MB * 1024 * 1024
    # Characters kept from all cells of one file: the rows are held until the whole file is
    # checked (all or nothing), so this bounds a worker's memory (measured: a 1 MB workbook of
    # 290 MB of text took the command line to 381 MB; a real 50,000-row library holds ~15M).
    max_text_chars: int = 30_000_000

    @classmethod
    def from_env(cls) -> "Limits":
        """ZHIBIAO_MAX_UPLOAD_MB (as the web upload limit) and ZHIBIAO_MAX_IMPORT_ROWS."""
        mb = env_number("ZHIBIAO_MAX_UPLOAD_MB", DEFAULT_MAX_MB)
        rows = int(env_number("ZHIBIAO_MAX_IMPORT_ROWS", DEFAULT_MAX_ROWS))
        max_bytes = int(mb * 1024 * 1024)
        return cls(max_bytes=max_bytes, max_rows=rows, max_unzipped_bytes=10 * max_bytes, max_text_chars=cls.max_text_chars)

    @property
    def max_mb(self) -> str:
        return f"{round(self.max_bytes / 1024 / 1024, 2):g}"


def env_number(name: str, default: float) -> float:
    """A positive number from the environment; a wrong one is named, never silently replaced."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not value > 0:
        raise InvalidInput(f"环境变量 {name} 应为正数，现为“{raw}”")
    return value


def read_upload(source: Source, filename: str | None, limits: Limits) -> tuple[bytes, str]:
    """The file's bytes and name, refusing an empty or oversized file before reading it whole."""
    if isinstance(source, (str, Path)):
        path = Path(source)
        filename = filename or path.name
        try:
            size = path.stat().st_size
        except OSError:
            raise FileRejected(f"无法读取文件“{filename}”")
        _check_size(size, filename, limits)
        data = path.read_bytes()
    elif isinstance(source, (bytes, bytearray)):
        data = bytes(source)
    else:
        data = source.read(limits.max_bytes + 1)
    filename = filename or "上传文件"
    _check_size(len(data), filename, limits)
    if not data.strip():
        raise FileRejected(f"文件“{filename}”是空的")
    return data, filename


def _check_size(size: int, filename: str, limits: Limits) -> None:
    if size > limits.max_bytes:
        raise FileTooLarge(f"文件“{filename}”超过大小上限 {limits.max_mb} MB（ZHIBIAO_MAX_UPLOAD_MB），未导入")


def file_format(data: bytes, filename: str) -> str:
    """xlsx | csv | json, from the name's extension, checked against the content."""
    suffix = Path(filename).suffix.lower()
    if suffix == ".xls":
        raise FileRejected("不支持旧版 Excel（.xls）文件，请在 Excel 中另存为 .xlsx 后再导入")
    fmt = FORMATS.get(suffix)
    if fmt is None:
        raise FileRejected(f"不支持的文件类型“{suffix or filename}”，请上传 .xlsx、.csv 或 .json 文件")
    if fmt == "xlsx" and not data.startswith(ZIP_MAGIC):
        if data.startswith(OLE_MAGIC):
            raise FileRejected(f"“{filename}”是旧版 .xls 或加密的工作簿，请在 Excel 中另存为不加密的 .xlsx 后再导入")
        raise FileRejected(f"“{filename}”不是有效的 Excel 工作簿（.xlsx），可能是改了扩展名的其他文件")
    if fmt in ("csv", "json") and data.startswith((ZIP_MAGIC, OLE_MAGIC)):
        raise FileRejected(f"“{filename}”看起来是 Excel 工作簿，请使用 .xlsx 扩展名")
    return fmt


BOMS = ((b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be"))


def sniff_format(data: bytes) -> str | None:
    """xlsx | json | csv from the bytes alone, for a file that has no name to tell (standard input);
    None when they look like none of them (binary that is not a workbook)."""
    if data.startswith((ZIP_MAGIC, OLE_MAGIC)):
        return "xlsx"  # an OLE file (.xls, encrypted) then gets file_format's own message about what it is
    head = data[:8192]
    for bom, encoding in BOMS:
        if head.startswith(bom):
            text = head[len(bom):].decode(encoding, errors="ignore")
            break
    else:
        if b"\x00" in head:
            return None
        # GBK text loses its non-ASCII bytes here, which is fine: only the first character and control
        # characters are looked at, and those are ASCII in every encoding a CSV may come in
        text = head.decode("utf-8", errors="ignore")
    text = text.lstrip()
    if text[:1] in ("{", "["):
        return "json"
    if not text or any(ord(c) < 32 and c not in "\t\n\r\x0c" for c in text[:2048]):
        return None
    return "csv"
