"""Creating and changing datastreams (with their thing, sensor and observed property).

``DatastreamIn`` is what an editor sends: the thing, sensor and observed property either
by id (``{"id": 3}``) or inline. An inline observed property with the same definition
(or, without one, the same name) as an existing one reuses it, so datastreams of one
phenomenon share it. Permissions come from :mod:`layers.sensors.rules`.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..catalogue.models import Municipality, Project
from ..catalogue.rules import Principal
from .errors import InvalidSensorData, SensorConflict, SensorForbidden
from .models import OM_MEASUREMENT, Datastream, Location, ObservedProperty, Sensor, Thing
from .rules import Action, can
from .service import thresholds_of

KEY_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{0,99}$")


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Ref(_In):
    id: int


class Unit(_In):
    name: str = Field("", max_length=100)
    symbol: str = Field("", max_length=40)
    definition: str = Field("", max_length=500)


class PointIn(_In):
    type: Literal["Point"]
    coordinates: list[float] = Field(min_length=2, max_length=3)

    @field_validator("coordinates")
    @classmethod
    def _lon_lat(cls, v: list[float]) -> list[float]:
        if not all(math.isfinite(c) for c in v):
            raise ValueError("coordinates must be finite numbers")
        if not (-180 <= v[0] <= 180 and -90 <= v[1] <= 90):
            raise ValueError("a position is [lon, lat(, height)] in WGS 84 degrees")
        return v


class ThingIn(_In):
    name: str = Field(min_length=1, max_length=200)
    description: str = Field("", max_length=5000)
    properties: dict[str, Any] = Field(default_factory=dict)
    location: PointIn | None = None
    layer: str | None = Field(None, max_length=63)
    object_id: str | None = Field(None, max_length=200)
    project_id: int | None = None


class SensorIn(_In):
    name: str = Field(min_length=1, max_length=200)
    description: str = Field("", max_length=5000)
    encoding_type: str = Field("text/plain", max_length=100)
    metadata: str = Field("", max_length=2000)


class ObservedPropertyIn(_In):
    name: str = Field(min_length=1, max_length=200)
    definition: str = Field("", max_length=500)
    description: str = Field("", max_length=5000)


class ThresholdsIn(_In):
    warning: float | None = None
    alarm: float | None = None
    direction: Literal["above", "below"] = "above"

    @model_validator(mode="after")
    def _ordered(self) -> ThresholdsIn:
        for level in (self.warning, self.alarm):
            if level is not None and not math.isfinite(level):
                raise ValueError("threshold levels must be finite numbers")
        if self.warning is not None and self.alarm is not None:
            wrong = (
                self.warning > self.alarm
                if self.direction == "above"
                else self.warning < self.alarm
            )
            if wrong:
                raise ValueError(
                    "the warning level must come before the alarm level in the direction "
                    f"{self.direction!r}"
                )
        return self


class DatastreamIn(_In):
    key: str = Field(description="A unique slug: lower-case letters, digits, '.', '_', '-'.")
    name: str = Field(min_length=1, max_length=200)
    description: str = Field("", max_length=5000)
    unit: Unit = Field(default_factory=Unit)
    observation_type: str = Field(OM_MEASUREMENT, max_length=200)
    visibility: Literal["public", "internal"] = "internal"
    organisation: str | None = Field(None, description="Owner's code; default: your only one.")
    thing: Ref | ThingIn
    sensor: Ref | SensorIn
    observed_property: Ref | ObservedPropertyIn
    thresholds: ThresholdsIn = Field(default_factory=ThresholdsIn)
    replay: bool = False

    @field_validator("key")
    @classmethod
    def _slug(cls, v: str) -> str:
        if not KEY_PATTERN.match(v):
            raise ValueError("a key is 1-100 of a-z, 0-9, '.', '_', '-', starting alphanumeric")
        if v.isdigit():
            raise ValueError("a key must not be all digits (it would read as an id)")
        return v


class DatastreamPatch(_In):
    name: str | None = Field(None, min_length=1, max_length=200)
    description: str | None = Field(None, max_length=5000)
    visibility: Literal["public", "internal"] | None = None
    thresholds: ThresholdsIn | None = None


def _organisation(session: Session, principal: Principal, wanted: str | None) -> str:
    if wanted is None:
        if len(principal.editor_of) != 1:
            raise InvalidSensorData("say which organisation owns it", field="organisation")
        wanted = next(iter(principal.editor_of))
    if session.get(Municipality, wanted) is None:
        raise InvalidSensorData(f"no organisation {wanted!r}", field="organisation")
    if not can(principal, Action.CREATE, organisation=wanted):
        raise SensorForbidden(f"you may not create datastreams of {wanted!r}")
    return wanted


def _thing(session: Session, spec: Ref | ThingIn, organisation: str) -> Thing:
    if isinstance(spec, Ref):
        thing = session.get(Thing, spec.id)
        if thing is None or thing.organisation != organisation:
            raise InvalidSensorData(f"no thing {spec.id} of {organisation!r}", field="thing")
        return thing
    if spec.project_id is not None and session.get(Project, spec.project_id) is None:
        raise InvalidSensorData(f"no project {spec.project_id}", field="thing.project_id")
    location = None
    if spec.location is not None:
        c = spec.location.coordinates
        location = Location(
            name=spec.name,
            location={"type": "Point", "coordinates": c},
            lon=c[0],
            lat=c[1],
            height=c[2] if len(c) > 2 else None,
        )
    return Thing(
        name=spec.name,
        description=spec.description,
        properties=spec.properties,
        organisation=organisation,
        location=location,
        layer=spec.layer,
        object_id=spec.object_id,
        project_id=spec.project_id,
    )


def _sensor(session: Session, spec: Ref | SensorIn) -> Sensor:
    if isinstance(spec, Ref):
        sensor = session.get(Sensor, spec.id)
        if sensor is None:
            raise InvalidSensorData(f"no sensor {spec.id}", field="sensor")
        return sensor
    return Sensor(
        name=spec.name,
        description=spec.description,
        encoding_type=spec.encoding_type,
        sensor_metadata=spec.metadata,
    )


def _observed_property(session: Session, spec: Ref | ObservedPropertyIn) -> ObservedProperty:
    if isinstance(spec, Ref):
        prop = session.get(ObservedProperty, spec.id)
        if prop is None:
            raise InvalidSensorData(f"no observed property {spec.id}", field="observed_property")
        return prop
    same = (
        ObservedProperty.definition == spec.definition
        if spec.definition
        else ObservedProperty.name == spec.name
    )
    existing = session.scalars(select(ObservedProperty).where(same).limit(1)).first()
    return existing or ObservedProperty(
        name=spec.name, definition=spec.definition, description=spec.description
    )


def create_datastream(session: Session, principal: Principal, spec: DatastreamIn) -> Datastream:
    """A new datastream (and thing, sensor, observed property where inline); commits."""
    organisation = _organisation(session, principal, spec.organisation)
    if session.scalar(select(Datastream.id).where(Datastream.key == spec.key)) is not None:
        raise SensorConflict(f"the key {spec.key!r} is taken", field="key")
    ds = Datastream(
        key=spec.key,
        name=spec.name,
        description=spec.description,
        unit_name=spec.unit.name,
        unit_symbol=spec.unit.symbol,
        unit_definition=spec.unit.definition,
        observation_type=spec.observation_type,
        visibility=spec.visibility,
        organisation=organisation,
        thing=_thing(session, spec.thing, organisation),
        sensor=_sensor(session, spec.sensor),
        observed_property=_observed_property(session, spec.observed_property),
        warning_level=spec.thresholds.warning,
        alarm_level=spec.thresholds.alarm,
        direction=spec.thresholds.direction,
        replay=spec.replay,
    )
    session.add(ds)
    session.commit()
    return ds


def update_datastream(
    session: Session, principal: Principal, ds: Datastream, patch: DatastreamPatch
) -> Datastream:
    """Change name, description, visibility or thresholds; commits.

    New thresholds re-evaluate the latest value's state (the state stored with each
    past observation stays what it was when it arrived).
    """
    if not can(principal, Action.UPDATE, organisation=ds.organisation):
        raise SensorForbidden("you may not change this datastream")
    if patch.name is not None:
        ds.name = patch.name
    if patch.description is not None:
        ds.description = patch.description
    if patch.visibility is not None:
        ds.visibility = patch.visibility
    if patch.thresholds is not None:
        ds.warning_level = patch.thresholds.warning
        ds.alarm_level = patch.thresholds.alarm
        ds.direction = patch.thresholds.direction
        if ds.latest_result is not None:
            ds.latest_state = thresholds_of(ds).state(ds.latest_result)
    ds.updated_at = datetime.now(UTC)
    session.commit()
    return ds
