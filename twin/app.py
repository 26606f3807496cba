"""``create_app(settings)``: the twin web service."""

from __future__ import annotations

import mimetypes
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, JSONResponse, Response
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.types import ASGIApp

from layers.catalogue.errors import (
    CatalogueError,
    InvalidProject,
    PermissionDenied,
    ProjectNotFound,
    VersionConflict,
)
from layers.catalogue.images import ImageTooLarge, UnsupportedImage
from layers.catalogue.io import ImportTooLarge, UnsupportedFormat
from layers.sensors.errors import (
    DatastreamNotFound,
    IngestKeyInvalid,
    InvalidSensorData,
    SensorConflict,
    SensorError,
    SensorForbidden,
    SourceNotFound,
)
from tiles.errors import TilesError

from . import __version__
from .compression import ApiGZip, CompressedStaticFiles, GzipCache
from .db import Database
from .errors import (
    Conflict,
    CSRFFailed,
    Forbidden,
    InvalidRequest,
    LayerNotFound,
    NotAuthenticated,
    NotFound,
    PayloadTooLarge,
    RateLimited,
    TileNotFound,
    TwinError,
)
from .routes import api, auth, imports, layer_admin, ogc, projects, search, sensors, tiles
from .routes.projects import PreconditionRequired
from .settings import Settings
from .store import InvalidLayerName, Store
from .viewer_page import preloaded_page

# Starlette serves unknown suffixes as text/plain: register the 3D Tiles ones first.
for _suffix, _type in {
    ".glb": "model/gltf-binary",
    ".gltf": "model/gltf+json",
    ".b3dm": "application/octet-stream",
    ".pnts": "application/octet-stream",
    ".i3dm": "application/octet-stream",
    ".cmpt": "application/octet-stream",
    ".subtree": "application/octet-stream",
    ".json": "application/json",
    ".mjs": "text/javascript",
    ".js": "text/javascript",
    ".wasm": "application/wasm",
}.items():
    mimetypes.add_type(_type, _suffix)

#: One table from library errors to HTTP statuses; routes never translate by hand.
STATUS_CODES: dict[type[Exception], int] = {
    LayerNotFound: 404,
    TileNotFound: 404,
    NotFound: 404,
    NotAuthenticated: 401,
    Forbidden: 403,
    CSRFFailed: 403,
    Conflict: 409,
    RateLimited: 429,
    PayloadTooLarge: 413,
    InvalidRequest: 422,
    InvalidLayerName: 422,
    TwinError: 400,
    TilesError: 422,
    ImportTooLarge: 413,
    UnsupportedFormat: 415,
    PreconditionRequired: 428,
    UnsupportedImage: 415,
    ImageTooLarge: 413,
    ProjectNotFound: 404,
    PermissionDenied: 403,
    VersionConflict: 409,
    InvalidProject: 422,
    CatalogueError: 400,
    DatastreamNotFound: 404,
    SourceNotFound: 404,
    SensorForbidden: 403,
    IngestKeyInvalid: 401,
    SensorConflict: 409,
    InvalidSensorData: 422,
    SensorError: 400,
}

STATIC = Path(__file__).with_name("static")
#: Paths that serve files: gzipped once through the app's GzipCache, not per request.
FILE_PREFIXES = ("/viewer/", "/cesium/", "/tiles/", "/static/twin/", "/swagger-ui/", "/uplot/")


def csp_base(origins: list[str] | tuple[str, ...] = ()) -> str:
    """The pages' policy; ``origins``: the base-map and terrain servers of the settings,
    the only other places images and fetches may come from."""
    extra = "".join(f" {o}" for o in origins)
    return (
        "default-src 'self'; script-src 'self' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; "
        f"img-src 'self' data: blob:{extra}; worker-src 'self' blob:; "
        f"connect-src 'self' data: blob:{extra}; "
        "font-src 'self' data:; object-src 'none'; base-uri 'self'"
    )


CSP_BASE = csp_base()
CSP = f"{CSP_BASE}; frame-ancestors 'self'"


def viewer_csp(frame_ancestors: str, origins: list[str] | tuple[str, ...] = ()) -> str:
    """The embed viewer's policy: framed by ``TWIN_FRAME_ANCESTORS`` (docs/EMBED.md)."""
    return f"{csp_base(origins)}; frame-ancestors {frame_ancestors}"


def is_embed(request: Request) -> bool:
    return request.query_params.get("embed") in ("1", "true")


def add_exception_handlers(app: FastAPI) -> None:
    async def handle(request: Request, exc: Exception) -> JSONResponse:
        status = next((s for t, s in STATUS_CODES.items() if isinstance(exc, t)), 500)
        code = getattr(exc, "code", "error")
        message = getattr(exc, "message", str(exc))
        headers = {}
        body: dict[str, object] = {"code": code, "message": message}
        if isinstance(exc, RateLimited):
            headers["Retry-After"] = str(exc.retry_after)
        if getattr(exc, "field", None):
            body["field"] = exc.field  # type: ignore[attr-defined]
        if isinstance(exc, VersionConflict):
            body["current_version"] = exc.current_version
            headers["ETag"] = f'"{exc.current_version}"'
        return JSONResponse(body, status_code=status, headers=headers)

    for exc_type in STATUS_CODES:
        app.add_exception_handler(exc_type, handle)


