"""Point clouds: LAS and LAZ (laspy with the laszip backend), XYZ text and PLY (plyfile).

A point cloud is not a list of features, so this reader does not return
:class:`tiles.model.SourceData`: :func:`open_points` gives a :class:`PointSource` whose
:meth:`PointSource.chunks` streams the points (source coordinates, colours, classification
and intensity) in bounded slices. :mod:`tiles.points` places and tiles them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from ..errors import EmptyInput, InputError, NonFiniteCoordinate, UnsupportedFormat

if TYPE_CHECKING:
    from ..model import SourceData
    from ..options import ConvertOptions

NAME = "point cloud (LAS, LAZ, XYZ, PLY)"
CHUNK = 250_000  # points per slice: ~75 MB of working arrays while placing them

_NUMBER = r"[-+]?(?:\d+\.?\d*(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?|nan|inf(?:inity)?)"
_XYZ_LINE = re.compile(rf"^\s*{_NUMBER}(?:[\s,;]+{_NUMBER}){{2,}}\s*$", re.IGNORECASE)
#: GeoTIFF keys laspy does not read: VerticalCSTypeGeoKey, VerticalUnitsGeoKey.
_VERTICAL_CS_KEY, _VERTICAL_UNITS_KEY = 4096, 4099
#: EPSG unit of measure codes to metres (GeoTIFF unit keys use them).
_UNIT_METRES = {9001: 1.0, 9002: 0.3048, 9003: 1200 / 3937}


@dataclass
class Chunk:
    """One slice of points: ``xyz`` in source coordinates and units, optional attributes."""

    xyz: NDArray[np.float64]
    rgb: NDArray[np.uint16] | None = None  # 16 bits per channel, as LAS stores colour
    classification: NDArray[np.uint8] | None = None
    intensity: NDArray[np.uint16] | None = None


@dataclass
class PointSource:
    """What a point file declares, and how to stream its points."""

    path: Path
    format: str  # "LAS 1.2", "LAZ 1.4", "XYZ", "PLY"
    point_count: int
    crs_text: str | None = None  # WKT of the CRS the file declares
    crs_record: str | None = None  # "WKT" or "GeoKeys": where the file declared it
    vertical_unit_m: float | None = None  # GeoKeys VerticalUnitsGeoKey, in metres
    has_rgb: bool = False
    has_classification: bool = False
    has_intensity: bool = False
    notes: list[str] = field(default_factory=list)

    def chunks(self) -> Iterator[Chunk]:
        try:
            if self.format.startswith(("LAS", "LAZ")):
                yield from _las_chunks(self.path)
            elif self.format == "PLY":
                yield from _ply_chunks(self.path)
            else:
                yield from _xyz_chunks(self.path)
        except (InputError, MemoryError):
            raise
        except BaseException as exc:  # laszip/lazrs panics derive from BaseException
            if isinstance(exc, KeyboardInterrupt | SystemExit | GeneratorExit):
                raise
            raise InputError(
                f"cannot read the points: the file is truncated or corrupt ({_why(exc)})",
                source=self.path.name,
            ) from exc


def sniff(path: Path, head: bytes) -> bool:
    if head[:4] == b"LASF":
        return True
    if head[:4] == b"ply\n" or head[:5] == b"ply\r\n":
        return _ply_is_points(head)
    return _looks_like_xyz(head)


def read(path: Path, options: ConvertOptions) -> SourceData:
    raise UnsupportedFormat(
        "a point cloud is converted by tiles.points, not read as features", source=path.name
    )


def open_points(path: Path) -> PointSource:
    """Read the header of a point file (detected by content) and check it."""
    with path.open("rb") as fh:
        head = fh.read(64 * 1024)
    if head[:4] == b"LASF":
        return _open_las(path)
    if head[:3] == b"ply":
        return _open_ply(path)
    return _open_xyz(path)


def _why(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {str(exc)[:160]}"


# -- LAS / LAZ ---------------------------------------------------------------------------


def _open_las(path: Path) -> PointSource:
    import laspy
    from laspy.vlrs.known import GeoKeyDirectoryVlr, WktCoordinateSystemVlr

    try:
        with laspy.open(path) as reader:
            header = reader.header
            compressed = reader.header.are_points_compressed
    except Exception as exc:
        raise InputError(f"not a readable LAS/LAZ file ({_why(exc)})", source=path.name) from exc
    kind = "LAZ" if compressed else "LAS"
    count = int(header.point_count)
    if count == 0:
        raise EmptyInput("the point cloud has no points", source=path.name)
    if not compressed:
        need = header.offset_to_point_data + count * header.point_format.size
        if path.stat().st_size < need:
            raise InputError(
                f"the header announces {count:,} points ({need:,} bytes) but the file has "
                f"{path.stat().st_size:,} bytes: it is truncated",
                source=path.name,
            )
    src = PointSource(path, f"{kind} {header.version.major}.{header.version.minor}", count)
    records = list(header.vlrs) + list(header.evlrs or [])
    wkt = next((r for r in records if isinstance(r, WktCoordinateSystemVlr)), None)
    keys = next((r for r in records if isinstance(r, GeoKeyDirectoryVlr)), None)
    crs = None
    if wkt is not None and (crs := wkt.parse_crs()) is not None:
        src.crs_record = "WKT"
    elif keys is not None and (crs := keys.parse_crs()) is not None:
        src.crs_record = "GeoKeys"
        crs = _with_vertical(crs, keys, src)
    src.crs_text = crs.to_wkt() if crs is not None else None
    names = set(header.point_format.dimension_names)
    src.has_rgb = "red" in names
    src.has_classification = "classification" in names
    src.has_intensity = "intensity" in names
    return src


def _with_vertical(crs: Any, keys: Any, src: PointSource) -> Any:
    """Add the GeoKeys' vertical CRS (which laspy ignores) and note their vertical unit."""
    from pyproj import CRS
    from pyproj.crs import CompoundCRS

    values = {k.id: k.value_offset for k in keys.geo_keys}
    unit = values.get(_VERTICAL_UNITS_KEY)
    if unit in _UNIT_METRES:
        src.vertical_unit_m = _UNIT_METRES[unit]
    code = values.get(_VERTICAL_CS_KEY)
    if code is None or not 1024 <= code <= 32766:
        return crs
    try:
        vertical = CRS.from_epsg(code)
    except Exception:
        src.notes.append(f"VerticalCSTypeGeoKey {code} is not a known EPSG vertical CRS: ignored")
        return crs
    return CompoundCRS(f"{crs.name} + {vertical.name}", [crs, vertical])


