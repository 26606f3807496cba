"""OGC API Features (``/ogc``) and the catalogue's exports and imports.

OGC API - Features - Part 1: Core (OGC 17-069r4), conformance classes Core, GeoJSON and
OpenAPI 3.0, so QGIS and GDAL (``OAPIF:https://host/ogc``) read the catalogue. One
collection, ``projects``: one feature per project whose geometry is the stored
GeometryCollection (or null) in WGS 84 (CRS84), properties as the JSON API gives them to
the caller (internal projects and fields only for those who may see them). Invalid query
parameters under ``/ogc`` are 400, as the standard requires; the ``/api`` routes keep the
application's 422.

The exports (GeoJSON, CSV) take the project list's filters; the import takes CSV,
GeoJSON or XLSX (see :mod:`layers.catalogue.io` for the column mapping), dry run first.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser

from layers.catalogue import io
from layers.catalogue.errors import PermissionDenied
from layers.catalogue.models import STATUSES, Project
from layers.catalogue.queries import to_out, visible_projects
from layers.catalogue.rules import Principal
from layers.catalogue.service import ProjectFilter, get_project, search_projects

from ..auth.deps import DbSession, LoggedInDep, PrincipalDep
from ..errors import NotFound, TwinError
from .deps import SettingsDep
from .limits import capped_request
from .projects import FilterDep

router = APIRouter(tags=["ogc"])

CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
]
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
JSON = "application/json"
GEOJSON = "application/geo+json"
OPENAPI = "application/vnd.oai.openapi+json;version=3.0"
COLLECTION = "projects"
DEFAULT_LIMIT, MAX_LIMIT = 100, 1000
PAGE = 500  # search_projects' largest page
#: the upload may carry the multipart framing on top of the file itself
MAX_UPLOAD = io.MAX_BYTES + 64 * 1024
#: responses depend on who asks: shared caches must not mix them up
PRIVATE = {"Vary": "Authorization, Cookie", "Cache-Control": "private, no-cache"}


class InvalidParameter(TwinError):
    """A query parameter OGC API Features cannot use (HTTP 400, as the standard says)."""

    code = "invalid_parameter"


# -- parameters ------------------------------------------------------------------------


def _bbox(value: str | None, error: type[TwinError]) -> tuple[float, float, float, float] | None:
    if value is None or not value.strip():
        return None
    try:
        numbers = [float(v) for v in value.split(",")]
    except ValueError:
        raise error("bbox: four numbers, west,south,east,north (lon/lat)") from None
    if len(numbers) == 6:  # minx, miny, minz, maxx, maxy, maxz
        numbers = [numbers[0], numbers[1], numbers[3], numbers[4]]
    if len(numbers) != 4 or not all(math.isfinite(v) for v in numbers):
        raise error("bbox: four numbers, west,south,east,north (lon/lat)")
    w, s, e, n = numbers
    return w, s, e, n


def _split(values: list[str] | None) -> list[str]:
    return [v.strip() for item in values or [] for v in item.split(",") if v.strip()]


def _filter(error: type[TwinError], **fields: Any) -> ProjectFilter:
    try:
        return ProjectFilter(**fields)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise error(f"{where}: {first['msg'].removeprefix('Value error, ')}") from None


Q = Annotated[
    str | None, Query(max_length=200, description="Words in title, summary, description or tags.")
]
Municipalities = Annotated[
    list[str] | None,
    Query(description="Municipality codes (repeat the parameter or separate with commas)."),
]
Categories = Annotated[
    list[str] | None, Query(description="Category keys (repeat or separate with commas).")
]
Statuses = Annotated[
    list[str] | None,
    Query(description=f"Statuses ({', '.join(STATUSES)}; repeat or separate with commas)."),
]
Bbox = Annotated[
    str | None,
    Query(
        description="lon/lat west,south,east,north (WGS 84); projects whose extent "
        "intersects it. Projects without a geometry are left out.",
        examples=["4.362,52.010,4.370,52.014"],
    ),
]


CRS = Annotated[str | None, Query(description=f"Only `{CRS84}` (WGS 84 lon/lat), the default.")]


def _ogc_filter(
    bbox: Bbox = None,
    bbox_crs: Annotated[CRS, Query(alias="bbox-crs")] = None,
    crs: CRS = None,
    q: Q = None,
    municipality: Municipalities = None,
    category: Categories = None,
    status: Statuses = None,
) -> ProjectFilter:
    for name, value in (("bbox-crs", bbox_crs), ("crs", crs)):
        if value not in (None, CRS84, f"<{CRS84}>"):
            raise InvalidParameter(f"{name}: only {CRS84} is offered")
    return _filter(
        InvalidParameter,
        bbox=_bbox(bbox, InvalidParameter),
        q=q,
        municipality=_split(municipality),
        category=_split(category),
        status=_split(status),
        sort="created_at",
    )


def _int(name: str, value: str, low: int, high: int | None = None) -> int:
    try:
        number = int(value)
    except ValueError:
        raise InvalidParameter(f"{name}: a whole number, not {value[:20]!r}") from None
    if number < low:
        raise InvalidParameter(f"{name}: at least {low}")
    return number if high is None else min(number, high)  # OGC: clamp, never refuse


def _media_type(request: Request, f: str | None, default: str) -> str:
    """``f=json`` (or ``geojson``) and the Accept header choose between JSON types."""
    if f is not None and f not in ("json", "geojson"):
        raise InvalidParameter("f: only json is offered")
    accept = request.headers.get("accept", "")
    if default == GEOJSON and JSON in accept and GEOJSON not in accept:
        return JSON
    return default


F = Annotated[str | None, Query(description="Encoding: `json` (the only one offered).")]
OgcFilter = Annotated[ProjectFilter, Depends(_ogc_filter)]


def _collection_id(
    collection_id: Annotated[str, Path(alias="collectionId", description="Only `projects`.")],
) -> str:
    if collection_id != COLLECTION:
        raise NotFound(f"no collection {collection_id!r}; there is only {COLLECTION!r}")
    return collection_id


CollectionId = Annotated[str, Depends(_collection_id)]


def _link(url: Any, rel: str, type_: str, title: str) -> dict[str, str]:
    return {"href": str(url), "rel": rel, "type": type_, "title": title}


def _json(content: Any, media_type: str = JSON, *, features: bool = False) -> JSONResponse:
    headers = {**PRIVATE, "Content-Crs": f"<{CRS84}>"} if features else PRIVATE
    return JSONResponse(content, media_type=media_type, headers=headers)


# -- landing page, conformance, collections --------------------------------------------


@router.get("/ogc", name="ogc_landing", summary="OGC API Features landing page")
def landing(request: Request, settings: SettingsDep, f: F = None) -> JSONResponse:
    media = _media_type(request, f, JSON)
    docs = str(request.base_url).rstrip("/") + (request.app.docs_url or "/docs")
    return _json(
        {
            "title": f"{settings.title}: smart-city projects (OGC API Features)",
            "description": "The shared catalogue of smart-city projects as OGC API Features.",
            "links": [
                _link(request.url_for("ogc_landing"), "self", media, "This document"),
                _link(request.url_for("openapi"), "service-desc", OPENAPI, "API definition"),
                _link(docs, "service-doc", "text/html", "API documentation"),
                _link(request.url_for("ogc_conformance"), "conformance", JSON, "Conformance"),
                _link(request.url_for("ogc_collections"), "data", JSON, "Collections"),
            ],
        },
        media,
    )


@router.get("/ogc/conformance", name="ogc_conformance", summary="Conformance classes")
def conformance(request: Request, f: F = None) -> JSONResponse:
    return _json({"conformsTo": CONFORMANCE}, _media_type(request, f, JSON))


def _extent(db: Session, principal: Principal) -> list[float] | None:
    visible = visible_projects(principal).subquery()
    row = db.execute(
        select(
            func.min(visible.c.min_lon),
            func.min(visible.c.min_lat),
            func.max(visible.c.max_lon),
            func.max(visible.c.max_lat),
        )
    ).one()
    return None if row[0] is None else [float(v) for v in row]


def _collection(request: Request, db: Session, principal: Principal) -> dict[str, Any]:
    url = request.url_for("ogc_collection", collectionId=COLLECTION)
    items = request.url_for("ogc_items", collectionId=COLLECTION)
    doc: dict[str, Any] = {
        "id": COLLECTION,
        "title": "Smart-city projects",
        "description": "Smart-city projects of the municipalities (Swedish and English).",
        "itemType": "feature",
        "crs": [CRS84],
        "storageCrs": CRS84,
        "links": [
            _link(url, "self", JSON, "This collection"),
            _link(items, "items", GEOJSON, "The projects"),
        ],
    }
    bbox = _extent(db, principal)
    if bbox is not None:
        doc["extent"] = {"spatial": {"bbox": [bbox], "crs": CRS84}}
    return doc


@router.get("/ogc/collections", name="ogc_collections", summary="The feature collections")
def collections(
    request: Request, db: DbSession, principal: PrincipalDep, f: F = None
) -> JSONResponse:
    media = _media_type(request, f, JSON)
    return _json(
        {
            "links": [_link(request.url_for("ogc_collections"), "self", media, "Collections")],
            "collections": [_collection(request, db, principal)],
        },
        media,
    )


@router.get(
    "/ogc/collections/{collectionId}", name="ogc_collection", summary="The projects collection"
)
def collection(
    request: Request, db: DbSession, principal: PrincipalDep, _: CollectionId, f: F = None
) -> JSONResponse:
    return _json(_collection(request, db, principal), _media_type(request, f, JSON))


# -- features --------------------------------------------------------------------------


def _fetch(
    db: Session, principal: Principal, f: ProjectFilter, limit: int, offset: int
) -> tuple[list[Project], int]:
    """``limit`` projects from ``offset`` (in pages of search_projects' size) and the total."""
    projects: list[Project] = []
    while True:
        page = min(PAGE, limit - len(projects))
        chunk, total = search_projects(
            db, principal, f.model_copy(update={"limit": page, "offset": offset})
        )
        projects += chunk
        offset += len(chunk)
        if len(chunk) < page or len(projects) >= limit:
            return projects, total


def _feature(request: Request, project: Project, principal: Principal, stale: int) -> Any:
    feature = io.feature(to_out(project, principal, stale_months=stale))
    url = request.url_for("ogc_item", collectionId=COLLECTION, featureId=str(project.id))
    feature["links"] = [
        _link(url, "self", GEOJSON, "This project"),
        _link(request.url_for("ogc_collection", collectionId=COLLECTION), "collection", JSON, ""),
    ]
    return feature


@router.get(
    "/ogc/collections/{collectionId}/items",
    name="ogc_items",
    summary="Projects as GeoJSON features, a page at a time",
    response_class=JSONResponse,
    responses={200: {"content": {GEOJSON: {}}}},
)
def items(
    request: Request,
    db: DbSession,
    principal: PrincipalDep,
    settings: SettingsDep,
    _: CollectionId,
    filters: OgcFilter,
    limit: Annotated[
        str,
        Query(
            description=f"Features per page (1 to {MAX_LIMIT}; more is served as {MAX_LIMIT}).",
            json_schema_extra={"type": "integer", "minimum": 1, "maximum": MAX_LIMIT},
        ),
    ] = str(DEFAULT_LIMIT),
    offset: Annotated[
        str,
        Query(
            description="Features to skip (the next link sets it).",
            json_schema_extra={"type": "integer", "minimum": 0},
        ),
    ] = "0",
    f: F = None,
) -> JSONResponse:
    media = _media_type(request, f, GEOJSON)
    n, start = _int("limit", limit, 1, MAX_LIMIT), _int("offset", offset, 0)
    projects, total = _fetch(db, principal, filters, n, start)
    features = [_feature(request, p, principal, settings.stale_months) for p in projects]
    self_url = request.url_for("ogc_items", collectionId=COLLECTION)
    query = {k: v for k, v in request.query_params.multi_items() if k not in ("limit", "offset")}

    def page(rel: str, at: int) -> dict[str, str]:
        url = self_url.include_query_params(**query).include_query_params(limit=n, offset=at)
        return _link(url, rel, media, f"{rel} page")

    links = [page("self", start)]
    if start + len(features) < total:
        links.append(page("next", start + len(features)))
    if start > 0:
        links.append(page("prev", max(0, start - n)))
    links.append(
        _link(
            request.url_for("ogc_collection", collectionId=COLLECTION),
            "collection",
            JSON,
            "The collection",
        )
    )
    doc = {
        "type": "FeatureCollection",
        "timeStamp": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "numberMatched": total,
        "numberReturned": len(features),
        "features": features,
        "links": links,
    }
    return _json(doc, media, features=True)


@router.get(
    "/ogc/collections/{collectionId}/items/{featureId}",
    name="ogc_item",
    summary="One project as a GeoJSON feature",
    response_class=JSONResponse,
    responses={200: {"content": {GEOJSON: {}}}},
)
def item(
    request: Request,
    db: DbSession,
    principal: PrincipalDep,
    settings: SettingsDep,
    _: CollectionId,
    feature_id: Annotated[str, Path(alias="featureId", description="The project's id.")],
    f: F = None,
) -> JSONResponse:
    media = _media_type(request, f, GEOJSON)
    if not feature_id.isdigit() or len(feature_id) > 12:
        raise NotFound(f"no feature {feature_id[:20]!r}")
    project = get_project(db, principal, int(feature_id))
    feature = _feature(request, project, principal, settings.stale_months)
    return _json(feature, media, features=True)


# -- exports ---------------------------------------------------------------------------


def _attachment(name: str) -> dict[str, str]:
    stamp = datetime.now(UTC).strftime("%Y%m%d")
    return {**PRIVATE, "Content-Disposition": f'attachment; filename="projects-{stamp}.{name}"'}


@router.get(
    "/api/projects/export.geojson",
    name="export_geojson",
    summary="The projects you may see as a GeoJSON FeatureCollection (WGS 84)",
    response_class=Response,
    responses={200: {"content": {GEOJSON: {}}}},
)
def export_geojson(
    db: DbSession, principal: PrincipalDep, settings: SettingsDep, f: FilterDep
) -> Response:
    body = io.write_geojson(io.export_projects(db, principal, f, settings.stale_months))
    return Response(body, media_type=GEOJSON, headers=_attachment("geojson"))


@router.get(
    "/api/projects/export.csv",
    name="export_csv",
    summary="The projects you may see as CSV (UTF-8 with BOM, for Excel)",
    description="One row per project. `lon`/`lat` are the first position of the first "
    "geometry; `wkt` is the whole geometry (an import reads it first). Lists are "
    "`; `-separated. Text cells starting with `= + - @` get a leading `'` so spreadsheets "
    "do not run them as formulas.",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}}},
)
def export_csv(
    db: DbSession,
    principal: PrincipalDep,
    settings: SettingsDep,
    f: FilterDep,
    delimiter: Annotated[
        Literal["comma", "semicolon"],
        Query(description="`semicolon` for Excel with Swedish (or other comma-decimal) settings."),
    ] = "comma",
) -> Response:
    sep = ";" if delimiter == "semicolon" else ","
    body = io.write_csv(io.export_projects(db, principal, f, settings.stale_months), delimiter=sep)
    return Response(body, media_type="text/csv; charset=utf-8", headers=_attachment("csv"))


