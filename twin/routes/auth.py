"""Accounts: login, logout, the current user, tokens, password reset, user admin.

Cookie-authenticated requests that change state need the session's ``X-CSRF-Token``
(see :mod:`twin.auth.deps`); login and the reset link take no session but refuse
cross-site posts. Request bodies are capped at 64 KB, counted as they arrive.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Request, Response
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from layers.accounts import ApiToken, AuthSession, User

from ..auth import service
from ..auth.deps import (
    SAFE_METHODS,
    SESSION_COOKIE,
    AdminDep,
    DbSession,
    LoggedInDep,
    PrincipalDep,
    check_same_origin,
    session_from_cookie,
)
from ..auth.passwords import MAX_LENGTH
from ..errors import Forbidden, NotFound, PayloadTooLarge
from ..settings import Settings
from .deps import SettingsDep
from .limits import read_body

MAX_BODY_BYTES = 64 * 1024


def _too_large() -> PayloadTooLarge:
    return PayloadTooLarge(f"the request body is larger than {MAX_BODY_BYTES // 1024} KB")


class LimitedBodyRoute(APIRoute):
    """An API route whose request body may be at most ``MAX_BODY_BYTES``."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def limited(request: Request) -> Response:
            if request.method not in SAFE_METHODS:
                await read_body(request, MAX_BODY_BYTES, _too_large)
            return await handler(request)

        return limited


router = APIRouter(tags=["accounts"], route_class=LimitedBodyRoute)

RoleName = Literal["editor", "gis"]
Roles = dict[Annotated[str, Field(max_length=20)], list[RoleName]]
Password = Annotated[str, Field(max_length=MAX_LENGTH)]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LoginIn(Body):
    email: str = Field(max_length=254)
    password: Password


class PasswordChangeIn(Body):
    current_password: Password
    new_password: Password


class ResetIn(Body):
    password: Password


class TokenIn(Body):
    name: str | None = Field(None, max_length=100)


class UserIn(Body):
    email: str = Field(max_length=254)
    display_name: str | None = Field(None, max_length=100)
    password: Password | None = Field(None, description="optional: else issue a reset link")
    is_admin: bool = False
    roles: Roles = Field(default_factory=dict, description='e.g. {"1283": ["editor"]}')


class UserPatch(Body):
    display_name: str | None = Field(None, max_length=100)
    is_admin: bool | None = None
    active: bool | None = None
    roles: Roles | None = Field(None, description="the complete new set of roles")


def _iso(dt: datetime | None) -> str | None:
    return service.aware(dt).isoformat() if dt else None


def user_out(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "email": user.email,
        "display_name": user.display_name,
        "is_admin": user.is_admin,
        "active": user.active,
        "roles": service.roles_of(user),
        "has_password": user.password_hash is not None,
        "created_at": _iso(user.created_at),
    }


def _current_user(db: DbSession, principal: LoggedInDep) -> User:
    user = db.get(User, principal.user_id)
    if user is None:
        raise NotFound("the account is gone")
    return user


MeDep = Annotated[User, Depends(_current_user)]


def _cookie_session(request: Request) -> AuthSession | None:
    return getattr(request.state, "auth_session", None)


def _secure(request: Request, settings: Settings) -> bool:
    if settings.cookie_secure is not None:
        return settings.cookie_secure
    return request.url.scheme == "https"


def _set_cookie(response: Response, request: Request, settings: Settings, raw: str) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        raw,
        max_age=settings.session_days * 86400,
        path="/",
        httponly=True,
        samesite="lax",
        secure=_secure(request, settings),
    )


def _clear_cookie(response: Response, request: Request, settings: Settings) -> None:
    response.delete_cookie(
        SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=_secure(request, settings)
    )


def _me(user: User, csrf_token: str | None) -> dict[str, Any]:
    return {
        "authenticated": True,
        "user": user_out(user),
        "roles": service.roles_of(user),
        "is_admin": user.is_admin,
        "csrf_token": csrf_token,
    }


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _start_session(
    db: DbSession, request: Request, response: Response, settings: Settings, user: User
) -> str:
    raw, row = service.create_session(db, user, settings, request.headers.get("user-agent"))
    _set_cookie(response, request, settings, raw)
    return row.csrf_token


@router.post("/api/auth/login", summary="Log in: sets the session cookie")
def login(
    body: LoginIn, request: Request, response: Response, db: DbSession, settings: SettingsDep
) -> dict[str, Any]:
    check_same_origin(request)
    user = service.login(db, settings, body.email, body.password, _client(request))
    old = session_from_cookie(request, db)
    if old is not None:
        service.revoke_session(db, old)
    return _me(user, _start_session(db, request, response, settings, user))


@router.post("/api/auth/logout", summary="Log out: revokes the session server-side")
def logout(
    request: Request, response: Response, db: DbSession, settings: SettingsDep, _: PrincipalDep
) -> dict[str, Any]:
    row = _cookie_session(request)
    if row is not None:
        service.revoke_session(db, row)
    _clear_cookie(response, request, settings)
    return {"authenticated": False}


@router.get("/api/auth/me", summary="Who am I: the account, roles and CSRF token")
def me(request: Request, db: DbSession, principal: PrincipalDep) -> dict[str, Any]:
    if principal.anonymous:
        return {"authenticated": False}
    user = _current_user(db, principal)
    row = _cookie_session(request)
    return _me(user, row.csrf_token if row else None)


