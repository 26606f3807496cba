"""The sensor HTTP API on SQLite and PostgreSQL: ingest keys, per-item answers, body caps,
datastream create/edit permissions, CSRF, and visibility in list, detail and history."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sensor_fixtures import HELSINGBORG, LANDSKRONA, datastream_spec

from layers.sensors import keys
from twin.auth import passwords, service


def _now(offset_minutes: float = 0) -> str:
    return (datetime.now(UTC) + timedelta(minutes=offset_minutes)).isoformat()


def _ingest(client: TestClient, key: str | None, body: Any) -> Any:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return client.post("/api/ingest", json=body, headers=headers)


def test_ingest_keys(
    anon: TestClient,
    sensor_app: FastAPI,
    make_datastream: Callable[..., int],
    make_source: Callable[..., tuple[str, int]],
) -> None:
    make_datastream("pm10")
    key, _ = make_source("gateway")
    body = {"datastream": "pm10", "result": 12.0, "phenomenonTime": _now(-1)}
    for bad in (None, "", "tws_not-a-key", key + "x"):
        r = _ingest(anon, bad, body)
        assert r.status_code == 401, r.text
        assert r.json()["code"] == "invalid_ingest_key"
    # an account's API token is not a source key
    with sensor_app.state.db.session() as db:
        user = service.create_user(db, "a@example.org", password=None, is_admin=True)
        token, _ = service.create_token(db, user)
    assert _ingest(anon, token, body).status_code == 401
    r = _ingest(anon, key, body)
    assert r.status_code == 200, r.text
    assert r.json()["accepted"] == 1
    with sensor_app.state.db.session() as db:
        new_key = keys.rotate_key(db, keys.find_source(db, "gateway"))
        db.commit()
    assert _ingest(anon, key, body).status_code == 401  # the old key stops at once
    r = _ingest(anon, new_key, body)
    assert r.status_code == 200
    assert r.json()["results"][0]["duplicate"] is True
    with sensor_app.state.db.session() as db:
        source = keys.find_source(db, "gateway")
        assert source.last_used_at is not None
        keys.revoke(db, source)
        db.commit()
    assert _ingest(anon, new_key, body).status_code == 401


def test_ingest_batch_reports_per_item(
    anon: TestClient,
    make_datastream: Callable[..., int],
    make_source: Callable[..., tuple[str, int]],
) -> None:
    ds = make_datastream("no2", thresholds={"warning": 40, "alarm": 100})
    make_datastream("other-org", organisation=LANDSKRONA)
    key, _ = make_source("gateway")
    t = _now(-10)
    body = {
        "observations": [
            {"datastream": ds, "result": 50, "phenomenonTime": t, "id": "m1"},
            {"datastream": "no2", "result": "fifty", "phenomenonTime": _now(-9)},
            {"datastream": "no2", "result": 1, "phenomenonTime": "yesterday"},
            {"datastream": "no2", "result": 1, "phenomenonTime": "2026-01-01T10:00:00"},
            {"datastream": "no2", "result": 1, "phenomenonTime": _now(60)},
            {"datastream": "other-org", "result": 1},
            {"result": 1},
            "not an object",
            {"datastream": "no2", "result": 7},  # no time: now
            {"datastream": ds, "result": 50, "phenomenonTime": _now(-5), "id": "m1"},
        ]
    }
    r = _ingest(anon, key, body)
    assert r.status_code == 200, r.text
    out = r.json()
    results = out["results"]
    assert [x["index"] for x in results] == list(range(10))
    assert [x.get("code") for x in results] == [
        None,
        "bad_result",
        "bad_time",
        "bad_time",
        "future_time",
        "forbidden",
        "bad_item",
        "bad_item",
        None,
        None,
    ]
    assert (out["accepted"], out["failed"]) == (3, 7)
    assert results[9]["duplicate"] is True
    assert results[9]["id"] == results[0]["id"]
    detail = anon.get(f"/api/datastreams/{ds}")
    assert detail.status_code == 404  # internal by default
    # a single observation (no "observations" list) is answered the same way
    one = _ingest(anon, key, {"datastream": "no2", "result": 1.5, "phenomenonTime": _now(-3)})
    assert one.json()["results"][0]["ok"] is True


def test_ingest_body_limits(
    anon: TestClient, make_datastream: Callable[..., int], make_source: Callable[..., tuple]
) -> None:
    make_datastream("x")
    key, _ = make_source("gateway")
    too_many = {"observations": [{"datastream": "x", "result": i} for i in range(51)]}
    r = _ingest(anon, key, too_many)
    assert r.status_code == 413
    huge = b'{"observations": [' + b" " * 100_000 + b"]}"
    r = anon.post(
        "/api/ingest",
        content=huge,
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
    )
    assert r.status_code == 413
    r = anon.post("/api/ingest", content=b"{nope", headers={"Authorization": f"Bearer {key}"})
    assert r.status_code == 422
    assert r.json()["code"] == "invalid_request"


def test_visibility_everywhere(
    anon: TestClient,
    client_for: Callable[..., TestClient],
    sensor_app: FastAPI,
    make_datastream: Callable[..., int],
    make_source: Callable[..., tuple[str, int]],
) -> None:
    public = make_datastream("pub", visibility="public")
    internal = make_datastream("int")
    other = make_datastream("lsk", organisation=LANDSKRONA)
    key, _ = make_source("gw")
    lkey, _ = make_source("lgw", organisation=LANDSKRONA)
    _ingest(anon, key, {"observations": [{"datastream": d, "result": 1} for d in ("pub", "int")]})
    _ingest(anon, lkey, {"datastream": "lsk", "result": 1})
    gis = client_for("gis@helsingborg.se", roles={HELSINGBORG: ["gis"]})
    admin = client_for("admin@example.org", is_admin=True)

    def listed(c: TestClient) -> set[int]:
        r = c.get("/api/datastreams")
        assert r.status_code == 200
        return {d["id"] for d in r.json()["datastreams"]}

    assert listed(anon) == {public}
    assert listed(gis) == {public, internal}
    assert listed(admin) == {public, internal, other}
    for ref in (internal, "int", other):
        assert anon.get(f"/api/datastreams/{ref}").status_code == 404
        assert anon.get(f"/api/datastreams/{ref}/observations").status_code == 404
    assert gis.get(f"/api/datastreams/{other}").status_code == 404
    assert gis.get("/api/datastreams/int/observations").json()["observations"][0]["result"] == 1
    d = anon.get("/api/datastreams/pub").json()
    assert d["id"] == public
    assert d["visibility"] == "public"
    assert d["organisation"] == HELSINGBORG
    assert d["thing"]["location"] == {"type": "Point", "coordinates": [12.6945, 56.0465, 12.0]}
    assert d["unit"]["symbol"] == "µg/m³"
    assert d["observed_property"]["name"] == "PM10"
    assert d["latest"]["result"] == 1.0
    assert d["latest"]["state"] is None
    assert d["thresholds"] == {"warning": None, "alarm": None, "direction": "above"}
    assert d["replay"] is False
    assert anon.get("/api/datastreams/9999").status_code == 404


def test_create_and_patch_permissions(
    anon: TestClient, client_for: Callable[..., TestClient], make_datastream: Callable[..., int]
) -> None:
    editor = client_for("ed@helsingborg.se", roles={HELSINGBORG: ["editor"]})
    gis = client_for("gis@helsingborg.se", roles={HELSINGBORG: ["gis"]})
    other = client_for("ed@landskrona.se", roles={LANDSKRONA: ["editor"]})
    spec = datastream_spec("new", HELSINGBORG)
    assert anon.post("/api/datastreams", json=spec).status_code == 401
    assert gis.post("/api/datastreams", json=spec).status_code == 403
    assert other.post("/api/datastreams", json=spec).status_code == 403
    r = editor.post("/api/datastreams", json={k: v for k, v in spec.items() if k != "organisation"})
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["key"] == "new"
    assert created["visibility"] == "internal"
    assert editor.post("/api/datastreams", json=spec).status_code == 409  # key taken
    # the observed property is shared, the thing can be reused by id
    second = datastream_spec(
        "new-2", HELSINGBORG, thing={"id": created["thing"]["id"]}, sensor={"id": 1}
    )
    r2 = editor.post("/api/datastreams", json=second)
    assert r2.status_code == 201, r2.text
    assert r2.json()["observed_property"]["id"] == created["observed_property"]["id"]
    assert r2.json()["thing"]["id"] == created["thing"]["id"]
    bad = [
        datastream_spec("Bad Key"),
        datastream_spec("12345"),
        datastream_spec("k1", thresholds={"warning": 50, "alarm": 10}),
        datastream_spec(
            "k2", thing={"name": "t", "location": {"type": "Point", "coordinates": [200, 1]}}
        ),
        datastream_spec("k3", thing={"id": 999}),
        datastream_spec("k4", organisation="9999"),
    ]
    for body in bad:
        assert editor.post("/api/datastreams", json=body).status_code == 422, body
    ds = created["id"]
    patch = {"visibility": "public", "thresholds": {"warning": 5, "alarm": 1, "direction": "below"}}
    assert other.patch(f"/api/datastreams/{ds}", json=patch).status_code == 404
    assert gis.patch(f"/api/datastreams/{ds}", json=patch).status_code == 403
    r = editor.patch(f"/api/datastreams/{ds}", json=patch)
    assert r.status_code == 200, r.text
    assert r.json()["thresholds"] == {"warning": 5.0, "alarm": 1.0, "direction": "below"}
    assert anon.get(f"/api/datastreams/{ds}").status_code == 200  # now public
    assert anon.patch(f"/api/datastreams/{ds}", json={"name": "x"}).status_code == 401


@pytest.fixture
def cheap_hasher() -> Iterator[None]:
    old = passwords.use_hasher(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    yield
    passwords.use_hasher(old)


@pytest.mark.usefixtures("cheap_hasher")
def test_session_posts_need_csrf(sensor_app: FastAPI) -> None:
    with sensor_app.state.db.session() as db:
        service.create_user(
            db, "ed@helsingborg.se", password="a long passphrase", roles={HELSINGBORG: ["editor"]}
        )
    with TestClient(sensor_app) as browser:
        r = browser.post(
            "/api/auth/login", json={"email": "ed@helsingborg.se", "password": "a long passphrase"}
        )
        assert r.status_code == 200, r.text
        csrf = r.json()["csrf_token"]
        spec = datastream_spec("csrf")
        assert browser.post("/api/datastreams", json=spec).status_code == 403
        r = browser.post("/api/datastreams", json=spec, headers={"X-CSRF-Token": csrf})
        assert r.status_code == 201, r.text
        assert browser.patch("/api/datastreams/csrf", json={"name": "n"}).status_code == 403