# -- import ----------------------------------------------------------------------------


async def _upload(request: Request) -> bytes:
    """The ``file`` field of a multipart body, counting bytes as they arrive (413 early)."""
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > MAX_UPLOAD:
        raise io.ImportTooLarge(f"the file is larger than {io.MAX_BYTES // 2**20} MB")
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise io.UnsupportedFormat("send the file as multipart/form-data, field 'file'")

    capped = capped_request(
        request,
        MAX_UPLOAD,
        lambda: io.ImportTooLarge(f"the file is larger than {io.MAX_BYTES // 2**20} MB"),
    )
    parser = MultiPartParser(request.headers, capped.stream(), max_files=1, max_fields=5)
    try:
        form = await parser.parse()
    except MultiPartException as exc:
        raise io.InvalidImport(f"unreadable upload: {exc.message}", field="file") from None
    try:
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise io.InvalidImport("no file in the field 'file'", field="file")
        return await upload.read(io.MAX_BYTES + 1)
    finally:
        await form.close()


_STATUS = {io.ImportTooLarge: 413, io.UnsupportedFormat: 415}


@router.post(
    "/api/projects/import",
    name="import_projects",
    summary="Import projects from CSV, GeoJSON or XLSX (dry run first)",
    description="The format is detected from the content. `dry_run=true` (the default) "
    "checks every row and reports what would be created; `dry_run=false` creates all "
    "valid rows in one transaction, and nothing at all if any row is invalid or not "
    "yours to create (then 422 with the report). Editors and administrators only.",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["file"],
                        "properties": {"file": {"type": "string", "format": "binary"}},
                    }
                }
            },
        }
    },
)
async def import_projects(
    request: Request,
    db: DbSession,
    principal: LoggedInDep,
    dry_run: Annotated[bool, Query(description="Only check and report (default).")] = True,
) -> JSONResponse:
    if not (principal.is_admin or principal.editor_of):
        raise PermissionDenied("importing projects needs an editor role")
    try:
        data = await _upload(request)
        report = await run_in_threadpool(io.run_import, db, principal, data, dry_run=dry_run)
    except (io.ImportTooLarge, io.UnsupportedFormat) as exc:  # not in the app's status table
        refusal = {"code": exc.code, "message": exc.message}
        return JSONResponse(refusal, status_code=_STATUS[type(exc)])
    result = report.as_dict()
    if dry_run or report.ok:
        return JSONResponse(result)
    body: dict[str, Any] = {
        "code": "import_invalid",
        "message": f"{report.invalid} of {report.rows_read} rows are invalid; nothing imported",
        "report": result,
    }
    return JSONResponse(body, status_code=422)
