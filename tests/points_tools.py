"""Point-cloud test helpers: small synthetic LAS/LAZ/XYZ/PLY files (ours, CC0) and a
reader of a written point tileset back into ECEF points and their attributes."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import laspy
import numpy as np
from laspy.vlrs.known import GeoKeyDirectoryVlr, GeoKeyEntryStruct
from numpy.typing import NDArray
from plyfile import PlyData, PlyElement
from pyproj import CRS, Transformer

from tiles.validate_pnts import read_pnts


@dataclass
class Cloud:
    xyz: NDArray[np.float64]
    rgb: NDArray[np.uint16]  # 16 bits per channel
    classification: NDArray[np.uint8]
    intensity: NDArray[np.uint16]


def synthetic(x0: float, y0: float, z0: float, side: int = 40, spacing: float = 0.5) -> Cloud:
    """A ``side`` x ``side`` grid of points on a gentle hill with a few "trees"."""
    i, j = np.meshgrid(np.arange(side), np.arange(side), indexing="ij")
    x = x0 + i.ravel() * spacing
    y = y0 + j.ravel() * spacing
    z = z0 + 2.0 * np.sin(i.ravel() / 7.0) + 1.5 * np.cos(j.ravel() / 5.0)
    trees = (i.ravel() % 9 == 4) & (j.ravel() % 9 == 4)
    z = np.where(trees, z + 8.0, z)
    n = x.size
    rgb = np.column_stack(
        [(i.ravel() * 1500) % 65536, (j.ravel() * 1500) % 65536, np.full(n, 30000)]
    ).astype(np.uint16)
    cls = np.where(trees, 5, 2).astype(np.uint8)
    return Cloud(np.column_stack([x, y, z]), rgb, cls, np.arange(n, dtype=np.uint16))


def write_las(
    path: Path,
    cloud: Cloud,
    crs: str | None,
    *,
    point_format: int = 3,
    version: str = "1.2",
    scale: float = 0.001,
    geokeys: dict[int, int] | None = None,
) -> Path:
    """LAS (or LAZ, by the suffix; laszip backend). Formats < 6 get GeoKeys, >= 6 WKT;
    ``geokeys`` adds keys (id: value), e.g. {4096: 5613} a vertical CRS."""
    header = laspy.LasHeader(point_format=point_format, version=version)
    header.scales = np.array([scale] * 3)
    header.offsets = np.floor(cloud.xyz.min(axis=0))
    if crs is not None:
        header.add_crs(CRS.from_user_input(crs))
    if geokeys:
        directory = next(v for v in header.vlrs if isinstance(v, GeoKeyDirectoryVlr))
        for key, value in geokeys.items():
            entry = GeoKeyEntryStruct()
            entry.id, entry.tiff_tag_location, entry.count, entry.value_offset = key, 0, 1, value
            directory.geo_keys.append(entry)
        directory.geo_keys_header.number_of_keys = len(directory.geo_keys)
    las = laspy.LasData(header)
    las.x, las.y, las.z = cloud.xyz[:, 0], cloud.xyz[:, 1], cloud.xyz[:, 2]
    las.red, las.green, las.blue = cloud.rgb[:, 0], cloud.rgb[:, 1], cloud.rgb[:, 2]
    las.classification = cloud.classification
    las.intensity = cloud.intensity
    las.write(path, laz_backend=laspy.LazBackend.Laszip if path.suffix == ".laz" else None)
    return path


def write_xyz(path: Path, cloud: Cloud) -> Path:
    rgb8 = (cloud.rgb // 257).astype(int)
    lines = [
        f"{x:.3f} {y:.3f} {z:.3f} {r} {g} {b}"
        for (x, y, z), (r, g, b) in zip(cloud.xyz, rgb8, strict=True)
    ]
    path.write_text("\n".join(lines) + "\n", encoding="ascii")
    return path


def write_ply(path: Path, cloud: Cloud) -> Path:
    vertex = np.empty(
        len(cloud.xyz),
        dtype=[
            ("x", "f8"),
            ("y", "f8"),
            ("z", "f8"),
            ("red", "u1"),
            ("green", "u1"),
            ("blue", "u1"),
            ("classification", "u1"),
        ],
    )
    vertex["x"], vertex["y"], vertex["z"] = cloud.xyz.T
    rgb8 = (cloud.rgb // 257).astype(np.uint8)
    vertex["red"], vertex["green"], vertex["blue"] = rgb8.T
    vertex["classification"] = cloud.classification
    PlyData([PlyElement.describe(vertex, "vertex")]).write(str(path))
    return path


@dataclass
class TilesetPoints:
    ecef: NDArray[np.float64]  # every point of every tile (py3dtiles' preview included)
    rgb: NDArray[np.uint8]
    batch: dict[str, NDArray[np.generic]]
    leaf_count: int  # points in the tiles below the preview
    tile_count: int


def tileset_points(out: Path) -> TilesetPoints:
    """Decode every ``pnts`` of the tileset at ``out`` and apply the tile transforms."""
    doc = json.loads((out / "tileset.json").read_text(encoding="utf-8"))
    found: list[tuple[str, NDArray[np.float64]]] = []

    def walk(tile: dict, world: NDArray[np.float64]) -> None:
        if "transform" in tile:
            world = world @ np.array(tile["transform"], dtype=np.float64).reshape(4, 4).T
        if "content" in tile:
            found.append((tile["content"]["uri"], world))
        for child in tile.get("children", []):
            walk(child, world)

    walk(doc["root"], np.eye(4))
    ecef, rgb, batch, leaves = [], [], {}, 0
    for uri, world in found:
        tile = read_pnts((out / uri).read_bytes())
        ecef.append(tile.positions @ world[:3, :3].T + world[:3, 3])
        if tile.rgb is not None:
            rgb.append(tile.rgb)
        for name, values in tile.batch.items():
            batch.setdefault(name, []).append(values)
        if uri != doc["root"].get("content", {}).get("uri"):
            leaves += len(tile.positions)
    return TilesetPoints(
        np.concatenate(ecef),
        np.concatenate(rgb) if rgb else np.zeros((0, 3), np.uint8),
        {k: np.concatenate(v) for k, v in batch.items()},
        leaves,
        len(found),
    )


def expected_ecef(crs: str, xyz: NDArray[np.float64], height_factor: float = 1.0):
    """pyproj's answer: easting/northing through the CRS, heights kept (times a unit
    factor) as ellipsoidal heights, then ECEF."""
    lon, lat = Transformer.from_crs(crs, "EPSG:4326", always_xy=True).transform(
        xyz[:, 0], xyz[:, 1]
    )
    to_ecef = Transformer.from_crs("EPSG:4979", "EPSG:4978", always_xy=True)
    return np.column_stack(to_ecef.transform(lon, lat, xyz[:, 2] * height_factor))


def nearest(want: NDArray[np.float64], have: NDArray[np.float64]) -> NDArray[np.float64]:
    """For each wanted point, the distance to the nearest point in ``have`` (metres)."""
    out = np.empty(len(want))
    for start in range(0, len(want), 256):
        block = want[start : start + 256]
        d = np.linalg.norm(block[:, None, :] - have[None, :, :], axis=2)
        out[start : start + 256] = d.min(axis=1)
    return out
