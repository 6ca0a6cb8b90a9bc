"""API keys and curator accounts.

An API key is a random token shown once; the database keeps its first
characters (to find the row) and a SHA-256 of the whole token. The token has
256 bits of entropy, so a fast hash is enough: there is nothing to brute-force
that a slow hash would protect. Passwords, chosen by people, get werkzeug's
salted, slow hashes instead.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import lru_cache

from sqlalchemy import select
from sqlmodel import Session
from werkzeug.security import check_password_hash, generate_password_hash

from kb.errors import AlreadyExists, InvalidInput, NotFound
from kb.models import ApiKey, User, utcnow

SCOPES = ("read", "suggest", "curate")
# A curator reads what they curate; nothing else implies anything.
IMPLIED_SCOPES = {"curate": ("read",)}
ROLES = ("curator", "admin")
TOKEN_PREFIX = "zb_"
LOOKUP_CHARS = 12  # "zb_" + 9 random characters: enough to find the row, useless to guess the rest
LAST_USED_EVERY = timedelta(minutes=1)  # write last_used_at at most this often per key
MIN_PASSWORD = 8
# werkzeug's default (scrypt): slow on purpose, since people choose passwords
PASSWORD_HASH_METHOD = "scrypt"



@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    """Checked when the name is unknown, so a wrong name costs as long as a wrong password."""
    return generate_password_hash("zhibiao-no-such-user", method=PASSWORD_HASH_METHOD)


def _aware(value: datetime | None) -> datetime | None:
    """SQLite hands datetimes back without a zone; they were stored as UTC."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def parse_scopes(text: str | list[str]) -> list[str]:
    """"read,suggest" → ["read", "suggest"], refusing unknown scopes."""
    items = text.split(",") if isinstance(text, str) else list(text)
    scopes = [s.strip() for s in items if s and s.strip()]
    unknown = [s for s in scopes if s not in SCOPES]
    if unknown:
        raise InvalidInput(f"未知的权限范围：{'、'.join(unknown)}（可选：{'、'.join(SCOPES)}）")
    if not scopes:
        raise InvalidInput(f"至少需要一个权限范围（{'、'.join(SCOPES)}）")
    return sorted(set(scopes), key=SCOPES.index)


def has_scope(key: ApiKey, scope: str) -> bool:
    granted = set(key.scopes or [])
    for held in list(granted):
        granted.update(IMPLIED_SCOPES.get(held, ()))
    return scope in granted


# --- API keys -----------------------------------------------------------------------

@dataclass(frozen=True)
class NewApiKey:
    key: ApiKey
    token: str  # shown once; only its hash is stored


def create_api_key(session: Session, name: str, scopes: str | list[str]) -> NewApiKey:
    name = (name or "").strip()
    if not name or len(name) > 80:
        raise InvalidInput("密钥名称不能为空，且不超过80个字符")
    granted = parse_scopes(scopes)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    key = ApiKey(name=name, prefix=token[:LOOKUP_CHARS], key_hash=hash_token(token), scopes=granted)
    session.add(key)
    session.commit()
    session.refresh(key)
    return NewApiKey(key, token)


def verify_api_key(session: Session, token: str, now: datetime | None = None) -> ApiKey | None:
    """The live key this token belongs to, or None. Notes when it was last used."""
    if not token or not token.startswith(TOKEN_PREFIX) or len(token) < LOOKUP_CHARS + 8:
        return None
    digest = hash_token(token)
    candidates = session.execute(select(ApiKey).where(ApiKey.prefix == token[:LOOKUP_CHARS])).scalars().all()
    key = next((k for k in candidates if hmac.compare_digest(k.key_hash, digest)), None)
    if key is None or key.revoked_at is not None:
        return None
    now = now or utcnow()
    last = _aware(key.last_used_at)
    if last is None or now - last >= LAST_USED_EVERY:
        key.last_used_at = now
        session.commit()
    return key


def list_api_keys(session: Session) -> list[ApiKey]:
    return list(session.execute(select(ApiKey).order_by(ApiKey.id)).scalars())


def revoke_api_key(session: Session, key_id: int) -> ApiKey:
    key = session.get(ApiKey, key_id)
    if key is None:
        raise NotFound(f"未找到编号为 {key_id} 的 API 密钥")
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        session.commit()
    return key


# --- curator accounts -----------------------------------------------------------------

def create_user(session: Session, name: str, password: str, role: str) -> User:
    name = (name or "").strip()
    if not name or len(name) > 80:
        raise InvalidInput("用户名不能为空，且不超过80个字符")
    if role not in ROLES:
        raise InvalidInput(f"角色须为：{'、'.join(ROLES)}")
    if len(password or "") < MIN_PASSWORD:
        raise InvalidInput(f"密码至少 {MIN_PASSWORD} 个字符")
    if session.execute(select(User.id).where(User.name == name)).scalar() is not None:
        raise AlreadyExists(f"用户“{name}”已存在")
    user = User(name=name, password_hash=generate_password_hash(password, method=PASSWORD_HASH_METHOD), role=role)
    session.add(user)
    session.commit()
    session.refresh(user)
    return user


def authenticate(session: Session, name: str, password: str) -> User | None:
    """The active user with this name and password, or None."""
    user = session.execute(select(User).where(User.name == (name or "").strip())).scalar()
    if user is None:
        check_password_hash(_dummy_hash(), password or "")
        return None
    if not check_password_hash(user.password_hash, password or "") or not user.active:
        return None
    return user


def set_password(session: Session, name: str, password: str) -> User:
    user = session.execute(select(User).where(User.name == name)).scalar()
    if user is None:
        raise NotFound(f"未找到用户“{name}”")
    if len(password or "") < MIN_PASSWORD:
        raise InvalidInput(f"密码至少 {MIN_PASSWORD} 个字符")
    user.password_hash = generate_password_hash(password, method=PASSWORD_HASH_METHOD)
    user.session_epoch += 1  # a new password ends every session signed in with the old one
    session.commit()
    return user


def set_role(session: Session, name: str, role: str) -> User:
    if role not in ROLES:
        raise InvalidInput(f"角色须为：{'、'.join(ROLES)}")
    user = session.execute(select(User).where(User.name == name)).scalar()
    if user is None:
        raise NotFound(f"未找到用户“{name}”")
    user.role = role
    user.session_epoch += 1  # sessions opened under the old role end
    session.commit()
    return user


def end_sessions(session: Session, user_id: int) -> None:
    """End every session of the account, in every browser (logout does this)."""
    user = session.get(User, user_id)
    if user is not None:
        user.session_epoch += 1
        session.commit()
