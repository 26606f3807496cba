"""Account tables: users, roles per municipality, sessions, API tokens, reset links.

The rules that use them live in :mod:`layers.catalogue.rules`; hashing, cookies and
login flows live in :mod:`twin.auth`.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .db import Base, UTCDateTime, utcnow

ROLES = ("editor", "gis")


def token_hash(token: str) -> str:
    """The lookup hash of a high-entropy random secret (session id, API token, ingest key).

    The secrets come from :func:`secrets.token_urlsafe`, so a plain sha256 is enough: no
    salt or slow hash is needed against guessing, and an indexed lookup by the hash never
    compares the secret itself.
    """
    return hashlib.sha256(token.encode()).hexdigest()


class User(Base):
    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)  # stored lower-case
    display_name: Mapped[str | None] = mapped_column(String(100))
    password_hash: Mapped[str | None] = mapped_column(String(200))
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: bumped on password or role change: sessions and tokens issued before are revoked
    security_stamp: Mapped[int] = mapped_column(Integer, default=0)

    roles: Mapped[list[Role]] = relationship(cascade="all, delete-orphan", lazy="selectin")


class Role(Base):
    __tablename__ = "user_role"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True
    )
    municipality_code: Mapped[str] = mapped_column(
        ForeignKey("municipality.code"), primary_key=True
    )
    role: Mapped[str] = mapped_column(String(20), primary_key=True)  # editor | gis


class AuthSession(Base):
    """A server-side login session; the cookie holds a random id, the table its hash."""

    __tablename__ = "auth_session"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    csrf_token: Mapped[str] = mapped_column(String(64))
    security_stamp: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    user_agent: Mapped[str | None] = mapped_column(String(300))


class ApiToken(Base):
    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str | None] = mapped_column(String(100))
    security_stamp: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class PasswordReset(Base):
    """A one-time link issued by an admin (no mail server needed)."""

    __tablename__ = "password_reset"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    issued_by: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class LoginAttempt(Base):
    """Failed logins, for rate limiting across app processes (kept in the database)."""

    __tablename__ = "login_attempt"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(300), index=True)  # email or client address
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
