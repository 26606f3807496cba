"""Meshes: OBJ (with MTL and textures), glTF/GLB and PLY, read through trimesh.

Each OBJ object/group (``o``/``g``) and each glTF node becomes a :class:`Feature` of type
``Mesh`` whose id is its name (a PLY is one feature named after the file); its
attributes are its name, the names of its materials, the source file and, for glTF, the
node's and mesh's ``extras``. A feature larger than half a tile's budget is split into
spatial chunks (:mod:`tiles.readers.mesh_chunks`).

Appearance: every material becomes a :class:`Material` (MTL ``Kd``/``d``, glTF
``baseColorFactor``/``doubleSided``), its diffuse or base colour texture a
:class:`TextureImage` holding the image file's own bytes (OBJ) or the decoded image
encoded again (glTF, PLY); texture coordinates are kept per vertex. Vertex and face
colours (PLY) are dropped with a warning: the model has no per-vertex colour.

Referenced files (MTL, textures, ``.bin`` buffers) are read only from the mesh's folder
and below, never over the network: a reference that leaves the folder
(``../../etc/passwd``, ``/etc/passwd``) is skipped, never read, and the report says so.
Placement (CRS, origin, up axis) is :mod:`tiles.readers.mesh_place`'s.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import trimesh
from numpy.typing import NDArray

from ..errors import (
    EmptyInput,
    InvalidMesh,
    NonFiniteCoordinate,
    TilesError,
    UnsupportedFormat,
    VertexIndexError,
)
from ..model import Feature, Mesh, SourceData
from ..options import ConvertOptions
from . import mesh_obj
from .mesh_assets import Appearance, FolderResolver
from .mesh_chunks import split_feature
from .mesh_place import Placement, placement, to_crs

NAME = "mesh (OBJ with MTL and textures, glTF/GLB, PLY with faces)"
FEATURE_TYPE = "Mesh"
#: trimesh's own keys in a geometry's metadata, not the source's extras.
_BOOKKEEPING = frozenset({"units", "from_gltf_primitive", "processed", "file_name", "file_path"})
_KINDS = {"obj": "OBJ", "glb": "glTF", "gltf": "glTF", "ply": "PLY"}


# -- sniffing -------------------------------------------------------------------------------
def sniff(path: Path, head: bytes) -> bool:
    return kind_of(path, head) is not None


def kind_of(path: Path, head: bytes) -> str | None:
    """ "glb", "gltf", "ply", "obj" or None, from the content."""
    if head[:4] == b"glTF":
        return "glb"
    if head[:4] == b"ply\n" or head[:5] == b"ply\r\n":
        return "ply" if _ply_face_count(head) > 0 else None  # no faces: a point cloud
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text.startswith(b"{"):
        is_gltf = b'"asset"' in head and b'"CityObjects"' not in head and b'"Feature' not in head
        named = path.suffix.lower() == ".gltf"  # "meshes" may follow 64 KiB of data URIs
        has_scene = b'"meshes"' in head or b'"scenes"' in head or named
        return "gltf" if is_gltf and has_scene else None
    return (
        "obj" if mesh_obj.looks_like_obj(head, complete=path.stat().st_size <= len(head)) else None
    )


def _ply_face_count(head: bytes) -> int:
    end = head.find(b"end_header")
    if end < 0:
        return 0
    for line in head[:end].decode("ascii", "replace").splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[:2] == ["element", "face"] and parts[2].isdigit():
            return int(parts[2])
    return 0


# -- reading --------------------------------------------------------------------------------
def read(path: Path, options: ConvertOptions) -> SourceData:
    with path.open("rb") as fh:
        head = fh.read(64 * 1024)
    kind = kind_of(path, head)
    if kind is None:
        raise UnsupportedFormat("not an OBJ, glTF or PLY mesh", source=path.name)
    place = placement(path, options, "gltf" if kind in ("glb", "gltf") else kind)
    resolver = FolderResolver(path)
    scene = _load(path, kind, resolver)
    appearance = Appearance(resolver)
    warnings = list(place.notes)
    parts = _parts(path, kind, scene, place, appearance, warnings)
    if not parts:
        raise EmptyInput("the mesh has no triangles", source=path.name)
    for name in dict.fromkeys(resolver.refused):
        warnings.append(f"{name!r} lies outside the mesh's folder or is a URL: skipped, never read")
    for name in dict.fromkeys(resolver.missing):
        warnings.append(f"{name!r} not found beside the mesh: skipped (material colour used)")
    warnings += appearance.warnings()
    textured = bool(appearance.materials)
    budget = max(options.max_tile_bytes // 2, 10_000)
    features: list[Feature] = []
    for key, pieces in parts.items():
        parent = _feature(path, kind, key, pieces, appearance, textured)
        features.extend(split_feature(parent, budget))
    if len(features) > len(parts):
        warnings.append(
            f"{len(parts)} mesh object(s) split into {len(features)} chunks of at most "
            f"{budget:,} bytes each (a chunk's parent is its object)"
        )
    return SourceData(
        features=features,
        crs_text=place.crs_text,
        format=f"{_KINDS[kind]} mesh",
        warnings=warnings,
        object_count=len(parts),
        axis_order="xy",  # x east, y north once the up axis is z
        materials=appearance.materials,
        images=appearance.images,
    )


def _load(path: Path, kind: str, resolver: FolderResolver) -> trimesh.Scene:
    kwargs: dict[str, Any] = {"file_type": kind, "resolver": resolver, "process": False}
    if kind == "obj":
        kwargs.update(split_objects=True, split_groups=True, group_material=True)
    try:
        if kind == "obj" and mesh_obj.check_indices(path):
            loaded = trimesh.load(
                io.BytesIO(mesh_obj.absolute_indices(path)), force="scene", **kwargs
            )
        else:
            with path.open("rb") as fh:
                loaded = trimesh.load(fh, force="scene", **kwargs)
    except TilesError:
        raise
    except IndexError as exc:
        raise VertexIndexError(
            f"a face refers to a vertex that does not exist ({exc})", source=path.name
        ) from None
    except Exception as exc:  # trimesh raises many kinds on a broken file
        if resolver.refused:
            names = ", ".join(repr(n) for n in dict.fromkeys(resolver.refused))
            raise InvalidMesh(
                f"refers to {names}, outside the mesh's folder or a URL, which twin never reads",
                source=path.name,
            ) from None
        raise InvalidMesh(
            f"cannot read this {_KINDS[kind]} file: {type(exc).__name__}: {exc}", source=path.name
        ) from None
    if not isinstance(loaded, trimesh.Scene):
        raise InvalidMesh(f"cannot read this {_KINDS[kind]} file as a mesh", source=path.name)
    return loaded


@dataclass
class _Piece:
    positions: NDArray[np.float64]
    triangles: NDArray[np.int64]
    material: int
    uvs: NDArray[np.float32] | None
    material_name: str
    attributes: dict[str, Any]


def _parts(
    path: Path,
    kind: str,
    scene: trimesh.Scene,
    place: Placement,
    appearance: Appearance,
    warnings: list[str],
) -> dict[str, list[_Piece]]:
    """The scene's triangles in CRS coordinates, grouped by object name."""
    usemtl: list[str] = []
    known: set[str] = set()
    if kind == "obj":
        statements = mesh_obj.statements(path)
        usemtl = sorted({n for k, n in statements if k == "usemtl"}, key=len, reverse=True)
        known = mesh_obj.object_names(statements)
    parts: dict[str, list[_Piece]] = {}
    node_meta = {
        child: dict(data["metadata"])
        for (_, child), data in scene.graph.transforms.edge_data.items()
        if isinstance(data.get("metadata"), dict)
    }
    parents = scene.graph.transforms.parents
    base = scene.graph.base_frame
    dropped_colours = skipped = 0
    for node in scene.graph.nodes_geometry:
        transform, geom_name = scene.graph[node]
        geom = scene.geometry[geom_name]
        if not isinstance(geom, trimesh.Trimesh) or len(geom.faces) == 0:
            skipped += 1
            continue
        faces = np.asarray(geom.faces, dtype=np.int64)
        verts = np.asarray(geom.vertices, dtype=np.float64)
        if faces.size and (faces.min() < 0 or faces.max() >= len(verts)):
            raise VertexIndexError(
                f"{node!r}: a face refers to a vertex that does not exist", source=path.name
            )
        if not np.isfinite(verts).all():
            raise NonFiniteCoordinate(
                f"{node!r}: a vertex is not a finite number", source=path.name
            )
        positions = to_crs(trimesh.transform_points(verts, transform), place)
        visual = geom.visual
        material, uvs, mat_name = -1, None, ""
        if isinstance(visual, trimesh.visual.TextureVisuals):
            if visual.material is not None:
                material = appearance.material(visual.material)
                mat_name = appearance.materials[material].name
            if visual.uv is not None and len(visual.uv) == len(verts):
                uvs = np.asarray(visual.uv, dtype=np.float32)
        elif visual is not None and visual.kind in ("vertex", "face"):
            dropped_colours += 1
        name = str(node)
        if geom.metadata.get("from_gltf_primitive") and parents.get(node) not in (None, base):
            name = str(parents[node])  # trimesh gives each primitive of a mesh a child node
        key = mesh_obj.object_key(kind, path, name, mat_name, usemtl, known)
        attrs = {}
        if kind in ("glb", "gltf"):
            attrs = _extras(geom, {**node_meta.get(node, {}), **node_meta.get(name, {})})
        parts.setdefault(key, []).append(_Piece(positions, faces, material, uvs, mat_name, attrs))
    if dropped_colours:
        warnings.append(
            f"vertex/face colours of {dropped_colours} mesh part(s) dropped: twin keeps "
            "textures and material colours only"
        )
    if skipped:
        warnings.append(f"{skipped} part(s) without triangles (points or lines) skipped")
    return parts


