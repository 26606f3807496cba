"""Hostile bodies: a 1 MB password, chunked bodies without a length, over-long fields.
None of them may reach the password hasher. On SQLite and PostgreSQL."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient

from layers.accounts import User
from twin.auth import passwords

from .util import PASSWORD, login


class NoHashing(PasswordHasher):
    def hash(self, *args: object, **kwargs: object) -> str:
        raise AssertionError("the password hasher was called")

    def verify(self, *args: object, **kwargs: object) -> bool:  # type: ignore[override]
        raise AssertionError("the password hasher was called")


@pytest.fixture
def no_hashing() -> Iterator[None]:
    old = passwords.use_hasher(NoHashing())
    yield
    passwords.use_hasher(old)


MB_PASSWORD = {"email": "ada@example.org", "password": "x" * 1_000_000}


@pytest.mark.usefixtures("no_hashing")
@pytest.mark.parametrize("path", ["/api/auth/login", "/api/auth/reset/some-token"])
def test_a_megabyte_password_is_refused_before_hashing(client: TestClient, path: str) -> None:
    t0 = time.monotonic()
    r = client.post(path, json=MB_PASSWORD)
    assert r.status_code == 413
    assert r.json()["code"] == "payload_too_large"
    assert time.monotonic() - t0 < 2


@pytest.mark.usefixtures("no_hashing")
def test_a_chunked_body_without_length_is_counted(client: TestClient) -> None:
    data = json.dumps(MB_PASSWORD).encode()
    sent = 0

    def chunks() -> Iterator[bytes]:
        nonlocal sent
        for i in range(0, len(data), 16384):
            sent += 1
            yield data[i : i + 16384]

    r = client.post(
        "/api/auth/login", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert r.status_code == 413
    assert "content-length" not in {k.lower() for k in r.request.headers}


@pytest.mark.usefixtures("no_hashing")
def test_a_password_over_the_cap_is_a_422_without_hashing(
    client: TestClient, make_user: Callable[..., User]
) -> None:
    r = client.post(
        "/api/auth/login",
        json={"email": "ada@example.org", "password": "x" * (passwords.MAX_LENGTH + 1)},
    )
    assert r.status_code == 422
    r = client.post("/api/auth/login", json={"email": "a" * 300 + "@x.org", "password": "x"})
    assert r.status_code == 422


def test_a_password_at_the_cap_still_works(
    client: TestClient, make_user: Callable[..., User]
) -> None:
    long = "é" * passwords.MAX_LENGTH
    make_user("ada@example.org", password=long)
    login(client, "ada@example.org", long)
    r = client.post("/api/auth/login", json={"email": "ada@example.org", "password": PASSWORD})
    assert r.status_code == 401


def test_malformed_login_bodies_are_422(client: TestClient) -> None:
    for content in (b"{", b"[]", b'{"email": 1}', b'{"email": "a@b.se"}'):
        r = client.post(
            "/api/auth/login", content=content, headers={"Content-Type": "application/json"}
        )
        assert r.status_code == 422, content
