"""Take the screenshots in docs/VIEWER.md from a real twin over the bundled demo city.

    make screenshots            # or: .venv/bin/python docs/screenshots/capture.py [NAME ...]

Starts ``twin serve`` on a fresh data folder (the Delft demo, the example projects, the
sensor replay and a GIS account), drives Debian's Chromium through Playwright (never a
downloaded browser) and writes one PNG per shot beside this file. Each shot waits on the
viewer's real state (``window.twin``), never on time alone. The pictures show only the
openly licensed demo data (see data/demo/README.md).
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1] / "tests"))
from twinproc import (  # noqa: E402  (tests/ holds the helpers shared with the browser tests)
    CHROMIUM_ARGS,
    DEMO,
    REPO,
    ServerFailed,
    chromium_path,
    free_port,
    run_twin,
    stop,
    wait_healthy,
)

GIS_EMAIL, PASSWORD = "gis@example.org", "screenshot-password-1234"
READY_MS = 180_000
DESKTOP = {"width": 1280, "height": 760}
PHONE = {"width": 360, "height": 640}


def _twin(data: Path, *args: str, **kw: object) -> None:
    done = run_twin(data, *args, timeout=600, **kw)
    if done.returncode:
        raise SystemExit(f"{' '.join(args[:2])} failed:\n{done.stdout}\n{done.stderr}")


@contextmanager
def serve() -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="twin-shots-") as tmp:
        data = Path(tmp)
        _twin(data, "import", str(DEMO), "--layer", "demo", "--title", "Delft (demo city)")
        _twin(data, "demo")
        gis = ["users", "add", GIS_EMAIL, "--role", "gis", "--municipality", "DEMO"]
        _twin(data, *gis, "--password-stdin", input=PASSWORD + "\n")
        port, log = free_port(), data / "serve.log"
        proc = run_twin(data, "serve", "--port", str(port), log=log, env={"TWIN_REPLAY": "true"})
        url = f"http://127.0.0.1:{port}"
        try:
            try:
                wait_healthy(url, proc, log)
            except ServerFailed as exc:
                raise SystemExit(str(exc)) from None
            yield url
        finally:
            stop(proc)


def wait_ready(page: Page) -> None:
    page.wait_for_function(
        """() => { const t = window.twin; if (t && t.error) throw new Error(t.error);
                   return t && t.ready && t.layers.demo && t.layers.demo.tilesLoaded; }""",
        timeout=READY_MS,
    )


def settle(page: Page) -> None:
    """Until the camera has stopped and every visible tile is drawn."""
    page.wait_for_function(
        """() => { const v = window.twin.viewer; const ts = v.scene.primitives;
                   for (let i = 0; i < ts.length; i++) {
                     const p = ts.get(i); if (p.show && p.tilesLoaded === false) return false; }
                   v.scene.requestRender(); return true; }""",
        timeout=READY_MS,
    )
    page.wait_for_timeout(400)  # let the last requested frame reach the screen


def open_viewer(page: Page, url: str, hash_: str = "") -> None:
    page.goto(url + "/" + hash_)
    wait_ready(page)
    page.wait_for_function("window.twin.catalogue && window.twin.catalogue.loaded")
    settle(page)


def shot_citizen_overview(page: Page, url: str) -> None:
    open_viewer(page, url)


def shot_citizen_project(page: Page, url: str) -> None:
    open_viewer(page, url)
    first = page.evaluate("window.twin.catalogue.shown[0]")
    page.evaluate("(id) => window.twin.catalogue.open(id)", first)
    page.wait_for_function("(id) => window.twin.selectedProject?.id === id", arg=first)
    settle(page)


def shot_planner_object(page: Page, url: str) -> None:
    open_viewer(page, url)
    hit = page.evaluate("window.twin.findFeatureScreenPosition('Building')")
    page.mouse.click(hit["x"], hit["y"])
    page.wait_for_function("window.twin.selected !== null")
    settle(page)


def shot_sensor_card(page: Page, url: str) -> None:
    open_viewer(page, url)
    page.wait_for_function("window.twin.sensors && window.twin.sensors.things.length > 0")
    thing = page.evaluate("window.twin.sensors.things[0]")
    page.evaluate("(k) => window.twin.sensors.show(k)", thing)
    page.wait_for_function("window.twin.sensors.chart?.points > 0", timeout=READY_MS)
    settle(page)


def shot_gis_import(page: Page, url: str) -> None:
    open_viewer(page, url)
    page.get_by_role("button", name="Logga in").click()
    dialog = page.locator("#login-dialog")
    dialog.get_by_label("E-post").fill(GIS_EMAIL)
    dialog.get_by_label("Lösenord").fill(PASSWORD)
    dialog.get_by_role("button", name="Logga in").click()
    page.wait_for_function("window.twin.imports && window.twin.imports.allowed")
    page.locator("#imports-open").click()
    page.wait_for_selector("#imports-panel:not([hidden])")
    settle(page)


#: Looking north over the demo city from its south edge (cam=lon,lat,height,heading,pitch).
CITY_VIEW = "cam=4.3658,52.0085,350,0,-40&layers=demo"


def shot_planner_styling(page: Page, url: str) -> None:
    open_viewer(page, url, f"#{CITY_VIEW}&style=demo:measuredHeight:q")
    page.wait_for_function("document.querySelector('.styling-legend li') !== null")
    page.evaluate("document.querySelector('details.styling').open = true")
    page.locator(".styling-legend").first.scroll_into_view_if_needed()
    settle(page)


def shot_planner_shadows(page: Page, url: str) -> None:
    open_viewer(page, url, f"#{CITY_VIEW}&sun=2026-06-21T15:30:00Z")
    page.wait_for_function("window.twin.tools && window.twin.tools.shadows.on")
    settle(page)


def shot_planner_search(page: Page, url: str) -> None:
    open_viewer(page, url)
    page.locator("#map-search-input").fill("G0503.032e")
    page.wait_for_selector("#map-search-results [role=option]")
    settle(page)


def shot_citizen_list(page: Page, url: str) -> None:
    open_viewer(page, url)
    page.locator("#onmap-toggle").click()
    page.wait_for_selector("#onmap li")
    page.locator("#onmap-toggle").scroll_into_view_if_needed()
    settle(page)


#: name -> (viewport, what to do before the picture)
SHOTS: dict[str, tuple[dict[str, int], Callable[[Page, str], None]]] = {
    "citizen-overview": (DESKTOP, shot_citizen_overview),
    "citizen-project": (DESKTOP, shot_citizen_project),
    "citizen-phone": (PHONE, shot_citizen_project),
    "citizen-list": (DESKTOP, shot_citizen_list),
    "planner-object": (DESKTOP, shot_planner_object),
    "planner-styling": (DESKTOP, shot_planner_styling),
    "planner-search": (DESKTOP, shot_planner_search),
    "planner-shadows": (DESKTOP, shot_planner_shadows),
    "sensor-card": (DESKTOP, shot_sensor_card),
    "gis-import": (DESKTOP, shot_gis_import),
}


def main(names: list[str]) -> int:
    unknown = sorted(set(names) - set(SHOTS))
    if unknown:
        print(f"unknown shots: {', '.join(unknown)}; known: {', '.join(SHOTS)}", file=sys.stderr)
        return 2
    with serve() as url, sync_playwright() as pw:
        chromium, looked = chromium_path()
        if chromium is None:
            raise SystemExit(f"Chromium not found at {looked!r} (set TWIN_CHROMIUM)")
        browser = pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        for name in names or list(SHOTS):
            viewport, prepare = SHOTS[name]
            phone = viewport is PHONE
            context = browser.new_context(
                viewport=viewport,  # type: ignore[arg-type]
                locale="sv-SE",
                is_mobile=phone,
                has_touch=phone,
                device_scale_factor=1,
            )
            page = context.new_page()
            prepare(page, url)
            out = HERE / f"{name}.png"
            page.screenshot(path=str(out))
            print(f"{out.relative_to(REPO)}: {out.stat().st_size // 1024} KiB")
            context.close()
        browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