def _extras(geom: trimesh.Trimesh, node_meta: dict[str, Any]) -> dict[str, Any]:
    """A glTF mesh's and node's extras (trimesh merges mesh extras into its metadata)."""
    out: dict[str, Any] = {}
    for source in (geom.metadata or {}, node_meta):
        for k, v in source.items():
            if k == "extras" and isinstance(v, dict):
                out.update({str(a): b for a, b in v.items()})
            elif k not in _BOOKKEEPING and k != "name" and not k.startswith("_"):
                out[str(k)] = v
    return out


def _feature(
    path: Path,
    kind: str,
    key: str,
    pieces: list[_Piece],
    appearance: Appearance,
    textured: bool,
) -> Feature:
    meshes = []
    for p in pieces:
        n_tri = p.triangles.shape[0]
        meshes.append(
            Mesh(
                p.positions,
                p.triangles,
                np.zeros(n_tri, dtype=np.int16),
                np.full(n_tri, p.material, dtype=np.int32) if textured else None,
                p.uvs,
            )
        )
    mesh = Mesh.concat(meshes)
    if textured and mesh.materials is None:
        mesh.materials = mesh.material_per_triangle()
    attributes: dict[str, Any] = {"name": key}
    names = [n for n in dict.fromkeys(p.material_name for p in pieces) if n]
    if names:
        attributes["materials"] = ", ".join(names)
    attributes["source"] = path.name
    for p in pieces:
        attributes.update({k: v for k, v in p.attributes.items() if k not in attributes})
    return Feature(id=key, type=FEATURE_TYPE, mesh=mesh, attributes=attributes)
