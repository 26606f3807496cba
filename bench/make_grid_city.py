"""Build a big CityJSON 2.0 city by replicating real buildings on a grid.

The buildings are real exports, copied unchanged except for a translation and new ids:

* by default the LoD 2.2 3DBAG buildings of ``../shared/data`` (``3dbag_b2.city.json``:
  2 buildings; ``delft_subset.city.jsonl``: 10 buildings carrying LoD 0, 1.2, 1.3 and 2.2),
  i.e. 12 real Delft buildings with their BuildingParts, semantics and 3DBAG attributes;
* when ``../shared`` is absent, the 160 LoD1 Buildings of the repo's
  ``data/demo/delft.city.json`` (Delft BGT; its roads, land use etc. are left out).

A *building* is a top-level Building (or BuildingPart-less Building) together with all its
descendants (BuildingParts, installations): it counts as one building. Building ``k`` of
the output is source building ``k % G`` placed in grid cell ``k`` of a square grid whose
cell size (``spacing``) is larger than the largest source building's x/y extent, so copies
never overlap and the density stays city-like. Every geometry (all LoDs), semantic,
attribute and the CRS are kept (objects' ``geographicalExtent`` moves with them);
coordinates are re-quantised to one transform (that of the first source, scale 0.001 m; at
most 0.5 mm of rounding for the other sources). Ids become ``<original id>.g<k>`` so they
stay unique; parents/children follow.

Usage::

    python -m bench.make_grid_city --buildings 50000 -o bench/out/grid-50000.city.json
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import orjson

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared" / "data"
LOD2_SOURCES = (
    SHARED / "cityjson-3dbag-b2" / "3dbag_b2.city.json",
    SHARED / "cityjsonseq-delft-subset" / "delft_subset.city.jsonl",
)
DEMO_SOURCE = REPO / "data" / "demo" / "delft.city.json"
BUILDING_TYPES = ("Building",)
GAP_M = 10.0  # free space between the largest building and the next cell


def default_sources() -> list[Path]:
    """The LoD2.2 3DBAG buildings when ../shared is there, else the repo's LoD1 demo."""
    lod2 = [p for p in LOD2_SOURCES if p.is_file()]
    return lod2 if lod2 else [DEMO_SOURCE]


@dataclass
class _Group:
    """One source building with its descendants; vertices are local (0..k-1)."""

    source: str
    objects: dict[str, dict[str, Any]]  # id -> object with boundaries as %d templates
    fmts: list[tuple[str, int, int, np.ndarray]]  # (object id, geometry index, fmt, indices)
    real: np.ndarray  # (k, 3) real coordinates of the local vertices


@dataclass
class GridInfo:
    """What was generated; written beside the file as ``<name>.meta.json``."""

    path: str
    buildings: int
    city_objects: int
    vertices: int
    bytes: int
    sources: list[str]
    source_buildings: int
    lods: list[str]
    spacing_m: float
    grid: list[int]  # columns, rows
    extent: list[float]
    crs: str
    seconds: float
    generator: str = "bench/make_grid_city.py v1"
    notes: list[str] = field(default_factory=list)


def _load(path: Path) -> list[tuple[dict[str, Any], dict[str, Any], np.ndarray]]:
    """(header, CityObjects, real vertices) chunks of a CityJSON file or CityJSONSeq."""
    raw = path.read_bytes()
    if path.name.endswith(".jsonl"):
        lines = [ln for ln in raw.splitlines() if ln.strip()]
        header = orjson.loads(lines[0])
        out = []
        for ln in lines[1:]:
            feat = orjson.loads(ln)
            out.append((header, feat["CityObjects"], _real(header, feat["vertices"])))
        return out
    doc = orjson.loads(raw)
    return [(doc, doc["CityObjects"], _real(doc, doc["vertices"]))]


def _real(header: dict[str, Any], vertices: list[list[int]]) -> np.ndarray:
    v = np.asarray(vertices, dtype=np.float64).reshape(-1, 3)
    tr = header.get("transform")
    if tr:
        v = v * np.asarray(tr["scale"]) + np.asarray(tr["translate"])
    return v


