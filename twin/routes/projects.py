"""The catalogue's JSON API: projects, municipalities, categories, steward views.

Every route calls :mod:`layers.catalogue.service`, which applies the rules and the
visibility filter; this module only maps HTTP to those calls.

Optimistic concurrency: ``GET /api/projects/{id}`` sends the version as ``ETag: "<n>"``;
``PUT`` and ``DELETE`` must send it back as ``If-Match: "<n>"`` (428 without it). A save
over an older version is refused with 409 ``{"code": "conflict", "current_version": n}``
and nothing is overwritten.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Coroutine
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Header, Path, Query, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field, ValidationError, field_validator

from layers.catalogue import service
from layers.catalogue.errors import CatalogueError
from layers.catalogue.images import MAX_BYTES as MAX_IMAGE_BYTES
from layers.catalogue.models import Category, Municipality, Project, ProjectHistory
from layers.catalogue.queries import to_out
from layers.catalogue.rules import Principal
from layers.catalogue.schemas import ProjectIn, ProjectOut, Status

from ..auth.deps import SAFE_METHODS, DbSession, LoggedInDep, PrincipalDep
from ..errors import InvalidRequest, PayloadTooLarge
from ..settings import Settings
from .deps import SettingsDep
from .limits import read_body

#: Request bodies larger than this are refused (413) while they arrive.
MAX_JSON_BYTES = 2 * 1024 * 1024
MAX_UPLOAD_BYTES = MAX_IMAGE_BYTES + 64 * 1024
MAX_ID = 2**31 - 1
BODY_LIMIT_KEY = "x-max-body-bytes"


class PreconditionRequired(CatalogueError):
    """A change without ``If-Match``: 428 (in the app's status table)."""

    code = "precondition_required"


class CatalogueRoute(APIRoute):
    """Counts request bodies as they arrive (413 past the route's limit)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        limit = int((self.openapi_extra or {}).get(BODY_LIMIT_KEY, MAX_JSON_BYTES))

        async def route(request: Request) -> Response:
            if request.method not in SAFE_METHODS:
                await read_body(request, limit, _too_large(limit))
            return await handler(request)

        return route


def _too_large(limit: int) -> Callable[[], PayloadTooLarge]:
    return lambda: PayloadTooLarge(f"the request body is larger than {limit // 1024} KB")


router = APIRouter(tags=["catalogue"], route_class=CatalogueRoute)


# -- shapes ----------------------------------------------------------------------------


class ProjectList(BaseModel):
    items: list[ProjectOut]
    total: int = Field(description="How many projects match (all pages).")
    limit: int
    offset: int


class HistoryOut(BaseModel):
    version: int = Field(description="The project's version after the change.")
    action: str = Field(description="create, update, review, image or delete")
    changed_by: int | None
    changed_at: datetime
    changes: dict[str, Any] = Field(
        description="{field: [old, new]}; the full record for create and delete."
    )


class MunicipalityOut(BaseModel):
    code: str
    name: str
    bbox: list[float] | None = Field(description="lon/lat west, south, east, north.")
    is_demo: bool


class MunicipalityIn(BaseModel):
    code: str = Field(pattern=r"^[A-Za-z0-9_-]{1,8}$", description="e.g. the SCB code 1283")
    name: str = Field(min_length=1, max_length=100)
    bbox: tuple[float, float, float, float] | None = Field(
        None, description="lon/lat west, south, east, north."
    )
    is_demo: bool = False

    @field_validator("bbox")
    @classmethod
    def _bbox(cls, v: tuple[float, float, float, float] | None) -> Any:
        if v is not None:
            service.ProjectFilter(bbox=v)  # the same checks as a search's bbox
        return v


class CategoryOut(BaseModel):
    key: str
    name_sv: str
    name_en: str


class MunicipalityCounts(BaseModel):
    code: str
    name: str
    total: int
    stale: int = Field(description="Visible projects not reviewed for stale_months.")
    by_status: dict[str, int]


class Overview(BaseModel):
    total: int
    by_status: dict[str, int]
    municipalities: list[MunicipalityCounts]
    stale_months: int


class StaleList(BaseModel):
    municipality: str
    months: int
    total: int
    items: list[ProjectOut]


class ImageOut(BaseModel):
    id: int
    url: str
    width: int
    height: int
    caption: str | None
    content_type: str
    project_version: int = Field(description="The project's version after the upload.")


# -- dependencies ----------------------------------------------------------------------

ProjectId = Annotated[int, Path(ge=1, le=MAX_ID, description="The project's id.")]


def get_project(db: DbSession, principal: PrincipalDep, project_id: ProjectId) -> Project:
    """The project from the path; 404 when it is missing or not visible to the caller."""
    return service.get_project(db, principal, project_id)


ProjectDep = Annotated[Project, Depends(get_project)]


def expected_version(
    if_match: Annotated[
        str | None,
        Header(description='The version the change starts from, as sent in the ETag: `"3"`.'),
    ] = None,
) -> int:
    if if_match is None:
        raise PreconditionRequired(
            'send the version you started from as If-Match: "<version>" (the ETag of GET)',
            field="If-Match",
        )
    m = re.fullmatch(r'\s*(?:W/)?"?(\d{1,9})"?\s*', if_match)
    if m is None:
        raise InvalidRequest('If-Match must be a project version such as "3"')
    return int(m.group(1))


VersionDep = Annotated[int, Depends(expected_version)]


def project_filter(
    settings: SettingsDep,
    q: Annotated[
        str | None,
        Query(max_length=200, description="Words in title, summary, description or tags."),
    ] = None,
    municipality: Annotated[
        list[str], Query(description="Municipality codes (any of them; repeat the parameter).")
    ] = [],  # noqa: B006  (FastAPI copies defaults)
    category: Annotated[
        list[str], Query(description="Category keys (any of them; repeat the parameter).")
    ] = [],  # noqa: B006
    status: Annotated[
        list[Status], Query(description="Statuses (any of them; repeat the parameter).")
    ] = [],  # noqa: B006
    date_from: Annotated[
        date | None, Query(description="Projects running on or after this day (YYYY-MM-DD).")
    ] = None,
    date_to: Annotated[
        date | None, Query(description="Projects running on or before this day (YYYY-MM-DD).")
    ] = None,
    bbox: Annotated[
        str | None,
        Query(
            max_length=200,
            description="lon/lat `west,south,east,north` (WGS 84); projects whose extent "
            "intersects it.",
        ),
    ] = None,
    public: Annotated[
        bool | None, Query(description="Only public (true) or only internal (false) projects.")
    ] = None,
    stale_only: Annotated[
        bool, Query(description="Only projects not reviewed for `months` months.")
    ] = False,
    months: Annotated[
        int | None,
        Query(ge=1, le=1200, description="For stale_only; default: the server's stale_months."),
    ] = None,
    sort: Annotated[
        str,
        Query(description=f"One of {', '.join(service.SORT_KEYS)}; prefix `-` to descend."),
    ] = "-updated_at",
    limit: Annotated[int, Query(ge=1, le=500, description="Page size (1 to 500).")] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000, description="How many matches to skip.")] = 0,
) -> service.ProjectFilter:
    """The search filter from query parameters (422 naming the parameter when wrong)."""
    try:
        box: Any = None
        if bbox is not None:
            box = tuple(float(v) for v in bbox.split(","))
        return service.ProjectFilter(
            q=q,
            municipality=municipality,
            category=category,
            status=status,
            date_from=date_from,
            date_to=date_to,
            bbox=box,
            public=public,
            stale_only=stale_only,
            months=months or settings.stale_months,
            sort=sort,
            limit=limit,
            offset=offset,
        )
    except ValueError as exc:  # ValidationError is one; so is float("x")
        errors: list[dict[str, Any]]
        if isinstance(exc, ValidationError):
            # the input is left out: it may hold NaN, which JSON cannot carry
            errors = [
                {"type": e["type"], "loc": ("query", *e["loc"]), "msg": e["msg"]}
                for e in exc.errors(include_url=False, include_context=False)
            ]
        else:
            errors = [{"type": "value_error", "loc": ("query", "bbox"), "msg": str(exc)}]
        raise RequestValidationError(errors) from None


FilterDep = Annotated[service.ProjectFilter, Depends(project_filter)]


# -- helpers ---------------------------------------------------------------------------


def _etag(version: int) -> str:
    return f'"{version}"'


def _out(project: Project, principal: Principal, settings: Settings) -> ProjectOut:
    return to_out(project, principal, stale_months=settings.stale_months)


def _project_response(
    request: Request,
    project: Project,
    principal: Principal,
    settings: Settings,
    status_code: int = 200,
) -> JSONResponse:
    headers = {
        "ETag": _etag(project.version),
        "Cache-Control": "private, no-cache",
        "Vary": "Authorization, Cookie",
    }
    if status_code == 201:
        headers["Location"] = str(request.url_for("get_project", project_id=project.id).path)
    body = _out(project, principal, settings).model_dump(mode="json")
    return JSONResponse(body, status_code=status_code, headers=headers)


def _municipality_out(m: Municipality) -> MunicipalityOut:
    bbox = None
    if None not in (m.west, m.south, m.east, m.north):
        bbox = [float(v) for v in (m.west, m.south, m.east, m.north) if v is not None]
    return MunicipalityOut(code=m.code, name=m.name, bbox=bbox, is_demo=m.is_demo)


def _history_out(row: ProjectHistory) -> HistoryOut:
    return HistoryOut(
        version=row.version,
        action=row.action,
        changed_by=row.changed_by,
        changed_at=row.changed_at,
        changes=row.changes,
    )


# -- projects --------------------------------------------------------------------------


@router.get("/api/projects", summary="Search projects", response_model=ProjectList)
def list_projects(
    db: DbSession, principal: PrincipalDep, settings: SettingsDep, f: FilterDep
) -> ProjectList:
    items, total = service.search_projects(db, principal, f)
    return ProjectList(
        items=[_out(p, principal, settings) for p in items],
        total=total,
        limit=f.limit,
        offset=f.offset,
    )


@router.post(
    "/api/projects",
    summary="Create a project",
    status_code=201,
    response_model=ProjectOut,
    responses={403: {"description": "Not an editor of any of its municipalities"}},
)
def create_project(
    request: Request,
    db: DbSession,
    principal: LoggedInDep,
    settings: SettingsDep,
    data: ProjectIn,
) -> JSONResponse:
    project = service.create_project(db, principal, data)
    return _project_response(request, project, principal, settings, 201)


@router.get(
    "/api/projects/{project_id}",
    summary="One project (ETag: its version)",
    response_model=ProjectOut,
    name="get_project",
)
def read_project(
    request: Request, project: ProjectDep, principal: PrincipalDep, settings: SettingsDep
) -> JSONResponse:
    return _project_response(request, project, principal, settings)


@router.put(
    "/api/projects/{project_id}",
    summary="Save a project over the version in If-Match",
    response_model=ProjectOut,
    responses={409: {"description": "Someone saved a newer version first"}},
)
def update_project(
    request: Request,
    principal: LoggedInDep,
    project: ProjectDep,
    db: DbSession,
    settings: SettingsDep,
    version: VersionDep,
    data: ProjectIn,
) -> JSONResponse:
    project = service.update_project(db, principal, project.id, data, version)
    return _project_response(request, project, principal, settings)


@router.delete(
    "/api/projects/{project_id}",
    summary="Delete a project at the version in If-Match",
    status_code=204,
    response_class=Response,
)
def delete_project(
    principal: LoggedInDep,
    project: ProjectDep,
    db: DbSession,
    settings: SettingsDep,
    version: VersionDep,
) -> Response:
    service.delete_project(
        db, principal, project.id, version, image_dir=settings.data_dir / "images"
    )
    return Response(status_code=204)


@router.post(
    "/api/projects/{project_id}/review",
    summary='Mark a project reviewed ("still current")',
    response_model=ProjectOut,
)
def review_project(
    request: Request,
    principal: LoggedInDep,
    project: ProjectDep,
    db: DbSession,
    settings: SettingsDep,
) -> JSONResponse:
    project = service.review_project(db, principal, project.id)
    return _project_response(request, project, principal, settings)


@router.get(
    "/api/projects/{project_id}/history",
    summary="Who changed what, when (staff of its municipalities)",
    response_model=list[HistoryOut],
)
def project_history(principal: LoggedInDep, project: ProjectDep, db: DbSession) -> list[HistoryOut]:
    return [_history_out(r) for r in service.project_history(db, principal, project.id)]


@router.post(
    "/api/projects/{project_id}/images",
    summary="Upload an image (PNG, JPEG or WebP; re-encoded without metadata)",
    status_code=201,
    response_model=ImageOut,
    openapi_extra={BODY_LIMIT_KEY: MAX_UPLOAD_BYTES},
    responses={
        413: {"description": "Too many bytes or pixels"},
        415: {"description": "Not an image"},
    },
)
def upload_image(
    request: Request,
    principal: LoggedInDep,
    project: ProjectDep,
    db: DbSession,
    settings: SettingsDep,
    file: Annotated[UploadFile, File(description="The image (PNG, JPEG or WebP).")],
    caption: Annotated[str | None, Form(max_length=300, description="A caption.")] = None,
) -> JSONResponse:
    data = file.file.read(MAX_IMAGE_BYTES + 1)
    image = service.add_image(
        db, principal, project.id, data, caption, image_dir=settings.data_dir / "images"
    )
    url = request.url_for("project_image", project_id=project.id, image_id=image.id).path
    out = ImageOut(
        id=image.id,
        url=url,
        width=image.width,
        height=image.height,
        caption=image.caption,
        content_type=image.content_type,
        project_version=project.version,
    )
    return JSONResponse(out.model_dump(), status_code=201, headers={"Location": url})


@router.get(
    "/api/projects/{project_id}/images/{image_id}",
    summary="An image of a project",
    response_class=Response,
    name="project_image",
    responses={200: {"content": {"image/png": {}, "image/jpeg": {}, "image/webp": {}}}},
)
def project_image(
    project: ProjectDep,
    db: DbSession,
    principal: PrincipalDep,
    settings: SettingsDep,
    image_id: Annotated[int, Path(ge=1, le=MAX_ID, description="The image's id.")],
    if_none_match: Annotated[
        str | None, Header(description="An ETag from an earlier response.")
    ] = None,
) -> Response:
    image, data = service.image_bytes(
        db, principal, project.id, image_id, image_dir=settings.data_dir / "images"
    )
    headers = {
        "ETag": f'"{image.sha256}"',
        "Cache-Control": "private, no-cache",
        "Vary": "Authorization, Cookie",
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; sandbox",
        "Content-Disposition": "inline",
    }
    if if_none_match and f'"{image.sha256}"' in if_none_match:
        return Response(status_code=304, headers=headers)
    return Response(data, media_type=image.content_type, headers=headers)


# -- reference data, steward views, overview -------------------------------------------


@router.get("/api/municipalities", summary="Municipalities", response_model=list[MunicipalityOut])
def municipalities(db: DbSession) -> list[MunicipalityOut]:
    return [_municipality_out(m) for m in service.list_municipalities(db)]


@router.post(
    "/api/municipalities",
    summary="Add a municipality (administrators)",
    status_code=201,
    response_model=MunicipalityOut,
)
def add_municipality(
    db: DbSession, principal: LoggedInDep, data: MunicipalityIn
) -> MunicipalityOut:
    row = service.add_municipality(
        db, principal, data.code, data.name.strip(), data.bbox, is_demo=data.is_demo
    )
    return _municipality_out(row)


@router.get("/api/categories", summary="Categories", response_model=list[CategoryOut])
def categories(db: DbSession) -> list[CategoryOut]:
    rows: list[Category] = service.list_categories(db)
    return [CategoryOut(key=c.key, name_sv=c.name_sv, name_en=c.name_en) for c in rows]


@router.get(
    "/api/municipalities/{code}/stale",
    summary="Steward view: projects not reviewed for stale_months (its staff)",
    response_model=StaleList,
)
def stale_projects(
    db: DbSession,
    principal: LoggedInDep,
    settings: SettingsDep,
    code: Annotated[
        str, Path(pattern=r"^[A-Za-z0-9_-]{1,8}$", description="The municipality's code.")
    ],
) -> StaleList:
    items, total = service.stale_projects(db, principal, code, months=settings.stale_months)
    return StaleList(
        municipality=code,
        months=settings.stale_months,
        total=total,
        items=[_out(p, principal, settings) for p in items],
    )


@router.get(
    "/api/catalogue/overview",
    summary="Counts per municipality and status (visible projects)",
    response_model=Overview,
)
def catalogue_overview(db: DbSession, principal: PrincipalDep, settings: SettingsDep) -> Overview:
    return Overview.model_validate(
        service.overview(db, principal, stale_months=settings.stale_months)
    )
