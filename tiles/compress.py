"""Compression of a written glb: ``KHR_mesh_quantization`` and ``EXT_meshopt_compression``.

A post-processing pass over the glb :mod:`tiles.gltf` writes (its JSON and BIN chunk are
parsed, the geometry rewritten, the file written back), so the writer stays simple:

* ``POSITION``: normalized ``SHORT`` (stride 8). The glTF node's ``scale`` (uniform, so
  normals stay right) and ``translation`` carry the dequantisation. One step is the
  tile's largest half extent / 32767; when that step would exceed :data:`MAX_STEP`
  (a tile wider than about 327 m) positions stay ``FLOAT``. Values round to the nearest
  step but never outside the tile's positions' bounds, so a vertex moves by at most one
  step (5 mm), half a step (2.5 mm) for all but the outermost.
* ``NORMAL``: normalized ``BYTE`` (stride 4). ``TEXCOORD_n``: normalized
  ``UNSIGNED_SHORT`` when every value lies in [0, 1]. Feature ids (``_FEATURE_ID_n``,
  ``_BATCHID``): ``UNSIGNED_SHORT`` when they are integers below 65536. Indices:
  ``UNSIGNED_SHORT`` below 65536 vertices. ``COLOR_0`` is already bytes.
* With ``meshopt`` (opt-in: ``--meshopt``) every vertex and index buffer view is then
  meshopt-encoded (bitstream from the optional
  ``meshoptimizer`` package: vertex codec version 0, index codec version 1, the ones
  ``EXT_meshopt_compression`` defines). The encoded streams live in the GLB's buffer 0;
  the decoded views point into a second *fallback* buffer without ``uri`` (so both
  extensions are in ``extensionsRequired``). Property tables and images stay as they are.

https://github.com/KhronosGroup/glTF/tree/main/extensions/2.0/Khronos/KHR_mesh_quantization
https://github.com/KhronosGroup/glTF/tree/main/extensions/2.0/Vendor/EXT_meshopt_compression
"""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .errors import InputError
from .options import ConvertOptions

QUANTIZATION = "KHR_mesh_quantization"
MESHOPT = "EXT_meshopt_compression"
#: Largest quantisation step of positions (metres); coarser tiles keep float positions.
MAX_STEP = 0.005
_ARRAY_BUFFER, _ELEMENT_ARRAY_BUFFER = 34962, 34963
_BYTE, _UBYTE, _SHORT, _USHORT, _UINT, _FLOAT = 5120, 5121, 5122, 5123, 5125, 5126
_DTYPES: dict[int, type[np.generic]] = {
    _BYTE: np.int8,
    _UBYTE: np.uint8,
    _SHORT: np.int16,
    _USHORT: np.uint16,
    _UINT: np.uint32,
    _FLOAT: np.float32,
}
_WIDTH = {"SCALAR": 1, "VEC2": 2, "VEC3": 3, "VEC4": 4}


def read_glb(data: bytes) -> tuple[dict[str, Any], bytes]:
    """The JSON document and BIN chunk of a glb (``ValueError`` if it is not one)."""
    if len(data) < 20 or data[:4] != b"glTF":
        raise ValueError("not a glb")
    _, _, total = struct.unpack_from("<4sII", data, 0)
    jlen, jtype = struct.unpack_from("<I4s", data, 12)
    if jtype != b"JSON" or total != len(data):
        raise ValueError("malformed glb header")
    doc: dict[str, Any] = json.loads(data[20 : 20 + jlen])
    binary = b""
    if 20 + jlen + 8 <= len(data):
        blen, btype = struct.unpack_from("<I4s", data, 20 + jlen)
        if btype == b"BIN\0":
            binary = data[28 + jlen : 28 + jlen + blen]
    return doc, binary


def glb_bytes(doc: dict[str, Any], binary: bytes) -> bytes:
    """A glb of ``doc`` and ``binary`` (both chunks padded to 4 bytes)."""
    js = json.dumps(doc, separators=(",", ":"), allow_nan=False).encode()
    js += b" " * ((-len(js)) % 4)
    binary += b"\0" * ((-len(binary)) % 4)
    chunks = [struct.pack("<I4s", len(js), b"JSON"), js]
    if binary:
        chunks += [struct.pack("<I4s", len(binary), b"BIN\0"), binary]
    total = 12 + sum(len(c) for c in chunks)
    return b"".join([struct.pack("<4sII", b"glTF", 2, total), *chunks])


def view_bytes(doc: dict[str, Any], binary: bytes, index: int) -> bytes:
    view = doc["bufferViews"][index]
    start = view.get("byteOffset", 0)
    return binary[start : start + view["byteLength"]]


