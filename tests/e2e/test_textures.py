"""A textured building in the real viewer: the canvas shows its texture's colours.

The fixture's walls carry a checker of saturated magenta and green that the default styling
never produces. Its copy 300 m east has no image files (the reader falls back to the
default styling), so the same camera view of it must show neither colour.

A large textured mesh (tests/textured_mesh.py: ground painted with the same two colours)
is split into tiles with a simplified parent; seen from afar with refinement held back,
only the parent is drawn, and it still shows the texture's colours.
"""

from __future__ import annotations

import io
import json
import shutil
import zipfile
from collections.abc import Iterator

import numpy as np
import pytest
import textured_mesh
from PIL import Image
from playwright.sync_api import Browser
from twinproc import stop

from .conftest import (
    DESKTOP,
    LOCALE,
    REPO,
    VIEWER_READY_MS,
    ViewerPage,
    _free_port,
    _run_twin,
    _wait_healthy,
)

pytestmark = pytest.mark.browser

FIXTURE = REPO / "tests" / "fixtures" / "cityjson" / "textured"
#: Looking north at the south walls, slightly from above.
VIEW = {"heading": 0.0, "pitch": -0.25, "range": 45.0}
#: Where the textured ground lies (SWEREF 99 TM, Helsingborg), 20 m above the ellipsoid.
TERRAIN_ORIGIN = ("361000", "6214000", "20")


@pytest.fixture(scope="module")
def textured_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``twin serve`` with the textured fixture (a zip: the file and its images, as a user
    uploads it) and, 300 m east, the same file alone, without its images."""
    data_dir = tmp_path_factory.mktemp("twin-textures")
    sources = tmp_path_factory.mktemp("sources")
    textured = sources / "textured.zip"
    with zipfile.ZipFile(textured, "w") as zf:
        for path in sorted(FIXTURE.rglob("*")):
            if path.is_file() and not path.name.endswith(".jsonl"):
                zf.write(path, path.relative_to(FIXTURE).as_posix())
    plain = sources / "plain.city.json"
    doc = json.loads((FIXTURE / "textured.city.json").read_text())
    doc["transform"]["translate"][0] += 300.0
    plain.write_text(json.dumps(doc))  # no appearance folder beside it
    for layer, source in (("textured", textured), ("plain", plain)):
        done = _run_twin(data_dir, "import", str(source), "--layer", layer, timeout=300)
        assert done.returncode == 0, f"twin import failed:\n{done.stdout}\n{done.stderr}"
    # 200 x 200 vertices: more than one tile's budget, so chunks under a parent.
    ground = textured_mesh.write(sources / "terrain", n=200)
    terrain = sources / "terrain.zip"
    with zipfile.ZipFile(terrain, "w") as zf:
        for path in sorted(ground.parent.iterdir()):
            zf.write(path, path.name)
    done = _run_twin(
        data_dir,
        "import",
        str(terrain),
        "--layer",
        "terrain",
        "--crs",
        "EPSG:3006",
        "--origin",
        *TERRAIN_ORIGIN,
        timeout=300,
    )
    assert done.returncode == 0, f"twin import failed:\n{done.stdout}\n{done.stderr}"
    port = _free_port()
    log = data_dir / "serve.log"
    proc = _run_twin(data_dir, "serve", "--port", str(port), log=log)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, proc, log)
        yield url
    finally:
        stop(proc)
        shutil.rmtree(data_dir, ignore_errors=True)


def _look_at(vp: ViewerPage, layer: str) -> None:
    """Put the camera on ``layer``'s tileset, then wait until its tiles are drawn."""
    vp.page.evaluate(
        """async ([layer, view]) => {
            const viewer = window.twin.viewer;
            const prims = viewer.scene.primitives;
            let tileset = null;
            for (let i = 0; i < prims.length; i++) {
                const p = prims.get(i);
                const url = p && (p.resource?.url || p._resource?.url || p._url);
                if (p && p.boundingSphere && String(url || "").includes(`/${layer}/`)) {
                    tileset = p;
                }
            }
            if (!tileset) throw new Error("no tileset for " + layer);
            viewer.camera.flyToBoundingSphere(tileset.boundingSphere, {
                duration: 0,
                offset: { heading: view.heading, pitch: view.pitch, range: view.range },
            });
            viewer.scene.requestRender();
        }""",
        [layer, VIEW],
    )
    _settle(vp, layer)


