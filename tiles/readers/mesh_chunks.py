"""Split a large mesh feature into spatial chunks that each fit a tile.

Tiling never splits a feature, so a photogrammetry tile of a million triangles would
make one huge glb. Its triangles are grouped by centroid on a grid over the two longest
axes of its bounding box, refined cell by cell (a quadtree) until each chunk's estimated
size fits the budget. Each chunk is a feature of its own: id ``<parent id>#<n>``, the
parent's attributes, ``parent_id`` the parent's id.
"""

from __future__ import annotations

from itertools import pairwise

import numpy as np
from numpy.typing import NDArray

from ..model import Feature, Mesh
from ..tiling import BYTES_PER_FEATURE, BYTES_PER_TRIANGLE, BYTES_PER_VERTEX

BYTES_PER_UV = 8
MAX_DEPTH = 16


def mesh_cost(mesh: Mesh) -> int:
    per_vertex = BYTES_PER_VERTEX + (BYTES_PER_UV if mesh.uvs is not None else 0)
    vertices = int(mesh.positions.shape[0])
    return vertices * per_vertex + mesh.triangle_count * BYTES_PER_TRIANGLE + BYTES_PER_FEATURE


def split_feature(feature: Feature, max_bytes: int) -> list[Feature]:
    """``feature`` itself when it fits ``max_bytes``, else its chunks in a stable order."""
    mesh = feature.mesh
    if mesh_cost(mesh) <= max_bytes or mesh.triangle_count < 2:
        return [feature]
    per_vertex = BYTES_PER_VERTEX + (BYTES_PER_UV if mesh.uvs is not None else 0)
    vertices_per_triangle = mesh.positions.shape[0] / mesh.triangle_count
    per_triangle = BYTES_PER_TRIANGLE + per_vertex * vertices_per_triangle
    max_triangles = max(1, int((max_bytes - BYTES_PER_FEATURE) / per_triangle))
    centroids = mesh.positions[mesh.triangles].mean(axis=1)
    extent = centroids.max(axis=0) - centroids.min(axis=0)
    axes = np.sort(np.argsort(extent)[-2:])  # the two longest: a facade splits too
    groups: list[NDArray[np.int64]] = []
    _split(np.arange(mesh.triangle_count), centroids[:, axes], max_triangles, 0, groups)
    if len(groups) == 1:
        return [feature]
    return [
        Feature(
            id=f"{feature.id}#{n}",
            type=feature.type,
            mesh=_submesh(mesh, tris),
            attributes=dict(feature.attributes),
            parent_id=feature.id,
            lod=feature.lod,
        )
        for n, tris in enumerate(groups, start=1)
    ]


def _split(
    idx: NDArray[np.int64],
    centroids: NDArray[np.float64],
    max_triangles: int,
    depth: int,
    out: list[NDArray[np.int64]],
) -> None:
    pts = centroids[idx]
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    if idx.size <= max_triangles or depth >= MAX_DEPTH or not (hi > lo).any():
        out.append(idx)  # fits, or cannot be split further (all centroids in one point)
        return
    # cells per side so that an even spread gives chunks that fit; at least 2
    side = max(2, int(np.ceil(np.sqrt(idx.size / max_triangles))))
    span = np.where(hi > lo, hi - lo, 1.0)
    cell = np.clip(((pts - lo) / span * side).astype(np.int64), 0, side - 1)
    key = cell[:, 0] * side + cell[:, 1]
    order = np.argsort(key, kind="stable")
    _, starts = np.unique(key[order], return_index=True)
    bounds = np.append(starts, order.size)
    for a, b in pairwise(bounds):
        _split(idx[order[a:b]], centroids, max_triangles, depth + 1, out)


def _submesh(mesh: Mesh, tris: NDArray[np.int64]) -> Mesh:
    faces = mesh.triangles[tris]
    used, inverse = np.unique(faces.reshape(-1), return_inverse=True)
    return Mesh(
        positions=mesh.positions[used],
        triangles=inverse.reshape(-1, 3).astype(np.int64),
        surfaces=mesh.surfaces[tris],
        materials=None if mesh.materials is None else mesh.materials[tris],
        uvs=None if mesh.uvs is None else mesh.uvs[used],
    )
