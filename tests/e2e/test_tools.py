"""The map tools (viewer/js/tools.js): measuring, shadows at a date and time, pedestrian
view and screenshot, in real Chromium over the Delft demo."""

from __future__ import annotations

import io
import math
import re
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from PIL import Image

from .conftest import DESKTOP, PHONE, VIEWER_READY_MS, ViewerPage, api_call

pytestmark = pytest.mark.browser

ZONE = "Europe/Stockholm"
#: A low winter sun: 09:30 in Stockholm's zone is 08:30 UTC; in Delft the sun is then about
#: 4° high in the south-east, so shadows fall long to the north-west.
WINTER_LOCAL = "2026-12-21T09:30"
WINTER_UTC = "2026-12-21T08:30:00Z"

CAMERA_JS = """() => {
    const c = window.twin.viewer.camera;
    const p = c.positionWC;
    const g = c.positionCartographic;
    return {x: p.x, y: p.y, z: p.z, height: g.height,
            heading: c.heading * 180 / Math.PI, pitch: c.pitch * 180 / Math.PI};
}"""

#: Where the pedestrian stands: camera lon/lat (degrees), height, heading and the surface.
WALKER_JS = """() => {
    const c = window.twin.viewer.camera;
    const g = c.positionCartographic;
    return {lon: g.longitude * 180 / Math.PI, lat: g.latitude * 180 / Math.PI,
            height: g.height, heading: c.heading * 180 / Math.PI,
            surface: window.twin.tools.pedestrian.surface};
}"""

#: World position (ECEF and lon/lat/height) under a client pixel: the model's surface or the
#: globe, as the tools pick it; null when neither.
SURFACE_JS = """([x, y]) => {
    const C = window.Cesium;
    const v = window.twin.viewer;
    const rect = v.canvas.getBoundingClientRect();
    const at = new C.Cartesian2(x - rect.left, y - rect.top);
    v.render();
    let w = v.scene.pickPosition(at);
    if (!w) w = v.camera.pickEllipsoid(at, v.scene.globe.ellipsoid);
    if (!w) return null;
    const g = C.Cartographic.fromCartesian(w);
    return {x: w.x, y: w.y, z: w.z, lon: C.Math.toDegrees(g.longitude),
            lat: C.Math.toDegrees(g.latitude), height: g.height};
}"""

#: True when a client pixel shows the map (no panel or button over it).
ON_CANVAS_JS = """([x, y]) => document.elementFromPoint(x, y) === window.twin.viewer.canvas"""

#: Client pixel of a world position (ECEF), or null when it is off screen.
PROJECT_JS = """([x, y, z]) => {
    const C = window.Cesium;
    const v = window.twin.viewer;
    const p = C.SceneTransforms.worldToWindowCoordinates(v.scene, new C.Cartesian3(x, y, z));
    if (!p) return null;
    const rect = v.canvas.getBoundingClientRect();
    return {x: rect.left + p.x, y: rect.top + p.y};
}"""


def _wait_tiles(vp: ViewerPage) -> None:
    vp.page.wait_for_function(
        "() => window.twin.layers.demo.tilesLoaded", timeout=VIEWER_READY_MS, polling=250
    )


def _number(text: str) -> float:
    """The first number of a Swedish text: '512,1 m' -> 512.1 (spaces group thousands)."""
    match = re.search(r"[\d\s\u00a0\u202f]+(,\d+)?", text)
    assert match, text
    return float(re.sub(r"[\s\u00a0\u202f]", "", match.group(0)).replace(",", "."))


@pytest.fixture(scope="module")
def page_sv(open_viewer: Callable[..., ViewerPage]) -> Iterator[ViewerPage]:
    """The demo in Swedish, in Stockholm's time zone."""
    vp = open_viewer(DESKTOP, timezone_id=ZONE, accept_downloads=True)
    vp.open()
    vp.wait_ready()
    vp.wait_restored()
    yield vp
    vp.close()


