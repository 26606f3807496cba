"""Simplified geometry for parent tiles, so a city-wide view fetches little.

Every object gets a stand-in for the parent tiles above it:

- an object with a height (buildings, bridges, city furniture...) becomes an LoD1 block:
  the convex hull of its vertices seen from above, extruded from its lowest to its highest
  point (roof and walls; the floor is never seen from above);
- a flat object (roads, land use, water; less than ``FLAT_METRES`` high) and a mesh
  (photogrammetry, relief) keeps its own triangles when they are few, else a quadric
  decimation of them (fast-simplification);
- an object that is small already (``KEEP_TRIANGLES`` or fewer) keeps its own geometry.

A parent tile holds the stand-ins of the objects below it, the most prominent first, up to
the tile budget; the rest appear when the camera comes closer and the children replace the
parent (``refine: REPLACE``). Stand-ins keep their object's id and attributes, so picking
works at every distance.
"""

from __future__ import annotations

from dataclasses import dataclass

import fast_simplification
import numpy as np
import shapely
from numpy.typing import NDArray

from .gltf import TileMesh
from .model import SURFACE_INDEX, Feature
from .tiling import Node, feature_cost

FLAT_METRES = 1.0
#: Objects whose shape a block would misrepresent: meshes (photogrammetry, terrain)
#: are decimated whatever their height.
DECIMATED_TYPES = frozenset({"Mesh", "TINRelief", "ReliefFeature"})
KEEP_TRIANGLES = 12
_ROOF, _WALL = SURFACE_INDEX["RoofSurface"], SURFACE_INDEX["WallSurface"]


@dataclass
class StandIn:
    """One object's simplified geometry in the local ENU frame."""

    positions: NDArray[np.float64]
    triangles: NDArray[np.int64]
    surfaces: NDArray[np.int16]
    #: How much the object matters seen from afar: its footprint area times its height.
    prominence: float

    @property
    def triangle_count(self) -> int:
        return int(self.triangles.shape[0])


def stand_ins(
    features: list[Feature],
    enu: NDArray[np.float64],
    starts: NDArray[np.int64],
    counts: NDArray[np.int64],
) -> list[StandIn | None]:
    """The stand-in of every feature (None for an object without triangles)."""
    n = len(features)
    lo = np.minimum.reduceat(enu, starts, axis=0) if n else np.zeros((0, 3))
    hi = np.maximum.reduceat(enu, starts, axis=0) if n else np.zeros((0, 3))
    height = hi[:, 2] - lo[:, 2]
    rings, areas = _plan_hulls(enu, counts)
    out: list[StandIn | None] = []
    for i, f in enumerate(features):
        if f.mesh.triangle_count == 0:
            out.append(None)
            continue
        pos = enu[starts[i] : starts[i] + counts[i]]
        prominence = float(max(areas[i], 1.0) * max(height[i], 0.1))
        if f.mesh.triangle_count <= KEEP_TRIANGLES:
            out.append(StandIn(pos, f.mesh.triangles, f.mesh.surfaces, prominence))
        elif height[i] < FLAT_METRES or f.type in DECIMATED_TYPES:
            decimated = _decimated(pos, f.mesh.triangles, f.mesh.surfaces, prominence)
            if decimated is not None:  # optimal vertex positions may leave the object's box
                np.clip(decimated.positions, lo[i], hi[i], out=decimated.positions)
            out.append(decimated)
        else:
            out.append(_block(rings[i], lo[i, 2], hi[i, 2], prominence))
    return out


def _plan_hulls(
    enu: NDArray[np.float64], counts: NDArray[np.int64]
) -> tuple[list[NDArray[np.float64] | None], NDArray[np.float64]]:
    """The convex hull of every object's plan as a counter-clockwise ring (None where it is
    a point or a line), and its area; a few vectorised GEOS calls for all objects."""
    n = counts.size
    rings: list[NDArray[np.float64] | None] = [None] * n
    areas = np.zeros(n)
    ok = np.flatnonzero(counts >= 2)  # a line string needs two points
    if ok.size == 0:
        return rings, areas
    keep = np.repeat(counts >= 2, counts)
    owner = np.repeat(np.arange(ok.size), counts[ok])
    lines = shapely.linestrings(enu[keep, :2], indices=owner)
    hulls = shapely.convex_hull(lines)
    areas[ok] = shapely.area(hulls)
    polygon = shapely.get_type_id(hulls) == shapely.GeometryType.POLYGON
    exteriors = shapely.get_exterior_ring(hulls[polygon])
    ccw = shapely.is_ccw(exteriors)
    coords, index = shapely.get_coordinates(exteriors, return_index=True)
    bounds = np.searchsorted(index, np.arange(exteriors.size + 1))
    for j, i in enumerate(ok[polygon]):
        ring = coords[bounds[j] : bounds[j + 1] - 1]  # the closing point repeats the first
        rings[i] = ring if ccw[j] else ring[::-1]  # walls must face outwards, the roof up
    return rings, areas


