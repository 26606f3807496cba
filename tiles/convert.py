"""``convert(source, out_dir, options) -> Report``: a map export to a 3D Tiles tileset.

The output is written into a staging folder beside ``out_dir`` and moved into place only
when complete, so a failed conversion never leaves a half-written tileset behind.
"""

from __future__ import annotations

import json
import shutil
import time
import uuid
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from . import georef, lod, objects_index, readers, textures
from .compress import finish_tile
from .errors import CRSMissing, InputError
from .gltf import TileMesh, write_glb
from .metadata import Schema, build_schema, schema_json
from .model import Feature
from .options import ConvertOptions
from .tileset import tileset_json
from .tiling import Node, build_tree, feature_cost

REPORT_NAME = "report.json"
#: Where each format declares its CRS, for the message when it does not.
_CRS_PLACE = {
    "CityJSON": " (metadata.referenceSystem)",
    "CityJSONSeq": " (metadata.referenceSystem)",
    "CityGML": " (no srsName on its geometry or envelope)",
}
_CHUNK = 1_000_000  # vertices per pyproj call


@dataclass
class Report:
    """What a conversion did and decided; written to ``report.json`` beside the tileset."""

    source: str
    format: str
    crs: str
    crs_from: str  # "file" or "option"
    axis_order: str
    axis_note: str
    height_method: str
    height_note: str
    feature_count: int
    object_count: int
    triangle_count: int
    types: dict[str, int]
    lods: dict[str, int]
    tile_count: int
    bytes_total: int
    bytes_max_tile: int
    extent: list[float]  # lon/lat west, south, east, north
    height_range: list[float]  # ellipsoidal metres
    origin: list[float]  # lon, lat, h of the local frame
    #: Each property's id, name, type and ``stats`` (:func:`tiles.metadata.property_stats`).
    properties: list[dict[str, Any]]
    warnings: list[str] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)
    seconds: float = 0.0
    created: str = ""
    #: Themes, materials, embedded and missing texture images, atlases, texture bytes.
    appearance: dict[str, Any] = field(default_factory=dict)
    #: Horizontal and vertical units of the source CRS ("metre", "US survey foot" ...).
    units: str = "metre"
    #: Metres added to every height (``ground_at_ellipsoid``); 0 when heights are kept.
    height_shift: float = 0.0
    #: Point clouds (:mod:`tiles.points`): points written, and the point-cloud decisions
    #: (CRS record, z range and robust range, outliers, timings).
    point_count: int = 0
    points: dict[str, Any] = field(default_factory=dict)
    #: The object index (``objects.sqlite``, :mod:`tiles.objects_index`): objects, bytes,
    #: seconds. Empty for point clouds and for versions converted before it existed.
    search_index: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def load(cls, path: Path) -> Report:
        return cls(**json.loads(path.read_text(encoding="utf-8")))


