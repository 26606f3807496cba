"""What revokes a session or token: password change, role change, deactivation; and
the owner revoking their own sessions and tokens. On SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from layers.accounts import ApiToken, User

from .util import HELSINGBORG, LANDSKRONA, NEW_PASSWORD, PASSWORD, login, me

Maker = Callable[..., TestClient]


def _token(client: TestClient, csrf: str, name: str = "script") -> tuple[int, str]:
    r = client.post("/api/auth/tokens", json={"name": name}, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 201, r.text
    return r.json()["id"], r.json()["token"]


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_password_change_revokes_other_sessions_and_tokens(
    client: TestClient, new_client: Maker, make_user: Callable[..., User]
) -> None:
    make_user("ada@example.org")
    csrf = login(client, "ada@example.org")
    laptop = new_client()
    login(laptop, "ada@example.org")
    _, token = _token(client, csrf)
    assert me(new_client(), **_bearer(token))["authenticated"] is True

    r = client.post(
        "/api/auth/password",
        json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
        headers={"X-CSRF-Token": csrf},
    )
    assert r.status_code == 200, r.text
    new_csrf = r.json()["csrf_token"]
    assert new_csrf
    assert new_csrf != csrf
    # this browser got a fresh session; the other one and the token are revoked
    assert me(client)["csrf_token"] == new_csrf
    assert me(laptop) == {"authenticated": False}
    r = new_client().get("/api/auth/me", headers=_bearer(token))
    assert r.status_code == 401
    assert r.json()["code"] == "not_authenticated"
    # the old password is gone, the new one works
    r = new_client().post(
        "/api/auth/login", json={"email": "ada@example.org", "password": PASSWORD}
    )
    assert r.status_code == 401
    login(new_client(), "ada@example.org", NEW_PASSWORD)


def test_password_change_needs_the_current_password_and_a_valid_new_one(
    client: TestClient, make_user: Callable[..., User]
) -> None:
    make_user("ada@example.org")
    csrf = login(client, "ada@example.org")
    h = {"X-CSRF-Token": csrf}
    r = client.post(
        "/api/auth/password",
        json={"current_password": "not it at all", "new_password": NEW_PASSWORD},
        headers=h,
    )
    assert r.status_code == 403
    r = client.post(
        "/api/auth/password",
        json={"current_password": PASSWORD, "new_password": "short"},
        headers=h,
    )
    assert r.status_code == 422
    assert r.json()["code"] == "invalid_password"
    assert me(client)["csrf_token"] == csrf  # nothing changed, nothing revoked
    r = client.post(
        "/api/auth/password",
        json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
    )
    assert r.status_code == 403  # no CSRF token
    assert r.json()["code"] == "csrf_failed"


def test_role_change_revokes_the_users_sessions_and_tokens(
    client: TestClient, new_client: Maker, make_user: Callable[..., User]
) -> None:
    """Decision: any change of roles, of the admin flag or of active revokes; the user
    logs in again and sees the new roles (no session carries stale rights)."""
    make_user("root@example.org", is_admin=True)
    ed = make_user("ed@example.org", roles={HELSINGBORG: ["editor"]})
    login(client, "ed@example.org")
    _, token = _token(client, me(client)["csrf_token"])
    admin = new_client()
    admin_csrf = login(admin, "root@example.org")

    # a change of only the display name revokes nothing
    r = admin.patch(
        f"/api/users/{ed.id}", json={"display_name": "Ed"}, headers={"X-CSRF-Token": admin_csrf}
    )
    assert r.status_code == 200
    assert me(client)["authenticated"] is True

    r = admin.patch(
        f"/api/users/{ed.id}",
        json={"roles": {HELSINGBORG: ["gis"], LANDSKRONA: ["editor"]}},
        headers={"X-CSRF-Token": admin_csrf},
    )
    assert r.status_code == 200, r.text
    assert r.json()["roles"] == {HELSINGBORG: ["gis"], LANDSKRONA: ["editor"]}
    assert me(client) == {"authenticated": False}
    assert new_client().get("/api/auth/me", headers=_bearer(token)).status_code == 401
    login(client, "ed@example.org")
    assert me(client)["roles"] == {HELSINGBORG: ["gis"], LANDSKRONA: ["editor"]}


def test_deactivation_revokes_and_blocks_login(
    client: TestClient, new_client: Maker, make_user: Callable[..., User]
) -> None:
    make_user("root@example.org", is_admin=True)
    ed = make_user("ed@example.org")
    login(client, "ed@example.org")
    admin = new_client()
    csrf = login(admin, "root@example.org")
    r = admin.patch(f"/api/users/{ed.id}", json={"active": False}, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 200
    assert r.json()["active"] is False
    assert me(client) == {"authenticated": False}
    r = client.post("/api/auth/login", json={"email": "ed@example.org", "password": PASSWORD})
    assert r.status_code == 401


def test_api_tokens_are_shown_once_stored_hashed_and_revocable(
    client: TestClient, new_client: Maker, make_user: Callable[..., User], app: FastAPI
) -> None:
    make_user("ada@example.org", roles={HELSINGBORG: ["gis"]})
    csrf = login(client, "ada@example.org")
    token_id, token = _token(client, csrf, "nightly import")
    assert token.startswith("twin_")
    assert len(token) > 40
    listed = client.get("/api/auth/tokens").json()
    assert [t["name"] for t in listed] == ["nightly import"]
    assert token not in str(listed)
    with app.state.db.session() as db:
        row = db.scalar(select(ApiToken).where(ApiToken.id == token_id))
        assert row is not None
        assert token not in (row.token_hash, row.name)
        assert row.last_used_at is None

    script = new_client()  # no cookie: bearer only
    info = me(script, **_bearer(token))
    assert info["authenticated"] is True
    assert info["roles"] == {HELSINGBORG: ["gis"]}
    assert info["csrf_token"] is None
    with app.state.db.session() as db:
        used = db.scalar(select(ApiToken.last_used_at).where(ApiToken.id == token_id))
        assert used is not None

    # a bearer token cannot mint more tokens (a leak must not outlive its revocation)
    r = script.post("/api/auth/tokens", json={"name": "more"}, headers=_bearer(token))
    assert r.status_code == 403
    # bearer requests need no CSRF token: revoke this very token
    r = script.delete(f"/api/auth/tokens/{token_id}", headers=_bearer(token))
    assert r.status_code == 204
    assert script.get("/api/auth/me", headers=_bearer(token)).status_code == 401
    assert client.get("/api/auth/tokens").json() == []
    r = script.get("/api/auth/me", headers=_bearer("twin_made-up"))
    assert r.status_code == 401


def test_cannot_revoke_someone_elses_token_or_session(
    client: TestClient, new_client: Maker, make_user: Callable[..., User]
) -> None:
    make_user("ada@example.org")
    make_user("bob@example.org")
    ada_csrf = login(client, "ada@example.org")
    ada_token_id, ada_token = _token(client, ada_csrf)
    ada_session = client.get("/api/auth/sessions").json()[0]["id"]
    bob = new_client()
    bob_csrf = login(bob, "bob@example.org")
    h = {"X-CSRF-Token": bob_csrf}
    assert bob.delete(f"/api/auth/tokens/{ada_token_id}", headers=h).status_code == 404
    assert bob.delete(f"/api/auth/sessions/{ada_session}", headers=h).status_code == 404
    assert me(client)["authenticated"] is True
    assert me(new_client(), **_bearer(ada_token))["authenticated"] is True


def test_list_and_revoke_own_sessions(
    client: TestClient, new_client: Maker, make_user: Callable[..., User]
) -> None:
    make_user("ada@example.org")
    csrf = login(client, "ada@example.org")
    phone = new_client(headers={"User-Agent": "phone"})
    login(phone, "ada@example.org")
    sessions = client.get("/api/auth/sessions").json()
    assert len(sessions) == 2
    assert sorted(s["current"] for s in sessions) == [False, True]
    other = next(s for s in sessions if not s["current"])
    assert other["user_agent"] == "phone"
    r = client.delete(f"/api/auth/sessions/{other['id']}", headers={"X-CSRF-Token": csrf})
    assert r.status_code == 204
    assert me(phone) == {"authenticated": False}
    assert me(client)["authenticated"] is True
    assert len(client.get("/api/auth/sessions").json()) == 1
    r = client.delete("/api/auth/sessions/not-a-hash", headers={"X-CSRF-Token": csrf})
    assert r.status_code == 422
