"""A catalogue app on each database backend, with accounts and API tokens made directly
in the database (no login flow), and helpers to make projects quickly."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from layers.accounts import ApiToken, Role, User
from layers.catalogue import service
from layers.catalogue.models import Project
from layers.catalogue.rules import Principal
from layers.catalogue.schemas import ProjectIn
from twin.app import create_app
from twin.auth.deps import token_hash
from twin.db import Database
from twin.settings import Settings

A = "1283"  # Helsingborg
B = "1284"  # Höganäs

#: name -> (is_admin, {municipality: [roles]})
ACCOUNTS: dict[str, tuple[bool, dict[str, list[str]]]] = {
    "editor_a": (False, {A: ["editor"]}),
    "editor_b": (False, {B: ["editor"]}),
    "gis_a": (False, {A: ["gis"]}),
    "admin": (True, {}),
    "no_role": (False, {}),
}


def project_in(**kw: Any) -> dict[str, Any]:
    """A valid ProjectIn body (JSON), with ``kw`` replacing fields."""
    body: dict[str, Any] = {
        "title_sv": "Smarta parkeringssensorer",
        "summary_sv": "Sensorer visar lediga platser",
        "description": "Ett **test**.",
        "municipalities": [A],
        "categories": ["mobility"],
        "status": "ongoing",
        "start_date": "2024-03-01",
        "end_date": "2025-06-30",
        "contact": "Anna Andersson, anna@example.org",
        "tags": ["parkering", "iot"],
        "geometries": [{"type": "Point", "coordinates": [12.70, 56.05]}],
        "public": True,
    }
    body.update(kw)
    return body


@dataclass
class Env:
    client: TestClient
    db: Database
    data_dir: Path
    settings: Settings
    tokens: dict[str, str] = field(default_factory=dict)
    principals: dict[str, Principal] = field(default_factory=dict)
    user_ids: dict[str, int] = field(default_factory=dict)

    def auth(self, who: str) -> dict[str, str]:
        """Headers for ``who`` (``anonymous`` sends none)."""
        if who == "anonymous":
            return {}
        return {"Authorization": f"Bearer {self.tokens[who]}"}

    def make(self, owners: tuple[str, ...] = (A,), public: bool = True, **kw: Any) -> Project:
        """A project created by an administrator, straight through the service."""
        data = ProjectIn.model_validate(
            project_in(municipalities=list(owners), public=public, **kw)
        )
        with self.db.session() as s:
            return service.create_project(s, self.principals["admin"], data)

    def get(self, project_id: int) -> Project | None:
        with self.db.session() as s:
            return s.get(Project, project_id)


@pytest.fixture
def env(database_url: str, tmp_path: Path) -> Iterator[Env]:
    settings = Settings(data_dir=tmp_path / "data", database_url=database_url)
    app = create_app(settings)
    db: Database = app.state.db
    e = Env(TestClient(app), db, settings.data_dir, settings)
    with db.session() as s:
        for name, (is_admin, roles) in ACCOUNTS.items():
            user = User(email=f"{name}@example.org", display_name=name, is_admin=is_admin)
            user.roles = [
                Role(municipality_code=code, role=r) for code, rs in roles.items() for r in rs
            ]
            s.add(user)
            s.flush()
            token = f"tok-{name}-secret"
            s.add(ApiToken(user_id=user.id, token_hash=token_hash(token), security_stamp=0))
            e.tokens[name] = token
            e.user_ids[name] = user.id
            e.principals[name] = Principal(
                user_id=user.id,
                is_admin=is_admin,
                editor_of=frozenset(c for c, rs in roles.items() if "editor" in rs),
                gis_of=frozenset(c for c, rs in roles.items() if "gis" in rs),
            )
        s.commit()
    e.principals["anonymous"] = Principal()
    try:
        yield e
    finally:
        e.client.close()
        db.dispose()
