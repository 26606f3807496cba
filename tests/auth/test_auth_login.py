"""Login, logout, cookies, rate limiting and CSRF, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx
from argon2 import PasswordHasher
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from layers.accounts import AuthSession, LoginAttempt, User
from twin.app import create_app
from twin.auth import passwords, service
from twin.auth.deps import token_hash
from twin.settings import Settings

from .util import HELSINGBORG, PASSWORD, login, me

Maker = Callable[..., TestClient]


def _set_cookie(r: httpx.Response) -> str:
    header: str = r.headers["set-cookie"]
    return header


def test_login_sets_a_strict_cookie_and_logout_revokes_it(
    client: TestClient, new_client: Maker, make_user: Callable[..., User], app: FastAPI
) -> None:
    make_user("Ada@Example.org", roles={HELSINGBORG: ["editor"]})
    r = client.post("/api/auth/login", json={"email": " ADA@example.org ", "password": PASSWORD})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["authenticated"] is True
    assert body["user"]["email"] == "ada@example.org"
    assert body["roles"] == {HELSINGBORG: ["editor"]}
    assert body["is_admin"] is False
    cookie = _set_cookie(r)
    assert cookie.startswith("twin_session=")
    flags = {f.strip().lower() for f in cookie.split(";")}
    assert {"httponly", "samesite=lax", "path=/"} <= flags
    assert "secure" not in flags  # plain http
    raw = client.cookies["twin_session"]
    with app.state.db.session() as db:  # only the hash is stored
        assert db.get(AuthSession, token_hash(raw)) is not None
        assert db.scalar(select(func.count()).where(AuthSession.id_hash == raw)) == 0

    info = me(client)
    assert info["authenticated"] is True
    assert info["csrf_token"] == body["csrf_token"]

    r = client.post("/api/auth/logout", headers={"X-CSRF-Token": body["csrf_token"]})
    assert r.status_code == 200
    assert "twin_session=" in _set_cookie(r)
    assert "max-age=0" in _set_cookie(r).lower()
    assert me(client) == {"authenticated": False}

    # the old cookie, replayed by someone who copied it, is dead on the server
    thief = new_client()
    assert me(thief, cookie=f"twin_session={raw}") == {"authenticated": False}
    with app.state.db.session() as db:
        row = db.get(AuthSession, token_hash(raw))
        assert row is not None
        assert row.revoked_at is not None


def test_wrong_password_and_unknown_account_look_the_same(
    client: TestClient, make_user: Callable[..., User]
) -> None:
    make_user("ada@example.org")
    wrong = client.post("/api/auth/login", json={"email": "ada@example.org", "password": "x" * 12})
    unknown = client.post("/api/auth/login", json={"email": "bob@example.org", "password": "x"})
    for r in (wrong, unknown):
        assert r.status_code == 401
        assert r.json() == {"code": "login_failed", "message": "wrong email or password"}
        assert "set-cookie" not in r.headers
    assert me(client) == {"authenticated": False}


def test_account_without_password_or_inactive_cannot_log_in(
    client: TestClient, make_user: Callable[..., User], app: FastAPI
) -> None:
    make_user("nopw@example.org", password=None)
    user = make_user("gone@example.org")
    with app.state.db.session() as db:
        db.execute(update(User).where(User.id == user.id).values(active=False))
        db.commit()
    for email in ("nopw@example.org", "gone@example.org"):
        r = client.post("/api/auth/login", json={"email": email, "password": PASSWORD})
        assert r.status_code == 401, email


def test_guessing_is_rate_limited_even_for_the_right_password(
    client: TestClient, make_user: Callable[..., User], app: FastAPI
) -> None:
    """Decision: while locked (3 failures in the window here), the right password gets a
    429 too; otherwise the one 200 among the 429s would still give the password away."""
    make_user("ada@example.org")
    for _ in range(3):
        r = client.post(
            "/api/auth/login", json={"email": "ada@example.org", "password": "guess1234"}
        )
        assert r.status_code == 401
    r = client.post("/api/auth/login", json={"email": "ada@example.org", "password": PASSWORD})
    assert r.status_code == 429
    assert r.json()["code"] == "rate_limited"
    retry = int(r.headers["retry-after"])
    assert 14 * 60 < retry <= 15 * 60  # login_window_minutes defaults to 15
    assert "set-cookie" not in r.headers
    with app.state.db.session() as db:  # refused attempts are not recorded (no endless lock)
        n = db.scalar(select(func.count()).select_from(LoginAttempt))
        assert n == 6  # 3 x (email, client)

        # the window passes: the failures age out and the right password works again
        past = datetime.now(UTC) - timedelta(minutes=16)
        db.execute(update(LoginAttempt).values(at=past))
        db.commit()
    login(client, "ada@example.org")


def test_rate_limit_counts_per_account_and_per_client_address(
    new_client: Maker, make_user: Callable[..., User]
) -> None:
    make_user("ada@example.org")
    make_user("bob@example.org")
    # one address trying many accounts is locked out ...
    spray = new_client(client=("203.0.113.7", 5000))
    for i in range(3):
        r = spray.post("/api/auth/login", json={"email": f"u{i}@example.org", "password": "x"})
        assert r.status_code == 401
    r = spray.post("/api/auth/login", json={"email": "bob@example.org", "password": PASSWORD})
    assert r.status_code == 429
    # ... and one account guessed from many addresses is locked for every address
    for i in range(3):
        c = new_client(client=(f"198.51.100.{i}", 5000))
        r = c.post("/api/auth/login", json={"email": "ada@example.org", "password": "nope"})
        assert r.status_code == 401
    other = new_client(client=("192.0.2.1", 5000))
    r = other.post("/api/auth/login", json={"email": "ada@example.org", "password": PASSWORD})
    assert r.status_code == 429
    # an untouched account from an untouched address is fine
    login(new_client(client=("192.0.2.2", 5000)), "bob@example.org")


def test_a_successful_login_clears_the_accounts_failures(
    new_client: Maker, make_user: Callable[..., User]
) -> None:
    make_user("ada@example.org")
    for i in range(2):
        c = new_client(client=(f"198.51.100.{i}", 5000))
        assert (
            c.post(
                "/api/auth/login", json={"email": "ada@example.org", "password": "no"}
            ).status_code
            == 401
        )
    login(new_client(client=("192.0.2.9", 5000)), "ada@example.org")
    for i in range(2):
        c = new_client(client=(f"198.51.100.{10 + i}", 5000))
        assert (
            c.post(
                "/api/auth/login", json={"email": "ada@example.org", "password": "no"}
            ).status_code
            == 401
        )
    login(new_client(client=("192.0.2.10", 5000)), "ada@example.org")  # 2 + 2 > 3, not locked


def test_cookie_is_secure_over_https(new_client: Maker, make_user: Callable[..., User]) -> None:
    make_user("ada@example.org")
    https = new_client(base_url="https://testserver")
    r = https.post("/api/auth/login", json={"email": "ada@example.org", "password": PASSWORD})
    assert r.status_code == 200
    flags = {f.strip().lower() for f in _set_cookie(r).split(";")}
    assert {"secure", "httponly", "samesite=lax"} <= flags
    assert me(https)["authenticated"] is True


def test_cookie_secure_setting_overrides_the_scheme(settings: Settings) -> None:
    for secure, base_url in ((True, "http://testserver"), (False, "https://testserver")):
        app = create_app(settings.model_copy(update={"cookie_secure": secure}))
        try:
            with app.state.db.session() as db:
                if service.find_user(db, "ada@example.org") is None:
                    service.create_user(db, "ada@example.org", password=PASSWORD)
            with TestClient(app, base_url=base_url) as c:
                r = c.post(
                    "/api/auth/login", json={"email": "ada@example.org", "password": PASSWORD}
                )
                assert r.status_code == 200
                flags = {f.strip().lower() for f in _set_cookie(r).split(";")}
                assert ("secure" in flags) is secure, base_url
        finally:
            app.state.db.dispose()


def test_login_upgrades_an_outdated_hash(
    client: TestClient, make_user: Callable[..., User], app: FastAPI
) -> None:
    user = make_user("ada@example.org")
    stronger = PasswordHasher(time_cost=2, memory_cost=2048, parallelism=1)
    old = passwords.use_hasher(stronger)
    try:
        login(client, "ada@example.org")
    finally:
        passwords.use_hasher(old)
    with app.state.db.session() as db:
        stored = db.scalar(select(User.password_hash).where(User.id == user.id))
    assert stored is not None
    assert "m=2048,t=2,p=1" in stored


def test_csrf_refuses_cookie_posts_without_token_or_from_another_site(
    client: TestClient, make_user: Callable[..., User]
) -> None:
    make_user("ada@example.org")
    csrf = login(client, "ada@example.org")
    refused = [
        {},
        {"X-CSRF-Token": "wrong"},
        {"X-CSRF-Token": csrf, "Origin": "https://evil.example"},
        {"X-CSRF-Token": csrf, "Origin": "null"},
        {"X-CSRF-Token": csrf, "Sec-Fetch-Site": "cross-site"},
        {"X-CSRF-Token": csrf, "Sec-Fetch-Site": "same-site"},
    ]
    for headers in refused:
        r = client.post("/api/auth/logout", headers=headers)
        assert r.status_code == 403, headers
        assert r.json()["code"] == "csrf_failed"
        assert me(client)["authenticated"] is True, headers  # still logged in
    r = client.post(
        "/api/auth/logout",
        headers={
            "X-CSRF-Token": csrf,
            "Origin": "http://testserver",
            "Sec-Fetch-Site": "same-origin",
        },
    )
    assert r.status_code == 200
    assert me(client) == {"authenticated": False}


def test_login_itself_refuses_cross_site_posts(
    client: TestClient, make_user: Callable[..., User]
) -> None:
    make_user("ada@example.org")
    body = {"email": "ada@example.org", "password": PASSWORD}
    r = client.post("/api/auth/login", json=body, headers={"Sec-Fetch-Site": "cross-site"})
    assert r.status_code == 403
    r = client.post("/api/auth/login", json=body, headers={"Origin": "https://evil.example"})
    assert r.status_code == 403
    assert "set-cookie" not in r.headers
    r = client.post("/api/auth/login", json=body, headers={"Origin": "http://testserver"})
    assert r.status_code == 200
