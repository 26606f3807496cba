"""Many planar polygons at once: cleaning, Newell normals and triangles.

The CityJSON reader hands over all polygons of a geometry as one flat (n, 3) array of
points with the size of every ring and the number of rings of every polygon. Calling
:func:`~tiles.triangulate.triangulate` polygon by polygon spends almost all its time in
numpy's per-call overhead, since most polygons have 3 to 8 vertices. Here the single-ring
polygons (the bulk: wall quads, roof faces, triangles) are cleaned, measured and, when
convex, fan-triangulated in a few numpy passes over the whole batch. Only concave
polygons and polygons with holes go to earcut, one call each.

The result is what :func:`~tiles.triangulate.triangulate` gives for every polygon: the
same cleaning (closing vertex, consecutive duplicates), the same degenerate polygons (fewer
than three distinct vertices, or no area), triangles wound like the outer ring's Newell
normal, and no triangle without area. A convex polygon's fan and earcut's triangles cover
the same area with the same number of triangles; only the diagonals may differ.
"""

from __future__ import annotations

from dataclasses import dataclass

import mapbox_earcut as earcut
import numpy as np
from numpy.typing import NDArray

from .model import Mesh
from .triangulate import EPS_AREA, triangulate

#: A corner counts as convex when the sine of its turn exceeds this. Polygons with a
#: (nearly) straight corner go to earcut, like concave ones: a fan from the vertex before
#: such a corner would hold a triangle without area, which earcut does not make, and the
#: polygon would lose a triangle.
_MIN_TURN_SINE = 1e-6

_INT = np.int64
#: The two coordinates kept when projecting along axis 0, 1 or 2 (a right-handed pair).
_U = np.array([1, 2, 0])
_V = np.array([2, 0, 1])


@dataclass
class Triangulated:
    """Triangles of a batch of polygons.

    ``positions`` (n, 3) are the cleaned vertices of the polygons that have triangles,
    polygon by polygon, and ``vertex_polygons`` (n,) their polygon (its index in the
    batch); ``triangles`` (m, 3) index them, and ``polygons`` (m,) gives each triangle's
    polygon. Both are in increasing polygon order. ``degenerate`` counts the polygons
    without area, which have no triangles. ``source`` (n,) gives each vertex's index in
    the input points, so per-point values (texture coordinates) follow the triangulation.
    """

    positions: NDArray[np.float64]
    vertex_polygons: NDArray[np.int64]
    triangles: NDArray[np.int64]
    polygons: NDArray[np.int64]
    degenerate: int
    source: NDArray[np.int64]


def triangulate_polygons(
    points: NDArray[np.float64], ring_sizes: list[int], polygon_sizes: list[int]
) -> Triangulated:
    """Triangulate polygons whose rings (outer ring first) are stacked in ``points``.

    ``ring_sizes`` holds every ring's number of points, in order; ``polygon_sizes`` every
    polygon's number of rings. Rings may hold a closing vertex and duplicates.
    """
    rsize = np.asarray(ring_sizes, dtype=_INT)
    psize = np.asarray(polygon_sizes, dtype=_INT)
    ring_polygon = np.repeat(np.arange(psize.shape[0], dtype=_INT), psize)
    single = (psize == 1)[ring_polygon]  # per ring: the only ring of its polygon
    if single.all():
        return _single_rings(points, rsize, ring_polygon)
    point_single = np.repeat(single, rsize)
    parts = [_single_rings(points[point_single], rsize[single], ring_polygon[single])]
    parts[0].source = np.flatnonzero(point_single)[parts[0].source]
    ring_end = np.cumsum(rsize)
    first_ring = np.cumsum(psize) - psize
    for p in np.flatnonzero(psize > 1).tolist():
        rings = range(int(first_ring[p]), int(first_ring[p] + psize[p]))
        kept = [_clean_index(points, int(ring_end[r] - rsize[r]), int(ring_end[r])) for r in rings]
        out = triangulate([points[k] for k in kept])
        if out is None:
            none = np.zeros(0, _INT)
            parts.append(
                Triangulated(np.zeros((0, 3)), none, np.zeros((0, 3), _INT), none, 1, none)
            )
        else:
            verts, tris = out
            # triangulate() keeps the outer ring and the holes of three points or more.
            src = np.concatenate([kept[0], *(k for k in kept[1:] if k.shape[0] >= 3)])
            on_p = np.full(verts.shape[0], p, _INT)
            parts.append(Triangulated(verts, on_p, tris, np.full(tris.shape[0], p, _INT), 0, src))
    return _merge(parts)


