"""GML geometry of CityGML 1.0/2.0/3.0 as polygons (rings of (k, 3) points).

Namespace-agnostic: elements are matched by local name, so GML 3.1.1 (CityGML 1.0/2.0)
and GML 3.2 (CityGML 3.0) read alike. Surfaces of every kind (Polygon, Triangle,
Rectangle, PolygonPatch, MultiSurface, CompositeSurface, Shell, Solid, MultiSolid,
CompositeSolid, TriangulatedSurface/Tin, OrientableSurface, MultiGeometry) become polygons;
points and curves are counted and skipped. ``xlink:href`` references resolve through
:class:`References`; :func:`implicit_polygons` places an ImplicitGeometry.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..errors import InvalidGeometry, NonFiniteCoordinate

XLINK_HREF = "{http://www.w3.org/1999/xlink}href"
GML_NAMESPACES = (
    "http://www.opengis.net/gml",
    "http://www.opengis.net/gml/3.2",
)
GML_IDS = tuple(f"{{{ns}}}id" for ns in GML_NAMESPACES)
#: No CRS has coordinates beyond this (ECEF is ~6.4e6 m); larger values are corrupt.
MAX_COORDINATE = 1e9

#: A polygon: its gml:id (or None) and its rings, outer ring first.
Polygon = tuple[str | None, list[NDArray[np.float64]]]

_POLYGONS = {"Polygon", "PolygonPatch", "Triangle", "Rectangle"}
_NON_MESH = {
    "Point",
    "MultiPoint",
    "LineString",
    "LineStringSegment",
    "Curve",
    "MultiCurve",
    "CompositeCurve",
    "OrientableCurve",
    "Arc",
}


def local(tag: Any) -> str:
    """The local name of an element tag (``""`` for comments and processing instructions)."""
    if not isinstance(tag, str):
        return ""
    return tag.rsplit("}", 1)[-1]


def gml_id(elem: Any) -> str | None:
    for key in GML_IDS:
        value = elem.get(key)
        if value:
            return str(value)
    return None


class References:
    """``xlink:href`` targets within the file.

    ``wanted`` counts how often each id is referenced (from a byte scan of the file).
    Targets in the city object being read are found in ``elements``; targets read in
    earlier objects are kept in ``cache`` (as polygons) until their last reference.
    """

    def __init__(self, wanted: Counter[str]) -> None:
        self.wanted = wanted
        self.elements: dict[str, Any] = {}
        self.cache: dict[str, list[Polygon]] = {}
        self.unresolved = 0

    def index(self, member: Any) -> None:
        """Collect the referenced GML elements of a city object member."""
        self.elements = {}
        if not self.wanted:
            return
        for e in member.iter():
            gid = gml_id(e) if isinstance(e.tag, str) else None
            if gid and gid in self.wanted and e.tag.startswith("{http://www.opengis.net/gml"):
                self.elements[gid] = e

    def keep(self, reader: GeometryReader, oid: str) -> None:
        """Cache the targets of this member that are still referenced later on."""
        for gid, e in self.elements.items():
            if self.wanted.get(gid, 0) > 0 and gid not in self.cache:
                self.cache[gid] = reader.polygons(e, oid)
        self.elements = {}

    def take(self, gid: str) -> None:
        left = self.wanted.get(gid, 0) - 1
        if left > 0:
            self.wanted[gid] = left
        else:
            self.wanted.pop(gid, None)
            self.cache.pop(gid, None)


class GeometryReader:
    """Reads GML geometry elements into polygons, checking every coordinate."""

    def __init__(self, name: str, refs: References) -> None:
        self.name = name
        self.refs = refs
        self.non_mesh = 0
        self.srs_names: Counter[str] = Counter()
        self._depth = 0
        #: Told the ring ids of polygons that appearances target (see citygml_appearance).
        self.appearance: Any = None
        #: The appearance-targeted aggregates (MultiSurface, CompositeSurface, Solid, ...)
        #: being walked, outermost first, each with a count of its polygons without an id.
        self._aggregates: list[list[Any]] = []

    def polygons(self, elem: Any, oid: str, dim: int = 3) -> list[Polygon]:
        out: list[Polygon] = []
        self._walk(elem, oid, dim, False, out)
        return out

    def _walk(self, elem: Any, oid: str, dim: int, reverse: bool, out: list[Polygon]) -> None:
        name = local(elem.tag)
        if not name:
            return
        srs = elem.get("srsName")
        if srs:
            self.srs_names[srs] += 1
        d = elem.get("srsDimension")
        if d:
            dim = _dimension(d, self.name, oid)
        href = elem.get(XLINK_HREF)
        if href is not None and len(elem) == 0:
            self._resolve(href, oid, dim, reverse, out)
            return
        if name in _POLYGONS:
            rings = self._rings(elem, oid, dim)
            if rings:
                pid = gml_id(elem)
                if self.appearance is not None:
                    pid = self._targeted(pid, elem, rings)
                if reverse:
                    rings = [r[::-1] for r in rings]
                out.append((pid, rings))
            return
        if name in _NON_MESH:
            self.non_mesh += 1
            return
        if name == "ImplicitGeometry":
            out.extend(self.implicit(elem, oid, dim))
            return
        if name == "OrientableSurface" and elem.get("orientation") == "-":
            reverse = not reverse
        solid = name == "Solid"
        aggregate = gml_id(elem) if self.appearance is not None else None
        targeted = aggregate is not None and aggregate in self.appearance.targets
        if targeted:
            self._aggregates.append([aggregate, 0])
        try:
            for child in elem:
                if solid and local(child.tag) == "interior":
                    continue  # cavities are inside the exterior shell: not drawn
                self._walk(child, oid, dim, reverse, out)
        finally:
            if targeted:
                self._aggregates.pop()

    def _targeted(self, pid: str | None, elem: Any, rings: list[NDArray[np.float64]]) -> str | None:
        """Tell the appearance about a polygon it targets, by its own id or through an
        aggregate around it (a polygon without an id there gets ``<aggregate>#<n>``, the
        same every time the aggregate is walked); return the polygon's id."""
        if self._aggregates and pid is None:
            self._aggregates[-1][1] += 1
            pid = f"{self._aggregates[-1][0]}#{self._aggregates[-1][1]}"
        if pid is not None and self._aggregates:
            self.appearance.inherit(pid, [a[0] for a in self._aggregates])
        if pid is not None and pid in self.appearance.targets:
            self.appearance.saw_polygon(pid, ring_ids(elem), rings)
        return pid

    def _resolve(self, href: str, oid: str, dim: int, reverse: bool, out: list[Polygon]) -> None:
        gid = href[1:] if href.startswith("#") else None
        if gid is None:
            self.refs.unresolved += 1  # a reference to another file
            return
        target = self.refs.elements.get(gid)
        found: list[Polygon]
        if target is not None:
            if self._depth > 32:
                raise InvalidGeometry(
                    "xlink:href references nest too deeply (a cycle?)",
                    source=self.name,
                    object_id=oid,
                )
            self._depth += 1
            try:
                found = self.polygons(target, oid, dim)
            finally:
                self._depth -= 1
        elif gid in self.refs.cache:
            found = self.refs.cache[gid]
            if self._aggregates and self.appearance is not None:  # (their materials only)
                aggregates = [a[0] for a in self._aggregates]
                for pid, _ in found:
                    if pid is not None:
                        self.appearance.inherit(pid, aggregates)
        else:
            self.refs.unresolved += 1
            return
        self.refs.take(gid)
        if reverse:
            found = [(pid, [r[::-1] for r in rings]) for pid, rings in found]
        out.extend(found)

    def _rings(self, elem: Any, oid: str, dim: int) -> list[NDArray[np.float64]]:
        outer: list[NDArray[np.float64]] = []
        inner: list[NDArray[np.float64]] = []
        for child in elem:
            which = local(child.tag)
            if which not in ("exterior", "interior", "outerBoundaryIs", "innerBoundaryIs"):
                continue
            for ring in child:
                if local(ring.tag) in ("LinearRing", "Ring"):
                    pts = self.ring_points(ring, oid, dim)
                    if pts.shape[0]:
                        (outer if which in ("exterior", "outerBoundaryIs") else inner).append(pts)
        if not outer:
            return []
        return [outer[0], *inner]

    def ring_points(self, ring: Any, oid: str, dim: int) -> NDArray[np.float64]:
        d = ring.get("srsDimension")
        if d:
            dim = _dimension(d, self.name, oid)
        values: list[str] = []
        for child in ring.iter():
            name = local(child.tag)
            if name in ("posList", "pos"):
                d = child.get("srsDimension") or child.get("dimension")
                if d:
                    dim = _dimension(d, self.name, oid)
                values.extend((child.text or "").split())
            elif name == "coordinates":  # GML 2 style "x,y,z x,y,z"
                cs, ts = child.get("cs", ","), child.get("ts", " ")
                text = (child.text or "").replace(cs, " ").replace(ts, " ")
                values.extend(text.split())
        return self.to_points(values, dim, oid)

    def to_points(self, values: list[str], dim: int, oid: str) -> NDArray[np.float64]:
        try:
            flat = np.array(values, dtype=np.float64)
        except ValueError:
            raise InvalidGeometry(
                "a coordinate list holds something that is not a number",
                source=self.name,
                object_id=oid,
            ) from None
        if flat.size % dim:
            raise InvalidGeometry(
                f"a coordinate list has {flat.size} numbers, not a multiple of its dimension {dim}",
                source=self.name,
                object_id=oid,
            )
        pts = flat.reshape(-1, dim)
        if dim == 2:
            pts = np.column_stack([pts, np.zeros(pts.shape[0])])
        if not np.isfinite(pts).all() or (np.abs(pts) > MAX_COORDINATE).any():
            raise NonFiniteCoordinate(
                f"a vertex has a non-finite or absurd coordinate (NaN, infinity or "
                f"beyond ±{MAX_COORDINATE:g})",
                source=self.name,
                object_id=oid,
            )
        return pts

    def implicit(self, elem: Any, oid: str, dim: int) -> list[Polygon]:
        """An ImplicitGeometry's template, transformed and moved to its reference point."""
        matrix = np.eye(4)
        ref = np.zeros(3)
        template: list[Polygon] = []
        for child in elem:
            name = local(child.tag)
            if name == "transformationMatrix":
                m = self.to_points((child.text or "").split(), 1, oid).ravel()
                if m.size != 16:
                    raise InvalidGeometry(
                        "an ImplicitGeometry's transformationMatrix needs 16 numbers",
                        source=self.name,
                        object_id=oid,
                    )
                matrix = m.reshape(4, 4)  # row-major, as CityGML writes it
            elif name == "referencePoint":
                pos = [e for e in child.iter() if local(e.tag) in ("pos", "coordinates")]
                if pos:
                    pts = self.ring_points(child, oid, dim)
                    if pts.shape[0] != 1:
                        raise InvalidGeometry(
                            "an ImplicitGeometry's referencePoint must be one point",
                            source=self.name,
                            object_id=oid,
                        )
                    ref = pts[0]
            elif name in ("relativeGMLGeometry", "relativeGeometry"):
                template = self.polygons(child, oid, dim)
        placed: list[Polygon] = []
        for _, rings in template:
            moved = []
            for r in rings:
                homo = np.column_stack([r, np.ones(r.shape[0])])
                moved.append((homo @ matrix.T)[:, :3] + ref)
            placed.append((None, moved))
        for _, rings in placed:
            for r in rings:
                if not np.isfinite(r).all():
                    raise NonFiniteCoordinate(
                        "an implicit geometry's placed vertex is not finite",
                        source=self.name,
                        object_id=oid,
                    )
        return placed


def ring_ids(elem: Any) -> list[str | None]:
    """The gml:ids of a polygon's rings, outer first, as the geometry reader orders them."""
    outer: list[str | None] = []
    inner: list[str | None] = []
    for child in elem:
        which = local(child.tag)
        if which not in ("exterior", "interior", "outerBoundaryIs", "innerBoundaryIs"):
            continue
        for ring in child:
            if local(ring.tag) in ("LinearRing", "Ring"):
                (outer if which in ("exterior", "outerBoundaryIs") else inner).append(gml_id(ring))
    return [*outer[:1], *inner]


def _dimension(text: str, name: str, oid: str) -> int:
    try:
        dim = int(text)
    except ValueError:
        dim = 0
    if dim not in (2, 3):
        raise InvalidGeometry(
            f"srsDimension {text!r} is not supported (2 or 3)", source=name, object_id=oid
        )
    return dim
