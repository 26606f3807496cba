"""History over HTTP on SQLite and PostgreSQL: raw points below ``max_points``, buckets
(min, mean, max, count computed by the database) above, equal to numpy's on the same data."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import numpy as np
from fastapi import FastAPI
from fastapi.testclient import TestClient

from layers.sensors.contract import IncomingObservation as Obs
from layers.sensors.service import ingest

START = datetime(2026, 3, 1, tzinfo=UTC)


def _load(app: FastAPI, ds: int, offsets: np.ndarray, values: np.ndarray) -> None:
    items = [
        Obs(ds, float(v), START + timedelta(seconds=float(s)))
        for s, v in zip(offsets, values, strict=True)
    ]
    with app.state.db.session() as db:
        assert all(r.ok for r in ingest(db, items, now=START + timedelta(days=30)))
        db.commit()


def _get(client: TestClient, ds: int, **params: object) -> dict:
    r = client.get(f"/api/datastreams/{ds}/observations", params=params)
    assert r.status_code == 200, r.text
    return r.json()


def test_downsampled_buckets_equal_numpy(
    sensor_app: FastAPI, anon: TestClient, make_datastream: Callable[..., int]
) -> None:
    ds = make_datastream("busy", visibility="public")
    rng = np.random.default_rng(7)
    # 3,000 observations over 6 hours at irregular times (whole milliseconds, none on a
    # bucket edge), with a quiet hour in the middle (empty buckets are left out).
    offsets = np.sort(rng.choice(np.arange(0, 6 * 3600 * 1000, 7), 3000, replace=False)) / 1000
    offsets = offsets[(offsets < 2 * 3600) | (offsets >= 3 * 3600)] + 0.0005
    values = rng.normal(20, 5, offsets.size).round(3)
    _load(sensor_app, ds, offsets, values)
    end = START + timedelta(hours=6)
    out = _get(anon, ds, **{"from": START.isoformat(), "to": end.isoformat(), "max_points": 100})
    assert out["downsampled"] is True
    bucket = out["bucket_seconds"]
    assert bucket == 216  # ceil(21600 s / 100)
    index = np.floor(offsets / bucket).astype(int)
    expected = [
        (
            (START + timedelta(seconds=int(i) * bucket)).isoformat(),
            values[index == i].min(),
            values[index == i].mean(),
            values[index == i].max(),
            int((index == i).sum()),
        )
        for i in np.unique(index)
    ]
    got = [(b["t"], b["min"], b["mean"], b["max"], b["count"]) for b in out["observations"]]
    assert len(got) == len(expected) <= 100
    for g, e in zip(got, expected, strict=True):
        assert g[0] == e[0]
        assert g[4] == e[4]
        assert np.allclose(g[1:4], e[1:4], rtol=1e-12, atol=1e-9)
    assert sum(b["count"] for b in out["observations"]) == offsets.size


def test_raw_points_and_range(
    sensor_app: FastAPI, anon: TestClient, make_datastream: Callable[..., int]
) -> None:
    ds = make_datastream("slow", visibility="public")
    offsets = np.arange(0, 48 * 3600, 3600, dtype=float)  # hourly for two days
    _load(sensor_app, ds, offsets, offsets / 3600)
    to = START + timedelta(hours=48)
    out = _get(anon, ds, to=to.isoformat())  # default: the 24 h before 'to'
    assert out["downsampled"] is False
    assert out["bucket_seconds"] is None
    assert [p["result"] for p in out["observations"]] == [float(h) for h in range(24, 48)]
    assert out["from"] == (to - timedelta(hours=24)).isoformat()
    assert out["observations"][0]["t"] == (START + timedelta(hours=24)).isoformat()
    # exactly max_points observations are still raw
    out = _get(anon, ds, **{"from": START.isoformat(), "to": to.isoformat(), "max_points": 48})
    assert out["downsampled"] is False
    assert len(out["observations"]) == 48
    out = _get(anon, ds, **{"from": START.isoformat(), "to": to.isoformat(), "max_points": 47})
    assert out["downsampled"] is True


def test_bad_ranges(anon: TestClient, make_datastream: Callable[..., int]) -> None:
    ds = make_datastream("r", visibility="public")
    url = f"/api/datastreams/{ds}/observations"
    t = START.isoformat()
    cases = [
        {"from": t, "to": t},
        {"from": "2026-03-01T00:00:00"},  # no offset
        {"from": "soon"},
        {"max_points": 0},
        {"max_points": 10_001},
        {"to": "0001-01-01T00:00:00Z"},  # its default 'from' is before year 1
    ]
    for params in cases:
        r = anon.get(url, params=params)
        assert r.status_code == 422, (params, r.text)
