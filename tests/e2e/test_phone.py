"""The viewer on a 360 × 640 touch phone (``is_mobile``, ``has_touch``), full and embedded
(``?embed=1``): nothing scrolls sideways, every visible panel fits the screen, the layer
panel folds to a strip that leaves most of the map free, a tap on a building opens the
object panel as a bottom sheet with the object's id. Screenshots for people to look at go
to ``test-artifacts/phone-*.png``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from .conftest import PHONE, ViewerPage
from .test_a11y import find_building

pytestmark = pytest.mark.browser

W, H = PHONE["width"], PHONE["height"]


def _no_sideways_scroll(page: Page) -> None:
    width = page.evaluate("document.scrollingElement.scrollWidth")
    assert width <= W, f"the page is {width} px wide on a {W} px screen"


def _visible_panels_fit(page: Page) -> list[dict[str, Any]]:
    """Every visible panel, dialog and banner lies within the viewport."""
    boxes: list[dict[str, Any]] = page.evaluate(
        """() => [...document.querySelectorAll('.panel, dialog[open], .open-full, .notice')]
            .filter((el) => el.getClientRects().length && getComputedStyle(el).display !== 'none')
            .map((el) => { const r = el.getBoundingClientRect();
                           return {id: el.id, x: r.x, y: r.y, right: r.right, bottom: r.bottom,
                                   width: r.width, height: r.height}; })"""
    )
    for b in boxes:
        assert b["x"] >= -0.5, b
        assert b["y"] >= -0.5, b
        assert b["right"] <= W + 0.5, b
        assert b["bottom"] <= H + 0.5, b
    return boxes


def _phone(open_viewer: Callable[..., ViewerPage], path: str) -> ViewerPage:
    vp = open_viewer(PHONE, is_mobile=True, has_touch=True)
    vp.page.goto(vp.base_url + path)
    vp.wait_ready()
    vp.wait_catalogue()
    return vp


@pytest.mark.parametrize("path", ["/", "/?embed=1"], ids=["full", "embed"])
def test_phone_layout_and_touch_picking(open_viewer: Callable[..., ViewerPage], path: str) -> None:
    vp = _phone(open_viewer, path)
    page = vp.page
    name = "embed" if "embed" in path else "full"
    _no_sideways_scroll(page)
    _visible_panels_fit(page)
    vp.screenshot(f"phone-{name}-start.png")

    # The layer panel folds (by touch) to its header strip: most of the map stays free.
    toggle = page.locator("#layer-panel-toggle")
    if toggle.get_attribute("aria-expanded") == "true":
        toggle.tap()
    expect(toggle).to_have_attribute("aria-expanded", "false")
    folded = page.locator("#layer-panel").bounding_box()
    assert folded is not None
    assert folded["height"] <= 0.15 * H, folded
    assert folded["width"] * folded["height"] <= 0.5 * W * H
    # Unfolded, it still leaves at least half the map visible.
    toggle.tap()
    expect(page.locator("#layer-list")).to_be_visible()
    unfolded = page.locator("#layer-panel").bounding_box()
    assert unfolded is not None
    assert unfolded["height"] <= 0.5 * H, unfolded
    _no_sideways_scroll(page)
    _visible_panels_fit(page)
    toggle.tap()

    # A tap on a building opens the object panel as a bottom sheet with its id.
    hit = find_building(vp)
    page.touchscreen.tap(hit["x"], hit["y"])
    panel = page.locator("#info-panel")
    expect(panel).to_be_visible()
    expect(panel.locator('.row[data-property="id"] dd')).to_have_text(hit["id"])
    assert page.evaluate("window.twin.selected.id") == hit["id"]
    sheet = panel.bounding_box()
    assert sheet is not None
    assert abs(sheet["x"]) <= 0.5
    assert abs(sheet["width"] - W) <= 0.5
    assert abs(sheet["y"] + sheet["height"] - H) <= 0.5, "the sheet sits on the bottom edge"
    assert sheet["height"] <= 0.55 * H, "the map stays visible above the sheet"
    _no_sideways_scroll(page)
    boxes = _visible_panels_fit(page)
    # The sheet and the folded layer strip do not overlap.
    assert folded["y"] + folded["height"] <= sheet["y"]
    # Nothing else floats over the sheet's content (e.g. the "open in twin" link).
    over = page.evaluate(
        """() => {
            const r = document.getElementById('info-panel').getBoundingClientRect();
            const hits = [];
            for (let y = r.top + 4; y < r.bottom; y += 12)
                for (let x = r.left + 4; x < r.right; x += 12) {
                    const el = document.elementFromPoint(x, y);
                    if (el && !document.getElementById('info-panel').contains(el))
                        hits.push(el.id || el.className);
                }
            return [...new Set(hits)];
        }"""
    )
    assert not over, f"covering the sheet: {over} ({boxes})"
    vp.screenshot(f"phone-{name}-picked.png")
    assert not vp.errors, vp.errors
    vp.close()


def test_a_sheet_folds_the_layer_panel_and_closing_it_unfolds(
    open_viewer: Callable[..., ViewerPage],
) -> None:
    """Unfolded panel and a bottom sheet together left a strip of map: a tap that opens a
    sheet folds the panel, closing the sheet unfolds it, and the reader's own toggle while
    the sheet is open is kept."""
    vp = _phone(open_viewer, "/")
    page = vp.page
    toggle = page.locator("#layer-panel-toggle")
    if toggle.get_attribute("aria-expanded") == "false":
        toggle.tap()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    page.evaluate("() => document.activeElement && document.activeElement.blur()")
    hit = find_building(vp)
    page.touchscreen.tap(hit["x"], hit["y"])
    sheet = page.locator("#info-panel")
    expect(sheet).to_be_visible()
    expect(toggle).to_have_attribute("aria-expanded", "false")
    panel_box = page.locator("#layer-panel").bounding_box()
    sheet_box = sheet.bounding_box()
    assert panel_box is not None
    assert sheet_box is not None
    free = sheet_box["y"] - (panel_box["y"] + panel_box["height"])
    assert free >= 0.3 * H, f"{free:.0f} px of map between the panel and the sheet"
    vp.screenshot("phone-sheet-folds-panel.png")

    # Closed: the panel is back as the reader had it.
    page.locator("#info-close").tap()
    expect(sheet).to_be_hidden()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(page.locator("#layer-list")).to_be_visible()

    # Unfolded by the reader while the sheet is open: it stays so, then and after.
    page.evaluate("() => document.activeElement && document.activeElement.blur()")
    page.touchscreen.tap(hit["x"], hit["y"])
    expect(sheet).to_be_visible()
    expect(toggle).to_have_attribute("aria-expanded", "false")
    toggle.tap()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    page.locator("#info-close").tap()
    expect(sheet).to_be_hidden()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    _visible_panels_fit(page)
    assert not vp.errors, vp.errors
    vp.close()
