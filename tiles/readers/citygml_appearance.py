"""CityGML 2.0/3.0 appearances: X3DMaterial and ParameterizedTexture of one theme.

Appearances may sit inside a city object (``app:appearance``) or, as PLATEAU writes them,
after every city object (``app:appearanceMember``); so :func:`scan` reads them in a first
streaming pass (only when the file mentions an Appearance), before any polygon is
triangulated. It keeps, for the chosen theme (``options.appearance_theme``, else the first
``app:theme`` in the file):

- X3DMaterial ``diffuseColor`` and ``transparency`` by target (a polygon's gml:id);
- ParameterizedTexture ``imageURI`` (relative to the file), ``wrapMode``, and the
  ``textureCoordinates`` of every ring by the ring's gml:id (2.0:
  ``target/@uri`` + ``textureCoordinates/@ring``; 3.0: ``TextureAssociation`` with
  ``target`` and ``TexCoordList`` of ``textureCoordinates`` + ``ring`` pairs).

A target may name an aggregate instead of a polygon (a MultiSurface, CompositeSurface,
Solid, Shell, TriangulatedSurface...): its member polygons take its material, and its
texture with the coordinates of their rings, unless they are targets of their own. The
geometry reader tells :meth:`CityGMLAppearance.inherit` which targeted aggregates a polygon
lies in, and :meth:`CityGMLAppearance.saw_polygon` the ring ids of each targeted polygon.
GeoreferencedTexture and TexCoordGen (a world-to-texture matrix) are counted and reported
as unsupported.
"""

from __future__ import annotations

import mmap
from pathlib import Path
from typing import Any

import numpy as np
from lxml import etree
from numpy.typing import NDArray

from ..model import Material, TextureImage
from ..textures import WRAP_MODES, image_path
from .citygml_geometry import XLINK_HREF, local

_UNSUPPORTED = ("GeoreferencedTexture",)


