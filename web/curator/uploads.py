"""Uploaded import files kept between the preview and the confirmation.

The preview and the apply are two requests; the file waits in
DATA_DIR/uploads under a random token, readable only by the account that
uploaded it, and is removed once applied or after a day.
"""
from __future__ import annotations

import hashlib
import json
import re
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from flask import current_app, g, request

from kb.errors import InvalidInput, NotFound

TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
KEEP_SECONDS = 24 * 3600


@dataclass(frozen=True)
class Upload:
    token: str
    filename: str
    path: Path
    rows: int | None = None  # how many rows its last preview found (None: not previewed yet)


def _folder() -> Path:
    folder = Path(current_app.config["DATA_DIR"]) / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def save(data: bytes, filename: str, user_id: int) -> Upload:
    _prune()
    token = secrets.token_urlsafe(18)
    folder = _folder()
    path = folder / f"{token}.bin"
    path.write_bytes(data)
    (folder / f"{token}.json").write_text(json.dumps({"filename": filename, "user": user_id}, ensure_ascii=False), encoding="utf-8")
    return Upload(token, filename, path)


def load(token: str, user_id: int) -> Upload:
    gone = NotFound("上传的文件已过期或不存在，请重新上传")
    if not TOKEN_RE.match(token or ""):
        raise gone
    folder = _folder()
    meta_path, path = folder / f"{token}.json", folder / f"{token}.bin"
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise gone
    if meta.get("user") != user_id or not path.exists():
        raise gone
    rows = meta.get("rows")
    return Upload(token, meta.get("filename") or "上传文件", path, rows if isinstance(rows, int) else None)


def from_request(missing: str) -> Upload:
    """The preview's file: uploaded with this request, or (a re-preview with other settings) the one kept from
    the last; `missing` says in Chinese what to choose when there is neither."""
    file = request.files.get("file")
    if file is not None and file.filename:
        return save(file.read(), file.filename, g.curator.id)
    if request.form.get("upload"):
        return load(request.form["upload"], g.curator.id)
    raise InvalidInput(missing)


def digest(seen: dict) -> str:
    """A fingerprint of what a preview showed the curator, compared when the import is confirmed."""
    text = json.dumps(seen, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def note_rows(upload: Upload, rows: int) -> None:
    """Remember how many rows the preview found, so that the confirmation can send a big file to a job
    without reading it on its request."""
    meta_path = _folder() / f"{upload.token}.json"
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    meta["rows"] = rows
    meta_path.write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")


def discard(token: str) -> None:
    if TOKEN_RE.match(token or ""):
        for suffix in (".bin", ".json"):
            (_folder() / f"{token}{suffix}").unlink(missing_ok=True)


def _prune() -> None:
    cutoff = time.time() - KEEP_SECONDS
    for path in _folder().glob("*.*"):
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink(missing_ok=True)
        except OSError:
            pass