@router.post("/api/auth/password", summary="Change your password (revokes other sessions)")
def change_password(
    body: PasswordChangeIn,
    request: Request,
    response: Response,
    db: DbSession,
    settings: SettingsDep,
    user: MeDep,
) -> dict[str, Any]:
    service.change_password(
        db, settings, user, body.current_password, body.new_password, _client(request)
    )
    # every session and token is revoked; a browser keeps working with a fresh session
    csrf = None
    if _cookie_session(request) is not None:
        csrf = _start_session(db, request, response, settings, user)
    return _me(user, csrf)


@router.post("/api/auth/reset/{token}", summary="Set a new password with a one-time link")
def reset_password(
    body: ResetIn,
    request: Request,
    db: DbSession,
    token: Annotated[str, Path(max_length=200, description="The token after `/reset#`.")],
) -> dict[str, Any]:
    check_same_origin(request)
    user = service.consume_reset(db, token, body.password)
    return {"ok": True, "email": user.email}


# --- own API tokens and sessions -----------------------------------------------------


def _token_out(row: ApiToken) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": row.name,
        "created_at": _iso(row.created_at),
        "last_used_at": _iso(row.last_used_at),
    }


@router.get("/api/auth/tokens", summary="Your API tokens (without their secrets)")
def list_tokens(db: DbSession, user: MeDep) -> list[dict[str, Any]]:
    return [_token_out(t) for t in service.list_tokens(db, user)]


@router.post("/api/auth/tokens", status_code=201, summary="Create an API token (shown once)")
def create_token(body: TokenIn, request: Request, db: DbSession, user: MeDep) -> dict[str, Any]:
    if _cookie_session(request) is None:
        # a leaked token must not be able to mint tokens that outlive its revocation
        raise Forbidden("API tokens are created from a logged-in session or `twin tokens`")
    raw, row = service.create_token(db, user, body.name)
    return {**_token_out(row), "token": raw}


@router.delete("/api/auth/tokens/{token_id}", status_code=204, summary="Revoke an API token")
def revoke_token(
    db: DbSession, user: MeDep, token_id: Annotated[int, Path(description="The token's id.")]
) -> Response:
    service.revoke_token(db, user, token_id)
    return Response(status_code=204)


@router.get("/api/auth/sessions", summary="Your open login sessions")
def list_sessions(request: Request, db: DbSession, user: MeDep) -> list[dict[str, Any]]:
    current = _cookie_session(request)
    return [
        {
            "id": s.id_hash,
            "current": current is not None and s.id_hash == current.id_hash,
            "created_at": _iso(s.created_at),
            "expires_at": _iso(s.expires_at),
            "user_agent": s.user_agent,
        }
        for s in service.list_sessions(db, user)
    ]


@router.delete("/api/auth/sessions/{session_id}", status_code=204, summary="Revoke a session")
def revoke_session(
    request: Request,
    db: DbSession,
    settings: SettingsDep,
    user: MeDep,
    session_id: Annotated[
        str, Path(pattern="^[0-9a-f]{64}$", description="The `id` from the session list.")
    ],
) -> Response:
    service.revoke_own_session(db, user, session_id)
    response = Response(status_code=204)
    current = _cookie_session(request)
    if current is not None and current.id_hash == session_id:
        _clear_cookie(response, request, settings)
    return response


# --- user administration (admins only) ----------------------------------------------


def _user_by_id(
    db: DbSession, _: AdminDep, user_id: Annotated[int, Path(description="The account's id.")]
) -> User:
    user = db.get(User, user_id)
    if user is None:
        raise NotFound(f"no account with id {user_id}")
    return user


UserDep = Annotated[User, Depends(_user_by_id)]


@router.get("/api/users", summary="All accounts with their roles (admins)")
def list_users(db: DbSession, _: AdminDep) -> list[dict[str, Any]]:
    return [user_out(u) for u in db.scalars(select(User).order_by(User.email))]


@router.post("/api/users", status_code=201, summary="Create an account (admins)")
def create_user(body: UserIn, db: DbSession, _: AdminDep) -> dict[str, Any]:
    user = service.create_user(
        db,
        body.email,
        password=body.password,
        display_name=body.display_name,
        is_admin=body.is_admin,
        roles=body.roles,
    )
    return user_out(user)


@router.patch("/api/users/{user_id}", summary="Change roles, admin flag or active (admins)")
def update_user(body: UserPatch, db: DbSession, user: UserDep) -> dict[str, Any]:
    given = body.model_fields_set
    service.update_user(
        db,
        user,
        roles=body.roles if "roles" in given else None,
        is_admin=body.is_admin,
        active=body.active,
        display_name=(body.display_name or "") if "display_name" in given else None,
    )
    return user_out(user)


@router.post("/api/users/{user_id}/reset-link", summary="Issue a one-time reset link (admins)")
def reset_link(db: DbSession, user: UserDep, admin: AdminDep) -> dict[str, Any]:
    raw, row = service.issue_reset(db, user, admin.user_id)
    return {"url": f"/reset#{raw}", "token": raw, "expires_at": _iso(row.expires_at)}
