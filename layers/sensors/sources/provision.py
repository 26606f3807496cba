"""Create the Things and Datastreams a source feeds, when missing (idempotent by key).

The demo replay and the SensorThings poller describe what they feed as
:class:`DatastreamSpec` items; :func:`ensure_datastreams` creates the missing ones with
their Thing, Location, Sensor and ObservedProperty, and leaves existing ones as they are
(an administrator's later edits, such as thresholds or visibility, are kept).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import Datastream, Location, ObservedProperty, Sensor, Thing


@dataclass(frozen=True)
class DatastreamSpec:
    key: str
    name: str
    organisation: str
    #: the Thing it belongs to: ``thing_key`` identifies it (kept in its properties)
    thing_key: str
    thing_name: str
    #: WGS 84; None when the source gives no position (the Thing then has no Location)
    lon: float | None
    lat: float | None
    property_name: str
    unit_name: str = ""
    unit_symbol: str = ""
    unit_definition: str = ""
    property_definition: str = ""
    description: str = ""
    thing_description: str = ""
    thing_properties: dict[str, Any] = field(default_factory=dict)
    height: float | None = None
    layer: str | None = None
    object_id: str | None = None
    sensor_name: str = "unknown sensor"
    sensor_description: str = ""
    sensor_metadata: str = ""
    visibility: str = "internal"
    warning_level: float | None = None
    alarm_level: float | None = None
    direction: str = "above"
    replay: bool = False


def _thing(session: Session, spec: DatastreamSpec) -> Thing:
    for thing in session.scalars(select(Thing).where(Thing.organisation == spec.organisation)):
        if (thing.properties or {}).get("source_key") == spec.thing_key:
            return thing
    location = None
    if spec.lon is not None and spec.lat is not None:
        coords = [spec.lon, spec.lat] + ([spec.height] if spec.height is not None else [])
        location = Location(
            name=spec.thing_name,
            location={"type": "Point", "coordinates": coords},
            lon=spec.lon,
            lat=spec.lat,
            height=spec.height,
        )
        session.add(location)
        session.flush()
    thing = Thing(
        name=spec.thing_name,
        description=spec.thing_description,
        properties={**spec.thing_properties, "source_key": spec.thing_key},
        organisation=spec.organisation,
        location_id=location.id if location else None,
        layer=spec.layer,
        object_id=spec.object_id,
    )
    session.add(thing)
    session.flush()
    return thing


def _sensor(session: Session, spec: DatastreamSpec) -> Sensor:
    found = session.scalars(select(Sensor).where(Sensor.name == spec.sensor_name)).first()
    if found is None:
        found = Sensor(
            name=spec.sensor_name,
            description=spec.sensor_description,
            sensor_metadata=spec.sensor_metadata,
        )
        session.add(found)
        session.flush()
    return found


def _property(session: Session, spec: DatastreamSpec) -> ObservedProperty:
    same = (
        ObservedProperty.definition == spec.property_definition
        if spec.property_definition
        else ObservedProperty.name == spec.property_name
    )
    found = session.scalars(select(ObservedProperty).where(same)).first()
    if found is None:
        found = ObservedProperty(name=spec.property_name, definition=spec.property_definition)
        session.add(found)
        session.flush()
    return found


def ensure_datastreams(session: Session, specs: Sequence[DatastreamSpec]) -> dict[str, int]:
    """Every spec's datastream id by key, creating the missing ones. The caller commits."""
    keys = [s.key for s in specs]
    query = select(Datastream.key, Datastream.id).where(Datastream.key.in_(keys))
    ids: dict[str, int] = {key: ds_id for key, ds_id in session.execute(query)}
    for spec in specs:
        if spec.key in ids:
            continue
        ds = Datastream(
            key=spec.key,
            name=spec.name,
            description=spec.description,
            unit_name=spec.unit_name,
            unit_symbol=spec.unit_symbol,
            unit_definition=spec.unit_definition,
            visibility=spec.visibility,
            organisation=spec.organisation,
            thing_id=_thing(session, spec).id,
            sensor_id=_sensor(session, spec).id,
            observed_property_id=_property(session, spec).id,
            warning_level=spec.warning_level,
            alarm_level=spec.alarm_level,
            direction=spec.direction,
            replay=spec.replay,
        )
        session.add(ds)
        session.flush()
        ids[spec.key] = ds.id
    return ids
