"""The property schema of a layer: every source attribute, typed where values agree.

Written into each glb as an ``EXT_structural_metadata`` property table
(https://github.com/CesiumGS/glTF/tree/3d-tiles-next/extensions/2.0/Vendor/EXT_structural_metadata).
Property ids must match ``[A-Za-z_][A-Za-z0-9_]*``; the source attribute's name is kept
in the property's ``name``, so a viewer shows what the source file called it.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson
from numpy.typing import NDArray

from .model import Feature

INT32_NODATA = -(2**31)
FLOAT64_NODATA = -1.7976931348623157e308
CORE = (("id", "STRING"), ("type", "STRING"), ("parent", "STRING"), ("lod", "STRING"))
_ID_OK = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class Property:
    id: str
    name: str
    type: str  # STRING, INT32, FLOAT64, BOOLEAN
    has_missing: bool = False

    def to_class_property(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "type": self.type if self.type != "INT32" and self.type != "FLOAT64" else "SCALAR",
        }
        if self.type in ("INT32", "FLOAT64"):
            out["componentType"] = self.type
        if self.id in ("id", "type"):
            out["required"] = True
        elif self.has_missing and self.type != "BOOLEAN":
            out["noData"] = {"STRING": "", "INT32": INT32_NODATA, "FLOAT64": FLOAT64_NODATA}[
                self.type
            ]
        return out

    def to_json(self) -> dict[str, str]:
        return {"id": self.id, "name": self.name, "type": self.type}

    def is_missing(self, value: Any) -> bool:
        """True when a viewer reading the tiles sees no value: ``None``, a NaN, or the
        empty text that is the column's ``noData`` marker."""
        if value is None:
            return True
        if isinstance(value, float) and math.isnan(value):
            return True
        return self.type == "STRING" and self.has_missing and as_text(value) == ""


@dataclass(frozen=True)
class Schema:
    properties: tuple[Property, ...]

    def class_json(self) -> dict[str, Any]:
        return {
            "name": "City object",
            "properties": {p.id: p.to_class_property() for p in self.properties},
        }


def _kind(v: Any) -> str:
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int):
        return "int" if -(2**31) < v < 2**31 else "float"
    if isinstance(v, float):
        return "float" if math.isfinite(v) else "str"
    return "str"


def build_schema(features: list[Feature]) -> Schema:
    """Decide one id and type per attribute name over all features."""
    kinds: dict[str, set[str]] = {}
    present: dict[str, int] = {}
    for f in features:
        for k, v in f.attributes.items():
            s = kinds.setdefault(k, set())
            if v is not None:
                s.add(_kind(v))
                present[k] = present.get(k, 0) + 1
    props = [Property(pid, pid, t, has_missing=pid == "parent" or pid == "lod") for pid, t in CORE]
    used = {p.id for p in props}
    for n, (name, ks) in enumerate(kinds.items()):
        missing = present.get(name, 0) < len(features)
        if ks == {"bool"} and not missing:
            t = "BOOLEAN"
        elif ks == {"int"}:
            t = "INT32"
        elif ks and ks <= {"int", "float"}:
            t = "FLOAT64"
        else:
            t = "STRING"
        props.append(Property(_unique_id(name, n, used), name, t, has_missing=missing))
    return Schema(tuple(props))


def _unique_id(name: str, n: int, used: set[str]) -> str:
    pid = re.sub(r"[^A-Za-z0-9_]", "_", name)
    if not pid.strip("_"):
        pid = f"attr_{n}"
    if not _ID_OK.match(pid):
        pid = "_" + pid
    base, i = pid, 2
    while pid in used:
        pid = f"{base}_{i}"
        i += 1
    used.add(pid)
    return pid


def as_text(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, str):
        return v
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return repr(v)
    return orjson.dumps(v).decode()


def column(prop: Property, features: list[Feature]) -> list[Any]:
    """Values of ``prop`` for ``features`` in order (``None`` where missing)."""
    if prop.id == "id":
        return [f.id for f in features]
    if prop.id == "type":
        return [f.type for f in features]
    if prop.id == "parent":
        return [f.parent_id for f in features]
    if prop.id == "lod":
        return [f.lod for f in features]
    return [f.attributes.get(prop.name) for f in features]


