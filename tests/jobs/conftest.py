"""Fixtures for the import-job tests: an app on a fresh data directory, accounts with
API tokens (admin, GIS and editor staff of Helsingborg, GIS staff of Landskrona), and
helpers to upload files and run the queue the way a worker does."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI
from fastapi.testclient import TestClient

from twin.app import create_app
from twin.auth import passwords, service
from twin.jobs import queue, worker
from twin.settings import Settings
from twin.store import Store

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "data" / "demo" / "delft.city.json"
HELSINGBORG, LANDSKRONA = "1283", "1282"


@pytest.fixture(autouse=True)
def cheap_hasher() -> Iterator[None]:
    old = passwords.use_hasher(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    yield
    passwords.use_hasher(old)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        database_url=f"sqlite:///{tmp_path / 'twin.db'}",
        viewer_dir=tmp_path / "no-viewer",
        upload_max_bytes=4_000_000,
        archive_max_bytes=8_000_000,
        archive_max_entries=50,
        archive_max_ratio=100,
    )


@pytest.fixture
def app(settings: Settings) -> Iterator[FastAPI]:
    app = create_app(settings)
    yield app
    app.state.db.dispose()


@pytest.fixture
def store(app: FastAPI) -> Store:
    s: Store = app.state.store
    return s


@pytest.fixture
def anon(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as c:
        yield c


@pytest.fixture
def client_for(app: FastAPI) -> Iterator[Callable[..., TestClient]]:
    """A client authenticated by an API token of a new account with the given roles."""
    made: list[TestClient] = []

    def make(email: str, *, is_admin: bool = False, roles: dict[str, list[str]] | None = None):
        with app.state.db.session() as db:
            user = service.create_user(db, email, password=None, is_admin=is_admin, roles=roles)
            token, _ = service.create_token(db, user, "test")
        c = TestClient(app, headers={"Authorization": f"Bearer {token}"})
        made.append(c)
        return c

    yield make
    for c in made:
        c.close()


@pytest.fixture
def gis(client_for: Callable[..., TestClient]) -> TestClient:
    return client_for("gis@helsingborg.se", roles={HELSINGBORG: ["gis"]})


def upload(
    client: TestClient,
    layer: str,
    data: bytes | Path = DEMO,
    *,
    filename: str = "delft.city.json",
    **fields: Any,
) -> Any:
    body = data.read_bytes() if isinstance(data, Path) else data
    form = {k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in fields.items()}
    return client.post(
        f"/api/layers/{layer}/imports",
        files={"file": (filename, io.BytesIO(body), "application/octet-stream")},
        data=form,
    )


def drain(store: Store, settings: Settings) -> int:
    """Run every queued job as a worker does (each conversion in a child process)."""
    count = 0
    while (claimed := queue.claim(store)) is not None:
        worker.run_claimed(store, *claimed, settings=settings)
        count += 1
    return count
