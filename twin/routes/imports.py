"""Imports as durable jobs: upload, watch, publish, roll back (see docs/GUIDE.md).

- ``POST /api/layers/{layer}/imports``: multipart upload (``file``: a map export or a zip
  of a folder) → 202 with the queued job. Checked before queueing: size, zip entry
  names, entry count, total size and ratio (413 / 422 ``unsafe_path`` /
  ``unsupported_archive`` / ``no_convertible_file``).
- ``GET /api/imports/{id}``, ``GET /api/imports/{id}/events`` (server-sent events),
  ``POST /api/imports/{id}/publish``, ``GET /api/layers/{layer}/imports``.
- ``GET /api/layers/{layer}/versions``, ``POST .../versions/{version}/publish`` (publish
  or roll back), ``DELETE .../versions/{version}`` (never the current one),
  ``PATCH /api/layers/{layer}`` (title, public).

Only GIS staff of the layer's municipality and administrators use these; to anyone else
an internal layer's jobs and versions do not exist (404) and a public one's are 403.
"""

from __future__ import annotations

import asyncio
import math
import shutil
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path as FsPath
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response, StreamingResponse
from pydantic import BaseModel, Field
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from layers.catalogue.rules import Principal

from ..auth.deps import PrincipalDep
from ..errors import (
    Forbidden,
    InvalidRequest,
    JobNotFound,
    LayerNotFound,
    NotAuthenticated,
    UploadTooLarge,
)
from ..jobs import queue
from ..jobs.models import TERMINAL, ImportJob
from ..jobs.uploads import Limits, copy_capped, prepare, safe_filename
from ..settings import Settings
from ..store import Layer, Store, check_name
from . import sse
from .deps import SettingsDep, StoreDep
from .limits import capped_request

router = APIRouter(tags=["imports"])

LayerName = Annotated[str, Path(description="The layer's name, e.g. `demo`.")]
FORM_OVERHEAD = 1 << 20  # multipart boundaries and the small fields
EVENT_POLL_SECONDS = 0.5
EVENT_KEEPALIVE_SECONDS = 15.0
AXIS_ORDERS = ("xy", "yx")


class JobError(BaseModel):
    code: str
    message: str


class JobInfo(BaseModel):
    """An import job: ``queued`` → ``running`` (stage, percent) → ``succeeded`` (a ready
    version, not current), ``published`` or ``failed`` (``error``)."""

    id: str
    layer: str
    state: str = Field(description="queued, running, succeeded, published or failed.")
    stage: str = Field(description="queued, starting, converting, validating, publishing, done.")
    percent: int
    error: JobError | None
    version: str | None = Field(description="The version this job makes (once running).")
    auto_publish: bool
    source: str
    report: dict[str, Any] | None
    created: datetime
    started: datetime | None
    finished: datetime | None
    attempts: int
    urls: dict[str, str]


class VersionInfo(BaseModel):
    id: str
    created: str
    current: bool
    source: str
    sha256: str
    options: dict[str, Any]
    job: str | None
    tileset_url: str
    report: dict[str, Any]


class LayerPatch(BaseModel):
    title: str | None = Field(None, min_length=1, max_length=200)
    public: bool | None = None


def job_info(request: Request, job: ImportJob) -> JobInfo:
    error = (
        JobError(code=job.error_code, message=job.error_message or "") if job.error_code else None
    )
    base = request.url_for("get_import", job_id=job.id).path
    return JobInfo(
        id=job.id,
        layer=job.layer,
        state=job.state,
        stage=job.stage,
        percent=job.percent,
        error=error,
        version=job.version_id,
        auto_publish=job.auto_publish,
        source=job.source_name,
        report=job.report,
        created=job.created_at,
        started=job.started_at,
        finished=job.finished_at,
        attempts=job.attempts,
        urls={"self": base, "events": f"{base}/events", "publish": f"{base}/publish"},
    )


def _load_job(store: Store, job_id: str) -> ImportJob:
    with store.db.session() as session:
        job = session.get(ImportJob, job_id[:64])
    if job is None:
        raise JobNotFound(f"no import job {job_id!r}")
    return job


def _managed_job(store: Store, job_id: str, principal: Principal) -> ImportJob:
    job = _load_job(store, job_id)
    try:
        store.get_managed(job.layer, principal)
    except (LayerNotFound, Forbidden):
        raise JobNotFound(f"no import job {job_id!r}") from None
    return job


def _limits(settings: Settings) -> Limits:
    return Limits(
        settings.upload_max_bytes,
        settings.archive_max_entries,
        settings.archive_max_bytes,
        settings.archive_max_ratio,
    )


def _field(form: Any, name: str) -> str | None:
    value = form.get(name)
    if value is None or isinstance(value, UploadFile):
        return None
    text = str(value).strip()
    return text or None


