"""JSON API: health, layers, the viewer's configuration."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from pydantic import BaseModel, Field

from ..auth.deps import PrincipalDep
from ..basemaps import NATURAL_EARTH
from ..store import Layer
from .deps import SettingsDep, StoreDep

router = APIRouter()


def visible_layer(
    store: StoreDep,
    principal: PrincipalDep,
    layer: Annotated[str, Path(description="The layer's name, e.g. `demo`.")],
) -> Layer:
    """A published layer the caller may see; internal layers are 404 to everyone else."""
    return store.get(layer, principal)


VisibleLayerDep = Annotated[Layer, Depends(visible_layer)]


class PropertyInfo(BaseModel):
    id: str = Field(description="Property id in each tile's EXT_structural_metadata table.")
    name: str = Field(description="The attribute's name in the source file.")
    type: str = Field(description="STRING, INT32, FLOAT64 or BOOLEAN.")
    stats: dict[str, Any] | None = Field(
        default=None,
        description="Statistics over the layer's objects, for styling and legends: `count`, "
        "`missing`; numbers `min`, `max`, `quantiles`, `classes` (`quantile`, `equal`: "
        "`breaks`, `counts`); text `distinct` and, with at most 50 different values, the most "
        "frequent `values` (`value`, `count`); booleans `true`, `false`. Absent for layers "
        "converted before statistics were written.",
    )


class LayerInfo(BaseModel):
    """A published layer, as `/api/layers` and `/api/config` describe it."""

    name: str
    title: str
    kind: str = Field(description="`3dtiles` for now.")
    tileset_url: str = Field(description="Versioned URL of the current tileset (immutable).")
    version: str
    extent: list[float] = Field(description="WGS 84 lon/lat: west, south, east, north.")
    height_range: list[float] = Field(description="Ellipsoidal heights, metres.")
    feature_count: int
    source: str = Field(description="The source file's name.")
    format: str
    crs: str
    created: str
    properties: list[PropertyInfo]


class BaseMap(BaseModel):
    """A base map (imagery) the viewer offers; docs/GUIDE.md, "Base maps and terrain"."""

    name: str = Field(description="Its id in the viewer's URL state (map=).")
    title: str
    type: str = Field(description="`xyz`, `wmts` or `tms`.")
    url: str
    layer: str | None = None
    style: str = "default"
    tile_matrix_set: str | None = None
    format: str = "image/png"
    tile_matrix_prefix: str = ""
    maximum_level: int | None = None
    credit: str
    offline: bool = Field(False, description="The built-in map shipped with CesiumJS.")


class Terrain(BaseModel):
    url: str = Field(description="A quantized-mesh tileset (the folder holding layer.json).")


class CatalogueConfig(BaseModel):
    stale_months: int = Field(description="Projects not reviewed for this long are stale.")
    image_types: list[str] = ["image/png", "image/jpeg", "image/webp"]
    image_max_bytes: int = 10 * 1024 * 1024
    page_size_max: int = 500


class ViewerConfig(BaseModel):
    title: str
    version: str
    cesium_base_url: str
    base_map: BaseMap = Field(description="The base map shown first.")
    base_maps: list[BaseMap] = Field(description="Every base map the viewer offers.")
    terrain: Terrain | None = Field(description="None: the WGS 84 ellipsoid.")
    layers: list[LayerInfo]
    api: dict[str, str]
    catalogue: CatalogueConfig


def layer_info(request: Request, layer: Layer) -> LayerInfo:
    report: dict[str, Any] = layer.report
    url = request.url_for("tile_file", layer=layer.name, path=f"@{layer.current}/tileset.json")
    return LayerInfo(
        name=layer.name,
        title=layer.title,
        kind=layer.kind,
        tileset_url=url.path,
        version=layer.current,
        extent=report["extent"],
        height_range=report["height_range"],
        feature_count=report["feature_count"],
        source=report["source"],
        format=report["format"],
        crs=report["crs"],
        created=layer.current_version.created,
        properties=[PropertyInfo(**p) for p in report["properties"]],
    )


@router.get("/healthz", tags=["service"], summary="Liveness check")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/api/layers", tags=["layers"], summary="Published layers")
def list_layers(request: Request, store: StoreDep, principal: PrincipalDep) -> list[LayerInfo]:
    return [layer_info(request, layer) for layer in store.list(principal)]


@router.get("/api/layers/{layer}", tags=["layers"], summary="One layer")
def get_layer(request: Request, layer: VisibleLayerDep) -> LayerInfo:
    return layer_info(request, layer)


@router.get(
    "/api/layers/{layer}/report",
    tags=["layers"],
    summary="The conversion report of the layer's current version",
)
def get_report(layer: VisibleLayerDep) -> dict[str, Any]:
    return layer.report


@router.get("/api/config", tags=["viewer"], summary="Everything the viewer needs")
def viewer_config(
    request: Request, settings: SettingsDep, store: StoreDep, principal: PrincipalDep
) -> ViewerConfig:
    from .. import __version__

    cesium = "/cesium/"
    base_maps = [
        BaseMap(**m.model_dump(), offline=m.name == NATURAL_EARTH)
        for m in settings.all_base_maps(cesium)
    ]
    return ViewerConfig(
        title=settings.title,
        version=__version__,
        cesium_base_url=cesium,
        base_map=next(m for m in base_maps if m.name == settings.base_map_name),
        base_maps=base_maps,
        terrain=Terrain(url=settings.terrain_url) if settings.terrain_url else None,
        layers=[layer_info(request, layer) for layer in store.list(principal)],
        api={
            "layers": request.url_for("list_layers").path,
            "config": request.url_for("viewer_config").path,
            "projects": "/api/projects",
            "municipalities": "/api/municipalities",
            "categories": "/api/categories",
            "me": "/api/auth/me",
            "login": "/api/auth/login",
            "logout": "/api/auth/logout",
            "ogc": "/ogc",
            "overview": "/api/catalogue/overview",
            "stale": "/api/municipalities/{code}/stale",
            "imports": "/api/layers/{layer}/imports",
            "import": "/api/imports/{id}",
            "import_events": "/api/imports/{id}/events",
            "versions": "/api/layers/{layer}/versions",
            "manage_layers": "/api/manage/layers",
            "layer": "/api/layers/{layer}",
            "search": "/api/search",
            "object": "/api/layers/{layer}/objects/{id}",
        },
        catalogue=CatalogueConfig(stale_months=settings.stale_months),
    )
