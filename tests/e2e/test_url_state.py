"""Shareable state in the URL (viewer/js/url-sync.js): a link opens the same view (camera,
selection, layers), back and forward step through selections and layer toggles, "Kopiera
länk" copies it, and ``?embed=1`` is the anonymous, compact embed viewer."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect

from .conftest import DESKTOP, ViewerPage

pytestmark = pytest.mark.browser

CAMERA_JS = """() => {
    const c = window.twin.viewer.camera;
    const p = c.positionCartographic;
    const d = (r) => r * 180 / Math.PI;
    return {lon: d(p.longitude), lat: d(p.latitude), height: p.height,
            heading: d(c.heading), pitch: d(c.pitch)};
}"""


def _wait_hash(vp: ViewerPage, predicate: str, arg: Any = None) -> None:
    """Until the URL's hash parameters (a URLSearchParams `p`) satisfy `predicate`."""
    vp.page.wait_for_function(
        "(arg) => { const p = new URLSearchParams(location.hash.slice(1)); "
        f"return {predicate}; }}",
        arg=arg,
        timeout=15_000,
    )


def _layer_box(vp: ViewerPage) -> Any:
    return vp.page.locator('#layer-list input[name="layer-demo"]')


def test_link_restores_view_and_back_restores_selection(
    open_viewer: Callable[..., ViewerPage],
) -> None:
    first = open_viewer(DESKTOP, permissions=["clipboard-read", "clipboard-write"])
    first.open()
    first.wait_ready()
    first.wait_restored()
    page = first.page
    # A fresh start writes the view into the URL: camera and the visible layers.
    _wait_hash(first, "p.has('cam') && p.get('layers') === 'demo' && !p.has('sel')")

    hit = first.find_feature("Building")
    page.mouse.click(hit["x"], hit["y"])
    page.wait_for_function("(id) => window.twin.selected?.id === id", arg=hit["id"])
    _wait_hash(first, "p.get('sel') === 'demo:' + arg", hit["id"])
    entries = page.evaluate("history.length")

    # Zoom out a little with the wheel: the camera moves, the entry is replaced.
    before = first.hash_params()["cam"]
    box = page.locator("#cesium canvas").bounding_box()
    assert box
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.wheel(0, 400)
    _wait_hash(first, "p.get('cam') !== arg && p.get('sel') !== null", before)
    page.wait_for_timeout(1500)  # inertia: let the camera settle and the URL follow
    page.wait_for_function(
        f"""() => {{
            const c = ({CAMERA_JS})();
            const p = new URLSearchParams(location.hash.slice(1));
            const [lon, lat, height, heading, pitch] = (p.get('cam') || '').split(',').map(Number);
            return Math.abs(lon - c.lon) < 1e-5 && Math.abs(lat - c.lat) < 1e-5
                && Math.abs(height - c.height) < 0.5 && Math.abs(pitch - c.pitch) < 0.2;
        }}""",
        timeout=15_000,
    )
    assert page.evaluate("history.length") == entries, "a camera move must not push an entry"
    camera = page.evaluate(CAMERA_JS)
    link = page.url

    # "Kopiera länk": a visible confirmation, and the link is on the clipboard.
    page.locator("#copy-link").click()
    expect(page.locator("#copy-link-status")).to_have_text(re.compile(r"\S"))
    assert page.evaluate("navigator.clipboard.readText()") == link

    # The link in a new page: same camera, same object in the panel, same layers.
    second = open_viewer(DESKTOP)
    second.page.goto(link)
    second.wait_restored()
    second.page.wait_for_function(
        "(id) => window.twin.selected?.id === id", arg=hit["id"], timeout=30_000
    )
    expect(second.page.locator("#info-panel")).to_be_visible()
    expect(second.page.locator('#info-panel .row[data-property="id"] dd')).to_have_text(hit["id"])
    expect(_layer_box(second)).to_be_checked()
    again = second.page.evaluate(CAMERA_JS)
    assert abs(again["lon"] - camera["lon"]) < 1e-5
    assert abs(again["lat"] - camera["lat"]) < 1e-5
    assert abs(again["height"] - camera["height"]) < max(0.5, camera["height"] * 1e-3)
    assert abs((again["heading"] - camera["heading"] + 180) % 360 - 180) < 0.2
    assert abs(again["pitch"] - camera["pitch"]) < 0.2
    second.screenshot("url-state-restored.png")
    second.close()

    # Hiding the layer clears the selection: a new entry.
    _layer_box(first).uncheck()
    _wait_hash(first, "p.get('layers') === '' && !p.has('sel')")
    assert page.evaluate("history.length") == entries + 1
    hidden_link = page.url

    third = open_viewer(DESKTOP)
    third.page.goto(hidden_link)
    third.wait_restored()
    expect(_layer_box(third)).not_to_be_checked()
    assert third.page.evaluate("window.twin.layers.demo.shown") is False
    expect(third.page.locator("#info-panel")).to_be_hidden()
    third.close()

    # Back: the layer again, and the building selected again; forward: hidden again.
    page.go_back()
    page.wait_for_function("(id) => window.twin.selected?.id === id", arg=hit["id"], timeout=30_000)
    expect(_layer_box(first)).to_be_checked()
    expect(page.locator('#info-panel .row[data-property="id"] dd')).to_have_text(hit["id"])
    assert first.hash_params()["cam"] == parse_qs(urlsplit(link).fragment)["cam"][0]
    page.go_forward()
    page.wait_for_function("() => window.twin.selected === null && !window.twin.layers.demo.shown")
    expect(_layer_box(first)).not_to_be_checked()
    assert not first.errors, first.errors
    first.close()


def test_unknown_object_in_link_gives_a_notice(open_viewer: Callable[..., ViewerPage]) -> None:
    vp = open_viewer(DESKTOP)
    vp.page.goto(vp.base_url + "/#sel=demo:no-such-building")
    vp.wait_restored()
    notice = vp.page.locator("#url-notice")
    expect(notice).to_be_visible()
    expect(notice).to_contain_text("no-such-building")
    assert vp.page.evaluate("window.twin.selected") is None
    # The URL now says what is shown: no selection.
    assert "sel" not in vp.hash_params()
    vp.close()


def test_embed_mode_is_compact_and_links_to_the_full_viewer(
    open_viewer: Callable[..., ViewerPage],
) -> None:
    vp = open_viewer(DESKTOP)
    vp.page.goto(vp.base_url + "/?embed=1")
    vp.wait_ready()
    vp.wait_restored()
    page = vp.page
    vp.wait_catalogue()
    for selector in ("#login-button", "#imports-open", "#copy-link", "#add-project"):
        expect(page.locator(selector)).to_be_hidden()
    expect(page.locator("#layer-panel-toggle")).to_have_attribute("aria-expanded", "false")
    full = page.locator("#open-full")
    expect(full).to_be_visible()
    expect(full).to_have_attribute("target", "_blank")
    href = full.get_attribute("href") or ""
    parts = urlsplit(href)
    assert "embed" not in parts.query
    assert parse_qs(parts.fragment).get("layers") == ["demo"]
    assert "cam" in parse_qs(parts.fragment)
    # It follows the view: select a building and the link carries it.
    hit = vp.find_feature("Building")
    page.mouse.click(hit["x"], hit["y"])
    page.wait_for_function(
        """(id) => {
            const hash = new URL(document.getElementById('open-full').href).hash;
            return new URLSearchParams(hash.slice(1)).get('sel') === 'demo:' + id;
        }""",
        arg=hit["id"],
        timeout=15_000,
    )
    vp.screenshot("url-state-embed.png")
    assert not vp.errors, vp.errors
    vp.close()
