"""The map search ("Sök i kartan", viewer/js/search.js) against the real /api/search of a
server that imported the Delft demo: typing a building's id lists it, Enter flies there and
selects it (info panel, URL), the same by keyboard only, a SWEREF 99 TM coordinate flies to
where pyproj puts it and marks it, and the box fits a 360 px phone in embed mode."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from pyproj import Transformer

from .conftest import DEMO, PHONE, VIEWER_READY_MS, TwinServer, ViewerPage

pytestmark = pytest.mark.browser

#: Bound for state that follows a key press (generous: SwiftShader on a loaded machine).
WAIT_MS = 60_000
#: A point in Skåne in SWEREF 99 TM (northing, easting), as a person would type it.
NORTHING, EASTING = 6_163_000, 373_000

#: Camera position, and where its centre ray meets the ground at `height` (degrees).
VIEW_JS = """(height) => {
    const C = window.Cesium;
    const scene = window.twin.viewer.scene;
    const camera = scene.camera;
    const d = (r) => r * 180 / Math.PI;
    const p = camera.positionCartographic;
    const e = C.Ellipsoid.WGS84.radii;
    const ground = new C.Ellipsoid(e.x + height, e.y + height, e.z + height);
    const ray = new C.Ray(camera.position, camera.direction);
    const hit = C.IntersectionTests.rayEllipsoid(ray, ground);
    const at = hit && C.Cartographic.fromCartesian(C.Ray.getPoint(ray, hit.start));
    return {lon: d(p.longitude), lat: d(p.latitude), height: p.height,
            pitch: d(camera.pitch),
            look: at && {lon: d(at.longitude), lat: d(at.latitude)}};
}"""

#: Where a point (degrees, metres) is drawn, relative to the canvas, and the canvas' size.
ON_SCREEN_JS = """([lon, lat, height]) => {
    const C = window.Cesium;
    const scene = window.twin.viewer.scene;
    const p = C.SceneTransforms.worldToWindowCoordinates(
        scene, C.Cartesian3.fromDegrees(lon, lat, height));
    return {x: p ? p.x : null, y: p ? p.y : null,
            width: scene.canvas.clientWidth, height: scene.canvas.clientHeight};
}"""


def _metres(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Horizontal (great-circle) distance in metres."""
    r = 6_371_008.8
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(math.sqrt(a))


def _assert_inside(at: dict[str, Any]) -> None:
    """A point from ON_SCREEN_JS lies on the canvas."""
    assert at["x"] is not None, "the point is behind the camera"
    assert 0 <= at["x"] <= at["width"], at
    assert 0 <= at["y"] <= at["height"], at


def _building_ids() -> list[str]:
    """Ids of the demo's buildings (the source file the server imported)."""
    city = json.loads(DEMO.read_text(encoding="utf-8"))
    return [k for k, v in city["CityObjects"].items() if v["type"] == "Building"]


def _search_box(page: Page) -> Any:
    return page.get_by_role("combobox", name="Sök i kartan")


def _reset(page: Page) -> None:
    """An empty box, no list, no marker, no selection."""
    box = _search_box(page)
    box.fill("")
    box.press("Escape")
    page.keyboard.press("Escape")
    page.wait_for_function(
        "() => !window.twin.search.open && !window.twin.search.going", timeout=WAIT_MS
    )


def _wait_selected(page: Page, object_id: str) -> None:
    page.wait_for_function(
        "(id) => window.twin.selected?.id === id && !window.twin.search.going",
        arg=object_id,
        timeout=VIEWER_READY_MS,
    )


def _assert_near_and_on_screen(page: Page, result: dict[str, Any]) -> None:
    view = page.evaluate(VIEW_JS, result["height"])
    distance = _metres(view["lon"], view["lat"], result["lon"], result["lat"])
    assert distance < 400, f"the camera is {distance:.0f} m from the object"
    assert -40 < view["pitch"] < -30, "the usual 35° pitch"
    at = page.evaluate(ON_SCREEN_JS, [result["lon"], result["lat"], result["height"]])
    _assert_inside(at)


@pytest.fixture(scope="module")
def searchable(twin: TwinServer) -> list[str]:
    """Demo building ids the server's object index finds, checked through the API."""
    ids = _building_ids()[:40]
    found = []
    for object_id in ids:
        status, body = twin.api("GET", f"/api/layers/demo/objects/{object_id}")
        if status == 200 and body["id"] == object_id:
            found.append(object_id)
        if len(found) == 2:
            break
    assert len(found) == 2, f"the object API found none of {ids[:3]}…"
    return found


def test_typed_id_lists_the_building_and_enter_selects_it(
    desktop: ViewerPage, twin: TwinServer, searchable: list[str]
) -> None:
    page = desktop.page
    object_id = searchable[0]
    status, result = twin.api("GET", f"/api/layers/demo/objects/{object_id}")
    assert status == 200

    box = _search_box(page)
    # Two search fields, each with its own label: the map's and the catalogue's filter.
    expect(page.get_by_label("Sök", exact=True)).to_have_attribute("id", "filter-q")
    box.click()
    box.fill(object_id)
    listbox = page.get_by_role("listbox", name="Sök i kartan")
    expect(listbox).to_be_visible(timeout=15_000)
    expect(box).to_have_attribute("aria-expanded", "true")
    expect(listbox.get_by_role("group", name="Objekt")).to_be_visible()
    option = listbox.get_by_role("option").filter(has_text=object_id).first
    expect(option).to_be_visible()
    expect(page.locator("#map-search-status")).to_have_text(re.compile(r"^\d+ träff(ar)?$"))

    box.press("Enter")
    _wait_selected(page, object_id)
    expect(box).to_have_attribute("aria-expanded", "false")
    expect(page.locator("#info-panel")).to_be_visible()
    expect(page.locator('#info-panel .row[data-property="id"] dd')).to_have_text(object_id)
    _assert_near_and_on_screen(page, result)
    page.wait_for_function(
        "(sel) => new URLSearchParams(location.hash.slice(1)).get('sel') === sel",
        arg=f"demo:{object_id}",
        timeout=15_000,
    )
    desktop.screenshot("search-object.png")

    # No results: said in the live region, no list.
    box.fill("zzqxv-no-such-thing")
    expect(page.locator("#map-search-status")).to_have_text(
        "Inga träffar för ”zzqxv-no-such-thing”", timeout=15_000
    )
    expect(box).to_have_attribute("aria-expanded", "false")
    _reset(page)
    assert desktop.errors == []


