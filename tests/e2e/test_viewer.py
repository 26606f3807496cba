"""The viewer in a real browser: load, pick, panel, layer toggle, phone layout, no outside
requests, visible errors. Waits are on the viewer's own state (``window.twin``), bounded."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Locator, Route, expect

from .conftest import DESKTOP, PHONE, VIEWER_READY_MS, ViewerPage

pytestmark = pytest.mark.browser

LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}
#: Schemes that never touch the network.
LOCAL_SCHEMES = {"data", "blob", "about"}


def _layer_checkbox(vp: ViewerPage) -> Locator:
    return vp.page.locator('#layer-list li[data-layer="demo"]').get_by_role(
        "checkbox", name=re.compile("Delft")
    )


def test_click_building_opens_panel_with_its_attributes(desktop: ViewerPage) -> None:
    page = desktop.page
    hit = desktop.find_feature("Building")

    page.mouse.move(hit["x"], hit["y"])
    page.wait_for_function("(id) => window.twin.hovered?.id === id", arg=hit["id"], timeout=10_000)
    page.mouse.click(hit["x"], hit["y"])

    panel = page.locator("#info-panel")
    expect(panel).to_be_visible()
    expect(page.locator("#info-title")).to_have_text("Building")
    expect(panel.locator('.row[data-property="id"] dd')).to_have_text(hit["id"])
    selected = page.evaluate("window.twin.selected")
    assert selected["id"] == hit["id"]
    assert selected["layer"] == "demo"

    # Attribute rows are labelled with the source's names, not the tiles' property ids:
    # "min-height-surface" is not a valid property id, so the tiles carry a sanitised one.
    names = panel.locator("#info-attributes .row dt").all_inner_texts()
    assert "bgt_status" in names
    assert "min-height-surface" in names
    row = panel.locator(
        "#info-attributes .row",
        has=page.locator("dt", has_text=re.compile(r"^min-height-surface$")),
    )
    assert row.get_attribute("data-property") != "min-height-surface"
    # A number in the viewer's locale (sv-SE here: decimal comma, U+2212 minus).
    assert re.fullmatch(r"[-\u2212]?\d+(,\d+)?", row.locator("dd").inner_text())
    assert (
        selected["attributes"]["bgt_status"]
        == panel.locator('#info-attributes .row[data-property="bgt_status"] dd').inner_text()
    )
    desktop.screenshot("viewer-desktop.png")

    # Escape closes the panel and clears the selection.
    page.keyboard.press("Escape")
    expect(panel).to_be_hidden()
    assert page.evaluate("window.twin.selected") is None

    # Clicking empty sky clears it too.
    page.mouse.click(hit["x"], hit["y"])
    expect(panel).to_be_visible()
    page.mouse.click(DESKTOP["width"] // 2, 5)
    expect(panel).to_be_hidden()
    assert page.evaluate("window.twin.selected") is None


def test_layer_toggle_hides_the_layer(desktop: ViewerPage) -> None:
    page = desktop.page
    hit = desktop.find_feature("Building")
    box = _layer_checkbox(desktop)
    page.mouse.click(hit["x"], hit["y"])
    expect(page.locator("#info-panel")).to_be_visible()
    try:
        box.uncheck()
        assert page.evaluate("window.twin.layers.demo.shown") is False
        assert desktop.pick(hit["x"], hit["y"]) is None
        # Hiding the layer of the selected object closes its panel.
        expect(page.locator("#info-panel")).to_be_hidden()
    finally:
        box.check()
    assert page.evaluate("window.twin.layers.demo.shown") is True
    assert (desktop.pick(hit["x"], hit["y"]) or {}).get("id") == hit["id"]


def test_no_request_leaves_the_server(desktop: ViewerPage) -> None:
    # The shared page has loaded the base map, CesiumJS and the tiles by now.
    desktop.find_feature()
    outside = []
    for url in desktop.requests:
        parts = urlsplit(url)
        if parts.scheme in LOCAL_SCHEMES:
            continue
        if parts.hostname not in LOCAL_HOSTS:
            outside.append(url)
    assert not outside, f"requests left the server: {outside[:10]}"
    paths = [urlsplit(u).path for u in desktop.requests]
    assert any(p.startswith("/tiles/demo/") and p.endswith(".glb") for p in paths)
    assert any(p.startswith("/cesium/Assets/Textures/NaturalEarthII/") for p in paths)
    assert not desktop.errors, desktop.errors


def test_phone_layout_keeps_the_panel_on_screen(open_viewer: Callable[..., ViewerPage]) -> None:
    vp = open_viewer(PHONE)
    vp.open()
    vp.wait_ready()
    page = vp.page
    hit = vp.find_feature("Building")
    page.mouse.click(hit["x"], hit["y"])
    panel = page.locator("#info-panel")
    expect(panel).to_be_visible()
    expect(panel.locator('.row[data-property="id"] dd')).to_have_text(hit["id"])

    box = panel.bounding_box()
    assert box is not None
    assert box["x"] >= 0
    assert box["y"] >= 0
    assert box["x"] + box["width"] <= PHONE["width"] + 0.5
    assert box["y"] + box["height"] <= PHONE["height"] + 0.5
    # A bottom sheet: the map stays visible above it.
    assert box["height"] <= PHONE["height"] * 0.6
    layers = page.locator("#layer-panel").bounding_box()
    assert layers is not None
    assert layers["x"] + layers["width"] <= PHONE["width"]
    expect(page.get_by_role("button", name="Stäng objektets detaljer")).to_be_visible()
    vp.screenshot("viewer-phone.png")
    assert not vp.errors, vp.errors


def test_config_failure_shows_an_error(open_viewer: Callable[..., ViewerPage]) -> None:
    vp = open_viewer(DESKTOP, locale="en-GB")  # the English texts; test_i18n covers Swedish

    def fail(route: Route) -> None:
        route.fulfill(
            status=500,
            content_type="application/json",
            body=json.dumps({"code": "error", "message": "boom"}),
        )

    vp.page.route("**/api/config", fail)
    vp.open()
    notice = vp.page.locator("#notice")
    expect(notice).to_be_visible(timeout=30_000)
    expect(notice).to_contain_text("configuration could not be loaded")
    expect(notice).to_contain_text("500")
    expect(vp.page.get_by_role("button", name="Retry")).to_be_visible()
    state = vp.page.evaluate("({ready: window.twin.ready, error: window.twin.error})")
    assert state["ready"] is False
    assert "500" in state["error"]


def test_broken_layer_is_reported_and_the_viewer_still_works(
    open_viewer: Callable[..., ViewerPage],
) -> None:
    vp = open_viewer(DESKTOP, locale="en-GB")
    vp.page.route("**/tiles/demo/**/tileset.json", lambda route: route.fulfill(status=404))
    vp.open()
    vp.page.wait_for_function("window.twin.ready", timeout=VIEWER_READY_MS)
    item = vp.page.locator('#layer-list li[data-layer="demo"]')
    expect(item).to_have_attribute("data-state", "error")
    expect(item.locator(".layer-state")).to_contain_text("could not load")
    assert vp.page.evaluate("window.twin.layers.demo.loaded") is False
    expect(vp.page.locator("#notice")).to_be_hidden()
