"""``tileset.json`` for 3D Tiles 1.1 (https://docs.ogc.org/cs/22-025r4/22-025r4.html)."""

from __future__ import annotations

from typing import Any

import numpy as np

from .georef import LocalFrame
from .tiling import Node

#: A tile's geometric error is its box diagonal divided by this: it sets how near the camera
#: must be before a tile's children replace its simplified stand-ins (CesiumJS refines at
#: ~104 x geometric error: about 13 x the tile's diagonal).
ERROR_DIVISOR = 8.0
MIN_HALF_SIZE = 0.05  # metres: flat features (roads, water) still get a volume


def box(node: Node) -> list[float]:
    centre = (node.lo + node.hi) / 2
    half = np.maximum((node.hi - node.lo) / 2, MIN_HALF_SIZE)
    return [float(v) for v in (*centre, half[0], 0, 0, 0, half[1], 0, 0, 0, half[2])]


def geometric_error(node: Node) -> float:
    if node.is_leaf:
        return 0.0
    return round(max(node.diagonal / ERROR_DIVISOR, 1.0), 3)


def _tile(node: Node, contents: dict[str, str]) -> dict[str, Any]:
    tile: dict[str, Any] = {
        "boundingVolume": {"box": box(node)},
        "geometricError": geometric_error(node),
    }
    if node.address in contents:
        tile["content"] = {"uri": contents[node.address]}
    if node.children:
        tile["children"] = [_tile(c, contents) for c in node.children]
    return tile


def tileset_json(
    root: Node, frame: LocalFrame, contents: dict[str, str], extras: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The tileset: ENU boxes under a root ``transform`` to ECEF.

    Parents with content hold simplified stand-ins that their children replace
    (``REPLACE``); without any, children add to empty parents (``ADD``).
    """
    tile = _tile(root, contents)
    tile["transform"] = frame.matrix()
    parents_with_content = any(n.address in contents for n in root.walk() if not n.is_leaf)
    tile["refine"] = "REPLACE" if parents_with_content else "ADD"
    doc: dict[str, Any] = {
        "asset": {"version": "1.1", "generator": "twin"},
        "geometricError": round(max(root.diagonal, 1.0), 3),
        "root": tile,
    }
    if extras:
        doc["asset"]["extras"] = extras
    return doc
