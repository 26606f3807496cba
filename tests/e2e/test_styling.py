"""Colour by attribute (viewer/js/styling.js) on the demo city in real Chromium: the legend
is the layer's statistics, a building's pixels show its class colour (and the selection
colour on top, through a change of classes), a category filter hides objects until reset,
and the URL carries the style (a link and Back restore it; unknown attributes are ignored)."""

from __future__ import annotations

import json
import math
import time
import urllib.request
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import expect

from .conftest import DESKTOP, ViewerPage
from .pixels import canvas_pixel, interior, nearest

pytestmark = pytest.mark.browser

SELECT_COLOR = "#00a8ff"  # main.js: the selection highlight


def _config_layer(base: str) -> dict[str, Any]:
    with urllib.request.urlopen(base + "/api/config", timeout=30) as r:
        layers = json.loads(r.read())["layers"]
    (demo,) = [layer for layer in layers if layer["name"] == "demo"]
    return dict(demo)


def _height_property(layer: dict[str, Any]) -> dict[str, Any]:
    """A numeric attribute with statistics whose name says it is a height."""
    for p in layer["properties"]:
        numeric = p["type"] in ("FLOAT64", "INT32") and p["stats"] and p["stats"]["count"] > 0
        classes = p["stats"]["classes"]["quantile"]["counts"] if numeric else []
        if "height" in p["name"].lower() and len(classes) >= 3:
            return dict(p)
    raise AssertionError("the demo has no height attribute with statistics")


def _distance(a: tuple[int, int, int], b: tuple[int, int, int]) -> float:
    return math.dist(a, b)


def _wait_colour(vp: ViewerPage, x: float, y: float, want: str, among: list[str]) -> str:
    """Until the pixel's nearest colour among `among` is `want` (a frame or two after the
    change); returns the nearest at the end. Bounded."""
    deadline = time.monotonic() + 20
    while True:
        got = nearest(canvas_pixel(vp, x, y), among)
        if got == want or time.monotonic() > deadline:
            return got
        time.sleep(0.2)  # then the next rendered frame, bounded by the deadline


def _interior(vp: ViewerPage, type_: str) -> dict[str, Any]:
    """A screen point well inside an object of `type_`, nearest the middle of the map."""
    found = interior(vp, type=type_)
    assert found, f"no {type_} with a few pixels to spare near the middle of the map"
    return found


def _open_styling(vp: ViewerPage) -> Any:
    details = vp.page.locator('#layer-list li[data-layer="demo"] details.styling')
    summary = details.locator("summary")
    expect(summary).to_have_text("Färglägg efter attribut")
    if details.get_attribute("open") is None:
        summary.click()
    return details


def _state(vp: ViewerPage) -> Any:
    return vp.page.evaluate("window.twin.styling.layers.demo ?? null")


def _clear_pointer(vp: ViewerPage) -> None:
    """No selection, and the mouse off the map (no hover colour)."""
    vp.page.keyboard.press("Escape")
    vp.page.wait_for_function("() => window.twin.selected === null")
    vp.page.locator("#app-title").hover()
    vp.page.wait_for_function("() => window.twin.hovered === null")


@pytest.fixture(scope="module")
def styled(open_viewer: Callable[..., ViewerPage]) -> ViewerPage:
    vp = open_viewer(DESKTOP)
    vp.open()
    vp.wait_ready()
    vp.wait_restored()
    # Closer than the first view, looking at a building: the demo's row houses are then many
    # times wider than the few pixels a pick may stray.
    hit = _interior(vp, "Building")
    closer = vp.page.evaluate(
        """([x, y]) => {
            const viewer = window.twin.viewer, C = window.Cesium;
            const rect = viewer.canvas.getBoundingClientRect();
            const target = viewer.scene.pickPosition(new C.Cartesian2(x - rect.left, y - rect.top));
            if (!target) return false;
            viewer.camera.lookAt(target, new C.HeadingPitchRange(0, C.Math.toRadians(-45), 100));
            viewer.camera.lookAtTransform(C.Matrix4.IDENTITY);
            viewer.scene.requestRender();
            return true;
        }""",
        [hit["x"], hit["y"]],
    )
    assert closer, "no depth under the building (scene.pickPosition)"
    vp.wait_ready()
    return vp