def _block(
    ring: NDArray[np.float64] | None, z0: float, z1: float, prominence: float
) -> StandIn | None:
    """An extruded convex polygon: a fan-triangulated roof and one quad per wall."""
    if ring is None or ring.shape[0] < 3:  # a point or a line seen from above
        return None
    k = ring.shape[0]
    roof = np.column_stack([ring, np.full(k, z1)])
    fan = np.column_stack([np.zeros(k - 2), np.arange(1, k - 1), np.arange(2, k)])
    a, b = ring, np.roll(ring, -1, axis=0)
    # Each wall: (a, z0), (b, z0), (b, z1), (a, z1), counter-clockwise seen from outside.
    walls = np.stack(
        [
            np.column_stack([a, np.full(k, z0)]),
            np.column_stack([b, np.full(k, z0)]),
            np.column_stack([b, np.full(k, z1)]),
            np.column_stack([a, np.full(k, z1)]),
        ],
        axis=1,
    ).reshape(-1, 3)
    base = k + 4 * np.arange(k)[:, None]
    quads = np.concatenate([base + np.array([0, 1, 2]), base + np.array([0, 2, 3])])
    positions = np.concatenate([roof, walls])
    triangles = np.concatenate([fan, quads]).astype(np.int64)
    surfaces = np.concatenate(
        [np.full(k - 2, _ROOF, dtype=np.int16), np.full(2 * k, _WALL, dtype=np.int16)]
    )
    return StandIn(positions, triangles, surfaces, prominence)


def _decimated(
    pos: NDArray[np.float64],
    tris: NDArray[np.int64],
    surfaces: NDArray[np.int16],
    prominence: float,
) -> StandIn | None:
    """A flat object's triangles reduced to about a quarter by quadric decimation."""
    if tris.shape[0] <= 4 * KEEP_TRIANGLES:
        return StandIn(pos, tris, surfaces, prominence)
    # Welding shared corners first lets the decimation collapse edges across polygons.
    welded, inverse = np.unique(np.round(pos, 3), axis=0, return_inverse=True)
    faces = inverse.reshape(-1)[tris]
    keep = (
        (faces[:, 0] != faces[:, 1]) & (faces[:, 1] != faces[:, 2]) & (faces[:, 0] != faces[:, 2])
    )
    faces = faces[keep]
    if faces.shape[0] <= 4 * KEEP_TRIANGLES:
        return StandIn(pos, tris, surfaces, prominence)
    points, reduced = fast_simplification.simplify(
        welded.astype(np.float64), faces.astype(np.int32), target_reduction=0.75
    )
    if reduced.shape[0] == 0:
        return None
    # Unshare vertices again: each triangle keeps a flat normal, as in full tiles.
    flat = np.asarray(points, dtype=np.float64)[np.asarray(reduced).reshape(-1)]
    triangles = np.arange(flat.shape[0], dtype=np.int64).reshape(-1, 3)
    dominant = np.bincount(surfaces.astype(np.int64)).argmax()
    return StandIn(
        flat, triangles, np.full(triangles.shape[0], dominant, dtype=np.int16), prominence
    )


def costs(standins: list[StandIn | None]) -> NDArray[np.int64]:
    """The estimated glb bytes of each stand-in (0 for none)."""
    vertices = np.array([s.positions.shape[0] if s else 0 for s in standins], dtype=np.int64)
    triangles = np.array([s.triangle_count if s else 0 for s in standins], dtype=np.int64)
    return np.where(vertices > 0, feature_cost(vertices, triangles), 0)


def below(node: Node) -> NDArray[np.int64]:
    """Every feature in the leaves under ``node``."""
    parts = [leaf.features for leaf in node.walk() if leaf.is_leaf]
    return np.sort(np.concatenate(parts)) if parts else np.zeros(0, dtype=np.int64)


def parent_tile(
    chosen: NDArray[np.int64], standins: list[StandIn | None], features: list[Feature]
) -> TileMesh:
    """A parent tile's mesh: the chosen stand-ins, each keeping its object's identity."""
    parts = [standins[i] for i in chosen]
    meshes = [p for p in parts if p is not None]
    sizes = [m.positions.shape[0] for m in meshes]
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
    return TileMesh(
        np.concatenate([m.positions for m in meshes]),
        np.concatenate([m.triangles + o for m, o in zip(meshes, offsets, strict=True)]),
        np.concatenate([m.surfaces for m in meshes]),
        np.repeat(np.arange(len(meshes), dtype=np.int64), sizes),
        [features[i] for i in chosen],
    )


def choose(
    candidates: NDArray[np.int64],
    standins: list[StandIn | None],
    cost: NDArray[np.int64],
    max_bytes: int,
    max_features: int,
) -> NDArray[np.int64]:
    """The most prominent candidates whose stand-ins fit the budget, in feature order."""
    present = np.array([i for i in candidates if standins[i] is not None], dtype=np.int64)
    if present.size == 0:
        return present
    prominence = np.array([s.prominence for i in present if (s := standins[i]) is not None])
    order = present[np.argsort(-prominence, kind="stable")]
    fits = np.cumsum(cost[order]) <= max_bytes
    chosen = order[fits][:max_features]
    return np.sort(chosen)