def _mesh_options(form: Any) -> dict[str, Any]:
    """Meshes: ``origin`` ("X Y Z" or "X,Y,Z"), ``up`` ("y"/"z"), ``mesh_scale``."""
    out: dict[str, Any] = {}
    origin, up, scale = _field(form, "origin"), _field(form, "up"), _field(form, "mesh_scale")
    try:
        if origin is not None:
            xyz = [float(v) for v in origin.replace(",", " ").split()]
            if len(xyz) != 3 or not all(math.isfinite(v) for v in xyz):
                raise ValueError
            out["origin"] = xyz
        if scale is not None:
            out["mesh_scale"] = float(scale)
            if not (math.isfinite(out["mesh_scale"]) and out["mesh_scale"] > 0):
                raise ValueError
    except ValueError:
        raise InvalidRequest(
            "origin must be three numbers 'X Y Z'; mesh_scale a positive number"
        ) from None
    if up is not None:
        if up not in ("y", "z"):
            raise InvalidRequest("up must be 'y' or 'z'")
        out["up"] = up
    return out


def _flag(form: Any, name: str, default: bool) -> bool:
    value = _field(form, name)
    if value is None:
        return default
    if value.lower() in ("1", "true", "yes", "on"):
        return True
    if value.lower() in ("0", "false", "no", "off"):
        return False
    raise InvalidRequest(f"{name} must be true or false, not {value!r}")


def _existing(store: Store, name: str, principal: Principal) -> Layer | None:
    try:
        return store.get_managed(name, principal)
    except LayerNotFound:
        try:
            store.get(name, None, published=False)
        except LayerNotFound:
            return None
        raise


@router.post(
    "/api/layers/{layer}/imports",
    status_code=202,
    summary="Upload a map export (or a zip of a folder) as a new version of a layer",
)
async def create_import(
    request: Request,
    layer: LayerName,
    store: StoreDep,
    settings: SettingsDep,
    principal: PrincipalDep,
) -> JobInfo:
    """Multipart fields: ``file`` (required), ``title``, ``public`` and ``owner`` (a new
    layer's), ``crs``, ``lod``, ``axis_order``, ``auto_publish`` (default false); for
    meshes ``origin`` ("X Y Z"), ``up`` ("y" or "z"), ``mesh_scale``; ``compression``
    (default true), ``meshopt`` (default false), ``tiles_version`` ("1.1" default, or
    "1.0"); for point clouds ``drop_outliers`` (default false)."""
    check_name(layer)
    if principal.anonymous:
        raise NotAuthenticated("log in first")
    existing = await run_in_threadpool(_existing, store, layer, principal)
    if existing is None and not (principal.is_admin or principal.gis_of):
        raise Forbidden("only GIS staff and administrators create layers")
    limits = _limits(settings)
    cap = limits.max_bytes + FORM_OVERHEAD
    capped = capped_request(
        request, cap, lambda: UploadTooLarge(f"the upload is larger than {cap:,} bytes")
    )
    form = await capped.form(max_files=1, max_fields=20)
    try:
        upload = form.get("file")
        if not isinstance(upload, UploadFile) or not upload.filename:
            raise InvalidRequest("send the map export as the multipart field 'file'")
        owner = _field(form, "owner")
        if existing is None:
            if owner is None and not principal.is_admin and len(principal.gis_of) == 1:
                owner = next(iter(principal.gis_of))
            if not principal.is_admin and owner not in principal.gis_of:
                raise Forbidden("a new layer must belong to a municipality you are GIS staff of")
        axis = _field(form, "axis_order")
        if axis is not None and axis not in AXIS_ORDERS:
            raise InvalidRequest("axis_order must be 'xy' or 'yx'")
        options: dict[str, Any] = {
            "crs": _field(form, "crs"),
            "lod": _field(form, "lod"),
            "axis_order": axis,
        }
        if _flag(form, "ground_at_ellipsoid", False):
            options["ground_at_ellipsoid"] = True
        if _flag(form, "drop_outliers", False):  # point clouds
            options["drop_outliers"] = True
        if not _flag(form, "compression", True):
            options["compression"] = False
        if _flag(form, "meshopt", False):
            options["meshopt"] = True
        version = _field(form, "tiles_version")
        if version is not None:
            if version not in ("1.0", "1.1"):
                raise InvalidRequest("tiles_version must be '1.0' or '1.1'")
            options["tiles_version"] = version
        options.update(_mesh_options(form))
        auto_publish = _flag(form, "auto_publish", False)
        public = _flag(form, "public", True)
        title = _field(form, "title")
        job_id = queue.new_job_id()
        folder = queue.job_folder(store, job_id)

        def stage() -> FsPath:
            folder.mkdir(parents=True)
            target = folder / safe_filename(upload.filename or "upload")
            upload.file.seek(0)
            copy_capped(iter(lambda: upload.file.read(1 << 20), b""), target, limits.max_bytes)
            return prepare(target, folder, limits)

        try:
            source = await run_in_threadpool(stage)
            if existing is None:
                await run_in_threadpool(
                    store.ensure_layer, layer, title=title, public=public, owner=owner
                )
            elif title:
                await run_in_threadpool(store.update_layer, layer, title=title, public=None)
            await run_in_threadpool(
                queue.enqueue,
                store,
                job_id,
                layer,
                source,
                upload.filename if source.parent == folder else source.name,
                options,
                auto_publish=auto_publish,
                created_by=principal.user_id,
            )
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
    finally:
        await form.close()
    return job_info(request, await run_in_threadpool(_load_job, store, job_id))