def test_numeric_classes_colour_a_building_as_its_legend_row(styled: ViewerPage) -> None:
    vp, page = styled, styled.page
    prop = _height_property(_config_layer(vp.base_url))
    stats = prop["stats"]
    details = _open_styling(vp)
    details.locator("select").first.select_option(prop["id"])
    page.wait_for_function("(p) => window.twin.styling.layers.demo?.property === p", arg=prop["id"])

    # The legend is the statistics: a row per quantile class with its count, then no value.
    state = _state(vp)
    classes = stats["classes"]["quantile"]
    rows = state["legend"]
    assert [r["count"] for r in rows] == [*classes["counts"], stats["missing"]]
    assert [r["lo"] for r in rows[:-1]] == classes["breaks"][:-1]
    assert rows[-1]["kind"] == "none"
    items = details.locator("ul.styling-legend li")
    expect(items).to_have_count(len(rows))
    for i, row in enumerate(rows):
        # Text labels, not colour alone: the range (or "Inget värde") and the count.
        expect(items.nth(i)).to_contain_text(row["label"])
        expect(items.nth(i).locator(".legend-count")).to_have_text(str(row["count"]))
    expect(items.last).to_contain_text("Inget värde")
    page.wait_for_function("(p) => location.hash.includes(`style=demo:${p}:q`)", arg=prop["id"])

    # A building's height, read through the viewer (its object panel).
    spot = _interior(vp, "Building")
    page.mouse.click(spot["x"], spot["y"])
    page.wait_for_function("(id) => window.twin.selected?.id === id", arg=spot["id"])
    value = page.evaluate("(n) => window.twin.selected.attributes[n]", prop["name"])
    assert isinstance(value, int | float), value
    colours = [r["color"] for r in rows]

    def class_colour(legend: list[dict[str, Any]]) -> str:
        classes = [r for r in legend if r["kind"] == "class"]
        return str([r for r in classes if value >= r["lo"]][-1]["color"])

    # Not selected: the building shows its quantile class colour. The pixel is lit (sun,
    # sky light, haze), so it is compared with the same pixel painted in each legend colour.
    _clear_pointer(vp)
    refs: dict[str, tuple[int, int, int]] = {}
    for colour in colours:
        page.evaluate(
            """(css) => {
                const viewer = window.twin.viewer, C = window.Cesium;
                const primitives = viewer.scene.primitives;
                for (let i = 0; i < primitives.length; i++) {
                    const p = primitives.get(i);
                    if (p instanceof C.Cesium3DTileset) {
                        p.style = new C.Cesium3DTileStyle({ color: `color('${css}')` });
                    }
                }
            }""",
            colour,
        )
        canvas_pixel(vp, spot["x"], spot["y"])  # the restyled frame
        refs[colour] = canvas_pixel(vp, spot["x"], spot["y"])
    page.evaluate(
        "(p) => window.twin.styling.apply({layer: 'demo', property: p, mode: 'quantile'})",
        prop["id"],
    )
    want = class_colour(rows)
    canvas_pixel(vp, spot["x"], spot["y"])
    styled_rgb = canvas_pixel(vp, spot["x"], spot["y"])
    got = min(refs, key=lambda c: _distance(styled_rgb, refs[c]))
    assert got == want, f"value {value}: pixel {styled_rgb} is {got} ({refs}), its class {want}"
    assert _distance(styled_rgb, refs[want]) < 12, (styled_rgb, refs[want])

    # Selected: the highlight is drawn over the style.
    page.mouse.click(spot["x"], spot["y"])
    page.wait_for_function("(id) => window.twin.selected?.id === id", arg=spot["id"])
    got = _wait_colour(vp, spot["x"], spot["y"], SELECT_COLOR, [*colours, SELECT_COLOR])
    assert got == SELECT_COLOR, f"the selected building shows {got}"
    selected_rgb = canvas_pixel(vp, spot["x"], spot["y"])
    # Equal intervals while it is selected: the highlight stays on, and when the selection
    # ends the building takes its class colour of the new classes.
    details.locator("select").nth(1).select_option("equal")
    page.wait_for_function("() => window.twin.styling.layers.demo.mode === 'equal'")
    equal_rows = _state(vp)["legend"]
    assert [r["count"] for r in equal_rows[:-1]] == stats["classes"]["equal"]["counts"]
    vp.page.wait_for_timeout(1000)  # a restyle repaints the highlight one frame later
    assert _distance(canvas_pixel(vp, spot["x"], spot["y"]), selected_rgb) < 12, "highlight lost"
    _clear_pointer(vp)
    deadline = time.monotonic() + 20
    while True:
        rgb = canvas_pixel(vp, spot["x"], spot["y"])
        if _distance(rgb, selected_rgb) > 40 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert _distance(rgb, selected_rgb) > 40, f"still the selection colour: {rgb}"
    if class_colour(equal_rows) == class_colour(rows):
        assert _distance(rgb, styled_rgb) < 12, f"{rgb} is not the class colour {styled_rgb}"
    else:
        assert _distance(rgb, styled_rgb) > 12, f"{rgb} kept the quantile colour"

    # Back to quantiles: the pixel is the quantile class colour again.
    details.locator("select").nth(1).select_option("quantile")
    page.wait_for_function("() => window.twin.styling.layers.demo.mode === 'quantile'")
    deadline = time.monotonic() + 20
    while _distance(rgb := canvas_pixel(vp, spot["x"], spot["y"]), styled_rgb) >= 12:
        assert time.monotonic() < deadline, f"{rgb} is not the quantile colour {styled_rgb}"
        time.sleep(0.2)
    assert not vp.errors, vp.errors


