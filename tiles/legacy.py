"""3D Tiles 1.0 output: each glb becomes a Batched 3D Model (``b3dm``).

https://github.com/CesiumGS/3d-tiles/tree/1.0/specification/TileFormats/Batched3DModel and
.../TileFormats/BatchTable. From the glb :mod:`tiles.gltf` writes:

* feature id set 0 (the objects) becomes the ``_BATCHID`` attribute; feature id set 1 (the
  semantic surfaces) and ``EXT_mesh_features`` / ``EXT_structural_metadata`` are dropped,
  with the buffer views only they used;
* property table 0 becomes the batch table: one entry per property, named after the source
  attribute (its property id if two share a name); numbers without missing values go to the
  binary body (``INT`` / ``DOUBLE`` scalars), everything else to JSON (``null`` where
  missing);
* the feature table holds ``BATCH_LENGTH``; placement stays in the tileset's root
  ``transform`` (no ``RTC_CENTER``).

Every section starts and ends on an 8-byte boundary, the embedded glb included.
``KHR_mesh_quantization`` may still be applied afterwards (it is a glTF extension, declared
in the glb's ``extensionsUsed``).
"""

from __future__ import annotations

import json
import struct
from typing import Any

import numpy as np

from .compress import glb_bytes, read_glb, view_bytes

FEATURES = "EXT_mesh_features"
METADATA = "EXT_structural_metadata"
HEADER = struct.Struct("<4s6I")  # magic, version, byteLength, 4 section lengths
_BINARY = {"INT32": ("INT", "<i4"), "FLOAT64": ("DOUBLE", "<f8")}


def to_legacy_glb(data: bytes) -> tuple[bytes, dict[str, Any], bytes, int]:
    """The glb for a b3dm, the batch table JSON and binary, and the batch length."""
    doc, binary = read_glb(data)
    meta = doc.get("extensions", {}).get(METADATA, {})
    tables = meta.get("propertyTables", [])
    table: dict[str, Any] = tables[0] if tables else {"class": "", "properties": {}, "count": 0}
    props = meta.get("schema", {}).get("classes", {}).get(table["class"], {}).get("properties", {})
    batch_json, batch_bin = _batch_table(doc, binary, table, props)
    for mesh in doc.get("meshes", []):
        for prim in mesh["primitives"]:
            attrs = prim["attributes"]
            ids = prim.get("extensions", {}).pop(FEATURES, {}).get("featureIds", [])
            kept = {f"_FEATURE_ID_{f['attribute']}": f for f in ids if "attribute" in f}
            batch = next((k for k, f in kept.items() if f.get("propertyTable", 0) == 0), None)
            for name in [n for n in attrs if n.startswith("_FEATURE_ID_")]:
                index = attrs.pop(name)
                if name == batch:
                    attrs["_BATCHID"] = index
            if not prim.get("extensions"):
                prim.pop("extensions", None)
    doc.get("extensions", {}).pop(METADATA, None)
    if not doc.get("extensions"):
        doc.pop("extensions", None)
    for key in ("extensionsUsed", "extensionsRequired"):
        if key in doc:
            doc[key] = [n for n in doc[key] if n not in (FEATURES, METADATA)]
            if not doc[key]:
                del doc[key]
    return glb_bytes(*_prune(doc, binary)), batch_json, batch_bin, int(table["count"])


def b3dm_bytes(
    glb: bytes, batch_json: dict[str, Any], batch_bin: bytes, batch_length: int
) -> bytes:
    """A b3dm: header, feature table (``BATCH_LENGTH``), batch table, glb; 8-byte aligned."""
    feature_json = _padded_json({"BATCH_LENGTH": batch_length}, HEADER.size)
    table_json = _padded_json(batch_json, HEADER.size + len(feature_json)) if batch_json else b""
    table_bin = batch_bin + b"\0" * ((-len(batch_bin)) % 8)
    glb = _glb_to_8(glb)
    total = HEADER.size + len(feature_json) + len(table_json) + len(table_bin) + len(glb)
    header = HEADER.pack(b"b3dm", 1, total, len(feature_json), 0, len(table_json), len(table_bin))
    return b"".join([header, feature_json, table_json, table_bin, glb])


def read_b3dm(data: bytes) -> tuple[dict[str, Any], dict[str, Any], bytes, bytes]:
    """Feature table JSON, batch table JSON and binary, and the glb of a b3dm."""
    magic, version, total, fj, fb, bj, bb = HEADER.unpack_from(data, 0)
    if magic != b"b3dm" or version != 1 or total != len(data):
        raise ValueError("not a b3dm version 1 of consistent length")
    at = HEADER.size
    feature = json.loads(data[at : at + fj])
    at += fj + fb
    batch = json.loads(data[at : at + bj]) if bj else {}
    at += bj
    return feature, batch, data[at : at + bb], data[at + bb :]


