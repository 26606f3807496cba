"""Texture images: found safely, checked once, downscaled, packed per tile into atlases.

Readers name images (:class:`~tiles.model.TextureImage`); :func:`prepare` opens each one
before tiling (header only), so a missing, unreadable or unsafe image is one warning with
the number of triangles that use it, and those triangles fall back to their material's
colour (or to the default styling when the texture had none). :func:`pack_tile` then, per
tile, decodes the images it needs (downscaled to ``max_texture_size``), packs the small
ones whose texture coordinates stay within 0..1 into one atlas, crops each larger image to
the part the tile's triangles use (a mesh split into chunks, or a shared atlas, would
otherwise put the whole image in every tile), and re-encodes everything as JPEG, or PNG
where the image has transparency.

Only PNG, JPEG and WebP images are accepted, by content; Pillow's decompression-bomb guard
stays on; an image path must stay inside the source file's folder (no URL, no absolute
path, no ``..`` out of it).
"""

from __future__ import annotations

import io
from collections import Counter, OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from .errors import InputError
from .model import Feature, Material, SourceData, TextureImage

FORMATS = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp"}
WRAP = {"repeat": 10497, "mirror": 33648, "clamp": 33071}
MIN_TEXTURE_SIZE, MAX_TEXTURE_SIZE = 4, 16384
#: A source image above this many pixels is refused (as missing), before it is decoded.
MAX_SOURCE_PIXELS = 8192 * 8192
_PAD = 2  # pixels of edge colour around each atlas entry, against bleeding
_UV_SLACK = 1e-3  # texture coordinates this far outside 0..1 still count as inside
#: An image is cropped to what a tile uses when that is at most this share of its pixels
#: (above it, the whole image: the same bytes in every tile, encoded once).
_CROP_SHARE = 0.75
_CACHE_PIXELS = 64_000_000
_CACHE_BYTES = 32_000_000  # encoded images kept for the next tiles
_TRY_PNG_PIXELS = 256 * 256


#: CityJSON ``wrapMode`` and CityGML ``wrapMode`` values -> the sampler wrap the writer uses.
WRAP_MODES = {
    "wrap": "repeat",
    "mirror": "mirror",
    "clamp": "clamp",
    "border": "clamp",
    "none": "clamp",
}


def image_path(base_dir: Path, uri: str) -> Path | None:
    """The file ``uri`` names relative to ``base_dir``, or None when it is a URL, an
    absolute path or leads out of ``base_dir`` (the reference is then reported missing)."""
    uri = uri.strip().replace("\\", "/")
    if not uri or "\0" in uri:
        return None
    if len(urlsplit(uri).scheme) > 1:  # a URL (one letter is a Windows drive)
        return None
    base = base_dir.resolve()
    for candidate in (uri, unquote(uri)):
        path = (base / candidate).resolve()
        if path.is_relative_to(base) and path.is_file():
            return path
    path = (base / uri).resolve()
    return path if path.is_relative_to(base) else None


