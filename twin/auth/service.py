"""Accounts as operations: users and roles, login with rate limiting, sessions, API tokens,
one-time reset links. Used by the HTTP routes and the CLI; every function commits.

What revokes what: a password change (own, by reset link or by the CLI), a change of
roles or of the admin flag, and deactivation bump the user's ``security_stamp`` and mark
every open session and API token revoked. Logout revokes its session; a user can revoke
any of their own sessions and tokens.

Secrets (session ids, API tokens, reset tokens) come from :func:`secrets.token_urlsafe`
and are shown once; the database keeps only their SHA-256.
"""

from __future__ import annotations

import math
import re
import secrets
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from layers.accounts import ROLES, ApiToken, AuthSession, LoginAttempt, PasswordReset, Role, User
from layers.catalogue.models import Municipality

from ..errors import (
    Conflict,
    Forbidden,
    InvalidRequest,
    InvalidResetLink,
    LoginFailed,
    NotFound,
    RateLimited,
)
from ..settings import Settings
from .deps import token_hash
from .passwords import MAX_LENGTH, hash_password, hasher, needs_rehash, verify_password

TOKEN_PREFIX = "twin_"
RESET_VALID_FOR = timedelta(hours=24)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def now() -> datetime:
    return datetime.now(UTC)


def aware(dt: datetime) -> datetime:
    """SQLite hands back naive datetimes; every stored time is UTC."""
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


# --- users and roles ---------------------------------------------------------------


def normalise_email(email: str) -> str:
    email = email.strip().lower()
    if len(email) > 254 or not _EMAIL.match(email):
        raise InvalidRequest(f"not an email address: {email[:60]!r}")
    return email


def find_user(db: Session, email: str) -> User | None:
    return db.scalar(select(User).where(User.email == email.strip().lower()))


def require_user(db: Session, email: str) -> User:
    user = find_user(db, email)
    if user is None:
        raise NotFound(f"no account for {email.strip().lower()!r}")
    return user


def roles_of(user: User) -> dict[str, list[str]]:
    """Roles per municipality code, e.g. ``{"1283": ["editor", "gis"]}``."""
    out: dict[str, list[str]] = {}
    for r in sorted(user.roles, key=lambda r: (r.municipality_code, r.role)):
        out.setdefault(r.municipality_code, []).append(r.role)
    return out


def _wanted_roles(db: Session, roles: Mapping[str, Iterable[str]]) -> set[tuple[str, str]]:
    wanted = {(code, role) for code, names in roles.items() for role in names}
    bad = sorted({role for _, role in wanted if role not in ROLES})
    if bad:
        raise InvalidRequest(f"unknown role(s) {bad}: the roles are {list(ROLES)} (and admin)")
    codes = {code for code, _ in wanted}
    known = set(db.scalars(select(Municipality.code).where(Municipality.code.in_(codes))))
    if codes - known:
        raise InvalidRequest(f"unknown municipality code(s): {sorted(codes - known)}")
    return wanted


def _apply_roles(user: User, wanted: set[tuple[str, str]]) -> bool:
    have = {(r.municipality_code, r.role) for r in user.roles}
    if have == wanted:
        return False
    user.roles = [r for r in user.roles if (r.municipality_code, r.role) in wanted]
    for code, role in sorted(wanted - have):
        user.roles.append(Role(municipality_code=code, role=role))
    return True


def create_user(
    db: Session,
    email: str,
    *,
    password: str | None = None,
    display_name: str | None = None,
    is_admin: bool = False,
    roles: Mapping[str, Iterable[str]] | None = None,
) -> User:
    email = normalise_email(email)
    if find_user(db, email) is not None:
        raise Conflict(f"an account for {email!r} exists already")
    wanted = _wanted_roles(db, roles or {})
    user = User(
        email=email,
        display_name=display_name,
        password_hash=hash_password(password) if password is not None else None,
        is_admin=is_admin,
        active=True,
        security_stamp=0,
    )
    db.add(user)
    _apply_roles(user, wanted)
    db.commit()
    return user


def _guard_last_admin(db: Session, user: User) -> None:
    others = db.scalar(
        select(func.count())
        .select_from(User)
        .where(User.is_admin.is_(True), User.active.is_(True), User.id != user.id)
    )
    if not others:
        raise Conflict("at least one active administrator must remain")


