"""Migrations and reference data on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import func, inspect, select

from layers.catalogue.models import Category, Municipality
from layers.catalogue.seed import CATEGORIES, DEMO_CODE, MUNICIPALITIES
from twin.db import Database


def test_migrate_and_seed_are_idempotent(database_url: str) -> None:
    db = Database(database_url)
    try:
        db.setup()
        db.setup()
        with db.session() as s:
            codes = set(s.scalars(select(Municipality.code)))
            assert codes == {c for c, _, _ in MUNICIPALITIES}
            assert DEMO_CODE not in codes
            assert s.scalar(select(func.count()).select_from(Category)) == len(CATEGORIES)
            assert s.get(Municipality, "1283").name == "Helsingborg"
        tables = set(inspect(db.engine).get_table_names())
        assert {
            "project",
            "user_account",
            "auth_session",
            "project_history",
            "alembic_version",
        } <= tables
    finally:
        db.dispose()


def test_demo_organisation_is_labelled(database_url: str) -> None:
    db = Database(database_url)
    try:
        db.setup(demo=True)
        with db.session() as s:
            demo = s.get(Municipality, DEMO_CODE)
            assert demo is not None
            assert demo.is_demo
            assert "demo" in demo.name.lower()
    finally:
        db.dispose()


def test_migrations_match_the_models(database_url: str) -> None:
    """A model change without its Alembic migration fails here."""
    from alembic import command

    from twin.db import alembic_config

    db = Database(database_url)
    try:
        db.setup()
        command.check(alembic_config(database_url))  # raises when they differ
    finally:
        db.dispose()


def test_timestamps_are_timezone_aware(database_url: str) -> None:
    db = Database(database_url)
    try:
        db.setup()
        with db.session() as s:
            created = s.get(Municipality, "1283").created_at
            assert created.tzinfo is not None
            assert created.utcoffset().total_seconds() == 0
    finally:
        db.dispose()