#: A Building's client pixel near the middle of the map (a few picks: the full-canvas scan
#: of twin.findFeatureScreenPosition can run out of time on a busy machine).
BUILDING_JS = """() => {
    const canvas = window.twin.viewer.canvas;
    const rect = canvas.getBoundingClientRect();
    const cx = rect.left + rect.width / 2, cy = rect.top + rect.height / 2;
    const offsets = [];
    for (let r = 0; r <= 4; r++) {
        for (let i = -r; i <= r; i++) {
            for (let j = -r; j <= r; j++) {
                if (Math.max(Math.abs(i), Math.abs(j)) === r) offsets.push([i * 50, j * 40]);
            }
        }
    }
    for (const [dx, dy] of offsets) {
        const x = cx + dx, y = cy + dy;
        if (document.elementFromPoint(x, y) !== canvas) continue;
        const hit = window.twin.pickAt(x, y);
        if (hit && hit.type === "Building") return {x, y, ...hit};
    }
    return null;
}"""


def _building(vp: ViewerPage) -> dict[str, Any]:
    hit = vp.page.evaluate(BUILDING_JS)
    assert hit, "no building near the middle of the map"
    return dict(hit)


def _leave_tools(vp: ViewerPage) -> None:
    vp.page.evaluate("() => document.activeElement && document.activeElement.blur()")
    vp.page.keyboard.press("Escape")
    vp.page.wait_for_function(
        "() => window.twin.tools.mode === null && !window.twin.tools.pedestrian.returning"
    )


def test_screenshot_downloads_a_png_of_the_canvas(page_sv: ViewerPage) -> None:
    page = page_sv.page
    button = page.get_by_role("button", name="Spara skärmbild (PNG)", exact=True)
    # Rendering the frame for it takes seconds on SwiftShader.
    with page.expect_download(timeout=120_000) as download:
        button.click()
    name = download.value.suggested_filename
    assert re.fullmatch(r"twin-\d{4}-\d{2}-\d{2}-\d{6}\.png", name), name
    data = download.value.path().read_bytes()
    size = page.evaluate(
        "() => [window.twin.viewer.canvas.width, window.twin.viewer.canvas.height]"
    )
    image = Image.open(io.BytesIO(data))
    assert image.format == "PNG"
    assert list(image.size) == size
    colours = image.convert("RGB").getcolors(maxcolors=1_000_000)
    assert colours is None or len(colours) > 50, "the screenshot is (nearly) one colour"
    shot = page.evaluate("window.twin.tools.screenshot")
    assert shot["name"] == name
    assert [shot["width"], shot["height"]] == size
    print(f"screenshot {size[0]}×{size[1]}: {shot['ms']} ms, {shot['bytes']} bytes")
    # The attribution line: white text on a dark band, bottom left.
    band = image.convert("L").crop((0, size[1] - 20, 200, size[1]))
    assert band.getextrema()[1] > 200
    assert band.getextrema()[0] < 80