def update_user(
    db: Session,
    user: User,
    *,
    roles: Mapping[str, Iterable[str]] | None = None,
    is_admin: bool | None = None,
    active: bool | None = None,
    display_name: str | None = None,
) -> User:
    """Change roles, the admin flag, active or the name; a change of the first three
    revokes the user's sessions and tokens."""
    losing_admin = user.is_admin and user.active and (is_admin is False or active is False)
    if losing_admin:
        _guard_last_admin(db, user)
    changed = roles is not None and _apply_roles(user, _wanted_roles(db, roles))
    if is_admin is not None and is_admin != user.is_admin:
        user.is_admin, changed = is_admin, True
    if active is not None and active != user.active:
        user.active, changed = active, True
    if display_name is not None:
        user.display_name = display_name or None
    if changed:
        _revoke_everything(db, user)
    db.commit()
    return user


def add_role(db: Session, user: User, role: str, municipality: str | None) -> bool:
    """Give ``user`` a role (``admin`` or a municipality role); False if they had it."""
    if role == "admin":
        if user.is_admin:
            return False
        update_user(db, user, is_admin=True)
        return True
    if not municipality:
        raise InvalidRequest(f"the role {role!r} needs a municipality code")
    roles = roles_of(user)
    if role in roles.get(municipality, []):
        return False
    roles.setdefault(municipality, []).append(role)
    update_user(db, user, roles=roles)
    return True


def _revoke_everything(db: Session, user: User) -> None:
    user.security_stamp = (user.security_stamp or 0) + 1
    t = now()
    db.execute(
        update(AuthSession)
        .where(AuthSession.user_id == user.id, AuthSession.revoked_at.is_(None))
        .values(revoked_at=t)
    )
    db.execute(
        update(ApiToken)
        .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=t)
    )


def set_password(db: Session, user: User, password: str) -> None:
    """Set a new password; every session and token of the user is revoked."""
    user.password_hash = hash_password(password)
    _revoke_everything(db, user)
    _clear_failures(db, [_email_key(user.email)])
    db.commit()


def change_password(
    db: Session, settings: Settings, user: User, current: str, new: str, client: str
) -> None:
    """The user's own change: the current password is checked (and rate limited)."""
    keys = [_email_key(user.email), _client_key(client)]
    check_rate(db, settings, keys)
    if not verify_password(user.password_hash, current):
        _record_failure(db, keys)
        raise Forbidden("the current password is wrong")
    set_password(db, user, new)


# --- login and its rate limit -------------------------------------------------------


def _email_key(email: str) -> str:
    return f"email:{email.strip().lower()}"[:300]


def _client_key(client: str) -> str:
    return f"client:{client}"[:300]


def check_rate(db: Session, settings: Settings, keys: list[str]) -> None:
    """Raise :class:`RateLimited` if any key has ``login_attempts`` failures in the window."""
    window = timedelta(minutes=settings.login_window_minutes)
    t = now()
    retry = 0
    for key in keys:
        times = db.scalars(
            select(LoginAttempt.at)
            .where(LoginAttempt.key == key, LoginAttempt.at > t - window)
            .order_by(LoginAttempt.at)
        ).all()
        if len(times) >= settings.login_attempts:
            # unlocked when enough of the oldest failures have left the window
            unlock = aware(times[len(times) - settings.login_attempts]) + window
            retry = max(retry, math.ceil((unlock - t).total_seconds()), 1)
    if retry:
        raise RateLimited("too many failed logins; try again later", retry_after=retry)


def _record_failure(db: Session, keys: list[str]) -> None:
    t = now()
    db.add_all(LoginAttempt(key=key, at=t) for key in keys)
    db.commit()


def _clear_failures(db: Session, keys: list[str]) -> None:
    db.execute(delete(LoginAttempt).where(LoginAttempt.key.in_(keys)))


def login(db: Session, settings: Settings, email: str, password: str, client: str) -> User:
    """The user with these credentials, or :class:`LoginFailed` / :class:`RateLimited`.

    While an email address or a client address is over the limit, even the right
    password is refused: otherwise the 429s would only slow a guesser down, and the
    one 200 among them would still tell them the password.
    """
    window = timedelta(minutes=settings.login_window_minutes)
    db.execute(delete(LoginAttempt).where(LoginAttempt.at < now() - window))
    keys = [_email_key(email), _client_key(client)]
    check_rate(db, settings, keys)
    user = find_user(db, email) if len(email) <= 254 else None
    ok = verify_password(user.password_hash if user else None, password)
    if not ok or user is None or not user.active:
        _record_failure(db, keys)
        raise LoginFailed("wrong email or password")
    assert user.password_hash is not None
    if needs_rehash(user.password_hash) and len(password) <= MAX_LENGTH:
        user.password_hash = hasher().hash(password)
    _clear_failures(db, keys[:1])
    db.commit()
    return user