def test_category_filter_hides_objects_until_reset_and_back_restores(styled: ViewerPage) -> None:
    vp, page = styled, styled.page
    types = next(p for p in _config_layer(vp.base_url)["properties"] if p["id"] == "type")
    details = _open_styling(vp)
    details.locator("select").first.select_option("type")
    page.wait_for_function("() => window.twin.styling.layers.demo?.property === 'type'")
    legend = _state(vp)["legend"]
    values = [r for r in legend if r["kind"] == "value"]
    assert [(r["value"], r["count"]) for r in values] == [
        (v["value"], v["count"]) for v in types["stats"]["values"][:8]
    ]
    assert values[0]["value"] == "Building"

    spot = _interior(vp, "Building")
    assert vp.pick(spot["x"], spot["y"])["id"] == spot["id"]
    box = details.locator("ul.styling-legend li", has_text="Building").locator("input")
    box.uncheck()
    page.wait_for_function(
        "([x, y, id]) => { window.twin.viewer.scene.requestRender();"
        " return window.twin.pickAt(x, y)?.id !== id; }",
        arg=[spot["x"], spot["y"], spot["id"]],
        timeout=20_000,
    )
    under = vp.pick(spot["x"], spot["y"])
    assert under is None or under["type"] != "Building", under
    assert _state(vp)["hidden"] == ["Building"]
    page.wait_for_function("() => location.hash.includes('style=demo:type:c::::Building')")
    filtered_url = page.url

    details.locator("button.styling-reset").click()
    page.wait_for_function(
        "([x, y, id]) => { window.twin.viewer.scene.requestRender();"
        " return window.twin.pickAt(x, y)?.id === id; }",
        arg=[spot["x"], spot["y"], spot["id"]],
        timeout=20_000,
    )
    assert _state(vp) is None
    page.wait_for_function("() => !location.hash.includes('style=')")
    expect(details.locator("select").first).to_have_value("")

    # Back: the filter again, the building hidden again.
    page.go_back()
    page.wait_for_function("() => window.twin.styling.layers.demo?.hidden?.[0] === 'Building'")
    assert page.url == filtered_url
    page.wait_for_function(
        "([x, y, id]) => { window.twin.viewer.scene.requestRender();"
        " return window.twin.pickAt(x, y)?.id !== id; }",
        arg=[spot["x"], spot["y"], spot["id"]],
        timeout=20_000,
    )
    expect(box).not_to_be_checked()
    page.go_forward()
    page.wait_for_function("() => !window.twin.styling.layers.demo")
    assert not vp.errors, vp.errors


