"""Planar polygons (with holes) in 3D to triangles, with mapbox-earcut."""

from __future__ import annotations

import mapbox_earcut as earcut
import numpy as np
from numpy.typing import NDArray

#: Twice the area (m²) below which a polygon or triangle counts as having none.
EPS_AREA = 1e-12


def newell_normal(ring: NDArray[np.float64]) -> NDArray[np.float64]:
    """Area-weighted normal of a (possibly non-planar) ring; length is twice its area."""
    nxt = np.roll(ring, -1, axis=0)
    return np.array(
        [
            np.sum((ring[:, 1] - nxt[:, 1]) * (ring[:, 2] + nxt[:, 2])),
            np.sum((ring[:, 2] - nxt[:, 2]) * (ring[:, 0] + nxt[:, 0])),
            np.sum((ring[:, 0] - nxt[:, 0]) * (ring[:, 1] + nxt[:, 1])),
        ]
    )


def clean_ring(ring: NDArray[np.float64]) -> NDArray[np.float64]:
    """Drop a repeated closing vertex and consecutive duplicates."""
    if ring.shape[0] == 0:
        return ring
    keep = np.ones(ring.shape[0], dtype=bool)
    keep[1:] = np.any(ring[1:] != ring[:-1], axis=1)
    ring = ring[keep]
    if ring.shape[0] > 1 and np.all(ring[0] == ring[-1]):
        ring = ring[:-1]
    return ring


Triangles = tuple[NDArray[np.float64], NDArray[np.int64]]


def triangulate(rings: list[NDArray[np.float64]]) -> Triangles | None:
    """Triangulate a polygon given as an outer ring and holes, each (k, 3).

    Returns the polygon's vertices and triangles (indices into them), wound
    counter-clockwise around the outer ring's normal, or ``None`` for a degenerate
    polygon (fewer than three distinct vertices or no area).
    """
    rings = [clean_ring(r) for r in rings]
    outer = rings[0]
    if outer.shape[0] < 3:
        return None
    normal = newell_normal(outer - outer.mean(axis=0))
    length = float(np.linalg.norm(normal))
    if length < EPS_AREA:
        return None
    holes = [h for h in rings[1:] if h.shape[0] >= 3]
    if not holes and outer.shape[0] == 3:
        return outer, np.array([[0, 1, 2]], dtype=np.int64)
    verts = np.concatenate([outer, *holes]) if holes else outer
    ends = np.cumsum([outer.shape[0]] + [h.shape[0] for h in holes])
    tris = earcut_rings(verts, ends, normal)
    return None if tris is None else (verts, tris)


def earcut_rings(
    verts: NDArray[np.float64], ends: NDArray[np.int64], normal: NDArray[np.float64]
) -> NDArray[np.int64] | None:
    """Triangles of cleaned rings (outer first, then holes) stacked in ``verts``.

    ``ends`` holds where each ring ends in ``verts``; ``normal`` is the outer ring's
    Newell normal. Every triangle is wound like the outer ring and triangles without
    area are dropped; ``None`` when none is left.
    """
    # Project onto the plane of the dominant normal component, keeping orientation.
    axis = int(np.argmax(np.abs(normal)))
    u, v = [(1, 2), (2, 0), (0, 1)][axis]
    flat = verts[:, (u, v)] - verts[0, (u, v)]
    idx = earcut.triangulate_float64(np.ascontiguousarray(flat), ends.astype(np.uint32))
    if idx.size == 0:
        return None
    tris = idx.reshape(-1, 3).astype(np.int64)
    # Wind every triangle like the outer ring (earcut's output winding is its own).
    a, b, c = verts[tris[:, 0]], verts[tris[:, 1]], verts[tris[:, 2]]
    cross = np.cross(b - a, c - a)
    flip = cross @ normal < 0
    tris[flip] = tris[flip][:, ::-1]
    area = np.linalg.norm(cross, axis=1)
    tris = tris[area > EPS_AREA]
    return tris if tris.shape[0] else None
