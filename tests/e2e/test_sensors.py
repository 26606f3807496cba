"""Sensors in a real browser: a value published over MQTT to a real Mosquitto broker turns
a marker from the "ok" to the "alarm" colour without a reload (read from the viewer's state
and from the canvas pixels under the marker); the linked building follows; the card shows
the value, its time and a history chart; the list, card and Escape work from the keyboard;
the card fits a 360 px phone.

A second ``twin serve`` on the session's data directory (the imported Delft demo, the demo
catalogue, the admin token) runs with ``TWIN_MQTT_URL`` set, so it starts the MQTT
subscriber (``twin sensors run``) beside itself. Waits are on real state, bounded.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from mqttbroker import find_mosquitto, mosquitto
from paho.mqtt.enums import CallbackAPIVersion
from PIL import Image
from playwright.sync_api import Browser, ConsoleMessage, expect
from twinproc import stop

from .conftest import (
    DESKTOP,
    LOCALE,
    PHONE,
    REPO,
    VIEWER_READY_MS,
    TwinServer,
    ViewerPage,
    _free_port,
    _wait_healthy,
    api_call,
)
from .pixels import canvas_pixel, interior, nearest

pytestmark = pytest.mark.browser

STATE_MS = 60_000
#: A building of the Delft demo (CityJSON id) and a point on its roof.
BUILDING = "b1105d28c-00ba-11e6-b420-2bdcc4ab5d7f"
LOCATION = [4.367775, 52.011245, 8.0]
#: The viewer's state colours (viewer/js/sensors-style.js).
OK = "#009E73"
#: Text that runs script if it is ever inserted as HTML.
XSS_FLAG = "window.__xss = 1"
HOSTILE = f'<img src=x onerror="{XSS_FLAG}"><script>{XSS_FLAG}</script>'
ALARM = "#C3002F"
#: main.js: the selection highlight; styling-model.js: the first category colour.
SELECT_COLOR = "#00a8ff"
OKABE_ITO_FIRST = "#E69F00"


@dataclass(frozen=True)
class SensorServer:
    url: str
    client: mqtt.Client
    datastream: dict[str, Any]

    @property
    def thing(self) -> str:
        return str(self.datastream["thing"]["id"])

    def publish(self, value: float, at: datetime | None = None) -> None:
        """One SensorThings Observation on the convention's topic, QoS 1, acknowledged."""
        when = (at or datetime.now(UTC)).isoformat()
        info = self.client.publish(
            f"v1.1/Datastreams({self.datastream['id']})/Observations",
            json.dumps({"result": value, "phenomenonTime": when}),
            qos=1,
        )
        info.wait_for_publish(timeout=10)
        assert info.is_published(), "the broker did not acknowledge the message"

    def latest(self) -> dict[str, Any] | None:
        status, body = api_call(self.url, "GET", f"/api/datastreams/{self.datastream['id']}")
        assert status == 200, (status, body)
        latest: dict[str, Any] | None = body["latest"]
        return latest


@pytest.fixture(scope="module")
def broker() -> Iterator[int]:
    binary = find_mosquitto()
    if binary is None:
        if os.environ.get("TWIN_REQUIRE_MQTT"):
            pytest.fail("Mosquitto is required (TWIN_REQUIRE_MQTT) but not installed")
        pytest.skip("mosquitto not found (apt-get install mosquitto)")
    # Mosquitto started as root drops to its own user: a folder outside pytest's 0700 tree.
    workdir = Path(tempfile.mkdtemp(prefix="twin-e2e-mosquitto-"))
    try:
        with mosquitto(workdir, binary) as port:
            yield port
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _create_datastream(twin: TwinServer) -> dict[str, Any]:
    suffix = uuid.uuid4().hex[:8]
    status, body = twin.api(
        "POST",
        "/api/datastreams",
        {
            "key": f"e2e-pm10-{suffix}",
            "name": "PM10",
            "description": HOSTILE,
            "unit": {"name": "mikrogram per kubikmeter", "symbol": "µg/m³"},
            "visibility": "public",
            "organisation": "DEMO",
            "thing": {
                "name": f"Luftstation e2e {suffix}",
                "location": {"type": "Point", "coordinates": LOCATION},
                "layer": "demo",
                "object_id": BUILDING,
            },
            "sensor": {"name": f"SDS011 {HOSTILE}"},
            "observed_property": {"name": "PM10"},
            "thresholds": {"warning": 40, "alarm": 80, "direction": "above"},
        },
    )
    assert status == 201, (status, body)
    return dict(body)


