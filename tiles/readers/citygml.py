"""CityGML 1.0, 2.0 and 3.0 (GML 3.1.1 and 3.2), read as a stream.

Every city object with surface geometry becomes a :class:`~tiles.model.Feature`: its
``gml:id``, its type (the element's local name: Building, BuildingPart, Road, ...), its
parent's id for parts and installations, its LoD (``lod2Solid`` and the boundary
surfaces' ``lod2MultiSurface`` are LoD "2"; highest by default, ``options.lod`` picks
another) and its attributes (see :mod:`.citygml_attributes`; parts also carry their
parent's). Thematic boundary surfaces (RoofSurface, WallSurface, ...) give the triangles'
semantic classes; a polygon drawn both by a Solid (often through ``xlink:href``) and by a
boundary surface is drawn once, with its semantics.

Safety: the file is parsed with lxml's ``iterparse`` without entity expansion, DTD or
network access; a document with a DOCTYPE (external entities, billion laughs) is refused
with :class:`~tiles.errors.UnsafeXML`. Each ``cityObjectMember`` is dropped once read, so
memory stays flat; ``xlink:href`` targets of later members are kept only until their
last reference. A reference to a geometry defined in a later member (a forward reference)
is found by a byte scan first; only then a first streaming pass keeps those targets'
polygons, so the objects that refer to them are drawn whole.

Axis order: GML coordinates follow the CRS's declared axis order, so the reader sets
:attr:`SourceData.axis_order` to "yx" when the CRS's first axis is north (EPSG:6697,
EPSG:4326, SWEREF 99 TM) and "xy" otherwise.
"""

from __future__ import annotations

import bisect
import mmap
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from lxml import etree

from .. import georef
from ..errors import EmptyInput, InputError, TilesError, UnsafeXML
from ..model import SURFACE_TYPES, Feature, Mesh, Skipped, SourceData, surface_index
from ..options import ConvertOptions
from ..polygons import PolygonBatch
from .citygml_appearance import CityGMLAppearance, scan
from .citygml_attributes import attributes, namespace
from .citygml_geometry import XLINK_HREF, GeometryReader, Polygon, References, gml_id, local

NAME = "CityGML 1.0/2.0/3.0"

_BATCH_POINTS = 100_000
_LOD = re.compile(r"^lod(\d)")
_HREF = re.compile(rb"""href\s*=\s*["']#([^"'\s]+)["']""")
_ID = re.compile(rb"""\bid\s*=\s*["']([^"'\s]+)["']""")
_MEMBER = re.compile(rb"<(?:[\w.-]+:)?(?:cityObjectMember|featureMember)\b")
_TAGS = ["{*}cityObjectMember", "{*}featureMember", "{*}featureMembers", "{*}Envelope"]
_ROOT_START = re.compile(rb"<[A-Za-z_]")
#: Properties whose objects are features of their own, with the owner as parent.
PART_PROPERTIES = {
    "consistsOfBuildingPart",
    "buildingPart",
    "outerBuildingInstallation",
    "interiorBuildingInstallation",
    "buildingInstallation",
    "interiorRoom",
    "buildingRoom",
    "interiorFurniture",
    "buildingFurniture",
    "roomInstallation",
    "buildingConstructiveElement",
    "consistsOfBridgePart",
    "bridgePart",
    "outerBridgeInstallation",
    "interiorBridgeInstallation",
    "bridgeInstallation",
    "outerBridgeConstruction",
    "outerBridgeConstructionElement",
    "bridgeConstructiveElement",
    "interiorBridgeRoom",
    "bridgeRoom",
    "interiorBridgeFurniture",
    "bridgeFurniture",
    "consistsOfTunnelPart",
    "tunnelPart",
    "outerTunnelInstallation",
    "interiorTunnelInstallation",
    "tunnelInstallation",
    "interiorHollowSpace",
    "hollowSpace",
    "tunnelFurniture",
    "tunnelConstructiveElement",
    "reliefComponent",
}
#: Boundary surface elements and the semantic class of their triangles.
_SEMANTIC = {name: name for name in SURFACE_TYPES if name}
_SEMANTIC.update(
    {
        "WindowSurface": "Window",
        "DoorSurface": "Door",
        "Marking": "TransportationMarking",
        "HoleSurface": "TransportationHole",
    }
)
#: Children that hold no geometry of the object itself.
_NOT_GEOMETRY = {
    "appearance",
    "appearanceMember",
    "groupMember",
    "parent",
    "generalizesTo",
    "relatedTo",
    "externalReference",
    "address",
    "genericAttribute",
}


