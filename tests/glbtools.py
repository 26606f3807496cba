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
        #: A b3dm's feature table, batch table JSON and binary (3D Tiles 1.0); the glb
        #: embedded in it is what the rest of this class reads.
        self.feature_table: dict[str, Any] = {}
        self.batch_table: dict[str, Any] = {}
        self.batch_binary = b""
        if data[:4] == b"b3dm":
            data = self._unwrap_b3dm(data)
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

    def _unwrap_b3dm(self, data: bytes) -> bytes:
        magic, version, total, fj, fb, bj, bb = struct.unpack_from("<4s6I", data, 0)
        assert (magic, version, total) == (b"b3dm", 1, len(data))
        at = 28
        self.feature_table = json.loads(data[at : at + fj])
        at += fj + fb
        self.batch_table = json.loads(data[at : at + bj]) if bj else {}
        self.batch_binary = data[at + bj : at + bj + bb]
        self.glb_offset = at + bj + bb
        return data[self.glb_offset :]

    def batch_values(self, name: str) -> list[Any]:
        """One batch table property, from its JSON array or its binary body reference."""
        entry = self.batch_table[name]
        if isinstance(entry, list):
            return entry
        dtype = {"INT": "<i4", "DOUBLE": "<f8", "UNSIGNED_INT": "<u4", "FLOAT": "<f4"}
        n = int(self.feature_table["BATCH_LENGTH"])
        arr = np.frombuffer(
            self.batch_binary,
            dtype=dtype[entry["componentType"]],
            count=n,
            offset=entry["byteOffset"],
        )
        return arr.tolist()

    def view(self, index: int) -> bytes:
        v = self.json["bufferViews"][index]
        if "EXT_meshopt_compression" in v.get("extensions", {}):
            return meshopt_view(self.bin, v)
        start = v.get("byteOffset", 0)
        return self.bin[start : start + v["byteLength"]]

    def accessor(self, index: int) -> np.ndarray:
        """An accessor's values; quantised positions, normals and texture coordinates
        (KHR_mesh_quantization) come back as float, positions scaled by the node's scale
        (so ``+ translation`` places them, as for float positions)."""
        a = self.json["accessors"][index]
        width, dtype = _WIDTH[a["type"]], np.dtype(_DTYPES[a["componentType"]])
        stride = self.json["bufferViews"][a["bufferView"]].get("byteStride")
        if stride and stride != width * dtype.itemsize:  # padded rows (quantised data)
            rows = np.frombuffer(self.view(a["bufferView"]), dtype=np.uint8)
            rows = rows.reshape(-1, stride)[: a["count"]]
            start = a.get("byteOffset", 0)
            arr = rows[:, start : start + width * dtype.itemsize].copy().view(dtype).reshape(-1)
        else:
            arr = np.frombuffer(
                self.view(a["bufferView"]),
                dtype=dtype,
                count=a["count"] * width,
                offset=a.get("byteOffset", 0),
            )
        arr = arr.reshape(a["count"], width) if width > 1 else arr
        semantic = self._semantics().get(index, "")
        if a.get("normalized") and semantic.startswith(("POSITION", "NORMAL", "TEXCOORD_")):
            arr = dequantise(arr)
            if semantic == "POSITION":
                arr = arr * np.array(self.json["nodes"][0].get("scale", [1, 1, 1]))
        return arr

    def _semantics(self) -> dict[int, str]:
        return {
            i: name
            for mesh in self.json.get("meshes", [])
            for p in mesh["primitives"]
            for name, i in p["attributes"].items()
        }

    @property
    def primitive(self) -> dict[str, Any]:
        return self.json["meshes"][0]["primitives"][0]

    @property
    def primitives(self) -> list[dict[str, Any]]:
        return list(self.json["meshes"][0]["primitives"])

    def attribute(self, name: str) -> np.ndarray:
        """An attribute of every vertex, primitive after primitive (a textured tile has one
        primitive per material); every primitive must have it."""
        parts = [self.accessor(p["attributes"][name]) for p in self.primitives]
        return parts[0] if len(parts) == 1 else np.concatenate(parts)

    def primitive_attribute(self, primitive: int, name: str) -> np.ndarray:
        return self.accessor(self.primitives[primitive]["attributes"][name])

    def primitive_indices(self, primitive: int) -> np.ndarray:
        return self.accessor(self.primitives[primitive]["indices"]).astype(np.int64)

    def primitive_ecef(self, primitive: int, root_transform: np.ndarray) -> np.ndarray:
        return self._ecef(self.primitive_attribute(primitive, "POSITION"), root_transform)

    def image(self, texture: int) -> bytes:
        """The encoded bytes of the image a texture samples."""
        source = self.json["textures"][texture]["source"]
        return self.view(self.json["images"][source]["bufferView"])

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
        return self._ecef(self.attribute("POSITION"), root_transform)

    def _ecef(self, positions: np.ndarray, root_transform: np.ndarray) -> np.ndarray:
        local = positions.astype(np.float64) + self.translation
        zup = np.column_stack([local[:, 0], -local[:, 2], local[:, 1]])
        homo = np.column_stack([zup, np.ones(len(zup))])
        return (homo @ root_transform.T)[:, :3]


def dequantise(arr: np.ndarray) -> np.ndarray:
    """Normalized integers to float as glTF defines it (signed: max(c / max, -1))."""
    info = np.iinfo(arr.dtype)
    out = arr.astype(np.float64) / info.max
    return np.maximum(out, -1.0) if info.min < 0 else out


def meshopt_view(binary: bytes, view: dict[str, Any]) -> bytes:
    """A buffer view's bytes decoded from its EXT_meshopt_compression stream (buffer 0 is
    the GLB's BIN chunk), with the ``meshoptimizer`` package's decoder."""
    import meshoptimizer

    ext = view["extensions"]["EXT_meshopt_compression"]
    assert ext.get("buffer", 0) == 0
    assert ext.get("filter", "NONE") == "NONE"
    start = ext.get("byteOffset", 0)
    blob = binary[start : start + ext["byteLength"]]
    count, stride = ext["count"], ext["byteStride"]
    if ext["mode"] == "ATTRIBUTES":
        assert blob[0] == 0xA0, "vertex codec version 0"
        data = meshoptimizer.decode_vertex_buffer(count, stride, blob).tobytes()
    else:
        assert ext["mode"] == "TRIANGLES"
        assert blob[0] in (0xE0, 0xE1), "index codec version 0 or 1"
        indices = meshoptimizer.decode_index_buffer(count, 4, blob)
        data = indices.astype(np.uint16 if stride == 2 else np.uint32).tobytes()
    assert len(data) == count * stride == view["byteLength"]
    return data


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