class CityGMLAppearance:
    """The chosen theme's materials and texture coordinates, looked up by gml:id."""

    def __init__(self, base_dir: Path, theme: str | None) -> None:
        self.base_dir = base_dir
        self.theme = theme
        self.themes: list[str] = []
        self.materials: list[Material] = []
        self.images: list[TextureImage] = []
        #: ring gml:id -> (texture number, uvs (k, 2)); polygon gml:id -> x3d number.
        self.ring_uv: dict[str, tuple[int, NDArray[np.float32]]] = {}
        self.polygon_x3d: dict[str, int] = {}
        self.textured_polygons: set[str] = set()
        self._textures: list[tuple[str, str]] = []  # (image uri, wrap)
        self._x3d: list[tuple[float, float, float, float]] = []
        self._pairs: dict[tuple[int | None, int | None], int] = {}
        self._image_of: dict[str, int] = {}
        self._rings_of: dict[str, tuple[list[str | None], list[NDArray[np.float64]]]] = {}
        self.unsupported: dict[str, int] = {}
        self.bad_uv_rings = 0
        self.used_polygons = 0
        #: Every polygon gml:id an appearance of the theme targets (set after the scan).
        self.targets: set[str] = set()

    # -- the first pass -------------------------------------------------------------
    def add(self, appearance: Any) -> None:
        """Read one ``app:Appearance`` element."""
        theme = next((c.text or "" for c in appearance if local(c.tag) == "theme"), "").strip()
        if theme not in self.themes:
            self.themes.append(theme)
        if self.theme is None:
            self.theme = theme
        if theme != self.theme:
            return
        for data in appearance.iter():
            kind = local(data.tag)
            if kind == "X3DMaterial":
                self._material(data)
            elif kind == "ParameterizedTexture":
                self._texture(data)
            elif kind in _UNSUPPORTED:
                self.unsupported[kind] = self.unsupported.get(kind, 0) + 1

    def _material(self, elem: Any) -> None:
        values = {local(c.tag): (c.text or "").strip() for c in elem}
        rgb = _floats(values.get("diffuseColor", ""), 3) or [0.8, 0.8, 0.8]
        alpha = 1.0 - (_floats(values.get("transparency", ""), 1) or [0.0])[0]
        r, g, b = (min(max(c, 0.0), 1.0) for c in rgb)
        self._x3d.append((r, g, b, min(max(alpha, 0.0), 1.0)))
        number = len(self._x3d) - 1
        for c in elem:
            if local(c.tag) == "target":
                self.polygon_x3d[_ref(c.text or c.get("uri") or "")] = number

    def _texture(self, elem: Any) -> None:
        uri = wrap = ""
        for c in elem:
            name = local(c.tag)
            if name == "imageURI":
                uri = (c.text or "").strip()
            elif name == "wrapMode":
                wrap = (c.text or "").strip()
        self._textures.append((uri, WRAP_MODES.get(wrap, "repeat")))
        number = len(self._textures) - 1
        for target in elem.iter():
            name = local(target.tag)
            if name == "target" and target.get("uri"):  # CityGML 2.0
                self._coordinates(number, target.get("uri"), target)
            elif name == "TextureAssociation":  # CityGML 3.0
                poly = next((c for c in target if local(c.tag) == "target"), None)
                if poly is not None:
                    self._coordinates(number, poly.text or poly.get(XLINK_HREF) or "", target)
            elif name == "TexCoordGen":
                self.unsupported["TexCoordGen"] = self.unsupported.get("TexCoordGen", 0) + 1

    def _coordinates(self, texture: int, polygon: str, elem: Any) -> None:
        self.textured_polygons.add(_ref(polygon))
        for tcl in elem.iter():
            if local(tcl.tag) != "TexCoordList":
                continue
            pending: list[NDArray[np.float32]] = []
            rings: list[str] = []
            for c in tcl:
                name = local(c.tag)
                if name == "textureCoordinates":
                    uv = _uvs(c.text or "")
                    if c.get("ring"):  # 2.0: the ring is an attribute
                        self.ring_uv[_ref(c.get("ring"))] = (texture, uv)
                    else:
                        pending.append(uv)
                elif name == "ring":
                    rings.append(_ref(c.text or c.get(XLINK_HREF) or ""))
            for ring, uv in zip(rings, pending, strict=False):
                self.ring_uv[ring] = (texture, uv)

    # -- the geometry pass --------------------------------------------------------------
    def inherit(self, pid: str, aggregates: list[str]) -> None:
        """Polygon ``pid`` lies in the targeted ``aggregates`` (outermost first): it takes
        the innermost one's material and texture where it has none of its own."""
        if pid not in self.polygon_x3d:
            x3d = next(
                (self.polygon_x3d[a] for a in reversed(aggregates) if a in self.polygon_x3d), None
            )
            if x3d is not None:
                self.polygon_x3d[pid] = x3d
        if pid not in self.textured_polygons and any(
            a in self.textured_polygons for a in aggregates
        ):
            self.textured_polygons.add(pid)
        self.targets.add(pid)

    def saw_polygon(
        self, pid: str, ring_ids: list[str | None], rings: list[NDArray[np.float64]]
    ) -> None:
        """The geometry reader found a targeted polygon: its rings' ids, outer first."""
        self._rings_of[pid] = (ring_ids, rings)

    def lookup(
        self, pid: str | None, rings: list[NDArray[np.float64]]
    ) -> tuple[int, list[NDArray[np.float32]] | None]:
        """The material of a polygon as drawn (-1: none) and its rings' uvs (None: no
        texture). ``rings`` may be reversed (OrientableSurface, xlink to a reversed one)."""
        if pid is None:
            return -1, None
        x3d = self.polygon_x3d.get(pid)
        texture, uvs = None, None
        seen = self._rings_of.get(pid)
        if seen is not None and pid in self.textured_polygons:
            ids, original = seen
            outer = self.ring_uv.get(ids[0] or "") if ids else None
            if outer is not None:
                texture = outer[0]
                uvs = []
                for ring_id, orig, ring in zip(ids, original, rings, strict=False):
                    found = self.ring_uv.get(ring_id or "")
                    uv = found[1] if found is not None and found[0] == texture else None
                    if uv is not None and uv.shape[0] != ring.shape[0]:
                        self.bad_uv_rings += 1
                        uv = None
                    if uv is not None and not np.array_equal(ring, orig):
                        uv = uv[::-1]
                    uvs.append(uv if uv is not None else np.zeros((ring.shape[0], 2), np.float32))
        if x3d is None and texture is None:
            return -1, None
        self.used_polygons += 1
        return self._pair(x3d, texture), uvs

    def _pair(self, x3d: int | None, texture: int | None) -> int:
        key = (x3d, texture)
        if key not in self._pairs:
            color = self._x3d[x3d] if x3d is not None else (1.0, 1.0, 1.0, 1.0)
            image, wrap, name = None, "repeat", f"X3DMaterial {x3d}"
            if texture is not None:
                uri, wrap = self._textures[texture]
                name = uri
                if uri not in self._image_of:
                    self.images.append(TextureImage(name=uri, path=image_path(self.base_dir, uri)))
                    self._image_of[uri] = len(self.images) - 1
                image = self._image_of[uri]
            self.materials.append(
                Material(name, color, image, has_color=x3d is not None, wrap=wrap)
            )
            self._pairs[key] = len(self.materials) - 1
        return self._pairs[key]

    def warnings(self) -> list[str]:
        out = []
        if self.theme is not None and self.themes and self.theme not in self.themes:
            out.append(
                f"appearance theme {self.theme!r} not found (themes: {', '.join(self.themes)})"
            )
        for kind, n in sorted(self.unsupported.items()):
            out.append(f"{n} {kind} appearances are not supported and were left out")
        if self.bad_uv_rings:
            out.append(
                f"{self.bad_uv_rings} textured rings have a texture coordinate count other "
                "than their vertex count: drawn without texture coordinates"
            )
        return out

    def used(self) -> list[str]:
        return [self.theme] if self.theme in self.themes and self.used_polygons else []


