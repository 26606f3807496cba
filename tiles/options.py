"""Conversion options: one frozen object instead of many keyword arguments."""

from __future__ import annotations

from dataclasses import dataclass

from .errors import InputError


@dataclass(frozen=True)
class ConvertOptions:
    """What :func:`tiles.convert` may be told.

    ``crs`` gives or overrides the source CRS (``EPSG:n``, URN or URL). ``lod`` picks a
    level of detail (``"2.2"``); by default each object's highest. ``axis_order``
    forces "xy" (easting first) or "yx" (northing first). ``max_tile_bytes``
    bounds the estimated size of one tile's glb; ``max_features_per_tile`` its objects.

    Footprints (GeoJSON, GeoPackage, zipped Shapefile) are extruded to LoD1 blocks:
    ``height_attribute`` names a height above the ground, ``roof_attribute`` an absolute
    roof elevation, ``storeys_attribute`` a number of storeys of ``storey_height`` metres
    each; ``ground_attribute`` an absolute ground elevation (else the footprint's own z,
    else 0). Without any of them common names are detected. ``default_height`` is used
    for footprints whose height is missing.

    ``ground_at_ellipsoid`` lowers (or raises) the whole model so its lowest point sits at
    ellipsoidal height 0: for viewers without terrain, where a model at its true height
    would float (RH 2000 or NAP heights are some 30-45 m below the ellipsoid in the region).
    """

    crs: str | None = None
    lod: str | None = None
    axis_order: str | None = None  # "xy", "yx" or None to decide from the CRS and data
    max_tile_bytes: int = 1_500_000
    max_features_per_tile: int = 5_000
    title: str | None = None
    height_attribute: str | None = None
    ground_attribute: str | None = None
    roof_attribute: str | None = None
    storeys_attribute: str | None = None
    storey_height: float = 3.0
    default_height: float | None = None
    #: Appearances: the theme of textures and materials (default: the first found) and the
    #: longest side in pixels of an embedded image or texture atlas.
    appearance_theme: str | None = None
    max_texture_size: int = 2048
    ground_at_ellipsoid: bool = False
    #: Parent tiles carry simplified stand-ins of the objects below them (tiles/lod.py).
    lod_parents: bool = True
    #: Point clouds: leave out points outside the plausible height band (tiles.points).
    drop_outliers: bool = False
    #: Meshes (OBJ, glTF, PLY; they need ``crs``): ``origin`` X Y Z added to every vertex
    #: (else an offset file or ContextCapture metadata.xml beside the mesh gives it), the
    #: mesh's ``up`` axis ("y" or "z"; default y for glTF, z for OBJ and PLY) and
    #: ``mesh_scale`` from mesh units to CRS units (0.001 for millimetres).
    origin: tuple[float, float, float] | None = None
    up: str | None = None
    mesh_scale: float = 1.0
    #: Output (tiles/compress.py, tiles/legacy.py): quantised geometry
    #: (KHR_mesh_quantization; ``False``: plain float glTF), optionally meshopt-encoded as
    #: well (``meshopt``, needs the ``meshoptimizer`` package: smaller files, but once
    #: served gzipped, quantisation alone came out smaller for the demo city), and the
    #: 3D Tiles version, "1.1" (glb with EXT_mesh_features) or "1.0" (b3dm, batch table).
    compression: bool = True
    meshopt: bool = False
    tiles_version: str = "1.1"

    def __post_init__(self) -> None:
        if self.tiles_version not in ("1.0", "1.1"):
            raise InputError(f"the 3D Tiles version must be 1.0 or 1.1, not {self.tiles_version!r}")
