"""Helpers for the CityJSON reader tests: fixtures, an independent source loader, geometry."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from tiles.model import Mesh, SourceData
from tiles.options import ConvertOptions
from tiles.readers import read

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "cityjson"
# Members of a city object that are not carried as attributes (the rest, such as
# "address" or "+extension" members, are shown with the attributes).
STRUCTURAL = {
    "type",
    "geometry",
    "attributes",
    "children",
    "parents",
    "geographicalExtent",
    "children_roles",
}


def read_fixture(name: str, lod: str | None = None) -> SourceData:
    return read(FIXTURES / name, ConvertOptions(lod=lod))


def by_id(data: SourceData) -> dict[str, Any]:
    out = {f.id: f for f in data.features}
    assert len(out) == len(data.features), "feature ids are not unique"
    return out


def write_json(tmp_path: Path, doc: Any, name: str = "case.city.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(doc) if not isinstance(doc, str) else doc, encoding="utf-8")
    return path


# -- an independent reading of the source (plain json, no tiles code) -------------------
def load_source(path: Path) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """Header and every city object of a CityJSON file or CityJSONSeq stream.

    Each object gets ``"_real"``: real coordinates of the vertex list its indices use.
    """
    text = path.read_text(encoding="utf-8")
    try:
        header = json.loads(text)
        chunks = [(header["CityObjects"], header["vertices"])]
    except json.JSONDecodeError:
        docs = [json.loads(line) for line in text.splitlines() if line.strip()]
        header = docs[0]
        chunks = [(d["CityObjects"], d["vertices"]) for d in docs[1:]]
    tr = header.get("transform") or {"scale": [1, 1, 1], "translate": [0, 0, 0]}
    objects: dict[str, dict[str, Any]] = {}
    for cos, verts in chunks:
        real = np.asarray(verts, dtype=np.float64).reshape(-1, 3) * tr["scale"] + tr["translate"]
        for oid, obj in cos.items():
            objects[oid] = {**obj, "_real": real}
    return header, objects


def expected_attributes(objects: dict[str, dict[str, Any]], oid: str) -> dict[str, Any]:
    """An object's attributes over those of its parent chain (nearest wins)."""
    obj = objects[oid]
    merged: dict[str, Any] = {}
    parents = obj.get("parents") or []
    if parents and parents[0] in objects:
        merged.update(expected_attributes(objects, parents[0]))
    merged.update({k: v for k, v in obj.items() if k not in STRUCTURAL and not k.startswith("_")})
    merged.update(obj.get("attributes") or {})
    return merged


def lod_key(lod: Any) -> tuple[int, ...]:
    text = str(int(lod)) if isinstance(lod, float) and lod.is_integer() else str(lod)
    return tuple(int(p) for p in text.split("."))


# -- geometry ------------------------------------------------------------------------
def corners(mesh: Mesh) -> np.ndarray:
    """(m, 3, 3) corner positions of every triangle."""
    return mesh.positions[mesh.triangles]


def triangle_normals(mesh: Mesh) -> np.ndarray:
    """Unnormalised normals (length = twice the area) of every triangle."""
    c = corners(mesh)
    return np.cross(c[:, 1] - c[:, 0], c[:, 2] - c[:, 0])


def mesh_area(mesh: Mesh) -> float:
    return float(np.linalg.norm(triangle_normals(mesh), axis=1).sum() / 2)


def newell(ring: np.ndarray) -> np.ndarray:
    """Newell normal of a ring (length = twice its area for a planar ring)."""
    ring = ring - ring.mean(axis=0)
    return np.cross(ring, np.roll(ring, -1, axis=0)).sum(axis=0)


def covers(mesh: Mesh, point: Any, tol: float = 1e-9) -> bool:
    """Whether ``point`` lies (strictly inside) some triangle of ``mesh``."""
    p = np.asarray(point, dtype=np.float64)
    for a, b, c in corners(mesh):
        n = np.cross(b - a, c - a)
        nn = float(n @ n)
        if nn == 0 or abs((p - a) @ n) / np.sqrt(nn) > 1e-6:
            continue
        u = np.cross(c - b, p - b) @ n / nn
        v = np.cross(a - c, p - c) @ n / nn
        w = 1.0 - u - v
        if min(u, v, w) > tol:
            return True
    return False


def canonical_triangles(mesh: Mesh) -> np.ndarray:
    """Triangles as sorted rows of 9 coordinates + surface class, independent of the
    vertex numbering (each triangle rotated to start at its smallest corner, winding kept)."""
    rows = []
    for tri, s in zip(corners(mesh), mesh.surfaces, strict=True):
        start = min(range(3), key=lambda i: tuple(tri[i]))
        rows.append([*np.roll(tri, -start, axis=0).ravel(), float(s)])
    arr = np.array(rows, dtype=np.float64).reshape(-1, 10)
    return arr[np.lexsort(arr.T[::-1])]


def assert_mesh_sane(mesh: Mesh, n_surface_types: int) -> None:
    assert mesh.positions.dtype == np.float64
    assert mesh.positions.shape[1:] == (3,)
    assert mesh.triangles.shape[1:] == (3,)
    assert mesh.triangles.dtype.kind == "i"
    assert mesh.surfaces.shape == (mesh.triangle_count,)
    assert mesh.triangle_count > 0
    assert np.isfinite(mesh.positions).all()
    assert mesh.triangles.min() >= 0
    assert mesh.triangles.max() < mesh.positions.shape[0]
    assert mesh.surfaces.min() >= 0
    assert mesh.surfaces.max() < n_surface_types
    assert (np.linalg.norm(triangle_normals(mesh), axis=1) > 0).all(), "zero-area triangle"
