"""Migration 0003 on SQLite and PostgreSQL: up, down to 0002 and up again; the unique
rules that make ingestion idempotent are in the database itself."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from alembic import command
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError

from twin.db import Database, alembic_config

SENSOR_TABLES = {
    "sensor_location",
    "sensor_thing",
    "sensor_sensor",
    "sensor_observed_property",
    "datastream",
    "observation",
    "ingest_source",
}


def test_up_down_up(database_url: str) -> None:
    db = Database(database_url)
    try:
        db.setup()
        assert set(inspect(db.engine).get_table_names()) >= SENSOR_TABLES
        cfg = alembic_config(database_url)
        command.downgrade(cfg, "0002")
        db.engine.dispose()
        tables = set(inspect(db.engine).get_table_names())
        assert not SENSOR_TABLES & tables
        assert "layer" in tables  # 0002's tables stay
        command.upgrade(cfg, "head")
        db.engine.dispose()
        assert set(inspect(db.engine).get_table_names()) >= SENSOR_TABLES
    finally:
        db.dispose()


def test_database_refuses_a_second_copy(database_url: str) -> None:
    """Even without the service: one row per (datastream, key) and, for rows without a
    key, per (datastream, phenomenon time)."""
    db = Database(database_url)
    try:
        db.setup()
        t = datetime(2026, 1, 1, tzinfo=UTC)
        with db.engine.begin() as c:
            c.execute(
                text(
                    "INSERT INTO sensor_thing (name, description, properties, organisation, "
                    "created_at) VALUES ('t', '', '{}', '1283', :t)"
                ),
                {"t": t},
            )
            c.execute(
                text(
                    "INSERT INTO sensor_sensor (name, description, encoding_type, metadata) "
                    "VALUES ('s', '', '', '')"
                )
            )
            c.execute(
                text(
                    "INSERT INTO sensor_observed_property (name, definition, description) "
                    "VALUES ('p', '', '')"
                )
            )
            c.execute(
                text(
                    "INSERT INTO datastream (key, name, description, unit_name, unit_symbol, "
                    "unit_definition, observation_type, visibility, organisation, thing_id, "
                    "sensor_id, observed_property_id, direction, replay, created_at, updated_at) "
                    "VALUES ('k', 'n', '', '', '', '', '', 'public', '1283', 1, 1, 1, 'above', "
                    "false, :t, :t)"
                ),
                {"t": t},
            )
        insert = text(
            "INSERT INTO observation (datastream_id, phenomenon_time, result, "
            "idempotency_key, received_at) VALUES (1, :t, 1.0, :k, :t)"
        )
        with db.engine.begin() as c:
            c.execute(insert, {"t": t, "k": None})
            c.execute(insert, {"t": t, "k": "a"})  # a keyed row may share the time
        for key in (None, "a"):
            with pytest.raises(IntegrityError), db.engine.begin() as c:
                c.execute(insert, {"t": t, "k": key})
    finally:
        db.dispose()
