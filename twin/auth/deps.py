"""Who is asking: the principal behind a request (session cookie or bearer token).

State-changing requests authenticated by the session cookie must carry the session's
CSRF token in ``X-CSRF-Token`` and, when the browser sends them, a same-origin
``Origin``/``Sec-Fetch-Site``; bearer-token requests need neither (no ambient credential).
"""

from __future__ import annotations

import hmac
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import select
from sqlalchemy.orm import Session

from layers.accounts import ApiToken, AuthSession, User
from layers.accounts import token_hash as token_hash  # re-exported for twin.auth.service
from layers.catalogue.rules import ANONYMOUS, Principal

from ..errors import CSRFFailed, Forbidden, NotAuthenticated

SESSION_COOKIE = "twin_session"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
TOKEN_USE_RESOLUTION = timedelta(minutes=1)


def get_db_session(request: Request) -> Iterator[Session]:
    with request.app.state.db.session() as session:
        yield session


DbSession = Annotated[Session, Depends(get_db_session)]


def principal_of(user: User) -> Principal:
    return Principal(
        user_id=user.id,
        is_admin=user.is_admin,
        editor_of=frozenset(r.municipality_code for r in user.roles if r.role == "editor"),
        gis_of=frozenset(r.municipality_code for r in user.roles if r.role == "gis"),
    )


def _aware(dt: datetime) -> datetime:
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def session_from_cookie(request: Request, db: Session) -> AuthSession | None:
    raw = request.cookies.get(SESSION_COOKIE)
    if not raw or len(raw) > 200:
        return None
    row = db.get(AuthSession, token_hash(raw))
    if row is None or row.revoked_at is not None or _aware(row.expires_at) < datetime.now(UTC):
        return None
    user = db.get(User, row.user_id)
    if user is None or not user.active or user.security_stamp != row.security_stamp:
        return None
    return row


def _bearer(request: Request, db: Session) -> User | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    row = db.scalar(select(ApiToken).where(ApiToken.token_hash == token_hash(token.strip())))
    if row is None or row.revoked_at is not None:
        raise NotAuthenticated("the API token is unknown or revoked")
    user = db.get(User, row.user_id)
    if user is None or not user.active or user.security_stamp != row.security_stamp:
        raise NotAuthenticated("the API token is no longer valid")
    now = datetime.now(UTC)
    if row.last_used_at is None or _aware(row.last_used_at) < now - TOKEN_USE_RESOLUTION:
        row.last_used_at = now  # written at most once a minute per token
        db.commit()
    request.state.api_token = row
    return user


def check_same_origin(request: Request) -> None:
    """Refuse a request the browser marks as cross-site or from another origin.

    Also used by the routes that take no session (login, reset link): they set a cookie
    or a password, so another site must not be able to make a browser post them.
    """
    site = request.headers.get("sec-fetch-site")
    if site and site not in ("same-origin", "none"):
        raise CSRFFailed("cross-site request refused")
    origin = request.headers.get("origin")
    if origin and origin != f"{request.url.scheme}://{request.url.netloc}":
        raise CSRFFailed("cross-origin request refused")


def _check_csrf(request: Request, session_row: AuthSession) -> None:
    if request.method in SAFE_METHODS:
        return
    check_same_origin(request)
    sent = request.headers.get("x-csrf-token", "")
    if not hmac.compare_digest(sent, session_row.csrf_token):
        raise CSRFFailed("missing or wrong X-CSRF-Token header")


def get_principal(request: Request, db: DbSession) -> Principal:
    """The caller's principal (anonymous when not logged in); enforces CSRF for cookies."""
    user = _bearer(request, db)
    if user is not None:
        return principal_of(user)
    row = session_from_cookie(request, db)
    if row is None:
        return ANONYMOUS
    _check_csrf(request, row)
    user = db.get(User, row.user_id)
    assert user is not None
    request.state.auth_session = row
    return principal_of(user)


def require_login(principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
    if principal.anonymous:
        raise NotAuthenticated("log in first")
    return principal


def require_admin(principal: Annotated[Principal, Depends(require_login)]) -> Principal:
    if not principal.is_admin:
        raise Forbidden("administrators only")
    return principal


PrincipalDep = Annotated[Principal, Depends(get_principal)]
LoggedInDep = Annotated[Principal, Depends(require_login)]
AdminDep = Annotated[Principal, Depends(require_admin)]
