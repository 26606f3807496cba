"""The files a mesh needs beside it: MTL, textures, glTF buffers, offset file, metadata.xml.

``twin import model.obj`` copies the source into the job's staging folder; a mesh also
needs these companions there, at the same relative paths. Only files under the mesh's
own folder are listed (the same rule as reading: nothing outside it, no URLs); an
export's ``../../metadata.xml`` (ContextCapture) is copied to sit beside the mesh.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from .mesh import kind_of
from .mesh_place import METADATA_XML, _metadata_xml, _offset_files

_MAX_TEXT = 64 * 1024**2  # an OBJ larger than this is scanned for mtllib in its head only
_MTLLIB = re.compile(r"^\s*mtllib\s+(.+?)\s*$", re.M)
_MAP = re.compile(r"^\s*(?:map_\w+|bump|disp|decal|refl)\s+(.+?)\s*$", re.M | re.I)
_PLY_TEXTURE = re.compile(r"^comment\s+TextureFile\s+(.+?)\s*$", re.M)


def companions(path: Path, stem: str | None = None) -> list[tuple[Path, str]]:
    """``(file, relative destination)`` for every companion of the mesh at ``path``.

    ``stem``: the name the mesh will have in its new folder (offset files follow it).
    """
    with path.open("rb") as fh:
        head = fh.read(64 * 1024)
    kind = kind_of(path, head)
    if kind is None:
        return []
    root = path.parent.resolve()
    names: list[str] = []
    if kind == "obj":
        for mtl in _MTLLIB.findall(_text(path)):
            names.append(mtl)
            found = _under(root, mtl)
            if found is not None:
                # the whole rest of the line, or its last word after options (-bm 1.0 a.png)
                names += [n for m in _MAP.findall(_text(found)) for n in (m, m.split()[-1])]
    elif kind == "gltf":
        try:
            doc = json.loads(_text(path))
        except ValueError:
            doc = {}
        for item in [*doc.get("buffers", []), *doc.get("images", [])]:
            uri = item.get("uri") if isinstance(item, dict) else None
            if isinstance(uri, str) and not uri.startswith("data:"):
                names.append(uri)
    elif kind == "ply":
        names += _PLY_TEXTURE.findall(head.split(b"end_header", 1)[0].decode("ascii", "replace"))
    out: dict[str, Path] = {}
    for name in names:
        found = _under(root, name)
        if found is not None:
            out[found.relative_to(root).as_posix()] = found
    for offset in _offset_files(path):
        rel = offset.name
        if stem is not None and offset.name.startswith(path.stem + "."):
            rel = stem + offset.name[len(path.stem) :]
        out[rel] = offset
    meta = _metadata_xml(path)
    if meta is not None:
        out[METADATA_XML] = meta
    return [(p, rel) for rel, p in out.items()]


def _text(path: Path) -> str:
    with path.open("rb") as fh:
        return fh.read(_MAX_TEXT).decode("utf-8", "replace")


def _under(root: Path, name: str) -> Path | None:
    clean = name.strip().replace("\\", "/")
    if ":" in clean.split("/", 1)[0]:  # a URL or a drive letter
        return None
    target = (root / clean).resolve()
    if target.is_relative_to(root) and target.is_file():
        return target
    return None
