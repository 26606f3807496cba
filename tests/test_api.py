"""The HTTP service: health, layers, viewer config, tiles with caching headers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from twin.app import create_app
from twin.settings import Settings
from twin.store import Store

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "data" / "demo" / "delft.city.json"


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("data")
    Store(d).import_file(DEMO, "demo", title="Delft")
    return d


@pytest.fixture
def client(data_dir: Path) -> TestClient:
    return TestClient(create_app(Settings(data_dir=data_dir)))


def test_healthz(client: TestClient) -> None:
    r = client.get("/healthz")
    assert r.status_code == 200
    assert r.json() == {"status": "ok"}


def test_layers_lists_the_demo_with_its_facts(client: TestClient) -> None:
    layers = client.get("/api/layers").json()
    assert [layer["name"] for layer in layers] == ["demo"]
    demo = layers[0]
    assert demo["title"] == "Delft"
    assert demo["kind"] == "3dtiles"
    assert demo["feature_count"] == 570
    assert demo["crs"] == "EPSG:7415"
    assert demo["source"] == "delft.city.json"
    w, s, e, n = demo["extent"]
    assert 4.3 < w < e < 4.4
    assert 51.9 < s < n < 52.1
    assert demo["tileset_url"] == f"/tiles/demo/@{demo['version']}/tileset.json"
    assert demo["created"].startswith("20")
    names = {p["name"] for p in demo["properties"]}
    assert {"id", "type", "bgt_status", "lokaalid"} <= names


def test_config_gives_the_viewer_every_url(client: TestClient) -> None:
    cfg = client.get("/api/config").json()
    assert cfg["cesium_base_url"] == "/cesium/"
    assert cfg["base_map"]["url"].startswith("/cesium/Assets/Textures/NaturalEarthII")
    assert cfg["layers"][0]["tileset_url"].startswith("/tiles/demo/@")
    assert cfg["api"]["layers"] == "/api/layers"
    # Nothing points off this server (no Cesium ion, no remote base map by default).
    text = json.dumps(cfg)
    assert "http://" not in text
    assert "https://" not in text


def test_tileset_and_glb_served_with_types_and_caching(client: TestClient) -> None:
    cfg = client.get("/api/config").json()
    url = cfg["layers"][0]["tileset_url"]
    r = client.get(url)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/json")
    assert "immutable" in r.headers["cache-control"]
    tileset = r.json()
    assert tileset["asset"]["version"] == "1.1"
    uri = _first_content(tileset["root"])
    glb = client.get(url.rsplit("/", 1)[0] + "/" + uri)
    assert glb.status_code == 200
    assert glb.headers["content-type"] == "model/gltf-binary"
    assert glb.content[:4] == b"glTF"


def test_unversioned_tileset_is_current_and_revalidated(client: TestClient) -> None:
    r = client.get("/tiles/demo/tileset.json")
    assert r.status_code == 200
    assert r.headers["cache-control"] == "no-cache"
    etag = r.headers["etag"]
    again = client.get("/tiles/demo/tileset.json", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    other = client.get("/tiles/demo/tileset.json", headers={"If-None-Match": '"nope"'})
    assert other.status_code == 200


def test_tileset_json_is_gzipped_when_asked(client: TestClient) -> None:
    r = client.get("/tiles/demo/tileset.json", headers={"Accept-Encoding": "gzip"})
    assert r.headers.get("content-encoding") == "gzip"


@pytest.mark.parametrize(
    "path",
    [
        "/tiles/demo/../layer.json",
        "/tiles/demo/%2e%2e/layer.json",
        "/tiles/demo/tiles/nope.glb",
        "/tiles/demo/@nope/tileset.json",
        "/tiles/nope/tileset.json",
        "/tiles/BAD NAME/tileset.json",
        "/tiles/demo/report.json/../../layer.json",
    ],
)
def test_no_path_escapes_or_unknown_files(client: TestClient, path: str) -> None:
    r = client.get(path)
    assert r.status_code in (404, 422), r.text
    assert "versions" not in r.text  # layer.json never leaks
    assert "code" in r.json()


def test_openapi_docs_are_served_locally(client: TestClient) -> None:
    page = client.get("/docs")
    assert page.status_code == 200
    assert "<script>" not in page.text  # no inline script: the CSP forbids it
    assert "cdn" not in page.text.lower()
    assert client.get("/swagger-ui/swagger-ui-bundle.js").status_code == 200
    assert client.get("/static/twin/docs.js").status_code == 200
    spec = client.get("/openapi.json").json()
    assert "/api/layers" in spec["paths"]
    assert "/api/config" in spec["paths"]


def test_viewer_page_and_security_headers(client: TestClient) -> None:
    r = client.get("/")
    assert r.status_code == 200
    assert "text/html" in r.headers["content-type"]
    assert "default-src 'self'" in r.headers["content-security-policy"]
    assert r.headers["x-content-type-options"] == "nosniff"


def test_cesium_is_served_locally(client: TestClient) -> None:
    r = client.get("/cesium/Cesium.js")
    assert r.status_code == 200
    assert "javascript" in r.headers["content-type"]


def test_empty_data_dir_has_no_layers(tmp_path: Path) -> None:
    client = TestClient(create_app(Settings(data_dir=tmp_path)))
    assert client.get("/api/layers").json() == []
    assert client.get("/api/config").json()["layers"] == []


def _first_content(tile: dict) -> str:
    if "content" in tile:
        return tile["content"]["uri"]
    return next(_first_content(c) for c in tile["children"])


def test_config_properties_carry_stats(client: TestClient) -> None:
    props = {p["id"]: p for p in client.get("/api/config").json()["layers"][0]["properties"]}
    height = props["measuredHeight"]["stats"]
    assert (height["count"], height["missing"]) == (160, 410)
    assert height["min"] <= height["quantiles"][2] <= height["max"]
    assert sum(height["classes"]["quantile"]["counts"]) == 160
    kinds = props["type"]["stats"]["values"]
    assert {"value": "Building", "count": 160} in kinds


def test_reports_without_stats_still_load(tmp_path: Path) -> None:
    """Layers converted before statistics existed: the config says `stats: null`."""
    from sqlalchemy import select

    from twin.jobs.models import LayerVersionRow

    store = Store(tmp_path)
    store.import_file(DEMO, "old", title="Old")
    with store.db.session() as session:
        row = session.scalars(select(LayerVersionRow)).one()
        report = dict(row.report)
        report["properties"] = [
            {k: v for k, v in p.items() if k != "stats"} for p in report["properties"]
        ]
        row.report = report
        session.commit()
    cfg = TestClient(create_app(Settings(data_dir=tmp_path))).get("/api/config").json()
    props = cfg["layers"][0]["properties"]
    assert len(props) > 4
    assert all(p["stats"] is None for p in props)
