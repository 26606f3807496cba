"""Layers: rows in the database, tiles as plain files in immutable version folders.

Layout under ``<data_dir>/layers/<name>/``::

    versions/<version>/      tileset.json, tiles/*.glb, report.json (never changed)

The database holds each layer (title, public or internal, owning municipality, current
version), its versions (ready or deleted, with their reports) and the import jobs that
made them (:mod:`twin.jobs`). A version folder is complete before its row exists, and
publishing flips ``layer.current_version`` in one transaction, so readers see either the
old or the new version, never a mix.

Data directories from before the database (a ``layer.json`` per layer) are imported into
the database once, at start (:meth:`Store.migrate_legacy`).
"""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from layers.catalogue.rules import Principal
from tiles import ConvertOptions

from .errors import Conflict, Forbidden, LayerNotFound, TwinError, VersionNotFound
from .jobs.models import DELETED, READY, LayerRow, LayerVersionRow
from .jobs.uploads import sha256_file, source_digest

if TYPE_CHECKING:
    from .db import Database

NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
LEGACY_FILE = "layer.json"

__all__ = ["Layer", "Store", "Version", "check_name", "sha256_file"]


class InvalidLayerName(TwinError):
    code = "invalid_layer_name"


@dataclass
class Version:
    id: str
    created: str
    source_sha256: str
    report: dict[str, Any]
    source_name: str = ""
    options: dict[str, Any] = field(default_factory=dict)
    status: str = READY
    job_id: str | None = None


@dataclass
class Layer:
    name: str
    title: str
    kind: str
    current: str | None
    versions: list[Version] = field(default_factory=list)
    public: bool = True
    owner: str | None = None

    @property
    def current_version(self) -> Version:
        return next(v for v in self.versions if v.id == self.current)

    @property
    def report(self) -> dict[str, Any]:
        return self.current_version.report

    @property
    def ready_versions(self) -> list[Version]:
        return [v for v in self.versions if v.status == READY]


def check_name(name: str) -> str:
    if not NAME.match(name):
        raise InvalidLayerName(
            f"layer name {name!r} must be 1-63 lower-case letters, digits, "
            "'-' or '_', starting with a letter or digit"
        )
    return name


def can_view(layer: Layer | LayerRow, principal: Principal | None) -> bool:
    """Public layers: everyone. Internal ones: the owner's staff and administrators."""
    if principal is None or layer.public or principal.is_admin:
        return True
    return layer.owner is not None and layer.owner in principal.staff_of


def can_manage(layer: Layer | LayerRow, principal: Principal) -> bool:
    """Upload, publish, roll back, delete versions: the owner's GIS staff and admins."""
    return principal.is_admin or (layer.owner is not None and layer.owner in principal.gis_of)


def options_json(options: ConvertOptions) -> dict[str, Any]:
    """The options a version was made with, for its record and ``--if-changed``.

    ``crs``, ``lod`` and ``axis_order`` always; every other option only when it differs
    from its default, so versions made before an option existed stay comparable.
    """
    always = ("crs", "lod", "axis_order")
    out: dict[str, Any] = {k: getattr(options, k) for k in always}
    for f in dataclasses.fields(ConvertOptions):
        value = getattr(options, f.name)
        if f.name in always or f.name == "title" or value == f.default:
            continue
        out[f.name] = list(value) if isinstance(value, tuple) else value
    return out


def new_version_id() -> str:
    import uuid

    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:6]


def _version(row: LayerVersionRow) -> Version:
    return Version(
        id=row.id,
        created=row.created_at.isoformat(timespec="seconds"),
        source_sha256=row.sha256,
        report=row.report,
        source_name=row.source_name,
        options=row.options,
        status=row.status,
        job_id=row.job_id,
    )


