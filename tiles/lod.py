"""Simplified geometry for parent tiles, so a city-wide view fetches little.

Every object gets a stand-in for the parent tiles above it:

- an object with a height (buildings, bridges, city furniture...) becomes an LoD1 block:
  the convex hull of its vertices seen from above, extruded from its lowest to its highest
  point (roof and walls; the floor is never seen from above);
- a flat object (roads, land use, water; less than ``FLAT_METRES`` high) and a mesh
  (photogrammetry, relief) keeps its own triangles when they are few, else a quadric
  decimation of them (fast-simplification);
- an object that is small already (``KEEP_TRIANGLES`` or fewer) keeps its own geometry.

Appearance survives simplification. A kept or decimated object keeps its materials and
texture coordinates: vertices are welded only where position, material and texture
coordinate all agree (a texture seam stays a seam; a mesh keeps the vertices of its seams
and chunk outlines, so nothing cracks open), and every vertex the decimation keeps
is an original vertex with its own texture coordinate (of the vertices a kept one stands
for, the one nearest the decimation's optimal position), so the texture lies on the
simplified surface exactly as on the source at every vertex. The parent's images are
packed at a reduced resolution (:func:`texture_scale`). A block has no texture coordinates
that would fit the source's images, so the block of an object with appearance is coloured
instead: its roof with the area-weighted mean colour of the object's upward-facing
textured (or material-coloured) triangles, its walls with that of the others, sampled
from the images at each triangle's texture coordinates (a part mostly without appearance
keeps the default styling, as at full detail). That costs no texture bytes at all.

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
from .textures import Appearance
from .tiling import Node, feature_cost

FLAT_METRES = 1.0
#: Objects whose shape a block would misrepresent: meshes (photogrammetry, terrain)
#: are decimated whatever their height.
DECIMATED_TYPES = frozenset({"Mesh", "TINRelief", "ReliefFeature"})
KEEP_TRIANGLES = 12
#: Parent textures: the longest side of a parent's atlas or image is the leaves' maximum
#: halved per level above the leaves, but not below this.
MIN_PARENT_TEXTURE = 64
#: A triangle whose normal is within about 45 degrees of straight up colours a block's roof.
_UPWARD = 0.7
_SAMPLE_PIXELS = 256  # images are sampled for block colours at this size at most
_ROOF, _WALL = SURFACE_INDEX["RoofSurface"], SURFACE_INDEX["WallSurface"]


@dataclass
class StandIn:
    """One object's simplified geometry in the local ENU frame."""

    positions: NDArray[np.float64]
    triangles: NDArray[np.int64]
    surfaces: NDArray[np.int16]
    #: How much the object matters seen from afar: its footprint area times its height.
    prominence: float
    #: Appearance kept from the source (as :class:`~tiles.model.Mesh`), or None.
    materials: NDArray[np.int32] | None = None
    uvs: NDArray[np.float32] | None = None
    #: Linear RGBA per vertex for a block of an object with appearance (else None).
    colors: NDArray[np.uint8] | None = None

    @property
    def textured(self) -> bool:
        return self.materials is not None and bool((self.materials >= 0).any())

    @property
    def triangle_count(self) -> int:
        return int(self.triangles.shape[0])


