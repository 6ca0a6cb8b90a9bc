"""What any request, page or API, may carry: text without NUL characters or lone surrogates anywhere in its
path, query or form (PostgreSQL cannot store a NUL, and no indicator needs one), and uploaded files read within
the upload limits (importers.files.Limits)."""
from __future__ import annotations

from flask import Flask, request

from kb import untrusted
from kb.errors import InvalidInput, KbError

FORM = "application/x-www-form-urlencoded"
MULTIPART = "multipart/form-data"
BODY_METHODS = ("POST", "PUT", "PATCH")


def _bad_text() -> str | None:
    """What is wrong with the request's path, query or form text (JSON bodies are checked as they are parsed)."""
    texts = [request.path, *(t for kv in request.args.items(multi=True) for t in kv)]
    if request.method in BODY_METHODS and request.mimetype in (FORM, MULTIPART):
        texts += [t for kv in request.form.items(multi=True) for t in kv]  # files stay binary; their cells are read later
    # a malformed multipart part can come back from werkzeug as None: nothing to check in it
    return next((p for p in map(untrusted.text_problem, (t for t in texts if isinstance(t, str))) if p), None)


def _check_text() -> None:
    problem = _bad_text()
    if problem:
        raise untrusted.UnusableText(f"请求{problem}，无法处理")


MISSING_FILE = "请以 file 字段上传 .xlsx 或 .json 文件"
UNNAMED_FILE = "上传文件.xlsx"  # a part without a file name is read as a workbook (JSON is recognised by its bytes)


def uploaded_file(missing: KbError | None = None, default_name: str | None = UNNAMED_FILE) -> tuple[bytes, str]:
    """The request's uploaded `file` field, read within the upload limits: (its bytes, its file name).

    `missing` is raised when there is none (by default the API's 422; a page says it its own way, 400);
    a file without a name takes `default_name`, or counts as missing without one."""
    from importers.files import Limits, read_upload

    upload = request.files.get("file")
    if upload is None or not (upload.filename or default_name):
        raise missing or InvalidInput(MISSING_FILE)
    return read_upload(upload.stream, upload.filename or default_name, Limits.from_env())


def uploaded_table(missing: KbError | None = None, default_name: str | None = UNNAMED_FILE):
    """An uploaded .xlsx or .json 绩效目标表 (the drafting page's import, the API's check, monitor and evaluate):
    (the kb.targets.table.TargetTable, the file name)."""
    from importers.target_xlsx import read_target_file

    data, filename = uploaded_file(missing, default_name)
    return read_target_file(data, filename), filename


def init_app(app: Flask) -> None:
    app.before_request(_check_text)
