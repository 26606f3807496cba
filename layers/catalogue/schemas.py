"""Typed shapes of a project on the way in and out (validation lives here).

``ProjectIn`` is what editors send (API, forms, imports); ``ProjectOut`` is what a reader
gets, with internal fields left out for readers who may not see them
(:mod:`layers.catalogue.rules`). Geometries are GeoJSON in WGS 84 (lon, lat[, height]).
"""

from __future__ import annotations

import math
from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from .models import STATUSES

Status = Literal["idea", "planned", "ongoing", "completed", "paused", "stopped"]
assert set(STATUSES) == set(Status.__args__)  # type: ignore[attr-defined]

GEOMETRY_TYPES = ("Point", "LineString", "Polygon", "MultiPoint", "MultiLineString", "MultiPolygon")
MAX_TEXT = 20_000


class Link(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field("", max_length=200)
    url: str = Field(max_length=2000)

    @field_validator("url")
    @classmethod
    def _http_only(cls, v: str) -> str:
        if not v.lower().startswith(("https://", "http://")):
            raise ValueError("a link must start with https:// or http://")
        return v


def _positions(coords: Any, depth: int) -> list[list[float]]:
    """All positions of a GeoJSON coordinates array nested ``depth`` deep."""
    if depth == 0:
        if (
            not isinstance(coords, list)
            or len(coords) not in (2, 3)
            or not all(isinstance(c, int | float) and not isinstance(c, bool) for c in coords)
        ):
            raise ValueError("a position is [lon, lat] or [lon, lat, height]")
        return [coords]
    if not isinstance(coords, list) or not coords:
        raise ValueError("empty or malformed coordinates")
    return [p for c in coords for p in _positions(c, depth - 1)]


_DEPTH = {
    "Point": 0,
    "MultiPoint": 1,
    "LineString": 1,
    "MultiLineString": 2,
    "Polygon": 2,
    "MultiPolygon": 3,
}


def check_geometry(g: Any) -> dict[str, Any]:
    """Validate one GeoJSON geometry in WGS 84; return it unchanged."""
    if not isinstance(g, dict) or g.get("type") not in GEOMETRY_TYPES:
        raise ValueError(f"geometry type must be one of {', '.join(GEOMETRY_TYPES)}")
    for lon, lat, *h in _positions(g.get("coordinates"), _DEPTH[g["type"]]):
        if not all(math.isfinite(v) for v in (lon, lat, *h)):
            raise ValueError("coordinates must be finite numbers")
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):
            raise ValueError(
                f"[{lon}, {lat}] is not a WGS 84 longitude/latitude "
                "(are the axes swapped or the coordinates projected?)"
            )
    if g["type"] == "Polygon":
        for ring in g["coordinates"]:
            if len(ring) < 4 or ring[0][:2] != ring[-1][:2]:
                raise ValueError("a polygon ring needs 4+ positions, the last equal to the first")
    return {"type": g["type"], "coordinates": g["coordinates"]}


class ProjectIn(BaseModel):
    """A project as an editor writes it."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    title_sv: str = Field(min_length=1, max_length=200)
    title_en: str | None = Field(None, max_length=200)
    summary_sv: str = Field("", max_length=2000)
    summary_en: str | None = Field(None, max_length=2000)
    description: str = Field("", max_length=MAX_TEXT, description="Markdown")
    municipalities: list[str] = Field(
        min_length=1, max_length=20, description="Municipality codes (joint projects: several)"
    )
    categories: list[str] = Field(default_factory=list, max_length=20)
    status: Status = "idea"
    start_date: date | None = None
    end_date: date | None = None
    contact: str | None = Field(None, max_length=500)
    contact_public: bool = False
    partners: list[str] = Field(default_factory=list, max_length=50)
    links: list[Link] = Field(default_factory=list, max_length=20)
    testbed: bool = False
    tags: list[str] = Field(default_factory=list, max_length=30)
    geometries: list[dict[str, Any]] = Field(
        default_factory=list, max_length=50, description="GeoJSON geometries, WGS 84"
    )
    public: bool = False

    @field_validator("geometries")
    @classmethod
    def _geoms(cls, v: list[Any]) -> list[dict[str, Any]]:
        return [check_geometry(g) for g in v]

    @field_validator("municipalities", "categories", "tags", "partners")
    @classmethod
    def _dedupe(cls, v: list[str]) -> list[str]:
        out: list[str] = []
        for item in (s.strip() for s in v):
            if item and item not in out:
                if len(item) > 200:
                    raise ValueError("an entry is longer than 200 characters")
                out.append(item)
        return out

    @model_validator(mode="after")
    def _dates(self) -> ProjectIn:
        if self.start_date and self.end_date and self.end_date < self.start_date:
            raise ValueError("end_date is before start_date")
        return self


class ProjectOut(BaseModel):
    """A project as a reader sees it; internal fields are None for the public."""

    id: int
    version: int
    title_sv: str
    title_en: str | None
    summary_sv: str
    summary_en: str | None
    description: str = Field(description="Markdown source as stored")
    description_html: str = Field(description="Sanitised HTML rendering of the description")
    municipalities: list[str]
    categories: list[str]
    status: str
    start_date: date | None
    end_date: date | None
    contact: str | None
    contact_public: bool = Field(False, description="Whether the contact is shown publicly.")
    partners: list[str]
    links: list[Link]
    testbed: bool
    tags: list[str]
    geometry: dict[str, Any] | None = Field(description="GeoJSON GeometryCollection, WGS 84")
    bbox: list[float] | None
    public: bool
    images: list[dict[str, Any]]
    last_reviewed_at: datetime | None
    created_at: datetime
    updated_at: datetime
    created_by: int | None = None
    updated_by: int | None = None
    stale: bool = False
