"""Typed shapes of what the sensor API answers (they document /docs; see docs/SENSORS.md).

The values are built by :mod:`layers.sensors.queries`; these models only describe and
check them.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field


class UnitOut(BaseModel):
    name: str
    symbol: str
    definition: str


class RefOut(BaseModel):
    id: int
    name: str


class ObservedPropertyOut(RefOut):
    definition: str


class ThingOut(RefOut):
    location: dict[str, Any] | None = Field(
        description="GeoJSON Point, WGS 84: [lon, lat] or [lon, lat, height]."
    )
    layer: str | None = Field(description="A tileset layer holding the linked object.")
    object_id: str | None = Field(description="The linked object's feature id in that layer.")
    project_id: int | None = Field(description="A linked catalogue project.")


class ThresholdsOut(BaseModel):
    warning: float | None
    alarm: float | None
    direction: Literal["above", "below"]


class LatestOut(BaseModel):
    id: int
    phenomenon_time: str
    result: float
    state: Literal["ok", "warning", "alarm"] | None


class DatastreamOut(BaseModel):
    id: int
    key: str
    name: str
    description: str
    unit: UnitOut
    observation_type: str
    observed_property: ObservedPropertyOut
    sensor: RefOut
    thing: ThingOut
    visibility: Literal["public", "internal"]
    organisation: str
    replay: bool = Field(description="A recorded replay (demo), not live measurements.")
    thresholds: ThresholdsOut
    latest: LatestOut | None


class DatastreamList(BaseModel):
    datastreams: list[DatastreamOut]


class PointOut(BaseModel):
    t: str
    result: float


class BucketOut(BaseModel):
    t: str = Field(description="The bucket's start.")
    min: float
    mean: float
    max: float
    count: int


class ObservationHistory(BaseModel):
    datastream_id: int
    from_: str = Field(alias="from")
    to: str
    downsampled: bool
    bucket_seconds: int | None
    observations: list[PointOut] | list[BucketOut]


class ItemResultOut(BaseModel):
    index: int
    ok: bool
    id: int | None = None
    duplicate: bool | None = None
    code: str | None = None
    message: str | None = None


class IngestOut(BaseModel):
    results: list[ItemResultOut]
    accepted: int
    failed: int
