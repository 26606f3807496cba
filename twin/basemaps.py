"""Base maps and terrain from settings: the models, the built-in offline default, and the
origins the Content-Security-Policy must allow for them (docs/GUIDE.md, "Base maps and
terrain")."""

from __future__ import annotations

from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

#: The offline default: Natural Earth II, shipped inside CesiumJS (served under /cesium/).
NATURAL_EARTH = "natural-earth"
NATURAL_EARTH_PATH = "Assets/Textures/NaturalEarthII"
NATURAL_EARTH_CREDIT = "Natural Earth II (public domain), shipped with CesiumJS"
#: The name of the entry made from the older TWIN_BASE_MAP_URL / TWIN_BASE_MAP_CREDIT.
LEGACY_NAME = "base-map"

_NAME = r"^[a-z0-9][a-z0-9_-]{0,39}$"


def check_url(value: str, what: str) -> str:
    """An absolute http(s) URL or a path on this server ("/..."); ValueError otherwise.
    URL templates keep their {placeholders} in the path and query, never in the host."""
    value = value.strip()
    if value.startswith("/") and not value.startswith("//"):
        return value
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{what} must be an http(s) URL or a path starting with /: {value!r}")
    if "{" in parts.netloc or "}" in parts.netloc or any(c in value for c in " ;,'\"\n\r"):
        raise ValueError(
            f"{what}: {value!r} has placeholders, spaces, quotes or ; in its host; "
            "give one host (no {s} subdomains)"
        )
    return value


def origin_of(url: str) -> str | None:
    """``scheme://host[:port]`` of an absolute URL; None for a path on this server."""
    parts = urlsplit(url)
    if not parts.scheme:
        return None
    host = parts.hostname or ""
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    port = f":{parts.port}" if parts.port is not None else ""
    return f"{parts.scheme}://{host}{port}"


class BaseMapSpec(BaseModel):
    """One base map (imagery) the viewer may show: XYZ tiles, OGC WMTS or TMS.

    XYZ: ``url`` is a template with ``{z}``, ``{x}``, ``{y}`` (also ``{reverseY}``).
    WMTS: ``url`` is the service (KVP: ``.../wmts``) or a RESTful template with
    ``{TileMatrix}``, ``{TileRow}``, ``{TileCol}``; ``layer`` and ``tile_matrix_set`` are
    required, the matrix set in Web Mercator (e.g. ``GoogleMapsCompatible`` or
    ``3857``) with its levels named 0, 1, 2, ... (or ``tile_matrix_prefix`` + level).
    TMS: ``url`` is the folder holding ``tilemapresource.xml`` (as gdal2tiles writes).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=_NAME, description="Short id, used in the viewer's URL (map=).")
    title: str = Field(min_length=1, max_length=80, description="Shown in the base-map picker.")
    type: Literal["xyz", "wmts", "tms"]
    url: str
    layer: str | None = Field(None, description="WMTS layer identifier.")
    style: str = Field("default", description="WMTS style.")
    tile_matrix_set: str | None = Field(None, description="WMTS tile matrix set identifier.")
    format: str = Field("image/png", description="WMTS image format (MIME type).")
    tile_matrix_prefix: str = Field(
        "",
        max_length=80,
        description="WMTS: what the tile matrix identifiers start with before the level "
        '(GeoServer: "EPSG:900913:"); default: they are the level numbers.',
    )
    maximum_level: int | None = Field(None, ge=0, le=30, description="Deepest zoom level.")
    credit: str = Field("", max_length=300, description="Attribution shown with the map.")

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        return check_url(value, "url")

    @model_validator(mode="after")
    def _per_type(self) -> BaseMapSpec:
        if self.type == "wmts":
            missing = [f for f in ("layer", "tile_matrix_set") if not getattr(self, f)]
            if missing:
                raise ValueError(f"base map {self.name!r} (wmts) needs {' and '.join(missing)}")
        has_y = "{y}" in self.url or "{reverseY}" in self.url
        if self.type == "xyz" and not ("{z}" in self.url and "{x}" in self.url and has_y):
            raise ValueError(f"base map {self.name!r} (xyz): url needs {{z}}, {{x}} and {{y}}")
        return self


def natural_earth(cesium_url: str = "/cesium/") -> BaseMapSpec:
    return BaseMapSpec(
        name=NATURAL_EARTH,
        title="Natural Earth II",
        type="tms",
        url=f"{cesium_url}{NATURAL_EARTH_PATH}",
        maximum_level=2,
        credit=NATURAL_EARTH_CREDIT,
    )


def check_names(maps: list[BaseMapSpec]) -> list[BaseMapSpec]:
    seen: set[str] = {NATURAL_EARTH}
    for m in maps:
        if m.name in seen:
            reason = "is the built-in offline map" if m.name == NATURAL_EARTH else "is used twice"
            raise ValueError(f"base map name {m.name!r} {reason}")
        seen.add(m.name)
    return maps


def csp_origins(urls: list[str]) -> list[str]:
    """The distinct origins of ``urls`` (paths on this server need none), sorted."""
    return sorted({o for o in map(origin_of, urls) if o})
