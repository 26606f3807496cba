"""What a mesh refers to: files under its folder only, and its materials and images.

:class:`FolderResolver` is trimesh's file resolver kept to the mesh's folder (a name that
leaves it, ``../../etc/passwd`` or ``/etc/passwd``, or a URL, is refused and remembered
for the report, never read). :class:`Appearance` turns trimesh materials into
:class:`~tiles.model.Material` and their images into :class:`~tiles.model.TextureImage`,
each once: an image file's own bytes when the resolver read it (OBJ), else the decoded
image encoded again (PNG, or JPEG for a JPEG).
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image
from trimesh.resolvers import FilePathResolver
from trimesh.visual.material import PBRMaterial, SimpleMaterial

from ..model import Material, TextureImage

MAX_ASSET_BYTES = 512 * 1024**2  # one referenced texture or buffer
MAX_PIXELS = 16384 * 16384
IMAGE_FORMATS = ("PNG", "JPEG", "WEBP")
_NOT_IMAGES = (".mtl", ".bin")  # material libraries and glTF buffers


class FolderResolver(FilePathResolver):
    """trimesh's file resolver kept to the mesh's folder, remembering what it did."""

    def __init__(self, source: Path) -> None:
        super().__init__(str(source), allow_anywhere=False)
        self.served: dict[str, bytes] = {}
        self.refused: list[str] = []
        self.missing: list[str] = []

    def get(self, name: str) -> bytes:
        clean = name.strip().replace("\\", "/")
        if clean.lower().startswith(("http:", "https:", "ftp:", "file:")):
            self.refused.append(name)
            raise ValueError(f"{name!r}: twin reads no network or file URLs")
        escaped = False
        for candidate in (clean, clean.rsplit("/", 1)[-1]):
            try:
                target = self.absolute(candidate)
            except ValueError:
                escaped = True
                continue
            if target.is_file():
                if target.stat().st_size > MAX_ASSET_BYTES:
                    self.refused.append(name)
                    raise ValueError(f"{name!r} is larger than {MAX_ASSET_BYTES:,} bytes")
                data = target.read_bytes()
                self.served[name] = data
                return data
        (self.refused if escaped else self.missing).append(name)
        raise FileNotFoundError(name)


@dataclass
class Appearance:
    """Materials and images collected while walking the scene, deduplicated."""

    resolver: FolderResolver
    materials: list[Material] = field(default_factory=list)
    images: list[TextureImage] = field(default_factory=list)
    by_material: dict[int, int] = field(default_factory=dict)
    by_image: dict[Any, int] = field(default_factory=dict)
    rejected: list[str] = field(default_factory=list)

    def warnings(self) -> list[str]:
        """What was skipped: images of other formats or too large, files that were
        read but could not be decoded as an image (HTML, PDF, a decompression bomb)."""
        out = [
            f"texture {r} skipped: only PNG, JPEG and WebP up to {MAX_PIXELS:,} pixels are kept"
            for r in dict.fromkeys(self.rejected)
        ]
        used = {k for k in self.by_image if isinstance(k, str)}
        rejected = {r.split(" (", 1)[0] for r in self.rejected}
        for name in self.resolver.served:
            if name in used or name in rejected or name.lower().endswith(_NOT_IMAGES):
                continue
            out.append(f"{name!r} is not a readable PNG, JPEG or WebP image: skipped")
        return out

    def material(self, mat: Any) -> int:
        key = id(mat)
        if key not in self.by_material:
            self.by_material[key] = len(self.materials)
            self.materials.append(self._convert(mat))
        return self.by_material[key]

    def _convert(self, mat: Any) -> Material:
        name = str(getattr(mat, "name", "") or "")
        if isinstance(mat, PBRMaterial):
            factor = mat.baseColorFactor
            rgba = (1.0, 1.0, 1.0, 1.0) if factor is None else _rgba(factor)
            image = self.image(mat.baseColorTexture, name)
            return Material(name, rgba, image, bool(mat.doubleSided), factor is not None)
        if isinstance(mat, SimpleMaterial):
            extra = getattr(mat, "kwargs", {}) or {}
            rgba = _rgba(mat.diffuse)
            alpha = _number(extra.get("d"))
            if alpha is None and _number(extra.get("tr")) is not None:
                alpha = 1.0 - float(_number(extra.get("tr")) or 0.0)
            if alpha is not None:
                rgba = (rgba[0], rgba[1], rgba[2], min(max(alpha, 0.0), 1.0))
            return Material(name, rgba, self.image(mat.image, name), True, "kd" in extra)
        return Material(name)

    def image(self, img: Image.Image | None, material: str) -> int | None:
        if img is None:
            return None
        file_path = img.info.get("file_path")
        key = file_path if isinstance(file_path, str) else id(img)
        label = file_path if isinstance(file_path, str) else f"{material or 'texture'}"
        fmt = (img.format or "").upper()
        if (fmt and fmt not in IMAGE_FORMATS) or img.width * img.height > MAX_PIXELS:
            self.rejected.append(f"{label} ({fmt or 'unknown'}, {img.width} x {img.height})")
            return None
        if key not in self.by_image:
            data = self.resolver.served.get(file_path) if isinstance(file_path, str) else None
            if data is None:
                data, fmt = _encode(img)
            mime = "image/jpeg" if fmt in ("JPEG", "JPG") else f"image/{fmt.lower()}"
            self.by_image[key] = len(self.images)
            self.images.append(TextureImage(label, data=data, mime_type=mime))
        return self.by_image[key]


def _encode(img: Image.Image) -> tuple[bytes, str]:
    buf = io.BytesIO()
    if (img.format or "").upper() == "JPEG" and img.mode in ("RGB", "L"):
        img.save(buf, format="JPEG", quality=95)
        return buf.getvalue(), "JPEG"
    if img.mode not in ("RGB", "RGBA", "L", "LA"):
        img = img.convert("RGBA")
    img.save(buf, format="PNG")
    return buf.getvalue(), "PNG"


def _rgba(values: Any) -> tuple[float, float, float, float]:
    arr = np.asarray(values, dtype=np.float64).reshape(-1)
    if arr.size == 3:
        arr = np.append(arr, 255.0 if arr.max() > 1 else 1.0)
    if arr.max() > 1.0 or np.issubdtype(np.asarray(values).dtype, np.integer):
        arr = arr / 255.0
    c = np.clip(arr[:4], 0.0, 1.0)
    return float(c[0]), float(c[1]), float(c[2]), float(c[3])


def _number(value: Any) -> float | None:
    if isinstance(value, list | tuple):
        value = value[0] if value else None
    try:
        return None if value is None else float(value)
    except (TypeError, ValueError):
        return None
