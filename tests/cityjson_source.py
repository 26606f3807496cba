"""Test helper: read a CityJSON file with plain ``json``, independently of ``tiles``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

_STANDARD = {
    "type",
    "geometry",
    "attributes",
    "children",
    "parents",
    "geographicalExtent",
    "children_roles",
}


def load(path: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """The header and all city objects of a CityJSON file or CityJSONSeq stream.

    Each object dict carries an extra ``"_real"`` array: the real coordinates of the
    vertex list its indices refer to.
    """
    text = path.read_text(encoding="utf-8")
    objects: dict[str, Any] = {}
    try:
        doc = json.loads(text)
        header = doc
        chunks = [(doc["CityObjects"], doc["vertices"])]
    except json.JSONDecodeError:
        lines = [json.loads(line) for line in text.splitlines() if line.strip()]
        header = lines[0]
        chunks = [(f["CityObjects"], f["vertices"]) for f in lines[1:]]
    tr = header.get("transform", {"scale": [1, 1, 1], "translate": [0, 0, 0]})
    scale, translate = np.array(tr["scale"]), np.array(tr["translate"])
    for cos, verts in chunks:
        real = np.asarray(verts, dtype=np.float64) * scale + translate
        for oid, obj in cos.items():
            obj = dict(obj)
            obj["_real"] = real
            objects[oid] = obj
    return header, objects


def merged_attributes(objects: dict[str, Any], oid: str) -> dict[str, Any]:
    obj = objects[oid]
    merged: dict[str, Any] = {}
    parents = obj.get("parents") or []
    if parents and parents[0] in objects:
        merged.update(merged_attributes(objects, parents[0]))
    merged.update({k: v for k, v in obj.items() if k not in _STANDARD and not k.startswith("_")})
    merged.update(obj.get("attributes") or {})
    return merged


def _lod(g: dict[str, Any]) -> tuple[int, ...]:
    return tuple(int(p) for p in str(g.get("lod", "0")).split("."))


def surface_vertices(obj: dict[str, Any]) -> np.ndarray:
    """Real coordinates of the vertices of every surface with an area, highest LoD."""
    geoms = [g for g in obj.get("geometry", []) if g["type"] != "GeometryInstance"]
    if not geoms:
        return np.zeros((0, 3))
    top = max(_lod(g) for g in geoms)
    rings: list[list[int]] = []

    def walk(node: Any) -> None:
        if node and all(isinstance(i, int) for i in node):
            rings.append(node)
        elif isinstance(node, list):
            for child in node:
                walk(child)

    for g in geoms:
        if _lod(g) == top:
            walk(g["boundaries"])
    real = obj["_real"]
    out = []
    for ring in rings:
        pts = real[ring]
        nxt = np.roll(pts - pts.mean(axis=0), -1, axis=0)
        cur = pts - pts.mean(axis=0)
        if np.linalg.norm(np.cross(cur, nxt).sum(axis=0)) > 1e-6:
            out.append(pts)
    return np.concatenate(out) if out else np.zeros((0, 3))