def _padded_json(doc: dict[str, Any], start: int) -> bytes:
    """JSON padded with spaces so that ``start`` + its length is a multiple of 8."""
    text = json.dumps(doc, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()
    return text + b" " * ((-(start + len(text))) % 8)


def _glb_to_8(glb: bytes) -> bytes:
    """The glb made a multiple of 8 bytes long (4 more spaces ending its JSON chunk)."""
    if len(glb) % 8 == 0:
        return glb
    jlen = struct.unpack_from("<I", glb, 12)[0]
    return b"".join(
        [
            struct.pack("<4sII", b"glTF", 2, len(glb) + 4),
            struct.pack("<I", jlen + 4),
            glb[16 : 20 + jlen],
            b"    ",
            glb[20 + jlen :],
        ]
    )


def _batch_table(
    doc: dict[str, Any], binary: bytes, table: dict[str, Any], props: dict[str, Any]
) -> tuple[dict[str, Any], bytes]:
    count = int(table["count"])
    out: dict[str, Any] = {}
    body = bytearray()
    for pid, prop in table["properties"].items():
        spec = props.get(pid, {})
        name = spec.get("name", pid)
        key = name if name not in out else pid
        raw = view_bytes(doc, binary, prop["values"])
        kind = spec.get("componentType") if spec.get("type") == "SCALAR" else spec.get("type")
        if kind == "STRING":
            offs = np.frombuffer(view_bytes(doc, binary, prop["stringOffsets"]), dtype=np.uint32)
            values: list[Any] = [raw[offs[i] : offs[i + 1]].decode() for i in range(count)]
        elif kind == "BOOLEAN":
            bits = np.unpackbits(np.frombuffer(raw, dtype=np.uint8), bitorder="little")
            values = [bool(b) for b in bits[:count]]
        elif kind in _BINARY:
            component, dtype = _BINARY[kind]
            array = np.frombuffer(raw, dtype=dtype, count=count)
            if "noData" not in spec or not (array == spec["noData"]).any():
                body.extend(b"\0" * ((-len(body)) % 8))
                out[key] = {"byteOffset": len(body), "componentType": component, "type": "SCALAR"}
                body.extend(array.tobytes())
                continue
            values = array.tolist()
        else:  # a type this writer does not produce: leave it out rather than guess
            continue
        if "noData" in spec:
            values = [None if v == spec["noData"] else v for v in values]
        out[key] = values
    for pid, spec in props.items():  # a property with no value in this tile
        key = spec.get("name", pid)
        if pid not in table["properties"] and key not in out:
            out[key] = [None] * count
    return out, bytes(body)


def _prune(doc: dict[str, Any], binary: bytes) -> tuple[dict[str, Any], bytes]:
    """Drop accessors and buffer views nothing refers to any more; repack the buffer."""
    used_acc = sorted(
        {i for m in doc["meshes"] for p in m["primitives"] for i in p["attributes"].values()}
        | {p["indices"] for m in doc["meshes"] for p in m["primitives"] if "indices" in p}
    )
    acc_of = {old: new for new, old in enumerate(used_acc)}
    accessors = [doc["accessors"][i] for i in used_acc]
    used_views = sorted(
        {a["bufferView"] for a in accessors if "bufferView" in a}
        | {im["bufferView"] for im in doc.get("images", []) if "bufferView" in im}
    )
    view_of = {old: new for new, old in enumerate(used_views)}
    parts: list[bytes] = []
    views = []
    length = 0
    for old in used_views:
        view = dict(doc["bufferViews"][old])
        chunk = view_bytes(doc, binary, old)
        pad = (-length) % 8
        parts.append(b"\0" * pad)
        length += pad
        view["byteOffset"] = length
        parts.append(chunk)
        length += len(chunk)
        views.append(view)
    for acc in accessors:
        acc["bufferView"] = view_of[acc["bufferView"]]
    for image in doc.get("images", []):
        if "bufferView" in image:
            image["bufferView"] = view_of[image["bufferView"]]
    for mesh in doc["meshes"]:
        for prim in mesh["primitives"]:
            prim["attributes"] = {k: acc_of[v] for k, v in prim["attributes"].items()}
            if "indices" in prim:
                prim["indices"] = acc_of[prim["indices"]]
    doc["accessors"], doc["bufferViews"] = accessors, views
    packed = b"".join(parts)
    doc["buffers"] = [{"byteLength": len(packed) + (-len(packed)) % 4}]
    return doc, packed


def b3dm_problems(data: bytes) -> list[str]:
    """What is wrong with a b3dm's header and layout (empty when nothing): magic, version,
    lengths, 8-byte alignment of every section and so of the glb's start, ``BATCH_LENGTH``,
    and a batch table with one value per batch id. The glb's *end* is not checked: Cesium's
    own 1.0 samples (ll.b3dm, ul.b3dm) leave it unaligned; twin's b3dm align it."""
    if len(data) < HEADER.size:
        return [f"{len(data)} bytes: shorter than the 28-byte header"]
    magic, version, total, fj, fb, bj, bb = HEADER.unpack_from(data, 0)
    if magic != b"b3dm" or version != 1:
        return [f"magic {magic!r} version {version}: not a b3dm version 1"]
    if total != len(data):
        return [f"byteLength {total} but the file has {len(data)} bytes"]
    if HEADER.size + fj + fb + bj + bb > total:
        return ["the feature and batch tables run past the end of the file"]
    problems = []
    ends = np.cumsum([HEADER.size, fj, fb, bj, bb])
    names = ("feature table JSON", "feature table binary", "batch table JSON", "batch table")
    problems += [
        f"the {n} does not end on an 8-byte boundary"
        for n, e in zip(names, ends[1:], strict=True)
        if e % 8
    ]
    try:
        feature, batch, _, glb = read_b3dm(data)
        length = feature["BATCH_LENGTH"]
        read_glb(glb)
    except (ValueError, KeyError, TypeError) as exc:  # JSONDecodeError is a ValueError
        return [*problems, f"unreadable: {exc}"[:200]]
    if not isinstance(length, int) or isinstance(length, bool) or length < 0:
        problems.append(f"BATCH_LENGTH {length!r} is not a count")
    for key, value in batch.items():
        if isinstance(value, list) and len(value) != length:
            problems.append(f"batch table {key!r} has {len(value)} values for {length} ids")
    return problems
