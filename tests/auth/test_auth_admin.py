"""User administration and one-time reset links; who may call what. SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import update

from layers.accounts import PasswordReset, User

from .util import HELSINGBORG, NEW_PASSWORD, PASSWORD, login, me

Maker = Callable[..., TestClient]


@pytest.fixture
def admin(client: TestClient, make_user: Callable[..., User]) -> tuple[TestClient, str]:
    make_user("root@example.org", is_admin=True)
    return client, login(client, "root@example.org")


ADMIN_CALLS = [
    ("get", "/api/users", None),
    ("post", "/api/users", {"email": "x@example.org"}),
    ("patch", "/api/users/1", {"active": False}),
    ("post", "/api/users/1/reset-link", None),
]


@pytest.mark.parametrize(("method", "path", "body"), ADMIN_CALLS)
def test_admin_routes_refuse_anonymous_and_non_admins(
    new_client: Maker, make_user: Callable[..., User], method: str, path: str, body: object
) -> None:
    make_user("root@example.org", is_admin=True)
    make_user("ed@example.org", roles={HELSINGBORG: ["editor"]})
    anon = new_client()
    r = anon.request(method, path, json=body)
    assert r.status_code == 401
    ed = new_client()
    csrf = login(ed, "ed@example.org")
    r = ed.request(method, path, json=body, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 403
    assert r.json()["code"] == "forbidden"


def test_admin_creates_lists_and_validates_accounts(admin: tuple[TestClient, str]) -> None:
    c, csrf = admin
    h = {"X-CSRF-Token": csrf}
    r = c.post(
        "/api/users",
        json={"email": "Ed@Example.org", "password": PASSWORD, "roles": {HELSINGBORG: ["editor"]}},
        headers=h,
    )
    assert r.status_code == 201, r.text
    assert r.json()["email"] == "ed@example.org"
    assert r.json()["roles"] == {HELSINGBORG: ["editor"]}
    assert r.json()["has_password"] is True
    assert "password_hash" not in r.text
    emails = [u["email"] for u in c.get("/api/users").json()]
    assert emails == ["ed@example.org", "root@example.org"]

    refused = [
        ({"email": "ed@example.org"}, 409),  # exists (case-insensitively)
        ({"email": "not-an-address"}, 422),
        ({"email": "x@example.org", "roles": {"9999": ["editor"]}}, 422),
        ({"email": "x@example.org", "roles": {HELSINGBORG: ["owner"]}}, 422),
        ({"email": "x@example.org", "password": "short"}, 422),
        ({"email": "x@example.org", "is_admin": True, "surprise": 1}, 422),
    ]
    for body, status in refused:
        r = c.post("/api/users", json=body, headers=h)
        assert r.status_code == status, (body, r.text)
    assert len(c.get("/api/users").json()) == 2


def test_the_last_admin_cannot_demote_or_deactivate_themselves(
    admin: tuple[TestClient, str], app: FastAPI
) -> None:
    c, csrf = admin
    root_id = c.get("/api/auth/me").json()["user"]["id"]
    for body in ({"is_admin": False}, {"active": False}):
        r = c.patch(f"/api/users/{root_id}", json=body, headers={"X-CSRF-Token": csrf})
        assert r.status_code == 409, body
    assert me(c)["is_admin"] is True


def test_reset_link_works_once(
    admin: tuple[TestClient, str], new_client: Maker, make_user: Callable[..., User]
) -> None:
    c, csrf = admin
    ed = make_user("ed@example.org")
    ed_browser = new_client()
    login(ed_browser, "ed@example.org")
    r = c.post(f"/api/users/{ed.id}/reset-link", headers={"X-CSRF-Token": csrf})
    assert r.status_code == 200, r.text
    url = r.json()["url"]
    assert url.startswith("/reset#")
    token = url.split("#", 1)[1]

    anon = new_client()
    r = anon.post(f"/api/auth/reset/{token}", json={"password": "short"})
    assert r.status_code == 422  # a refused password does not use up the link
    r = anon.post(f"/api/auth/reset/{token}", json={"password": NEW_PASSWORD})
    assert r.status_code == 200, r.text
    assert r.json()["email"] == "ed@example.org"
    assert me(ed_browser) == {"authenticated": False}  # sessions from before are revoked
    r = anon.post(f"/api/auth/reset/{token}", json={"password": "yet another passphrase"})
    assert r.status_code == 404
    assert r.json()["code"] == "reset_link_invalid"
    login(new_client(), "ed@example.org", NEW_PASSWORD)
    r = new_client().post("/api/auth/login", json={"email": "ed@example.org", "password": PASSWORD})
    assert r.status_code == 401


def test_expired_unknown_and_superseded_links_fail(
    admin: tuple[TestClient, str], new_client: Maker, make_user: Callable[..., User], app: FastAPI
) -> None:
    c, csrf = admin
    ed = make_user("ed@example.org")
    h = {"X-CSRF-Token": csrf}
    first = c.post(f"/api/users/{ed.id}/reset-link", headers=h).json()["url"].split("#")[1]
    second = c.post(f"/api/users/{ed.id}/reset-link", headers=h).json()["url"].split("#")[1]
    anon = new_client()
    body = {"password": NEW_PASSWORD}
    assert anon.post(f"/api/auth/reset/{first}", json=body).status_code == 404  # superseded
    assert anon.post("/api/auth/reset/made-up-token", json=body).status_code == 404
    with app.state.db.session() as db:
        past = datetime.now(UTC) - timedelta(minutes=1)
        db.execute(update(PasswordReset).values(expires_at=past))
        db.commit()
    r = anon.post(f"/api/auth/reset/{second}", json=body)
    assert r.status_code == 404
    login(new_client(), "ed@example.org", PASSWORD)  # password unchanged