def _las_chunks(path: Path) -> Iterator[Chunk]:
    import laspy

    with laspy.open(path, laz_backend=laspy.LazBackend.Laszip) as reader:
        names = set(reader.header.point_format.dimension_names)
        remaining = int(reader.header.point_count)
        for points in reader.chunk_iterator(CHUNK):
            if len(points) == 0:
                break
            remaining -= len(points)
            xyz = np.column_stack(
                [np.asarray(points.x), np.asarray(points.y), np.asarray(points.z)]
            ).astype(np.float64)
            rgb = None
            if "red" in names:
                rgb = np.column_stack(
                    [np.asarray(points.red), np.asarray(points.green), np.asarray(points.blue)]
                ).astype(np.uint16)
            yield Chunk(
                xyz,
                rgb,
                np.asarray(points.classification, dtype=np.uint8),
                np.asarray(points.intensity, dtype=np.uint16),
            )
        if remaining > 0:
            raise InputError(
                f"the file ends {remaining:,} points before the count its header announces: "
                "it is truncated",
                source=path.name,
            )


# -- PLY ---------------------------------------------------------------------------------


def _ply_header(head: bytes) -> list[str] | None:
    end = head.find(b"end_header")
    if end < 0:
        return None
    return head[:end].decode("ascii", "replace").splitlines()


def _ply_is_points(head: bytes) -> bool:
    """A PLY with vertices and no faces is a point cloud (one with faces is a mesh)."""
    lines = _ply_header(head)
    if lines is None:
        return False
    counts = {p[1]: p[2] for p in (ln.split() for ln in lines) if len(p) == 3 and p[0] == "element"}
    return "vertex" in counts and counts.get("face", "0") == "0"


def _open_ply(path: Path) -> PointSource:
    with path.open("rb") as fh:
        lines = _ply_header(fh.read(64 * 1024))
    if lines is None:
        raise InputError("not a PLY file: no end_header in its first 64 KiB", source=path.name)
    elements: dict[str, tuple[int, set[str]]] = {}
    current = None
    for parts in (ln.split() for ln in lines):
        if len(parts) == 3 and parts[0] == "element" and parts[2].isdigit():
            current = parts[1]
            elements[current] = (int(parts[2]), set())
        elif len(parts) >= 3 and parts[0] == "property" and current is not None:
            elements[current][1].add(parts[-1])
    if "vertex" not in elements:
        raise InputError("the PLY file has no vertex element", source=path.name)
    count, names = elements["vertex"]
    if not {"x", "y", "z"} <= names:
        raise InputError("the PLY vertices have no x, y, z properties", source=path.name)
    if count == 0:
        raise EmptyInput("the point cloud has no points", source=path.name)
    src = PointSource(path, "PLY", count)
    src.has_rgb = {"red", "green", "blue"} <= names
    src.has_classification = "classification" in names
    src.has_intensity = "intensity" in names
    return src


