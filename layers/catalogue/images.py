"""Project images: accept PNG, JPEG and WebP by content, re-encode, store by hash.

An upload is identified by its bytes (Pillow, restricted to three formats), never by its
name or declared type. Pillow's decompression-bomb guard stays on, and a tighter pixel cap
is checked from the header before any pixel is decoded. The image is then decoded and
written again in the same format: EXIF, XMP, ICC profiles, comments and trailing bytes are
dropped (orientation is applied first), animations keep their first frame only.

Files live under ``<data_dir>/images/<sha[:2]>/<sha>.<ext>``: content-addressed, written
atomically (temp file + rename) before the database row is committed, so a crash leaves at
worst an unreferenced file, never a row without its file.
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

from .errors import InvalidProject

#: Largest upload accepted (bytes), before decoding.
MAX_BYTES = 10 * 1024 * 1024
#: Largest image accepted (checked from the header, before decoding).
MAX_SIDE = 10_000
MAX_PIXELS = 40_000_000
#: Stored images are scaled down to fit this side length.
STORE_SIDE = 4096

FORMATS = {
    "PNG": ("image/png", "png"),
    "JPEG": ("image/jpeg", "jpg"),
    "WEBP": ("image/webp", "webp"),
}
EXTENSIONS = {ctype: ext for ctype, ext in FORMATS.values()}

assert Image.MAX_IMAGE_PIXELS is not None, "Pillow's decompression-bomb guard must stay on"
assert MAX_PIXELS < Image.MAX_IMAGE_PIXELS


class UnsupportedImage(InvalidProject):
    """Not a PNG, JPEG or WebP image (by content), or a damaged one."""

    code = "unsupported_image"


class ImageTooLarge(InvalidProject):
    """Too many bytes or pixels (including decompression bombs)."""

    code = "image_too_large"


@dataclass(frozen=True)
class CleanImage:
    data: bytes
    content_type: str
    width: int
    height: int
    sha256: str


def clean_image(data: bytes) -> CleanImage:
    """Validate ``data`` by content and re-encode it without metadata."""
    if len(data) > MAX_BYTES:
        raise ImageTooLarge(f"an image may be at most {MAX_BYTES // 2**20} MB", field="image")
    if not data:
        raise UnsupportedImage("the image is empty", field="image")
    try:
        # open() reads the header only; Pillow raises DecompressionBombError itself past
        # twice MAX_IMAGE_PIXELS, and our caps (well below its limit) are checked before
        # load() decodes a single pixel. (No warnings.catch_warnings: not thread-safe.)
        img: Image.Image = Image.open(io.BytesIO(data), formats=list(FORMATS))
        fmt = img.format or ""
        width, height = img.size
        if width > MAX_SIDE or height > MAX_SIDE or width * height > MAX_PIXELS:
            raise ImageTooLarge(
                f"the image is {width}×{height} pixels; at most {MAX_SIDE} pixels a side "
                f"and {MAX_PIXELS // 1_000_000} megapixels are accepted",
                field="image",
            )
        img.load()
        img = ImageOps.exif_transpose(img)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageTooLarge(f"the image is too large to decode: {exc}", field="image") from exc
    except UnidentifiedImageError as exc:
        raise UnsupportedImage("the file is not a PNG, JPEG or WebP image", field="image") from exc
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise UnsupportedImage(f"the image could not be read: {exc}", field="image") from exc
    if fmt not in FORMATS:  # pragma: no cover  (formats= restricts this already)
        raise UnsupportedImage("the file is not a PNG, JPEG or WebP image", field="image")
    return _encode(img, fmt)


def _encode(img: Image.Image, fmt: str) -> CleanImage:
    img.thumbnail((STORE_SIDE, STORE_SIDE))
    if fmt == "JPEG":
        img = img.convert("L" if img.mode in ("1", "L") else "RGB")
        options: dict[str, object] = {"quality": 88, "optimize": True}
    elif fmt == "PNG":
        if img.mode not in ("1", "L", "LA", "P", "RGB", "RGBA"):
            img = img.convert("RGBA")
        options = {"optimize": True}
    else:
        has_alpha = img.mode in ("RGBA", "LA", "PA") or "transparency" in img.info
        img = img.convert("RGBA" if has_alpha else "RGB")
        options = {"quality": 85}
    # A fresh image without the source's info dict: no EXIF, XMP, ICC, text chunks.
    clean = Image.new(img.mode, img.size)
    if img.mode == "P":
        palette = img.getpalette()
        if palette is not None:
            clean.putpalette(palette)
        if "transparency" in img.info:
            options["transparency"] = img.info["transparency"]
    clean.paste(img)
    out = io.BytesIO()
    clean.save(out, format=fmt, **options)
    data = out.getvalue()
    content_type = FORMATS[fmt][0]
    return CleanImage(
        data, content_type, clean.width, clean.height, hashlib.sha256(data).hexdigest()
    )


def image_path(image_dir: Path, sha256: str, content_type: str) -> Path:
    return image_dir / sha256[:2] / f"{sha256}.{EXTENSIONS[content_type]}"


def write_image(image_dir: Path, image: CleanImage) -> Path:
    """Store ``image`` (idempotent: the same bytes give the same file)."""
    path = image_path(image_dir, image.sha256, image.content_type)
    if path.is_file():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(image.data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
