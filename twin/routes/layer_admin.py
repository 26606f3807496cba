"""Layer management for the viewer's import panel (see docs/GUIDE.md, "Imports in the browser").

- ``GET /api/manage/layers``: every layer the caller may change (GIS staff of its
  municipality, administrators), published or not, with its current version and the
  state of its newest import job.
- ``POST /api/imports/{id}/cancel``: cancel a queued job (409 once a worker took it).
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from sqlalchemy import func, select

from ..auth.deps import PrincipalDep
from ..errors import Conflict, NotAuthenticated
from ..jobs import queue
from ..jobs.models import READY, ImportJob, LayerRow, LayerVersionRow
from ..store import can_manage
from .deps import StoreDep
from .imports import JobInfo, _load_job, _managed_job, job_info

router = APIRouter(tags=["imports"])


class ManagedLayer(BaseModel):
    name: str
    title: str
    public: bool
    owner: str | None
    current: str | None = Field(description="The published version; null before the first.")
    versions: int = Field(description="Ready versions.")
    last_job: str | None = Field(description="The newest import job's id.")
    last_state: str | None = Field(description="Its state.")
    created: datetime


@router.get("/api/manage/layers", summary="Layers the caller may upload to and publish")
def managed_layers(store: StoreDep, principal: PrincipalDep) -> list[ManagedLayer]:
    if principal.anonymous:
        raise NotAuthenticated("log in first")
    with store.db.session() as session:
        rows = [
            r
            for r in session.scalars(select(LayerRow).order_by(LayerRow.name)).all()
            if can_manage(r, principal)
        ]
        names = [r.name for r in rows]
        counts = dict(
            session.execute(
                select(LayerVersionRow.layer, func.count())
                .where(LayerVersionRow.layer.in_(names), LayerVersionRow.status == READY)
                .group_by(LayerVersionRow.layer)
            ).all()
        )
        newest: dict[str, tuple[str, str]] = {}
        for job_id, layer, state in session.execute(
            select(ImportJob.id, ImportJob.layer, ImportJob.state)
            .where(ImportJob.layer.in_(names))
            .order_by(ImportJob.created_at.desc(), ImportJob.id.desc())
        ).all():
            newest.setdefault(layer, (job_id, state))
    return [
        ManagedLayer(
            name=r.name,
            title=r.title,
            public=r.public,
            owner=r.owner,
            current=r.current_version,
            versions=counts.get(r.name, 0),
            last_job=newest.get(r.name, (None, None))[0],
            last_state=newest.get(r.name, (None, None))[1],
            created=r.created_at,
        )
        for r in rows
    ]


@router.post("/api/imports/{job_id}/cancel", summary="Cancel a queued import job")
def cancel_import(
    request: Request, job_id: str, store: StoreDep, principal: PrincipalDep
) -> JobInfo:
    job = _managed_job(store, job_id, principal)
    if not queue.cancel(store, job.id):
        state = _load_job(store, job.id).state
        raise Conflict(f"import job {job_id!r} is {state}: only a queued job can be cancelled")
    return job_info(request, _load_job(store, job.id))
