"""The files an export needs beside it, for ``twin import`` to copy into the job's folder.

A mesh needs its MTL, textures, buffers and offset file (:mod:`.mesh_files`); a CityJSON or
CityGML file its texture images (``appearance.textures[].image``, ``app:imageURI``).
Only files inside the export's own folder are listed, by the rule the readers apply
(:func:`tiles.textures.image_path`): no URL, no absolute path, nothing through ``..``.
"""

from __future__ import annotations

import re
from pathlib import Path

from ..textures import image_path
from . import mesh_files

_SCAN_BYTES = 512 * 1024**2  # references past this point of a huge file are not copied
_CITYJSON_IMAGE = re.compile(rb'"image"\s*:\s*"((?:[^"\\]|\\.)*)"')
_GML_IMAGE = re.compile(rb"<(?:[\w-]+:)?imageURI>\s*([^<]+?)\s*</(?:[\w-]+:)?imageURI>")


def companions(path: Path, stem: str | None = None) -> list[tuple[Path, str]]:
    """``(file, relative destination)`` for every file the export at ``path`` refers to."""
    found = mesh_files.companions(path, stem)
    if found:
        return found
    with path.open("rb") as fh:
        text = fh.read(_SCAN_BYTES)
    refs = [m.group(1) for m in _CITYJSON_IMAGE.finditer(text)]
    refs += [m.group(1) for m in _GML_IMAGE.finditer(text)]
    root = path.parent.resolve()
    out: dict[str, Path] = {}
    for raw in refs:
        uri = raw.decode("utf-8", "replace").replace("\\/", "/")
        found_path = image_path(root, uri)
        if found_path is not None and found_path.is_file():
            out[found_path.relative_to(root).as_posix()] = found_path
    return [(p, rel) for rel, p in sorted(out.items())]