@dataclass
class Appearance:
    """What the writer needs for every tile, and what the report says."""

    materials: list[Material]
    images: list[TextureImage]
    max_size: int
    usable: list[bool]  # per image: found and decodable header
    pixels: list[tuple[int, int]]  # per image: size after downscaling
    has_alpha: list[bool]
    themes: list[str] = field(default_factory=list)
    themes_used: list[str] = field(default_factory=list)
    missing: dict[str, int] = field(default_factory=dict)  # image name -> triangles
    embedded: set[int] = field(default_factory=set)
    atlases: int = 0
    #: Images a tile embeds cropped to the part its triangles use, counted per tile.
    cropped: int = 0
    texture_bytes: int = 0
    #: Of ``texture_bytes``, those in parent tiles (reduced-size images, tiles/lod.py).
    parent_texture_bytes: int = 0
    _cache: OrderedDict[int, Image.Image] = field(default_factory=OrderedDict)
    _scaled: OrderedDict[tuple[int, tuple[int, int]], Image.Image] = field(
        default_factory=OrderedDict
    )
    _encoded: OrderedDict[tuple[int, tuple[int, int], int], tuple[bytes, str]] = field(
        default_factory=OrderedDict
    )

    def encoded(self, i: int, size: tuple[int, int], quality: int) -> tuple[bytes, str]:
        """Image ``i`` at ``size``, encoded (the last few are cached: every tile that
        embeds the same image whole embeds the same bytes)."""
        key = (i, size, quality)
        if key in self._encoded:
            self._encoded.move_to_end(key)
        else:
            self._encoded[key] = _encode(self.scaled(i, size), quality)
            while sum(len(d) for d, _ in self._encoded.values()) > _CACHE_BYTES:
                if len(self._encoded) == 1:
                    break
                self._encoded.popitem(last=False)
        return self._encoded[key]

    def image(self, i: int) -> Image.Image:
        """Image ``i`` decoded and downscaled (a few are cached)."""
        if i in self._cache:
            self._cache.move_to_end(i)
            return self._cache[i]
        img = _decode(self.images[i], self.max_size)
        self._cache[i] = img
        while sum(c.width * c.height for c in self._cache.values()) > _CACHE_PIXELS:
            if len(self._cache) == 1:
                break
            self._cache.popitem(last=False)
        return img

    def scaled(self, i: int, size: tuple[int, int]) -> Image.Image:
        """Image ``i`` resized to ``size`` (parent tiles and atlases; a few are cached, so
        the parents of one level resize each image once)."""
        img = self.image(i)
        if img.size == size:
            return img
        key = (i, size)
        if key not in self._scaled:
            self._scaled[key] = img.resize(size, Image.Resampling.LANCZOS)
            while sum(c.width * c.height for c in self._scaled.values()) > _CACHE_PIXELS // 4:
                if len(self._scaled) == 1:
                    break
                self._scaled.popitem(last=False)
        else:
            self._scaled.move_to_end(key)
        return self._scaled[key]

    def report(self) -> dict[str, Any]:
        return {
            "themes": self.themes,
            "themes_used": self.themes_used,
            "materials": len(self.materials),
            "images": len(self.images),
            "textures_embedded": len(self.embedded),
            "missing_images": dict(sorted(self.missing.items())),
            "atlases": self.atlases,
            "cropped_textures": self.cropped,
            "texture_bytes": self.texture_bytes,
            "parent_texture_bytes": self.parent_texture_bytes,
        }


def prepare(data: SourceData, max_size: int) -> tuple[Appearance | None, list[str]]:
    """Check every image; point triangles of missing ones at their fallback. Returns the
    appearance (None without any) and warnings for the report."""
    if not MIN_TEXTURE_SIZE <= max_size <= MAX_TEXTURE_SIZE:
        raise InputError(
            f"the maximum texture size must be {MIN_TEXTURE_SIZE} to {MAX_TEXTURE_SIZE} "
            f"pixels, not {max_size}"
        )
    if not data.materials:
        return None, []
    usable, pixels, alpha, reasons = [], [], [], []
    for img in data.images:
        size, has_alpha, reason = _probe(img)
        usable.append(reason is None)
        reasons.append(reason)
        scale = min(1.0, max_size / max(size)) if size[0] and size[1] else 1.0
        pixels.append((max(1, round(size[0] * scale)), max(1, round(size[1] * scale))))
        alpha.append(has_alpha)
    # A material whose image is unusable keeps its colour, or leaves the default styling.
    remap = np.arange(len(data.materials) + 1, dtype=np.int32) - 1  # index m + 1 -> new
    materials = []
    for m, mat in enumerate(data.materials):
        if mat.image is not None and not usable[mat.image]:
            if not mat.has_color:
                remap[m + 1] = -1
            mat = Material(mat.name, mat.color, None, mat.double_sided, True, mat.wrap)
        materials.append(mat)
    per_material: Counter[int] = Counter()
    seen: set[int] = set()
    for f in data.features:
        if f.mesh.materials is not None and id(f.mesh) not in seen:
            seen.add(id(f.mesh))
            ids, counts = np.unique(f.mesh.materials, return_counts=True)
            per_material.update(dict(zip(ids.tolist(), counts.tolist(), strict=True)))
            f.mesh.materials = remap[f.mesh.materials + 1]
    missing: Counter[str] = Counter()
    missing_reason: dict[str, str] = {}
    for m, mat in enumerate(data.materials):
        if mat.image is not None and not usable[mat.image]:  # counted even at 0 triangles
            name = data.images[mat.image].name
            missing[name] += per_material[m]
            missing_reason[name] = reasons[mat.image] or ""
    warnings = [
        f"texture image {name!r} {missing_reason[name]}: {n} triangles drawn with the "
        "material colour or the default styling instead"
        for name, n in sorted(missing.items())
    ]
    app = Appearance(
        materials, data.images, max_size, usable, pixels, alpha, data.themes, data.themes_used
    )
    app.missing = dict(missing)
    return app, warnings


