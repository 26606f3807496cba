"""Tables of layers, their immutable versions and the import jobs that make them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

import layers.catalogue.models  # noqa: F401  (the municipality table, for the owner key)
from layers.db import Base, UTCDateTime, utcnow

#: Job states. ``succeeded``: a ready version exists but is not current;
#: ``published``: it was made current. ``failed`` carries a code and a message.
QUEUED, RUNNING, SUCCEEDED, PUBLISHED, FAILED = (
    "queued",
    "running",
    "succeeded",
    "published",
    "failed",
)
TERMINAL = frozenset({SUCCEEDED, PUBLISHED, FAILED})
READY, DELETED = "ready", "deleted"


class LayerRow(Base):
    __tablename__ = "layer"

    name: Mapped[str] = mapped_column(String(63), primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20), default="3dtiles")
    public: Mapped[bool] = mapped_column(Boolean, default=True)
    current_version: Mapped[str | None] = mapped_column(String(40), nullable=True)
    owner: Mapped[str | None] = mapped_column(
        String(8), ForeignKey("municipality.code"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LayerVersionRow(Base):
    __tablename__ = "layer_version"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    layer: Mapped[str] = mapped_column(
        String(63), ForeignKey("layer.name", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    source_name: Mapped[str] = mapped_column(String(300))
    sha256: Mapped[str] = mapped_column(String(64))
    options: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    report: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(10), default=READY)
    job_id: Mapped[str | None] = mapped_column(String(32), nullable=True)


class ImportJob(Base):
    __tablename__ = "import_job"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    layer: Mapped[str] = mapped_column(
        String(63), ForeignKey("layer.name", ondelete="CASCADE"), index=True
    )
    state: Mapped[str] = mapped_column(String(10), default=QUEUED, index=True)
    stage: Mapped[str] = mapped_column(String(20), default="queued")
    percent: Mapped[int] = mapped_column(Integer, default=0)
    error_code: Mapped[str | None] = mapped_column(String(60), nullable=True)
    error_message: Mapped[str | None] = mapped_column(Text, nullable=True)
    report: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    source_name: Mapped[str] = mapped_column(String(300))
    upload_path: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    options: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    auto_publish: Mapped[bool] = mapped_column(Boolean, default=False)
    version_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    created_by: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    worker_host: Mapped[str | None] = mapped_column(String(255), nullable=True)
    worker_pid: Mapped[int | None] = mapped_column(Integer, nullable=True)
    child_pid: Mapped[int | None] = mapped_column(Integer, nullable=True)
    claim_token: Mapped[str | None] = mapped_column(String(32), nullable=True)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
