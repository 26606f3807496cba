"""Layers on disk: each import is an immutable version; ``layer.json`` points at one.

Layout under ``<data_dir>/layers/<name>/``::

    layer.json               name, title, kind, current version, versions (with reports)
    versions/<version>/      tileset.json, tiles/*.glb, report.json (never changed)

Publishing writes a new version folder completely (through :func:`tiles.convert`'s
staging), then replaces ``layer.json`` atomically (write a temporary file, ``os.replace``),
so readers see either the old or the new version, never a mix.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tiles import ConvertOptions, Report, convert

from .errors import LayerNotFound, TwinError

NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
LAYER_FILE = "layer.json"


class InvalidLayerName(TwinError):
    code = "invalid_layer_name"


@dataclass
class Version:
    id: str
    created: str
    source_sha256: str
    report: dict[str, Any]


@dataclass
class Layer:
    name: str
    title: str
    kind: str
    current: str
    versions: list[Version] = field(default_factory=list)

    @property
    def current_version(self) -> Version:
        return next(v for v in self.versions if v.id == self.current)

    @property
    def report(self) -> dict[str, Any]:
        return self.current_version.report


def check_name(name: str) -> str:
    if not NAME.match(name):
        raise InvalidLayerName(
            f"layer name {name!r} must be 1-63 lower-case letters, digits, "
            "'-' or '_', starting with a letter or digit"
        )
    return name


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


class Store:
    def __init__(self, data_dir: Path) -> None:
        self.root = data_dir / "layers"

    def layer_dir(self, name: str) -> Path:
        return self.root / check_name(name)

    def version_dir(self, name: str, version: str) -> Path:
        return self.layer_dir(name) / "versions" / version

    def list(self) -> list[Layer]:
        if not self.root.is_dir():
            return []
        out = []
        for d in sorted(self.root.iterdir()):
            if (d / LAYER_FILE).is_file() and NAME.match(d.name):
                out.append(self.get(d.name))
        return out

    def get(self, name: str) -> Layer:
        path = self.layer_dir(name) / LAYER_FILE
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise LayerNotFound(f"no layer named {name!r}") from None
        versions = [Version(**v) for v in doc.pop("versions")]
        return Layer(versions=versions, **doc)

    def import_file(
        self,
        source: Path,
        name: str,
        *,
        title: str | None = None,
        options: ConvertOptions | None = None,
        if_changed: bool = False,
    ) -> tuple[Layer, bool]:
        """Convert ``source`` into a new version of layer ``name`` and publish it.

        With ``if_changed``, a source identical (SHA-256, same options) to the current
        version's is not converted again. Returns the layer and whether it changed.
        """
        check_name(name)
        options = options or ConvertOptions()
        digest = sha256_file(source) if source.is_file() else ""
        key = hashlib.sha256(
            f"{digest}|{options.crs}|{options.lod}|{options.axis_order}".encode()
        ).hexdigest()
        try:
            existing: Layer | None = self.get(name)
        except LayerNotFound:
            existing = None
        if if_changed and existing and existing.current_version.source_sha256 == key:
            return existing, False
        created = datetime.now(UTC)
        vid = created.strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:6]
        report: Report = convert(source, self.version_dir(name, vid), options)
        version = Version(vid, created.isoformat(timespec="seconds"), key, report.to_json())
        layer = Layer(
            name=name,
            title=title or (existing.title if existing else name),
            kind="3dtiles",
            current=vid,
            versions=[*(existing.versions if existing else []), version],
        )
        self._write(layer)
        return layer, True

    def _write(self, layer: Layer) -> None:
        d = self.layer_dir(layer.name)
        d.mkdir(parents=True, exist_ok=True)
        doc = {
            "name": layer.name,
            "title": layer.title,
            "kind": layer.kind,
            "current": layer.current,
            "versions": [v.__dict__ for v in layer.versions],
        }
        tmp = d / f".{LAYER_FILE}.{uuid.uuid4().hex[:8]}"
        tmp.write_text(json.dumps(doc, ensure_ascii=False, indent=1), encoding="utf-8")
        os.replace(tmp, d / LAYER_FILE)

    def remove_stale_staging(self) -> int:
        """Delete half-written version folders left by a killed conversion."""
        removed = 0
        if not self.root.is_dir():
            return 0
        for versions in self.root.glob("*/versions"):
            for d in versions.iterdir():
                if d.name.startswith(".") and (".partial-" in d.name or ".old-" in d.name):
                    shutil.rmtree(d, ignore_errors=True)
                    removed += 1
        return removed