def _colours(vp: ViewerPage, name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Canvas pixels: masks of magenta-ish and green-ish pixels, and the image."""
    png = vp.page.locator(".cesium-widget canvas").first.screenshot()
    img = np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)
    Image.fromarray(img.astype(np.uint8)).save(vp.screenshot(name))
    r, g, b = img[..., 0], img[..., 1], img[..., 2]
    magenta = (r > g + 60) & (b > g + 60)
    green = (g > r + 50) & (g > b + 50)
    return magenta, green, img


def test_texture_colours_show_on_the_building_and_not_without_it(
    browser: Browser, textured_server: str
) -> None:
    context = browser.new_context(viewport=DESKTOP, locale=LOCALE)
    try:
        vp = ViewerPage(context.new_page(), textured_server)
        vp.page.on("pageerror", lambda e: vp.errors.append(f"pageerror: {e}"))
        console: list[str] = []
        vp.page.on("console", lambda m: console.append(f"{m.type}: {m.text}"))
        vp.open()
        vp.page.wait_for_function(
            """() => window.twin && window.twin.ready && window.twin.layers.textured?.loaded
                && window.twin.layers.plain?.loaded""",
            timeout=VIEWER_READY_MS,
        )
        _look_at(vp, "textured")
        magenta, green, _ = _colours(vp, "textures-textured.png")
        assert magenta.sum() > 200, f"only {magenta.sum()} magenta pixels; console: {console}"
        assert green.sum() > 200, f"only {green.sum()} green pixels"
        # Where those colours are, the building is: picking there finds object A.
        box = vp.page.locator(".cesium-widget canvas").first.bounding_box()
        assert box is not None
        for mask in (magenta, green):
            ys, xs = np.nonzero(mask)
            x, y = float(np.median(xs)) + box["x"], float(np.median(ys)) + box["y"]
            hit = vp.pick(x, y)
            assert hit is not None, (x, y)
            assert (hit["layer"], hit["id"]) == ("textured", "A"), (x, y, hit)
        # The same view of the copy without images: the default styling, no checker.
        _look_at(vp, "plain")
        magenta, green, img = _colours(vp, "textures-plain.png")
        assert magenta.sum() < 20, magenta.sum()
        assert green.sum() < 20, green.sum()
        shown = vp.find_feature("Building")  # the copy is in view, drawn without texture
        assert shown["layer"] == "plain", shown
        assert (img.std(axis=(0, 1)) > 5).any()
        assert not vp.errors, vp.errors
    finally:
        context.close()


def test_a_far_view_draws_only_the_parent_and_it_keeps_the_texture(
    browser: Browser, textured_server: str
) -> None:
    context = browser.new_context(viewport=DESKTOP, locale=LOCALE)
    try:
        vp = ViewerPage(context.new_page(), textured_server)
        vp.page.on("pageerror", lambda e: vp.errors.append(f"pageerror: {e}"))
        vp.open()
        vp.page.wait_for_function(
            "() => window.twin && window.twin.ready && window.twin.layers.terrain?.loaded",
            timeout=VIEWER_READY_MS,
        )
        # Record every tile drawn; the far view below holds refinement back.
        found = vp.page.evaluate(
            """() => {
                const prims = window.twin.viewer.scene.primitives;
                for (let i = 0; i < prims.length; i++) {
                    const p = prims.get(i);
                    const url = p && (p.resource?.url || p._resource?.url || p._url);
                    if (p && p.boundingSphere && String(url || "").includes("/terrain/")) {
                        window.__drawn = [];
                        p.tileVisible.addEventListener((tile) => {
                            window.__drawn.push({
                                root: tile === p.root,
                                children: tile.children.length,
                                url: String(tile.content?.url || "").split("?")[0],
                            });
                        });
                        return true;
                    }
                }
                return false;
            }"""
        )
        assert found, "no tileset for the terrain layer"
        _look_at_far(vp, "terrain")
        drawn = vp.page.evaluate("() => window.__drawn")
        assert drawn, "nothing of the terrain was drawn"
        assert all(d["root"] for d in drawn), drawn
        assert drawn[0]["children"] > 0, "the mesh fitted one tile: no parent to test"
        assert drawn[0]["url"].endswith("/tiles/0.glb"), drawn[0]
        magenta, green, _ = _colours(vp, "textures-parent.png")
        assert magenta.sum() > 2000, f"only {magenta.sum()} magenta pixels"
        assert green.sum() > 2000, f"only {green.sum()} green pixels"
        assert not vp.errors, vp.errors
    finally:
        context.close()


def _look_at_far(vp: ViewerPage, layer: str) -> None:
    """The whole layer from above and afar, then wait until its tiles are drawn."""
    vp.page.evaluate(
        """(layer) => {
            const viewer = window.twin.viewer;
            const prims = viewer.scene.primitives;
            for (let i = 0; i < prims.length; i++) {
                const p = prims.get(i);
                const url = p && (p.resource?.url || p._resource?.url || p._url);
                if (p && p.boundingSphere && String(url || "").includes(`/${layer}/`)) {
                    const sphere = p.boundingSphere;
                    viewer.camera.flyToBoundingSphere(sphere, {
                        duration: 0,
                        offset: { heading: 0, pitch: -1.2, range: 2.2 * sphere.radius },
                    });
                    // Refinement held back: a screen-space error limit between the root
                    // tile's (no children drawn) and the whole tileset's (the tileset is
                    // drawn at all), which is 8 times larger (tiles/tileset.py).
                    const camera = viewer.camera;
                    const k = viewer.scene.drawingBufferHeight
                        / (2 * Math.tan(camera.frustum.fovy / 2));
                    const distance = Cesium.Cartesian3.distance(camera.positionWC, sphere.center);
                    p.maximumScreenSpaceError = Math.sqrt(8) * k * p.root.geometricError / distance;
                    viewer.scene.requestRender();
                }
            }
        }""",
        layer,
    )
    _settle(vp, layer)


def _settle(vp: ViewerPage, layer: str) -> None:
    """After a camera move: a few frames (so the tileset sees the new view and requests its
    tiles; ``tilesLoaded`` still describes the old view until then), its tiles loaded, then
    a few frames more so they are drawn."""
    _frames(vp)
    vp.page.wait_for_function(
        "(layer) => window.twin.layers[layer].tilesLoaded",
        arg=layer,
        timeout=VIEWER_READY_MS,
    )
    _frames(vp)


def _frames(vp: ViewerPage) -> None:
    vp.page.evaluate(
        """() => new Promise((resolve) => {
            const scene = window.twin.viewer.scene;
            let frames = 0;
            const done = scene.postRender.addEventListener(() => {
                if (++frames >= 3) { done(); resolve(); } else scene.requestRender();
            });
            scene.requestRender();
        })"""
    )