def scan(path: Path, theme: str | None) -> CityGMLAppearance | None:
    """Read the appearances of ``path`` (None when it has none), safely and streaming."""
    with path.open("rb") as fh:
        if path.stat().st_size == 0:
            return None
        with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
            if mm.find(b"Appearance") < 0:
                return None
    found = CityGMLAppearance(path.parent, theme)
    tags = ["{*}Appearance", "{*}cityObjectMember", "{*}featureMember", "{*}featureMembers"]
    context = etree.iterparse(
        str(path),
        events=("end",),
        tag=tags,
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )
    try:
        for _, elem in context:
            if local(elem.tag) == "Appearance":
                found.add(elem)
                parent = elem.getparent()
                if parent is not None and local(parent.tag) == "appearanceMember":
                    elem.clear()
                continue
            elem.clear()
            parent = elem.getparent()
            while parent is not None and elem.getprevious() is not None:
                del parent[0]
    except etree.XMLSyntaxError:
        return None  # the geometry pass reports the syntax error
    found.targets = found.textured_polygons | set(found.polygon_x3d)
    return found if found.themes else None


def _ref(text: str) -> str:
    text = text.strip()
    return text[1:] if text.startswith("#") else text


def _floats(text: str, n: int) -> list[float] | None:
    try:
        values = [float(v) for v in text.split()]
    except ValueError:
        return None
    if len(values) != n or not all(np.isfinite(values)):
        return None
    return values


def _uvs(text: str) -> NDArray[np.float32]:
    try:
        flat = np.array(text.split(), dtype=np.float64)
    except ValueError:
        return np.zeros((0, 2), np.float32)
    if flat.size % 2 or not np.isfinite(flat).all():
        return np.zeros((0, 2), np.float32)
    return flat.reshape(-1, 2).astype(np.float32)
