"""Import jobs through the HTTP API: upload → queued → running → succeeded → publish;
versions, rollback, deletion; internal layers; who may do what; server-sent events."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient

from twin.app import create_app
from twin.settings import Settings
from twin.store import Store

from .conftest import DEMO, HELSINGBORG, LANDSKRONA, drain, upload


def _first_content(tile: dict) -> str:
    if "content" in tile:
        return str(tile["content"]["uri"])
    return next(_first_content(c) for c in tile["children"])


def test_upload_convert_publish_and_serve(
    gis: TestClient, anon: TestClient, store: Store, settings: Settings
) -> None:
    r = upload(gis, "city", title="Delft")
    assert r.status_code == 202, r.text
    job = r.json()
    assert job["state"] == "queued"
    assert job["layer"] == "city"
    assert job["source"] == "delft.city.json"
    assert job["urls"]["events"] == f"/api/imports/{job['id']}/events"
    assert anon.get("/api/layers").json() == []  # nothing published yet

    assert drain(store, settings) == 1
    done = gis.get(f"/api/imports/{job['id']}").json()
    assert done["state"] == "succeeded", done
    assert done["percent"] == 100
    assert done["report"]["feature_count"] == 570
    assert anon.get("/api/layers").json() == []  # succeeded is not published

    published = gis.post(f"/api/imports/{job['id']}/publish")
    assert published.status_code == 200, published.text
    assert published.json()["state"] == "published"
    layers = anon.get("/api/layers").json()
    assert [(x["name"], x["version"], x["title"]) for x in layers] == [
        ("city", done["version"], "Delft")
    ]
    url = layers[0]["tileset_url"]
    assert url == f"/tiles/city/@{done['version']}/tileset.json"
    tileset = anon.get(url)
    assert tileset.status_code == 200
    assert "immutable" in tileset.headers["cache-control"]
    glb = anon.get(url.rsplit("/", 1)[0] + "/" + _first_content(tileset.json()["root"]))
    assert glb.content[:4] == b"glTF"
    assert anon.get("/tiles/city/tileset.json").json() == tileset.json()
    assert anon.get("/api/config").json()["layers"][0]["name"] == "city"
    assert not any(settings.staging_dir.iterdir())  # the upload is gone


def test_auto_publish_rollback_and_delete(
    gis: TestClient, anon: TestClient, store: Store, settings: Settings
) -> None:
    first = upload(gis, "city", auto_publish=True).json()
    drain(store, settings)
    second = upload(gis, "city", auto_publish=True).json()
    drain(store, settings)
    v1 = gis.get(f"/api/imports/{first['id']}").json()["version"]
    v2 = gis.get(f"/api/imports/{second['id']}").json()
    assert v2["state"] == "published"
    v2 = v2["version"]
    assert anon.get("/api/layers").json()[0]["version"] == v2
    versions = gis.get("/api/layers/city/versions").json()
    assert [(v["id"], v["current"]) for v in versions] == [(v2, True), (v1, False)]

    conflict = gis.delete(f"/api/layers/city/versions/{v2}")
    assert conflict.status_code == 409
    assert conflict.json()["code"] == "conflict"

    rolled = gis.post(f"/api/layers/city/versions/{v1}/publish")
    assert rolled.status_code == 200
    assert anon.get("/api/layers").json()[0]["version"] == v1
    old_tile = anon.get(f"/tiles/city/@{v2}/tileset.json")
    assert old_tile.status_code == 200  # old versions stay served until deleted

    assert gis.delete(f"/api/layers/city/versions/{v2}").status_code == 204
    assert anon.get(f"/tiles/city/@{v2}/tileset.json").status_code == 404
    assert not store.version_dir("city", v2).exists()
    assert [v["id"] for v in gis.get("/api/layers/city/versions").json()] == [v1]
    missing = gis.post(f"/api/layers/city/versions/{v2}/publish")
    assert missing.status_code == 404
    assert missing.json()["code"] == "version_not_found"


def test_internal_layer_is_invisible_to_anonymous_tiles_included(
    gis: TestClient,
    anon: TestClient,
    client_for: Callable[..., TestClient],
    store: Store,
    settings: Settings,
) -> None:
    job = upload(gis, "pipes", public=False, auto_publish=True).json()
    drain(store, settings)
    version = gis.get(f"/api/imports/{job['id']}").json()["version"]
    editor = client_for("editor@helsingborg.se", roles={HELSINGBORG: ["editor"]})
    other = client_for("gis@landskrona.se", roles={LANDSKRONA: ["gis"]})
    for c in (gis, editor):  # staff of the owning municipality see it
        assert [x["name"] for x in c.get("/api/layers").json()] == ["pipes"]
        r = c.get("/tiles/pipes/tileset.json")
        assert r.status_code == 200
        assert r.headers["cache-control"].startswith("private")
        assert "access-control-allow-origin" not in r.headers
    for c in (anon, other):
        assert c.get("/api/layers").json() == []
        assert c.get("/api/config").json()["layers"] == []
        for path in (
            "/api/layers/pipes",
            "/api/layers/pipes/report",
            "/tiles/pipes/tileset.json",
            f"/tiles/pipes/@{version}/tileset.json",
            f"/tiles/pipes/@{version}/report.json",
            "/api/layers/pipes/versions",
            f"/api/imports/{job['id']}",
        ):
            r = c.get(path)
            assert r.status_code in (401, 404), (path, r.status_code)
            assert "pipes" not in r.text or r.json()["code"] in ("layer_not_found",)
    # Made public, it is everyone's.
    assert gis.patch("/api/layers/pipes", json={"public": True}).status_code == 200
    assert anon.get("/tiles/pipes/tileset.json").status_code == 200


def test_who_may_upload_publish_and_delete(
    gis: TestClient,
    anon: TestClient,
    client_for: Callable[..., TestClient],
    store: Store,
    settings: Settings,
) -> None:
    r = upload(anon, "city")
    assert r.status_code == 401
    editor = client_for("editor@helsingborg.se", roles={HELSINGBORG: ["editor"]})
    assert upload(editor, "city").status_code == 403  # editors edit the catalogue only
    other = client_for("gis@landskrona.se", roles={LANDSKRONA: ["gis"]})
    owned_elsewhere = upload(other, "city", owner=HELSINGBORG)
    assert owned_elsewhere.status_code == 403
    assert owned_elsewhere.json()["code"] == "forbidden"

    job = upload(gis, "city", auto_publish=True).json()
    drain(store, settings)
    version = gis.get(f"/api/imports/{job['id']}").json()["version"]
    # Landskrona's GIS staff see the public layer but may not change it.
    assert upload(other, "city").status_code == 403
    assert other.get("/api/layers/city/versions").status_code == 403
    assert other.post(f"/api/layers/city/versions/{version}/publish").status_code == 403
    assert other.delete(f"/api/layers/city/versions/{version}").status_code == 403
    assert other.get(f"/api/imports/{job['id']}").status_code == 404
    assert anon.post(f"/api/imports/{job['id']}/publish").status_code == 404
    admin = client_for("admin@example.org", is_admin=True)
    assert admin.get("/api/layers/city/versions").status_code == 200
    assert admin.get(f"/api/imports/{job['id']}").json()["state"] == "published"
    assert gis.get("/api/imports/nope").status_code == 404
    assert upload(gis, "Bad Name").status_code == 422


def test_events_stream_follows_the_job_to_its_end(
    gis: TestClient, store: Store, settings: Settings
) -> None:
    job = upload(gis, "city").json()
    runner = threading.Thread(target=drain, args=(store, settings))
    runner.start()
    try:
        with gis.stream("GET", f"/api/imports/{job['id']}/events") as r:
            assert r.status_code == 200
            assert r.headers["content-type"].startswith("text/event-stream")
            text = "".join(r.iter_text())
    finally:
        runner.join()
    events = [
        json.loads(line[len("data: ") :]) for line in text.splitlines() if line.startswith("data: ")
    ]
    assert events[-1]["state"] == "succeeded"
    assert len({(e["state"], e["stage"], e["percent"]) for e in events}) == len(events)
    assert "id: 1" in text


def test_layers_from_before_the_database_are_imported_once(tmp_path: Path) -> None:
    """An old data directory (layer.json + version folders) keeps working."""
    from tiles import convert

    data = tmp_path / "data"
    vdir = data / "layers" / "old" / "versions" / "20260101T000000-abcdef"
    report = convert(DEMO, vdir).to_json()
    (data / "layers" / "old" / "layer.json").write_text(
        json.dumps(
            {
                "name": "old",
                "title": "Old Delft",
                "kind": "3dtiles",
                "current": vdir.name,
                "versions": [
                    {
                        "id": vdir.name,
                        "created": "2026-01-01T00:00:00+00:00",
                        "source_sha256": "x",
                        "report": report,
                    }
                ],
            }
        )
    )
    app: FastAPI = create_app(Settings(data_dir=data, viewer_dir=tmp_path / "none"))
    with TestClient(app) as c:
        layers = c.get("/api/layers").json()
        assert [(x["name"], x["title"], x["version"]) for x in layers] == [
            ("old", "Old Delft", vdir.name)
        ]
        assert c.get("/tiles/old/tileset.json").status_code == 200
    app.state.db.dispose()
    assert not (data / "layers" / "old" / "layer.json").exists()
    assert vdir.is_dir()  # start-up cleanup keeps versions that have a row
