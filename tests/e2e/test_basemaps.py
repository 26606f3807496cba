"""Base maps and terrain in the browser, from a real local tile server: an XYZ map and a
WMTS (KVP GetTile) map in colours nothing else has, and a quantized-mesh terrain whose
heights the test encodes; a separate ``twin serve`` is configured with them."""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import Browser

from .conftest import DESKTOP, VIEWER_READY_MS, ViewerPage, import_demo, new_viewer_page, serving

pytestmark = pytest.mark.browser
#: Writes the test's terrain tiles (quantized-mesh-encoder 0.5.0 on PyPI).
quantized_mesh_encoder = pytest.importorskip("quantized_mesh_encoder")

XYZ_COLOUR = (255, 0, 255)  # magenta
WMTS_COLOUR = (255, 128, 0)  # orange
WMTS_LAYER = "testkarta"
MATRIX_PREFIX = "EPSG:3857:"  # tile matrices named as GeoServer names them
#: Terrain: geographic tiling, levels 0..TERRAIN_LEVEL along the way to Delft; the deepest
#: tile holds the plane h = A + B (lon - LON0) + C (lat - LAT0), coarser ones are flat at A.
TERRAIN_LEVEL = 8
LON0, LAT0 = 4.36, 52.0
A, B, C = 5.0, 1000.0, 500.0
#: Points inside the deepest tile (lon 4.22..4.92, lat 51.33..52.03), away from the city.
PROBES = [(4.6, 51.6), (4.8, 51.5), (4.25, 51.4)]


def plane(lon: float, lat: float) -> float:
    return A + B * (lon - LON0) + C * (lat - LAT0)


def png(colour: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (256, 256), colour).save(out, format="PNG")
    return out.getvalue()


def tile_bounds(level: int, x: int, y: int) -> tuple[float, float, float, float]:
    """A geographic (EPSG:4326, TMS rows from the south) tile's west, south, east, north."""
    size = 180.0 / 2**level
    return -180 + x * size, -90 + y * size, -180 + (x + 1) * size, -90 + (y + 1) * size


def terrain_tile(bounds: tuple[float, float, float, float], heights: Any) -> bytes:
    """A quantized-mesh tile: a 17 x 17 grid over ``bounds`` with heights(lon, lat)."""
    w, s, e, n = bounds
    lon, lat = np.meshgrid(np.linspace(w, e, 17), np.linspace(s, n, 17))
    positions = np.stack([lon.ravel(), lat.ravel(), heights(lon, lat).ravel()], axis=1)
    tris = []
    for r in range(16):
        for c in range(16):
            i = r * 17 + c
            tris += [(i, i + 1, i + 18), (i, i + 18, i + 17)]
    out = io.BytesIO()
    quantized_mesh_encoder.encode(
        out, positions.astype(np.float64), np.array(tris, dtype=np.uint32), bounds=bounds
    )
    return out.getvalue()


