"""Where a mesh lies: its CRS, the origin its coordinates are offsets from, its up axis.

Meshes (OBJ, glTF, PLY) carry no CRS. They are placed by, in this order of precedence:

- the CRS: ``--crs``, else the ``<SRS>`` of a ContextCapture ``metadata.xml``; without
  either the mesh is refused (:class:`~tiles.errors.CRSRequired`);
- the origin added to every vertex: ``--origin X Y Z``, else an offset file beside the
  mesh (``<name>.offset.txt`` or ``<name>.offset.xyz``, else the one ``*_offset.xyz`` of
  the folder as Pix4D writes it: three numbers X Y Z, separated by spaces, commas or
  semicolons, ``#`` comments allowed), else the ``<SRSOrigin>`` of a
  ContextCapture ``metadata.xml``, else none (the coordinates are already in the CRS);
- the up axis: ``--up``, else ``y`` for glTF (the glTF spec is y-up) and ``z`` for OBJ
  and PLY (photogrammetry and CAD exports in a projected CRS are z-up).

ContextCapture (Bentley iTwin Capture) writes ``metadata.xml`` at the root of a
production, ``<ModelMetadata><SRS>EPSG:3006</SRS><SRSOrigin>x,y,z</SRSOrigin>``, with the
meshes in ``Data/Tile_*/``; it is looked for beside the mesh and, for that layout, two
folders up. An ``ENU:lat,lon`` SRS (a local tangent plane) is refused with a clear message:
re-export in a projected CRS.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from lxml import etree
from numpy.typing import NDArray

from ..errors import CRSRequired, CRSUnknown, InvalidOffset, UnsafeXML
from ..options import ConvertOptions

OFFSET_SUFFIXES = (".offset.txt", ".offset.xyz")
METADATA_XML = "metadata.xml"
_MAX_SIDE_FILE = 1 << 20  # an offset file or metadata.xml is a few hundred bytes
_SEPARATORS = re.compile(r"[\s,;]+")


@dataclass(frozen=True)
class Placement:
    crs_text: str
    origin: tuple[float, float, float]
    up: str  # "y" or "z"
    scale: float
    notes: tuple[str, ...]


def placement(path: Path, options: ConvertOptions, kind: str) -> Placement:
    """Decide CRS, origin, up axis and scale for the mesh at ``path`` (``kind``: obj, gltf, ply)."""
    notes: list[str] = []
    meta = _contextcapture(path)
    crs_text = options.crs
    if crs_text is None and meta is not None and meta[0]:
        crs_text = meta[0]
        notes.append(f"CRS {crs_text} from {meta[2]}")
    if not crs_text:
        raise CRSRequired(
            "a mesh carries no coordinate reference system: pass one with --crs EPSG:<code> "
            "(and --origin X Y Z or an offset file if its coordinates are offsets)",
            source=path.name,
        )
    if crs_text.strip().upper().startswith("ENU:"):
        raise CRSUnknown(
            f"SRS {crs_text!r} is a local east-north-up frame, which twin does not place yet: "
            "re-export the mesh in a projected CRS (e.g. EPSG:3006) or pass --crs",
            source=path.name,
        )
    origin: tuple[float, float, float] = (0.0, 0.0, 0.0)
    if options.origin is not None:
        origin = _three(list(options.origin), "--origin", path.name)
        notes.append(f"origin {_fmt(origin)} from --origin")
    else:
        offset = _offset_file(path)
        if offset is not None:
            origin = offset[0]
            notes.append(f"origin {_fmt(origin)} from {offset[1]}")
        elif meta is not None and meta[1] is not None:
            origin = meta[1]
            notes.append(f"origin {_fmt(origin)} from {meta[2]}")
    up = options.up or ("y" if kind == "gltf" else "z")
    if up not in ("y", "z"):
        raise InvalidOffset(f"--up must be 'y' or 'z', not {up!r}", source=path.name)
    if options.up is None:
        notes.append(f"up axis {up} (the default for {kind.upper()}; change with --up)")
    scale = float(options.mesh_scale)
    if not np.isfinite(scale) or scale <= 0:
        raise InvalidOffset(
            f"--mesh-scale must be a positive number, not {scale}", source=path.name
        )
    return Placement(crs_text, origin, up, scale, tuple(notes))


def to_crs(positions: NDArray[np.float64], place: Placement) -> NDArray[np.float64]:
    """Mesh coordinates to CRS coordinates (easting, northing, height)."""
    pts = np.asarray(positions, dtype=np.float64)
    if place.up == "y":  # glTF: +y up, +z towards the viewer (south): (x, -z, y)
        pts = np.column_stack([pts[:, 0], -pts[:, 2], pts[:, 1]])
    if place.scale != 1.0:
        pts = pts * place.scale
    return pts + np.asarray(place.origin, dtype=np.float64)


def _fmt(origin: tuple[float, float, float]) -> str:
    return "(" + ", ".join(f"{v:.3f}" for v in origin) + ")"


def _three(values: list[object], what: str, source: str) -> tuple[float, float, float]:
    try:
        nums = [float(v) for v in values]  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise InvalidOffset(f"{what} must be three numbers X Y Z", source=source) from None
    if len(nums) != 3 or not all(np.isfinite(nums)):
        raise InvalidOffset(f"{what} must be three finite numbers X Y Z", source=source)
    return nums[0], nums[1], nums[2]


def _read_small(path: Path) -> str:
    if path.stat().st_size > _MAX_SIDE_FILE:
        raise InvalidOffset(
            f"{path.name} is larger than {_MAX_SIDE_FILE:,} bytes", source=path.name
        )
    return path.read_text(encoding="utf-8-sig", errors="replace")


def _offset_files(path: Path) -> list[Path]:
    named = [path.with_name(path.stem + suffix) for suffix in OFFSET_SUFFIXES]
    found = [p for p in named if p.is_file()]
    if found:
        return found[:1]
    pix4d = sorted(path.parent.glob("*_offset.xyz"))  # Pix4D: <project>_offset.xyz
    return pix4d if len(pix4d) == 1 else []


def _offset_file(path: Path) -> tuple[tuple[float, float, float], str] | None:
    for candidate in _offset_files(path):
        if candidate.is_file():
            lines = [ln.split("#", 1)[0].strip() for ln in _read_small(candidate).splitlines()]
            words = [w for ln in lines if ln for w in _SEPARATORS.split(ln) if w]
            return _three(list(words), f"offset file {candidate.name}", candidate.name), (
                candidate.name
            )
    return None


def _metadata_xml(path: Path) -> Path | None:
    beside = path.parent / METADATA_XML
    if beside.is_file():
        return beside
    # ContextCapture: <production>/metadata.xml, <production>/Data/Tile_x/Tile_x.obj
    if path.parent.parent.name.lower() == "data":
        above = path.parent.parent.parent / METADATA_XML
        if above.is_file():
            return above
    return None


def _contextcapture(
    path: Path,
) -> tuple[str | None, tuple[float, float, float] | None, str] | None:
    """(SRS, SRSOrigin, file label) from a ContextCapture metadata.xml, or None."""
    found = _metadata_xml(path)
    if found is None:
        return None
    label = METADATA_XML if found.parent == path.parent else f"../../{METADATA_XML}"
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False
    )
    try:
        root = etree.fromstring(_read_small(found).encode("utf-8"), parser)
    except etree.XMLSyntaxError as exc:
        raise InvalidOffset(f"{label} is not valid XML: {exc}", source=path.name) from None
    if root.getroottree().docinfo.doctype:
        raise UnsafeXML(f"{label} declares a DOCTYPE, which twin never reads", source=path.name)
    if etree.QName(root).localname != "ModelMetadata":
        return None  # another tool's metadata.xml
    srs = root.findtext("SRS")
    origin_text = root.findtext("SRSOrigin")
    origin = None
    if origin_text and origin_text.strip():
        words = [w for w in _SEPARATORS.split(origin_text.strip()) if w]
        origin = _three(list(words), f"<SRSOrigin> of {label}", path.name)
    return (srs.strip() if srs and srs.strip() else None), origin, label