def _clean_index(points: NDArray[np.float64], start: int, end: int) -> NDArray[np.int64]:
    """The indices of the points :func:`~tiles.triangulate.clean_ring` keeps of a ring."""
    ring = points[start:end]
    if ring.shape[0] == 0:
        return np.zeros(0, _INT)
    keep = np.ones(ring.shape[0], dtype=bool)
    keep[1:] = np.any(ring[1:] != ring[:-1], axis=1)
    idx = np.flatnonzero(keep) + start
    if idx.shape[0] > 1 and np.all(points[idx[0]] == points[idx[-1]]):
        idx = idx[:-1]
    return idx.astype(_INT)


def clean_rings(
    points: NDArray[np.float64], sizes: NDArray[np.int64]
) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """:func:`~tiles.triangulate.clean_ring` for every ring: the points and new sizes."""
    points, sizes, _ = _clean_rings(points, sizes)
    return points, sizes


def _clean_rings(
    points: NDArray[np.float64], sizes: NDArray[np.int64]
) -> tuple[NDArray[np.float64], NDArray[np.int64], NDArray[np.int64]]:
    """:func:`clean_rings`, with the index of every kept point in ``points``."""
    n = sizes.shape[0]
    ring = np.repeat(np.arange(n, dtype=_INT), sizes)
    keep = np.ones(points.shape[0], dtype=bool)
    keep[1:] = (points[1:] != points[:-1]).any(axis=1)
    keep[(np.cumsum(sizes) - sizes)[sizes > 0]] = True  # every ring's first point
    source = np.flatnonzero(keep)
    points, ring = points[keep], ring[keep]
    sizes = np.bincount(ring, minlength=n).astype(_INT)
    end = np.cumsum(sizes)
    closed = sizes > 1
    closed[closed] = (points[(end - sizes)[closed]] == points[end[closed] - 1]).all(axis=1)
    keep = np.ones(points.shape[0], dtype=bool)
    keep[end[closed] - 1] = False
    return points[keep], sizes - closed, source[keep]


def _single_rings(
    points: NDArray[np.float64], sizes: NDArray[np.int64], polygon: NDArray[np.int64]
) -> Triangulated:
    """Polygons without holes: fans for the convex ones, earcut for the others."""
    points, sizes, source = _clean_rings(points, sizes)
    n = sizes.shape[0]
    ring = np.repeat(np.arange(n, dtype=_INT), sizes)
    end = np.cumsum(sizes)
    start = end - sizes
    nxt = np.arange(1, points.shape[0] + 1, dtype=_INT)  # the next point around the ring
    nxt[end[sizes > 0] - 1] = start[sizes > 0]
    centred = points - _ring_sums(points, ring, n)[ring] / sizes[ring, None]
    normal = _newell(centred, ring, nxt, n)
    good = (sizes >= 3) & (np.sqrt((normal * normal).sum(axis=1)) >= EPS_AREA)
    # Project onto the plane of the dominant normal component, keeping orientation,
    # relative to the ring's first point (as triangulate() does for earcut).
    axis = np.argmax(np.abs(normal), axis=1)
    rows = np.arange(points.shape[0])
    uv = np.stack([points[rows, _U[axis][ring]], points[rows, _V[axis][ring]]], axis=1)
    flat = uv - uv[start[ring]]
    side = np.sign(normal[np.arange(n), axis])
    fan = good & ((sizes == 3) | _convex(flat, ring, nxt, side))
    tris, tri_ring = _fans(start[fan], sizes[fan], np.flatnonzero(fan))
    cut = np.flatnonzero(good & ~fan)
    if cut.size:
        tris, tri_ring = _earcut(flat, start, end, cut, tris, tri_ring)
    tris, tri_ring = _wind(points, tris, tri_ring, normal)
    has = np.zeros(n, dtype=bool)
    has[tri_ring] = True
    keep = has[ring]  # only the points of polygons with triangles
    new_index = np.cumsum(keep) - 1
    return Triangulated(
        points[keep],
        polygon[ring[keep]],
        new_index[tris],
        polygon[tri_ring],
        int(n - has.sum()),
        source[keep],
    )


