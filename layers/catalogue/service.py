"""Changing and searching the catalogue: the functions every interface calls.

The JSON API, OGC API Features, exports, imports and the CLI all go through here, so the
rules (:func:`layers.catalogue.rules.can`), the visibility filter
(:func:`layers.catalogue.queries.visible_projects`), validation, history and optimistic
concurrency hold the same way everywhere. No web imports.

- Reads start from ``visible_projects(principal)``; a project the caller may not see is
  :class:`ProjectNotFound`, never :class:`PermissionDenied` (its existence is not told).
- Writes check the caller may see the project (else 404), then may act on it (else 403),
  then the version they started from (else :class:`VersionConflict`; nothing is written).
  The version is also checked by the database (``version_id_col``): a concurrent save
  between our read and our write raises ``StaleDataError``, turned into a conflict.
- Every create, update, review, image upload and delete writes one history row:
  ``{field: [old, new]}`` for changes, the full record for create and delete.
- Functions commit their own transaction (``commit=False`` lets an import batch them).
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from sqlalchemy import ColumnElement, Select, case, exists, func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from ..db import utcnow
from .errors import InvalidProject, PermissionDenied, ProjectNotFound, VersionConflict
from .images import clean_image, image_path, write_image
from .models import (
    STATUSES,
    Category,
    Municipality,
    Project,
    ProjectCategory,
    ProjectHistory,
    ProjectImage,
    ProjectMunicipality,
)
from .queries import visible_projects
from .rules import Action, Principal, can
from .schemas import ProjectIn, Status

#: Sort keys callers may use (prefix ``-`` for descending); anything else is refused.
SORT_KEYS = ("title", "updated_at", "created_at", "start_date", "status", "last_reviewed_at")
_SORT_COLUMNS: dict[str, Any] = {
    "title": func.lower(Project.title_sv),
    "updated_at": Project.updated_at,
    "created_at": Project.created_at,
    "start_date": Project.start_date,
    "status": Project.status,
    "last_reviewed_at": func.coalesce(Project.last_reviewed_at, Project.created_at),
}
MAX_SEARCH_WORDS = 10
STALE_DAYS_PER_MONTH = 30.44  # as in queries.is_stale


class ProjectFilter(BaseModel):
    """What to look for in the catalogue; every field is optional (AND-combined)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    q: str | None = Field(
        None, max_length=200, description="Words in title, summary, description or tags."
    )
    municipality: list[str] = Field(default_factory=list, max_length=50)
    category: list[str] = Field(default_factory=list, max_length=50)
    status: list[Status] = Field(default_factory=list, max_length=6)
    date_from: date | None = Field(None, description="Projects running on or after this day.")
    date_to: date | None = Field(None, description="Projects running on or before this day.")
    bbox: tuple[float, float, float, float] | None = Field(
        None, description="lon/lat west, south, east, north; intersects the project's extent."
    )
    public: bool | None = None
    stale_only: bool = False
    months: int = Field(6, ge=1, le=1200, description="Not reviewed for this many months.")
    sort: str = Field("-updated_at", description=f"One of {', '.join(SORT_KEYS)}; - descends.")
    limit: int = Field(50, ge=1, le=500)
    offset: int = Field(0, ge=0, le=10_000_000)

    @field_validator("sort")
    @classmethod
    def _sort_allowed(cls, v: str) -> str:
        if v.removeprefix("-") not in SORT_KEYS:
            raise ValueError(f"unknown sort key; use one of {', '.join(SORT_KEYS)} (- descends)")
        return v

    @field_validator("q", "municipality", "category")
    @classmethod
    def _printable(cls, v: Any) -> Any:
        if _control_chars(v):
            raise ValueError("control characters are not allowed")
        return v

    @field_validator("bbox")
    @classmethod
    def _bbox(cls, v: tuple[float, float, float, float] | None) -> Any:
        if v is None:
            return v
        west, south, east, north = v
        if not all(math.isfinite(x) for x in v):
            raise ValueError("bbox values must be finite numbers")
        if not (-180 <= west <= east <= 180 and -90 <= south <= north <= 90):
            raise ValueError("bbox is lon/lat west,south,east,north with west<=east, south<=north")
        return v

    @model_validator(mode="after")
    def _dates(self) -> ProjectFilter:
        if self.date_from and self.date_to and self.date_to < self.date_from:
            raise ValueError("date_to is before date_from")
        return self


