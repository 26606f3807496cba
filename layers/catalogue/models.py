"""Catalogue tables: municipalities, categories, projects with geometry, images, history.

Geometries are stored as GeoJSON (WGS 84, lon/lat, optional height) with a bounding box
in plain columns, so the same schema works on SQLite and PostgreSQL without PostGIS.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import Base, UTCDateTime, utcnow

STATUSES = ("idea", "planned", "ongoing", "completed", "paused", "stopped")


class Municipality(Base):
    __tablename__ = "municipality"

    code: Mapped[str] = mapped_column(String(8), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    #: lon/lat west, south, east, north (rough extent, for the viewer and bbox hints)
    west: Mapped[float | None] = mapped_column(Float)
    south: Mapped[float | None] = mapped_column(Float)
    east: Mapped[float | None] = mapped_column(Float)
    north: Mapped[float | None] = mapped_column(Float)
    #: a demo organisation, not a real municipality (labelled as such everywhere)
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Category(Base):
    __tablename__ = "category"

    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    name_sv: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100))
    sort: Mapped[int] = mapped_column(Integer, default=0)


class ProjectMunicipality(Base):
    __tablename__ = "project_municipality"

    project_id: Mapped[int] = mapped_column(
        ForeignKey("project.id", ondelete="CASCADE"), primary_key=True
    )
    municipality_code: Mapped[str] = mapped_column(
        ForeignKey("municipality.code"), primary_key=True, index=True
    )


class ProjectCategory(Base):
    __tablename__ = "project_category"

    project_id: Mapped[int] = mapped_column(
        ForeignKey("project.id", ondelete="CASCADE"), primary_key=True
    )
    category_key: Mapped[str] = mapped_column(
        ForeignKey("category.key"), primary_key=True, index=True
    )


class Project(Base):
    __tablename__ = "project"
    #: never reuse a deleted project's id on SQLite (its history keeps that id)
    __table_args__ = {"sqlite_autoincrement": True}  # noqa: RUF012

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title_sv: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str | None] = mapped_column(String(200))
    summary_sv: Mapped[str] = mapped_column(Text, default="")
    summary_en: Mapped[str | None] = mapped_column(Text)
    description: Mapped[str] = mapped_column(Text, default="")  # Markdown, sanitised on output
    status: Mapped[str] = mapped_column(String(20), index=True)
    start_date: Mapped[date | None] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    contact: Mapped[str | None] = mapped_column(Text)
    contact_public: Mapped[bool] = mapped_column(Boolean, default=False)
    partners: Mapped[list[str]] = mapped_column(JSON, default=list)
    links: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    testbed: Mapped[bool] = mapped_column(Boolean, default=False)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: GeoJSON GeometryCollection (WGS 84) or None
    geometry: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    min_lon: Mapped[float | None] = mapped_column(Float, index=True)
    min_lat: Mapped[float | None] = mapped_column(Float)
    max_lon: Mapped[float | None] = mapped_column(Float)
    max_lat: Mapped[float | None] = mapped_column(Float)
    public: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    #: title, summary, description and tags in :func:`~layers.catalogue.service.fold`'s form,
    #: for the text search (migration 0004 refolds rows written before it)
    search_text: Mapped[str] = mapped_column(Text, default="")
    last_reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    #: optimistic concurrency: every save must name the version it started from
    version: Mapped[int] = mapped_column(Integer, default=1)

    municipalities: Mapped[list[ProjectMunicipality]] = relationship(
        cascade="all, delete-orphan", lazy="selectin"
    )
    categories: Mapped[list[ProjectCategory]] = relationship(
        cascade="all, delete-orphan", lazy="selectin"
    )
    images: Mapped[list[ProjectImage]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="ProjectImage.id"
    )

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012  (SQLAlchemy's own idiom)

    @property
    def municipality_codes(self) -> list[str]:
        return sorted(m.municipality_code for m in self.municipalities)

    @property
    def category_keys(self) -> list[str]:
        return sorted(c.category_key for c in self.categories)


class ProjectImage(Base):
    __tablename__ = "project_image"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("project.id", ondelete="CASCADE"), index=True
    )
    sha256: Mapped[str] = mapped_column(String(64))
    content_type: Mapped[str] = mapped_column(String(40))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    caption: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ProjectHistory(Base):
    """Who changed what, when: one row per create, update, review or delete."""

    __tablename__ = "project_history"
    __table_args__ = (UniqueConstraint("project_id", "version", "action"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(Integer, index=True)  # kept after a delete
    version: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(20))  # create, update, review, delete
    changed_by: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: {field: [old, new]} for updates; the full record for create and delete
    changes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
