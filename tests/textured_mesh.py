"""Test helper: a large textured terrain mesh (OBJ + MTL + PNG) written into a folder.

A ``SIZE`` m square of gently rolling ground, ``n`` x ``n`` vertices, whose texture paints
a checker of ``CELL`` m squares, magenta and green, by ground position. The texture has
two charts with a texture seam down the middle (x = SIZE / 2): the west half maps to
u 0..0.45, the east half to u 0.55..1, the gap between them is grey. So a texel looked up
at a triangle's texture coordinates has the checker colour of the ground under that
triangle, and a texture coordinate taken across the seam would show grey.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

SIZE = 200.0
CELL = 50.0
MAGENTA, GREEN, GREY = (255, 0, 255), (0, 200, 0), (128, 128, 128)
IMAGE_PIXELS = 512
_CHART = 0.45  # u width of each chart


def checker(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """True where the ground at (x, y) is magenta, False where green."""
    return ((np.floor(x / CELL) + np.floor(y / CELL)) % 2).astype(bool)


def uv_of(x: np.ndarray, y: np.ndarray, east: np.ndarray) -> np.ndarray:
    half = SIZE / 2
    u = np.where(east, 1 - _CHART + _CHART * (x - half) / half, _CHART * x / half)
    return np.column_stack([u, y / SIZE])


def _image() -> Image.Image:
    px = (np.arange(IMAGE_PIXELS) + 0.5) / IMAGE_PIXELS
    u, v = np.meshgrid(px, 1 - px)  # rows from the top: v = 1 at row 0
    half = SIZE / 2
    x = np.where(u < 0.5, u / _CHART * half, half + (u - (1 - _CHART)) / _CHART * half)
    y = v * SIZE
    colour = np.where(checker(x, y)[..., None], MAGENTA, GREEN)
    gap = (u > _CHART) & (u < 1 - _CHART)
    colour[gap] = GREY
    return Image.fromarray(colour.astype(np.uint8))


def write(folder: Path, n: int = 120, name: str = "terrain") -> Path:
    """Write ``<name>.obj`` (z up, metres from the origin the test gives) with its MTL
    and PNG into ``folder``; return the OBJ's path."""
    folder.mkdir(parents=True, exist_ok=True)
    _image().save(folder / f"{name}.png")
    (folder / f"{name}.mtl").write_text(f"newmtl ground\nKd 1 1 1\nmap_Kd {name}.png\n")
    xs = np.linspace(0, SIZE, n)
    gx, gy = np.meshgrid(xs, xs)
    x, y = gx.ravel(), gy.ravel()
    z = 3 * np.sin(x / 23) * np.cos(y / 31)
    # Texture coordinates: one per vertex and chart; seam vertices (x = SIZE / 2 when n is
    # odd, else the column nearest it) have one in each chart.
    seam_col = int(np.argmin(np.abs(xs - SIZE / 2)))
    col = np.tile(np.arange(n), n)
    west_uv = uv_of(x, y, np.zeros(x.size, dtype=bool))
    east_uv = uv_of(x, y, np.ones(x.size, dtype=bool))
    lines = [f"mtllib {name}.mtl", f"o {name}"]
    lines += [f"v {a:.4f} {b:.4f} {c:.4f}" for a, b, c in zip(x, y, z, strict=True)]
    lines += [f"vt {u:.6f} {v:.6f}" for u, v in west_uv]
    lines += [f"vt {u:.6f} {v:.6f}" for u, v in east_uv]
    lines.append("usemtl ground")
    i = (np.arange(n - 1)[:, None] * n + np.arange(n - 1)[None, :]).ravel()
    quads = np.concatenate(
        [np.column_stack([i, i + 1, i + n + 1]), np.column_stack([i, i + n + 1, i + n])]
    )
    east = col[quads].min(axis=1) >= seam_col  # a triangle east of the seam
    for tri, is_east in zip(quads, east, strict=True):
        offset = x.size if is_east else 0
        lines.append("f " + " ".join(f"{v + 1}/{v + 1 + offset}" for v in tri))
    path = folder / f"{name}.obj"
    path.write_text("\n".join(lines) + "\n")
    return path
