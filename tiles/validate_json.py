"""JSON-level helpers for :mod:`tiles.validate`: strict reading, non-finite numbers and
the extensions a tileset actually uses.

3D Tiles 1.1, "JSON encoding": UTF-8 without BOM, unique keys; JSON itself has no
NaN or Infinity (Python's ``json`` accepts them, so they are read and then reported).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

#: (code, message) pairs, the shape :mod:`tiles.validate` turns into issues.
Problems = list[tuple[str, str]]


def read_json(file: Path) -> tuple[Any, Problems]:
    """The parsed document (``None`` when unusable) and what is wrong with the file."""
    try:
        raw = file.read_bytes()
    except OSError as exc:
        return None, [("tileset_missing", f"cannot read {file.name}: {exc.strerror}")]
    if raw.startswith(b"\xef\xbb\xbf"):
        return None, [("invalid_json", "starts with a byte order mark (3D Tiles forbids it)")]
    duplicates: list[str] = []

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        result = dict(items)
        if len(result) != len(items):
            seen: set[str] = set()
            for key, _ in items:
                if key in seen:
                    duplicates.append(key)
                seen.add(key)
        return result

    try:
        doc = json.loads(
            raw.decode("utf-8"), object_pairs_hook=pairs, parse_constant=float, parse_int=_integer
        )
    except UnicodeDecodeError as exc:
        return None, [("invalid_json", f"not UTF-8 at byte {exc.start}")]
    except (ValueError, RecursionError) as exc:
        return None, [("invalid_json", f"not valid JSON: {exc}")]
    problems = [
        ("duplicate_key", f"key {key!r} appears twice in one object") for key in duplicates[:10]
    ]
    return doc, problems


def _integer(text: str) -> int | float:
    """Integers beyond float range become infinity, reported like NaN (not a crash later)."""
    value = int(text)
    return value if abs(value) < 2**1023 else float(text)


def non_finite(doc: object) -> Iterator[tuple[str, float]]:
    """``(path, value)`` of every NaN or infinite number (1e400 reads as infinity)."""
    stack: list[tuple[object, str]] = [(doc, "")]
    while stack:
        node, path = stack.pop()
        items = (
            node.items()
            if isinstance(node, dict)
            else enumerate(node)
            if isinstance(node, list)
            else ()
        )
        for key, value in items:
            if isinstance(value, dict | list):
                stack.append((value, join(path, key)))
            elif isinstance(value, float) and not math.isfinite(value):
                yield join(path, key), value


def extensions_found(doc: dict[str, Any], version: object) -> set[str]:
    """Names of every ``extensions`` object outside ``extras``; in a 1.0 tileset glTF
    content counts as ``3DTILES_content_gltf`` (as the 3d-tiles-validator does)."""
    found: set[str] = set()
    stack: list[object] = [doc]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            extensions = node.get("extensions")
            if isinstance(extensions, dict):
                found.update(extensions)
            uri = node.get("uri")
            if (
                version == "1.0"
                and isinstance(uri, str)
                and uri.lower().endswith((".glb", ".gltf"))
            ):
                found.add("3DTILES_content_gltf")
            stack.extend(v for k, v in node.items() if k != "extras")
        elif isinstance(node, list):
            stack.extend(node)
    return found


def join(path: str, key: object) -> str:
    """``root`` + ``children`` → ``root.children``; + 2 → ``root.children[2]``."""
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else str(key)