def stand_ins(
    features: list[Feature],
    enu: NDArray[np.float64],
    starts: NDArray[np.int64],
    counts: NDArray[np.int64],
    appearance: Appearance | None = None,
) -> list[StandIn | None]:
    """The stand-in of every feature (None for an object without triangles); with an
    appearance, stand-ins keep their textures or, as blocks, their colours."""
    n = len(features)
    lo = np.minimum.reduceat(enu, starts, axis=0) if n else np.zeros((0, 3))
    hi = np.maximum.reduceat(enu, starts, axis=0) if n else np.zeros((0, 3))
    height = hi[:, 2] - lo[:, 2]
    rings, areas = _plan_hulls(enu, counts)
    sampler = _ColourSampler(appearance) if appearance is not None else None
    out: list[StandIn | None] = []
    for i, f in enumerate(features):
        if f.mesh.triangle_count == 0:
            out.append(None)
            continue
        pos = enu[starts[i] : starts[i] + counts[i]]
        prominence = float(max(areas[i], 1.0) * max(height[i], 0.1))
        mesh = f.mesh
        materials = mesh.materials if appearance is not None else None
        uvs = mesh.uv_per_vertex() if materials is not None else None
        if mesh.triangle_count <= KEEP_TRIANGLES:
            out.append(StandIn(pos, mesh.triangles, mesh.surfaces, prominence, materials, uvs))
        elif height[i] < FLAT_METRES or f.type in DECIMATED_TYPES:
            keep_border = f.type in DECIMATED_TYPES  # mesh chunks must meet their neighbours
            out.append(
                _decimated(
                    pos, mesh.triangles, mesh.surfaces, prominence, materials, uvs, keep_border
                )
            )
        else:
            block = _block(rings[i], lo[i, 2], hi[i, 2], prominence)
            if block is not None and sampler is not None and materials is not None:
                block.colors = sampler.block_colours(block, pos, mesh.triangles, materials, uvs)
            out.append(block)
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
    materials: NDArray[np.int32] | None = None,
    uvs: NDArray[np.float32] | None = None,
    keep_border: bool = False,
) -> StandIn | None:
    """A flat object's or a mesh's triangles reduced to about a quarter by quadric
    decimation, keeping materials and texture coordinates; ``keep_border`` keeps every
    vertex on an open edge (a chunk's outline, a texture seam), so neighbouring chunks
    and the two sides of a seam still meet without cracks."""
    if tris.shape[0] <= 4 * KEEP_TRIANGLES:
        return StandIn(pos, tris, surfaces, prominence, materials, uvs)
    # Weld the corners that share a position (and, with appearance, a material and a
    # texture coordinate) first, so the decimation collapses edges across polygons.
    corners = tris.reshape(-1)
    key = np.round(pos[corners], 3)
    if materials is not None and uvs is not None:
        key = np.column_stack(
            [key, np.repeat(materials, 3), np.round(uvs[corners].astype(np.float64), 5)]
        )
    _, first, inverse = np.unique(key, axis=0, return_index=True, return_inverse=True)
    vertex = corners[first]  # an original vertex for each welded one
    welded = np.round(pos[vertex], 3)
    faces = inverse.reshape(-1, 3)
    keep = (
        (faces[:, 0] != faces[:, 1]) & (faces[:, 1] != faces[:, 2]) & (faces[:, 0] != faces[:, 2])
    )
    faces = faces[keep]
    if faces.shape[0] <= 4 * KEEP_TRIANGLES:
        return StandIn(pos, tris, surfaces, prominence, materials, uvs)
    _, _, collapses = fast_simplification.simplify(
        welded,
        faces.astype(np.int32),
        target_reduction=0.75,
        return_collapses=True,
        preserve_border=keep_border,
    )
    optimal, reduced, mapping = fast_simplification.replay_simplification(
        welded, faces.astype(np.int32), collapses
    )
    reduced = np.asarray(reduced, dtype=np.int64)
    if reduced.shape[0] == 0:
        return None
    # Each kept vertex becomes the original vertex it stands for that lies nearest its
    # optimal position: a source position with its own texture coordinate.
    mapping = np.asarray(mapping, dtype=np.int64)
    distance = np.linalg.norm(welded - np.asarray(optimal)[mapping], axis=1)
    order = np.lexsort((distance, mapping))
    groups, at = np.unique(mapping[order], return_index=True)
    representative = np.zeros(np.asarray(optimal).shape[0], dtype=np.int64)
    representative[groups] = vertex[order[at]]
    # Unshare vertices again: each triangle keeps a flat normal, as in full tiles.
    corner_vertex = representative[reduced.reshape(-1)]
    flat = pos[corner_vertex]
    triangles = np.arange(flat.shape[0], dtype=np.int64).reshape(-1, 3)
    dominant = np.bincount(surfaces.astype(np.int64)).argmax()
    out = StandIn(
        flat, triangles, np.full(triangles.shape[0], dominant, dtype=np.int16), prominence
    )
    if materials is not None and uvs is not None:
        # A welded vertex belongs to one material, and a collapse joins only the vertices
        # of an edge, so every triangle's corners share their material.
        material_of_vertex = np.full(pos.shape[0], -1, dtype=np.int32)
        material_of_vertex[corners] = np.repeat(materials, 3)
        out.materials = material_of_vertex[corner_vertex[0::3]]
        out.uvs = uvs[corner_vertex]
    return out