def _probe(img: TextureImage) -> tuple[tuple[int, int], bool, str | None]:
    """Size, transparency and the reason it cannot be used (None: usable), header only."""
    if img.data is None and (img.path is None or not img.path.is_file()):
        return (0, 0), False, "not found (or outside the source folder)"
    try:
        with Image.open(_source(img)) as im:
            if im.format not in FORMATS:
                return (0, 0), False, f"is {im.format or 'not an image'}, not PNG, JPEG or WebP"
            if im.width * im.height > MAX_SOURCE_PIXELS:
                return (0, 0), False, f"is too large ({im.width} × {im.height} pixels)"
            alpha = im.mode in ("RGBA", "LA", "PA") or "transparency" in im.info
            return (im.width, im.height), alpha, None
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        return (0, 0), False, f"cannot be read ({exc.__class__.__name__})"


def _source(img: TextureImage) -> io.BytesIO | Path:
    if img.data is not None:
        return io.BytesIO(img.data)
    if img.path is None:
        raise FileNotFoundError(img.name)
    return img.path


def _decode(img: TextureImage, max_size: int) -> Image.Image:
    with Image.open(_source(img)) as im:
        im.draft("RGB", (max_size, max_size))
        alpha = im.mode in ("RGBA", "LA", "PA") or "transparency" in im.info
        out = im.convert("RGBA" if alpha else "RGB")
    if alpha and out.getchannel("A").getextrema()[0] == 255:
        out = out.convert("RGB")
    if max(out.size) > max_size:
        out.thumbnail((max_size, max_size), Image.Resampling.LANCZOS)
    return out


