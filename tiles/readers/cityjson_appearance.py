"""CityJSON appearances: materials and textures of one theme, per surface.

Spec: https://www.cityjson.org/specs/2.0.1/#appearance-object. The ``appearance`` member
(of the document, or of a CityJSONFeature in a CityJSONSeq) lists ``materials``
(X3D-like: ``diffuseColor``, ``transparency``...), ``textures`` (an image path relative to
the file) and ``vertices-texture`` (u, v pairs). A geometry's ``material`` and ``texture``
members map theme names to values per surface: a material index per surface, and per ring
``[texture index, uv index of each ring vertex...]``.

One theme is used (``options.appearance_theme``, else the first found in the file, for
textures and for materials each); the themes found are reported. A surface's texture and
material together become one :class:`~tiles.model.Material` (the material's colour, the
texture's image), shared by every surface with the same pair.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..model import Material, TextureImage
from ..textures import WRAP_MODES, image_path

_DEPTH = {
    "MultiSurface": 1,
    "CompositeSurface": 1,
    "Solid": 2,
    "MultiSolid": 3,
    "CompositeSolid": 3,
}


class Appearances:
    """Materials and images of a whole file, built as geometries are read."""

    def __init__(self, base_dir: Path, theme: str | None) -> None:
        self.base_dir = base_dir
        self.theme = theme
        self.materials: list[Material] = []
        self.images: list[TextureImage] = []
        self.themes: list[str] = []
        self.texture_theme: str | None = theme
        self.material_theme: str | None = theme
        self.bad_uv_rings = 0
        self._pairs: dict[tuple[Any, Any], int] = {}
        self._image_of: dict[str, int] = {}
        self.use(None)

    def use(self, appearance: Any) -> None:
        """Take materials, textures and texture vertices from an ``appearance`` member."""
        app = appearance if isinstance(appearance, dict) else {}
        self.src_materials = [m if isinstance(m, dict) else {} for m in app.get("materials") or []]
        self.src_textures = [t if isinstance(t, dict) else {} for t in app.get("textures") or []]
        uv = app.get("vertices-texture") or []
        try:
            arr = np.asarray(uv, dtype=np.float64).reshape(-1, 2)
        except (TypeError, ValueError):
            arr = np.zeros((0, 2))
        self.uv = np.where(np.isfinite(arr), arr, 0.0).astype(np.float32)

    @property
    def present(self) -> bool:
        return bool(self.src_materials or self.src_textures)

    def geometry(
        self, g: dict[str, Any], ring_sizes: list[int], polygon_sizes: list[int]
    ) -> tuple[list[int] | None, NDArray[np.float32] | None]:
        """Per polygon a material index (-1: none) and per point (u, v), for a geometry
        whose polygons :func:`surface_paths` lists in the reader's order; (None, None)
        when the geometry has no appearance in the chosen theme."""
        textures: dict[str, Any] = g["texture"] if isinstance(g.get("texture"), dict) else {}
        materials: dict[str, Any] = g["material"] if isinstance(g.get("material"), dict) else {}
        self._note_themes(list(textures), list(materials))
        tex = textures.get(self.texture_theme) if self.texture_theme else None
        mat = materials.get(self.material_theme) if self.material_theme else None
        if not isinstance(tex, dict) and not isinstance(mat, dict):
            return None, None
        tex_values = tex.get("values") if isinstance(tex, dict) else None
        mat_values = mat.get("values") if isinstance(mat, dict) else None
        mat_all = mat.get("value") if isinstance(mat, dict) else None
        uvs = np.zeros((sum(ring_sizes), 2), dtype=np.float32)
        out: list[int] = []
        ring = point = 0
        for path, n_rings in zip(surface_paths(g), polygon_sizes, strict=False):
            m = mat_all if mat_values is None else _pick(mat_values, path)
            rings = _pick_list(tex_values, path)
            t = None
            for k in range(n_rings):
                size = ring_sizes[ring + k]
                spec = rings[k] if rings is not None and k < len(rings) else None
                if isinstance(spec, list) and spec and type(spec[0]) is int:
                    idx = spec[1:]
                    if len(idx) != size or not all(
                        type(i) is int and 0 <= i < self.uv.shape[0] for i in idx
                    ):
                        self.bad_uv_rings += 1
                    else:
                        uvs[point : point + size] = self.uv[idx]
                        if k == 0:
                            t = spec[0]
                point += size
            ring += n_rings
            out.append(self._pair(m if isinstance(m, int) else None, t))
        if all(v < 0 for v in out):
            return None, None
        return out, uvs

    def _note_themes(self, textures: list[str], materials: list[str]) -> None:
        for name in (*textures, *materials):
            if name not in self.themes:
                self.themes.append(name)
        if self.texture_theme is None and textures:
            self.texture_theme = textures[0]
        if self.material_theme is None and materials:
            self.material_theme = materials[0]

    def _pair(self, m: int | None, t: int | None) -> int:
        """The model material of a (material, texture) pair of the current appearance."""
        if m is None and t is None:
            return -1
        mat = self.src_materials[m] if m is not None and m < len(self.src_materials) else None
        tex = self.src_textures[t] if t is not None and t < len(self.src_textures) else None
        key = (_freeze(mat), _freeze(tex))
        found = self._pairs.get(key)
        if found is not None:
            return found
        color, has_color = (1.0, 1.0, 1.0, 1.0), False
        if mat is not None:
            color, has_color = _colour(mat), True
        image = None
        if tex is not None and isinstance(tex.get("image"), str):
            image = self._image(tex["image"], tex.get("type"))
        name = str((mat or {}).get("name") or (tex or {}).get("image") or "")
        self.materials.append(
            Material(
                name=name,
                color=color,
                image=image,
                has_color=has_color,
                wrap=WRAP_MODES.get(str((tex or {}).get("wrapMode", "wrap")), "repeat"),
            )
        )
        self._pairs[key] = len(self.materials) - 1
        return len(self.materials) - 1

    def _image(self, uri: str, kind: Any) -> int:
        if uri not in self._image_of:
            mime = {"PNG": "image/png", "JPG": "image/jpeg"}.get(str(kind))
            path = image_path(self.base_dir, uri)
            self.images.append(TextureImage(name=uri, path=path, mime_type=mime))
            self._image_of[uri] = len(self.images) - 1
        return self._image_of[uri]

    def warnings(self) -> list[str]:
        out = []
        if self.theme is not None and self.theme not in self.themes:
            found = ", ".join(self.themes) or "none"
            out.append(f"appearance theme {self.theme!r} not found (themes: {found})")
        if self.bad_uv_rings:
            out.append(
                f"{self.bad_uv_rings} textured rings have a texture coordinate count other "
                "than their vertex count: drawn without texture coordinates"
            )
        return out

    def used(self) -> list[str]:
        used = [t for t in (self.texture_theme, self.material_theme) if t in self.themes]
        return list(dict.fromkeys(used))


def surface_paths(g: dict[str, Any]) -> Iterator[tuple[int, ...]]:
    """The index path of every non-empty surface, in the order the reader reads them."""
    depth = _DEPTH.get(str(g.get("type")), 1)

    def walk(node: Any, level: int, path: tuple[int, ...]) -> Iterator[tuple[int, ...]]:
        for i, child in enumerate(node if isinstance(node, list) else []):
            if level == depth:
                if child:
                    yield (*path, i)
            else:
                yield from walk(child, level + 1, (*path, i))

    yield from walk(g.get("boundaries"), 1, ())


def _pick(values: Any, path: tuple[int, ...]) -> Any:
    for i in path:
        if not isinstance(values, list) or i >= len(values):
            return None
        values = values[i]
    return values


def _pick_list(values: Any, path: tuple[int, ...]) -> list[Any] | None:
    found = _pick(values, path)
    return found if isinstance(found, list) else None


def _colour(mat: dict[str, Any]) -> tuple[float, float, float, float]:
    rgb = mat.get("diffuseColor")
    if not (isinstance(rgb, list) and len(rgb) == 3 and all(_number(c) for c in rgb)):
        rgb = [0.8, 0.8, 0.8]  # the X3D default diffuse colour
    alpha = 1.0 - float(mat["transparency"]) if _number(mat.get("transparency")) else 1.0
    r, g, b = (min(max(float(c), 0.0), 1.0) for c in rgb)
    return (r, g, b, min(max(alpha, 0.0), 1.0))


def _number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and np.isfinite(v)


def _freeze(d: dict[str, Any] | None) -> Any:
    if d is None:
        return None
    return tuple(sorted((k, repr(v)) for k, v in d.items()))
