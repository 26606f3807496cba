"""OGC API Features at /ogc: landing page, conformance, collection, paged items, and
GDAL's OAPIF driver reading the public projects (never the internal ones)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import A, B, Env, project_in

from layers.catalogue import service
from layers.catalogue.rules import Principal
from layers.catalogue.schemas import ProjectIn
from twin.app import create_app
from twin.settings import Settings

OGC = "/ogc"
ITEMS = "/ogc/collections/projects/items"
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
ADMIN = Principal(user_id=None, is_admin=True)


def _point(lon: float, lat: float) -> list[dict[str, Any]]:
    return [{"type": "Point", "coordinates": [lon, lat]}]


@pytest.fixture
def seeded(env: Env) -> dict[str, int]:
    """Public projects of A and B, and an internal one of each."""
    ids = {
        "pub_a1": env.make((A,), True, title_sv="Publik A1", geometries=_point(12.70, 56.05)).id,
        "pub_a2": env.make((A,), True, title_sv="Publik A2", geometries=_point(12.72, 56.06)).id,
        "pub_b": env.make((B,), True, title_sv="Publik B", geometries=_point(12.55, 56.20)).id,
        "nogeo": env.make((B,), True, title_sv="Utan plats", geometries=[]).id,
        "int_a": env.make((A,), False, title_sv="Intern A", geometries=_point(14.0, 57.0)).id,
        "int_b": env.make((B,), False, title_sv="Intern B", geometries=_point(11.0, 55.0)).id,
    }
    return ids


def _titles(features: list[dict[str, Any]]) -> set[str]:
    return {f["properties"]["title_sv"] for f in features}


def test_landing_page_links_are_absolute(env: Env) -> None:
    r = env.client.get(OGC)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/json")
    links = {link["rel"]: link for link in r.json()["links"]}
    assert {"self", "conformance", "data", "service-desc", "service-doc"} <= set(links)
    assert links["conformance"]["href"] == "http://testserver/ogc/conformance"
    assert links["data"]["href"] == "http://testserver/ogc/collections"
    assert links["service-desc"]["href"] == "http://testserver/openapi.json"
    assert links["service-desc"]["type"].startswith("application/vnd.oai.openapi+json")
    assert env.client.get(links["service-desc"]["href"]).status_code == 200


def test_conformance_and_format_parameter(env: Env) -> None:
    classes = env.client.get("/ogc/conformance?f=json").json()["conformsTo"]
    base = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/"
    assert {base + c for c in ("core", "geojson", "oas30")} <= set(classes)
    r = env.client.get("/ogc/conformance?f=html")
    assert r.status_code == 400
    assert r.json()["code"] == "invalid_parameter"


def test_collection_extent_covers_only_what_the_caller_sees(
    env: Env, seeded: dict[str, int]
) -> None:
    doc = env.client.get("/ogc/collections").json()
    assert [c["id"] for c in doc["collections"]] == ["projects"]
    one = env.client.get("/ogc/collections/projects").json()
    assert one["crs"] == [CRS84]
    assert one["extent"]["spatial"]["bbox"] == [[12.55, 56.05, 12.72, 56.20]]
    assert any(link["rel"] == "items" for link in one["links"])
    mine = env.client.get("/ogc/collections/projects", headers=env.auth("editor_a")).json()
    assert mine["extent"]["spatial"]["bbox"] == [[12.55, 56.05, 14.0, 57.0]]
    assert env.client.get("/ogc/collections/other").status_code == 404
    assert env.client.get("/ogc/collections/other/items").status_code == 404


def test_items_are_geojson_in_pages_with_next_and_prev_links(
    env: Env, seeded: dict[str, int]
) -> None:
    r = env.client.get(ITEMS, params={"limit": 2})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/geo+json")
    assert CRS84 in r.headers["content-crs"]
    assert "Cookie" in r.headers["vary"]
    page = r.json()
    assert page["type"] == "FeatureCollection"
    assert (page["numberMatched"], page["numberReturned"]) == (4, 2)
    seen = list(page["features"])
    rels = {link["rel"]: link["href"] for link in page["links"]}
    assert "prev" not in rels
    while "next" in rels:
        assert rels["next"].startswith("http://testserver/ogc/collections/projects/items?")
        page = env.client.get(rels["next"]).json()
        seen += page["features"]
        rels = {link["rel"]: link["href"] for link in page["links"]}
        assert "prev" in rels
    assert _titles(seen) == {"Publik A1", "Publik A2", "Publik B", "Utan plats"}
    assert len(seen) == 4
    feature = next(f for f in seen if f["properties"]["title_sv"] == "Publik A1")
    assert feature["id"] == seeded["pub_a1"]
    assert feature["geometry"]["type"] == "GeometryCollection"
    assert feature["properties"]["contact"] is None  # an internal field, for the public
    nogeo = next(f for f in seen if f["properties"]["title_sv"] == "Utan plats")
    assert nogeo["geometry"] is None


def test_items_bbox_filters_and_other_filters(env: Env, seeded: dict[str, int]) -> None:
    page = env.client.get(ITEMS, params={"bbox": "12.6,56.0,12.8,56.1"}).json()
    assert _titles(page["features"]) == {"Publik A1", "Publik A2"}
    assert page["numberMatched"] == 2
    page = env.client.get(ITEMS, params={"bbox": "12.6,56.0,0,12.8,56.1,100"}).json()
    assert page["numberMatched"] == 2  # 3D bbox: heights ignored
    staff = env.client.get(ITEMS, params={"bbox": "10,50,20,60"}, headers=env.auth("admin"))
    assert staff.json()["numberMatched"] == 5  # all with a geometry
    by_muni = env.client.get(ITEMS, params={"municipality": B}).json()
    assert _titles(by_muni["features"]) == {"Publik B", "Utan plats"}
    crs = env.client.get(ITEMS, params={"crs": CRS84, "bbox-crs": CRS84})
    assert crs.status_code == 200


@pytest.mark.parametrize(
    "params",
    [
        {"bbox": "1,2,3"},
        {"bbox": "a,b,c,d"},
        {"bbox": "1,2,3,nan"},
        {"bbox": "13,56,12,57"},
        {"limit": "0"},
        {"limit": "ten"},
        {"offset": "-1"},
        {"crs": "http://www.opengis.net/def/crs/EPSG/0/3006"},
        {"f": "xml"},
    ],
)
def test_invalid_item_parameters_are_400(env: Env, params: dict[str, str]) -> None:
    r = env.client.get(ITEMS, params=params)
    assert r.status_code == 400, r.text
    assert r.json()["code"] == "invalid_parameter"


def test_limit_above_the_maximum_is_served_as_the_maximum(env: Env) -> None:
    with env.db.session() as s:
        for i in range(3):
            data = ProjectIn.model_validate(project_in(title_sv=f"P{i}"))
            service.create_project(s, ADMIN, data, commit=False)
        s.commit()
    page = env.client.get(ITEMS, params={"limit": 5000}).json()
    assert page["numberReturned"] == 3
    self_link = next(link["href"] for link in page["links"] if link["rel"] == "self")
    assert "limit=1000" in self_link


def test_anonymous_never_sees_internal_projects(env: Env, seeded: dict[str, int]) -> None:
    everyone = env.client.get(ITEMS, params={"limit": 1000}).json()
    assert "Intern A" not in _titles(everyone["features"])
    assert "Intern B" not in _titles(everyone["features"])
    r = env.client.get(f"{ITEMS}/{seeded['int_a']}")
    assert r.status_code == 404
    assert r.json()["code"] == "not_found"
    editor_a = env.client.get(ITEMS, params={"limit": 1000}, headers=env.auth("editor_a")).json()
    assert "Intern A" in _titles(editor_a["features"])
    assert "Intern B" not in _titles(editor_a["features"])
    own = env.client.get(f"{ITEMS}/{seeded['int_a']}", headers=env.auth("editor_a"))
    assert own.status_code == 200
    assert own.json()["properties"]["contact"] == "Anna Andersson, anna@example.org"
    assert (
        env.client.get(f"{ITEMS}/{seeded['int_b']}", headers=env.auth("editor_a")).status_code
        == 404
    )


def test_single_item(env: Env, seeded: dict[str, int]) -> None:
    r = env.client.get(f"{ITEMS}/{seeded['pub_b']}")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/geo+json")
    f = r.json()
    assert f["type"] == "Feature"
    assert f["properties"]["title_sv"] == "Publik B"
    assert f["properties"]["municipalities"] == [B]
    self_link = next(link["href"] for link in f["links"] if link["rel"] == "self")
    assert self_link == f"http://testserver{ITEMS}/{seeded['pub_b']}"
    assert env.client.get(f"{ITEMS}/abc").status_code == 404
    assert env.client.get(f"{ITEMS}/99999999").status_code == 404
    as_json = env.client.get(f"{ITEMS}/{seeded['pub_b']}", headers={"Accept": "application/json"})
    assert as_json.headers["content-type"].startswith("application/json")


# -- GDAL -------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def live_server(tmp_path: Path) -> Iterator[str]:
    """A real uvicorn server in a subprocess (SQLite), with public and internal projects.

    A subprocess, not a thread: GDAL holds the GIL while it waits for the server.
    """
    data_dir = tmp_path / "data"
    app = create_app(Settings(data_dir=data_dir))
    with app.state.db.session() as s:
        for i in range(7):
            data = ProjectIn.model_validate(
                project_in(
                    title_sv=f"Publik {i}",
                    geometries=_point(12.6 + i / 100, 56.0),
                    tags=["gdal", f"t{i}"],
                )
            )
            service.create_project(s, ADMIN, data, commit=False)
        for title in ("Intern ett", "Intern två"):
            data = ProjectIn.model_validate(project_in(title_sv=title, public=False))
            service.create_project(s, ADMIN, data, commit=False)
        s.commit()
    app.state.db.dispose()
    port = _free_port()
    env = {**os.environ, "TWIN_DATA_DIR": str(data_dir)}
    env.pop("TWIN_DATABASE_URL", None)
    cmd = [sys.executable, "-m", "uvicorn", "--factory", "twin.app:create_app"]
    cmd += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
    proc = subprocess.Popen(cmd, env=env, cwd=tmp_path)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{url}/ogc", timeout=2):
                    break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    pytest.fail("the server did not start")
                time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_gdal_oapif_reads_exactly_the_public_projects(
    live_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    pyogrio = pytest.importorskip("pyogrio")
    if "OAPIF" not in pyogrio.list_drivers():
        pytest.skip("GDAL was built without the OAPIF driver")
    monkeypatch.setenv("GDAL_HTTP_TIMEOUT", "20")
    source = f"OAPIF:{live_server}/ogc"
    layers = pyogrio.list_layers(source)
    assert [str(name) for name in layers[:, 0]] == ["projects"]
    # a small page size makes GDAL follow the next links
    df = pyogrio.read_dataframe(source, layer="projects", PAGE_SIZE="3")
    assert sorted(df["title_sv"]) == [f"Publik {i}" for i in range(7)]
    assert df.crs is not None
    assert df.crs.to_epsg() == 4326 or "CRS84" in df.crs.to_string()
    assert set(df.geometry.geom_type) == {"GeometryCollection"}
    xs = sorted(round(g.geoms[0].x, 3) for g in df.geometry)
    assert xs == [round(12.6 + i / 100, 3) for i in range(7)]
    assert all(tags[0] == "gdal" for tags in df["tags"])  # JSON arrays: string lists
    assert df["contact"].isna().all()
    bbox_df = pyogrio.read_dataframe(source, layer="projects", bbox=(12.605, 55.9, 12.625, 56.1))
    assert sorted(bbox_df["title_sv"]) == ["Publik 1", "Publik 2"]
