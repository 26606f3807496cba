"""Reading what the viewer draws: a pixel of the CesiumJS canvas right after the next
frame, and comparing lit colours (lighting scales a surface's colour, so hue and
saturation are compared, not brightness)."""

from __future__ import annotations

import math
from typing import Any

from .conftest import ViewerPage

PIXEL_JS = """([x, y]) => new Promise((resolve) => {
    const viewer = window.twin.viewer;
    const gl = viewer.canvas.getContext("webgl2") || viewer.canvas.getContext("webgl");
    const remove = viewer.scene.postRender.addEventListener(() => {
        remove();
        const rect = viewer.canvas.getBoundingClientRect();
        const ratio = gl.drawingBufferWidth / rect.width;
        const px = Math.round((x - rect.left) * ratio);
        const py = gl.drawingBufferHeight - 1 - Math.round((y - rect.top) * ratio);
        const out = new Uint8Array(4);
        gl.readPixels(px, py, 1, 1, gl.RGBA, gl.UNSIGNED_BYTE, out);
        resolve([out[0], out[1], out[2]]);
    });
    viewer.scene.requestRender();
})"""


def rgb(css: str) -> tuple[int, int, int]:
    return (int(css[1:3], 16), int(css[3:5], 16), int(css[5:7], 16))


def canvas_pixel(vp: ViewerPage, x: float, y: float) -> tuple[int, int, int]:
    """The rendered pixel at client (x, y), read from the drawing buffer right after the next
    frame (a page screenshot takes 15-30 s on a busy software renderer)."""
    r, g, b = vp.page.evaluate(PIXEL_JS, [x, y])
    return (int(r), int(g), int(b))


def angle(a: tuple[int, int, int], b: tuple[int, int, int]) -> float:
    """Angle between two colours as RGB vectors: lighting scales a surface's colour, this
    compares hue and saturation."""
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    na = math.sqrt(sum(x * x for x in a)) or 1e-9
    nb = math.sqrt(sum(x * x for x in b)) or 1e-9
    return math.acos(max(-1.0, min(1.0, dot / (na * nb))))


def nearest(pixel: tuple[int, int, int], colours: list[str]) -> str:
    """Which of the CSS colours `pixel` is, lit."""
    return min(colours, key=lambda c: angle(pixel, rgb(c)))


#: The search of :func:`interior`, in the page.
INTERIOR_JS = """({id, type, avoid, margin, step, reach, uncovered}) => {
    const scene = window.twin.viewer.scene, canvas = scene.canvas;
    const rect = canvas.getBoundingClientRect();
    const cx = Math.round(rect.left + rect.width / 2);
    const cy = Math.round(rect.top + rect.height / 2);
    const around = [[margin, 0], [-margin, 0], [0, margin], [0, -margin]];
    const wanted = (hit) => hit && (id === null || hit.id === id)
        && (type === null || hit.type === type) && hit.id !== avoid;
    const onTop = (x, y) => scene.pick(new Cesium.Cartesian2(x - rect.left, y - rect.top))
        instanceof Cesium.Cesium3DTileFeature;
    for (let r = 0; r <= reach; r += step) {
        for (let dx = -r; dx <= r; dx += step) {
            for (let dy = -r; dy <= r; dy += step) {
                if (Math.max(Math.abs(dx), Math.abs(dy)) !== r) continue;
                const x = cx + dx, y = cy + dy;
                if (document.elementFromPoint(x, y) !== canvas) continue;
                const hit = window.twin.pickAt(x, y);
                if (!wanted(hit) || (uncovered && !onTop(x, y))) continue;
                const same = ([a, b]) => window.twin.pickAt(x + a, y + b)?.id === hit.id;
                if (around.every(same)) return {...hit, x, y};
            }
        }
    }
    return null;
}"""


def interior(
    vp: ViewerPage,
    *,
    id: str | None = None,
    type: str | None = None,
    avoid: str | None = None,
    margin: int = 2,
    step: int = 8,
    reach: int = 200,
    uncovered: bool = False,
) -> dict[str, Any] | None:
    """A client point well inside an object (`id`, or any of `type` but `avoid`), nearest
    the middle of the map: the same object `margin` px around it, so the pixel there is the
    object's own; with `uncovered`, nothing drawn over it either (a project's area). Picks
    from the middle outwards, without findFeatureScreenPosition's time limit (a busy
    machine). Returns {layer, id, type, x, y} or None."""
    found: dict[str, Any] | None = vp.page.evaluate(
        INTERIOR_JS,
        {
            "id": id,
            "type": type,
            "avoid": avoid,
            "margin": margin,
            "step": step,
            "reach": reach,
            "uncovered": uncovered,
        },
    )
    return found