def test_measure_distance_between_two_known_points(page_sv: ViewerPage) -> None:
    page = page_sv.page
    distance = page.get_by_role("button", name="Mät avstånd", exact=True)
    distance.click()
    assert distance.get_attribute("aria-pressed") == "true"
    assert page.locator("#measure-panel").is_visible()

    # Two known world positions: a building's roof and a surface some way off it.
    building = _building(page_sv)
    first = page.evaluate(SURFACE_JS, [building["x"], building["y"]])
    second = None
    for dx, dy in ((160, 70), (-160, 70), (160, -70), (-160, -70), (120, 0), (-120, 0)):
        x, y = building["x"] + dx, building["y"] + dy
        if page.evaluate(ON_CANVAS_JS, [x, y]):
            second = page.evaluate(SURFACE_JS, [x, y])
            if second:
                break
    assert first, "no surface under the building"
    assert second, "no surface on the map beside the building"
    # Where those known world positions are on the window now.
    p1 = page.evaluate(PROJECT_JS, [first["x"], first["y"], first["z"]])
    p2 = page.evaluate(PROJECT_JS, [second["x"], second["y"], second["z"]])
    page.mouse.click(p1["x"], p1["y"])
    page.wait_for_function("() => window.twin.tools.measure.points === 1")
    page.mouse.click(p2["x"], p2["y"])
    page.wait_for_function("() => window.twin.tools.measure.points === 2")
    page.keyboard.press("Enter")
    page.wait_for_function("() => window.twin.tools.measure.finished")
    # The building under the first click was not selected: the tool took the clicks.
    assert page.evaluate("window.twin.selected") is None

    world = page.evaluate("window.twin.tools.measure.world()")
    picked = math.dist(world[0], world[1])
    known = math.dist((first["x"], first["y"], first["z"]), (second["x"], second["y"], second["z"]))
    summary = page.locator("#measure-summary").inner_text()
    assert summary.startswith("Totalt"), summary
    shown = _number(summary)
    assert abs(shown - picked) <= 0.01 * picked, (summary, picked)
    assert abs(page.evaluate("window.twin.tools.measure.value.distance") - picked) < 0.01
    # The picked positions are the known ones, within the depth buffer's precision and the
    # tiles' level of detail changing between the frames (metres from 300 m away).
    assert abs(picked - known) <= 0.05 * known, (picked, known)
    horizontal = page.evaluate("window.twin.tools.measure.value.horizontal")
    # Near-level points: the geodesic (an arc) and the chord differ by micrometres.
    assert horizontal <= picked * (1 + 1e-6) + 1e-3
    assert page.locator("#measure-lines li").count() == 1

    page.get_by_role("button", name="Rensa", exact=True).click()
    page.wait_for_function("() => window.twin.tools.measure.points === 0")
    _leave_tools(page_sv)
    assert distance.get_attribute("aria-pressed") == "false"
    assert page.locator("#measure-panel").is_hidden()


def test_pedestrian_view_stands_on_the_roof_and_escape_flies_back(page_sv: ViewerPage) -> None:
    page = page_sv.page
    _wait_tiles(page_sv)
    button = page.get_by_role("button", name="Gångvy", exact=True)
    button.click()
    assert button.get_attribute("aria-pressed") == "true"
    assert page.locator(".tools-hint").is_visible()
    before = page.evaluate(CAMERA_JS)
    building = _building(page_sv)
    surface = page.evaluate(SURFACE_JS, [building["x"], building["y"]])
    assert surface
    page.mouse.click(building["x"], building["y"])
    page.wait_for_function("() => window.twin.tools.pedestrian.mode === 'walking'")
    assert "piltangenterna" in page.locator(".tools-hint").inner_text()
    standing = page.evaluate(CAMERA_JS)
    picked = page.evaluate("window.twin.tools.pedestrian.surface")
    above = standing["height"] - picked
    assert 0 < above <= 2.5, f"camera {above:.2f} m above the picked surface"
    # That surface is the roof under the click (the tiles may have refined in between, by
    # decimetres; a hover's pick before the click once made it tens of metres off).
    assert abs(picked - surface["height"]) < 1.0, (picked, surface["height"])
    assert abs(standing["pitch"]) < 1.0

    # Walking: a held key moves the eye along the ground, forward (W, arrow up) along the
    # heading and sideways (D, arrow right) square to it, at eye height above the surface.
    for key, turn in (("ArrowUp", 0.0), ("KeyD", 90.0)):
        start = page.evaluate(WALKER_JS)
        began = time.monotonic()
        page.keyboard.down(key)
        page.wait_for_timeout(600)  # the walk goes on frame by frame while the key is held
        page.keyboard.up(key)
        held = time.monotonic() - began
        end = page.evaluate(WALKER_JS)
        north = (end["lat"] - start["lat"]) * 111_320
        east = (end["lon"] - start["lon"]) * 111_320 * math.cos(math.radians(start["lat"]))
        walked = math.hypot(north, east)
        # At least one step of a press (0.1 s at 4 m/s), at most walking pace for as long
        # as the key was held (the walker stays put at a wall: the roof has none this close).
        assert 0.35 <= walked <= 4 * held + 0.5, f"{key}: walked {walked:.2f} m in {held:.1f} s"
        bearing = math.degrees(math.atan2(east, north)) % 360
        want = (start["heading"] + turn) % 360
        assert abs((bearing - want + 180) % 360 - 180) < 10, (
            f"{key}: {bearing:.0f}°, not {want:.0f}°"
        )
        above = end["height"] - end["surface"]
        assert abs(above - 1.7) < 0.05, f"{key}: eye {above:.2f} m above the surface"
        assert abs(end["heading"] - start["heading"]) < 0.5, "walking turned the view"

    page.keyboard.press("Escape")
    page.wait_for_function(
        "() => window.twin.tools.pedestrian.mode === 'off'"
        " && !window.twin.tools.pedestrian.returning",
        timeout=30_000,
    )
    after = page.evaluate(CAMERA_JS)
    back = math.dist((after["x"], after["y"], after["z"]), (before["x"], before["y"], before["z"]))
    assert back < 1.0, f"camera {back:.2f} m from where it was"
    assert abs(after["pitch"] - before["pitch"]) < 0.5
    assert button.get_attribute("aria-pressed") == "false"


