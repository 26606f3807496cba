"""CityJSON 1.0, 1.1, 2.0 and CityJSONSeq (``.city.jsonl``).

Spec: https://www.cityjson.org/specs/2.0.1/ and https://www.cityjson.org/cityjsonseq/.
Every object with geometry becomes a :class:`~tiles.model.Feature` carrying its id, type,
parent id, chosen LoD and attributes (its own, plus those of its parents that it does not
override, so clicking a BuildingPart shows the Building's attributes too).
"""

from __future__ import annotations

import mmap
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import orjson
from numpy.typing import NDArray

from ..errors import (
    AppearanceIndexError,
    EmptyInput,
    InputError,
    InvalidGeometry,
    InvalidJSON,
    InvalidTransform,
    NonFiniteCoordinate,
    UnresolvedFeature,
    UnsupportedFormat,
    VertexIndexError,
)
from ..model import Feature, Mesh, Skipped, SourceData, surface_index
from ..options import ConvertOptions
from ..polygons import PolygonBatch
from .cityjson_appearance import Appearances

VERSIONS = ("1.0", "1.1", "2.0")
_SURFACE_TYPES = ("MultiSurface", "CompositeSurface", "Solid", "MultiSolid", "CompositeSolid")
_NON_MESH_TYPES = ("MultiPoint", "MultiLineString")
#: Objects' polygons are triangulated in batches of about this many points: enough to
#: make numpy's per-call cost negligible, few enough to keep the temporaries small.
_BATCH_POINTS = 100_000
#: An object waiting for its batch: id, object, LoD, meshes of its GeometryInstances.
_Pending = tuple[str, dict[str, Any], str, list[Mesh]]
#: No CRS has coordinates beyond this (ECEF is ~6.4e6 m); larger values are corrupt.
MAX_COORDINATE = 1e9
_STANDARD_MEMBERS = {
    "type",
    "geometry",
    "attributes",
    "children",
    "parents",
    "geographicalExtent",
    "children_roles",
}


NAME = "CityJSON 1.0/1.1/2.0 and CityJSONSeq"


