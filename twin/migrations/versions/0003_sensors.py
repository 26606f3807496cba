"""sensors: things, locations, sensors, observed properties, datastreams,
observations and HTTP ingest sources

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 20:47:17.835859
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sensor_location",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("location", sa.JSON(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("height", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sensor_location")),
    )
    op.create_table(
        "sensor_observed_property",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("definition", sa.String(length=500), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sensor_observed_property")),
    )
    op.create_table(
        "sensor_sensor",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("encoding_type", sa.String(length=100), nullable=False),
        sa.Column("metadata", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sensor_sensor")),
    )
    op.create_table(
        "ingest_source",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("organisation", sa.String(length=8), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("datastream_ids", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("rotated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["organisation"],
            ["municipality.code"],
            name=op.f("fk_ingest_source_organisation_municipality"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ingest_source")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_ingest_source_key_hash")),
        sa.UniqueConstraint("name", name=op.f("uq_ingest_source_name")),
    )
    with op.batch_alter_table("ingest_source", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_ingest_source_organisation"), ["organisation"], unique=False
        )

    op.create_table(
        "sensor_thing",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("properties", sa.JSON(), nullable=False),
        sa.Column("organisation", sa.String(length=8), nullable=False),
        sa.Column("location_id", sa.Integer(), nullable=True),
        sa.Column("layer", sa.String(length=63), nullable=True),
        sa.Column("object_id", sa.String(length=200), nullable=True),
        sa.Column("project_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["location_id"],
            ["sensor_location.id"],
            name=op.f("fk_sensor_thing_location_id_sensor_location"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["organisation"],
            ["municipality.code"],
            name=op.f("fk_sensor_thing_organisation_municipality"),
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["project.id"],
            name=op.f("fk_sensor_thing_project_id_project"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sensor_thing")),
    )
    with op.batch_alter_table("sensor_thing", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sensor_thing_organisation"), ["organisation"], unique=False
        )

    op.create_table(
        "datastream",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("unit_name", sa.String(length=100), nullable=False),
        sa.Column("unit_symbol", sa.String(length=40), nullable=False),
        sa.Column("unit_definition", sa.String(length=500), nullable=False),
        sa.Column("observation_type", sa.String(length=200), nullable=False),
        sa.Column("visibility", sa.String(length=10), nullable=False),
        sa.Column("organisation", sa.String(length=8), nullable=False),
        sa.Column("thing_id", sa.Integer(), nullable=False),
        sa.Column("sensor_id", sa.Integer(), nullable=False),
        sa.Column("observed_property_id", sa.Integer(), nullable=False),
        sa.Column("warning_level", sa.Float(), nullable=True),
        sa.Column("alarm_level", sa.Float(), nullable=True),
        sa.Column("direction", sa.String(length=5), nullable=False),
        sa.Column("replay", sa.Boolean(), nullable=False),
        sa.Column("latest_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("latest_time", sa.DateTime(timezone=True), nullable=True),
        sa.Column("latest_result", sa.Float(), nullable=True),
        sa.Column("latest_state", sa.String(length=7), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["observed_property_id"],
            ["sensor_observed_property.id"],
            name=op.f("fk_datastream_observed_property_id_sensor_observed_property"),
        ),
        sa.ForeignKeyConstraint(
            ["organisation"],
            ["municipality.code"],
            name=op.f("fk_datastream_organisation_municipality"),
        ),
        sa.ForeignKeyConstraint(
            ["sensor_id"], ["sensor_sensor.id"], name=op.f("fk_datastream_sensor_id_sensor_sensor")
        ),
        sa.ForeignKeyConstraint(
            ["thing_id"], ["sensor_thing.id"], name=op.f("fk_datastream_thing_id_sensor_thing")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_datastream")),
        sa.UniqueConstraint("key", name=op.f("uq_datastream_key")),
    )
    with op.batch_alter_table("datastream", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_datastream_organisation"), ["organisation"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_datastream_thing_id"), ["thing_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_datastream_visibility"), ["visibility"], unique=False)

    op.create_table(
        "observation",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("datastream_id", sa.Integer(), nullable=False),
        sa.Column("phenomenon_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("result_time", sa.DateTime(timezone=True), nullable=True),
        sa.Column("result", sa.Float(), nullable=False),
        sa.Column("state", sa.String(length=7), nullable=True),
        sa.Column("idempotency_key", sa.String(length=200), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["datastream_id"],
            ["datastream.id"],
            name=op.f("fk_observation_datastream_id_datastream"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_observation")),
        sa.UniqueConstraint(
            "datastream_id", "idempotency_key", name=op.f("uq_observation_datastream_idem")
        ),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("observation", schema=None) as batch_op:
        batch_op.create_index(
            "ix_observation_datastream_time", ["datastream_id", "phenomenon_time"], unique=False
        )
        batch_op.create_index(
            "uq_observation_datastream_time_unkeyed",
            ["datastream_id", "phenomenon_time"],
            unique=True,
            sqlite_where=sa.text("idempotency_key IS NULL"),
            postgresql_where=sa.text("idempotency_key IS NULL"),
        )


def downgrade() -> None:
    with op.batch_alter_table("observation", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_observation_datastream_time_unkeyed",
            sqlite_where=sa.text("idempotency_key IS NULL"),
            postgresql_where=sa.text("idempotency_key IS NULL"),
        )
        batch_op.drop_index("ix_observation_datastream_time")

    op.drop_table("observation")
    with op.batch_alter_table("datastream", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_datastream_visibility"))
        batch_op.drop_index(batch_op.f("ix_datastream_thing_id"))
        batch_op.drop_index(batch_op.f("ix_datastream_organisation"))

    op.drop_table("datastream")
    with op.batch_alter_table("sensor_thing", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sensor_thing_organisation"))

    op.drop_table("sensor_thing")
    with op.batch_alter_table("ingest_source", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ingest_source_organisation"))

    op.drop_table("ingest_source")
    op.drop_table("sensor_sensor")
    op.drop_table("sensor_observed_property")
    op.drop_table("sensor_location")
