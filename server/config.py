"""Settings, all from environment variables (documented in the README)."""
from __future__ import annotations

import os
import secrets
from pathlib import Path

from importers.files import Limits


def _flag(name: str, default: str = "0") -> bool:
    return os.environ.get(name, default).strip().lower() in ("1", "true", "yes", "on")


def _int_env(name: str, default: int) -> int:
    raw = (os.environ.get(name) or "").strip()
    try:
        return int(raw) if raw else default
    except ValueError:
        raise SystemExit(f"环境变量 {name} 应为整数，现为“{raw}”") from None


def data_dir() -> Path:
    return Path(os.environ.get("ZHIBIAO_DATA_DIR") or "instance").resolve()


def secret_key(folder: Path) -> str:
    """ZHIBIAO_SECRET_KEY, or a random key kept in the instance folder so that
    sessions survive restarts and all workers of a node share it."""
    given = os.environ.get("ZHIBIAO_SECRET_KEY")
    if given:
        return given
    path = folder / "secret_key"
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        # written aside, then linked into place: of several workers starting at
        # once exactly one key wins and nobody reads a half-written file
        tmp = folder / f".secret_key.{os.getpid()}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    return path.read_text().strip()


def from_env() -> dict:
    folder = data_dir()
    return {
        "SECRET_KEY": secret_key(folder),
        "DATA_DIR": str(folder),
        "DATABASE_URL": os.environ.get("ZHIBIAO_DATABASE_URL") or f"sqlite:///{folder / 'zhibiao.sqlite3'}",
        # the importers' own limit, so a page refuses what an import would
        "MAX_CONTENT_LENGTH": Limits.from_env().max_bytes,
        # behind HTTPS (a proxy terminating TLS): the login cookie is never sent in clear
        "SESSION_COOKIE_SECURE": _flag("ZHIBIAO_SECURE_COOKIES"),
        "API_TITLE": "zhibiao 预算绩效指标库 API",
        "API_VERSION": "v1",
        "OPENAPI_VERSION": "3.0.3",
        "OPENAPI_URL_PREFIX": "/api",
        "OPENAPI_JSON_PATH": "openapi.json",
        "JSON_AS_ASCII": False,
        # the REST API: keys, rate limits, CORS (api/auth.py, server/limits.py, api/cors.py)
        "REQUIRE_API_KEY": _flag("ZHIBIAO_REQUIRE_API_KEY"),
        "RATE_LIMIT": os.environ.get("ZHIBIAO_RATE_LIMIT", "600 per minute"),
        "RATE_LIMIT_COSTLY": os.environ.get("ZHIBIAO_RATE_LIMIT_COSTLY", "60 per minute"),
        "REDIS_URL": os.environ.get("ZHIBIAO_REDIS_URL", ""),
        # gunicorn.conf.py sets it: rate limits counted in memory are divided among the workers
        "WORKER_PROCESSES": int(os.environ.get("ZHIBIAO_WORKER_PROCESSES") or 1),
        # imports of more rows than this are applied in the background, as jobs (0: never)
        "IMPORT_JOB_ROWS": _int_env("ZHIBIAO_IMPORT_JOB_ROWS", 2000),
        "CORS_ORIGINS": os.environ.get("ZHIBIAO_CORS_ORIGINS", ""),
    }