def write_terrain(root: Path) -> None:
    """layer.json and the tiles: both level-0 tiles, then the one tile holding Delft on
    every level down to TERRAIN_LEVEL (the others are not available: Cesium upsamples)."""
    available = []
    for level in range(TERRAIN_LEVEL + 1):
        size = 180.0 / 2**level
        x, y = int((LON0 + 180) // size), int((LAT0 + 90) // size)
        xs = (0, 1) if level == 0 else (x,)
        available.append([{"startX": min(xs), "endX": max(xs), "startY": y, "endY": y}])
        for tx in xs:
            deepest = level == TERRAIN_LEVEL
            data = terrain_tile(
                tile_bounds(level, tx, y),
                (lambda lo, la: plane(lo, la)) if deepest else (lambda lo, la: 0 * lo + A),
            )
            path = root / str(level) / str(tx) / f"{y}.terrain"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
    layer = {
        "tilejson": "2.1.0",
        "format": "quantized-mesh-1.0",
        "version": "1.0.0",
        "scheme": "tms",
        "tiles": ["{z}/{x}/{y}.terrain?v={version}"],
        "projection": "EPSG:4326",
        "bounds": [-180, -90, 180, 90],
        "minzoom": 0,
        "maxzoom": TERRAIN_LEVEL,
        "available": available,
    }
    (root / "layer.json").write_text(json.dumps(layer))


class TileHandler(SimpleHTTPRequestHandler):
    """XYZ tiles under /xyz/{z}/{x}/{y}.png, WMTS KVP GetTile under /wmts (its matrices
    named EPSG:3857:<level>; anything else is a 400), the terrain's
    files under /terrain/; every answer allows any origin (WebGL textures need CORS)."""

    served: list[str]

    def do_GET(self) -> None:
        self.served.append(self.path)
        url = urlsplit(self.path)
        if url.path.startswith("/xyz/") and url.path.endswith(".png"):
            return self.send_png(XYZ_COLOUR)
        if url.path == "/wmts":
            q = {k.lower(): v[0] for k, v in parse_qs(url.query).items()}
            ok = q.get("request") == "GetTile" and q.get("layer") == WMTS_LAYER
            matrix = q.get("tilematrix", "")
            if ok and matrix.startswith(MATRIX_PREFIX) and matrix[len(MATRIX_PREFIX) :].isdigit():
                return self.send_png(WMTS_COLOUR)
            return self.send_error(400, "not a GetTile request for the test layer")
        return super().do_GET()

    def send_png(self, colour: tuple[int, int, int]) -> None:
        body = png(colour)
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def end_headers(self) -> None:
        self.send_header("Access-Control-Allow-Origin", "*")
        super().end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def tile_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, list[str]]]:
    root = tmp_path_factory.mktemp("tiles")
    write_terrain(root / "terrain")
    served: list[str] = []
    handler = type("Handler", (TileHandler,), {"served": served})

    def make(*args: Any) -> TileHandler:
        return handler(*args, directory=str(root))

    server = ThreadingHTTPServer(("127.0.0.1", 0), make)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", served
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, tile_server: tuple[str, list[str]]):
    tiles, _ = tile_server
    data_dir = tmp_path_factory.mktemp("basemap-data")
    import_demo(data_dir)
    maps = [
        {
            "name": "test-xyz",
            "title": "Testkarta XYZ",
            "type": "xyz",
            "url": f"{tiles}/xyz/{{z}}/{{x}}/{{y}}.png",
            "maximum_level": 18,
            "credit": "Magenta tiles by the test",
        },
        {
            "name": "test-wmts",
            "title": "Testkarta WMTS",
            "type": "wmts",
            "url": f"{tiles}/wmts",
            "layer": WMTS_LAYER,
            "tile_matrix_set": "EPSG:3857",
            "tile_matrix_prefix": MATRIX_PREFIX,
            "maximum_level": 18,
            "credit": "Orange tiles by the test",
        },
    ]
    env = {"TWIN_BASE_MAPS": json.dumps(maps), "TWIN_TERRAIN_URL": f"{tiles}/terrain"}
    with serving(data_dir, env) as url:
        yield url


@pytest.fixture(scope="module")
def viewer(browser: Browser, server: str) -> Iterator[ViewerPage]:
    vp = new_viewer_page(browser, server, DESKTOP)
    vp.open()
    vp.wait_ready()
    try:
        yield vp
    finally:
        vp.close()


def look_down_away_from_the_city(vp: ViewerPage) -> None:
    """Camera 1.5 km straight above a spot 3 km north of the city; wait for the globe."""
    vp.page.evaluate(
        """() => {
            const C = window.Cesium, v = window.twin.viewer;
            v.camera.setView({
                destination: C.Cartesian3.fromDegrees(4.36, 52.04, 1500),
                orientation: { heading: 0, pitch: -Math.PI / 2, roll: 0 },
            });
            v.scene.requestRender();
        }"""
    )
    wait_globe(vp)


def wait_globe(vp: ViewerPage) -> None:
    """Until the base map's imagery is ready and the globe has had every tile in view loaded
    in three checks in a row, half a second apart (a frame may not have asked for them yet)."""
    vp.page.evaluate("() => { window.__globeLoaded = 0; }")
    vp.page.wait_for_function(
        """() => {
            const t = window.twin, v = t.viewer;
            if (t.baseMap.error) throw new Error("base map error: " + t.baseMap.error);
            v.scene.requestRender();
            const loaded = t.baseMap.ready && v.scene.globe.tilesLoaded;
            window.__globeLoaded = loaded ? window.__globeLoaded + 1 : 0;
            return window.__globeLoaded >= 3;
        }""",
        timeout=VIEWER_READY_MS,
        polling=500,
    )
    vp.page.evaluate("() => window.twin.viewer.scene.render()")


#: The part of the 1280 x 720 page with only the globe in it: right of the layer panel,
#: below the home button, above the credit line.
GLOBE_AREA = (340, 60, 1240, 640)


def share_of(vp: ViewerPage, colour: tuple[int, int, int], name: str) -> float:
    """The share of the globe's pixels within 40 of ``colour`` in every channel."""
    path = vp.screenshot(name)
    with Image.open(path) as im:
        pixels = np.asarray(im.convert("RGB").crop(GLOBE_AREA), dtype=np.int16)
    near = np.all(np.abs(pixels - np.array(colour)) <= 40, axis=-1)
    return float(near.mean())


def choose(vp: ViewerPage, title: str) -> None:
    vp.page.get_by_role("radio", name=title).check()


