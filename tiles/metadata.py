"""The property schema of a layer: every source attribute, typed where values agree.

Written into each glb as an ``EXT_structural_metadata`` property table
(https://github.com/CesiumGS/glTF/tree/3d-tiles-next/extensions/2.0/Vendor/EXT_structural_metadata).
Property ids must match ``[A-Za-z_][A-Za-z0-9_]*``; the source attribute's name is kept
in the property's ``name``, so a viewer shows what the source file called it.
"""

from __future__ import annotations

import math
import re
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