def _ply_chunks(path: Path) -> Iterator[Chunk]:
    from plyfile import PlyData

    with path.open("rb") as fh:
        vertex = PlyData.read(fh)["vertex"].data
    for start in range(0, len(vertex), CHUNK):
        part = vertex[start : start + CHUNK]
        names = set(part.dtype.names or ())
        xyz = np.column_stack([part["x"], part["y"], part["z"]]).astype(np.float64)
        rgb = None
        if {"red", "green", "blue"} <= names:
            rgb = np.column_stack([part["red"], part["green"], part["blue"]])
            rgb = _to_16_bits(rgb, part.dtype["red"].itemsize)
        cls = part["classification"].astype(np.uint8) if "classification" in names else None
        inten = part["intensity"].astype(np.uint16) if "intensity" in names else None
        yield Chunk(_finite(xyz, path), rgb, cls, inten)


# -- XYZ ---------------------------------------------------------------------------------


def _looks_like_xyz(head: bytes) -> bool:
    try:
        text = head.decode("ascii")
    except UnicodeDecodeError:
        return False
    lines = [ln for ln in text.splitlines()[:20] if ln.strip() and not ln.startswith("#")]
    if len(text) == len(head) and text.endswith(("\n", "\r")) is False and len(lines) > 1:
        lines = lines[:-1]  # the last line of the head may be cut
    # one line is not a cloud: it is a mesh's offset file (Pix4D's <project>_offset.xyz)
    return len(lines) > 1 and all(_XYZ_LINE.match(ln) for ln in lines)


def _xyz_columns(path: Path) -> int:
    with path.open("r", encoding="ascii", errors="replace") as fh:
        for line in fh:
            if line.strip() and not line.startswith("#"):
                return len(re.split(r"[\s,;]+", line.strip()))
    return 0


def _open_xyz(path: Path) -> PointSource:
    cols = _xyz_columns(path)
    if cols not in (3, 4, 6, 7):
        raise InputError(
            f"an XYZ file has 3 columns (x y z), 4 (x y z intensity), 6 (x y z r g b) or "
            f"7 (x y z r g b intensity); this one has {cols}",
            source=path.name,
        )
    src = PointSource(path, "XYZ", -1)  # counted while streaming
    src.has_rgb = cols >= 6
    src.has_intensity = cols in (4, 7)
    return src


def _xyz_chunks(path: Path) -> Iterator[Chunk]:
    cols = _xyz_columns(path)
    with path.open("r", encoding="ascii", errors="replace") as fh:
        while True:
            lines = [ln for _, ln in zip(range(CHUNK), fh, strict=False)]
            if not lines:
                break
            rows = [ln for ln in lines if ln.strip() and not ln.startswith("#")]
            try:
                arr = np.loadtxt(
                    [re.sub(r"[,;]", " ", ln) for ln in rows], dtype=np.float64, ndmin=2
                )
            except ValueError as exc:
                raise InputError(
                    f"XYZ line that is not {cols} numbers ({str(exc)[:120]})", source=path.name
                ) from exc
            if arr.size == 0:
                continue
            if arr.shape[1] != cols:
                raise InputError(f"XYZ lines must all have {cols} columns", source=path.name)
            rgb = _to_16_bits(arr[:, 3:6], 1) if cols >= 6 else None
            inten = arr[:, -1].astype(np.uint16) if cols in (4, 7) else None
            yield Chunk(_finite(arr[:, :3].copy(), path), rgb, None, inten)


def _to_16_bits(rgb: NDArray[Any], itemsize: int) -> NDArray[np.uint16]:
    """8-bit colours (PLY uchar, XYZ 0-255) scaled to LAS's 16 bits."""
    values = np.clip(np.asarray(rgb, dtype=np.float64), 0, 65535)
    if itemsize == 1 or values.max(initial=0) <= 255:
        values = values * 257
    return np.clip(values, 0, 65535).astype(np.uint16)


def _finite(xyz: NDArray[np.float64], path: Path) -> NDArray[np.float64]:
    if not np.isfinite(xyz).all():
        bad = int(np.flatnonzero(~np.isfinite(xyz).all(axis=1))[0])
        raise NonFiniteCoordinate(
            f"a point has a NaN or infinite coordinate (point {bad} of a slice)",
            source=path.name,
        )
    return xyz