def _earcut(
    flat: NDArray[np.float64],
    start: NDArray[np.int64],
    end: NDArray[np.int64],
    rings: NDArray[np.int64],
    tris: NDArray[np.int64],
    tri_ring: NDArray[np.int64],
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Add earcut's triangles of the projected ``rings`` to the fans, in ring order.

    Their winding is earcut's own; :func:`_wind` fixes it with the fans'.
    """
    found = [tris.ravel()]
    counts = []
    for s, e in zip(start[rings].tolist(), end[rings].tolist(), strict=True):
        idx = earcut.triangulate_float64(flat[s:e], np.array([e - s], dtype=np.uint32))
        found.append(idx.astype(_INT) + s)
        counts.append(idx.shape[0] // 3)
    rings_of = np.concatenate([tri_ring, np.repeat(rings, counts)])
    order = np.argsort(rings_of, kind="stable")
    return np.concatenate(found).reshape(-1, 3)[order], rings_of[order]


def _ring_sums(values: NDArray[np.float64], ring: NDArray[np.int64], n: int) -> NDArray[np.float64]:
    """Per-ring sums of (k, 3) values: (n, 3)."""
    keys = (ring[:, None] * 3 + np.arange(3)).ravel()
    sums = np.bincount(keys, weights=values.ravel(), minlength=3 * n)
    return sums.astype(np.float64, copy=False).reshape(n, 3)


def _newell(
    centred: NDArray[np.float64], ring: NDArray[np.int64], nxt: NDArray[np.int64], n: int
) -> NDArray[np.float64]:
    """:func:`~tiles.triangulate.newell_normal` of every ring (of its centred points)."""
    d = centred - centred[nxt]
    s = centred + centred[nxt]
    terms = np.stack([d[:, 1] * s[:, 2], d[:, 2] * s[:, 0], d[:, 0] * s[:, 1]], axis=1)
    return _ring_sums(terms, ring, n)


def _convex(
    flat: NDArray[np.float64],
    ring: NDArray[np.int64],
    nxt: NDArray[np.int64],
    side: NDArray[np.float64],
) -> NDArray[np.bool_]:
    """Whether each projected ring turns the normal's way (``side``) at every corner and
    goes round exactly once (a star polygon turns the same way throughout)."""
    n = side.shape[0]
    e = flat[nxt] - flat  # the edge leaving each point
    eu, ev = e[:, 0], e[:, 1]
    cross = (eu * ev[nxt] - ev * eu[nxt]) * side[ring]  # the turn at the edge's end
    dot = eu * eu[nxt] + ev * ev[nxt]
    lengths = np.sqrt((eu * eu + ev * ev) * (eu[nxt] * eu[nxt] + ev[nxt] * ev[nxt]))
    blunt = (cross <= _MIN_TURN_SINE * lengths).astype(np.float64)
    turning = np.bincount(ring, weights=np.arctan2(cross, dot), minlength=n)
    result: NDArray[np.bool_] = (np.bincount(ring, weights=blunt, minlength=n) == 0) & (
        turning < 3 * np.pi
    )
    return result


def _fans(
    start: NDArray[np.int64], sizes: NDArray[np.int64], rings: NDArray[np.int64]
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Fan triangles (first, k, k + 1) of rings given by their start and size."""
    count = sizes - 2
    total = int(count.sum())
    first = np.repeat(start, count)
    k = np.arange(1, total + 1, dtype=_INT) - np.repeat(np.cumsum(count) - count, count)
    return np.stack([first, first + k, first + k + 1], axis=1), np.repeat(rings, count)


def _wind(
    points: NDArray[np.float64],
    tris: NDArray[np.int64],
    tri_ring: NDArray[np.int64],
    normal: NDArray[np.float64],
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Wind triangles like their ring's normal and drop those without area."""
    a = points[tris[:, 0]]
    ab, ac = points[tris[:, 1]] - a, points[tris[:, 2]] - a
    cross = np.stack(
        [
            ab[:, 1] * ac[:, 2] - ab[:, 2] * ac[:, 1],
            ab[:, 2] * ac[:, 0] - ab[:, 0] * ac[:, 2],
            ab[:, 0] * ac[:, 1] - ab[:, 1] * ac[:, 0],
        ],
        axis=1,
    )
    flip = (cross * normal[tri_ring]).sum(axis=1) < 0
    tris[flip] = tris[flip][:, ::-1]
    keep = np.sqrt((cross * cross).sum(axis=1)) > EPS_AREA
    return tris[keep], tri_ring[keep]


def _merge(parts: list[Triangulated]) -> Triangulated:
    """One batch from several: vertices and triangles sorted by polygon."""
    offsets = np.cumsum([0] + [p.positions.shape[0] for p in parts[:-1]])
    tris = np.concatenate([p.triangles + o for p, o in zip(parts, offsets, strict=True)])
    vertex_polygons = np.concatenate([p.vertex_polygons for p in parts])
    vertex_order = np.argsort(vertex_polygons, kind="stable")
    new_index = np.empty_like(vertex_order)
    new_index[vertex_order] = np.arange(vertex_order.shape[0])
    polygons = np.concatenate([p.polygons for p in parts])
    order = np.argsort(polygons, kind="stable")
    return Triangulated(
        np.concatenate([p.positions for p in parts])[vertex_order],
        vertex_polygons[vertex_order],
        new_index[tris[order]],
        polygons[order],
        sum(p.degenerate for p in parts),
        np.concatenate([p.source for p in parts])[vertex_order],
    )


class PolygonBatch:
    """Polygons of many meshes (one per object), collected to be triangulated at once.

    Each :meth:`add` appends one geometry's polygons to a mesh, given by its number;
    meshes are numbered 0, 1, 2... in the order they are first added to.
    """

    def __init__(self) -> None:
        self.points: list[NDArray[np.float64]] = []
        self.ring_sizes: list[int] = []
        self.polygon_sizes: list[int] = []
        self.surfaces: list[int] = []  # per polygon
        self.mesh_of: list[int] = []  # per polygon
        self.point_count = 0
        #: Appearance, only when some polygon has one: per polygon a material index
        #: (-1: none), per point texture coordinates (zeros where untextured).
        self.materials: list[int] | None = None
        self.uvs: list[NDArray[np.float32]] | None = None

    def add(
        self,
        mesh: int,
        points: NDArray[np.float64],
        ring_sizes: list[int],
        polygon_sizes: list[int],
        surfaces: list[int],
        materials: list[int] | None = None,
        uvs: NDArray[np.float32] | None = None,
    ) -> None:
        """Add polygons as :func:`triangulate_polygons` takes them, with each polygon's
        semantic surface class (see :data:`~tiles.model.SURFACE_TYPES`) and, optionally,
        each polygon's material and each point's texture coordinates (n, 2)."""
        if (materials is not None or uvs is not None) and self.materials is None:
            self.materials = [-1] * len(self.surfaces)
            self.uvs = [np.zeros((self.point_count, 2), dtype=np.float32)]
        if self.materials is not None and self.uvs is not None:
            self.materials += materials if materials is not None else [-1] * len(polygon_sizes)
            self.uvs.append(
                uvs if uvs is not None else np.zeros((points.shape[0], 2), dtype=np.float32)
            )
        self.points.append(points)
        self.point_count += points.shape[0]
        self.ring_sizes += ring_sizes
        self.polygon_sizes += polygon_sizes
        self.surfaces += surfaces
        self.mesh_of += [mesh] * len(polygon_sizes)

    def meshes(self, count: int) -> tuple[list[Mesh], int]:
        """The ``count`` meshes (empty for those without any triangle) and the number of
        degenerate polygons."""
        points = np.concatenate([np.zeros((0, 3)), *self.points])
        t = triangulate_polygons(points, self.ring_sizes, self.polygon_sizes)
        mesh_of = np.asarray(self.mesh_of, dtype=_INT)
        tri_mesh, vertex_mesh = mesh_of[t.polygons], mesh_of[t.vertex_polygons]
        tri_end = np.cumsum(np.bincount(tri_mesh, minlength=count)).tolist()
        vertex_end = np.cumsum(np.bincount(vertex_mesh, minlength=count))
        vertex_start = vertex_end - np.bincount(vertex_mesh, minlength=count)
        local = t.triangles - vertex_start[tri_mesh][:, None]
        surfaces = np.asarray(self.surfaces, dtype=np.int16)[t.polygons]
        materials = uvs = None
        if self.materials is not None and self.uvs is not None:
            materials = np.asarray(self.materials, dtype=np.int32)[t.polygons]
            uvs = np.concatenate(self.uvs)[t.source]
        meshes = []
        for m, (v0, v1) in enumerate(zip(vertex_start.tolist(), vertex_end.tolist(), strict=True)):
            t0, t1 = tri_end[m - 1] if m else 0, tri_end[m]
            mesh = Mesh(t.positions[v0:v1], local[t0:t1], surfaces[t0:t1])
            if materials is not None and uvs is not None and (materials[t0:t1] >= 0).any():
                mesh.materials, mesh.uvs = materials[t0:t1], uvs[v0:v1]
            meshes.append(mesh)
        return meshes, t.degenerate