@dataclass
class _Object:
    id: str
    type: str
    parent_id: str | None
    attributes: dict[str, Any]
    #: (LoD, semantic class, polygons) per geometry property.
    geometry: list[tuple[str, int, list[Polygon]]] = field(default_factory=list)
    lod: str | None = None


def sniff(path: Path, head: bytes) -> bool:
    """XML whose first 64 KiB name a CityGML namespace or a CityModel."""
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not text.startswith(b"<"):
        return False
    return b"opengis.net/citygml" in head or b"CityModel" in head


def read(path: Path, options: ConvertOptions) -> SourceData:
    return _Reader(path, options).run()


def _lod_key(lod: str) -> tuple[int, ...]:
    try:
        return tuple(int(p) for p in lod.split("."))
    except ValueError:
        return (0,)


class _Reader:
    def __init__(self, path: Path, options: ConvertOptions) -> None:
        self.path = path
        self.name = path.name
        self.options = options
        self.refs = References(Counter())
        self.geom = GeometryReader(self.name, self.refs)
        self.features: list[Feature] = []
        self.skipped: list[Skipped] = []
        self.lods: Counter[str] = Counter()
        self.warnings: list[str] = []
        self.object_count = 0
        self.degenerate = 0
        self.represented_by_parts = 0
        self.envelope_srs: str | None = None
        self.ade: dict[str, str] = {}
        self.batch = PolygonBatch()
        self.pending: list[_Object] = []
        self.version = ""
        self.appearance: CityGMLAppearance | None = None

    # -- the stream -----------------------------------------------------------------
    def run(self) -> SourceData:
        self._check_prolog()
        self.appearance = self.geom.appearance = scan(self.path, self.options.appearance_theme)
        self.refs.wanted, forward = self._references()
        if forward:
            self._forward_targets(forward)
        context = self._iterparse()
        checked = False
        try:
            for _, elem in context:
                if not checked:
                    self._check_doctype(elem.getroottree())
                    self._version(elem.getroottree().getroot())
                    checked = True
                if local(elem.tag) == "Envelope":
                    srs = elem.get("srsName")
                    if srs and self.envelope_srs is None:
                        self.envelope_srs = srs
                    continue
                self._member(elem)
                elem.clear()
                parent = elem.getparent()
                while parent is not None and elem.getprevious() is not None:
                    del parent[0]
        except etree.XMLSyntaxError as exc:
            raise InputError(f"not well-formed XML: {exc}", source=self.name) from None
        if not checked:
            root = context.root
            if root is not None:
                self._check_doctype(root.getroottree())
        self._flush()
        return self._finish()

    def _iterparse(self) -> Any:
        return etree.iterparse(
            str(self.path),
            events=("end",),
            tag=_TAGS,
            resolve_entities=False,
            no_network=True,
            load_dtd=False,
            huge_tree=False,
            remove_comments=True,
            remove_pis=True,
        )

    def _forward_targets(self, forward: set[str]) -> None:
        """A first pass that caches the polygons of the geometries referenced before the
        member that defines them (the main pass finds them in the cache)."""
        local_refs = References(Counter(self.refs.wanted))
        reader = GeometryReader(self.name, local_refs)  # its counts are not reported
        reader.appearance = self.appearance
        try:
            for _, elem in self._iterparse():
                if local(elem.tag) != "Envelope":
                    local_refs.index(elem)
                    for gid, target in local_refs.elements.items():
                        if gid in forward and gid not in self.refs.cache:
                            oid = next((gml_id(c) for c in elem if gml_id(c)), None) or gid
                            self.refs.cache[gid] = reader.polygons(target, oid)
                    local_refs.elements = {}
                elem.clear()
                parent = elem.getparent()
                while parent is not None and elem.getprevious() is not None:
                    del parent[0]
        except etree.XMLSyntaxError:
            return  # the main pass reports it

    def _check_prolog(self) -> None:
        with self.path.open("rb") as fh:
            head = fh.read(64 * 1024)
        m = _ROOT_START.search(head)
        prolog = head[: m.start()] if m else head
        if b"<!DOCTYPE" in prolog or b"<!ENTITY" in prolog:
            raise UnsafeXML(
                "the XML declares a DOCTYPE (entities or an external DTD): refused, "
                "CityGML needs none",
                source=self.name,
            )

    def _check_doctype(self, tree: Any) -> None:
        info = tree.docinfo
        if info.doctype or info.internalDTD is not None or info.externalDTD is not None:
            raise UnsafeXML(
                "the XML declares a DOCTYPE (entities or an external DTD): refused, "
                "CityGML needs none",
                source=self.name,
            )

    def _references(self) -> tuple[Counter[str], set[str]]:
        """How often each ``#id`` is the target of an ``xlink:href``, and the ids first
        referenced in a member before the one that defines them (byte scans)."""
        found: Counter[str] = Counter()
        forward: set[str] = set()
        with self.path.open("rb") as fh:
            if self.path.stat().st_size == 0:
                return found, forward
            with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
                first: dict[str, int] = {}
                for m in _HREF.finditer(mm):
                    gid = m.group(1).decode("utf-8", "replace")
                    found[gid] += 1
                    first.setdefault(gid, m.start())
                if not found:
                    return found, forward
                members = [m.start() for m in _MEMBER.finditer(mm)]
                for m in _ID.finditer(mm):
                    gid = m.group(1).decode("utf-8", "replace")
                    at = first.get(gid)
                    # defined in a later member than its first reference?
                    if (
                        at is not None
                        and m.start() > at
                        and bisect.bisect(members, m.start()) > bisect.bisect(members, at)
                    ):
                        forward.add(gid)
        return found, forward

    def _version(self, root: Any) -> None:
        spaces = [str(ns) for ns in (root.nsmap or {}).values() if ns] + [namespace(root.tag)]
        for version in ("3.0", "2.0", "1.0"):
            if any("citygml" in ns and ns.rstrip("/").endswith(version) for ns in spaces):
                self.version = version
                return

    # -- city objects ---------------------------------------------------------------
    def _member(self, member: Any) -> None:
        self.refs.index(member)
        for obj in member:
            if not local(obj.tag) or (obj.get(XLINK_HREF) is not None and len(obj) == 0):
                continue
            objects: list[_Object] = []
            self._collect(obj, None, {}, objects)
            self._choose(objects)
            first = objects[0].id if objects else ""
            self.refs.keep(self.geom, first)
        if self.batch.point_count >= _BATCH_POINTS:
            self._flush()

    def _collect(
        self, elem: Any, parent_id: str | None, inherited: dict[str, Any], out: list[_Object]
    ) -> None:
        self.object_count += 1
        kind = local(elem.tag)
        oid = gml_id(elem) or f"{kind}_{self.object_count}"
        attrs = dict(inherited)
        attrs.update(attributes(elem, PART_PROPERTIES, self.ade))
        obj = _Object(oid, kind, parent_id, attrs)
        parts: list[Any] = []
        self._scan(elem, obj, 0, parts)
        out.append(obj)
        for part in parts:
            if part.get(XLINK_HREF) is not None and len(part) == 0:
                continue
            self._collect(part, oid, attrs, out)

    def _scan(self, elem: Any, obj: _Object, semantic: int, parts: list[Any]) -> None:
        """Find the geometry properties of ``obj`` under ``elem`` and its parts."""
        for child in elem:
            name = local(child.tag)
            if not name or name in _NOT_GEOMETRY:
                continue
            if name in PART_PROPERTIES:
                parts.extend(c for c in child if local(c.tag))
                continue
            if name == "boundedBy" and namespace(child.tag).startswith(
                "http://www.opengis.net/gml"
            ):
                continue  # the envelope
            m = _LOD.match(name)
            if m:
                obj.geometry.append((m.group(1), semantic, self.geom.polygons(child, obj.id)))
                continue
            if name == "tin":  # TINRelief: its LoD is a property of its own
                lod = next((c.text for c in elem if local(c.tag) == "lod"), None)
                lod = (lod or "0").strip()
                obj.geometry.append((lod, semantic, self.geom.polygons(child, obj.id)))
                continue
            sem = surface_index(_SEMANTIC[name]) if name in _SEMANTIC else semantic
            self._scan(child, obj, sem, parts)

    def _choose(self, objects: list[_Object]) -> None:
        """Pick every object's LoD, then queue those that are drawn."""
        for obj in objects:
            lods = sorted({_lod_key(lod) for lod, _, polys in obj.geometry if polys})
            if not lods:
                continue
            if self.options.lod is None:
                pick = lods[-1]
            else:
                below = [lod for lod in lods if self._within_request(lod)]
                pick = below[-1] if below else lods[0]
            obj.lod = ".".join(str(p) for p in pick)
        by_id = {o.id: o for o in objects}
        for obj in objects:
            if obj.lod is None:
                continue
            key = _lod_key(obj.lod)
            finer = [
                c
                for c in objects
                if c.parent_id == obj.id
                and c.lod is not None
                and key < _lod_key(c.lod)
                and self._within_request(_lod_key(c.lod))
            ]
            if finer:
                self.represented_by_parts += 1
                continue
            parent = by_id.get(obj.parent_id or "")
            if (
                parent is not None
                and parent.lod is not None
                and not self._within_request(key)
                and self._within_request(_lod_key(parent.lod))
            ):
                continue  # the parent has the requested LoD; this part only a finer one
            self._queue(obj)

    def _within_request(self, lod: tuple[int, ...]) -> bool:
        if self.options.lod is None:
            return True
        want = _lod_key(self.options.lod)
        return lod[: len(want)] <= want if len(want) == 1 else lod <= want

    def _queue(self, obj: _Object) -> None:
        """Add the polygons of ``obj``'s LoD to the batch; boundary surfaces first, so a
        polygon also drawn by a Solid (same gml:id) keeps its semantic class."""
        chosen = [
            g for g in obj.geometry if g[0] == obj.lod or _lod_key(g[0]) == _lod_key(obj.lod or "")
        ]
        chosen.sort(key=lambda g: g[1] == 0)
        seen: set[str] = set()
        points: list[Any] = []
        ring_sizes: list[int] = []
        polygon_sizes: list[int] = []
        surfaces: list[int] = []
        materials: list[int] = []
        uvs: list[Any] = []
        for _, sem, polygons in chosen:
            for pid, rings in polygons:
                if pid is not None:
                    if pid in seen:
                        continue
                    seen.add(pid)
                points.extend(rings)
                ring_sizes.extend(r.shape[0] for r in rings)
                polygon_sizes.append(len(rings))
                surfaces.append(sem)
                if self.appearance is not None:
                    material, ring_uvs = self.appearance.lookup(pid, rings)
                    materials.append(material)
                    uvs.extend(ring_uvs or [np.zeros((r.shape[0], 2), np.float32) for r in rings])
        obj.geometry = []  # the polygons are in the batch now
        textured = any(m >= 0 for m in materials)
        self.batch.add(
            len(self.pending),
            np.concatenate([np.zeros((0, 3)), *points]),
            ring_sizes,
            polygon_sizes,
            surfaces,
            materials if textured else None,
            np.concatenate([np.zeros((0, 2), np.float32), *uvs]) if textured else None,
        )
        self.pending.append(obj)

    def _flush(self) -> None:
        meshes, degenerate = self.batch.meshes(len(self.pending))
        self.degenerate += degenerate
        for obj, mesh in zip(self.pending, meshes, strict=True):
            self._add(obj, mesh)
        self.batch, self.pending = PolygonBatch(), []

    def _add(self, obj: _Object, mesh: Mesh) -> None:
        if mesh.triangle_count == 0:
            self.skipped.append(Skipped(obj.id, "no surface with an area at the chosen LoD"))
            return
        self.lods[obj.lod or "0"] += 1
        self.features.append(
            Feature(
                id=obj.id,
                type=obj.type,
                mesh=mesh,
                attributes=obj.attributes,
                parent_id=obj.parent_id,
                lod=obj.lod,
            )
        )

    # -- the result -----------------------------------------------------------------
    def _crs(self) -> str | None:
        names = self.geom.srs_names
        every = set(names) | ({self.envelope_srs} if self.envelope_srs else set())
        if len({_label(s) for s in every}) > 1:
            listed = ", ".join(sorted(every))
            self.warnings.append(
                f"the file names several CRSs ({listed}); all coordinates were read in the first"
            )
        if self.envelope_srs:
            return self.envelope_srs
        if names:
            return names.most_common(1)[0][0]
        return None

    def _finish(self) -> SourceData:
        crs_text = self._crs()
        if self.degenerate:
            self.warnings.append(f"{self.degenerate} degenerate polygons (no area) skipped")
        if self.represented_by_parts:
            self.warnings.append(
                f"{self.represented_by_parts} objects drawn by their parts, "
                "which have a finer LoD than their own geometry"
            )
        if self.geom.non_mesh:
            self.warnings.append(
                f"{self.geom.non_mesh} point or line geometries skipped (only surfaces are tiled)"
            )
        if self.refs.unresolved:
            self.warnings.append(
                f"{self.refs.unresolved} xlink:href geometry references could not be resolved "
                "(a target in another file, or missing): those surfaces are missing"
            )
        if self.ade:
            spaces = ", ".join(f"{p} = {ns}" for p, ns in sorted(self.ade.items()))
            self.warnings.append(f"ADE attributes kept with their namespace prefix: {spaces}")
        if not self.features:
            raise EmptyInput(
                f"no city object with surface geometry ({self.object_count} objects read)",
                source=self.name,
            )
        app = self.appearance
        if app is not None:
            self.warnings.extend(app.warnings())
        return SourceData(
            features=self.features,
            crs_text=crs_text,
            format=f"CityGML {self.version}".strip(),
            warnings=self.warnings,
            skipped=self.skipped,
            object_count=self.object_count,
            lods=dict(self.lods),
            axis_order=_axis_order(crs_text),
            materials=app.materials if app else [],
            images=app.images if app else [],
            themes=app.themes if app else [],
            themes_used=app.used() if app else [],
        )


def _label(srs_name: str) -> str:
    try:
        return georef.crs_label(georef.parse_crs(srs_name))
    except TilesError:
        return srs_name


def _axis_order(crs_text: str | None) -> str | None:
    """ "yx" when the CRS's first axis points north, "xy" otherwise; None if unknown."""
    if not crs_text:
        return None
    try:
        crs = georef.parse_crs(crs_text)
    except TilesError:
        return None
    horiz = crs.sub_crs_list[0] if crs.is_compound and crs.sub_crs_list else crs
    axes = horiz.axis_info
    if not axes:
        return None
    return "yx" if axes[0].direction.lower() in ("north", "south") else "xy"