# -- reading ---------------------------------------------------------------------------


def get_project(db: Session, principal: Principal, project_id: int) -> Project:
    """The project, if ``principal`` may see it; else :class:`ProjectNotFound`."""
    project = db.scalar(visible_projects(principal).where(Project.id == project_id))
    if project is None:
        raise ProjectNotFound(f"project {project_id} not found")
    return project


def fold(text: str) -> str:
    """The form titles, summaries and queries are compared in: case folded and without
    diacritics, so "malmo" finds "Malmö" and "HÖGANÄS" finds "Höganäs" (as the objects'
    search index does, SQLite FTS5 ``remove_diacritics``). Letters that are not a base
    letter plus marks (æ, ø, ł) stay as they are."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _like_word(word: str) -> ColumnElement[bool]:
    escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return Project.search_text.like(f"%{escaped}%", escape="\\")


def _stale_cutoff(months: int, now: datetime | None = None) -> datetime:
    return (now or datetime.now(UTC)) - timedelta(days=STALE_DAYS_PER_MONTH * months)


def _filtered(principal: Principal, f: ProjectFilter) -> Select[Project]:
    query = visible_projects(principal)
    if f.q:
        for word in fold(f.q).split()[:MAX_SEARCH_WORDS]:
            query = query.where(_like_word(word))
    if f.municipality:
        query = query.where(
            exists().where(
                ProjectMunicipality.project_id == Project.id,
                ProjectMunicipality.municipality_code.in_(f.municipality),
            )
        )
    if f.category:
        query = query.where(
            exists().where(
                ProjectCategory.project_id == Project.id,
                ProjectCategory.category_key.in_(f.category),
            )
        )
    if f.status:
        query = query.where(Project.status.in_(f.status))
    if f.date_from or f.date_to:
        # Overlap of [start_date, end_date] (open ends) with the range; undated projects
        # are left out, since nothing is known about when they run.
        query = query.where(or_(Project.start_date.is_not(None), Project.end_date.is_not(None)))
        if f.date_from:
            query = query.where(or_(Project.end_date.is_(None), Project.end_date >= f.date_from))
        if f.date_to:
            query = query.where(or_(Project.start_date.is_(None), Project.start_date <= f.date_to))
    if f.bbox:
        west, south, east, north = f.bbox
        query = query.where(
            Project.min_lon <= east,
            Project.max_lon >= west,
            Project.min_lat <= north,
            Project.max_lat >= south,
        )
    if f.public is not None:
        query = query.where(Project.public.is_(f.public))
    if f.stale_only:
        last = func.coalesce(Project.last_reviewed_at, Project.created_at)
        query = query.where(last < _stale_cutoff(f.months))
    return query


def search_projects(
    db: Session, principal: Principal, f: ProjectFilter
) -> tuple[list[Project], int]:
    """One page of the projects ``principal`` may see that match ``f``, and the total."""
    query = _filtered(principal, f)
    total = db.scalar(select(func.count()).select_from(query.subquery())) or 0
    key = f.sort.removeprefix("-")
    if key not in _SORT_COLUMNS:  # ProjectFilter checks too; never trust a constructed one
        raise InvalidProject(f"unknown sort key {key!r}", field="sort")
    column = _SORT_COLUMNS[key]
    order = column.desc() if f.sort.startswith("-") else column.asc()
    query = query.order_by(order.nulls_last(), Project.id.asc()).limit(f.limit).offset(f.offset)
    return list(db.scalars(query)), int(total)


def stale_projects(
    db: Session, principal: Principal, municipality: str, *, months: int, limit: int = 500
) -> tuple[list[Project], int]:
    """The steward view: ``municipality``'s projects not reviewed for ``months`` months,
    least recently reviewed first (its staff and administrators only)."""
    if db.get(Municipality, municipality) is None:
        raise ProjectNotFound(f"municipality {municipality!r} not found", field="municipality")
    if not can(principal, Action.STEWARD, municipalities=[municipality]):
        raise PermissionDenied("the steward view is for the municipality's own staff")
    f = ProjectFilter(
        municipality=[municipality],
        stale_only=True,
        months=months,
        sort="last_reviewed_at",
        limit=limit,
    )
    return search_projects(db, principal, f)


def project_history(db: Session, principal: Principal, project_id: int) -> list[ProjectHistory]:
    """Who changed what, when (newest first); for those who may see internal fields."""
    project = get_project(db, principal, project_id)
    if not can(
        principal,
        Action.VIEW_INTERNAL_FIELDS,
        public=project.public,
        municipalities=project.municipality_codes,
    ):
        raise PermissionDenied("the history is for the project's own municipalities")
    query = (
        select(ProjectHistory)
        .where(ProjectHistory.project_id == project_id)
        .order_by(ProjectHistory.version.desc(), ProjectHistory.id.desc())
    )
    return list(db.scalars(query))


def overview(db: Session, principal: Principal, *, stale_months: int = 6) -> dict[str, Any]:
    """Counts of the projects ``principal`` may see: per status, and per municipality and
    status (a joint project counts in each of its municipalities), with stale counts."""
    visible = select(visible_projects(principal).with_only_columns(Project.id).subquery().c.id)
    by_status = dict.fromkeys(STATUSES, 0)
    per_status = select(Project.status, func.count()).where(Project.id.in_(visible))
    for status, n in db.execute(per_status.group_by(Project.status)):
        by_status[status] = n
    rows: dict[str, dict[str, Any]] = {
        m.code: {
            "code": m.code,
            "name": m.name,
            "total": 0,
            "stale": 0,
            "by_status": dict.fromkeys(STATUSES, 0),
        }
        for m in list_municipalities(db)
    }
    last = func.coalesce(Project.last_reviewed_at, Project.created_at)
    stale = func.sum(case((last < _stale_cutoff(stale_months), 1), else_=0))
    counts = (
        select(ProjectMunicipality.municipality_code, Project.status, func.count(), stale)
        .join(Project, Project.id == ProjectMunicipality.project_id)
        .where(Project.id.in_(visible))
        .group_by(ProjectMunicipality.municipality_code, Project.status)
    )
    for code, status, n, n_stale in db.execute(counts):
        row = rows[code]
        row["by_status"][status] = n
        row["total"] += n
        row["stale"] += int(n_stale or 0)
    return {
        "total": sum(by_status.values()),
        "by_status": by_status,
        "municipalities": list(rows.values()),
        "stale_months": stale_months,
    }


def list_municipalities(db: Session) -> list[Municipality]:
    return list(db.scalars(select(Municipality).order_by(Municipality.name)))


def list_categories(db: Session) -> list[Category]:
    return list(db.scalars(select(Category).order_by(Category.sort, Category.key)))


def add_municipality(
    db: Session,
    principal: Principal,
    code: str,
    name: str,
    extent: Sequence[float] | None = None,
    *,
    is_demo: bool = False,
) -> Municipality:
    """Add a municipality (administrators only); ``code`` must be new."""
    if not can(principal, Action.MANAGE_REFERENCE):
        raise PermissionDenied("only administrators manage municipalities")
    if db.get(Municipality, code) is not None:
        raise InvalidProject(f"municipality {code!r} exists already", field="code")
    west = south = east = north = None
    if extent is not None:
        west, south, east, north = extent
    row = Municipality(
        code=code, name=name, west=west, south=south, east=east, north=north, is_demo=is_demo
    )
    db.add(row)
    db.commit()
    return row


# -- writing ---------------------------------------------------------------------------


def _iso(d: date | datetime | None) -> str | None:
    return d.isoformat() if d is not None else None


def snapshot(project: Project) -> dict[str, Any]:
    """The editable fields of ``project`` as JSON values (the shape of ``ProjectIn``)."""
    return {
        "title_sv": project.title_sv,
        "title_en": project.title_en,
        "summary_sv": project.summary_sv,
        "summary_en": project.summary_en,
        "description": project.description,
        "municipalities": project.municipality_codes,
        "categories": project.category_keys,
        "status": project.status,
        "start_date": _iso(project.start_date),
        "end_date": _iso(project.end_date),
        "contact": project.contact,
        "contact_public": project.contact_public,
        "partners": list(project.partners or []),
        "links": [dict(link) for link in project.links or []],
        "testbed": project.testbed,
        "tags": list(project.tags or []),
        "geometries": list((project.geometry or {}).get("geometries", [])),
        "public": project.public,
    }


def _bbox(geometries: Iterable[dict[str, Any]]) -> tuple[float, float, float, float] | None:
    lons: list[float] = []
    lats: list[float] = []

    def walk(coords: Any) -> None:
        if coords and isinstance(coords[0], int | float):
            lons.append(float(coords[0]))
            lats.append(float(coords[1]))
        else:
            for c in coords:
                walk(c)

    for g in geometries:
        walk(g["coordinates"])
    if not lons:
        return None
    return min(lons), min(lats), max(lons), max(lats)


def _search_text(data: ProjectIn) -> str:
    parts = [data.title_sv, data.title_en, data.summary_sv, data.summary_en, data.description]
    return fold("\n".join([*(p or "" for p in parts), " ".join(data.tags)]))


def _control_chars(value: Any) -> bool:
    if isinstance(value, str):
        return any(c in value for c in _FORBIDDEN_CHARS)
    if isinstance(value, dict):
        return any(_control_chars(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(_control_chars(v) for v in value)
    return False


#: NUL cannot be stored in PostgreSQL text; the rest have no place in a catalogue entry.
_FORBIDDEN_CHARS = frozenset(chr(c) for c in range(32) if chr(c) not in "\t\n\r")


def _check_codes(db: Session, data: ProjectIn) -> None:
    """No control characters; every municipality and category code must exist (422
    naming the field)."""
    for name, value in data:
        if _control_chars(value):
            raise InvalidProject(f"{name} contains control characters", field=name)
    for field, model, column, wanted in (
        ("municipalities", Municipality, Municipality.code, data.municipalities),
        ("categories", Category, Category.key, data.categories),
    ):
        if not wanted:
            continue
        known = set(db.scalars(select(column).where(column.in_(wanted))))
        unknown = [c for c in wanted if c not in known]
        if unknown:
            raise InvalidProject(
                f"unknown {model.__tablename__} code(s): {', '.join(unknown)}", field=field
            )


def _apply(project: Project, data: ProjectIn) -> None:
    """Copy ``data`` onto ``project`` (collections changed in place, bbox and text derived)."""
    for name in (
        "title_sv",
        "title_en",
        "summary_sv",
        "summary_en",
        "description",
        "status",
        "start_date",
        "end_date",
        "contact",
        "contact_public",
        "testbed",
        "public",
    ):
        if getattr(project, name) != getattr(data, name):
            setattr(project, name, getattr(data, name))
    for attr, value in (
        ("partners", list(data.partners)),
        ("tags", list(data.tags)),
        ("links", [link.model_dump() for link in data.links]),
    ):
        if getattr(project, attr) != value:
            setattr(project, attr, value)
    geometry = (
        {"type": "GeometryCollection", "geometries": data.geometries} if data.geometries else None
    )
    if project.geometry != geometry:
        project.geometry = geometry
    box = _bbox(data.geometries)
    project.min_lon, project.min_lat, project.max_lon, project.max_lat = box or (None,) * 4
    text = _search_text(data)
    if project.search_text != text:
        project.search_text = text
    wanted = set(data.municipalities)
    for pm in [m for m in project.municipalities if m.municipality_code not in wanted]:
        project.municipalities.remove(pm)
    for code in sorted(wanted - set(project.municipality_codes)):
        project.municipalities.append(ProjectMunicipality(municipality_code=code))
    wanted = set(data.categories)
    for pc in [c for c in project.categories if c.category_key not in wanted]:
        project.categories.remove(pc)
    for key in sorted(wanted - set(project.category_keys)):
        project.categories.append(ProjectCategory(category_key=key))


def _diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    return {k: [before[k], after[k]] for k in after if before.get(k) != after[k]}


def _flush_or_conflict(db: Session, project_id: int) -> None:
    """Flush; a concurrent save (``StaleDataError``) becomes a :class:`VersionConflict`."""
    try:
        db.flush()
    except StaleDataError:
        db.rollback()
        current = db.scalar(select(Project.version).where(Project.id == project_id))
        if current is None:
            raise ProjectNotFound(f"project {project_id} was deleted meanwhile") from None
        raise VersionConflict(
            f"project {project_id} was changed by someone else (now version {current}); "
            "reload it and apply your change again",
            current_version=current,
        ) from None


def _check_version(project: Project, expected_version: int) -> None:
    if project.version != expected_version:
        raise VersionConflict(
            f"project {project.id} is at version {project.version}, not {expected_version}; "
            "reload it and apply your change again",
            current_version=project.version,
        )


def _history(
    db: Session, project: Project, principal: Principal, action: str, changes: dict[str, Any]
) -> None:
    db.add(
        ProjectHistory(
            project_id=project.id,
            version=project.version,
            action=action,
            changed_by=principal.user_id,
            changed_at=utcnow(),
            changes=changes,
        )
    )


def create_project(
    db: Session, principal: Principal, data: ProjectIn, *, commit: bool = True
) -> Project:
    """A new project (version 1) with a ``create`` history row holding the full record."""
    _check_codes(db, data)
    if not can(principal, Action.CREATE, new_municipalities=data.municipalities):
        raise PermissionDenied(
            "you may only create projects that include one of your municipalities",
            field="municipalities",
        )
    now = utcnow()
    project = Project(
        created_at=now,
        updated_at=now,
        last_reviewed_at=now,
        created_by=principal.user_id,
        updated_by=principal.user_id,
        partners=[],
        tags=[],
        links=[],
        search_text="",
    )
    _apply(project, data)
    db.add(project)
    db.flush()
    _history(db, project, principal, "create", snapshot(project))
    if commit:
        db.commit()
    return project


def update_project(
    db: Session,
    principal: Principal,
    project_id: int,
    data: ProjectIn,
    expected_version: int,
    *,
    commit: bool = True,
) -> Project:
    """Replace the editable fields of a project saved at ``expected_version``.

    A save that changes nothing keeps the version. A save counts as a review.
    """
    project = get_project(db, principal, project_id)
    if not can(
        principal,
        Action.UPDATE,
        public=project.public,
        municipalities=project.municipality_codes,
        new_municipalities=data.municipalities,
    ):
        raise PermissionDenied(
            "you may only edit projects of your municipalities, and keep one of them",
            field="municipalities",
        )
    _check_version(project, expected_version)
    _check_codes(db, data)
    before = snapshot(project)
    _apply(project, data)
    changes = _diff(before, snapshot(project))
    if not changes:
        return project
    now = utcnow()
    project.updated_at = now
    project.updated_by = principal.user_id
    project.last_reviewed_at = now
    _flush_or_conflict(db, project_id)
    _history(db, project, principal, "update", changes)
    if commit:
        db.commit()
    return project


def review_project(db: Session, principal: Principal, project_id: int) -> Project:
    """ "Still current": sets ``last_reviewed_at`` (a new version, a ``review`` row)."""
    project = get_project(db, principal, project_id)
    if not can(
        principal, Action.REVIEW, public=project.public, municipalities=project.municipality_codes
    ):
        raise PermissionDenied("you may only review projects of your municipalities")
    before = project.last_reviewed_at
    project.last_reviewed_at = utcnow()
    _flush_or_conflict(db, project_id)
    _history(
        db,
        project,
        principal,
        "review",
        {"last_reviewed_at": [_iso(before), _iso(project.last_reviewed_at)]},
    )
    db.commit()
    return project


def delete_project(
    db: Session,
    principal: Principal,
    project_id: int,
    expected_version: int,
    *,
    image_dir: Path | None = None,
) -> None:
    """Delete a project saved at ``expected_version``; its history stays (with a ``delete``
    row holding the full record). With ``image_dir``, image files no other project uses
    are removed too."""
    project = get_project(db, principal, project_id)
    if not can(
        principal, Action.DELETE, public=project.public, municipalities=project.municipality_codes
    ):
        raise PermissionDenied(
            "deleting a project needs editor rights in all of its municipalities"
        )
    _check_version(project, expected_version)
    record = snapshot(project)
    record["images"] = [_image_record(i) for i in project.images]
    files = {(i.sha256, i.content_type) for i in project.images}
    db.delete(project)
    _flush_or_conflict(db, project_id)
    _history(db, project, principal, "delete", record)
    db.commit()
    if image_dir is not None:
        _prune_files(db, image_dir, files)


# -- images ----------------------------------------------------------------------------

MAX_IMAGES = 30


def _image_record(image: ProjectImage) -> dict[str, Any]:
    return {
        "id": image.id,
        "sha256": image.sha256,
        "content_type": image.content_type,
        "width": image.width,
        "height": image.height,
        "caption": image.caption,
    }


def add_image(
    db: Session,
    principal: Principal,
    project_id: int,
    data: bytes,
    caption: str | None = None,
    *,
    image_dir: Path,
) -> ProjectImage:
    """Validate ``data`` by content (PNG, JPEG, WebP), re-encode it without metadata,
    store it under ``image_dir`` and attach it to the project (a new version)."""
    project = get_project(db, principal, project_id)
    if not can(
        principal, Action.UPDATE, public=project.public, municipalities=project.municipality_codes
    ):
        raise PermissionDenied("you may only add images to projects of your municipalities")
    caption = (caption or "").strip() or None
    if caption is not None and len(caption) > 300:
        raise InvalidProject("a caption may be at most 300 characters", field="caption")
    if len(project.images) >= MAX_IMAGES:
        raise InvalidProject(f"a project may have at most {MAX_IMAGES} images", field="image")
    clean = clean_image(data)
    write_image(image_dir, clean)
    image = ProjectImage(
        sha256=clean.sha256,
        content_type=clean.content_type,
        width=clean.width,
        height=clean.height,
        caption=caption,
        created_at=utcnow(),
    )
    project.images.append(image)
    project.updated_at = utcnow()
    project.updated_by = principal.user_id
    _flush_or_conflict(db, project_id)
    _history(db, project, principal, "image", {"images": [None, _image_record(image)]})
    db.commit()
    return image


def image_bytes(
    db: Session, principal: Principal, project_id: int, image_id: int, *, image_dir: Path
) -> tuple[ProjectImage, bytes]:
    """An image of a project ``principal`` may see, and its (re-encoded) bytes."""
    project = get_project(db, principal, project_id)
    image = next((i for i in project.images if i.id == image_id), None)
    if image is None:
        raise ProjectNotFound(f"project {project_id} has no image {image_id}", field="image")
    path = image_path(image_dir, image.sha256, image.content_type)
    try:
        return image, path.read_bytes()
    except FileNotFoundError:
        raise ProjectNotFound(f"the file of image {image_id} is missing", field="image") from None


def _prune_files(db: Session, image_dir: Path, files: set[tuple[str, str]]) -> None:
    for sha, content_type in files:
        if db.scalar(select(ProjectImage.id).where(ProjectImage.sha256 == sha).limit(1)) is None:
            image_path(image_dir, sha, content_type).unlink(missing_ok=True)
