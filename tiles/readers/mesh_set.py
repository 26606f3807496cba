"""A folder of mesh files converted as one layer: a multi-tile photogrammetry export.

ContextCapture (iTwin Capture Modeler), Pix4D and similar tools deliver a city mesh as many
tiles, e.g. ``metadata.xml`` plus ``Data/Tile_+000_+000/Tile_+000_+000.obj`` with its MTL
and textures. :func:`read` finds every mesh file under the folder (by content, as
:mod:`tiles.readers.mesh` sniffs them), reads each with the mesh reader, so placement
(``--crs``/``--origin``, an offset file, ``metadata.xml`` beside a file or two levels up)
and textures work exactly as for one file, and merges them:

- an object's id is the file's path in the folder, without its suffix, followed by the
  object's name when the file has several (``Data/Tile_+000_+000/Tile_+000_+000``), so ids
  stay unique and stable however the files are ordered;
- all files must agree on the CRS; a file without triangles is skipped with a warning;
- materials and images are renumbered into one list.

Only regular files inside the folder are read: symbolic links and hidden entries are
ignored, and references leaving a file's folder are refused by the mesh reader as usual.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from pathlib import Path

import numpy as np

from ..errors import EmptyInput, InputError
from ..model import Feature, Material, SourceData, TextureImage
from ..options import ConvertOptions
from . import mesh

NAME = "mesh set (a folder of OBJ, glTF or PLY tiles)"
#: More files than this is not a mesh export but a mistake (a whole disk, say).
MAX_FILES = 20_000
_HEAD = 64 * 1024


def mesh_files(folder: Path) -> list[Path]:
    """Mesh files under ``folder`` (regular files, no links, nothing hidden), sorted."""
    from . import visible_files

    found: list[Path] = []
    for path in visible_files(folder):
        with path.open("rb") as fh:
            head = fh.read(_HEAD)
        if head and mesh.kind_of(path, head) is not None:
            found.append(path)
            if len(found) > MAX_FILES:
                raise InputError(
                    f"the folder holds more than {MAX_FILES:,} mesh files", source=folder.name
                )
    return found


def sniff(path: Path, head: bytes) -> bool:
    return path.is_dir()


def read(folder: Path, options: ConvertOptions) -> SourceData:
    files = mesh_files(folder)
    if not files:
        raise EmptyInput("the folder holds no mesh file (OBJ, glTF/GLB, PLY)", source=folder.name)
    features: list[Feature] = []
    materials: list[Material] = []
    images: list[TextureImage] = []
    warnings: list[str] = []
    formats: Counter[str] = Counter()
    crs_text: str | None = None
    crs_file = ""
    objects = 0
    for path in files:
        rel = path.relative_to(folder).as_posix()
        try:
            data = mesh.read(path, options)
        except EmptyInput:
            warnings.append(f"{rel}: no triangles, skipped")
            continue
        if crs_text is not None and data.crs_text != crs_text:
            raise InputError(
                f"{rel} is in {data.crs_text or 'no CRS'} but {crs_file} is in {crs_text}: "
                "a folder converts as one layer only when every file has the same CRS",
                source=folder.name,
            )
        crs_text, crs_file = data.crs_text, crs_file or rel
        formats[data.format] += 1
        objects += data.object_count
        warnings.extend(f"{rel}: {w}" for w in data.warnings)
        _renumber(data, len(materials), len(images))
        materials.extend(data.materials)
        images.extend(data.images)
        features.extend(_rename(data.features, rel, path.stem))
    if not features:
        raise EmptyInput("no mesh file in the folder has triangles", source=folder.name)
    if materials:
        for f in features:  # untextured files beside textured ones: "no material"
            if f.mesh.materials is None:
                f.mesh.materials = np.full(f.mesh.triangle_count, -1, dtype=np.int32)
    kinds = " and ".join(sorted(k.removesuffix(" mesh") for k in formats))
    return SourceData(
        features=features,
        crs_text=crs_text,
        format=f"{kinds} mesh set ({sum(formats.values())} files)",
        warnings=list(dict.fromkeys(warnings)),
        object_count=objects,
        axis_order="xy",
        materials=materials,
        images=images,
    )


def _renumber(data: SourceData, material_offset: int, image_offset: int) -> None:
    """Point the file's material and image indices into the merged lists."""
    data.materials = [
        dataclasses.replace(m, image=None if m.image is None else m.image + image_offset)
        for m in data.materials
    ]
    for f in data.features:
        m = f.mesh.materials
        if m is not None and material_offset:
            f.mesh.materials = np.where(m >= 0, m + material_offset, m).astype(m.dtype)


def _rename(features: list[Feature], rel: str, stem: str) -> list[Feature]:
    prefix = rel.rsplit(".", 1)[0] if "." in rel.rsplit("/", 1)[-1] else rel

    def renamed(name: str | None) -> str | None:
        if name is None:
            return None
        if name == stem or name.startswith(stem + "#"):  # the file's one object, or its chunks
            return prefix + name[len(stem) :]
        return f"{prefix}/{name}"

    for f in features:
        f.id = renamed(f.id) or f.id
        f.parent_id = renamed(f.parent_id)
        f.attributes["source"] = rel
    return features