class _ColourSampler:
    """Mean colours of an object's appearance, sampled from its images (block colours)."""

    def __init__(self, appearance: Appearance) -> None:
        self.app = appearance
        self.images: dict[int, NDArray[np.float64]] = {}

    def _linear_image(self, i: int) -> NDArray[np.float64]:
        if i not in self.images:
            img = self.app.image(i).convert("RGB")
            img.thumbnail((_SAMPLE_PIXELS, _SAMPLE_PIXELS))
            self.images[i] = _to_linear(np.asarray(img, dtype=np.float64) / 255.0)
        return self.images[i]

    def triangle_colours(
        self,
        pos: NDArray[np.float64],
        tris: NDArray[np.int64],
        materials: NDArray[np.int32],
        uvs: NDArray[np.float32],
    ) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
        """Linear RGB per triangle (the texture at its uv centroid, else its material's
        colour) and which triangles have an appearance at all."""
        colours = np.zeros((tris.shape[0], 3))
        has = materials >= 0
        for m in np.unique(materials[has]).tolist():
            sel = materials == m
            mat = self.app.materials[m]
            img = mat.image
            if img is not None and self.app.usable[img]:
                texels = self._linear_image(img)
                h, w = texels.shape[:2]
                uv = uvs[tris[sel]].astype(np.float64).mean(axis=1)
                # repeat (mirror is sampled as repeat: the mean hardly differs) or clamp
                uv = np.clip(uv, 0.0, 1.0) if mat.wrap == "clamp" else uv - np.floor(uv)
                x = np.clip((uv[:, 0] * w).astype(np.int64), 0, w - 1)
                y = np.clip(((1.0 - uv[:, 1]) * h).astype(np.int64), 0, h - 1)
                colours[sel] = texels[y, x]
            else:
                colours[sel] = _to_linear(np.array(mat.color[:3], dtype=np.float64))
        return colours, has

    def block_colours(
        self,
        block: StandIn,
        pos: NDArray[np.float64],
        tris: NDArray[np.int64],
        materials: NDArray[np.int32],
        uvs: NDArray[np.float32] | None,
    ) -> NDArray[np.uint8] | None:
        """Per block vertex: the mean of the upward triangles for the roof, of the others
        for the walls; a part stays with the default styling (alpha 0) where less than
        half its source area has an appearance, as the full-detail tile shows it. None
        without any appearance."""
        if uvs is None or not (materials >= 0).any():
            return None
        colours, has = self.triangle_colours(pos, tris, materials, uvs)
        a, b, c = pos[tris[:, 0]], pos[tris[:, 1]], pos[tris[:, 2]]
        normal = np.cross(b - a, c - a)
        area = 0.5 * np.linalg.norm(normal, axis=1)
        up = normal[:, 2] > _UPWARD * np.maximum(2 * area, 1e-12)
        rgba = np.zeros((block.positions.shape[0], 4), dtype=np.uint8)
        vertex_surface = np.zeros(block.positions.shape[0], dtype=np.int16)
        vertex_surface[block.triangles.reshape(-1)] = np.repeat(block.surfaces, 3)
        for part, where in ((up, vertex_surface == _ROOF), (~up, vertex_surface != _ROOF)):
            weight = area[part & has]
            total = float(weight.sum())
            if total <= 0 or total < 0.5 * float(area[part].sum()):
                continue
            mean = (weight[:, None] * colours[part & has]).sum(axis=0) / total
            rgba[where, :3] = np.round(np.clip(mean, 0.0, 1.0) * 255).astype(np.uint8)
            rgba[where, 3] = 255
        return rgba if rgba[:, 3].any() else None