def _flatten(node: Any, out: list[int]) -> Any:
    """Collect the ints of a boundaries tree; return the tree with ``None`` in their place."""
    if isinstance(node, list):
        return [_flatten(n, out) for n in node]
    out.append(int(node))
    return None


def _groups(path: Path) -> tuple[list[_Group], dict[str, Any]]:
    groups: list[_Group] = []
    header: dict[str, Any] = {}
    for hdr, cos, real in _load(path):
        header = header or hdr
        if hdr.get("geometry-templates") or hdr.get("appearance"):
            raise SystemExit(f"{path.name}: geometry templates / appearance are not replicated")
        roots = [
            oid
            for oid, o in cos.items()
            if o.get("type") in BUILDING_TYPES and not o.get("parents")
        ]
        for root in roots:
            ids, todo = [], [root]
            while todo:
                oid = todo.pop()
                ids.append(oid)
                todo.extend(c for c in cos[oid].get("children") or [] if c in cos)
            objects = {oid: dict(cos[oid]) for oid in ids}
            used: list[int] = []
            trees: list[tuple[str, int, Any, int, int]] = []
            for oid, obj in objects.items():
                for gi, g in enumerate(obj.get("geometry") or []):
                    start = len(used)
                    tree = _flatten(g["boundaries"], used)
                    trees.append((oid, gi, tree, start, len(used)))
            uniq, local = np.unique(np.asarray(used, dtype=np.int64), return_inverse=True)
            fmts = []
            for oid, gi, tree, a, b in trees:
                fmt = orjson.dumps(tree).decode().replace("null", "%d")
                fmts.append((oid, gi, fmt, local[a:b].astype(np.int64)))
            for obj in objects.values():
                obj["geometry"] = [dict(g) for g in obj.get("geometry") or []]
            groups.append(_Group(path.name, objects, fmts, real[uniq]))
    return groups, header


