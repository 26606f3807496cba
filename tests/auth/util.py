"""Helpers for the accounts tests."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

PASSWORD = "correct horse battery"
NEW_PASSWORD = "a much better passphrase"
HELSINGBORG, LANDSKRONA = "1283", "1282"


def login(client: TestClient, email: str, password: str = PASSWORD) -> str:
    """Log ``client`` in; returns the session's CSRF token."""
    r = client.post("/api/auth/login", json={"email": email, "password": password})
    assert r.status_code == 200, r.text
    token: str = r.json()["csrf_token"]
    return token


def me(client: TestClient, **headers: str) -> dict[str, Any]:
    r = client.get("/api/auth/me", headers=headers)
    assert r.status_code == 200, r.text
    out: dict[str, Any] = r.json()
    return out
