"""Search: objects of the layers, catalogue projects and coordinates, in one list.

``GET /api/search?q=...`` answers the viewer's search box; ``GET /api/layers/{layer}/objects/{id}``
gives one object in the same shape, for deep links. Objects come from each visible
layer's ``objects.sqlite`` (:mod:`tiles.objects_index`, current version only); projects
from :func:`layers.catalogue.service.search_projects`, which applies the catalogue's
visibility rules; coordinates from :mod:`twin.coordinates`.

Order: coordinates (when the text is one), objects whose id is the text, projects whose
title has every word, the other objects by full-text rank (bm25, merged over layers), then
projects found by their summary, description or tags only.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Response
from pydantic import BaseModel, Field
from pyproj import Geod
from sqlalchemy.orm import Session

from layers.catalogue import service
from layers.catalogue.models import Project
from layers.catalogue.rules import Principal
from tiles.objects_index import IndexCache, ObjectIndex, ObjectRow

from .. import coordinates
from ..auth.deps import DbSession, PrincipalDep
from ..errors import InvalidQuery, ObjectNotFound
from ..store import Layer, Store
from .api import VisibleLayerDep
from .deps import StoreDep

router = APIRouter(tags=["search"])

MAX_QUERY = 200
MAX_LIMIT = 50
KINDS = ("object", "project", "coordinate")
#: Open object indexes, by version folder (a version's files never change).
INDEXES = IndexCache(maxsize=32)
_CONTROL = frozenset(chr(c) for c in range(32)) | {"\x7f"}


class SearchResult(BaseModel):
    """One place to go: an object, a catalogue project or a typed coordinate."""

    kind: Literal["object", "project", "coordinate"]
    title: str = Field(description="Object id, project title or the normalised coordinate.")
    subtitle: str = Field(
        description="Object: `type · layer title`; project: its summary (shortened); "
        "coordinate: `SWEREF 99 TM` or `WGS 84`."
    )
    layer: str | None = Field(description="The object's layer name.")
    id: str | None = Field(description="The object's id (as in the tiles' `id` property).")
    project_id: int | None = Field(description="The project's id.")
    lon: float = Field(description="WGS 84 longitude of the centre, degrees.")
    lat: float = Field(description="WGS 84 latitude of the centre, degrees.")
    height: float = Field(
        description="Ellipsoidal height of the centre, metres (0 for coordinates; "
        "projects: their geometry's height, else 0)."
    )
    radius: float = Field(
        description="Radius of a sphere around the result, metres (0 for a point)."
    )
    type: str | None = Field(None, description="The object's type (e.g. `Building`).")
    parent_id: str | None = Field(None, description="The object's parent, if it has one.")


class SearchResponse(BaseModel):
    query: str
    results: list[SearchResult]
    unindexed_layers: list[str] = Field(
        description="Visible layers searched whose current version has no object index "
        "(converted before search existed: import them again to search their objects)."
    )


def _check_query(q: str | None) -> str:
    if q is None or not q.strip():
        raise InvalidQuery("type something to search for", field="q")
    if len(q) > MAX_QUERY:
        raise InvalidQuery(f"the search text is longer than {MAX_QUERY} characters", field="q")
    if any(c in _CONTROL for c in q):
        raise InvalidQuery("the search text contains control characters", field="q")
    return q.strip()


def _names(text: str | None, field: str) -> list[str] | None:
    if text is None:
        return None
    if len(text) > 2000:
        raise InvalidQuery(f"{field} is too long", field=field)
    return [n.strip() for n in text.split(",") if n.strip()]


def object_result(layer: Layer, row: ObjectRow) -> SearchResult:
    return SearchResult(
        kind="object",
        title=row.id,
        subtitle=f"{row.type} · {layer.title}",
        layer=layer.name,
        id=row.id,
        project_id=None,
        lon=row.lon,
        lat=row.lat,
        height=round(row.height, 3),
        radius=round(row.sphere_radius, 3),
        type=row.type,
        parent_id=row.parent_id,
    )


def _is_point_cloud(layer: Layer) -> bool:
    return bool(layer.report.get("point_count"))


def _indexes(
    store: Store, principal: Principal, wanted: list[str] | None
) -> tuple[list[tuple[Layer, ObjectIndex]], list[str]]:
    found: list[tuple[Layer, ObjectIndex]] = []
    unindexed: list[str] = []
    for layer in store.list(principal):
        if (wanted is not None and layer.name not in wanted) or layer.current is None:
            continue
        index = INDEXES.get(store.version_dir(layer.name, layer.current))
        if index is not None:
            found.append((layer, index))
        elif not _is_point_cloud(layer):
            unindexed.append(layer.name)
    return found, unindexed


@lru_cache(maxsize=1)
def _geod() -> Geod:
    return Geod(ellps="WGS84")


def _anchor(project: Project) -> tuple[float, float, float] | None:
    """Where the viewer puts the project's pin (viewer/js/project-geometry.js anchorOf):
    its first point, else the middle of its extent."""
    geometries = (project.geometry or {}).get("geometries", [])
    for g in geometries:
        coords = g.get("coordinates")
        if g.get("type") == "MultiPoint" and coords:
            coords = coords[0]
        if g.get("type") in ("Point", "MultiPoint") and coords:
            return float(coords[0]), float(coords[1]), float(coords[2] if len(coords) > 2 else 0)
    if project.min_lon is None or project.min_lat is None:
        return None
    assert project.max_lon is not None
    assert project.max_lat is not None
    lon = (project.min_lon + project.max_lon) / 2
    lat = (project.min_lat + project.max_lat) / 2
    return lon, lat, 0.0


def project_result(project: Project) -> SearchResult | None:
    anchor = _anchor(project)
    if anchor is None:
        return None
    radius = 0.0
    if project.min_lon is not None and project.max_lon is not None:
        _, _, diagonal = _geod().inv(
            project.min_lon, project.min_lat, project.max_lon, project.max_lat
        )
        radius = diagonal / 2
    summary = " ".join((project.summary_sv or "").split())
    return SearchResult(
        kind="project",
        title=project.title_sv,
        subtitle=summary if len(summary) <= 120 else summary[:119] + "…",
        layer=None,
        id=None,
        project_id=project.id,
        lon=anchor[0],
        lat=anchor[1],
        height=anchor[2],
        radius=round(radius, 3),
    )


def _projects(
    db: Session, principal: Principal, q: str, limit: int
) -> tuple[list[SearchResult], list[SearchResult]]:
    """Projects whose title has every word, and the others that match."""
    found, _ = service.search_projects(
        db, principal, service.ProjectFilter(q=q, limit=limit, sort="title")
    )
    words = service.fold(q).split()[: service.MAX_SEARCH_WORDS]
    by_title: list[SearchResult] = []
    others: list[SearchResult] = []
    for p in found:
        result = project_result(p)
        if result is None:
            continue
        titles = service.fold(f"{p.title_sv} {p.title_en or ''}")
        (by_title if all(w in titles for w in words) else others).append(result)
    return by_title, others


def _coordinate_results(q: str) -> list[SearchResult]:
    return [
        SearchResult(
            kind="coordinate",
            title=r.title,
            subtitle=r.crs,
            layer=None,
            id=None,
            project_id=None,
            lon=round(r.lon, 9),
            lat=round(r.lat, 9),
            height=0.0,
            radius=0.0,
        )
        for r in coordinates.parse(q)
    ]


@router.get(
    "/api/search",
    name="search",
    summary="Find objects, catalogue projects and coordinates",
    response_model=SearchResponse,
)
def search(
    response: Response,
    store: StoreDep,
    principal: PrincipalDep,
    db: DbSession,
    q: Annotated[
        str | None,
        Query(
            description="1 to 200 characters: words (prefixes) of an object's id, type or "
            "attribute values, or of a project's title and text; or a coordinate "
            "(`6163000 373000` SWEREF 99 TM, `55.68, 13.40` or `55°41'N 13°24'E` WGS 84)."
        ),
    ] = None,
    limit: Annotated[int, Query(description="At most this many results (1 to 50).")] = 10,
    layers: Annotated[
        str | None,
        Query(description="Comma-separated layer names to search objects in (empty: all)."),
    ] = None,
    kinds: Annotated[
        str | None,
        Query(description="Comma-separated kinds to return: object, project, coordinate."),
    ] = None,
) -> SearchResponse:
    text = _check_query(q)
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidQuery(f"limit must be between 1 and {MAX_LIMIT}", field="limit")
    wanted_kinds = _names(kinds, "kinds") or list(KINDS)
    if unknown := sorted(set(wanted_kinds) - set(KINDS)):
        raise InvalidQuery(f"unknown kind(s) {unknown}: use {', '.join(KINDS)}", field="kinds")
    response.headers["Cache-Control"] = "private, no-cache"
    response.headers["Vary"] = "Cookie, Authorization"

    coords = _coordinate_results(text) if "coordinate" in wanted_kinds else []
    exact: list[SearchResult] = []
    ranked: list[tuple[float, str, str, SearchResult]] = []
    unindexed: list[str] = []
    if "object" in wanted_kinds:
        indexes, unindexed = _indexes(store, principal, _names(layers, "layers") or None)
        seen: set[tuple[str, str]] = set()
        for layer, index in indexes:
            for row in index.exact(text, limit):
                seen.add((layer.name, row.id))
                exact.append(object_result(layer, row))
        for layer, index in indexes:
            for row in index.search(text, limit):
                if (layer.name, row.id) not in seen:
                    ranked.append((row.score, layer.name, row.id, object_result(layer, row)))
        ranked.sort(key=lambda r: r[:3])
    by_title: list[SearchResult] = []
    other_projects: list[SearchResult] = []
    if "project" in wanted_kinds:
        by_title, other_projects = _projects(db, principal, text, limit)
    results = [*coords, *exact, *by_title, *(r[3] for r in ranked), *other_projects]
    return SearchResponse(query=q or "", results=results[:limit], unindexed_layers=unindexed)


@router.get(
    "/api/layers/{layer}/objects/{object_id:path}",
    name="layer_object",
    tags=["layers"],
    summary="One object of a layer's current version, as a search result",
    response_model=SearchResult,
)
def layer_object(
    store: StoreDep,
    layer: VisibleLayerDep,
    object_id: Annotated[str, Path(description="The object's id (exact, case-sensitive).")],
) -> SearchResult:
    assert layer.current is not None  # VisibleLayerDep gives published layers only
    index = INDEXES.get(store.version_dir(layer.name, layer.current))
    if index is None:
        raise ObjectNotFound(
            f"layer {layer.name!r} has no object index (converted before search existed): "
            "import it again to find its objects"
        )
    row = index.get(object_id)
    if row is None:
        raise ObjectNotFound(f"layer {layer.name!r} has no object {object_id[:200]!r}")
    return object_result(layer, row)