@pytest.fixture(scope="module")
def sensors(twin: TwinServer, broker: int) -> Iterator[SensorServer]:
    """``twin serve`` with the MQTT subscriber, and a datastream whose latest value is ok."""
    datastream = _create_datastream(twin)
    port = _free_port()
    log = twin.data_dir / "serve-mqtt.log"
    env = {
        **os.environ,
        "PYTHONUNBUFFERED": "1",
        "TWIN_MQTT_URL": f"mqtt://127.0.0.1:{broker}",
        "TWIN_WORKERS": "0",
        "TWIN_SSE_HEARTBEAT_SECONDS": "2",
    }
    for name in ("TWIN_REPLAY", "TWIN_STA_URLS"):
        env.pop(name, None)
    cmd = [sys.executable, "-m", "twin", "--data-dir", str(twin.data_dir)]
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [*cmd, "serve", "--port", str(port)],
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"e2e-{uuid.uuid4().hex}")
    client.connect("127.0.0.1", broker)
    client.loop_start()
    server = SensorServer(url, client, datastream)
    try:
        _wait_healthy(url, proc, log)
        # History for the chart: values over the last hours, the newest one "ok". The
        # subscriber connects on its own schedule, so publish until the server has one.
        start = datetime.now(UTC) - timedelta(hours=3)
        deadline = time.monotonic() + 60
        while True:
            for i in range(12):
                server.publish(10.0 + i, start + timedelta(minutes=15 * i))
            latest = server.latest()
            if latest is not None and latest["result"] == 21.0:
                break
            if time.monotonic() > deadline or proc.poll() is not None:
                pytest.fail(
                    "the MQTT subscriber stored nothing within 60 s:\n"
                    + log.read_text(errors="replace")[-3000:]
                )
            time.sleep(0.5)  # polling the server's own state, bounded by the deadline
        assert latest["state"] == "ok"
        yield server
    finally:
        client.loop_stop()
        client.disconnect()
        stop(proc)


def _open(browser: Browser, url: str, viewport: Any, fragment: str = "") -> ViewerPage:
    context = browser.new_context(viewport=viewport, locale=LOCALE)
    page = context.new_page()
    vp = ViewerPage(page, url)
    page.on("pageerror", lambda e: vp.errors.append(f"pageerror: {e}"))

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            vp.errors.append(f"console: {message.text}")

    page.on("console", on_console)
    page.goto(f"{url}/{fragment}")
    page.wait_for_function(
        """() => {
            const s = window.twin && window.twin.sensors;
            if (window.twin && window.twin.error) throw new Error(window.twin.error);
            if (s && s.error) throw new Error("sensors: " + s.error);
            return window.twin.ready && s && s.loaded && s.stream === "open";
        }""",
        timeout=VIEWER_READY_MS,
    )
    return vp


def _hex(rgb: tuple[int, int, int]) -> str:
    return "#{:02X}{:02X}{:02X}".format(*rgb)


def _pixel(vp: ViewerPage, x: float, y: float) -> tuple[int, int, int]:
    """The canvas pixel at client (x, y), from a screenshot of the page (what a person sees)."""
    png = vp.page.screenshot(clip={"x": round(x) - 1, "y": round(y) - 1, "width": 3, "height": 3})
    r, g, b = Image.open(io.BytesIO(png)).convert("RGB").getpixel((1, 1))  # type: ignore[misc]
    return (r, g, b)


def _near(rgb: tuple[int, int, int], css: str, tolerance: int = 36) -> bool:
    want = tuple(int(css[i : i + 2], 16) for i in (1, 3, 5))
    return all(abs(a - b) <= tolerance for a, b in zip(rgb, want, strict=True))


def _wait_pixel(vp: ViewerPage, thing: str, css: str) -> tuple[int, int, int]:
    """Until the marker's middle pixel shows `css` (rendering follows the state a frame or
    two later); returns the pixel. Bounded."""
    deadline = time.monotonic() + 20
    while True:
        pos = vp.page.evaluate("(k) => window.twin.sensors.screenPosition(k)", thing)
        assert pos, "the marker is not on screen"
        hit = vp.page.evaluate("([x, y]) => window.twin.sensors.hitAt(x, y)", [pos["x"], pos["y"]])
        assert hit == thing, f"something else is on top of the marker: {hit!r}"
        rgb = _pixel(vp, pos["x"], pos["y"])
        if _near(rgb, css) or time.monotonic() > deadline:
            return rgb
        vp.page.evaluate("window.twin.viewer.scene.requestRender()")
        time.sleep(0.2)  # the next rendered frame, bounded by the deadline


