"""Accessibility in a real browser: axe-core (WCAG 2.1 A/AA rules) over the viewer with each
panel open, in Swedish and English, on a desktop and a 360 × 640 phone; the "På kartan"
text list (the canvas's alternative) follows filters and sensor values and opens what it
lists; the layer panel and the other panels work from the keyboard alone, with a visible
focus indicator on every stop.

Serious and critical violations fail. The page's Content-Security-Policy forbids inline
scripts, so these pages bypass it to inject axe (``bypass_csp``); nothing is excluded from
the checks. Waits are on the viewer's own state (``window.twin``), bounded.
"""

from __future__ import annotations

import io
import os
import re
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import Page, ViewportSize, expect

from .conftest import DESKTOP, PASSWORD, PHONE, REPO, TwinServer, ViewerPage, _run_twin, api_call
from .test_imports import _gis_account

pytestmark = pytest.mark.browser

AXE = REPO / "node_modules" / "axe-core" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
STATE_MS = 60_000
#: Per-pixel change (0-255, any channel) that counts as a visible difference: a focus ring
#: changes pixels by ~200; the map seen through a panel's 4 % transparency by ~10.
PIXEL_CHANGE = 60
LOCALES = {"sv": "sv-SE", "en": "en-GB"}


@pytest.fixture(scope="module")
def axe_source() -> str:
    if not AXE.exists():
        reason = "axe-core is not installed (npm install axe-core@4.14.1)"
        if os.environ.get("TWIN_REQUIRE_BROWSER"):
            pytest.fail(reason)
        pytest.skip(reason)
    return AXE.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def sensor(twin: TwinServer) -> Iterator[dict[str, Any]]:
    """A public datastream with a value, pushed over HTTP with an ingest source's key; back
    to a normal value afterwards (the server is shared: other tests count alarms on it)."""
    suffix = uuid.uuid4().hex[:8]
    status, body = twin.api(
        "POST",
        "/api/datastreams",
        {
            "key": f"a11y-temp-{suffix}",
            "name": "Temperatur",
            "unit": {"name": "grad Celsius", "symbol": "°C"},
            "visibility": "public",
            "organisation": "DEMO",
            "thing": {
                "name": f"Väderstation {suffix}",
                "location": {"type": "Point", "coordinates": [4.3679, 52.0113, 6.0]},
            },
            "sensor": {"name": "DHT22"},
            "observed_property": {"name": "Lufttemperatur"},
            "thresholds": {"warning": 25, "alarm": 30, "direction": "above"},
        },
    )
    assert status == 201, (status, body)
    done = _run_twin(
        twin.data_dir,
        "sensors",
        "sources",
        "add",
        f"a11y-{suffix}",
        "--organisation",
        "DEMO",
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    key = done.stdout.strip().splitlines()[-1].strip()
    info = {"datastream": body, "thing": str(body["thing"]["id"]), "key": key}
    push(twin, info, 12.5)
    yield info
    push(twin, info, 12.5)


def push(twin: TwinServer, sensor: dict[str, Any], value: float) -> None:
    status, body = api_call(
        twin.url,
        "POST",
        "/api/ingest",
        {
            "datastream": sensor["datastream"]["id"],
            "result": value,
            "phenomenonTime": datetime.now(UTC).isoformat(),
        },
        token=sensor["key"],
    )
    assert status == 200, (status, body)
    assert body["accepted"] == 1, body


def _open(
    open_viewer: Callable[..., ViewerPage], lang: str, viewport: ViewportSize, path: str = "/"
) -> ViewerPage:
    vp = open_viewer(viewport, locale=LOCALES[lang], bypass_csp=True)
    vp.page.set_default_timeout(STATE_MS)  # SwiftShader on two busy cores
    vp.page.goto(vp.base_url + path)
    vp.wait_ready()
    vp.wait_catalogue()
    vp.page.wait_for_function(
        "() => window.twin.sensors && window.twin.sensors.loaded", timeout=STATE_MS
    )
    return vp


def _axe(page: Page, source: str, where: str) -> list[str]:
    """Serious and critical WCAG 2.1 A/AA violations on the page as it is now."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.add_script_tag(content=source)
    found: list[dict[str, Any]] = page.evaluate(
        """async (tags) => {
            const result = await axe.run(document, {
                runOnly: { type: "tag", values: tags },
                resultTypes: ["violations"],
                restoreScroll: true,  // color-contrast scrolls elements into view
            });
            return result.violations
                .filter((v) => v.impact === "serious" || v.impact === "critical")
                .map((v) => ({
                    id: v.id,
                    impact: v.impact,
                    nodes: v.nodes.slice(0, 5).map((n) => n.target.join(" ") + ": " +
                        (n.failureSummary || "").replace(/\\s+/g, " ")),
                }));
        }""",
        WCAG_TAGS,
    )
    scrolled = page.evaluate(
        "document.scrollingElement.scrollTop + document.scrollingElement.scrollLeft"
    )
    assert scrolled == 0, "axe left the page scrolled"
    problems = [f"{where}: {v['id']} ({v['impact']}) {node}" for v in found for node in v["nodes"]]
    return problems


def find_building(vp: ViewerPage, attempts: int = 4) -> dict[str, Any]:
    """A building's screen position; the canvas scan has a 20 s budget per try, which a
    busy two-core machine can exhaust, so it is tried again."""
    for _ in range(attempts - 1):
        hit = vp.page.evaluate("() => window.twin.findFeatureScreenPosition('Building')")
        if hit:
            return dict(hit)
    return vp.find_feature("Building")


def _login(page: Page, email: str) -> None:
    """The login dialog, by its ids (the texts differ by language)."""
    page.locator("#login-email").fill(email)
    page.locator("#login-password").fill(PASSWORD)
    page.locator("#login-submit").click()
    expect(page.locator("#login-dialog")).to_be_hidden()
    page.wait_for_function("window.twin.imports && window.twin.imports.allowed", timeout=STATE_MS)


@pytest.mark.parametrize(
    ("lang", "viewport"),
    [("sv", DESKTOP), ("en", DESKTOP), ("sv", PHONE), ("en", PHONE)],
    ids=["sv-desktop", "en-desktop", "sv-phone", "en-phone"],
)
def test_no_serious_axe_violations_with_each_panel_open(
    open_viewer: Callable[..., ViewerPage],
    twin: TwinServer,
    axe_source: str,
    sensor: dict[str, Any],
    lang: str,
    viewport: ViewportSize,
) -> None:
    vp = _open(open_viewer, lang, viewport)
    page = vp.page
    assert page.evaluate("document.documentElement.lang") == lang
    problems = _axe(page, axe_source, "layer panel")

    page.locator("#onmap-toggle").click()
    page.wait_for_function("() => window.twin.onMap.rows !== null", timeout=STATE_MS)
    problems += _axe(page, axe_source, "on the map")
    page.locator("#onmap-toggle").click()

    phone = viewport["width"] < 600
    if phone:  # room for the map between the folded layer list and the sheet
        page.locator("#layer-panel-toggle").click()
    hit = find_building(vp)
    page.mouse.click(hit["x"], hit["y"])
    expect(page.locator("#info-panel")).to_be_visible()
    problems += _axe(page, axe_source, "object panel")
    page.keyboard.press("Escape")
    expect(page.locator("#info-panel")).to_be_hidden()
    if phone:
        page.locator("#layer-panel-toggle").click()

    page.locator("#project-list button.project-item").first.click()
    expect(page.locator("#project-card")).to_be_visible()
    page.wait_for_function("() => window.twin.selectedProject !== null", timeout=STATE_MS)
    problems += _axe(page, axe_source, "project card")
    page.keyboard.press("Escape")
    expect(page.locator("#project-card")).to_be_hidden()

    page.locator(f'#sensor-list [data-thing="{sensor["thing"]}"]').click()
    expect(page.locator("#sensor-card")).to_be_visible()
    page.wait_for_function("() => window.twin.sensors.chart !== null", timeout=STATE_MS)
    problems += _axe(page, axe_source, "sensors section and card")
    page.keyboard.press("Escape")
    expect(page.locator("#sensor-card")).to_be_hidden()

    page.locator("#login-button").click()
    expect(page.locator("#login-dialog")).to_be_visible()
    problems += _axe(page, axe_source, "login dialog")
    _login(page, _gis_account(twin))
    page.locator("#imports-open").click()
    expect(page.locator("#imports-panel")).to_be_visible()
    page.wait_for_function(
        """() => document.querySelector('#imports-layers li')
                 || document.getElementById('imports-layers-status').textContent.trim()""",
        timeout=STATE_MS,
    )
    problems += _axe(page, axe_source, "imports panel")
    vp.screenshot(f"a11y-{lang}-{viewport['width']}.png")

    assert not problems, "\n".join(problems)
    assert not vp.errors, vp.errors
    vp.close()


# --- "På kartan": the text list ---------------------------------------------------------


def _rows(page: Page, kind: str) -> list[str]:
    keys: list[str] = page.evaluate(
        "(kind) => [...document.querySelectorAll(`#onmap .onmap-item[data-kind='${kind}']`)]"
        ".map((b) => b.dataset.key)",
        kind,
    )
    return keys


def _camera(page: Page) -> list[float]:
    position: list[float] = page.evaluate(
        "() => { const p = window.twin.viewer.camera.positionWC; return [p.x, p.y, p.z]; }"
    )
    return position


def _moved(a: list[float], b: list[float]) -> float:
    return float(np.linalg.norm(np.array(a) - np.array(b)))


def test_on_the_map_lists_what_is_shown_and_opens_it(
    open_viewer: Callable[..., ViewerPage], twin: TwinServer, sensor: dict[str, Any]
) -> None:
    vp = _open(open_viewer, "sv", DESKTOP)
    page = vp.page
    toggle = page.locator("#onmap-toggle")
    expect(toggle).to_have_text("På kartan")
    expect(toggle).to_have_attribute("aria-expanded", "false")
    # Lazy: nothing is built until it is opened.
    assert page.locator("#onmap .onmap-item").count() == 0
    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    page.wait_for_function("() => window.twin.onMap.rows !== null", timeout=STATE_MS)

    shown = page.evaluate("window.twin.catalogue.shown")
    assert shown, "the demo catalogue lists projects"
    assert _rows(page, "project") == [str(i) for i in shown]
    assert _rows(page, "layer") == ["demo"]
    assert sensor["thing"] in _rows(page, "sensor")
    layer_row = page.locator("#onmap .onmap-item[data-kind='layer'][data-key='demo']")
    expect(layer_row).to_contain_text("Delft")
    expect(layer_row).to_contain_text(re.compile(r"\d[\d\s]* objekt · visas"))
    sensor_row = page.locator(
        f"#onmap .onmap-item[data-kind='sensor'][data-key='{sensor['thing']}']"
    )
    expect(sensor_row).to_contain_text("Väderstation")
    expect(sensor_row).to_contain_text("12,5 °C · Normalt")
    counts = page.locator("#onmap-counts")
    expect(counts).to_have_attribute("aria-live", "polite")
    expect(counts).to_contain_text(f"1 lager, {len(shown)} projekt")
    # Only the counts line is live, not the rows.
    assert page.locator("#onmap [aria-live]").count() == 1

    # A new value updates its row; the counts line stays as it was.
    before = counts.inner_text()
    push(twin, sensor, 31.0)
    expect(sensor_row).to_contain_text("31 °C · Larm", timeout=STATE_MS)
    assert counts.inner_text() == before

    # A filter narrows the projects: the list follows the catalogue.
    status, body = api_call(twin.url, "GET", "/api/projects?limit=500")
    assert status == 200, (status, body)
    by_status: dict[str, int] = {}
    for p in body["items"]:
        by_status[p["status"]] = by_status.get(p["status"], 0) + 1
    narrow, expected = min(by_status.items(), key=lambda kv: kv[1])
    assert expected < len(shown), by_status
    page.locator("#filter-status").select_option(narrow)
    page.wait_for_function(
        """(n) => !document.getElementById('catalogue').hasAttribute('aria-busy')
                  && window.twin.catalogue.shown.length === n
                  && JSON.stringify(window.twin.onMap.rows.project) ===
                     JSON.stringify(window.twin.catalogue.shown.map(String))""",
        arg=expected,
        timeout=STATE_MS,
    )
    expect(counts).to_contain_text(f"{expected} projekt")
    page.locator("#filter-status").select_option("")
    page.wait_for_function(
        "(n) => window.twin.onMap.rows.project.length === n", arg=len(shown), timeout=STATE_MS
    )

    # A hidden layer says so.
    page.locator('#layer-list input[name="layer-demo"]').uncheck()
    expect(layer_row).to_contain_text("dolt")
    expect(counts).to_contain_text("0 lager")

    # Rows open what they list: the layer (shown again, camera flies), a project, a sensor.
    page.evaluate("() => window.twin.viewer.camera.moveBackward(20000)")
    start = _camera(page)
    layer_row.click()
    expect(layer_row).to_contain_text("visas")
    page.wait_for_function(
        "(s) => { const p = window.twin.viewer.camera.positionWC;"
        " return Math.hypot(p.x - s[0], p.y - s[1], p.z - s[2]) > 10000; }",
        arg=start,
        timeout=STATE_MS,
    )
    first = shown[0]
    page.locator(f"#onmap .onmap-item[data-kind='project'][data-key='{first}']").click()
    page.wait_for_function(
        "(id) => window.twin.selectedProject && window.twin.selectedProject.id === id",
        arg=first,
        timeout=STATE_MS,
    )
    expect(page.locator("#project-card")).to_be_visible()
    sensor_row.click()
    page.wait_for_function(
        "(key) => window.twin.sensors.open === key", arg=sensor["thing"], timeout=STATE_MS
    )
    expect(page.locator("#sensor-card")).to_be_visible()
    expect(page.locator("#project-card")).to_be_hidden()

    # Closed, it is emptied again.
    toggle.click()
    expect(page.locator("#onmap")).to_be_hidden()
    assert page.locator("#onmap .onmap-item").count() == 0
    assert not vp.errors, vp.errors
    vp.close()


# --- keyboard only ----------------------------------------------------------------------


def _focus(page: Page) -> dict[str, Any]:
    """The focused element: its id/class, focus styles and its box (padded for the ring)."""
    info: dict[str, Any] = page.evaluate(
        """() => {
            const el = document.activeElement;
            const s = getComputedStyle(el);
            const r = el.getBoundingClientRect();
            return {
                id: el.id, tag: el.tagName, cls: el.className, type: el.type || null,
                visible: el.matches(":focus-visible"),
                outline: s.outlineStyle !== "none" && parseFloat(s.outlineWidth) > 0,
                shadow: s.boxShadow !== "none",
                clip: { x: Math.max(0, r.x - 7), y: Math.max(0, r.y - 7),
                        width: r.width + 14, height: r.height + 14 },
            };
        }"""
    )
    return info


def _shot(page: Page, clip: dict[str, float]) -> np.ndarray:
    png = page.screenshot(clip=clip)  # type: ignore[arg-type]
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=np.int16)


def _changed(a: np.ndarray, b: np.ndarray) -> int:
    return int((np.abs(a - b).max(axis=2) > PIXEL_CHANGE).sum())


def _assert_ring(info: dict[str, Any]) -> None:
    assert info["visible"], f"{info['id'] or info['cls']} is focused but not :focus-visible"
    assert info["outline"] or info["shadow"], f"no focus indicator on {info}"


def _tilesets_shown(page: Page) -> list[bool]:
    """``show`` of every 3D Tiles tileset in the scene."""
    shown: list[bool] = page.evaluate(
        """() => {
            const primitives = window.twin.viewer.scene.primitives;
            const shown = [];
            for (let i = 0; i < primitives.length; i++) {
                const p = primitives.get(i);
                if (p instanceof globalThis.Cesium.Cesium3DTileset) shown.push(p.show);
            }
            return shown;
        }"""
    )
    return shown


def test_layer_panel_by_keyboard_only(open_viewer: Callable[..., ViewerPage]) -> None:
    vp = _open(open_viewer, "sv", DESKTOP)
    page = vp.page
    checkbox = "#layer-list input[name='layer-demo']"

    # From page load: Tab until the layer's checkbox; every stop shows its focus.
    for _ in range(12):
        page.keyboard.press("Tab")
        info = _focus(page)
        _assert_ring(info)
        if page.evaluate("(s) => document.activeElement === document.querySelector(s)", checkbox):
            break
    else:
        pytest.fail("the layer checkbox is not reachable with Tab")
    box_focused = _shot(page, info["clip"])
    box_clip = info["clip"]

    page.keyboard.press("Space")
    page.wait_for_function("() => window.twin.layers.demo.shown === false", timeout=STATE_MS)
    assert _tilesets_shown(page) == [False]
    page.keyboard.press("Space")
    page.wait_for_function("() => window.twin.layers.demo.shown === true", timeout=STATE_MS)
    assert _tilesets_shown(page) == [True]

    # The zoom button: focus visible, and the checkbox's ring went with the focus.
    page.keyboard.press("Tab")
    info = _focus(page)
    _assert_ring(info)
    assert "zoom" in info["cls"], info
    assert _changed(box_focused, _shot(page, box_clip)) > 20, "no visible focus on the checkbox"
    zoom_focused = _shot(page, info["clip"])
    zoom_clip = info["clip"]

    # Enter flies: move the camera away first (set-up, not input), then the key.
    page.evaluate("() => window.twin.viewer.camera.moveBackward(20000)")
    far = _camera(page)
    page.keyboard.press("Enter")
    page.wait_for_function(
        "(s) => { const p = window.twin.viewer.camera.positionWC;"
        " return Math.hypot(p.x - s[0], p.y - s[1], p.z - s[2]) > 15000; }",
        arg=far,
        timeout=STATE_MS,
    )
    assert _moved(far, _camera(page)) > 15000

    # Back to the panel's fold toggle with Shift+Tab; Enter folds, Space unfolds.
    toggle = page.locator("#layer-panel-toggle")
    for _ in range(6):
        page.keyboard.press("Shift+Tab")
        info = _focus(page)
        _assert_ring(info)
        if info["id"] == "layer-panel-toggle":
            break
    else:
        pytest.fail("the fold toggle is not reachable with Shift+Tab")
    assert _changed(zoom_focused, _shot(page, zoom_clip)) > 20, (
        "no visible focus on the zoom button"
    )
    page.keyboard.press("Enter")
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(page.locator("#layer-list")).to_be_hidden()
    expect(toggle).to_be_focused()
    page.keyboard.press("Space")
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(page.locator("#layer-list")).to_be_visible()
    # Escape does not fold the panel or move the focus away.
    page.keyboard.press("Escape")
    expect(toggle).to_be_focused()
    vp.screenshot("a11y-keyboard-layers.png")
    assert not vp.errors, vp.errors
    vp.close()


def _tab_to(page: Page, selector: str, limit: int = 80) -> None:
    """Tab (or Shift+Tab, when the target comes before the focus) until `selector` is focused."""
    if page.evaluate("document.activeElement === document.body"):
        # Focus was on something now hidden: one step shows where the keyboard is.
        page.keyboard.press("Tab")
    back = page.evaluate(
        """(s) => {
            const target = document.querySelector(s);
            const at = document.activeElement;
            if (!target || !at || at === document.body) return false;
            return Boolean(at.compareDocumentPosition(target) & Node.DOCUMENT_POSITION_PRECEDING);
        }""",
        selector,
    )
    for _ in range(limit):
        if page.evaluate("(s) => document.activeElement.matches(s)", selector):
            return
        page.keyboard.press("Shift+Tab" if back else "Tab")
        _assert_ring(_focus(page))
    if not page.evaluate("(s) => document.activeElement.matches(s)", selector):
        pytest.fail(f"{selector} is not reachable with {'Shift+' if back else ''}Tab")


def test_catalogue_sensors_and_imports_by_keyboard(
    open_viewer: Callable[..., ViewerPage], twin: TwinServer, sensor: dict[str, Any]
) -> None:
    vp = _open(open_viewer, "sv", DESKTOP)
    page = vp.page

    # Catalogue: the list's first project, Arrow keys between projects, Enter opens the card.
    shown = page.evaluate("window.twin.catalogue.shown")
    _tab_to(page, "#project-list button.project-item")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowUp")
    page.keyboard.press("Enter")
    page.wait_for_function(
        "(id) => window.twin.selectedProject && window.twin.selectedProject.id === id",
        arg=shown[0],
        timeout=STATE_MS,
    )
    expect(page.locator("#project-card")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.locator("#project-card")).to_be_hidden()

    # Sensors: Tab on to the sensor, Enter opens its card, Escape closes it.
    _tab_to(page, f'#sensor-list [data-thing="{sensor["thing"]}"]')
    page.keyboard.press("Enter")
    page.wait_for_function(
        "(key) => window.twin.sensors.open === key", arg=sensor["thing"], timeout=STATE_MS
    )
    expect(page.locator("#sensor-card")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.locator("#sensor-card")).to_be_hidden()

    # Log in from the keyboard, open the import panel, walk its form, Escape closes it.
    email = _gis_account(twin)
    _tab_to(page, "#login-button")
    page.keyboard.press("Enter")
    expect(page.locator("#login-email")).to_be_focused()
    page.keyboard.type(email)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.locator("#login-dialog")).to_be_hidden()
    page.wait_for_function("window.twin.imports && window.twin.imports.allowed", timeout=STATE_MS)
    _tab_to(page, "#imports-open")
    page.keyboard.press("Enter")
    expect(page.locator("#imports-panel")).to_be_visible()
    expect(page.locator("#imports-file")).to_be_focused()
    for selector in ("#imports-layer", "#imports-title-input", "#imports-public"):
        _tab_to(page, selector, limit=6)
    _tab_to(page, "#imports-submit", limit=10)
    page.keyboard.press("Escape")
    expect(page.locator("#imports-panel")).to_be_hidden()
    expect(page.locator("#imports-open")).to_be_focused()
    assert not vp.errors, vp.errors
    vp.close()
