"""Swedish and English in a real browser: Swedish for a Swedish browser, the switch to
English changes the visible labels and ``<html lang>`` and is remembered over a reload, an
English browser gets English by default and ``?lang=`` wins over it. Waits are on the
viewer's own state (``window.twin``), bounded."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from .conftest import DESKTOP, VIEWER_READY_MS, ViewerPage

pytestmark = pytest.mark.browser


def _layer_texts(page: Page) -> dict[str, str | None]:
    """What a person sees (and a screen reader reads) in the layer panel."""
    item = page.locator('#layer-list li[data-layer="demo"]')

    def text(selector: str) -> str:
        # The text itself, not its rendering: the CSS shows some headings in capitals.
        return (page.locator(selector).text_content() or "").strip()

    return {
        "subtitle": text("#layer-panel-body > h2.panel-subtitle"),
        "toggle": page.locator("#layer-panel-toggle").get_attribute("aria-label"),
        "zoom": item.locator("button.zoom").get_attribute("aria-label"),
        "count": item.locator(".layer-meta").inner_text(),
        "catalogue": text("#catalogue-heading"),
        "switch": text("#lang-switch"),
    }


def _wait_loaded(vp: ViewerPage, lang: str) -> None:
    """Until the page in `lang` has its layer list and catalogue."""
    expect(vp.page.locator("html")).to_have_attribute("lang", lang, timeout=VIEWER_READY_MS)
    vp.page.wait_for_function(
        "(lang) => window.twin && window.twin.language === lang && window.twin.layers.demo",
        arg=lang,
        timeout=VIEWER_READY_MS,
    )
    vp.wait_catalogue()


def test_swedish_by_default_then_english_by_the_switch_remembered(
    open_viewer: Callable[..., ViewerPage],
) -> None:
    vp = open_viewer(DESKTOP, locale="sv-SE")
    page = vp.page
    try:
        vp.open()
        _wait_loaded(vp, "sv")
        sv = _layer_texts(page)
        assert sv["subtitle"] == "Lager"
        assert sv["toggle"] == "Dölj lagren"
        assert sv["zoom"] == "Zooma till Delft"
        assert re.fullmatch(r"[\d\s\u00a0]+ objekt", sv["count"] or ""), sv["count"]
        assert sv["catalogue"] == "Projekt"
        assert sv["switch"] == "English"
        expect(page.get_by_role("button", name="Logga in")).to_be_visible()

        # The switch (keyboard: focus it and press Enter) reloads the page in English.
        switch = page.get_by_role("button", name="English")
        expect(switch).to_have_attribute("lang", "en")
        switch.focus()
        page.keyboard.press("Enter")
        _wait_loaded(vp, "en")
        en = _layer_texts(page)
        assert en["subtitle"] == "Layers"
        assert en["toggle"] == "Hide layers"
        assert en["zoom"] == "Zoom to Delft"
        assert re.fullmatch(r"[\d,]+ objects", en["count"] or ""), en["count"]
        assert en["catalogue"] == "Projects"
        assert en["switch"] == "Svenska"
        expect(page.get_by_role("button", name="Log in")).to_be_visible()
        expect(page.get_by_role("searchbox")).to_have_attribute(
            "placeholder", "Title, description, tag…"
        )
        assert page.evaluate("localStorage.getItem('twin.lang')") == "en"
        # The toggle's label follows its state in the chosen language.
        page.locator("#layer-panel-toggle").click()
        expect(page.locator("#layer-panel-toggle")).to_have_attribute("aria-label", "Show layers")

        # Remembered: a plain reload stays English though the browser is Swedish.
        page.reload()
        _wait_loaded(vp, "en")
        assert _layer_texts(page)["catalogue"] == "Projects"
        vp.screenshot("i18n-english.png")

        # And back: the switch now offers Swedish.
        page.get_by_role("button", name="Svenska").click()
        _wait_loaded(vp, "sv")
        assert _layer_texts(page)["catalogue"] == "Projekt"
        assert page.evaluate("localStorage.getItem('twin.lang')") == "sv"
        assert not [e for e in vp.errors if "pageerror" in e], vp.errors
    finally:
        vp.close()


def test_english_browser_gets_english_and_the_url_parameter_wins(
    open_viewer: Callable[..., ViewerPage],
) -> None:
    vp = open_viewer(DESKTOP, locale="en-GB")
    page = vp.page
    try:
        assert page.evaluate("navigator.language") == "en-GB"
        vp.open()
        _wait_loaded(vp, "en")
        texts = _layer_texts(page)
        assert texts["catalogue"] == "Projects"
        assert texts["subtitle"] == "Layers"
        assert page.evaluate("localStorage.getItem('twin.lang')") is None

        page.goto(vp.base_url + "/?lang=sv")
        _wait_loaded(vp, "sv")
        texts = _layer_texts(page)
        assert texts["catalogue"] == "Projekt"
        assert texts["toggle"] == "Dölj lagren"
        assert not [e for e in vp.errors if "pageerror" in e], vp.errors
    finally:
        vp.close()
