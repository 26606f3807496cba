"""Sensor ingest throughput: observations per second into SQLite and PostgreSQL.

    python -m bench.bench_sensors_ingest --observations 100000 --batch 1000
    python -m bench.bench_sensors_ingest --database-url postgresql+psycopg://u@host/db

For each database (a fresh SQLite file, and PostgreSQL when ``--database-url`` is given
or Debian's server binaries can start a throwaway one), ten datastreams get
``--observations`` observations in batches of ``--batch``, twice:

* **service**: ``layers.sensors.service.ingest`` with one commit per batch (what the
  MQTT, SensorThings and replay sources do);
* **http**: ``POST /api/ingest`` to a real uvicorn process with a source key, from one
  client, batches one after another (the end-to-end path of an HTTP push).

Then a re-send of one batch (every item a duplicate) and a history query of one
datastream downsampled to 500 buckets are timed. Results are printed and written to
``bench/out/bench-sensors-<timestamp>.json``. See docs/SENSORS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from layers.catalogue.rules import Principal
from layers.sensors import keys
from layers.sensors.contract import IncomingObservation
from layers.sensors.datastreams import DatastreamIn, create_datastream
from layers.sensors.models import Datastream
from layers.sensors.queries import history
from layers.sensors.service import ingest
from twin.db import Database

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "bench" / "out"
ADMIN = Principal(user_id=0, is_admin=True)
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _prepare(url: str) -> tuple[list[int], str]:
    db = Database(url)
    try:
        db.setup()
        with db.session() as s:
            ids = []
            for i in range(10):
                spec = {
                    "key": f"bench-{i}",
                    "name": f"bench {i}",
                    "organisation": "1283",
                    "thing": {"name": f"station {i}"},
                    "sensor": {"name": "bench"},
                    "observed_property": {"name": "value"},
                    "thresholds": {"warning": 50.0, "alarm": 90.0},
                }
                ids.append(create_datastream(s, ADMIN, DatastreamIn.model_validate(spec)).id)
            key, _ = keys.create_source(s, "bench", "1283")
            s.commit()
        return ids, key
    finally:
        db.dispose()


def _service(url: str, ids: list[int], n: int, batch: int, offset: int) -> dict[str, float]:
    db = Database(url)
    now = T0 + timedelta(days=365)
    try:
        start = time.perf_counter()
        for b in range(n // batch):
            items = [
                IncomingObservation(
                    ids[i % len(ids)],
                    float(i % 100),
                    T0 + timedelta(seconds=offset + b * batch + i),
                )
                for i in range(batch)
            ]
            with db.session() as s:
                ingest(s, items, now=now)
                s.commit()
        seconds = time.perf_counter() - start
        start = time.perf_counter()
        with db.session() as s:
            assert all(r.duplicate for r in ingest(s, items, now=now))
            s.commit()
        resend = time.perf_counter() - start
        with db.session() as s:
            ds = s.get(Datastream, ids[0])
            assert ds is not None
            start = time.perf_counter()
            h = history(s, ds, T0, T0 + timedelta(seconds=offset + n), 500)
            hist = time.perf_counter() - start
        return {
            "observations_per_s": n / seconds,
            "resend_batch_s": resend,
            "history_s": hist,
            "buckets": len(h.observations),
        }
    finally:
        db.dispose()


@contextmanager
def _server(url: str, data_dir: Path) -> Iterator[str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "TWIN_DATA_DIR": str(data_dir), "TWIN_DATABASE_URL": url}
    cmd = [sys.executable, "-m", "uvicorn", "twin.app:create_app", "--factory", "--port"]
    proc = subprocess.Popen(
        [*cmd, str(port), "--log-level", "warning"], cwd=REPO, env=env, stderr=subprocess.DEVNULL
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _http(base: str, key: str, n: int, batch: int, offset: int) -> dict[str, float]:
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=base, headers=headers, timeout=120) as client:
        start = time.perf_counter()
        for b in range(n // batch):
            body = {
                "observations": [
                    {
                        "datastream": f"bench-{i % 10}",
                        "result": float(i % 100),
                        "phenomenonTime": (
                            T0 + timedelta(seconds=offset + b * batch + i)
                        ).isoformat(),
                    }
                    for i in range(batch)
                ]
            }
            r = client.post("/api/ingest", json=body)
            r.raise_for_status()
            assert r.json()["failed"] == 0
        return {"observations_per_s": n / (time.perf_counter() - start)}


def run(url: str, name: str, n: int, batch: int, work: Path) -> dict[str, Any]:
    ids, key = _prepare(url)
    result: dict[str, Any] = {"database": name, "observations": n, "batch": batch}
    result["service"] = _service(url, ids, n, batch, 0)
    with _server(url, work / f"data-{name}") as base:
        result["http"] = _http(base, key, n, batch, n)
    print(
        f"{name}: service {result['service']['observations_per_s']:,.0f} obs/s, "
        f"http {result['http']['observations_per_s']:,.0f} obs/s, re-send of a batch "
        f"{result['service']['resend_batch_s']:.2f} s, history -> "
        f"{result['service']['buckets']} buckets {result['service']['history_s'] * 1000:.0f} ms"
    )
    return result


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--observations", type=int, default=100_000)
    p.add_argument("--batch", type=int, default=1000)
    p.add_argument("--database-url", help="PostgreSQL to use (default: a throwaway server)")
    args = p.parse_args()
    work = Path(tempfile.mkdtemp(prefix="twin-bench-sensors-"))
    results = []
    try:
        sqlite = f"sqlite:///{work / 'bench.db'}"
        results.append(run(sqlite, "sqlite", args.observations, args.batch, work))
        if args.database_url:
            results.append(
                run(args.database_url, "postgresql", args.observations, args.batch, work)
            )
        else:
            sys.path.append(str(REPO / "tests"))
            from pgserver import find_bindir, postgres_server

            if find_bindir() is not None:
                pg = Path(tempfile.mkdtemp(prefix="twin-bench-pg-"))  # traversable by postgres
                try:
                    with postgres_server(pg) as url:
                        results.append(run(url, "postgresql", args.observations, args.batch, work))
                finally:
                    shutil.rmtree(pg, ignore_errors=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    OUT.mkdir(parents=True, exist_ok=True)
    out = OUT / f"bench-sensors-{datetime.now(UTC):%Y%m%dT%H%M%S}.json"
    out.write_text(json.dumps({"cpus": os.cpu_count(), "results": results}, indent=2))
    print(f"written {out}")


if __name__ == "__main__":
    main()