@router.get("/api/imports/{job_id}", name="get_import", summary="An import job")
def get_import(request: Request, job_id: str, store: StoreDep, principal: PrincipalDep) -> JobInfo:
    return job_info(request, _managed_job(store, job_id, principal))


@router.post("/api/imports/{job_id}/publish", summary="Publish the version a job made")
def publish_import(
    request: Request, job_id: str, store: StoreDep, principal: PrincipalDep
) -> JobInfo:
    _managed_job(store, job_id, principal)
    queue.publish_job(store, job_id)
    return job_info(request, _load_job(store, job_id))


@router.get(
    "/api/imports/{job_id}/events",
    summary="Server-sent events: the job's state, stage and percent until it ends",
)
async def import_events(
    request: Request, job_id: str, store: StoreDep, principal: PrincipalDep
) -> StreamingResponse:
    """Each change is an ``event: job`` whose ``data`` is the job as ``GET`` gives it; the
    stream ends after the job's final state. ``Last-Event-ID`` is accepted (events are
    numbered per connection; a reconnect always starts with the current state)."""
    job = await run_in_threadpool(_managed_job, store, job_id, principal)

    async def events() -> AsyncIterator[str]:
        last: tuple[str, str, int] | None = None
        number = 0
        quiet = 0.0
        current = job
        yield sse.RETRY
        while True:
            key = (current.state, current.stage, current.percent)
            if key != last:
                number += 1
                data = job_info(request, current).model_dump_json()
                yield sse.event(data, event_id=number, name="job")
                last, quiet = key, 0.0
            if current.state in TERMINAL:
                return
            await asyncio.sleep(EVENT_POLL_SECONDS)
            quiet += EVENT_POLL_SECONDS
            if quiet >= EVENT_KEEPALIVE_SECONDS:
                yield sse.HEARTBEAT
                quiet = 0.0
            if await request.is_disconnected():
                return
            current = await run_in_threadpool(_load_job, store, job_id)

    return sse.response(events())


@router.get("/api/layers/{layer}/imports", summary="A layer's import jobs, newest first")
def list_imports(
    request: Request, layer: LayerName, store: StoreDep, principal: PrincipalDep
) -> list[JobInfo]:
    store.get_managed(layer, principal)
    with store.db.session() as session:
        jobs = session.scalars(
            select(ImportJob)
            .where(ImportJob.layer == layer)
            .order_by(ImportJob.created_at.desc())
            .limit(100)
        ).all()
    return [job_info(request, j) for j in jobs]


def _versions(request: Request, layer: Layer) -> list[VersionInfo]:
    return [
        VersionInfo(
            id=v.id,
            created=v.created,
            current=v.id == layer.current,
            source=v.source_name,
            sha256=v.source_sha256,
            options=v.options,
            job=v.job_id,
            tileset_url=request.url_for(
                "tile_file", layer=layer.name, path=f"@{v.id}/tileset.json"
            ).path,
            report=v.report,
        )
        for v in reversed(layer.ready_versions)
    ]


@router.get("/api/layers/{layer}/versions", summary="A layer's ready versions, newest first")
def list_versions(
    request: Request, layer: LayerName, store: StoreDep, principal: PrincipalDep
) -> list[VersionInfo]:
    return _versions(request, store.get_managed(layer, principal))


@router.post(
    "/api/layers/{layer}/versions/{version}/publish",
    summary="Make a version current (publish a new one or roll back to an old one)",
)
def publish_version(
    request: Request,
    layer: LayerName,
    version: str,
    store: StoreDep,
    principal: PrincipalDep,
) -> list[VersionInfo]:
    store.get_managed(layer, principal)
    store.publish(layer, version)
    return _versions(request, store.get_managed(layer, principal))


@router.delete(
    "/api/layers/{layer}/versions/{version}",
    status_code=204,
    summary="Delete an old version (409 for the current one)",
)
def delete_version(
    layer: LayerName, version: str, store: StoreDep, principal: PrincipalDep
) -> Response:
    store.get_managed(layer, principal)
    store.delete_version(layer, version)
    return Response(status_code=204)


@router.patch("/api/layers/{layer}", summary="Change a layer's title or public/internal")
def patch_layer(
    layer: LayerName, body: LayerPatch, store: StoreDep, principal: PrincipalDep
) -> dict[str, Any]:
    store.get_managed(layer, principal)
    store.update_layer(layer, title=body.title, public=body.public)
    row = store.get(layer, principal, published=False)
    return {"name": row.name, "title": row.title, "public": row.public, "owner": row.owner}
