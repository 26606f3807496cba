"""Bounding-volume geometry for :mod:`tiles.validate`: does one volume lie inside another?

3D Tiles 1.1, "Bounding volumes" and "Tile transforms": ``box`` and ``sphere``
are in the tile's frame (the tile transforms accumulated from the root); ``region`` is
always WGS 84 longitude, latitude (radians) and ellipsoidal height (EPSG:4979), and a
tileset mixing regions with boxes or spheres is taken to be in ECEF (EPSG:4978).

:func:`overshoot` answers in metres how far the inner volume reaches outside the outer
one. The inside/outside answer is exact for region in region and for box or sphere in box
or sphere (a sphere under a non-uniform scale is taken at its largest scale, as the
3d-tiles-validator does). Anything against a region, or a region against a box or
sphere, is compared through points on the inner surface: a grid ~250 m apart (at most 65
per side, so ~1 mm of curvature can hide between samples on tiles up to 16 km across),
or 256 points on a sphere.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeGuard

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]

WGS84_A = 6_378_137.0
WGS84_E2 = 6.694_379_990_141_316e-3
TWO_PI = 2.0 * math.pi
SAMPLE_SPACING = 250.0  # metres between surface samples
MAX_SAMPLES_PER_SIDE = 65
ABS_TOLERANCE = 1e-3  # metres
REL_TOLERANCE = 1e-6  # of the outer volume's size


@dataclass(frozen=True)
class Volume:
    """A bounding volume in the world frame: a parallelepiped ``center ± axes`` (columns
    are half-axes), a sphere ``center, radius`` or a ``region`` (6 numbers, EPSG:4979)."""

    kind: str
    center: Array
    axes: Array
    radius: float = 0.0
    region: tuple[float, ...] = ()


def volume(bounding_volume: Mapping[str, Any], world: Array) -> Volume | None:
    """The first of ``box``, ``region``, ``sphere`` present, in the world frame;
    ``None`` when none is usable (the structural checks report why) or the transformed
    numbers overflow (LAPACK can spin forever on infinities)."""
    with np.errstate(over="ignore", invalid="ignore"):
        found = _volume(bounding_volume, world)
    if found is None or not (
        np.isfinite(found.center).all()
        and np.isfinite(found.axes).all()
        and math.isfinite(found.radius)
    ):
        return None
    return found


def _volume(bounding_volume: Mapping[str, Any], world: Array) -> Volume | None:
    zero = np.zeros(3)
    box = bounding_volume.get("box")
    if _numbers(box, 12):
        values = np.asarray(box, dtype=np.float64)
        center = world[:3, :3] @ values[:3] + world[:3, 3]
        axes = world[:3, :3] @ values[3:].reshape(3, 3).T
        return Volume("box", center, axes)
    region = bounding_volume.get("region")
    if _numbers(region, 6):
        return Volume("region", zero, np.zeros((3, 3)), region=tuple(float(v) for v in region))
    sphere = bounding_volume.get("sphere")
    if _numbers(sphere, 4):
        values = np.asarray(sphere, dtype=np.float64)
        scale = float(np.max(np.linalg.norm(world[:3, :3], axis=0)))
        center = world[:3, :3] @ values[:3] + world[:3, 3]
        return Volume("sphere", center, np.zeros((3, 3)), radius=float(values[3]) * scale)
    return None


def _numbers(value: object, length: int) -> TypeGuard[list[float]]:
    return (
        isinstance(value, list)
        and len(value) == length
        and all(
            isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
            for v in value
        )
    )


LENGTHS = {"box": 12, "region": 6, "sphere": 4}


def volume_problems(kind: str, values: object) -> list[str]:
    """What is wrong with the numbers of a ``box``, ``region`` or ``sphere``."""
    length = LENGTHS[kind]
    if not (
        isinstance(values, list)
        and len(values) == length
        and all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)
    ):
        return [f"{kind} must be an array of {length} numbers"]
    if not _numbers(values, length):
        return []  # NaN or infinity: reported as non_finite; volume() skips it
    problems = []
    if kind == "sphere" and values[3] < 0:
        problems.append(f"radius {values[3]} is negative")
    if kind == "region":
        limits = {"west": math.pi, "south": math.pi / 2, "east": math.pi, "north": math.pi / 2}
        problems += [
            f"{name} {v} is outside [-{limit:.6f}, {limit:.6f}]"
            for (name, limit), v in zip(limits.items(), values, strict=False)
            if not -limit <= v <= limit
        ]
        if values[1] > values[3]:
            problems.append(f"south {values[1]} is north of north {values[3]}")
        if values[4] > values[5]:
            problems.append(f"minimum height {values[4]} is above maximum height {values[5]}")
    return problems


def size(v: Volume) -> float:
    """Half the diagonal (or the radius), metres."""
    if v.kind == "box":
        return float(np.linalg.norm(v.axes))
    if v.kind == "sphere":
        return v.radius
    west, south, east, north, low, high = v.region
    lat = max(abs(south), abs(north))
    across = _lon_span(west, east) * WGS84_A * math.cos(min(lat, math.pi / 2))
    return 0.5 * math.hypot(across, (north - south) * WGS84_A, high - low)


def tolerance(outer: Volume) -> float:
    return ABS_TOLERANCE + REL_TOLERANCE * size(outer)


def overshoot(outer: Volume, inner: Volume) -> float:
    """How many metres ``inner`` reaches outside ``outer`` (≤ 0: inside)."""
    if outer.kind == "region":
        if inner.kind == "region":
            return _region_in_region(outer.region, inner.region)
        return _points_in_region(outer.region, _surface_points(inner))
    if inner.kind == "sphere":
        if outer.kind == "sphere":
            return float(np.linalg.norm(inner.center - outer.center)) + inner.radius - outer.radius
        return _sphere_in_box(outer, inner)
    points = _box_corners(inner) if inner.kind == "box" else _surface_points(inner)
    return points_overshoot(outer, points)


def points_overshoot(outer: Volume, points: Array) -> float:
    """How many metres the world-frame ``points`` (n, 3) reach outside ``outer``."""
    if outer.kind == "region":
        return _points_in_region(outer.region, points)
    if outer.kind == "sphere":
        distances = np.linalg.norm(points - outer.center, axis=1)
        return float(np.max(distances)) - outer.radius
    return _points_in_box(outer, points)


# --- boxes -------------------------------------------------------------------------------


def _box_corners(v: Volume) -> Array:
    signs = np.array([[x, y, z] for x in (-1, 1) for y in (-1, 1) for z in (-1, 1)], float)
    corners: Array = v.center + signs @ v.axes.T
    return corners


def _box_faces(v: Volume) -> Array:
    """Grids on the six faces, so a face sagging below a curved surface is seen."""
    lengths = np.linalg.norm(v.axes, axis=0)
    counts = [_samples(2.0 * float(length)) for length in lengths]
    grids = [np.linspace(-1.0, 1.0, n) for n in counts]
    faces = []
    for axis in range(3):
        others = [a for a in range(3) if a != axis]
        u, w = np.meshgrid(grids[others[0]], grids[others[1]], indexing="ij")
        for side in (-1.0, 1.0):
            coefficients = np.zeros((u.size, 3))
            coefficients[:, axis] = side
            coefficients[:, others[0]] = u.ravel()
            coefficients[:, others[1]] = w.ravel()
            faces.append(v.center + coefficients @ v.axes.T)
    return np.concatenate(faces)


def _points_in_box(box: Volume, points: Array) -> float:
    inverse = np.linalg.pinv(box.axes)
    offsets = (points - box.center).T
    coefficients = inverse @ offsets
    residual = np.linalg.norm(offsets - box.axes @ coefficients, axis=0)
    lengths = np.linalg.norm(box.axes, axis=0)
    along = (np.abs(coefficients) - 1.0) * lengths[:, None]
    return float(max(np.max(along), np.max(residual)))


def _sphere_in_box(box: Volume, sphere: Volume) -> float:
    inverse = np.linalg.pinv(box.axes)
    offset = sphere.center - box.center
    coefficients = inverse @ offset
    reach = sphere.radius * np.linalg.norm(inverse, axis=1)
    lengths = np.linalg.norm(box.axes, axis=0)
    along = (np.abs(coefficients) + reach - 1.0) * lengths
    residual = float(np.linalg.norm(offset - box.axes @ coefficients))
    flat = np.linalg.matrix_rank(box.axes) < 3
    return float(max(np.max(along), residual + (sphere.radius if flat else 0.0)))


# --- regions -----------------------------------------------------------------------------


def _lon_span(west: float, east: float) -> float:
    return east - west if east >= west else east - west + TWO_PI


def _region_in_region(outer: tuple[float, ...], inner: tuple[float, ...]) -> float:
    o_west, o_south, o_east, o_north, o_low, o_high = outer
    i_west, i_south, i_east, i_north, i_low, i_high = inner
    span = _lon_span(o_west, o_east)
    start = (i_west - o_west) % TWO_PI
    if start > 0.5 * (span + TWO_PI):  # nearer to starting just west of the outer region
        start -= TWO_PI
    west_over = -start
    east_over = start + _lon_span(i_west, i_east) - span
    lat = min(max(abs(i_south), abs(i_north)), math.pi / 2)
    lon_metres = max(west_over, east_over) * (WGS84_A + max(i_high, 0.0)) * math.cos(lat)
    lat_metres = max(o_south - i_south, i_north - o_north) * WGS84_A
    return max(lon_metres, lat_metres, o_low - i_low, i_high - o_high)


def to_geodetic(points: Array) -> tuple[Array, Array, Array]:
    """ECEF (n, 3) to longitude, latitude (radians) and ellipsoidal height (metres)."""
    x, y, z = points[:, 0], points[:, 1], points[:, 2]
    p = np.hypot(x, y)
    lon = np.arctan2(y, x)
    lat = np.arctan2(z, p * (1.0 - WGS84_E2))
    for _ in range(6):
        n = WGS84_A / np.sqrt(1.0 - WGS84_E2 * np.sin(lat) ** 2)
        lat = np.arctan2(z + WGS84_E2 * n * np.sin(lat), p)
    height = p * np.cos(lat) + z * np.sin(lat) - WGS84_A * np.sqrt(1 - WGS84_E2 * np.sin(lat) ** 2)
    return lon, lat, height


def to_ecef(lon: Array, lat: Array, height: Array) -> Array:
    n = WGS84_A / np.sqrt(1.0 - WGS84_E2 * np.sin(lat) ** 2)
    return np.stack(
        [
            (n + height) * np.cos(lat) * np.cos(lon),
            (n + height) * np.cos(lat) * np.sin(lon),
            (n * (1.0 - WGS84_E2) + height) * np.sin(lat),
        ],
        axis=1,
    )


def _points_in_region(region: tuple[float, ...], points: Array) -> float:
    west, south, east, north, low, high = region
    lon, lat, height = to_geodetic(points)
    offset = (lon - west) % TWO_PI
    span = _lon_span(west, east)
    outside = np.where(offset > span, np.minimum(offset - span, TWO_PI - offset), 0.0)
    lon_metres = outside * (WGS84_A + np.maximum(height, 0.0)) * np.cos(lat)
    lat_metres = np.maximum(south - lat, lat - north) * WGS84_A
    worst = np.maximum.reduce([lon_metres, lat_metres, low - height, height - high])
    return float(np.max(worst))


def _samples(extent: float) -> int:
    count = math.ceil(extent / SAMPLE_SPACING) + 1 if math.isfinite(extent) else 2
    return int(min(max(count, 2), MAX_SAMPLES_PER_SIDE))


def _surface_points(v: Volume) -> Array:
    """Points on the surface of a volume, in ECEF where it is a region."""
    if v.kind == "box":
        return _box_faces(v)
    if v.kind == "sphere":
        count = 256
        k = np.arange(count) + 0.5
        polar = np.arccos(1.0 - 2.0 * k / count)
        azimuth = math.pi * (1.0 + math.sqrt(5.0)) * k
        directions = np.stack(
            [np.cos(azimuth) * np.sin(polar), np.sin(azimuth) * np.sin(polar), np.cos(polar)],
            axis=1,
        )
        points: Array = v.center + v.radius * directions
        return points
    west, south, east, north, low, high = v.region
    lat_mid = 0.5 * (south + north)
    n_lon = _samples(_lon_span(west, east) * WGS84_A * math.cos(lat_mid))
    n_lat = _samples((north - south) * WGS84_A)
    lons = west + np.linspace(0.0, _lon_span(west, east), n_lon)
    lats = np.linspace(south, north, n_lat)
    lon_grid, lat_grid = np.meshgrid(lons, lats, indexing="ij")
    layers = [
        to_ecef(lon_grid.ravel(), lat_grid.ravel(), np.full(lon_grid.size, h)) for h in (low, high)
    ]
    return np.concatenate(layers)