def sniff(path: Path, head: bytes) -> bool:
    """A JSON object with ``CityObjects`` or ``"type": "CityJSON..."`` anywhere in it."""
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not text.startswith(b"{"):
        return False
    if b'"CityJSON' in head or b'"CityObjects"' in head:
        return True
    # JSON members come in any order: look through the whole file.
    with path.open("rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
        return mm.find(b'"CityObjects"') >= 0 or mm.find(b'"CityJSON') >= 0


def read(path: Path, options: ConvertOptions) -> SourceData:
    """Read a CityJSON file or a CityJSONSeq stream."""
    name = path.name
    raw = path.read_bytes()
    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        if not _first_line_is_object(raw):
            raise InvalidJSON(
                f"not valid JSON: {exc} (NaN and Infinity are not JSON numbers)", source=name
            ) from None
        doc = None
    if isinstance(doc, dict):
        if doc.get("type") == "CityJSONFeature":
            _check_feature_root(doc, "line 1", name)
            raise InputError(
                "a CityJSONFeature needs the CityJSON header object on the line "
                "before it (CityJSONSeq)",
                source=name,
                object_id=doc.get("id"),
            )
        return _read_document(doc, name, options, path.parent)
    return _read_sequence(raw, name, options, path.parent)


def _read_document(
    doc: dict[str, Any], name: str, options: ConvertOptions, base_dir: Path
) -> SourceData:
    reader = _Reader(name, doc, options, base_dir)
    cos = doc.get("CityObjects")
    if not isinstance(cos, dict):
        raise InputError("'CityObjects' is missing or not an object", source=name)
    verts = reader.vertices(doc.get("vertices"), where="vertices")
    reader.add_objects(cos, verts)
    return reader.finish()


def _read_sequence(raw: bytes, name: str, options: ConvertOptions, base_dir: Path) -> SourceData:
    lines = [(i + 1, ln) for i, ln in enumerate(raw.splitlines()) if ln.strip()]
    if not lines:
        raise EmptyInput("the file is empty", source=name)
    try:
        header = orjson.loads(lines[0][1])
    except orjson.JSONDecodeError as exc:
        raise InvalidJSON(f"line {lines[0][0]}: not valid JSON ({exc})", source=name) from None
    if not isinstance(header, dict) or header.get("type") != "CityJSON":
        raise InputError(
            "the first line of a CityJSONSeq must be a CityJSON header "
            'object with "type": "CityJSON"',
            source=name,
        )
    reader = _Reader(name, header, options, base_dir)
    for lineno, line in lines[1:]:
        try:
            feature = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            raise InvalidJSON(f"line {lineno}: not valid JSON ({exc})", source=name) from None
        reader.add_feature(feature, lineno)
    return reader.finish()


class _Reader:
    """State shared by the document and the sequence forms."""

    def __init__(
        self, name: str, header: dict[str, Any], options: ConvertOptions, base_dir: Path
    ) -> None:
        self.name = name
        self.options = options
        if header.get("type") not in ("CityJSON", None) or (
            "type" not in header and "version" in header
        ):
            raise InputError('the root object has no "type": "CityJSON" member', source=name)
        version = str(header.get("version", ""))
        if version[:3] not in VERSIONS:
            raise UnsupportedFormat(
                f"CityJSON version {version or '(missing)'!r} is not "
                f"supported (supported: {', '.join(VERSIONS)})",
                source=name,
            )
        self.version = version
        self.warnings: list[str] = []
        self.scale, self.translate = self._transform(header.get("transform"), version)
        metadata = header.get("metadata") or {}
        crs = metadata.get("referenceSystem") if isinstance(metadata, dict) else None
        if isinstance(crs, dict):  # 1.0 allowed an object in some exporters
            crs = crs.get("name") or crs.get("href")
        self.crs_text = crs if isinstance(crs, str) and crs.strip() else None
        self.features: list[Feature] = []
        self.skipped: list[Skipped] = []
        self.lods: Counter[str] = Counter()
        self.object_count = 0
        self.degenerate = 0
        self.non_mesh = 0
        self.represented_by_parts = 0
        self.header_appearance = header.get("appearance")
        self.appearance = Appearances(base_dir, options.appearance_theme)
        self._use_appearance(self.header_appearance)
        templates = header.get("geometry-templates") or {}
        self.templates: list[dict[str, Any]] = list(templates.get("templates") or [])
        self.template_vertices = self._array(
            templates.get("vertices-templates") or [], "geometry-templates.vertices-templates"
        )

    def _use_appearance(self, appearance: Any) -> None:
        """Index materials and textures in ``appearance`` (the header's or a feature's)."""
        app = appearance if isinstance(appearance, dict) else {}
        self.n_materials = len(app.get("materials") or [])
        self.n_textures = len(app.get("textures") or [])
        self.n_tex_vertices = len(app.get("vertices-texture") or [])
        self.appearance.use(app)

    # -- header ---------------------------------------------------------------------
    def _transform(self, tr: Any, version: str) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        if tr is None:
            if version[:3] in ("1.1", "2.0"):
                self.warnings.append(
                    f"CityJSON {version} requires 'transform'; vertices "
                    "were read as real coordinates"
                )
            return np.ones(3), np.zeros(3)
        try:
            scale = np.asarray(tr["scale"], dtype=np.float64)
            translate = np.asarray(tr["translate"], dtype=np.float64)
        except (KeyError, TypeError, ValueError):
            raise InvalidTransform(
                "'transform' needs 'scale' and 'translate', three numbers each", source=self.name
            ) from None
        if scale.shape != (3,) or translate.shape != (3,):
            raise InvalidTransform(
                "'transform.scale' and 'transform.translate' must have three numbers each",
                source=self.name,
            )
        if not (np.isfinite(scale).all() and np.isfinite(translate).all()):
            raise InvalidTransform("'transform' holds a non-finite number", source=self.name)
        if (scale <= 0).any():
            raise InvalidTransform(
                f"'transform.scale' must be positive, got {scale.tolist()}", source=self.name
            )
        return scale, translate

    def _array(self, values: Any, where: str) -> NDArray[np.float64]:
        if not values:
            return np.zeros((0, 3))
        try:
            raw = np.asarray(values)
        except (TypeError, ValueError):
            raw = np.asarray([], dtype=object)
        if raw.dtype.kind not in "iuf" or raw.ndim != 2 or raw.shape[1] != 3:
            raise InputError(
                f"'{where}' must be a list of [x, y, z] numbers (found a "
                "null, string, boolean or a point without three numbers)",
                source=self.name,
            )
        arr = raw.astype(np.float64)
        if arr.ndim != 2 or arr.shape[1] != 3:
            raise InputError(f"'{where}' must be a list of [x, y, z] numbers", source=self.name)
        return arr

    def vertices(self, values: Any, where: str) -> NDArray[np.float64]:
        arr = self._array(values, where)
        return arr * self.scale + self.translate

    # -- objects ------------------------------------------------------------------------
    def add_feature(self, feature: Any, lineno: int) -> None:
        where = f"line {lineno}"
        if not isinstance(feature, dict) or feature.get("type") != "CityJSONFeature":
            raise InputError(f"{where}: expected a CityJSONFeature object", source=self.name)
        cos = feature.get("CityObjects")
        if not isinstance(cos, dict):
            raise InputError(
                f"{where}: 'CityObjects' is missing", source=self.name, object_id=feature.get("id")
            )
        _check_feature_root(feature, where, self.name)
        verts = self.vertices(feature.get("vertices"), f"{where} vertices")
        own = feature.get("appearance")  # a CityJSONFeature may carry its own
        if own is not None:
            self._use_appearance(own)
        self.add_objects(cos, verts)
        if own is not None:
            self._use_appearance(self.header_appearance)

    def add_objects(self, cos: dict[str, Any], verts: NDArray[np.float64]) -> None:
        for oid, obj in cos.items():
            if not isinstance(obj, dict) or not isinstance(obj.get("type"), str):
                raise InputError("the city object has no 'type'", source=self.name, object_id=oid)
        inherited = _Inheritance(cos)
        chosen_by_id = {
            oid: self._choose_lod(oid, obj.get("geometry") or []) for oid, obj in cos.items()
        }
        # The polygons of many objects are collected, then triangulated at once.
        batch = PolygonBatch()
        pending: list[_Pending] = []
        for oid, obj in cos.items():
            self.object_count += 1
            chosen = chosen_by_id[oid]
            if not chosen:
                continue
            lod = _lod_key(self._lod_of(chosen[0]))
            finer = [
                c
                for c in obj.get("children") or []
                if chosen_by_id.get(c)
                and lod < self._chosen_key(chosen_by_id[c])
                and self._within_request(self._chosen_key(chosen_by_id[c]))
            ]
            if finer:
                self.represented_by_parts += 1
                continue
            parents = obj.get("parents") or []
            if (
                parents
                and not self._within_request(lod)
                and chosen_by_id.get(parents[0])
                and self._within_request(self._chosen_key(chosen_by_id[parents[0]]))
            ):
                continue  # the parent has the requested LoD; this part only a finer one
            instances = []
            for g in chosen:
                if g["type"] == "GeometryInstance":
                    instances.append(self._instance(oid, g, verts))
                else:
                    self._polygons(batch, len(pending), oid, g, verts)
            pending.append((oid, obj, self._lod_of(chosen[0]), instances))
            if batch.point_count >= _BATCH_POINTS:
                self._add_features(batch, pending, inherited)
                batch, pending = PolygonBatch(), []
        self._add_features(batch, pending, inherited)

    def _add_features(
        self, batch: PolygonBatch, pending: list[_Pending], inherited: _Inheritance
    ) -> None:
        """Triangulate the batch and add a feature for each pending object with a mesh."""
        meshes, degenerate = batch.meshes(len(pending))
        self.degenerate += degenerate
        for (oid, obj, lod_text, instances), polygons in zip(pending, meshes, strict=True):
            mesh = Mesh.concat([polygons, *instances])
            if mesh.triangle_count == 0:
                self.skipped.append(Skipped(oid, "no surface with an area at the chosen LoD"))
                continue
            parents = obj.get("parents") or []
            self.lods[lod_text] += 1
            self.features.append(
                Feature(
                    id=oid,
                    type=obj["type"],
                    mesh=mesh,
                    attributes=inherited.attributes(oid),
                    parent_id=str(parents[0]) if parents else None,
                    lod=lod_text,
                )
            )

    def _choose_lod(self, oid: str, geoms: Any) -> list[dict[str, Any]]:
        if not isinstance(geoms, list):
            raise InvalidGeometry("'geometry' must be a list", source=self.name, object_id=oid)
        usable = []
        for g in geoms:
            if not isinstance(g, dict) or "type" not in g:
                raise InvalidGeometry("a geometry has no 'type'", source=self.name, object_id=oid)
            gtype = g["type"]
            if gtype in _NON_MESH_TYPES:
                self.non_mesh += 1
                continue
            if gtype != "GeometryInstance" and gtype not in _SURFACE_TYPES:
                raise InvalidGeometry(
                    f"unknown geometry type {gtype!r}", source=self.name, object_id=oid
                )
            usable.append(g)
        if not usable:
            return []
        lods = sorted({_lod_key(self._lod_of(g)) for g in usable})
        if self.options.lod is None:
            pick = lods[-1]
        else:  # "2" means any 2.x; "1.3" means at most 1.3
            below = [lod for lod in lods if self._within_request(lod)]
            pick = below[-1] if below else lods[0]
        return [g for g in usable if _lod_key(self._lod_of(g)) == pick]

    def _chosen_key(self, chosen: list[dict[str, Any]]) -> tuple[int, ...]:
        return _lod_key(self._lod_of(chosen[0]))

    def _within_request(self, lod: tuple[int, ...]) -> bool:
        """Whether ``lod`` is at or below the requested LoD (always, without a request)."""
        if self.options.lod is None:
            return True
        want = _lod_key(self.options.lod)
        return lod[: len(want)] <= want if len(want) == 1 else lod <= want

    def _lod_of(self, g: dict[str, Any]) -> str:
        if g["type"] == "GeometryInstance":
            t = g.get("template")
            if isinstance(t, int) and 0 <= t < len(self.templates):
                return _lod_str(self.templates[t])
        return _lod_str(g)

    def _polygons(
        self,
        batch: PolygonBatch,
        mesh: int,
        oid: str,
        g: dict[str, Any],
        verts: NDArray[np.float64],
    ) -> None:
        """Add a surface geometry's polygons to ``batch``, as part of mesh number ``mesh``."""
        self._check_appearance(oid, g)
        lookup = [surface_index(t) for t in _semantic_types(g)]
        polygons = list(_surfaces(oid, g, self.name))
        points, ring_sizes, polygon_sizes = _gather(verts, polygons, oid, self.name)
        surfaces = [lookup[s] if s is not None and 0 <= s < len(lookup) else 0 for _, s in polygons]
        materials = uvs = None
        if self.appearance.present and ("texture" in g or "material" in g):
            materials, uvs = self.appearance.geometry(g, ring_sizes, polygon_sizes)
        batch.add(mesh, points, ring_sizes, polygon_sizes, surfaces, materials, uvs)

    def _instance(self, oid: str, g: dict[str, Any], verts: NDArray[np.float64]) -> Mesh:
        t = g.get("template")
        if not isinstance(t, int) or isinstance(t, bool) or not 0 <= t < len(self.templates):
            raise InvalidGeometry(
                f"GeometryInstance template {t!r} does not exist ({len(self.templates)} templates)",
                source=self.name,
                object_id=oid,
            )
        ref = _take(verts, g.get("boundaries") or [], oid, self.name)
        if ref.shape[0] != 1:
            raise InvalidGeometry(
                "GeometryInstance boundaries must hold one vertex index",
                source=self.name,
                object_id=oid,
            )
        try:
            matrix = np.asarray(g.get("transformationMatrix"), dtype=np.float64).reshape(4, 4)
        except (TypeError, ValueError):
            raise InvalidGeometry(
                "GeometryInstance needs a 16-number transformationMatrix",
                source=self.name,
                object_id=oid,
            ) from None
        template = self.templates[t]
        ttype = template.get("type") if isinstance(template, dict) else None
        if ttype in _NON_MESH_TYPES:
            self.non_mesh += 1
            return Mesh.empty()
        if ttype not in _SURFACE_TYPES:
            raise InvalidGeometry(
                f"geometry template {t} has type {ttype!r}; a template must "
                "be a surface or solid geometry",
                source=self.name,
                object_id=oid,
            )
        batch = PolygonBatch()
        self._polygons(batch, 0, oid, template, self.template_vertices)
        meshes, degenerate = batch.meshes(1)
        self.degenerate += degenerate
        mesh = meshes[0]
        homo = np.column_stack([mesh.positions, np.ones(mesh.positions.shape[0])])
        mesh.positions = (homo @ matrix.T)[:, :3] + ref[0]
        if not np.isfinite(mesh.positions).all():
            raise NonFiniteCoordinate(
                "a vertex has a non-finite coordinate (NaN or infinity)",
                source=self.name,
                object_id=oid,
            )
        return mesh

    def _check_appearance(self, oid: str, g: dict[str, Any]) -> None:
        for theme, mat in (g.get("material") or {}).items():
            values = mat.get("values") if isinstance(mat, dict) else None
            if isinstance(mat, dict) and "value" in mat:
                values = [mat["value"]]
            for v in _leaves(values):
                self._check_index(oid, v, self.n_materials, f"material index (theme {theme!r})")
        for theme, tex in (g.get("texture") or {}).items():
            values = tex.get("values") if isinstance(tex, dict) else None
            for ring in _rings(values):
                if not ring or ring[0] is None:
                    continue
                self._check_index(oid, ring[0], self.n_textures, f"texture index (theme {theme!r})")
                for uv in ring[1:]:
                    self._check_index(
                        oid, uv, self.n_tex_vertices, f"texture vertex index (theme {theme!r})"
                    )

    def _check_index(self, oid: str, v: Any, count: int, what: str) -> None:
        if v is None:
            return
        if not isinstance(v, int) or isinstance(v, bool):
            raise AppearanceIndexError(
                f"{what} {v!r} is not an integer", source=self.name, object_id=oid
            )
        if not 0 <= v < count:
            raise AppearanceIndexError(
                f"{what} {v} is out of range (valid: 0 to {count - 1})",
                source=self.name,
                object_id=oid,
            )

    def finish(self) -> SourceData:
        if self.degenerate:
            self.warnings.append(f"{self.degenerate} degenerate polygons (no area) skipped")
        if self.represented_by_parts:
            self.warnings.append(
                f"{self.represented_by_parts} objects drawn by their parts, "
                "which have a finer LoD than their own geometry"
            )
        if self.non_mesh:
            self.warnings.append(
                f"{self.non_mesh} point or line geometries skipped (only surfaces are tiled)"
            )
        if not self.features:
            raise EmptyInput(
                f"no city object with surface geometry ({self.object_count} objects read)",
                source=self.name,
            )
        self.warnings.extend(self.appearance.warnings())
        return SourceData(
            features=self.features,
            crs_text=self.crs_text,
            format=f"CityJSON {self.version}",
            warnings=self.warnings,
            skipped=self.skipped,
            object_count=self.object_count,
            lods=dict(self.lods),
            materials=self.appearance.materials,
            images=self.appearance.images,
            themes=self.appearance.themes,
            themes_used=self.appearance.used(),
        )


def _first_line_is_object(raw: bytes) -> bool:
    for line in raw.splitlines():
        if line.strip():
            try:
                return isinstance(orjson.loads(line), dict)
            except orjson.JSONDecodeError:
                return False
    return False


def _check_feature_root(feature: dict[str, Any], where: str, name: str) -> None:
    cos = feature.get("CityObjects")
    root = feature.get("id")
    if not isinstance(cos, dict) or root not in cos:
        raise UnresolvedFeature(
            f"{where}: the CityJSONFeature's id {root!r} is not one of its CityObjects",
            source=name,
            object_id=str(root),
        )


class _Inheritance:
    """Attributes of an object merged over those of its ancestors."""

    def __init__(self, cos: dict[str, Any]) -> None:
        self.cos = cos
        self.memo: dict[str, dict[str, Any]] = {}

    def attributes(self, oid: str, depth: int = 0) -> dict[str, Any]:
        if oid in self.memo:
            return self.memo[oid]
        obj = self.cos.get(oid) or {}
        merged: dict[str, Any] = {}
        parents = obj.get("parents") or []
        if parents and depth < 16 and parents[0] in self.cos:
            merged.update(self.attributes(parents[0], depth + 1))
        merged.update({k: v for k, v in obj.items() if k not in _STANDARD_MEMBERS})
        own = obj.get("attributes")
        if isinstance(own, dict):
            merged.update(own)
        self.memo[oid] = merged
        return merged


def _lod_str(g: dict[str, Any]) -> str:
    lod = g.get("lod")
    if lod is None:
        return "0"
    if isinstance(lod, float) and lod.is_integer():
        return str(int(lod))
    return str(lod)


def _lod_key(lod: str) -> tuple[int, ...]:
    try:
        return tuple(int(p) for p in str(lod).split("."))
    except ValueError:
        return (0,)


def _semantic_types(g: dict[str, Any]) -> list[str | None]:
    sem = g.get("semantics")
    if not isinstance(sem, dict):
        return []
    return [s.get("type") if isinstance(s, dict) else None for s in sem.get("surfaces") or []]


def _pick(values: Any, path: tuple[int, ...]) -> int | None:
    for i in path:
        if not isinstance(values, list) or i >= len(values):
            return None
        values = values[i]
    return values if isinstance(values, int) and not isinstance(values, bool) else None


def _surfaces(oid: str, g: dict[str, Any], name: str) -> Iterator[tuple[list[Any], int | None]]:
    """Yield each surface's rings with its semantic index, for every surface type."""
    b = g.get("boundaries")
    sem = g.get("semantics")
    values = sem.get("values") if isinstance(sem, dict) else None
    depth = {
        "MultiSurface": 1,
        "CompositeSurface": 1,
        "Solid": 2,
        "MultiSolid": 3,
        "CompositeSolid": 3,
    }[g["type"]]
    if not isinstance(b, list):
        raise InvalidGeometry(f"{g['type']} has no 'boundaries' list", source=name, object_id=oid)

    def walk(
        node: Any, level: int, path: tuple[int, ...]
    ) -> Iterator[tuple[list[Any], int | None]]:
        for i, child in enumerate(node):
            if not isinstance(child, list):
                raise InvalidGeometry(
                    f"{g['type']} boundaries are nested wrongly", source=name, object_id=oid
                )
            if level == depth:
                if child:
                    yield child, _pick(values, (*path, i))
            else:
                yield from walk(child, level + 1, (*path, i))

    yield from walk(b, 1, ())


def _gather(
    verts: NDArray[np.float64], polygons: list[tuple[list[Any], int | None]], oid: str, name: str
) -> tuple[NDArray[np.float64], list[int], list[int]]:
    """The points of all rings of ``polygons``, with every ring's size and every polygon's
    number of rings, the indices checked once for the whole geometry.

    Should a check fail, the rings are checked again one by one with :func:`_take`, so
    that the error names the first bad ring's problem exactly as it would alone.
    """
    flat: list[Any] = []
    ring_sizes: list[int] = []
    polygon_sizes: list[int] = []
    for rings, _ in polygons:
        polygon_sizes.append(len(rings))
        for ring in rings:
            if type(ring) is not list:
                return _gather_slowly(verts, polygons, oid, name)
            ring_sizes.append(len(ring))
            flat.extend(ring)
    if not all(type(i) is int for i in flat):  # also no bool, no list
        return _gather_slowly(verts, polygons, oid, name)
    try:
        idx = np.asarray(flat, dtype=np.int64)
    except OverflowError:
        return _gather_slowly(verts, polygons, oid, name)
    if idx.size and (idx.min() < 0 or idx.max() >= verts.shape[0]):
        return _gather_slowly(verts, polygons, oid, name)
    taken: NDArray[np.float64] = verts[idx]
    if not np.isfinite(taken).all() or (np.abs(taken) > MAX_COORDINATE).any():
        return _gather_slowly(verts, polygons, oid, name)
    return taken, ring_sizes, polygon_sizes


def _gather_slowly(
    verts: NDArray[np.float64], polygons: list[tuple[list[Any], int | None]], oid: str, name: str
) -> tuple[NDArray[np.float64], list[int], list[int]]:
    """:func:`_gather` ring by ring: raises the first ring's error (or returns the same)."""
    taken = [_take(verts, ring, oid, name) for rings, _ in polygons for ring in rings]
    return (
        np.concatenate([np.zeros((0, 3)), *taken]),
        [t.shape[0] for t in taken],
        [len(rings) for rings, _ in polygons],
    )


def _take(verts: NDArray[np.float64], ring: Any, oid: str, name: str) -> NDArray[np.float64]:
    if not isinstance(ring, list) or any(isinstance(i, list) for i in ring):
        raise InvalidGeometry("a ring must be a list of vertex indices", source=name, object_id=oid)
    if not ring:
        return np.zeros((0, 3))
    bad = next((i for i in ring if not isinstance(i, int) or isinstance(i, bool)), None)
    if bad is not None:
        raise VertexIndexError(
            f"vertex index {bad!r} is not an integer", source=name, object_id=oid
        )
    idx = np.asarray(ring)
    if idx.dtype.kind not in "iu":  # integers beyond 64 bits
        raise VertexIndexError(
            f"vertex index {max(ring)} is out of range (the file has {verts.shape[0]} vertices)",
            source=name,
            object_id=oid,
        )
    if idx.size and (idx.min() < 0 or idx.max() >= verts.shape[0]):
        bad = int(idx.max()) if idx.max() >= verts.shape[0] else int(idx.min())
        raise VertexIndexError(
            f"vertex index {bad} is out of range (the file has {verts.shape[0]} vertices)",
            source=name,
            object_id=oid,
        )
    taken: NDArray[np.float64] = verts[idx]
    if not np.isfinite(taken).all() or (np.abs(taken) > MAX_COORDINATE).any():
        raise NonFiniteCoordinate(
            f"a vertex has a non-finite or absurd coordinate (NaN, "
            f"infinity or beyond ±{MAX_COORDINATE:g})",
            source=name,
            object_id=oid,
        )
    return taken


def _leaves(values: Any) -> Iterator[Any]:
    if isinstance(values, list):
        for v in values:
            yield from _leaves(v)
    else:
        yield values


def _rings(values: Any) -> Iterator[list[Any]]:
    """Innermost lists of a texture ``values`` tree: ``[texture, uv, uv, ...]``."""
    if not isinstance(values, list):
        return
    if all(not isinstance(v, list) for v in values):
        yield values
        return
    for v in values:
        yield from _rings(v)