def feature_costs(features: list[Feature], app: Appearance | None) -> NDArray[np.int64]:
    """Estimated texture bytes of each feature: its share of each image it uses, plus
    its texture coordinates (for the tile size budget)."""
    costs = np.zeros(len(features), dtype=np.int64)
    if app is None:
        return costs
    image_of = np.array([-1 if m.image is None else m.image for m in app.materials] + [-1])
    users: Counter[int] = Counter()
    used: list[NDArray[np.int64]] = []
    for f in features:
        mats = f.mesh.materials
        imgs = np.unique(image_of[mats]) if mats is not None else np.zeros(0, np.int64)
        imgs = imgs[imgs >= 0]
        used.append(imgs)
        users.update(imgs.tolist())
    for k, (f, imgs) in enumerate(zip(features, used, strict=True)):
        if imgs.size:
            share = sum(_image_bytes(app.pixels[i]) // users[i] for i in imgs.tolist())
            costs[k] = share + 8 * f.mesh.positions.shape[0]
    return costs


def _image_bytes(size: tuple[int, int]) -> int:
    return size[0] * size[1] // 4  # JPEG at quality 85 averages well under a byte a pixel


@dataclass
class TileTextures:
    """A tile's images (encoded), glTF textures and samplers, and for every model
    material the glTF texture and the (scale u, scale v, offset u, offset v) that takes its
    texture coordinates into the image (v already flipped to glTF's top-left origin)."""

    images: list[tuple[bytes, str]] = field(default_factory=list)
    textures: list[dict[str, int]] = field(default_factory=list)
    samplers: list[dict[str, int]] = field(default_factory=list)
    texture_of: dict[int, int] = field(default_factory=dict)
    transform: dict[int, tuple[float, float, float, float]] = field(default_factory=dict)
    alpha: dict[int, bool] = field(default_factory=dict)
    #: Materials drawn from a cropped image: their coordinates are clamped into 0..1 (the
    #: slack allowed outside it would reach past the crop; the sampler clamps the same).
    clamped: set[int] = field(default_factory=set)

    def uv(self, m: int, uvs: NDArray[np.float32]) -> NDArray[np.float32]:
        su, sv, ou, ov = self.transform[m]
        out = np.empty_like(uvs, dtype=np.float32)
        out[:, 0] = ou + uvs[:, 0] * su
        out[:, 1] = ov + (1.0 - uvs[:, 1]) * sv
        if m in self.clamped:
            np.clip(out, 0.0, 1.0, out=out)
        return out


def pack_tile(
    app: Appearance,
    groups: dict[int, NDArray[np.float32]],
    encode_quality: int = 85,
    max_size: int | None = None,
) -> TileTextures:
    """Textures of one tile; ``groups`` maps each textured model material used in the tile
    to the texture coordinates of its vertices. A ``max_size`` below the appearance's
    (a parent tile) scales every image by ``max_size / app.max_size`` and packs atlases of
    that size."""
    out = TileTextures()
    size = app.max_size if max_size is None else min(max_size, app.max_size)
    scale = size / app.max_size
    pixels = {i: _scaled(app.pixels[i], scale) for i in range(len(app.pixels))}
    by_image: dict[int, list[int]] = {}
    inside: dict[int, bool] = {}
    for m, uvs in groups.items():
        i = app.materials[m].image
        if i is None or not app.usable[i]:
            continue
        by_image.setdefault(i, []).append(m)
        ok = bool(uvs.size == 0 or (uvs.min() >= -_UV_SLACK and uvs.max() <= 1 + _UV_SLACK))
        inside[i] = inside.get(i, True) and ok
    half = size // 2
    small = [i for i in by_image if inside[i] and pixels[i][0] <= half and pixels[i][1] <= half]
    atlas_members = small if len(small) > 1 else []
    for i in by_image:
        if i in atlas_members:
            continue
        image = app.scaled(i, pixels[i])
        crop = _crop_box(pixels[i], [groups[m] for m in by_image[i]]) if inside[i] else None
        if crop is not None:
            x0, y0, x1, y1 = crop
            (w, h), cw, ch = pixels[i], x1 - x0, y1 - y0
            image = image.crop(crop)
            data, wrap = _encode(image, encode_quality), "clamp"
            transform = (w / cw, h / ch, -x0 / cw, -y0 / ch)
            app.cropped += 1
        else:
            wraps = {app.materials[m].wrap for m in by_image[i]}
            wrap = next(iter(wraps)) if len(wraps) == 1 else "repeat"  # mixed: repeat
            data, transform = app.encoded(i, pixels[i], encode_quality), (1.0, 1.0, 0.0, 0.0)
        t = _add_texture(out, data, wrap)
        for m in by_image[i]:
            out.texture_of[m], out.transform[m] = t, transform
            out.alpha[m] = image.mode == "RGBA"
            if crop is not None:
                out.clamped.add(m)
        app.embedded.add(i)
    for page in _shelves([(i, *pixels[i]) for i in atlas_members], size):
        atlas, places = _compose(app, page)
        t = _add_texture(out, _encode(atlas, encode_quality), "clamp")
        app.atlases += 1
        w, h = atlas.size
        for i, (x, y, iw, ih) in places.items():
            for m in by_image[i]:
                out.texture_of[m] = t
                out.transform[m] = (iw / w, ih / h, x / w, y / h)
                out.alpha[m] = atlas.mode == "RGBA"
            app.embedded.add(i)
    tile_bytes = sum(len(data) for data, _ in out.images)
    app.texture_bytes += tile_bytes
    if size < app.max_size:
        app.parent_texture_bytes += tile_bytes
    return out


def _crop_box(
    size: tuple[int, int], uv_sets: list[NDArray[np.float32]]
) -> tuple[int, int, int, int] | None:
    """The pixel box (left, top, right, bottom) of an image of ``size`` that texture
    coordinates within 0..1 reach, with ``_PAD`` pixels of margin against bleeding; None
    when that is most of the image (or nothing)."""
    uvs = [u for u in uv_sets if u.size]
    if not uvs:
        return None
    lo = np.clip(np.min([u.min(axis=0) for u in uvs], axis=0), 0.0, 1.0)
    hi = np.clip(np.max([u.max(axis=0) for u in uvs], axis=0), 0.0, 1.0)
    w, h = size
    left = max(0, int(np.floor(lo[0] * w)) - _PAD)
    right = min(w, int(np.ceil(hi[0] * w)) + _PAD)
    top = max(0, int(np.floor((1.0 - hi[1]) * h)) - _PAD)  # v up, image rows down
    bottom = min(h, int(np.ceil((1.0 - lo[1]) * h)) + _PAD)
    if (right - left) * (bottom - top) > _CROP_SHARE * w * h:
        return None
    return left, top, right, bottom


def _scaled(size: tuple[int, int], scale: float) -> tuple[int, int]:
    """An image's size at ``scale``, never below ``MIN_TEXTURE_SIZE`` (nor above it)."""
    if scale >= 1.0:
        return size
    return (
        min(size[0], max(MIN_TEXTURE_SIZE, round(size[0] * scale))),
        min(size[1], max(MIN_TEXTURE_SIZE, round(size[1] * scale))),
    )


def _add_texture(out: TileTextures, image: tuple[bytes, str], wrap: str) -> int:
    out.images.append(image)
    sampler = {"magFilter": 9729, "minFilter": 9987, "wrapS": WRAP[wrap], "wrapT": WRAP[wrap]}
    if sampler not in out.samplers:
        out.samplers.append(sampler)
    out.textures.append({"source": len(out.images) - 1, "sampler": out.samplers.index(sampler)})
    return len(out.textures) - 1


def _encode(img: Image.Image, quality: int) -> tuple[bytes, str]:
    """PNG where the image has transparency, else JPEG; a small image also tries PNG and
    keeps the smaller (flat colours compress better losslessly, without JPEG's ringing)."""
    png = io.BytesIO()
    if img.mode == "RGBA" or img.width * img.height <= _TRY_PNG_PIXELS:
        img.save(png, "PNG")
        if img.mode == "RGBA":
            return png.getvalue(), "image/png"
    jpeg = io.BytesIO()
    img.save(jpeg, "JPEG", quality=quality)
    if png.tell() and png.tell() <= jpeg.tell():
        return png.getvalue(), "image/png"
    return jpeg.getvalue(), "image/jpeg"


def _shelves(
    items: list[tuple[int, int, int]], max_size: int
) -> list[list[tuple[int, int, int, int, int]]]:
    """Shelf packing into pages of ``max_size`` square: (image, x, y, w, h) per page."""
    pages: list[list[tuple[int, int, int, int, int]]] = []
    page: list[tuple[int, int, int, int, int]] = []
    x = y = shelf = 0
    for i, w, h in sorted(items, key=lambda t: (-t[2], -t[1], t[0])):
        pw, ph = w + 2 * _PAD, h + 2 * _PAD
        if x + pw > max_size:
            x, y, shelf = 0, y + shelf, 0
        if y + ph > max_size:
            pages.append(page)
            page, x, y, shelf = [], 0, 0, 0
        page.append((i, x + _PAD, y + _PAD, w, h))
        x += pw
        shelf = max(shelf, ph)
    if page:
        pages.append(page)
    return pages


def _compose(
    app: Appearance, page: list[tuple[int, int, int, int, int]]
) -> tuple[Image.Image, dict[int, tuple[int, int, int, int]]]:
    width = max(x + w + _PAD for _, x, _, w, _ in page)
    height = max(y + h + _PAD for _, _, y, _, h in page)
    images = {i: app.scaled(i, (w, h)) for i, _, _, w, h in page}
    mode = "RGBA" if any(im.mode == "RGBA" for im in images.values()) else "RGB"
    atlas = Image.new(mode, (width, height))
    places = {}
    for i, x, y, w, h in page:
        img = images[i].convert(mode)
        # The edges stretched into the padding, then the image itself.
        atlas.paste(img.resize((w + 2 * _PAD, h + 2 * _PAD)), (x - _PAD, y - _PAD))
        atlas.paste(img, (x, y))
        places[i] = (x, y, w, h)
    return atlas, places
