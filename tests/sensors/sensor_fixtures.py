"""Fixtures for the sensor core tests (imported by this folder's conftest): an app on a
fresh database (SQLite and PostgreSQL), clients with API tokens of accounts with roles,
datastreams and ingest sources made through the services."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from layers.catalogue.rules import Principal
from layers.sensors import keys
from layers.sensors.datastreams import DatastreamIn, create_datastream
from twin.app import create_app
from twin.auth import service
from twin.settings import Settings

HELSINGBORG, LANDSKRONA = "1283", "1282"
ADMIN = Principal(user_id=0, is_admin=True)


@pytest.fixture
def sensor_settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        viewer_dir=tmp_path / "no-viewer",
        ingest_max_items=50,
    )


@pytest.fixture
def sensor_app(sensor_settings: Settings) -> Iterator[FastAPI]:
    app = create_app(sensor_settings)
    yield app
    app.state.db.dispose()


@pytest.fixture
def anon(sensor_app: FastAPI) -> Iterator[TestClient]:
    with TestClient(sensor_app) as c:
        yield c


@pytest.fixture
def client_for(sensor_app: FastAPI) -> Iterator[Callable[..., TestClient]]:
    """A client authenticated by an API token of a new account with the given roles."""
    made: list[TestClient] = []

    def make(
        email: str, *, is_admin: bool = False, roles: dict[str, list[str]] | None = None
    ) -> TestClient:
        with sensor_app.state.db.session() as db:
            user = service.create_user(db, email, password=None, is_admin=is_admin, roles=roles)
            token, _ = service.create_token(db, user, "test")
        c = TestClient(sensor_app, headers={"Authorization": f"Bearer {token}"})
        made.append(c)
        return c

    yield make
    for c in made:
        c.close()


def datastream_spec(key: str, organisation: str = HELSINGBORG, **extra: Any) -> dict[str, Any]:
    """A complete create body with an inline thing, sensor and observed property."""
    return {
        "key": key,
        "name": f"Datastream {key}",
        "unit": {"name": "microgram per cubic metre", "symbol": "µg/m³"},
        "organisation": organisation,
        "thing": {
            "name": f"Station {key}",
            "location": {"type": "Point", "coordinates": [12.6945, 56.0465, 12.0]},
        },
        "sensor": {"name": "SDS011"},
        "observed_property": {
            "name": "PM10",
            "definition": "http://vocab.nerc.ac.uk/collection/P01/current/PMDNS010/",
        },
        **extra,
    }


@pytest.fixture
def make_datastream(sensor_app: FastAPI) -> Callable[..., int]:
    """Create a datastream as an administrator; returns its id."""

    def make(key: str, organisation: str = HELSINGBORG, **extra: Any) -> int:
        spec = DatastreamIn.model_validate(datastream_spec(key, organisation, **extra))
        with sensor_app.state.db.session() as db:
            return create_datastream(db, ADMIN, spec).id

    return make


@pytest.fixture
def make_source(sensor_app: FastAPI) -> Callable[..., tuple[str, int]]:
    """Create an ingest source; returns (key, source id)."""

    def make(
        name: str, organisation: str = HELSINGBORG, datastreams: list[int | str] | None = None
    ) -> tuple[str, int]:
        with sensor_app.state.db.session() as db:
            key, source = keys.create_source(db, name, organisation, datastreams)
            db.commit()
            return key, source.id

    return make