def _enable_winter_shadows(page_sv: ViewerPage) -> None:
    """Shadows on through the panel, at the winter morning; checks what that sets."""
    page = page_sv.page
    page.get_by_role("button", name="Skuggor och soltid", exact=True).click()
    panel = page.locator("#shadows-panel")
    assert panel.is_visible()
    assert "Europe/Stockholm" in panel.inner_text()
    page.locator("#shadows-time").fill(WINTER_LOCAL)
    page.locator("#shadows-on").check()
    page.wait_for_function("() => window.twin.tools.shadows.on")
    state = page.evaluate(
        """() => {
            const v = window.twin.viewer;
            const C = window.Cesium;
            const tilesets = [];
            for (let i = 0; i < v.scene.primitives.length; i++) {
                const p = v.scene.primitives.get(i);
                if (p instanceof C.Cesium3DTileset) {
                    tilesets.push(p.shadows === C.ShadowMode.ENABLED);
                }
            }
            return {shadows: v.shadows, tilesets,
                    clock: C.JulianDate.toIso8601(v.clock.currentTime, 0)};
        }"""
    )
    assert state["shadows"] is True
    assert state["tilesets"]
    assert all(state["tilesets"])
    assert state["clock"] == WINTER_UTC


def test_shadows_toggle_sets_the_scene_and_the_url_and_survives_a_reload(
    page_sv: ViewerPage,
) -> None:
    page = page_sv.page
    _enable_winter_shadows(page_sv)
    # The URL says it (after the camera's debounce), and a reload restores it.
    page.wait_for_function(
        "(sun) => new URLSearchParams(location.hash.slice(1)).get('sun') === sun",
        arg=WINTER_UTC,
        timeout=15_000,
    )
    page.reload()
    page_sv.wait_ready()
    page_sv.wait_restored()
    page.wait_for_function("() => window.twin.tools.shadows.on && window.twin.viewer.shadows")
    assert page.evaluate("window.twin.tools.shadows.time") == WINTER_UTC
    assert page.locator("#shadows-time").input_value() == WINTER_LOCAL
    assert page_sv.hash_params()["sun"] == WINTER_UTC

    # Off: Back undoes it (turning shadows on or off is a history step).
    page.get_by_role("button", name="Skuggor och soltid", exact=True).click()
    page.locator("#shadows-on").uncheck()
    page.wait_for_function("() => !new URLSearchParams(location.hash.slice(1)).has('sun')")
    assert page.evaluate("window.twin.viewer.shadows") is False
    page.go_back()
    page.wait_for_function("() => window.twin.tools.shadows.on", timeout=15_000)
    assert page_sv.errors == []


#: The drawing buffer as grey levels (every 4th pixel each way), read in postRender of a
#: fresh frame (the canvas is not preserved between frames).
CANVAS_GREY_JS = """() => new Promise((resolve) => {
    const v = window.twin.viewer;
    let frames = 3;  // a change of shadows takes effect over a frame or two
    const remove = v.scene.postRender.addEventListener(() => {
        if (--frames > 0) { v.scene.requestRender(); return; }
        remove();
        const src = v.scene.canvas;
        const out = document.createElement("canvas");
        out.width = src.width; out.height = src.height;
        const ctx = out.getContext("2d");
        ctx.drawImage(src, 0, 0);
        const data = ctx.getImageData(0, 0, out.width, out.height).data;
        const grey = [];
        for (let y = 0; y < out.height; y += 4) {
            for (let x = 0; x < out.width; x += 4) {
                const i = (y * out.width + x) * 4;
                grey.push(Math.round(0.299 * data[i] + 0.587 * data[i + 1] + 0.114 * data[i + 2]));
            }
        }
        resolve(grey);
    });
    v.scene.requestRender();
})"""


