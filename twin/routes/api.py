"""JSON API: health, layers, the viewer's configuration."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from pydantic import BaseModel, Field

from ..auth.deps import PrincipalDep
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
    type: str = "tms"
    url: str
    credit: str


class CatalogueConfig(BaseModel):
    stale_months: int = Field(description="Projects not reviewed for this long are stale.")
    image_types: list[str] = ["image/png", "image/jpeg", "image/webp"]
    image_max_bytes: int = 10 * 1024 * 1024
    page_size_max: int = 500


class ViewerConfig(BaseModel):
    title: str
    version: str
    cesium_base_url: str
    base_map: BaseMap
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
    return ViewerConfig(
        title=settings.title,
        version=__version__,
        cesium_base_url=cesium,
        base_map=BaseMap(
            url=settings.base_map_url or f"{cesium}Assets/Textures/NaturalEarthII",
            credit=settings.base_map_credit,
        ),
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
        },
        catalogue=CatalogueConfig(stale_months=settings.stale_months),
    )
