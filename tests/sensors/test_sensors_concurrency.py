"""Concurrent ingest on SQLite (WAL) and PostgreSQL: no 500, every acknowledged
observation stored exactly once, the latest value the newest, even when several clients
send the same observations at the same time."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from layers.sensors.models import Datastream, Observation

WRITERS = 4
BATCHES = 8
PER_BATCH = 25


def test_concurrent_writers(
    sensor_app: FastAPI,
    make_datastream: Callable[..., int],
    make_source: Callable[..., tuple[str, int]],
) -> None:
    ds = make_datastream("busy")
    key, _ = make_source("gw")
    start = datetime.now(UTC) - timedelta(hours=1)

    def batch(n: int) -> dict:
        # writers w and w+1 (mod WRITERS) send overlapping observations: duplicates race
        return {
            "observations": [
                {
                    "datastream": "busy",
                    "result": float(n * PER_BATCH + i),
                    "phenomenonTime": (start + timedelta(seconds=n * PER_BATCH + i)).isoformat(),
                }
                for i in range(PER_BATCH)
            ]
        }

    def writer(w: int) -> list[tuple[int, dict]]:
        out = []
        with TestClient(sensor_app, headers={"Authorization": f"Bearer {key}"}) as c:
            for b in range(BATCHES):
                n = (w // 2) * BATCHES + b  # pairs of writers send the same batches
                r = c.post("/api/ingest", json=batch(n))
                out.append((r.status_code, r.json()))
        return out

    with ThreadPoolExecutor(WRITERS) as pool:
        answers = [a for part in pool.map(writer, range(WRITERS)) for a in part]
    assert {status for status, _ in answers} == {200}, answers[:3]
    assert all(body["failed"] == 0 for _, body in answers)
    distinct = (WRITERS // 2) * BATCHES * PER_BATCH
    ids = {r["id"] for _, body in answers for r in body["results"]}
    assert len(ids) == distinct  # each observation got one id, whoever sent it
    fresh = sum(not r["duplicate"] for _, body in answers for r in body["results"])
    assert fresh == distinct
    with sensor_app.state.db.session() as db:
        assert db.scalar(select(func.count()).select_from(Observation)) == distinct
        row = db.get(Datastream, ds)
        assert row is not None
        assert row.latest_result == float(distinct - 1)
