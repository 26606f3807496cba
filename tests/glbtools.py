"""Test helpers: read glb files and tilesets back, independently of the writer."""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any

import numpy as np

_DTYPES = {
    5120: np.int8,
    5121: np.uint8,
    5122: np.int16,
    5123: np.uint16,
    5125: np.uint32,
    5126: np.float32,
}
_WIDTH = {"SCALAR": 1, "VEC2": 2, "VEC3": 3, "VEC4": 4, "MAT4": 16}


class Glb:
    def __init__(self, path: Path) -> None:
        data = path.read_bytes()
        magic, version, total = struct.unpack_from("<4sII", data, 0)
        assert magic == b"glTF"
        assert version == 2
        assert total == len(data)
        jlen, jtype = struct.unpack_from("<I4s", data, 12)
        assert jtype == b"JSON"
        self.json: dict[str, Any] = json.loads(data[20 : 20 + jlen])
        blen, btype = struct.unpack_from("<I4s", data, 20 + jlen)
        assert btype == b"BIN\0"
        self.bin = data[28 + jlen : 28 + jlen + blen]

    def view(self, index: int) -> bytes:
        v = self.json["bufferViews"][index]
        start = v.get("byteOffset", 0)
        return self.bin[start : start + v["byteLength"]]

    def accessor(self, index: int) -> np.ndarray:
        a = self.json["accessors"][index]
        arr = np.frombuffer(
            self.view(a["bufferView"]),
            dtype=_DTYPES[a["componentType"]],
            count=a["count"] * _WIDTH[a["type"]],
            offset=a.get("byteOffset", 0),
        )
        return arr.reshape(a["count"], _WIDTH[a["type"]]) if _WIDTH[a["type"]] > 1 else arr

    @property
    def primitive(self) -> dict[str, Any]:
        return self.json["meshes"][0]["primitives"][0]

    def attribute(self, name: str) -> np.ndarray:
        return self.accessor(self.primitive["attributes"][name])

    @property
    def translation(self) -> np.ndarray:
        return np.array(self.json["nodes"][0].get("translation", [0, 0, 0]), dtype=np.float64)

    def property_table(self, index: int = 0) -> dict[str, list[Any]]:
        """Decode a property table into ``{property id: [values]}`` (noData as None)."""
        meta = self.json["extensions"]["EXT_structural_metadata"]
        table = meta["propertyTables"][index]
        cls = meta["schema"]["classes"][table["class"]]["properties"]
        out: dict[str, list[Any]] = {}
        n = table["count"]
        for pid, prop in table["properties"].items():
            spec = cls[pid]
            raw = self.view(prop["values"])
            if spec["type"] == "STRING":
                offs = np.frombuffer(self.view(prop["stringOffsets"]), dtype=np.uint32)
                vals: list[Any] = [raw[offs[i] : offs[i + 1]].decode() for i in range(n)]
            elif spec["type"] == "BOOLEAN":
                bits = np.unpackbits(np.frombuffer(raw, dtype=np.uint8), bitorder="little")
                vals = [bool(b) for b in bits[:n]]
            else:
                dtype = {"INT32": np.int32, "FLOAT64": np.float64}[spec["componentType"]]
                vals = np.frombuffer(raw, dtype=dtype, count=n).tolist()
            if "noData" in spec:
                vals = [None if v == spec["noData"] else v for v in vals]
            out[pid] = vals
        for pid in cls:  # a property left out of a tile has no value there
            out.setdefault(pid, [None] * n)
        return out

    def names(self, index: int = 0) -> dict[str, str]:
        """Property id -> the source attribute's name."""
        meta = self.json["extensions"]["EXT_structural_metadata"]
        cls = meta["schema"]["classes"][meta["propertyTables"][index]["class"]]
        return {pid: p.get("name", pid) for pid, p in cls["properties"].items()}

    def ecef_positions(self, root_transform: np.ndarray) -> np.ndarray:
        """Vertex positions in ECEF: node translation, glTF y-up to z-up, root transform."""
        local = self.attribute("POSITION").astype(np.float64) + self.translation
        zup = np.column_stack([local[:, 0], -local[:, 2], local[:, 1]])
        homo = np.column_stack([zup, np.ones(len(zup))])
        return (homo @ root_transform.T)[:, :3]


def root_transform(tileset: dict[str, Any]) -> np.ndarray:
    return (
        np.array(tileset["root"].get("transform", np.eye(4).reshape(-1).tolist()), dtype=np.float64)
        .reshape(4, 4)
        .T
    )


def content_uris(tile: dict[str, Any]) -> list[str]:
    uris = [tile["content"]["uri"]] if "content" in tile else []
    for child in tile.get("children", []):
        uris.extend(content_uris(child))
    return uris


def leaf_uris(tile: dict[str, Any]) -> list[str]:
    """Content of the tiles without children: every object once, at full detail."""
    if not tile.get("children"):
        return [tile["content"]["uri"]] if "content" in tile else []
    return [uri for child in tile["children"] for uri in leaf_uris(child)]


def load_tileset(out: Path, *, parents: bool = False) -> tuple[dict[str, Any], list[Glb]]:
    """The tileset and its leaf tiles' glbs (``parents=True``: every tile's, stand-ins too)."""
    tileset = json.loads((out / "tileset.json").read_text())
    uris = content_uris(tileset["root"]) if parents else leaf_uris(tileset["root"])
    return tileset, [Glb(out / uri) for uri in uris]