def make_grid_city(
    out: Path, buildings: int = 50_000, sources: list[Path] | None = None
) -> GridInfo:
    """Write ``out``: ``buildings`` real buildings replicated on a grid (CityJSON 2.0)."""
    started = time.perf_counter()
    sources = sources or default_sources()
    groups: list[_Group] = []
    header: dict[str, Any] = {}
    for src in sources:
        g, h = _groups(src)
        groups.extend(g)
        header = header or h
    if not groups:
        raise SystemExit("no Building in the sources")
    tr = header.get("transform") or {"scale": [0.001, 0.001, 0.001], "translate": [0, 0, 0]}
    scale, translate = np.asarray(tr["scale"], float), np.asarray(tr["translate"], float)
    lo = np.array([g.real[:, :2].min(axis=0) for g in groups])
    hi = np.array([g.real[:, :2].max(axis=0) for g in groups])
    spacing = math.ceil(float((hi - lo).max()) + GAP_M)
    origin = lo.min(axis=0)  # the grid starts where the real buildings are
    # Each group as integer vertices relative to its own x/y minimum, in output units.
    local_q = []
    for g, glo in zip(groups, lo, strict=True):
        shifted = g.real.copy()
        shifted[:, :2] -= glo
        shifted[:, :2] += origin
        local_q.append(np.rint((shifted - translate) / scale).astype(np.int64))
    spacing_q = np.rint(np.array([spacing, spacing]) / scale[:2]).astype(np.int64)
    cols = math.ceil(math.sqrt(buildings))
    rows = math.ceil(buildings / cols)

    cos: dict[str, Any] = {}
    vert_parts: list[np.ndarray] = []
    base = 0
    lods: set[str] = set()
    for k in range(buildings):
        g = groups[k % len(groups)]
        q = local_q[k % len(groups)].copy()
        q[:, 0] += (k % cols) * spacing_q[0]
        q[:, 1] += (k // cols) * spacing_q[1]
        vert_parts.append(q)
        suffix = f".g{k}"
        dx = origin[0] - lo[k % len(groups)][0] + (k % cols) * spacing
        dy = origin[1] - lo[k % len(groups)][1] + (k // cols) * spacing
        copies = {}
        for oid, obj in g.objects.items():
            new = dict(obj)
            ext = obj.get("geographicalExtent")
            if isinstance(ext, list) and len(ext) == 6:
                new["geographicalExtent"] = [
                    round(ext[0] + dx, 3),
                    round(ext[1] + dy, 3),
                    ext[2],
                    round(ext[3] + dx, 3),
                    round(ext[4] + dy, 3),
                    ext[5],
                ]
            if "children" in obj:
                new["children"] = [c + suffix for c in obj["children"]]
            if "parents" in obj:
                new["parents"] = [p + suffix for p in obj["parents"]]
            new["geometry"] = [dict(geom) for geom in obj["geometry"]]
            copies[oid] = new
        for oid, gi, fmt, idx in g.fmts:
            geom = copies[oid]["geometry"][gi]
            geom["boundaries"] = orjson.Fragment(fmt % tuple((idx + base).tolist()))
            lods.add(str(geom.get("lod")))
        for oid, new in copies.items():
            cos[oid + suffix] = new
        base += q.shape[0]
    verts = np.concatenate(vert_parts)
    real_lo = verts.min(axis=0) * scale + translate
    real_hi = verts.max(axis=0) * scale + translate
    metadata = dict(header.get("metadata") or {})
    metadata["geographicalExtent"] = [round(float(v), 3) for v in (*real_lo, *real_hi)]
    metadata["title"] = (
        f"twin benchmark city: {buildings} real buildings "
        f"({len(groups)} distinct, from {', '.join(s.name for s in sources)}) "
        f"replicated on a {cols} x {rows} grid of {spacing} m"
    )
    doc = {"type": "CityJSON", "version": "2.0", "transform": tr, "metadata": metadata}
    if header.get("extensions"):
        doc["extensions"] = header["extensions"]
    doc["CityObjects"] = cos
    doc["vertices"] = verts
    out.parent.mkdir(parents=True, exist_ok=True)
    data = orjson.dumps(doc, option=orjson.OPT_SERIALIZE_NUMPY)
    tmp = out.with_name(out.name + ".partial")
    tmp.write_bytes(data)
    tmp.replace(out)
    info = GridInfo(
        path=str(out),
        buildings=buildings,
        city_objects=len(cos),
        vertices=int(verts.shape[0]),
        bytes=len(data),
        sources=[str(s) for s in sources],
        source_buildings=len(groups),
        lods=sorted(lods),
        spacing_m=float(spacing),
        grid=[cols, rows],
        extent=metadata["geographicalExtent"],
        crs=str(metadata.get("referenceSystem")),
        seconds=round(time.perf_counter() - started, 2),
    )
    meta_path(out).write_bytes(orjson.dumps(asdict(info), option=orjson.OPT_INDENT_2))
    return info


def meta_path(out: Path) -> Path:
    return out.with_name(out.name + ".meta.json")


def cached(out: Path, buildings: int, sources: list[Path] | None = None) -> GridInfo:
    """The grid city at ``out``, regenerated only when missing or made differently."""
    sources = sources or default_sources()
    mp = meta_path(out)
    if out.is_file() and mp.is_file():
        info = GridInfo(**orjson.loads(mp.read_bytes()))
        if (
            info.buildings == buildings
            and info.sources == [str(s) for s in sources]
            and info.generator == GridInfo.generator
            and out.stat().st_size == info.bytes
        ):
            return info
    return make_grid_city(out, buildings, sources)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--buildings", type=int, default=50_000)
    ap.add_argument(
        "--source",
        type=Path,
        action="append",
        help="a CityJSON / CityJSONSeq file (repeatable); default: the 3DBAG "
        "LoD2.2 files of ../shared/data, else data/demo/delft.city.json",
    )
    ap.add_argument("-o", "--out", type=Path, default=None)
    args = ap.parse_args(argv)
    out = args.out or REPO / "bench" / "out" / f"grid-{args.buildings}.city.json"
    info = make_grid_city(out, args.buildings, args.source)
    print(
        f"wrote {info.path}: {info.buildings} buildings ({info.city_objects} city objects, "
        f"{info.vertices} vertices, {info.bytes / 1e6:.1f} MB) from {info.source_buildings} "
        f"real buildings, grid {info.grid[0]} x {info.grid[1]} @ {info.spacing_m} m, "
        f"{info.seconds} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