class SecurityHeaders(BaseHTTPMiddleware):
    def __init__(self, app: ASGIApp, csp: str = CSP) -> None:
        super().__init__(app)
        self.csp = csp

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        response = await call_next(request)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        # Only the embed viewer page may be framed by other sites (it sets its own CSP).
        if not (request.url.path == "/" and is_embed(request)):
            response.headers.setdefault("X-Frame-Options", "SAMEORIGIN")
        if response.headers.get("content-type", "").startswith("text/html"):
            response.headers.setdefault("Content-Security-Policy", self.csp)
        return response


@asynccontextmanager
async def _workers_lifespan(app: FastAPI) -> AsyncIterator[None]:
    """With ``start_workers`` (``twin serve``), run ``workers`` job workers beside the app:
    separate processes, so no conversion ever runs in the web process."""
    settings: Settings = app.state.settings
    supervisor = None
    if settings.start_workers and settings.workers > 0:
        from .jobs.worker import Supervisor

        supervisor = Supervisor(settings)
        supervisor.start()
    sensor_sources = None  # `twin sensors run` beside the app when a source is configured
    if settings.start_workers and settings.sensors_in_serve and settings.sensor_sources_configured:
        from .sensors_runner import SensorsProcess

        sensor_sources = SensorsProcess(settings)
        sensor_sources.start()
    try:
        yield
    finally:
        if supervisor is not None:
            supervisor.stop()
        if sensor_sources is not None:
            sensor_sources.stop()


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    app = FastAPI(
        lifespan=_workers_lifespan,
        docs_url=None,
        redoc_url=None,
        title="twin",
        version=__version__,
        description="A lightweight digital twin for municipalities: 3D city models "
        "as OGC 3D Tiles, with a browser viewer.",
    )
    app.state.settings = settings
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    app.state.db = Database(settings.database)
    app.state.db.setup()
    app.state.store = Store(settings.data_dir, app.state.db)
    app.state.store.migrate_legacy()  # layers from before the database, once
    app.state.store.remove_stale_staging(settings.job_stale_seconds)
    add_exception_handlers(app)
    origins = settings.external_origins
    app.add_middleware(SecurityHeaders, csp=f"{csp_base(origins)}; frame-ancestors 'self'")
    app.add_middleware(ApiGZip, files=FILE_PREFIXES)
    app.include_router(api.router)
    app.include_router(tiles.router)
    app.include_router(auth.router)
    app.include_router(imports.router)
    app.include_router(layer_admin.router)
    # Before projects: /api/projects/export.* must win over /api/projects/{id}.
    app.include_router(ogc.router)
    app.include_router(projects.router)
    app.include_router(sensors.router)
    app.include_router(search.router)

    # Static files and tiles are gzipped once and kept (twin/compression.py).
    gzip_cache = app.state.gzip_cache = GzipCache()

    def static(directory: Path) -> CompressedStaticFiles:
        return CompressedStaticFiles(directory=directory, cache=gzip_cache)

    viewer_dir: Path = settings.viewer_dir
    index = viewer_dir / "index.html"

    # Read once: the page with a modulepreload link per module main.js loads statically.
    page = preloaded_page(index, viewer_dir) if index.is_file() else None

    @app.api_route("/", methods=["GET", "HEAD"], include_in_schema=False)
    def viewer_page(request: Request) -> Response:
        if page is None:
            raise TileNotFound("the viewer is not installed")
        headers = {"Cache-Control": "no-cache"}
        if is_embed(request):
            # Anonymous in any frame: the session cookie is SameSite=Lax, so a cross-site
            # frame's requests carry none; the embed page offers no login (docs/EMBED.md).
            headers["Content-Security-Policy"] = viewer_csp(settings.frame_ancestors, origins)
        return Response(page, media_type="text/html; charset=utf-8", headers=headers)

    if viewer_dir.is_dir():
        app.mount("/viewer", static(viewer_dir), name="viewer")

    @app.get("/docs", include_in_schema=False)
    def api_docs() -> FileResponse:
        """The OpenAPI reference (Swagger UI from npm, served locally)."""
        return FileResponse(STATIC / "docs.html", headers={"Cache-Control": "no-cache"})

    app.mount("/static/twin", static(STATIC), name="twin-static")
    if settings.swagger_dir.is_dir():
        app.mount("/swagger-ui", static(settings.swagger_dir), name="swagger-ui")
    if settings.cesium_dir.is_dir():
        app.mount("/cesium", static(settings.cesium_dir), name="cesium")
    if settings.uplot_dir.is_dir():
        app.mount("/uplot", static(settings.uplot_dir), name="uplot")
    return app
