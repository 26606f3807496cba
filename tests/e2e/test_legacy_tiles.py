"""The demo as 3D Tiles 1.0 (b3dm, quantised glTF inside) in real CesiumJS in Chromium:
it loads, draws, and a building picked on screen carries its batch-table attributes.

Uses the browser helpers of tests/e2e (Debian's Chromium through Playwright)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser
from twinproc import stop

from .conftest import (
    DEMO,
    DESKTOP,
    ViewerPage,
    _free_port,
    _run_twin,
    _wait_healthy,
)


@pytest.fixture(scope="module")
def legacy_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data_dir = tmp_path_factory.mktemp("legacy-data")
    done = _run_twin(
        data_dir, "import", str(DEMO), "--layer", "demo", "--tiles-version", "1.0", timeout=300
    )
    assert done.returncode == 0, f"twin import failed:\n{done.stdout}\n{done.stderr}"
    log = data_dir / "serve.log"
    url = f"http://127.0.0.1:{_free_port()}"
    proc = _run_twin(data_dir, "serve", "--port", url.rsplit(":", 1)[1], log=log)
    try:
        _wait_healthy(url, proc, log)
        yield url
    finally:
        stop(proc)


def test_b3dm_demo_loads_and_picks_in_cesium(
    browser: Browser,
    legacy_server: str,
) -> None:
    context = browser.new_context(viewport=DESKTOP)
    try:
        page = context.new_page()
        vp = ViewerPage(page, legacy_server)
        page.on("request", lambda r: vp.requests.append(r.url))
        page.on("pageerror", lambda e: vp.errors.append(f"pageerror: {e}"))
        vp.open()
        vp.wait_ready()
        tiles = [u.split("?")[0] for u in vp.requests if "/tiles/demo/" in u]
        assert any(u.endswith(".b3dm") for u in tiles), tiles
        assert not any(u.endswith(".glb") for u in tiles), tiles
        hit = vp.find_feature("Building")
        picked = vp.pick(hit["x"], hit["y"])
        assert picked is not None
        assert picked["id"] == hit["id"]
        assert vp.errors == []
    finally:
        context.close()
