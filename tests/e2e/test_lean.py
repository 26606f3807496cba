"""What the viewer loads before it is ready (issue #7, "lean"; the times are in
docs/BENCHMARKS.md, measured by bench/bench_viewer_load.py, never here).

- Every module main.js loads statically is fetched through the page's ``modulepreload``
  hints (the request's initiator is the HTML parser), all at once, not discovered one
  import level at a time; and the page announces no module that is not used.
- The panels meant to load on first use (import panel, login dialog, project form, sensor
  card and chart) are not fetched by an anonymous visit.
- On a software renderer (this test's SwiftShader) the star sky box is not loaded.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import urlsplit

import pytest

from .conftest import ViewerPage

pytestmark = pytest.mark.browser

LAZY = {
    "imports.js",
    "login-dialog.js",
    "project-form.js",
    "project-form-model.js",
    "sensors-card.js",
    "sensors-chart.js",
}


def test_modules_come_from_the_preload_hints_and_panels_stay_lazy(
    open_viewer: Callable[..., ViewerPage],
) -> None:
    vp = open_viewer()
    initiators: dict[str, str] = {}  # path -> what made the browser request it (CDP)
    cdp = vp.page.context.new_cdp_session(vp.page)
    cdp.send("Network.enable")
    cdp.on(
        "Network.requestWillBeSent",
        lambda e: initiators.setdefault(urlsplit(e["request"]["url"]).path, e["initiator"]["type"]),
    )
    try:
        vp.open()
        vp.wait_ready()
        html = vp.page.content()
        hinted = set(re.findall(r'<link rel="modulepreload" href="(/viewer/js/[^"]+)"', html))
        loaded = {p for p in initiators if p.startswith("/viewer/js/")}
        assert "/viewer/js/main.js" in loaded
        # every statically loaded module was hinted, and every hint was used
        assert loaded - {"/viewer/js/main.js"} == hinted, (
            sorted(loaded - hinted),
            sorted(hinted - loaded),
        )
        assert len(hinted) >= 40
        # ... and requested by the HTML parser (the hint), not by the import that needs it
        by_import = sorted(p for p in hinted if initiators[p] != "parser")
        assert not by_import, [(p, initiators[p]) for p in by_import]
        names = {urlsplit(u).path.rsplit("/", 1)[-1] for u in vp.requests}
        assert not LAZY & names, sorted(LAZY & names)
        assert vp.page.evaluate("window.twin.viewer.scene.skyBox === undefined")
        assert not [u for u in vp.requests if "/SkyBox/" in u]
        assert not vp.errors, vp.errors
    finally:
        vp.close()
