"""Read and check 3D Tiles 1.0 Point Cloud (``pnts``) content.

3D Tiles 1.0, "Point Cloud" (https://github.com/CesiumGS/3d-tiles/tree/1.0/specification/
TileFormats/PointCloud): a 28-byte header (magic ``pnts``, version 1, byteLength, then the
byte lengths of the feature table JSON and binary and the batch table JSON and binary),
the feature table (``POINTS_LENGTH``; ``POSITION`` float32 VEC3 or ``POSITION_QUANTIZED``
uint16 VEC3 with ``QUANTIZED_VOLUME_OFFSET``/``SCALE``; optional ``RTC_CENTER``, ``RGB``,
``RGBA``, ``RGB565``), then the batch table (one value per point).

:func:`read_pnts` decodes positions into the tile's frame (``RTC_CENTER`` added,
quantisation undone); :mod:`tiles.validate` uses :func:`pnts_problems` so that a point
outside its tile's bounding volume is reported like any content outside its tile.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

HEADER = struct.Struct("<4sIIIIII")
COMPONENTS: dict[str, Any] = {
    "BYTE": np.int8,
    "UNSIGNED_BYTE": np.uint8,
    "SHORT": np.int16,
    "UNSIGNED_SHORT": np.uint16,
    "INT": np.int32,
    "UNSIGNED_INT": np.uint32,
    "FLOAT": np.float32,
    "DOUBLE": np.float64,
}
WIDTH = {"SCALAR": 1, "VEC2": 2, "VEC3": 3, "VEC4": 4}


class PntsError(ValueError):
    """The bytes are not a valid ``pnts`` tile (the message says which rule)."""


@dataclass
class Pnts:
    positions: NDArray[np.float64]  # (n, 3) in the tile's frame
    rgb: NDArray[np.uint8] | None = None
    batch: dict[str, NDArray[Any]] = field(default_factory=dict)


def read_pnts(data: bytes) -> Pnts:
    if len(data) < HEADER.size:
        raise PntsError("shorter than the 28-byte header")
    magic, version, length, ft_json, ft_bin, bt_json, bt_bin = HEADER.unpack_from(data)
    if magic != b"pnts" or version != 1:
        raise PntsError(f"magic {magic!r} version {version}: not pnts version 1")
    if length != len(data) or HEADER.size + ft_json + ft_bin + bt_json + bt_bin != length:
        raise PntsError(f"byteLength {length} does not match the file ({len(data)} bytes)")
    at = HEADER.size
    table = _json(data[at : at + ft_json], "feature table")
    binary = data[at + ft_json : at + ft_json + ft_bin]
    at += ft_json + ft_bin
    count = table.get("POINTS_LENGTH")
    if not isinstance(count, int) or count < 0:
        raise PntsError("POINTS_LENGTH is missing or not a count")
    if "POSITION" in table:
        positions = _view(binary, table["POSITION"], "FLOAT", 3, count, "POSITION")
        pos = positions.astype(np.float64)
    elif "POSITION_QUANTIZED" in table:
        q = _view(binary, table["POSITION_QUANTIZED"], "UNSIGNED_SHORT", 3, count, "POSITION")
        offset = np.asarray(table.get("QUANTIZED_VOLUME_OFFSET"), dtype=np.float64)
        scale = np.asarray(table.get("QUANTIZED_VOLUME_SCALE"), dtype=np.float64)
        if offset.shape != (3,) or scale.shape != (3,):
            raise PntsError("POSITION_QUANTIZED needs QUANTIZED_VOLUME_OFFSET and _SCALE")
        pos = offset + q.astype(np.float64) * scale / 65535.0
    else:
        raise PntsError("neither POSITION nor POSITION_QUANTIZED")
    if "RTC_CENTER" in table:
        center = np.asarray(table["RTC_CENTER"], dtype=np.float64)
        if center.shape != (3,):
            raise PntsError("RTC_CENTER must be 3 numbers")
        pos = pos + center
    if not np.isfinite(pos).all():
        raise PntsError("a position is NaN or infinite")
    rgb = None
    if "RGB" in table:
        rgb = _view(binary, table["RGB"], "UNSIGNED_BYTE", 3, count, "RGB")
    batch: dict[str, NDArray[Any]] = {}
    if bt_json:
        bjson = _json(data[at : at + bt_json], "batch table")
        bbin = data[at + bt_json : at + bt_json + bt_bin]
        for name, ref in bjson.items():
            if isinstance(ref, list):
                values = np.asarray(ref)
            elif isinstance(ref, dict):
                kind, width = ref.get("componentType"), WIDTH.get(ref.get("type", ""), 0)
                if kind not in COMPONENTS or not width:
                    raise PntsError(f"batch table {name!r}: bad componentType or type")
                values = _view(bbin, ref, kind, width, count, name)
            else:
                raise PntsError(f"batch table {name!r} is neither an array nor a reference")
            if values.shape[0] != count:
                raise PntsError(f"batch table {name!r} has {values.shape[0]} values, not {count}")
            batch[name] = (
                values.reshape(count) if values.ndim == 2 and values.shape[1] == 1 else values
            )
    return Pnts(pos, rgb, batch)


def _json(raw: bytes, what: str) -> dict[str, Any]:
    try:
        value = json.loads(raw.decode("utf-8").rstrip(" \0"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise PntsError(f"the {what} JSON is not valid: {exc}") from exc
    if not isinstance(value, dict):
        raise PntsError(f"the {what} JSON is not an object")
    return value


def _view(
    binary: bytes, ref: object, default: str, width: int, count: int, name: str
) -> NDArray[Any]:
    if not isinstance(ref, dict) or not isinstance(ref.get("byteOffset"), int):
        raise PntsError(f"{name} has no byteOffset")
    kind = ref.get("componentType", default)
    if kind not in COMPONENTS:
        raise PntsError(f"{name}: unknown componentType {kind!r}")
    dtype = np.dtype(COMPONENTS[kind])
    start, size = ref["byteOffset"], count * width * dtype.itemsize
    if start < 0 or start + size > len(binary):
        raise PntsError(f"{name} reaches past the end of its binary body")
    if start % dtype.itemsize:
        raise PntsError(f"{name} byteOffset {start} is not aligned to {dtype.itemsize} bytes")
    return np.frombuffer(binary, dtype=dtype, count=count * width, offset=start).reshape(
        count, width
    )


def pnts_problems(path: Path) -> tuple[Pnts | None, list[str]]:
    """The decoded tile, or ``None`` and why it cannot be read."""
    try:
        return read_pnts(path.read_bytes()), []
    except PntsError as exc:
        return None, [str(exc)]
