"""`-` for standard input and standard output wherever the `zhibiao` command takes a file.

The importers tell a file's format by its name (importers.files.file_format); standard input has none, so
its format comes from --format or from the bytes (importers.files.sniff_format), and it is handed on under
a name that carries that format.
"""
from __future__ import annotations

import sys
from pathlib import Path

import click

from importers.files import FORMATS, FileRejected, Limits, read_upload, sniff_format

DASH = "-"
STDIN_NAME = "标准输入"
FORMAT_NAMES = {"xlsx": ".xlsx 工作簿", "csv": "CSV", "json": "JSON"}


def input_file() -> click.Path:
    """The type of a FILE argument a command reads: an existing file, or - for standard input."""
    return click.Path(exists=True, dir_okay=False, allow_dash=True, path_type=Path)


def format_option(*formats: str):
    """--format for the commands that read a file: needed only when its name does not say."""
    return click.option("--format", "fmt", type=click.Choice(formats), default=None,
                        help=f"文件格式（{'、'.join(formats)}）；默认按扩展名判断，从标准输入（-）读时按内容判断")


def is_dash(file) -> bool:
    return str(file) == DASH


def read_input(file: Path, fmt: str | None, formats: tuple[str, ...]) -> tuple[bytes, str]:
    """The bytes of FILE, or of standard input for -, and a name whose suffix says the format."""
    limits = Limits.from_env()  # a pipe can be endless: the upload limit bounds what is read
    if not is_dash(file):
        data, name = read_upload(file, file.name, limits)
        if fmt and FORMATS.get(Path(name).suffix.lower()) != fmt:
            name = f"{name}.{fmt}"  # --format says what the name does not
        return data, name
    stdin = getattr(sys.stdin, "buffer", None)
    if stdin is None:
        raise FileRejected("无法从标准输入读取二进制数据")
    data, _ = read_upload(stdin, STDIN_NAME, limits)
    if fmt is None:
        fmt = sniff_format(data)
        if fmt is None:
            raise FileRejected(f"无法判断标准输入的格式（不像 .xlsx 工作簿、JSON 或 CSV 文本），请用 --format 指明（{'、'.join(formats)}）")
        if fmt not in formats:
            names = [FORMAT_NAMES[f] for f in formats]
            allowed = "、".join(names[:-1]) + "或 " + names[-1]
            raise FileRejected(f"标准输入的内容像是 {FORMAT_NAMES[fmt]}，这里只能读 {allowed}；如判断有误，请用 --format 指明")
    return data, f"{STDIN_NAME}.{fmt}"


def read_all_input(file: Path) -> bytes:
    """All of FILE or of standard input, without the upload limit (a backup is as large as the library)."""
    if is_dash(file):
        return sys.stdin.buffer.read()
    return Path(file).read_bytes()


def write_output(data: bytes) -> None:
    """Bytes to standard output as they are (a workbook, gzip): past the text layer, after what it holds."""
    sys.stdout.flush()
    sys.stdout.buffer.write(data)
    sys.stdout.buffer.flush()