def test_mqtt_value_turns_the_marker_to_alarm_without_reload(
    browser: Browser, sensors: SensorServer
) -> None:
    vp = _open(browser, sensors.url, DESKTOP)
    page = vp.page
    thing = sensors.thing
    try:
        marker = page.evaluate("(k) => window.twin.sensors.marker(k)", thing)
        assert marker["state"] == "ok", marker
        assert marker["color"] == OK, marker
        assert marker["label"] == "21 µg/m³"
        rgb = _wait_pixel(vp, thing, OK)
        assert _near(rgb, OK), f"the marker shows {_hex(rgb)}, not the ok colour {OK}"
        assert (
            page.evaluate(
                "([l, id]) => window.twin.sensors.buildingColor(l, id)", ["demo", BUILDING]
            )
            == OK
        )
        legend_ok = page.locator('#sensor-legend-list li[data-state="ok"]')
        expect(legend_ok).to_contain_text("Normalt")
        page.evaluate("window.__sameDocument = true")

        sensors.publish(95.0)
        page.wait_for_function(
            "(k) => window.twin.sensors.marker(k).state === 'alarm'", arg=thing, timeout=STATE_MS
        )
        marker = page.evaluate("(k) => window.twin.sensors.marker(k)", thing)
        assert marker["color"] == ALARM
        assert marker["label"] == "!! 95 µg/m³"
        assert page.evaluate("window.__sameDocument") is True, "the page was reloaded"
        rgb = _wait_pixel(vp, thing, ALARM)
        assert _near(rgb, ALARM), f"the marker shows {_hex(rgb)}, not the alarm colour {ALARM}"
        assert (
            page.evaluate(
                "([l, id]) => window.twin.sensors.buildingColor(l, id)", ["demo", BUILDING]
            )
            == ALARM
        )
        expect(page.locator('#sensor-legend-list li[data-state="alarm"]')).to_contain_text("(1)")
        vp.screenshot("sensors-alarm.png")

        # A click on the marker opens its card: value, unit, time, state, and the chart.
        pos = page.evaluate("(k) => window.twin.sensors.screenPosition(k)", thing)
        page.mouse.click(pos["x"], pos["y"])
        card = page.locator("#sensor-card")
        expect(card).to_be_visible()
        expect(card.locator(".sensor-latest")).to_have_text("95 µg/m³")
        expect(card.locator(".sensor-state")).to_have_text("Larm")
        expect(card.locator("time")).to_have_text(
            # sv-SE: "2026-11-27 21:05" in the browser's time zone
            re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}$")
        )
        page.wait_for_function(
            "() => window.twin.sensors.chart && window.twin.sensors.chart.points > 0",
            timeout=STATE_MS,
        )
        chart = page.evaluate("window.twin.sensors.chart")
        assert chart["points"] >= 13, chart  # 12 history values and the alarm
        assert card.locator("#sensor-chart canvas").count() >= 1
        expect(card.locator("#sensor-chart-status")).to_contain_text("mätvärden")
        # Names and descriptions are text, never markup.
        expect(card.locator(".sensor-datastream p.muted")).to_have_text(HOSTILE)
        expect(card).to_contain_text(f"SDS011 {HOSTILE}")
        assert page.evaluate("window.__xss") is None

        # Live while open: the new value is in the card's polite live region.
        sensors.publish(30.0)
        expect(card.locator(".sensor-live")).to_contain_text("30 µg/m³", timeout=STATE_MS)
        assert card.locator(".sensor-live").get_attribute("aria-live") == "polite"
        page.wait_for_function(
            "(k) => window.twin.sensors.marker(k).state === 'ok'", arg=thing, timeout=STATE_MS
        )
        vp.screenshot("sensors-card.png")
        assert not vp.errors, vp.errors
    finally:
        vp.close()


