"""Conversion options: one frozen object instead of many keyword arguments."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ConvertOptions:
    """What :func:`tiles.convert` may be told.

    ``crs`` gives or overrides the source CRS (``EPSG:n``, URN or URL). ``lod`` picks a
    level of detail (``"2.2"``); by default each object's highest. ``axis_order``
    forces "xy" (easting first) or "yx" (northing first). ``max_tile_bytes``
    bounds the estimated size of one tile's glb; ``max_features_per_tile`` its objects.
    """

    crs: str | None = None
    lod: str | None = None
    axis_order: str | None = None  # "xy", "yx" or None to decide from the CRS and data
    max_tile_bytes: int = 1_500_000
    max_features_per_tile: int = 5_000
    title: str | None = None