class Store:
    """Layers and versions; ``db`` defaults to the data directory's configured database."""

    def __init__(self, data_dir: Path, db: Database | None = None) -> None:
        self.data_dir = data_dir
        self.root = data_dir / "layers"
        self._db = db

    @property
    def db(self) -> Database:
        if self._db is None:
            from .db import Database
            from .settings import Settings

            self.data_dir.mkdir(parents=True, exist_ok=True)
            self._db = Database(Settings(data_dir=self.data_dir).database)
            self._db.setup()
            self.migrate_legacy()
        return self._db

    def layer_dir(self, name: str) -> Path:
        return self.root / check_name(name)

    def version_dir(self, name: str, version: str) -> Path:
        return self.layer_dir(name) / "versions" / version

    # -- reading ---------------------------------------------------------------------

    def _load(self, session: Session, row: LayerRow) -> Layer:
        versions = session.scalars(
            select(LayerVersionRow)
            .where(LayerVersionRow.layer == row.name)
            .order_by(LayerVersionRow.created_at, LayerVersionRow.id)
        ).all()
        return Layer(
            name=row.name,
            title=row.title,
            kind=row.kind,
            current=row.current_version,
            versions=[_version(v) for v in versions],
            public=row.public,
            owner=row.owner,
        )

    def list(self, principal: Principal | None = None) -> list[Layer]:
        """Published layers (with a current version) ``principal`` may see (None: all)."""
        with self.db.session() as session:
            rows = session.scalars(
                select(LayerRow)
                .where(LayerRow.current_version.is_not(None))
                .order_by(LayerRow.name)
            ).all()
            return [self._load(session, r) for r in rows if can_view(r, principal)]

    def get(
        self, name: str, principal: Principal | None = None, *, published: bool = True
    ) -> Layer:
        """The layer ``name``; 404 when unknown, invisible to ``principal`` or (with
        ``published``) without a current version."""
        check_name(name)
        with self.db.session() as session:
            row = session.get(LayerRow, name)
            if (
                row is None
                or not can_view(row, principal)
                or (published and row.current_version is None)
            ):
                raise LayerNotFound(f"no layer named {name!r}")
            return self._load(session, row)

    def get_managed(self, name: str, principal: Principal) -> Layer:
        """The layer, if ``principal`` may change it (403 if only seen, 404 if not seen)."""
        layer = self.get(name, principal, published=False)
        if not can_manage(layer, principal):
            raise Forbidden(f"only GIS staff of the layer's municipality may change {name!r}")
        return layer

    # -- changing --------------------------------------------------------------------

    def ensure_layer(
        self,
        name: str,
        *,
        title: str | None = None,
        public: bool = True,
        owner: str | None = None,
    ) -> None:
        """Create the layer's row if it does not exist (its settings are kept if it does)."""
        check_name(name)
        with self.db.session() as session:
            if session.get(LayerRow, name) is not None:
                if title:
                    session.get(LayerRow, name).title = title  # type: ignore[union-attr]
                    session.commit()
                return
            session.add(
                LayerRow(name=name, title=title or name, kind="3dtiles", public=public, owner=owner)
            )
            try:
                session.commit()
            except IntegrityError:  # created concurrently: fine
                session.rollback()

    def update_layer(self, name: str, *, title: str | None, public: bool | None) -> None:
        with self.db.sessions.begin() as session:
            row = session.get(LayerRow, check_name(name))
            if row is None:
                raise LayerNotFound(f"no layer named {name!r}")
            if title is not None:
                row.title = title
            if public is not None:
                row.public = public

    def publish(self, name: str, version: str, session: Session | None = None) -> None:
        """Make ``version`` (ready) the layer's current one, in one transaction."""
        if session is None:
            with self.db.sessions.begin() as own:
                self.publish(name, version, own)
            return
        row = session.get(LayerRow, check_name(name), with_for_update=True)
        if row is None:
            raise LayerNotFound(f"no layer named {name!r}")
        v = session.get(LayerVersionRow, version)
        if v is None or v.layer != name or v.status != READY:
            raise VersionNotFound(f"layer {name!r} has no version {version!r}")
        row.current_version = version

    def delete_version(self, name: str, version: str) -> None:
        """Mark an old version deleted and remove its files; never the current one."""
        with self.db.sessions.begin() as session:
            row = session.get(LayerRow, check_name(name), with_for_update=True)
            v = session.get(LayerVersionRow, version)
            if row is None or v is None or v.layer != name or v.status != READY:
                raise VersionNotFound(f"layer {name!r} has no version {version!r}")
            if row.current_version == version:
                raise Conflict(
                    f"version {version!r} is the current one: publish another version first"
                )
            v.status = DELETED
        shutil.rmtree(self.version_dir(name, version), ignore_errors=True)

    def import_file(
        self,
        source: Path,
        name: str,
        *,
        title: str | None = None,
        options: ConvertOptions | None = None,
        if_changed: bool = False,
        public: bool = True,
        owner: str | None = None,
    ) -> tuple[Layer, bool]:
        """Convert ``source`` into a new version of layer ``name`` and publish it.

        Runs the same job pipeline as an upload, synchronously: the job is queued,
        claimed by this process and converted in a child process. With ``if_changed``, a
        source identical (SHA-256, same options) to the current version's is not converted
        again. Returns the layer and whether it changed; raises
        :class:`~twin.errors.JobFailed` with the job's code when the import fails.
        """
        from .jobs import queue, worker

        check_name(name)
        options = options or ConvertOptions()
        if not source.is_file() and not source.is_dir():
            raise TwinError(f"{source}: no such file or folder")
        digest = source_digest(source)
        if if_changed:
            try:
                existing = self.get(name)
            except LayerNotFound:
                existing = None
            if existing is not None:
                current = existing.current_version
                if current.source_sha256 == digest and current.options == options_json(options):
                    return existing, False
        self.ensure_layer(name, title=title, public=public, owner=owner)
        job_id = queue.enqueue_file(self, name, source, options, auto_publish=True)
        worker.run_job_now(self, job_id)
        return self.get(name), True

    # -- upkeep ----------------------------------------------------------------------

    def migrate_legacy(self) -> int:
        """Import layers described by a ``layer.json`` (before the database) once."""
        if not self.root.is_dir():
            return 0
        count = 0
        for path in sorted(self.root.glob(f"*/{LEGACY_FILE}")):
            name = path.parent.name
            if not NAME.match(name):
                continue
            doc = json.loads(path.read_text(encoding="utf-8"))
            with self.db.session() as session:
                if session.get(LayerRow, name) is None:
                    session.add(LayerRow(name=name, title=doc.get("title") or name, kind="3dtiles"))
                    session.flush()
                    for v in doc.get("versions", []):
                        session.add(
                            LayerVersionRow(
                                id=v["id"],
                                layer=name,
                                created_at=datetime.fromisoformat(v["created"]),
                                source_name=v["report"].get("source", ""),
                                sha256=v.get("source_sha256", ""),
                                options={},
                                report=v["report"],
                                status=READY,
                            )
                        )
                    session.flush()
                    session.get(LayerRow, name).current_version = doc.get("current")  # type: ignore[union-attr]
                    try:
                        session.commit()
                        count += 1
                    except IntegrityError:
                        session.rollback()
            path.rename(path.with_name(f".{LEGACY_FILE}.migrated"))
        return count

    def remove_stale_staging(self, stale_seconds: float = 60.0) -> int:
        """Delete staging left by killed conversions (see :func:`twin.jobs.queue.cleanup`)."""
        from .jobs import queue

        return queue.cleanup(self, stale_seconds)
