"""The in-memory model every reader produces and every writer consumes."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

#: Semantic surface classes (CityGML/CityJSON names). Index 0 means "no semantics".
SURFACE_TYPES: tuple[str, ...] = (
    "",
    "RoofSurface",
    "WallSurface",
    "GroundSurface",
    "ClosureSurface",
    "OuterCeilingSurface",
    "OuterFloorSurface",
    "Window",
    "Door",
    "InteriorWallSurface",
    "CeilingSurface",
    "FloorSurface",
    "WaterSurface",
    "WaterGroundSurface",
    "WaterClosureSurface",
    "TrafficArea",
    "AuxiliaryTrafficArea",
    "TransportationMarking",
    "TransportationHole",
)
SURFACE_INDEX = {name: i for i, name in enumerate(SURFACE_TYPES)}


def surface_index(name: str | None) -> int:
    """Index of a semantic surface type; unknown or extension types map to 0."""
    if not name:
        return 0
    return SURFACE_INDEX.get(name, 0)


@dataclass
class TextureImage:
    """An image a material refers to: a file (read lazily) or bytes already in memory.

    ``name`` is what the source called it (for the report). A missing or unreadable file is
    the writer's warning, never a failure: the material's colour is used instead.
    """

    name: str
    path: Path | None = None
    data: bytes | None = None
    mime_type: str | None = None


@dataclass
class Material:
    """A source appearance: an X3D/CityJSON material colour and/or a texture image.

    ``color`` is RGBA in 0..1 (sRGB as the sources give it); ``image`` indexes
    :attr:`SourceData.images`; a textured triangle needs ``uvs`` on its mesh.
    ``has_color`` is False for a texture without a material colour: should its image be
    missing, its triangles get the default styling instead of ``color``. ``wrap`` is how
    texture coordinates outside 0..1 repeat: "repeat", "mirror" or "clamp".
    """

    name: str = ""
    color: tuple[float, float, float, float] = (1.0, 1.0, 1.0, 1.0)
    image: int | None = None
    double_sided: bool = True
    has_color: bool = True
    wrap: str = "repeat"


@dataclass
class Mesh:
    """A triangle mesh in source CRS coordinates.

    ``positions`` (n, 3) float64; ``triangles`` (m, 3) int64 indices into ``positions``;
    ``surfaces`` (m,) int16 semantic class per triangle (see :data:`SURFACE_TYPES`).
    Vertices are not shared between polygons, so each polygon keeps a flat normal.

    Appearance (optional): ``materials`` (m,) int32 per triangle, an index into
    :attr:`SourceData.materials` or -1 for "no appearance, style by type and surface";
    ``uvs`` (n, 2) float32 texture coordinates per vertex (rows of untextured vertices are
    ignored), with the origin at the image's bottom-left corner as CityGML, CityJSON and
    OBJ give them (v up; the glTF writer flips v). Both are None when the source has no appearance.
    """

    positions: NDArray[np.float64]
    triangles: NDArray[np.int64]
    surfaces: NDArray[np.int16]
    materials: NDArray[np.int32] | None = None
    uvs: NDArray[np.float32] | None = None

    @classmethod
    def empty(cls) -> Mesh:
        return cls(np.zeros((0, 3)), np.zeros((0, 3), dtype=np.int64), np.zeros(0, dtype=np.int16))

    @property
    def triangle_count(self) -> int:
        return int(self.triangles.shape[0])

    @classmethod
    def concat(cls, meshes: list[Mesh]) -> Mesh:
        meshes = [m for m in meshes if m.triangle_count]
        if not meshes:
            return cls.empty()
        if len(meshes) == 1:  # most objects have one geometry at the chosen LoD
            return meshes[0]
        offsets = np.cumsum([0] + [m.positions.shape[0] for m in meshes[:-1]])
        materials = uvs = None
        if any(m.materials is not None for m in meshes):
            materials = np.concatenate([m.material_per_triangle() for m in meshes])
        if any(m.uvs is not None for m in meshes):
            uvs = np.concatenate([m.uv_per_vertex() for m in meshes])
        return cls(
            np.concatenate([m.positions for m in meshes]),
            np.concatenate([m.triangles + o for m, o in zip(meshes, offsets, strict=True)]),
            np.concatenate([m.surfaces for m in meshes]),
            materials,
            uvs,
        )

    def material_per_triangle(self) -> NDArray[np.int32]:
        """The material index of every triangle (-1 where the mesh has no appearance)."""
        if self.materials is not None:
            return self.materials
        return np.full(self.triangle_count, -1, dtype=np.int32)

    def uv_per_vertex(self) -> NDArray[np.float32]:
        """Texture coordinates of every vertex (zeros where the mesh has none)."""
        if self.uvs is not None:
            return self.uvs
        return np.zeros((self.positions.shape[0], 2), dtype=np.float32)


@dataclass
class Feature:
    """One pickable object: a city object with geometry, its id, type and attributes."""

    id: str
    type: str
    mesh: Mesh
    attributes: dict[str, Any] = field(default_factory=dict)
    parent_id: str | None = None
    lod: str | None = None


@dataclass
class Skipped:
    object_id: str
    reason: str


@dataclass
class SourceData:
    """What a reader returns: features in source coordinates plus what it noticed."""

    features: list[Feature]
    crs_text: str | None
    format: str
    warnings: list[str] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    object_count: int = 0
    lods: dict[str, int] = field(default_factory=dict)
    #: The axis order the source's CRS declares for its coordinates ("yx" when the first
    #: axis is north, as GML writes EPSG:6697 or 4326), or None when the format is always
    #: easting first or the reader cannot tell. A hint for :func:`tiles.georef.choose_axis_order`.
    axis_order: str | None = None
    #: Appearances the meshes' ``materials`` indices refer to (empty: none in the source).
    materials: list[Material] = field(default_factory=list)
    images: list[TextureImage] = field(default_factory=list)
    #: Appearance themes the source has, and those the materials were taken from.
    themes: list[str] = field(default_factory=list)
    themes_used: list[str] = field(default_factory=list)