def _to_linear(srgb: NDArray[np.float64]) -> NDArray[np.float64]:
    """sRGB in 0..1 to linear light (glTF vertex colours are linear)."""
    out: NDArray[np.float64] = np.where(
        srgb <= 0.04045, srgb / 12.92, ((srgb + 0.055) / 1.055) ** 2.4
    )
    return out


def texture_scale(level: int) -> float:
    """How much a parent ``level`` tiles above the leaves scales its textures: halved
    per level (a quarter of the texels)."""
    return float(0.5**level)


def levels_above_leaves(node: Node) -> dict[str, int]:
    """For every node, how many levels its deepest leaf lies below it (0 for a leaf)."""
    out: dict[str, int] = {}

    def visit(n: Node) -> int:
        level = 0 if n.is_leaf else 1 + max(visit(c) for c in n.children)
        out[n.address] = level
        return level

    visit(node)
    return out


def costs(standins: list[StandIn | None]) -> NDArray[np.int64]:
    """The estimated glb bytes of each stand-in's geometry (0 for none)."""
    vertices = np.array([s.positions.shape[0] if s else 0 for s in standins], dtype=np.int64)
    triangles = np.array([s.triangle_count if s else 0 for s in standins], dtype=np.int64)
    return np.where(vertices > 0, feature_cost(vertices, triangles), 0)


def texture_costs(
    standins: list[StandIn | None], feature_texture_costs: NDArray[np.int64]
) -> NDArray[np.int64]:
    """The estimated texture bytes of each stand-in at full resolution: its object's share
    of its images when the stand-in keeps textures (a parent scales it by the square of
    its :func:`texture_scale`), else 0."""
    textured = np.array([s is not None and s.textured for s in standins], dtype=bool)
    return np.where(textured, feature_texture_costs, 0).astype(np.int64)


def below(node: Node) -> NDArray[np.int64]:
    """Every feature in the leaves under ``node``."""
    parts = [leaf.features for leaf in node.walk() if leaf.is_leaf]
    return np.sort(np.concatenate(parts)) if parts else np.zeros(0, dtype=np.int64)


def parent_tile(
    chosen: NDArray[np.int64],
    standins: list[StandIn | None],
    features: list[Feature],
    appearance: Appearance | None = None,
    texture_size: int | None = None,
) -> TileMesh:
    """A parent tile's mesh: the chosen stand-ins, each keeping its object's identity and
    appearance (textures packed at ``texture_size`` pixels at most)."""
    parts = [standins[i] for i in chosen]
    meshes = [p for p in parts if p is not None]
    sizes = [m.positions.shape[0] for m in meshes]
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
    tile = TileMesh(
        np.concatenate([m.positions for m in meshes]),
        np.concatenate([m.triangles + o for m, o in zip(meshes, offsets, strict=True)]),
        np.concatenate([m.surfaces for m in meshes]),
        np.repeat(np.arange(len(meshes), dtype=np.int64), sizes),
        [features[i] for i in chosen],
    )
    if appearance is not None and any(m.materials is not None for m in meshes):
        tile.materials = np.concatenate(
            [
                m.materials if m.materials is not None else np.full(m.triangle_count, -1, np.int32)
                for m in meshes
            ]
        )
        tile.uvs = np.concatenate(
            [
                m.uvs if m.uvs is not None else np.zeros((m.positions.shape[0], 2), np.float32)
                for m in meshes
            ]
        )
        tile.appearance = appearance
        tile.texture_size = texture_size
    if any(m.colors is not None for m in meshes):
        tile.colors = np.concatenate(
            [
                m.colors if m.colors is not None else np.zeros((m.positions.shape[0], 4), np.uint8)
                for m in meshes
            ]
        )
    return tile


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