def test_picker_offers_the_maps_and_switches_the_globe(
    viewer: ViewerPage, tile_server: tuple[str, list[str]]
) -> None:
    page = viewer.page
    group = page.get_by_role("group", name="Bakgrundskarta")
    radios = group.get_by_role("radio")
    assert radios.count() == 3
    offline = group.get_by_role("radio", name="Världskarta (Natural Earth, offline)")
    assert offline.is_checked()
    assert page.evaluate("window.twin.baseMap.name") == "natural-earth"
    assert "map=" not in page.url  # the default needs no word in the link
    look_down_away_from_the_city(viewer)
    assert share_of(viewer, XYZ_COLOUR, "basemap-offline.png") < 0.01

    # Keyboard: focus the checked radio, arrow down to the next map (XYZ).
    offline.focus()
    page.keyboard.press("ArrowDown")
    page.wait_for_function("window.twin.baseMap.name === 'test-xyz'")
    wait_globe(viewer)
    assert share_of(viewer, XYZ_COLOUR, "basemap-xyz.png") > 0.9
    assert group.locator(".basemap-credit").text_content() == "Källa: Magenta tiles by the test"
    assert "Magenta tiles by the test" in page.locator(".cesium-widget-credits").inner_text()
    page.wait_for_function("location.hash.includes('map=test-xyz')", timeout=10_000)

    choose(viewer, "Testkarta WMTS")
    wait_globe(viewer)
    assert share_of(viewer, WMTS_COLOUR, "basemap-wmts.png") > 0.9
    _, served = tile_server
    assert any(p.startswith("/wmts?") and "request=GetTile" in p for p in served)
    page.wait_for_function("location.hash.includes('map=test-wmts')", timeout=10_000)

    # Back in history: the XYZ map again; then the offline map by the picker.
    page.go_back()
    page.wait_for_function("window.twin.baseMap.name === 'test-xyz'", timeout=10_000)
    assert group.get_by_role("radio", name="Testkarta XYZ").is_checked()
    choose(viewer, "Världskarta (Natural Earth, offline)")
    wait_globe(viewer)
    assert share_of(viewer, XYZ_COLOUR, "basemap-back.png") < 0.01
    assert share_of(viewer, WMTS_COLOUR, "basemap-back.png") < 0.01
    page.wait_for_function("!location.hash.includes('map=')", timeout=10_000)
    # The page's CSP let the tile server in (and nothing was refused).
    assert not [e for e in viewer.errors if "Content Security Policy" in e], viewer.errors


def test_a_link_with_map_opens_on_that_map(browser: Browser, server: str) -> None:
    vp = new_viewer_page(browser, server, DESKTOP)
    try:
        vp.page.goto(f"{server}/#map=test-wmts")
        vp.wait_ready()
        assert vp.page.evaluate("window.twin.baseMap.name") == "test-wmts"
        assert vp.page.get_by_role("radio", name="Testkarta WMTS").is_checked()
        assert any("/wmts?" in u for u in vp.requests)
        assert not any("/xyz/" in u for u in vp.requests)
    finally:
        vp.close()


def test_terrain_heights_are_the_encoded_ones(viewer: ViewerPage) -> None:
    page = viewer.page
    page.wait_for_function("window.twin.terrain.ready", timeout=VIEWER_READY_MS)
    sampled = page.evaluate(
        """async (probes) => {
            const C = window.Cesium, v = window.twin.viewer;
            const points = probes.map(([lon, lat]) => C.Cartographic.fromDegrees(lon, lat));
            await C.sampleTerrainMostDetailed(v.terrainProvider, points);
            return points.map((p) => p.height);
        }""",
        PROBES,
    )
    for (lon, lat), height in zip(PROBES, sampled, strict=True):
        # Quantisation: the deepest tile spans ~600 m of height in 32767 steps.
        assert height == pytest.approx(plane(lon, lat), abs=0.5), (lon, lat)

    # What the globe draws: look at one probe from above, then ask the globe's surface.
    lon, lat = PROBES[0]
    page.evaluate(
        """([lon, lat]) => {
            const C = window.Cesium, v = window.twin.viewer;
            v.camera.setView({
                destination: C.Cartesian3.fromDegrees(lon, lat, 3000),
                orientation: { heading: 0, pitch: -Math.PI / 2, roll: 0 },
            });
        }""",
        [lon, lat],
    )
    wait_globe(viewer)
    drawn = page.evaluate(
        """([lon, lat]) => window.twin.viewer.scene.globe.getHeight(
            window.Cesium.Cartographic.fromDegrees(lon, lat))""",
        [lon, lat],
    )
    assert drawn == pytest.approx(plane(lon, lat), abs=2.0)
    assert page.evaluate("window.twin.terrain.error") is None