def test_a_link_restores_the_style_and_ignores_unknown_attributes(
    open_viewer: Callable[..., ViewerPage],
) -> None:
    vp = open_viewer(DESKTOP)
    page = vp.page
    try:
        page.goto(vp.base_url + "/#style=demo:measuredHeight:e:2.5::n&style=nolayer:x:q")
        vp.wait_ready()
        vp.wait_restored()
        page.wait_for_function("() => window.twin.styling.layers.demo?.mode === 'equal'")
        state = _state(vp)
        assert (state["property"], state["min"], state["max"], state["hideNoValue"]) == (
            "measuredHeight",
            2.5,
            None,
            True,
        )
        assert page.evaluate("window.twin.styling.ignored") == [
            {"layer": "nolayer", "property": "x"}
        ]
        expect(page.locator("#url-notice")).to_contain_text("nolayer")
        # The control shows the linked choice; the URL keeps it and drops the unknown one.
        details = _open_styling(vp)
        expect(details.locator("select").first).to_have_value("measuredHeight")
        expect(details.locator("select").nth(1)).to_have_value("equal")
        expect(details.locator('input[type="number"]').first).to_have_value("2.5")
        expect(details.locator('input[type="checkbox"]').last).to_be_checked()
        page.wait_for_function(
            "() => location.hash.includes('style=demo:measuredHeight:e:2.5::n')"
            " && !location.hash.includes('nolayer')"
        )
        # Buildings of 2.5 m and more are still there to pick.
        assert _interior(vp, "Building")["type"] == "Building"

        # A reload of the link gives the same style.
        url = page.url
        page.goto("about:blank")
        page.goto(url)
        vp.wait_ready()
        vp.wait_restored()
        page.wait_for_function("() => window.twin.styling.layers.demo?.mode === 'equal'")
        assert _state(vp) == state
        assert not vp.errors, vp.errors
    finally:
        vp.close()


def test_a_filter_that_hides_the_selected_object_lets_it_go(styled: ViewerPage) -> None:
    """Selected, then filtered out: the object panel does not go on describing an object
    no longer shown. The selection is cleared and the reason announced; a filter that
    keeps the object keeps the selection."""
    vp, page = styled, styled.page
    spot = _interior(vp, "Building")
    page.mouse.click(spot["x"], spot["y"])
    page.wait_for_function("(id) => window.twin.selected?.id === id", arg=spot["id"])
    expect(page.locator("#info-panel")).to_be_visible()
    details = _open_styling(vp)
    details.locator("select").first.select_option("type")
    page.wait_for_function("() => window.twin.styling.layers.demo?.property === 'type'")
    # Colouring alone, and hiding another type, keep the selection.
    legend = details.locator("ul.styling-legend li")
    other = legend.filter(has_not_text="Building").first.locator("input")
    other.uncheck()
    page.wait_for_function("() => window.twin.styling.layers.demo?.hidden?.length === 1")
    assert page.evaluate("window.twin.selected?.id") == spot["id"]
    expect(page.locator("#info-panel")).to_be_visible()
    # Hiding its own type lets it go.
    legend.filter(has_text="Building").first.locator("input").uncheck()
    page.wait_for_function("() => window.twin.selected === null")
    expect(page.locator("#info-panel")).to_be_hidden()
    expect(page.locator("#status")).to_contain_text(
        "Det valda objektet döljs av filtret och är inte längre valt"
    )
    details.locator("button.styling-reset").click()
    page.wait_for_function("() => !window.twin.styling.layers.demo")
    assert not vp.errors, vp.errors