# --- sessions --------------------------------------------------------------------------


def create_session(
    db: Session, user: User, settings: Settings, user_agent: str | None = None
) -> tuple[str, AuthSession]:
    """A new session: the random id (for the cookie, shown once) and its row."""
    raw = secrets.token_urlsafe(32)
    row = AuthSession(
        id_hash=token_hash(raw),
        user_id=user.id,
        csrf_token=secrets.token_urlsafe(32),
        security_stamp=user.security_stamp,
        created_at=now(),
        expires_at=now() + timedelta(days=settings.session_days),
        user_agent=(user_agent or "")[:300] or None,
    )
    db.add(row)
    db.commit()
    return raw, row


def revoke_session(db: Session, row: AuthSession) -> None:
    if row.revoked_at is None:
        row.revoked_at = now()
    db.commit()


def list_sessions(db: Session, user: User) -> list[AuthSession]:
    """The user's sessions that still work, newest first."""
    return list(
        db.scalars(
            select(AuthSession)
            .where(
                AuthSession.user_id == user.id,
                AuthSession.revoked_at.is_(None),
                AuthSession.expires_at > now(),
                AuthSession.security_stamp == user.security_stamp,
            )
            .order_by(AuthSession.created_at.desc())
        )
    )


def revoke_own_session(db: Session, user: User, id_hash: str) -> None:
    row = db.get(AuthSession, id_hash)
    if row is None or row.user_id != user.id:
        raise NotFound("no such session")
    revoke_session(db, row)


# --- API tokens ------------------------------------------------------------------------


def create_token(db: Session, user: User, name: str | None = None) -> tuple[str, ApiToken]:
    """A new API token (``twin_...``, shown once) and its row."""
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(
        user_id=user.id,
        token_hash=token_hash(raw),
        name=name,
        security_stamp=user.security_stamp,
        created_at=now(),
    )
    db.add(row)
    db.commit()
    return raw, row


def list_tokens(db: Session, user: User) -> list[ApiToken]:
    return list(
        db.scalars(
            select(ApiToken)
            .where(
                ApiToken.user_id == user.id,
                ApiToken.revoked_at.is_(None),
                ApiToken.security_stamp == user.security_stamp,
            )
            .order_by(ApiToken.id)
        )
    )


def revoke_token(db: Session, user: User, token_id: int) -> None:
    row = db.get(ApiToken, token_id)
    if row is None or row.user_id != user.id:
        raise NotFound("no such API token")
    if row.revoked_at is None:
        row.revoked_at = now()
    db.commit()


def revoke_tokens(db: Session, user: User) -> int:
    """Revoke every token of ``user``; the number revoked."""
    n = len(list_tokens(db, user))
    db.execute(
        update(ApiToken)
        .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=now())
    )
    db.commit()
    return n


# --- one-time reset links -------------------------------------------------------------


def issue_reset(
    db: Session, user: User, issued_by: int | None, valid_for: timedelta = RESET_VALID_FOR
) -> tuple[str, PasswordReset]:
    """A one-time reset token for ``user``; earlier unused links of theirs stop working."""
    db.execute(
        delete(PasswordReset).where(
            PasswordReset.user_id == user.id, PasswordReset.used_at.is_(None)
        )
    )
    raw = secrets.token_urlsafe(32)
    row = PasswordReset(
        token_hash=token_hash(raw),
        user_id=user.id,
        issued_by=issued_by,
        expires_at=now() + valid_for,
    )
    db.add(row)
    db.commit()
    return raw, row


def consume_reset(db: Session, token: str, password: str) -> User:
    """Set ``password`` through a reset token; the token works once, before it expires."""
    h = token_hash(token)
    row = db.get(PasswordReset, h)
    if row is None or row.used_at is not None or aware(row.expires_at) <= now():
        raise InvalidResetLink("this reset link is unknown, used or expired")
    user = db.get(User, row.user_id)
    if user is None or not user.active:
        raise InvalidResetLink("this reset link is unknown, used or expired")
    new_hash = hash_password(password)  # a refused password does not use up the link
    taken = db.execute(
        update(PasswordReset)
        .where(PasswordReset.token_hash == h, PasswordReset.used_at.is_(None))
        .values(used_at=now())
    )
    if getattr(taken, "rowcount", 0) != 1:  # another request used it first
        db.rollback()
        raise InvalidResetLink("this reset link is unknown, used or expired")
    user.password_hash = new_hash
    _revoke_everything(db, user)
    _clear_failures(db, [_email_key(user.email)])
    db.commit()
    return user