def test_a_linked_building_keeps_its_state_colour_under_an_attribute_style(
    browser: Browser, sensors: SensorServer
) -> None:
    """Colour by attribute repaints every feature of a tile; the building linked to a sensor
    gets its state colour back after that, through selection, a change of style and the
    style's removal; with "colour linked buildings" off it takes the style's colour."""
    # 200 m south of the building, looking north and down; no projects (their translucent
    # areas would tint the pixels).
    lon, lat = LOCATION[0], LOCATION[1] - 200 / 111_320
    vp = _open(
        browser, sensors.url, DESKTOP, f"#cam={lon},{lat:.6f},200,0,-45&sel=demo:{BUILDING}&q=zz9"
    )
    page = vp.page
    try:
        page.wait_for_function("(id) => window.twin.selected?.id === id", arg=BUILDING)
        vp.wait_ready()
        sensors.publish(20.0)
        page.wait_for_function(
            "(k) => window.twin.sensors.marker(k).state === 'ok'",
            arg=sensors.thing,
            timeout=STATE_MS,
        )
        linked = OK
        assert (
            page.evaluate(
                "([l, id]) => window.twin.sensors.buildingColor(l, id)", ["demo", BUILDING]
            )
            == linked
        )
        # Points inside the building and inside another, 3 px to spare, nothing over them.
        spot = interior(vp, id=BUILDING, margin=3, step=6, reach=300, uncovered=True)
        assert spot, "the linked building is not on screen after the link's flight"
        other = interior(
            vp, type="Building", avoid=BUILDING, margin=3, step=6, reach=300, uncovered=True
        )
        assert other, "no other building on screen"
        # Category colours: every Building gets the first one (the demo's most common type).
        building_colour = OKABE_ITO_FIRST
        among = [linked, ALARM, building_colour, SELECT_COLOR]

        def shows(point: dict[str, Any], want: str) -> str:
            """Which colour the point shows, once it is `want` or after 20 s (with the
            pixel, for the message)."""
            deadline = time.monotonic() + 20
            while True:
                pixel = canvas_pixel(vp, point["x"], point["y"])
                got = nearest(pixel, [*among, "#FFFFFF"])
                if got == want or time.monotonic() > deadline:
                    return f"{got} {pixel}" if got != want else got
                time.sleep(0.2)  # then the next rendered frame, bounded by the deadline

        def steady(point: dict[str, Any], want: str) -> str:
            """What the point shows over the next few frames, if not always `want`."""
            for _ in range(4):
                pixel = canvas_pixel(vp, point["x"], point["y"])
                got = nearest(pixel, [*among, "#FFFFFF"])
                if got != want:
                    return f"{got} {pixel}"
                time.sleep(0.3)  # frames drawn after the restyle's repaint
            return want

        def let_go() -> None:
            page.keyboard.press("Escape")
            page.wait_for_function("() => window.twin.selected === null")
            page.locator("#app-title").hover()
            page.wait_for_function("() => window.twin.hovered === null")

        assert shows(spot, SELECT_COLOR) == SELECT_COLOR
        let_go()
        assert shows(spot, linked) == linked, "no state colour before any style"

        applied = page.evaluate(
            "() => window.twin.styling.apply({layer: 'demo', property: 'type', mode: 'category'})"
        )
        assert applied
        page.wait_for_function("() => window.twin.styling.layers.demo?.property === 'type'")
        assert shows(other, building_colour) == building_colour, (
            "the style was not drawn",
            page.evaluate("window.twin.styling.layers.demo.legend"),
        )
        assert shows(spot, linked) == linked, "the style took the linked building's colour"

        # Selected over the style, then let go: the state colour, not the style's. A change
        # of style while it is selected repaints the tile (the other building shows it):
        # the selection colour stays on top of the state colour.
        page.mouse.click(spot["x"], spot["y"])
        page.wait_for_function("(id) => window.twin.selected?.id === id", arg=BUILDING)
        assert shows(spot, SELECT_COLOR) == SELECT_COLOR
        assert page.evaluate("() => window.twin.styling.reset('demo')")
        assert shows(other, "#FFFFFF") == "#FFFFFF", "the style was not removed"
        assert steady(spot, SELECT_COLOR) == SELECT_COLOR, "a restyle took the selection colour"
        assert page.evaluate(
            "() => window.twin.styling.apply({layer: 'demo', property: 'type', mode: 'category'})"
        )
        assert shows(other, building_colour) == building_colour
        assert steady(spot, SELECT_COLOR) == SELECT_COLOR, "a restyle took the selection colour"
        # A new state while it is selected: shown once it is let go, not over the selection.
        sensors.publish(95.0)
        page.wait_for_function(
            "(k) => window.twin.sensors.marker(k).state === 'alarm'",
            arg=sensors.thing,
            timeout=STATE_MS,
        )
        assert steady(spot, SELECT_COLOR) == SELECT_COLOR, "the new state took the selection"
        let_go()
        assert shows(spot, ALARM) == ALARM, "letting go did not show the new state"
        sensors.publish(20.0)
        assert shows(spot, linked) == linked, "letting go restored the style's colour"

        # "Colour linked buildings" off: the style's colour; on again: the state colour.
        page.evaluate("() => document.getElementById('sensor-buildings').click()")
        assert shows(spot, building_colour) == building_colour, "unlinked, not the style"
        page.evaluate("() => document.getElementById('sensor-buildings').click()")
        assert shows(spot, linked) == linked

        # The style removed: every building white again, the linked one in its colour.
        assert page.evaluate("() => window.twin.styling.reset('demo')")
        assert shows(other, "#FFFFFF") == "#FFFFFF", "the style was not removed"
        assert shows(spot, linked) == linked, "removing the style took the state colour"
        assert not vp.errors, vp.errors
    finally:
        sensors.publish(20.0)  # other tests expect the sensor's state to be ok
        vp.close()


