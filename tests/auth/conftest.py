"""Fixtures for the accounts tests: an app on a fresh database (SQLite and PostgreSQL),
accounts made through the service, and a cheap argon2 hasher so the suite stays fast."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI
from fastapi.testclient import TestClient

from layers.accounts import User
from twin.app import create_app
from twin.auth import passwords, service
from twin.settings import Settings

from .util import PASSWORD


@pytest.fixture(autouse=True)
def cheap_hasher() -> Iterator[PasswordHasher]:
    """The production parameters cost 64 MiB and ~0.1 s per hash; tests need the logic."""
    cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    old = passwords.use_hasher(cheap)
    yield cheap
    passwords.use_hasher(old)


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        viewer_dir=tmp_path / "no-viewer",
        login_attempts=3,
    )


@pytest.fixture
def app(settings: Settings) -> Iterator[FastAPI]:
    app = create_app(settings)
    yield app
    app.state.db.dispose()


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as c:
        yield c


@pytest.fixture
def new_client(app: FastAPI) -> Iterator[Callable[..., TestClient]]:
    """More clients of the same app (other browsers, other addresses, https)."""
    made: list[TestClient] = []

    def make(**kwargs: Any) -> TestClient:
        c = TestClient(app, **kwargs)
        made.append(c)
        return c

    yield make
    for c in made:
        c.close()


@pytest.fixture
def make_user(app: FastAPI) -> Callable[..., User]:
    def make(
        email: str,
        *,
        password: str | None = PASSWORD,
        is_admin: bool = False,
        roles: dict[str, list[str]] | None = None,
    ) -> User:
        with app.state.db.session() as db:
            return service.create_user(
                db, email, password=password, is_admin=is_admin, roles=roles or {}
            )

    return make
