"""Reading the catalogue: what a principal may see, and how it is shown to them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Select, exists, or_, select

from .models import Project, ProjectMunicipality
from .render import markdown_html
from .rules import Action, Principal, can, visible_municipalities
from .schemas import Link, ProjectOut


def visible_projects(principal: Principal) -> Select[Project]:
    """Every project ``principal`` may see: public ones, plus internal ones of their
    municipalities (all for admins). Use this in *every* route that reads projects."""
    query = select(Project)
    codes = visible_municipalities(principal)
    if codes is None:
        return query
    if not codes:
        return query.where(Project.public.is_(True))
    own = exists().where(
        ProjectMunicipality.project_id == Project.id,
        ProjectMunicipality.municipality_code.in_(sorted(codes)),
    )
    return query.where(or_(Project.public.is_(True), own))


def is_stale(project: Project, months: int, now: datetime | None = None) -> bool:
    now = now or datetime.now(UTC)
    last = project.last_reviewed_at or project.created_at
    if last.tzinfo is None:  # SQLite returns naive datetimes
        last = last.replace(tzinfo=UTC)
    return now - last > timedelta(days=30.44 * months)


def to_out(project: Project, principal: Principal, *, stale_months: int = 6) -> ProjectOut:
    """Serialise ``project`` for ``principal``: internal fields only where allowed."""
    internal = can(
        principal,
        Action.VIEW_INTERNAL_FIELDS,
        public=project.public,
        municipalities=project.municipality_codes,
    )
    images: list[dict[str, Any]] = [
        {
            "id": i.id,
            "width": i.width,
            "height": i.height,
            "caption": i.caption,
            "content_type": i.content_type,
        }
        for i in project.images
    ]
    bbox = None
    if project.min_lon is not None:
        bbox = [project.min_lon, project.min_lat, project.max_lon, project.max_lat]
    return ProjectOut(
        id=project.id,
        version=project.version,
        title_sv=project.title_sv,
        title_en=project.title_en,
        summary_sv=project.summary_sv,
        summary_en=project.summary_en,
        description=project.description,
        description_html=markdown_html(project.description),
        municipalities=project.municipality_codes,
        categories=project.category_keys,
        status=project.status,
        start_date=project.start_date,
        end_date=project.end_date,
        contact=project.contact if (internal or project.contact_public) else None,
        contact_public=project.contact_public,
        partners=list(project.partners or []),
        links=[Link(**link) for link in project.links or []],
        testbed=project.testbed,
        tags=list(project.tags or []),
        geometry=project.geometry,
        bbox=bbox,
        public=project.public,
        images=images,
        last_reviewed_at=project.last_reviewed_at,
        created_at=project.created_at,
        updated_at=project.updated_at,
        created_by=project.created_by if internal else None,
        updated_by=project.updated_by if internal else None,
        stale=is_stale(project, stale_months),
    )