def test_shadows_darken_part_of_the_view_and_brighten_none(
    twin_server: str, open_viewer: Callable[..., ViewerPage]
) -> None:
    """Same camera, same low winter sun: with shadows on, a clear share of the view (the
    ground north-west of the buildings, their own shaded sides) gets darker, and shadows
    never make anything brighter."""
    status, layer = api_call(twin_server, "GET", "/api/layers/demo")
    assert status == 200
    west, south, east, _ = layer["extent"]
    camera = f"{(west + east) / 2:.5f},{south - 0.0025:.5f},350,0,-40"
    vp = open_viewer(DESKTOP, timezone_id=ZONE)
    page = vp.page
    page.goto(f"{twin_server}/#cam={camera}&layers=demo")
    vp.wait_ready()
    _wait_tiles(vp)
    # Shadows off, the sun at the winter morning by hand: the lighting alone.
    page.evaluate(
        "(iso) => { const C = window.Cesium; "
        "window.twin.viewer.clock.currentTime = C.JulianDate.fromIso8601(iso); }",
        WINTER_UTC,
    )
    off = page.evaluate(CANVAS_GREY_JS)
    _enable_winter_shadows(vp)
    # The panel must not cover the compared view.
    page.get_by_role("button", name="Stäng skuggpanelen").click()
    _wait_tiles(vp)
    on = page.evaluate(CANVAS_GREY_JS)
    vp.screenshot("tools-shadows.png")
    assert len(on) == len(off)
    darker = sum(1 for a, b in zip(off, on, strict=True) if b < a - 25) / len(off)
    brighter = sum(1 for a, b in zip(off, on, strict=True) if b > a + 25) / len(off)
    print(f"shadows: {darker:.1%} of the view darker, {brighter:.2%} brighter")
    assert darker > 0.02, f"only {darker:.2%} of the view got darker with shadows on"
    # A few pixels change either way when a tile refines between the two frames (0.15 % and
    # 0.82 % brighter in two runs); shadows themselves only darken.
    assert brighter < 0.02, f"{brighter:.2%} of the view got brighter with shadows on"
    assert darker > 4 * brighter, (darker, brighter)
    vp.close()


def test_phone_toolbar_folds_into_one_menu_and_works_by_keyboard(
    open_viewer: Callable[..., ViewerPage],
) -> None:
    vp = open_viewer(PHONE)
    vp.open()
    page = vp.page
    # The toolbar is there once the viewer is (the tiles need not have loaded).
    page.wait_for_function("() => window.twin && window.twin.tools", timeout=VIEWER_READY_MS)
    menu = page.get_by_role("button", name="Verktyg", exact=True)
    # By selector: once the menu folds the button is hidden, so not in the role tree.
    distance = page.locator('[data-tool="distance"]')
    assert menu.is_visible()
    assert distance.is_hidden()
    box = menu.bounding_box()
    assert box
    assert box["x"] + box["width"] <= PHONE["width"]
    menu.focus()
    page.keyboard.press("Enter")
    assert menu.get_attribute("aria-expanded") == "true"
    assert distance.is_visible()
    page.keyboard.press("ArrowDown")
    assert page.evaluate("document.activeElement.dataset.tool") == "distance"
    page.keyboard.press("Enter")
    assert distance.get_attribute("aria-pressed") == "true"
    # The menu folds when a tool is chosen; the results panel is a bottom sheet.
    assert menu.get_attribute("aria-expanded") == "false"
    sheet = page.locator("#measure-panel").bounding_box()
    assert sheet
    assert abs(sheet["width"] - PHONE["width"]) < 1
    assert abs(sheet["y"] + sheet["height"] - PHONE["height"]) < 2
    page.keyboard.press("Escape")
    assert distance.get_attribute("aria-pressed") == "false"
    vp.close()