def test_keyboard_only_search(desktop: ViewerPage, twin: TwinServer, searchable: list[str]) -> None:
    page = desktop.page
    object_id = searchable[1]
    status, result = twin.api("GET", f"/api/layers/demo/objects/{object_id}")
    assert status == 200
    _reset(page)
    # From the panel's title (where a click leaves the Tab order's starting point), Tab
    # reaches the search box past the language switch and the panel's fold button.
    page.locator("#app-title").click()
    assert page.evaluate("document.activeElement?.id") != "map-search-input"
    for _ in range(10):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement?.id") == "map-search-input":
            break
    assert page.evaluate("document.activeElement?.id") == "map-search-input"

    page.keyboard.type(object_id, delay=20)
    box = _search_box(page)
    expect(box).to_have_attribute("aria-expanded", "true", timeout=15_000)
    page.keyboard.press("ArrowDown")
    active = box.get_attribute("aria-activedescendant")
    assert active, "ArrowDown makes an option active"
    option = page.locator(f"#{active}")
    expect(option).to_have_attribute("aria-selected", "true")
    expect(option).to_have_attribute("role", "option")
    expect(option).to_contain_text(object_id)
    page.keyboard.press("Enter")
    _wait_selected(page, object_id)
    expect(page.locator('#info-panel .row[data-property="id"] dd')).to_have_text(object_id)
    _assert_near_and_on_screen(page, result)
    assert page.evaluate("document.activeElement?.id") == "map-search-input", "focus stays"
    _reset(page)
    assert desktop.errors == []


def test_sweref_coordinate_flies_there_and_marks_it(desktop: ViewerPage) -> None:
    page = desktop.page
    _reset(page)
    lon, lat = Transformer.from_crs("EPSG:3006", "EPSG:4326", always_xy=True).transform(
        EASTING, NORTHING
    )
    box = _search_box(page)
    box.click()
    box.fill(f"{NORTHING} {EASTING}")
    listbox = page.get_by_role("listbox", name="Sök i kartan")
    group = listbox.get_by_role("group", name="Koordinater")
    expect(group).to_be_visible(timeout=15_000)
    expect(group.get_by_role("option")).to_have_count(1)

    box.press("Enter")
    page.wait_for_function(
        "() => window.twin.search.chosen?.kind === 'coordinate' && !window.twin.search.going",
        timeout=VIEWER_READY_MS,
    )
    chosen = page.evaluate("window.twin.search.chosen")
    view = page.evaluate(VIEW_JS, chosen["height"])
    assert view["look"], "the camera looks at the ground"
    off = _metres(view["look"]["lon"], view["look"]["lat"], lon, lat)
    assert off < 50, f"the flight ends {off:.1f} m from pyproj's point"
    assert _metres(view["lon"], view["lat"], lon, lat) < 400
    marker = page.evaluate("window.twin.search.marker")
    assert marker, "a marker at the coordinate"
    assert abs(marker["lon"] - lon) < 1e-3
    assert abs(marker["lat"] - lat) < 1e-3
    assert re.search(r"6\D?163\D?000", marker["label"]), marker["label"]
    assert re.search(r"373\D?000", marker["label"]), marker["label"]
    at = page.evaluate(ON_SCREEN_JS, [marker["lon"], marker["lat"], marker["height"]])
    _assert_inside(at)
    desktop.screenshot("search-coordinate.png")

    # Escape (the list is closed): the text and the marker go.
    box.press("Escape")
    page.wait_for_function("() => window.twin.search.marker === null", timeout=WAIT_MS)
    expect(box).to_have_value("")
    assert desktop.errors == []


def test_search_fits_a_phone_in_embed_mode(
    open_viewer: Callable[..., ViewerPage], searchable: list[str]
) -> None:
    vp = open_viewer(PHONE)
    page = vp.page
    page.goto(vp.base_url + "/?embed=1")
    page.wait_for_function("() => window.twin && window.twin.search", timeout=VIEWER_READY_MS)
    toggle = page.locator("#layer-panel-toggle")
    if toggle.get_attribute("aria-expanded") == "false":
        toggle.click()
    box = _search_box(page)
    expect(box).to_be_visible()
    expect(box).to_be_enabled()
    bounds = box.bounding_box()
    assert bounds
    assert bounds["x"] >= 0
    assert bounds["x"] + bounds["width"] <= PHONE["width"]
    assert bounds["width"] >= 120, "still a usable field"
    box.fill(searchable[0])
    listbox = page.get_by_role("listbox", name="Sök i kartan")
    expect(listbox).to_be_visible(timeout=15_000)
    lb = listbox.bounding_box()
    assert lb
    assert lb["x"] >= 0
    assert lb["x"] + lb["width"] <= PHONE["width"]
    vp.screenshot("search-phone-embed.png")
    vp.close()
    assert vp.errors == []