def test_time_slider_replays_history_and_live_returns(
    browser: Browser, sensors: SensorServer
) -> None:
    vp = _open(browser, sensors.url, DESKTOP)
    page = vp.page
    thing = sensors.thing
    try:
        page.locator("#sensor-play").click()
        page.wait_for_function("window.twin.sensors.mode === 'history'", timeout=STATE_MS)
        # 3 h ago the history's first value (10) was the newest: "ok", shown as such.
        first = datetime.now(UTC) - timedelta(hours=3) + timedelta(minutes=1)
        page.evaluate("(t) => window.twin.sensors.scrub(t)", first.timestamp())
        marker = page.evaluate("(k) => window.twin.sensors.marker(k)", thing)
        assert marker["label"] == "10 µg/m³", marker
        expect(page.locator("#sensor-time-text")).to_contain_text("Visar värdena")
        page.locator("#sensor-live").click()
        assert page.evaluate("window.twin.sensors.mode") == "live"
        latest = sensors.latest()
        assert latest is not None
        marker = page.evaluate("(k) => window.twin.sensors.marker(k)", thing)
        assert marker["label"].endswith(f"{latest['result']:g} µg/m³"), (marker, latest)
        assert not vp.errors, vp.errors
    finally:
        vp.close()


def test_a_link_with_a_time_opens_the_history_at_that_time(
    browser: Browser, sensors: SensorServer
) -> None:
    """The time slider's position is in the link (#t=): a new visitor sees the same values."""
    vp = _open(browser, sensors.url, DESKTOP)
    thing = sensors.thing
    first = datetime.now(UTC) - timedelta(hours=3) + timedelta(minutes=1)
    try:
        vp.page.locator("#sensor-play").click()
        vp.page.wait_for_function("window.twin.sensors.mode === 'history'", timeout=STATE_MS)
        vp.page.evaluate("(t) => window.twin.sensors.scrub(t)", first.timestamp())
        # Moving within a replay replaces the history entry once the slider rests.
        vp.page.wait_for_function(
            """(want) => {
                const t = new URLSearchParams(location.hash.slice(1)).get("t");
                return t !== null && Math.abs(Date.parse(t) / 1000 - want) < 60;
            }""",
            arg=first.timestamp(),
            timeout=STATE_MS,
        )
        fragment = vp.page.evaluate("location.hash")
    finally:
        vp.close()
    visitor = _open(browser, sensors.url, DESKTOP, fragment)
    page = visitor.page
    try:
        page.wait_for_function("window.twin.sensors.mode === 'history'", timeout=STATE_MS)
        shown = page.evaluate("window.twin.sensors.time")
        assert abs(datetime.fromisoformat(shown).timestamp() - first.timestamp()) < 60, shown
        page.wait_for_function(
            "(k) => window.twin.sensors.marker(k).label === '10 µg/m³'", arg=thing, timeout=STATE_MS
        )
        expect(page.locator("#sensor-time-text")).to_contain_text("Visar värdena")
        assert not visitor.errors, visitor.errors
    finally:
        visitor.close()


def test_keyboard_and_phone(browser: Browser, sensors: SensorServer) -> None:
    vp = _open(browser, sensors.url, PHONE)
    page = vp.page
    try:
        item = page.locator(f'#sensor-list button[data-thing="{sensors.thing}"]')
        item.focus()
        page.keyboard.press("Enter")
        card = page.locator("#sensor-card")
        expect(card).to_be_visible()
        box = card.bounding_box()
        assert box is not None
        assert box["x"] >= 0, box
        assert box["x"] + box["width"] <= 360 + 0.5, box
        page.wait_for_function(
            "() => window.twin.sensors.chart && window.twin.sensors.chart.points > 0",
            timeout=STATE_MS,
        )
        chart = card.locator("#sensor-chart canvas").first.bounding_box()
        assert chart is not None
        assert chart["width"] <= 360, chart
        page.locator("#sensor-chart-range").select_option("7d")
        page.wait_for_function(
            "() => window.twin.sensors.chart && window.twin.sensors.chart.range === '7d'",
            timeout=STATE_MS,
        )
        vp.screenshot("sensors-phone.png")
        page.keyboard.press("Escape")
        expect(card).to_be_hidden()
        assert page.evaluate("window.twin.sensors.open") is None
        assert not vp.errors, vp.errors
    finally:
        vp.close()