def accessor_array(doc: dict[str, Any], binary: bytes, index: int) -> NDArray[Any]:
    """A tightly packed accessor's values, ``(count, width)`` (``(count,)`` for scalars)."""
    acc = doc["accessors"][index]
    width = _WIDTH[acc["type"]]
    arr = np.frombuffer(
        view_bytes(doc, binary, acc["bufferView"]),
        dtype=_DTYPES[acc["componentType"]],
        count=acc["count"] * width,
        offset=acc.get("byteOffset", 0),
    )
    return arr.reshape(acc["count"], width) if width > 1 else arr


class _Views:
    """The rewritten buffer views: raw ones for buffer 0, vertex/index ones maybe encoded."""

    def __init__(self) -> None:
        self.views: list[dict[str, Any]] = []
        self.data: list[bytes] = []
        self.geometry: list[tuple[int, int, str]] = []  # view, count, mode

    def add(self, data: bytes, target: int | None = None, stride: int | None = None) -> int:
        view: dict[str, Any] = {"buffer": 0, "byteLength": len(data)}
        if stride is not None:
            view["byteStride"] = stride
        if target is not None:
            view["target"] = target
        self.views.append(view)
        self.data.append(data)
        return len(self.views) - 1

    def vertex(self, arr: NDArray[Any]) -> int:
        """Per-vertex elements as rows of ``arr`` (padded to a multiple of 4 bytes)."""
        rows = np.ascontiguousarray(arr.reshape(arr.shape[0], -1))
        stride = rows.itemsize * rows.shape[1]
        pad = (-stride) % 4
        if pad:
            rows = np.concatenate(
                [rows, np.zeros((rows.shape[0], pad // rows.itemsize), rows.dtype)], axis=1
            )
            stride += pad
        index = self.add(rows.tobytes(), _ARRAY_BUFFER, stride)
        self.geometry.append((index, rows.shape[0], "ATTRIBUTES"))
        return index

    def indices(self, arr: NDArray[Any]) -> int:
        index = self.add(np.ascontiguousarray(arr).tobytes(), _ELEMENT_ARRAY_BUFFER)
        self.geometry.append((index, arr.size, "TRIANGLES"))
        return index


def compress_glb(data: bytes, *, meshopt: bool = True) -> bytes:
    """``data`` (a glb from :mod:`tiles.gltf`) quantised and, with ``meshopt``, encoded.

    A glb this pass does not understand (already compressed, strided or sparse data, no
    single mesh node) is returned unchanged."""
    doc, binary = read_glb(data)
    if not _plain(doc):
        return data
    out = _Views()
    new_of: dict[int, int] = {}  # old view -> new view for data kept as it is
    accessors = doc["accessors"]
    done: set[int] = set()
    node = doc["nodes"][0]
    prims = [p for m in doc["meshes"] for p in m["primitives"]]
    scale = _position_scale(doc, binary, prims)
    if scale is not None:
        half, mid = scale
        moved = zip(node.get("translation", [0.0, 0.0, 0.0]), mid, strict=True)
        node["translation"] = [float(a + b) for a, b in moved]
        node["scale"] = [half, half, half]
    for prim in prims:
        for name, index in prim["attributes"].items():
            if index not in done:
                done.add(index)
                _attribute(doc, binary, out, name, index, scale)
        if "indices" in prim and prim["indices"] not in done:
            done.add(prim["indices"])
            _indices(doc, binary, out, prim["indices"])
    # Core glTF allows normalized UNSIGNED_SHORT texture coordinates; SHORT positions and
    # BYTE normals need the extension.
    quantised = any(
        accessors[i]["componentType"] != _FLOAT
        for p in prims
        for name, i in p["attributes"].items()
        if name in ("POSITION", "NORMAL")
    )
    for old in range(len(doc["bufferViews"])):
        if any(a.get("bufferView") == old and i in done for i, a in enumerate(accessors)):
            continue
        view = doc["bufferViews"][old]
        new_of[old] = out.add(view_bytes(doc, binary, old), view.get("target"))
    _renumber(doc, new_of, done)
    if quantised:
        _declare(doc, QUANTIZATION)
    doc["bufferViews"] = out.views
    if meshopt and out.geometry:
        binary_out = _encode(doc, out)
    else:
        binary_out = _pack(out.views, out.data)
        doc["buffers"] = [{"byteLength": len(binary_out)}]
    return glb_bytes(doc, binary_out)


def compress_file(path: Path, *, meshopt: bool = True) -> int:
    """Compress the glb at ``path`` in place; return its new size in bytes."""
    data = compress_glb(path.read_bytes(), meshopt=meshopt)
    path.write_bytes(data)
    return len(data)


def finish_tile(staging: Path, uri: str, options: ConvertOptions) -> tuple[str, int]:
    """The last step of writing a tile's glb at ``staging / uri``: 3D Tiles 1.0 (a b3dm
    replaces it) and compression, as ``options`` say; return the final uri and size."""
    path = staging / uri
    if options.tiles_version == "1.0":
        from .legacy import b3dm_bytes, to_legacy_glb

        glb, batch_json, batch_bin, length = to_legacy_glb(path.read_bytes())
        if options.compression:  # quantisation only: 1.0-era clients seldom decode meshopt
            glb = compress_glb(glb, meshopt=False)
        path.unlink()
        uri = uri.removesuffix(".glb") + ".b3dm"
        data = b3dm_bytes(glb, batch_json, batch_bin, length)
        (staging / uri).write_bytes(data)
        return uri, len(data)
    if options.compression:
        return uri, compress_file(path, meshopt=options.meshopt)
    return uri, path.stat().st_size


def _plain(doc: dict[str, Any]) -> bool:
    used = set(doc.get("extensionsUsed", []))
    nodes = doc.get("nodes", [])
    views = doc.get("bufferViews", [])
    return (
        not used & {QUANTIZATION, MESHOPT, "KHR_draco_mesh_compression"}
        and len(doc.get("buffers", [])) == 1
        and len(nodes) == 1
        and len(doc.get("meshes", [])) == 1
        and set(nodes[0]) <= {"mesh", "translation", "name"}
        and all("byteStride" not in v and v.get("buffer", 0) == 0 for v in views)
        and all("sparse" not in a and "bufferView" in a for a in doc.get("accessors", []))
    )


def _position_scale(
    doc: dict[str, Any], binary: bytes, prims: list[dict[str, Any]]
) -> tuple[float, NDArray[np.float64]] | None:
    """Half the largest extent and the centre of every position, if quantisable."""
    parts = [
        accessor_array(doc, binary, p["attributes"]["POSITION"]).astype(np.float64)
        for p in prims
        if "POSITION" in p["attributes"]
        and doc["accessors"][p["attributes"]["POSITION"]]["componentType"] == _FLOAT
    ]
    if not parts or len(parts) != len(prims):
        return None
    lo = np.min([p.min(axis=0) for p in parts], axis=0)
    hi = np.max([p.max(axis=0) for p in parts], axis=0)
    mid = (lo + hi) / 2
    half = float(max((hi - lo).max() / 2, 1e-3))
    if half / 32767 > MAX_STEP:
        return None
    return half, mid


def _attribute(
    doc: dict[str, Any],
    binary: bytes,
    out: _Views,
    name: str,
    index: int,
    scale: tuple[float, NDArray[np.float64]] | None,
) -> None:
    acc = doc["accessors"][index]
    arr = accessor_array(doc, binary, index)
    acc.pop("byteOffset", None)
    floats = acc["componentType"] == _FLOAT
    if name == "POSITION" and scale is not None and floats:
        half, mid = scale
        scaled = (arr.astype(np.float64) - mid) / half * 32767
        # Round to the nearest step, but never outside the positions' own bounds (the
        # tile's bounding volume holds them): an extreme vertex moves inward, by < 1 step.
        inside = np.ceil(scaled.min(axis=0) - 1e-6), np.floor(scaled.max(axis=0) + 1e-6)
        q16 = np.clip(np.rint(scaled), *inside).astype(np.int16)
        acc.update(componentType=_SHORT, normalized=True)
        acc["min"] = [int(v) for v in q16.min(axis=0)]
        acc["max"] = [int(v) for v in q16.max(axis=0)]
        acc["bufferView"] = out.vertex(q16)
    elif name == "NORMAL" and floats:
        q8 = np.clip(np.rint(arr * 127), -127, 127).astype(np.int8)
        acc.update(componentType=_BYTE, normalized=True)
        acc["bufferView"] = out.vertex(q8)
    elif name.startswith("TEXCOORD_") and floats and arr.size and 0 <= arr.min() <= arr.max() <= 1:
        acc.update(componentType=_USHORT, normalized=True)
        acc["bufferView"] = out.vertex(np.rint(arr * 65535).astype(np.uint16))
    elif _is_feature_id(name) and floats and _small_integers(arr):
        acc["componentType"] = _USHORT
        acc["bufferView"] = out.vertex(arr.astype(np.uint16))
    else:
        acc["bufferView"] = out.vertex(arr)


def _is_feature_id(name: str) -> bool:
    return name.startswith("_FEATURE_ID_") or name == "_BATCHID"


def _small_integers(arr: NDArray[Any]) -> bool:
    return bool(arr.size == 0 or (arr.min() >= 0 and arr.max() < 65536 and (arr % 1 == 0).all()))


def _indices(doc: dict[str, Any], binary: bytes, out: _Views, index: int) -> None:
    acc = doc["accessors"][index]
    arr = accessor_array(doc, binary, index)
    acc.pop("byteOffset", None)
    if arr.size and int(arr.max()) < 65536 and acc["componentType"] == _UINT:
        arr = arr.astype(np.uint16)
        acc["componentType"] = _USHORT
    acc["bufferView"] = out.indices(arr)


def _renumber(doc: dict[str, Any], new_of: dict[int, int], done: set[int]) -> None:
    """Point everything outside the geometry (property tables, images) at its new view."""
    for i, acc in enumerate(doc["accessors"]):
        if i not in done:
            acc["bufferView"] = new_of[acc["bufferView"]]
    for image in doc.get("images", []):
        if "bufferView" in image:
            image["bufferView"] = new_of[image["bufferView"]]
    meta = doc.get("extensions", {}).get("EXT_structural_metadata", {})
    for table in meta.get("propertyTables", []):
        for prop in table.get("properties", {}).values():
            for key in ("values", "arrayOffsets", "stringOffsets"):
                if key in prop:
                    prop[key] = new_of[prop[key]]


def _declare(doc: dict[str, Any], name: str) -> None:
    for key in ("extensionsUsed", "extensionsRequired"):
        names = doc.setdefault(key, [])
        if name not in names:
            names.append(name)


def _pack(views: list[dict[str, Any]], data: list[bytes]) -> bytes:
    """Concatenate views 8-byte aligned into one buffer, setting each view's offset."""
    parts: list[bytes] = []
    length = 0
    for view, chunk in zip(views, data, strict=True):
        pad = (-length) % 8
        parts.append(b"\0" * pad)
        length += pad
        view["byteOffset"] = length
        parts.append(chunk)
        length += len(chunk)
    return b"".join(parts)


def _encode(doc: dict[str, Any], out: _Views) -> bytes:
    """Meshopt-encode the geometry views into buffer 0; their decoded form is buffer 1."""
    try:  # the C library's encoder; optional (``--meshopt``), so imported only here
        import meshoptimizer
    except ImportError as exc:
        raise InputError(
            "meshopt compression needs the Python package meshoptimizer "
            "(pip install meshoptimizer); convert without --meshopt instead"
        ) from exc

    meshoptimizer.encode_vertex_version(0)  # EXT_meshopt_compression knows version 0 only
    out.geometry = [g for g in out.geometry if g[1] > 0]  # nothing to encode: left plain
    encoded_views = {view for view, _, _ in out.geometry}
    fallback_views = [out.views[i] for i in sorted(encoded_views)]
    fallback_length = len(_pack(fallback_views, [out.data[i] for i in sorted(encoded_views)]))
    stored: list[bytes] = []
    info: dict[int, dict[str, Any]] = {}
    for view, count, mode in out.geometry:
        raw = out.data[view]
        stride = out.views[view].get("byteStride") or len(raw) // max(count, 1)
        if mode == "TRIANGLES":
            stride = 2 if len(raw) == 2 * count else 4
            dtype = np.uint16 if stride == 2 else np.uint32
            indices = np.frombuffer(raw, dtype=dtype).astype(np.uint32)
            blob = meshoptimizer.encode_index_buffer(indices, count, int(indices.max()) + 1)
        else:
            blob = meshoptimizer.encode_vertex_buffer(
                np.frombuffer(raw, dtype=np.uint8).reshape(count, stride), count, stride
            )
        info[view] = {"count": count, "mode": mode, "byteStride": stride}
        stored.append(blob)
    plain = [i for i in range(len(out.views)) if i not in encoded_views]
    order = plain + [view for view, _, _ in out.geometry]
    chunks = [out.data[i] for i in plain] + stored
    holders: list[dict[str, Any]] = [{} for _ in order]
    binary = _pack(holders, chunks)
    for i, holder, chunk in zip(order, holders, chunks, strict=True):
        target = out.views[i]
        if i in encoded_views:
            ext = {"buffer": 0, "byteOffset": holder["byteOffset"], "byteLength": len(chunk)}
            ext.update(info[i])
            target["buffer"] = 1
            target.setdefault("extensions", {})[MESHOPT] = ext
        else:
            target["byteOffset"] = holder["byteOffset"]
    doc["buffers"] = [
        {"byteLength": len(binary)},
        {"byteLength": fallback_length, "extensions": {MESHOPT: {"fallback": True}}},
    ]
    _declare(doc, MESHOPT)
    return binary
