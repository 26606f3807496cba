"""What the viewer's import panel needs beyond the jobs API: the layers one may manage,
cancelling a queued job, and previewing a version that is not published yet."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from twin.settings import Settings
from twin.store import Store

from .conftest import HELSINGBORG, LANDSKRONA, drain, upload


def test_managed_layers_list_unpublished_layers_to_their_gis_staff_only(
    gis: TestClient,
    anon: TestClient,
    client_for: Callable[..., TestClient],
    store: Store,
    settings: Settings,
) -> None:
    job = upload(gis, "city", title="Delft", public=False).json()
    [row] = gis.get("/api/manage/layers").json()
    assert row["name"] == "city"
    assert row["title"] == "Delft"
    assert row["public"] is False
    assert row["owner"] == HELSINGBORG
    assert row["current"] is None
    assert row["versions"] == 0
    assert (row["last_job"], row["last_state"]) == (job["id"], "queued")

    drain(store, settings)
    [row] = gis.get("/api/manage/layers").json()
    assert (row["versions"], row["last_state"], row["current"]) == (1, "succeeded", None)

    admin = client_for("admin@example.org", is_admin=True)
    assert [x["name"] for x in admin.get("/api/manage/layers").json()] == ["city"]
    editor = client_for("editor@helsingborg.se", roles={HELSINGBORG: ["editor"]})
    other = client_for("gis@landskrona.se", roles={LANDSKRONA: ["gis"]})
    assert editor.get("/api/manage/layers").json() == []
    assert other.get("/api/manage/layers").json() == []
    r = anon.get("/api/manage/layers")
    assert r.status_code == 401
    assert r.json()["code"] == "not_authenticated"
    assert anon.get("/api/config").json()["api"]["manage_layers"] == "/api/manage/layers"


def test_cancel_a_queued_job_and_it_never_runs(
    gis: TestClient,
    client_for: Callable[..., TestClient],
    store: Store,
    settings: Settings,
) -> None:
    job = upload(gis, "city").json()
    other = client_for("gis@landskrona.se", roles={LANDSKRONA: ["gis"]})
    assert other.post(f"/api/imports/{job['id']}/cancel").status_code == 404
    r = gis.post(f"/api/imports/{job['id']}/cancel")
    assert r.status_code == 200, r.text
    cancelled = r.json()
    assert cancelled["state"] == "failed"
    assert cancelled["error"]["code"] == "cancelled"
    assert cancelled["finished"] is not None
    assert drain(store, settings) == 0  # no worker picks it up
    assert not (settings.staging_dir / job["id"]).exists()  # its upload is gone
    again = gis.post(f"/api/imports/{job['id']}/cancel")
    assert again.status_code == 409
    assert again.json()["code"] == "conflict"

    ran = upload(gis, "city").json()
    drain(store, settings)
    late = gis.post(f"/api/imports/{ran['id']}/cancel")
    assert late.status_code == 409
    assert "succeeded" in late.json()["message"]
    assert gis.post("/api/imports/nope/cancel").status_code == 404


def test_gis_staff_preview_a_version_before_the_first_publish(
    gis: TestClient,
    anon: TestClient,
    client_for: Callable[..., TestClient],
    store: Store,
    settings: Settings,
) -> None:
    job = upload(gis, "city").json()
    drain(store, settings)
    version = gis.get(f"/api/imports/{job['id']}").json()["version"]
    preview = gis.get(f"/tiles/city/@{version}/tileset.json")
    assert preview.status_code == 200, preview.text
    assert "root" in preview.json()
    assert preview.headers["cache-control"].startswith("private")  # not yet anyone's
    assert "access-control-allow-origin" not in preview.headers
    assert gis.get("/tiles/city/tileset.json").status_code == 404  # nothing is current
    editor = client_for("editor@helsingborg.se", roles={HELSINGBORG: ["editor"]})
    other = client_for("gis@landskrona.se", roles={LANDSKRONA: ["gis"]})
    for c in (anon, editor, other):
        r = c.get(f"/tiles/city/@{version}/tileset.json")
        assert r.status_code == 404, r.text
        assert r.json()["code"] == "layer_not_found"
    assert gis.get("/tiles/city/@nope/tileset.json").status_code == 404

    assert gis.post(f"/api/imports/{job['id']}/publish").status_code == 200
    public = anon.get(f"/tiles/city/@{version}/tileset.json")
    assert public.status_code == 200
    assert "immutable" in public.headers["cache-control"]
    assert public.headers["cache-control"].startswith("public")