def encode(prop: Property, values: list[Any]) -> dict[str, NDArray[Any]]:
    """Binary arrays of one property table column: ``values`` and maybe ``stringOffsets``."""
    if prop.type == "STRING":
        data = [as_text(v).encode() for v in values]
        offsets = np.zeros(len(data) + 1, dtype=np.uint32)
        offsets[1:] = np.cumsum([len(d) for d in data])
        return {"values": np.frombuffer(b"".join(data), dtype=np.uint8), "stringOffsets": offsets}
    if prop.type == "INT32":
        return {
            "values": np.array([INT32_NODATA if v is None else v for v in values], dtype=np.int32)
        }
    if prop.type == "FLOAT64":
        return {
            "values": np.array(
                [FLOAT64_NODATA if v is None else float(v) for v in values], dtype=np.float64
            )
        }
    bits = np.array([bool(v) for v in values], dtype=np.uint8)
    return {"values": np.packbits(bits, bitorder="little")}


#: The quantiles the numeric statistics report (0, 20, ..., 100 %): five classes.
QUANTILES = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)
#: A text attribute with at most this many different values is categorical: its statistics
#: list the most frequent values (at most ``TOP_VALUES``) with their counts.
CATEGORICAL_MAX = 50
TOP_VALUES = 20


def _classes(breaks: NDArray[np.float64], values: NDArray[np.float64]) -> dict[str, Any]:
    """Classes between ascending ``breaks`` (duplicates dropped): a value belongs to the last
    class whose lower break it reaches; the last class includes the maximum. The viewer's
    style uses the same rule, so these counts are what its legend says."""
    edges = np.unique(breaks)
    inner = edges[1:-1]
    index = np.searchsorted(inner, values, side="right")
    counts = np.bincount(index, minlength=max(len(edges) - 1, 1))
    return {"breaks": [float(b) for b in edges], "counts": [int(c) for c in counts]}


def property_stats(prop: Property, values: list[Any]) -> dict[str, Any]:
    """What a viewer needs to style by ``prop`` without reading every tile.

    Numbers: ``count``, ``missing``, ``min``, ``max``, ``quantiles`` (``QUANTILES``) and
    ``classes`` for ``quantile`` and ``equal`` (interval) breaks with their counts. Text:
    ``count``, ``missing``, ``distinct`` and, when categorical, ``values``: the most frequent
    ``{"value", "count"}`` (ties by value). Booleans: ``count``, ``missing``, ``true``,
    ``false``. Missing values (``None``, NaN, the ``noData`` text) are not counted.
    """
    present = [v for v in values if not prop.is_missing(v)]
    out: dict[str, Any] = {"count": len(present), "missing": len(values) - len(present)}
    if prop.type in ("INT32", "FLOAT64"):
        if not present:
            return out
        arr = np.array([float(v) for v in present], dtype=np.float64)
        lo, hi = float(arr.min()), float(arr.max())
        quantiles = np.quantile(arr, QUANTILES)
        out["min"] = int(lo) if prop.type == "INT32" else lo
        out["max"] = int(hi) if prop.type == "INT32" else hi
        out["quantiles"] = [float(q) for q in quantiles]
        out["classes"] = {
            "quantile": _classes(quantiles, arr),
            "equal": _classes(np.linspace(lo, hi, len(QUANTILES)), arr),
        }
    elif prop.type == "STRING":
        counts = Counter(as_text(v) for v in present)
        out["distinct"] = len(counts)
        if len(counts) <= CATEGORICAL_MAX:
            ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_VALUES]
            out["values"] = [{"value": v, "count": c} for v, c in ranked]
    elif prop.type == "BOOLEAN":
        out["true"] = sum(1 for v in present if bool(v))
        out["false"] = len(present) - out["true"]
    return out


def schema_json(schema: Schema, features: list[Feature]) -> list[dict[str, Any]]:
    """The report's ``properties``: each property's id, name, type and ``stats``."""
    return [
        {**p.to_json(), "stats": property_stats(p, column(p, features))} for p in schema.properties
    ]
