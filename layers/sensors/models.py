"""Sensor tables after the OGC SensorThings entity model (Thing, Location, Sensor,
ObservedProperty, Datastream, Observation) plus the HTTP ingest sources.

Locations are GeoJSON points in WGS 84 (lon, lat[, height]) with the coordinates also in
plain columns, so the schema is the same on SQLite and PostgreSQL without PostGIS.
Each datastream carries its latest observation denormalised (id, time, result, state), so
listing datastreams with their current values is one query.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import Base, UTCDateTime, utcnow

VISIBILITIES = ("public", "internal")
DIRECTIONS = ("above", "below")
STATES = ("ok", "warning", "alarm")
OM_MEASUREMENT = "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_Measurement"

#: 64-bit ids on PostgreSQL; SQLite's rowid is already 64-bit (and must be INTEGER).
BigId = BigInteger().with_variant(Integer(), "sqlite")


class Location(Base):
    __tablename__ = "sensor_location"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    #: GeoJSON Point, WGS 84: {"type": "Point", "coordinates": [lon, lat(, height)]}
    location: Mapped[dict[str, Any]] = mapped_column(JSON)
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    height: Mapped[float | None] = mapped_column(Float)


class Thing(Base):
    __tablename__ = "sensor_thing"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    properties: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    organisation: Mapped[str] = mapped_column(ForeignKey("municipality.code"), index=True)
    #: the current location (SensorThings keeps the history in HistoricalLocations)
    location_id: Mapped[int | None] = mapped_column(
        ForeignKey("sensor_location.id", ondelete="SET NULL")
    )
    #: optional link to an object of a tileset layer (its feature id in that layer)
    layer: Mapped[str | None] = mapped_column(String(63))
    object_id: Mapped[str | None] = mapped_column(String(200))
    #: optional link to a catalogue project
    project_id: Mapped[int | None] = mapped_column(ForeignKey("project.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    location: Mapped[Location | None] = relationship(lazy="joined")


class Sensor(Base):
    __tablename__ = "sensor_sensor"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    encoding_type: Mapped[str] = mapped_column(String(100), default="text/plain")
    #: a datasheet URL or description (SensorThings ``metadata``)
    sensor_metadata: Mapped[str] = mapped_column("metadata", Text, default="")


class ObservedProperty(Base):
    __tablename__ = "sensor_observed_property"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    definition: Mapped[str] = mapped_column(String(500), default="")
    description: Mapped[str] = mapped_column(Text, default="")


class Datastream(Base):
    __tablename__ = "datastream"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: a unique slug sources may use instead of the id, e.g. "aberdeen-5331-pm10"
    key: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    unit_name: Mapped[str] = mapped_column(String(100), default="")
    unit_symbol: Mapped[str] = mapped_column(String(40), default="")
    unit_definition: Mapped[str] = mapped_column(String(500), default="")
    observation_type: Mapped[str] = mapped_column(String(200), default=OM_MEASUREMENT)
    visibility: Mapped[str] = mapped_column(String(10), default="internal", index=True)
    organisation: Mapped[str] = mapped_column(ForeignKey("municipality.code"), index=True)
    thing_id: Mapped[int] = mapped_column(ForeignKey("sensor_thing.id"), index=True)
    sensor_id: Mapped[int] = mapped_column(ForeignKey("sensor_sensor.id"))
    observed_property_id: Mapped[int] = mapped_column(ForeignKey("sensor_observed_property.id"))
    warning_level: Mapped[float | None] = mapped_column(Float)
    alarm_level: Mapped[float | None] = mapped_column(Float)
    direction: Mapped[str] = mapped_column(String(5), default="above")  # above | below
    #: a recorded replay (demo), not live measurements: labelled so everywhere
    replay: Mapped[bool] = mapped_column(Boolean, default=False)
    # The latest observation by phenomenon time, denormalised for cheap listing.
    latest_id: Mapped[int | None] = mapped_column(BigId)
    latest_time: Mapped[datetime | None] = mapped_column(UTCDateTime)
    latest_result: Mapped[float | None] = mapped_column(Float)
    latest_state: Mapped[str | None] = mapped_column(String(7))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    thing: Mapped[Thing] = relationship(lazy="joined")
    sensor: Mapped[Sensor] = relationship(lazy="joined")
    observed_property: Mapped[ObservedProperty] = relationship(lazy="joined")

    @property
    def public(self) -> bool:
        return self.visibility == "public"


class Observation(Base):
    __tablename__ = "observation"
    __table_args__ = (
        # Re-sent observations are stored once: by the source's id when it gives one,
        # else by (datastream, phenomenon time).
        UniqueConstraint("datastream_id", "idempotency_key", name="uq_observation_datastream_idem"),
        Index(
            "uq_observation_datastream_time_unkeyed",
            "datastream_id",
            "phenomenon_time",
            unique=True,
            sqlite_where=text("idempotency_key IS NULL"),
            postgresql_where=text("idempotency_key IS NULL"),
        ),
        Index("ix_observation_datastream_time", "datastream_id", "phenomenon_time"),
        # The stream polls ``id > last``: the primary key serves it. Ids are never
        # reused on SQLite (AUTOINCREMENT), so a resumed stream never skips a new one.
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    datastream_id: Mapped[int] = mapped_column(ForeignKey("datastream.id", ondelete="CASCADE"))
    phenomenon_time: Mapped[datetime] = mapped_column(UTCDateTime)
    result_time: Mapped[datetime | None] = mapped_column(UTCDateTime)
    result: Mapped[float] = mapped_column(Float)
    state: Mapped[str | None] = mapped_column(String(7))  # ok | warning | alarm | None
    idempotency_key: Mapped[str | None] = mapped_column(String(200))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class IngestSource(Base):
    """Something that pushes observations over HTTP with its own API key (stored hashed).

    It may write the datastreams of its organisation, or only those listed in
    ``datastream_ids`` when that is set.
    """

    __tablename__ = "ingest_source"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    organisation: Mapped[str] = mapped_column(ForeignKey("municipality.code"), index=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    datastream_ids: Mapped[list[int] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    rotated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
