"""Settings, all from environment variables (documented in the README)."""
from __future__ import annotations

import os
from pathlib import Path


def data_dir() -> Path:
    return Path(os.environ.get("ZHIBIAO_DATA_DIR") or "instance").resolve()


def from_env() -> dict:
    folder = data_dir()
    return {
        "DATA_DIR": str(folder),
        "DATABASE_URL": os.environ.get("ZHIBIAO_DATABASE_URL") or f"sqlite:///{folder / 'zhibiao.sqlite3'}",
        "MAX_CONTENT_LENGTH": int(os.environ.get("ZHIBIAO_MAX_UPLOAD_MB", "10")) * 1024 * 1024,
        "API_TITLE": "zhibiao 预算绩效指标库 API",
        "API_VERSION": "v1",
        "OPENAPI_VERSION": "3.0.3",
        "OPENAPI_URL_PREFIX": "/api",
        "OPENAPI_JSON_PATH": "openapi.json",
        "JSON_AS_ASCII": False,
    }
