"""One glb per tile: positions, normals, colours, feature ids and a property table.

glTF 2.0 (https://registry.khronos.org/glTF/specs/2.0/glTF-2.0.html) with
``EXT_mesh_features`` (feature id set 0: objects, set 1: semantic surfaces) and
``EXT_structural_metadata`` (property table 0: every attribute of each object; table 1:
the surface types). glTF is y-up: a point (east, north, up) is written as
(east, up, -north); CesiumJS rotates it back to z-up.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .metadata import Property, Schema, column, encode
from .model import SURFACE_TYPES, Feature
from .style import SURFACE_PALETTE, type_rgba
from .textures import Appearance, TileTextures, pack_tile

GENERATOR = "twin"
_ARRAY_BUFFER, _ELEMENT_ARRAY_BUFFER = 34962, 34963
_FLOAT, _UBYTE, _UINT = 5126, 5121, 5125


@dataclass
class TileMesh:
    """Geometry of one tile in the local ENU frame (float64, metres)."""

    positions: NDArray[np.float64]
    triangles: NDArray[np.int64]
    surfaces: NDArray[np.int16]  # per triangle
    feature_of_vertex: NDArray[np.int64]
    features: list[Feature] = field(default_factory=list)
    #: Appearance (optional): model material per triangle (-1: styled), uv per vertex.
    materials: NDArray[np.int32] | None = None
    uvs: NDArray[np.float32] | None = None
    appearance: Appearance | None = None
    #: Parent tiles: the longest side of an image or atlas (None: the appearance's maximum,
    #: as for leaves) and linear RGBA per vertex replacing the styled colour where alpha > 0.
    texture_size: int | None = None
    colors: NDArray[np.uint8] | None = None


class _Builder:
    def __init__(self) -> None:
        self.chunks: list[bytes] = []
        self.length = 0
        self.views: list[dict[str, Any]] = []
        self.accessors: list[dict[str, Any]] = []

    def view(self, data: bytes, target: int | None = None) -> int:
        pad = (-self.length) % 8
        if pad:
            self.chunks.append(b"\0" * pad)
            self.length += pad
        view: dict[str, Any] = {"buffer": 0, "byteOffset": self.length, "byteLength": len(data)}
        if target is not None:
            view["target"] = target
        self.chunks.append(data)
        self.length += len(data)
        self.views.append(view)
        return len(self.views) - 1

    def accessor(
        self,
        arr: NDArray[Any],
        ctype: int,
        atype: str,
        target: int,
        *,
        normalized: bool = False,
        bounds: bool = False,
    ) -> int:
        acc: dict[str, Any] = {
            "bufferView": self.view(arr.tobytes(), target),
            "componentType": ctype,
            "count": int(arr.shape[0]),
            "type": atype,
        }
        if normalized:
            acc["normalized"] = True
        if bounds:
            acc["min"] = [float(v) for v in arr.min(axis=0)]
            acc["max"] = [float(v) for v in arr.max(axis=0)]
        self.accessors.append(acc)
        return len(self.accessors) - 1

    def binary(self) -> bytes:
        data = b"".join(self.chunks)
        return data + b"\0" * ((-len(data)) % 4)


def _normals(pos: NDArray[np.float64], tris: NDArray[np.int64]) -> NDArray[np.float32]:
    a, b, c = pos[tris[:, 0]], pos[tris[:, 1]], pos[tris[:, 2]]
    face = np.cross(b - a, c - a)
    normals = np.zeros_like(pos)
    for k in range(3):
        np.add.at(normals, tris[:, k], face)
    length = np.linalg.norm(normals, axis=1)
    bad = length < 1e-20
    normals[bad] = (0.0, 1.0, 0.0)
    length[bad] = 1.0
    unit: NDArray[np.float32] = (normals / length[:, None]).astype(np.float32)
    return unit


def write_glb(path: Path, tile: TileMesh, schema: Schema) -> tuple[int, list[float]]:
    """Write ``tile`` to ``path``; return the byte size and the glTF node translation."""
    enu = tile.positions
    yup = np.column_stack([enu[:, 0], enu[:, 2], -enu[:, 1]])
    centre = (yup.min(axis=0) + yup.max(axis=0)) / 2
    local = (yup - centre).astype(np.float32)
    tris = tile.triangles
    normals = _normals(local.astype(np.float64), tris)

    surf_of_vertex = np.zeros(enu.shape[0], dtype=np.int64)
    surf_of_vertex[tris.reshape(-1)] = np.repeat(tile.surfaces.astype(np.int64), 3)
    type_colour = np.array([type_rgba(f.type) for f in tile.features], dtype=np.uint8)
    colours = np.where(
        (surf_of_vertex > 0)[:, None],
        SURFACE_PALETTE[surf_of_vertex],
        type_colour[tile.feature_of_vertex],
    )
    if tile.colors is not None:
        colours = np.where(tile.colors[:, 3:4] > 0, tile.colors, colours)
    used_surfaces = np.unique(surf_of_vertex)
    surface_row = np.zeros(len(SURFACE_TYPES), dtype=np.int64)
    surface_row[used_surfaces] = np.arange(used_surfaces.size)

    b = _Builder()
    feature_ids = [
        {"featureCount": len(tile.features), "attribute": 0, "propertyTable": 0, "label": "object"},
        {
            "featureCount": int(used_surfaces.size),
            "attribute": 1,
            "propertyTable": 1,
            "label": "surface",
        },
    ]
    if tile.materials is not None and tile.appearance is not None and (tile.materials >= 0).any():
        per_vertex = (local, normals, colours, surface_row[surf_of_vertex])
        primitives, materials, extra = _textured(b, tile, per_vertex, feature_ids)
        return _finish(path, b, tile, schema, used_surfaces, centre, primitives, materials, extra)
    attributes = {
        "POSITION": b.accessor(local, _FLOAT, "VEC3", _ARRAY_BUFFER, bounds=True),
        "NORMAL": b.accessor(normals, _FLOAT, "VEC3", _ARRAY_BUFFER),
        "COLOR_0": b.accessor(
            np.ascontiguousarray(colours, dtype=np.uint8),
            _UBYTE,
            "VEC4",
            _ARRAY_BUFFER,
            normalized=True,
        ),
        "_FEATURE_ID_0": b.accessor(
            tile.feature_of_vertex.astype(np.float32), _FLOAT, "SCALAR", _ARRAY_BUFFER
        ),
        "_FEATURE_ID_1": b.accessor(
            surface_row[surf_of_vertex].astype(np.float32), _FLOAT, "SCALAR", _ARRAY_BUFFER
        ),
    }
    indices = b.accessor(tris.astype(np.uint32).reshape(-1), _UINT, "SCALAR", _ELEMENT_ARRAY_BUFFER)
    primitive = {
        "attributes": attributes,
        "indices": indices,
        "material": 0,
        "mode": 4,
        "extensions": {"EXT_mesh_features": {"featureIds": feature_ids}},
    }
    return _finish(path, b, tile, schema, used_surfaces, centre, [primitive], [_STYLED], {})


_STYLED: dict[str, Any] = {
    "pbrMetallicRoughness": {
        "baseColorFactor": [1, 1, 1, 1],
        "metallicFactor": 0.0,
        "roughnessFactor": 1.0,
    },
    "doubleSided": True,
}


def _finish(
    path: Path,
    b: _Builder,
    tile: TileMesh,
    schema: Schema,
    used_surfaces: NDArray[np.int64],
    centre: NDArray[np.float64],
    primitives: list[dict[str, Any]],
    materials: list[dict[str, Any]],
    extra: dict[str, Any],
) -> tuple[int, list[float]]:
    objects = _property_table(b, "cityobject", schema, tile.features)
    surfaces = {
        "class": "surface",
        "count": int(used_surfaces.size),
        "properties": {
            "surface": _column_views(
                b, encode(_SURFACE_PROP, [SURFACE_TYPES[i] or "none" for i in used_surfaces])
            )
        },
    }
    doc: dict[str, Any] = {
        "asset": {"version": "2.0", "generator": GENERATOR},
        "extensionsUsed": ["EXT_mesh_features", "EXT_structural_metadata"],
        "scene": 0,
        "scenes": [{"nodes": [0]}],
        "nodes": [{"mesh": 0, "translation": [float(v) for v in centre]}],
        "materials": materials,
        "meshes": [{"primitives": primitives}],
        "extensions": {
            "EXT_structural_metadata": {
                "schema": {
                    "id": "twin",
                    "classes": {
                        "cityobject": schema.class_json(),
                        "surface": {
                            "name": "Semantic surface",
                            "properties": {"surface": {"type": "STRING", "name": "surface"}},
                        },
                    },
                },
                "propertyTables": [objects, surfaces],
            }
        },
    }
    doc.update(extra)
    binary = b.binary()
    doc["buffers"] = [{"byteLength": len(binary)}]
    doc["bufferViews"] = b.views
    doc["accessors"] = b.accessors
    data = _glb(doc, binary)
    path.write_bytes(data)
    return len(data), [float(v) for v in centre]


_SURFACE_PROP = Property("surface", "surface", "STRING")


def _column_views(b: _Builder, arrays: dict[str, NDArray[Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {"values": b.view(arrays["values"].tobytes())}
    if "stringOffsets" in arrays:
        out["stringOffsets"] = b.view(arrays["stringOffsets"].tobytes())
    return out


def _property_table(
    b: _Builder, cls: str, schema: Schema, features: list[Feature]
) -> dict[str, Any]:
    props = {}
    for p in schema.properties:
        values = column(p, features)
        # A column with no value in this tile is left out (allowed for optional
        # properties; readers return noData), which also avoids empty buffer views.
        if p.id in ("id", "type") or any(v is not None and v != "" for v in values):
            props[p.id] = _column_views(b, encode(p, values))
    return {"class": cls, "count": len(features), "properties": props}


def _glb(doc: dict[str, Any], binary: bytes) -> bytes:
    js = json.dumps(doc, separators=(",", ":"), allow_nan=False).encode()
    js += b" " * ((-len(js)) % 4)
    total = 12 + 8 + len(js) + 8 + len(binary)
    return b"".join(
        [
            struct.pack("<4sII", b"glTF", 2, total),
            struct.pack("<I4s", len(js), b"JSON"),
            js,
            struct.pack("<I4s", len(binary), b"BIN\0"),
            binary,
        ]
    )


def _textured(
    b: _Builder,
    tile: TileMesh,
    per_vertex: tuple[NDArray[Any], ...],
    feature_ids: list[dict[str, Any]],
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, Any]]:
    """One primitive per material: styled triangles (-1) keep the vertex colours, the
    others get their material's colour and texture; feature ids on every primitive."""
    assert tile.materials is not None
    assert tile.appearance is not None
    app = tile.appearance
    local, normals, colours, surface_ids = per_vertex
    uvs = tile.uvs if tile.uvs is not None else np.zeros((local.shape[0], 2), np.float32)
    groups: dict[int, NDArray[np.int64]] = {}
    order = np.argsort(tile.materials, kind="stable")
    keys, starts = np.unique(tile.materials[order], return_index=True)
    for k, s, e in zip(keys.tolist(), starts, [*starts[1:], order.size], strict=True):
        groups[k] = tile.triangles[order[s:e]]
    vertex_sets = {m: np.unique(t) for m, t in groups.items()}
    textured = {
        m: uvs[v] for m, v in vertex_sets.items() if m >= 0 and app.materials[m].image is not None
    }
    tex = pack_tile(app, textured, max_size=tile.texture_size)
    primitives: list[dict[str, Any]] = []
    materials: list[dict[str, Any]] = []
    for m, tris in groups.items():
        verts = vertex_sets[m]
        remap = np.zeros(local.shape[0], dtype=np.int64)
        remap[verts] = np.arange(verts.size)
        attributes = {
            "POSITION": b.accessor(local[verts], _FLOAT, "VEC3", _ARRAY_BUFFER, bounds=True),
            "NORMAL": b.accessor(normals[verts], _FLOAT, "VEC3", _ARRAY_BUFFER),
        }
        if m < 0:
            attributes["COLOR_0"] = b.accessor(
                np.ascontiguousarray(colours[verts], dtype=np.uint8),
                _UBYTE,
                "VEC4",
                _ARRAY_BUFFER,
                normalized=True,
            )
        elif m in tex.texture_of:
            attributes["TEXCOORD_0"] = b.accessor(
                tex.uv(m, uvs[verts]), _FLOAT, "VEC2", _ARRAY_BUFFER
            )
        attributes["_FEATURE_ID_0"] = b.accessor(
            tile.feature_of_vertex[verts].astype(np.float32), _FLOAT, "SCALAR", _ARRAY_BUFFER
        )
        attributes["_FEATURE_ID_1"] = b.accessor(
            surface_ids[verts].astype(np.float32), _FLOAT, "SCALAR", _ARRAY_BUFFER
        )
        indices = b.accessor(
            remap[tris].astype(np.uint32).reshape(-1), _UINT, "SCALAR", _ELEMENT_ARRAY_BUFFER
        )
        materials.append(_STYLED if m < 0 else _material(app, m, tex))
        primitives.append(
            {
                "attributes": attributes,
                "indices": indices,
                "material": len(materials) - 1,
                "mode": 4,
                "extensions": {"EXT_mesh_features": {"featureIds": feature_ids}},
            }
        )
    extra: dict[str, Any] = {}
    if tex.images:
        extra["images"] = [
            {"bufferView": b.view(data), "mimeType": mime} for data, mime in tex.images
        ]
        extra["textures"] = tex.textures
        extra["samplers"] = tex.samplers
    return primitives, materials, extra


def _material(app: Appearance, m: int, tex: TileTextures) -> dict[str, Any]:
    """A source material: its colour (sRGB to linear) or, textured, its image."""
    mat = app.materials[m]
    r, g, bl, alpha = mat.color
    pbr: dict[str, Any] = {"metallicFactor": 0.0, "roughnessFactor": 1.0}
    out: dict[str, Any] = {"name": mat.name[:200], "pbrMetallicRoughness": pbr}
    if m in tex.texture_of:
        pbr["baseColorTexture"] = {"index": tex.texture_of[m], "texCoord": 0}
        pbr["baseColorFactor"] = [1.0, 1.0, 1.0, alpha]
    else:
        pbr["baseColorFactor"] = [*(_linear(c) for c in (r, g, bl)), alpha]
    if alpha < 1.0 or tex.alpha.get(m, False):
        out["alphaMode"] = "BLEND"
    out["doubleSided"] = mat.double_sided
    return out


def _linear(c: float) -> float:
    c = min(max(float(c), 0.0), 1.0)
    return round(c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4, 6)