def convert(
    source: Path | str, out_dir: Path | str, options: ConvertOptions | None = None
) -> Report:
    """Convert ``source`` into a standalone tileset at ``out_dir`` (replaced atomically)."""
    options = options or ConvertOptions()
    source, out_dir = Path(source), Path(out_dir).resolve()
    started = time.perf_counter()
    if source.is_dir():  # its one file, or itself as a set of mesh tiles
        source = readers.in_folder(source)
    elif not source.is_file():
        raise InputError("no such file", source=str(source))
    _check_out_dir(out_dir)
    reader = readers.sniff(source)
    if reader is readers.points:  # not features: py3dtiles' point tiler, our placement
        from .points import convert_points

        return convert_points(source, out_dir, options, started)
    data = reader.read(source, options)
    # Objects in id order: the same objects give the same tiles whatever their order in
    # the file (a CityJSON document and its CityJSONSeq encoding convert identically).
    data.features.sort(key=lambda f: f.id)
    crs_text, crs_from = (options.crs, "option") if options.crs else (data.crs_text, "file")
    if not crs_text:
        where = _CRS_PLACE.get(data.format.split(" ")[0], "")
        raise CRSMissing(
            f"the file declares no CRS{where}: pass one with --crs EPSG:<code>",
            source=source.name,
        )
    crs = georef.parse_crs(crs_text)
    policy = georef.height_policy(crs)
    positions = np.concatenate([f.mesh.positions for f in data.features])
    axes = georef.choose_axis_order(
        crs, positions, options.axis_order, source.name, preferred=data.axis_order
    )
    llh = _geodetic(crs, positions, axes.order)
    del positions
    shift = 0.0
    if options.ground_at_ellipsoid:
        shift = -float(llh[:, 2].min())
        llh[:, 2] += shift
    lon, lat, h = llh[:, 0], llh[:, 1], llh[:, 2]
    extent = [float(lon.min()), float(lat.min()), float(lon.max()), float(lat.max())]
    frame = georef.LocalFrame(
        (extent[0] + extent[2]) / 2, (extent[1] + extent[3]) / 2, float(h.min())
    )
    enu = _to_enu(frame, llh)
    counts = np.array([f.mesh.positions.shape[0] for f in data.features], dtype=np.int64)
    bounds = objects_index.feature_bounds(llh, counts)
    del llh
    staging = out_dir.parent / f".{out_dir.name}.partial-{uuid.uuid4().hex[:12]}"
    try:
        appearance, appearance_warnings = textures.prepare(data, options.max_texture_size)
        tiles = _write_tiles(data.features, enu, frame, staging, options, appearance)
        index = objects_index.write_index(staging / objects_index.INDEX_NAME, data.features, bounds)
        warnings = list(data.warnings) + appearance_warnings
        if "outside the area" in axes.note:
            warnings.append(axes.note)
        if policy.method == "as-ellipsoidal":
            warnings.append(policy.note)
        report = Report(
            source=source.name,
            format=data.format,
            crs=georef.crs_label(crs),
            crs_from=crs_from,
            axis_order=axes.order,
            axis_note=axes.note,
            height_method=policy.method,
            height_note=policy.note,
            feature_count=len(data.features),
            object_count=data.object_count,
            triangle_count=sum(f.mesh.triangle_count for f in data.features),
            types=dict(Counter(f.type for f in data.features)),
            lods=data.lods,
            tile_count=len(tiles.sizes),
            bytes_total=sum(tiles.sizes),
            bytes_max_tile=max(tiles.sizes),
            extent=[round(v, 7) for v in extent],
            height_range=[round(float(h.min()), 3), round(float(h.max()), 3)],
            origin=[round(frame.lon, 9), round(frame.lat, 9), round(frame.height, 3)],
            properties=tiles.properties,
            warnings=warnings,
            skipped=[{"object_id": s.object_id, "reason": s.reason} for s in data.skipped],
            created=datetime.now(UTC).isoformat(timespec="seconds"),
            appearance=appearance.report() if appearance else {},
            units=policy.units,
            height_shift=round(shift, 3),
            search_index=index,
        )
        finish(report, started, staging, out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return report


@dataclass
class _Tiles:
    sizes: list[int]
    properties: list[dict[str, Any]]


def _check_out_dir(out_dir: Path) -> None:
    if out_dir.exists() and (
        not out_dir.is_dir() or (any(out_dir.iterdir()) and not (out_dir / "tileset.json").exists())
    ):
        raise InputError(
            "the output folder is not empty and holds no tileset: choose an empty or new folder",
            source=str(out_dir),
        )


def finish(report: Report, started: float, staging: Path, out_dir: Path) -> None:
    """Time the report, write it beside the staged tileset and swap the tileset in."""
    report.seconds = round(time.perf_counter() - started, 3)
    (staging / REPORT_NAME).write_text(
        json.dumps(report.to_json(), ensure_ascii=False, indent=1), encoding="utf-8"
    )
    _move_into_place(staging, out_dir)


def _move_into_place(staging: Path, out_dir: Path) -> None:
    """Swap the finished staging folder in; the old output is removed only after."""
    old = None
    if out_dir.exists():
        old = out_dir.parent / f".{out_dir.name}.old-{uuid.uuid4().hex[:12]}"
        out_dir.rename(old)
    staging.rename(out_dir)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _geodetic(crs: Any, positions: NDArray[np.float64], order: str) -> NDArray[np.float64]:
    parts = [
        georef.to_geodetic(crs, positions[i : i + _CHUNK], order)
        for i in range(0, positions.shape[0], _CHUNK)
    ]
    return np.concatenate(parts)


def _to_enu(frame: georef.LocalFrame, llh: NDArray[np.float64]) -> NDArray[np.float64]:
    parts = [
        frame.ecef_to_enu(georef.geodetic_to_ecef(llh[i : i + _CHUNK]))
        for i in range(0, llh.shape[0], _CHUNK)
    ]
    return np.concatenate(parts)


def _write_tiles(
    features: list[Feature],
    enu: NDArray[np.float64],
    frame: georef.LocalFrame,
    staging: Path,
    options: ConvertOptions,
    appearance: textures.Appearance | None = None,
) -> _Tiles:
    counts = np.array([f.mesh.positions.shape[0] for f in features], dtype=np.int64)
    tri_counts = np.array([f.mesh.triangle_count for f in features], dtype=np.int64)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
    lo = np.minimum.reduceat(enu, starts, axis=0)
    hi = np.maximum.reduceat(enu, starts, axis=0)
    tree = build_tree(
        lo,
        hi,
        feature_cost(counts, tri_counts) + textures.feature_costs(features, appearance),
        max_bytes=options.max_tile_bytes,
        max_features=options.max_features_per_tile,
    )
    schema = build_schema(features)
    (staging / "tiles").mkdir(parents=True)
    contents: dict[str, str] = {}
    sizes: list[int] = []
    for node in tree.walk():
        if node.is_leaf:
            uri = f"tiles/{node.address}.glb"
            mesh = _tile_mesh(node, features, enu, starts, counts)
            if appearance is not None:
                _add_appearance(mesh, appearance)
            write_glb(staging / uri, mesh, schema)
            uri, size = finish_tile(staging, uri, options)  # compression, 3D Tiles 1.0
            contents[node.address] = uri
            sizes.append(size)
    if options.lod_parents:
        parents = _write_parents(
            tree, features, enu, starts, counts, staging, options, schema, appearance
        )
        contents.update(parents)
        sizes.extend((staging / uri).stat().st_size for uri in parents.values())
    doc = tileset_json(tree, frame, contents)
    if options.tiles_version == "1.0":
        doc["asset"]["version"] = "1.0"
    (staging / "tileset.json").write_text(json.dumps(doc, allow_nan=False), encoding="utf-8")
    return _Tiles(sizes, schema_json(schema, features))


def _write_parents(
    tree: Node,
    features: list[Feature],
    enu: NDArray[np.float64],
    starts: NDArray[np.int64],
    counts: NDArray[np.int64],
    staging: Path,
    options: ConvertOptions,
    schema: Schema,
    appearance: textures.Appearance | None = None,
) -> dict[str, str]:
    """Give every parent tile the stand-ins of its most prominent objects (tiles/lod.py),
    their textures at half the resolution per level above the leaves."""
    contents: dict[str, str] = {}
    parents = [node for node in tree.walk() if not node.is_leaf]
    if not parents:
        return contents
    standins = lod.stand_ins(features, enu, starts, counts, appearance)
    cost = lod.costs(standins)
    texture_cost = lod.texture_costs(standins, textures.feature_costs(features, appearance))
    levels = lod.levels_above_leaves(tree)
    for node in parents:
        scale = lod.texture_scale(levels[node.address])
        size = max(lod.MIN_PARENT_TEXTURE, round(options.max_texture_size * scale))
        chosen = lod.choose(
            lod.below(node),
            standins,
            cost + np.ceil(texture_cost * (size / options.max_texture_size) ** 2).astype(np.int64),
            options.max_tile_bytes,
            options.max_features_per_tile,
        )
        if chosen.size:
            uri = f"tiles/{node.address}.glb"
            tile = lod.parent_tile(chosen, standins, features, appearance, size)
            write_glb(staging / uri, tile, schema)
            contents[node.address], _ = finish_tile(staging, uri, options)
    return contents


def _tile_mesh(
    node: Node,
    features: list[Feature],
    enu: NDArray[np.float64],
    starts: NDArray[np.int64],
    counts: NDArray[np.int64],
) -> TileMesh:
    chosen = [features[i] for i in node.features]
    pos = [enu[starts[i] : starts[i] + counts[i]] for i in node.features]
    offsets = np.concatenate([[0], np.cumsum([p.shape[0] for p in pos])[:-1]]).astype(np.int64)
    tris = np.concatenate([f.mesh.triangles + o for f, o in zip(chosen, offsets, strict=True)])
    surfaces = np.concatenate([f.mesh.surfaces for f in chosen])
    owner = np.repeat(np.arange(len(chosen), dtype=np.int64), [p.shape[0] for p in pos])
    return TileMesh(np.concatenate(pos), tris, surfaces, owner, chosen)


def _add_appearance(tile: TileMesh, appearance: textures.Appearance) -> None:
    """The tile's materials per triangle and uvs per vertex, when any of its objects has."""
    meshes = [f.mesh for f in tile.features]
    if all(m.materials is None for m in meshes):
        return
    tile.materials = np.concatenate([m.material_per_triangle() for m in meshes])
    tile.uvs = np.concatenate([m.uv_per_vertex() for m in meshes])
    tile.appearance = appearance
