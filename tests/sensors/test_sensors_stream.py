"""The live stream with real servers: two uvicorn processes on one database (SQLite file
and PostgreSQL), real HTTP clients reading server-sent events. An observation ingested
through one process reaches streams of both (fan-out through the database); anonymous
streams never carry internal datastreams; resuming by Last-Event-ID repeats nothing."""

from __future__ import annotations

import json
import os
import queue
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sensor_fixtures import datastream_spec
from twinproc import stop

from layers.catalogue.rules import Principal
from layers.sensors import keys
from layers.sensors.datastreams import DatastreamIn, create_datastream
from layers.sensors.stream import StreamCursor
from twin.auth import service
from twin.db import Database

ADMIN = Principal(user_id=0, is_admin=True)
REPO = Path(__file__).resolve().parents[2]
WAIT_S = 30.0  # generous: two cores shared with other work


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def _server(tmp_path: Path, database_url: str, name: str, **env_extra: str) -> Iterator[str]:
    """A real uvicorn process serving ``create_app()`` configured by the environment."""
    port = _free_port()
    log = tmp_path / f"{name}.log"
    env = {
        **os.environ,
        "TWIN_DATA_DIR": str(tmp_path / "data"),
        "TWIN_DATABASE_URL": database_url,
        "TWIN_VIEWER_DIR": str(tmp_path / "no-viewer"),
        "TWIN_SSE_HEARTBEAT_SECONDS": "1",
        "PYTHONUNBUFFERED": "1",
        **env_extra,
    }
    cmd = [sys.executable, "-m", "uvicorn", "twin.app:create_app", "--factory"]
    cmd += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                pytest.fail(f"{name} exited:\n{log.read_text()[-3000:]}")
            try:
                if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"{name} did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.2)  # polling the server's own health check
        yield url
    finally:
        stop(proc)


@dataclass
class Stream:
    """A background reader of one SSE response: events and comments as they arrive."""

    url: str
    headers: dict[str, str] = field(default_factory=dict)
    events: queue.Queue[dict[str, Any]] = field(default_factory=queue.Queue)
    comments: list[str] = field(default_factory=list)
    connected: threading.Event = field(default_factory=threading.Event)
    stop: threading.Event = field(default_factory=threading.Event)

    def start(self) -> Stream:
        threading.Thread(target=self._run, daemon=True).start()
        assert self.connected.wait(WAIT_S), f"no stream from {self.url}"
        return self

    def _run(self) -> None:
        timeout = httpx.Timeout(WAIT_S, read=WAIT_S)
        with httpx.stream("GET", self.url, headers=self.headers, timeout=timeout) as r:
            assert r.status_code == 200
            assert r.headers["content-type"].startswith("text/event-stream")
            fields: dict[str, str] = {}
            for line in r.iter_lines():
                self.connected.set()
                if self.stop.is_set():
                    return
                if line.startswith(":"):
                    self.comments.append(line)
                elif not line:
                    if fields.get("event") == "observation":
                        data = json.loads(fields["data"])
                        assert int(fields["id"]) == data["id"]
                        self.events.put(data)
                    fields = {}
                else:
                    name, _, value = line.partition(":")
                    fields[name] = value.removeprefix(" ")

    def take(self, n: int) -> list[dict[str, Any]]:
        return [self.events.get(timeout=WAIT_S) for _ in range(n)]

    def nothing_more(self, seconds: float = 2.0) -> bool:
        try:
            extra = self.events.get(timeout=seconds)
        except queue.Empty:
            return True
        raise AssertionError(f"unexpected event {extra}")


@pytest.fixture
def prepared(tmp_path: Path, database_url: str) -> dict[str, Any]:
    """The database with a public and an internal datastream, a source key, an admin token."""
    db = Database(database_url)
    try:
        db.setup()
        with db.session() as s:
            ids = {
                key: create_datastream(
                    s, ADMIN, DatastreamIn.model_validate(datastream_spec(key, visibility=vis))
                ).id
                for key, vis in (("pub", "public"), ("int", "internal"))
            }
            key, _ = keys.create_source(s, "gw", "1283")
            s.commit()
            user = service.create_user(s, "admin@example.org", password=None, is_admin=True)
            token, _ = service.create_token(s, user)
    finally:
        db.dispose()
    return {"ids": ids, "key": key, "token": token}


def _ingest(base: str, key: str, *items: tuple[str, float]) -> list[int]:
    # distinct times: items without one would all be "now", i.e. the same observation
    start = datetime.now(UTC) - timedelta(seconds=len(items))
    body = {
        "observations": [
            {
                "datastream": d,
                "result": v,
                "phenomenonTime": (start + timedelta(seconds=i)).isoformat(),
            }
            for i, (d, v) in enumerate(items)
        ]
    }
    r = httpx.post(
        f"{base}/api/ingest", json=body, headers={"Authorization": f"Bearer {key}"}, timeout=30
    )
    assert r.status_code == 200, r.text
    assert r.json()["failed"] == 0
    return [x["id"] for x in r.json()["results"]]


def test_stream_fans_out_and_resumes(
    tmp_path: Path, database_url: str, prepared: dict[str, Any]
) -> None:
    ids, key = prepared["ids"], prepared["key"]
    with (
        _server(tmp_path, database_url, "a", TWIN_SSE_MAX_STREAMS="2") as a,
        _server(tmp_path, database_url, "b") as b,
    ):
        anon_a = Stream(f"{a}/api/sensors/stream").start()
        anon_b = Stream(f"{b}/api/sensors/stream").start()
        admin_a = Stream(
            f"{a}/api/sensors/stream", {"Authorization": f"Bearer {prepared['token']}"}
        ).start()
        # Ingested through process B, after the streams connected.
        int_id, pub_id = _ingest(b, key, ("int", 1.0), ("pub", 2.0))
        for s in (anon_a, anon_b):
            (event,) = s.take(1)
            assert event["id"] == pub_id
            assert event["datastream_id"] == ids["pub"]
            assert event["result"] == 2.0
            assert event["state"] is None
            assert event["phenomenon_time"]
        assert [e["id"] for e in admin_a.take(2)] == [int_id, pub_id]
        assert anon_a.nothing_more()  # the internal one never came (it was sent first)
        assert anon_a.comments  # heartbeats while idle (every second here)
        busy = httpx.get(f"{a}/api/sensors/stream", timeout=10)  # a third one on A
        assert busy.status_code == 429
        assert busy.headers["retry-after"] == "5"
        for s in (anon_a, anon_b, admin_a):
            s.stop.set()
        # Resume from the last id seen: only what came after, nothing repeated.
        more = _ingest(a, key, ("pub", 3.0), ("int", 4.0), ("pub", 5.0))
        resumed = Stream(f"{b}/api/sensors/stream", {"Last-Event-ID": str(pub_id)}).start()
        assert [e["id"] for e in resumed.take(2)] == [more[0], more[2]]
        assert resumed.nothing_more()
        deadline = time.monotonic() + WAIT_S  # A notices the closed streams and frees them
        while True:
            with httpx.stream("GET", f"{a}/api/sensors/stream", timeout=10) as probe:
                if probe.status_code == 200:
                    break
            assert time.monotonic() < deadline, "closed streams were never released"
            time.sleep(0.2)
        by_query = Stream(f"{a}/api/sensors/stream?after={more[0]}").start()
        assert [e["result"] for e in by_query.take(1)] == [5.0]
        assert by_query.nothing_more(1.0)
        for s in (resumed, by_query):
            s.stop.set()
        for last in ("x", "-1", str(2**63)):
            bad = httpx.get(f"{a}/api/sensors/stream", headers={"Last-Event-ID": last}, timeout=10)
            assert bad.status_code == 422, last
        assert httpx.get(f"{a}/api/sensors/stream?after={2**63}", timeout=10).status_code == 422


def _rows(*ids: int) -> list[dict[str, int]]:
    return [{"id": i} for i in ids]


def test_cursor_waits_for_late_commits_then_gives_up() -> None:
    c = StreamCursor(10, grace=2.0)
    assert [r["id"] for r in c.accept(_rows(11, 13), now=0.0)] == [11, 13]
    assert c.watermark == 11  # 12 not committed yet: keep polling from 11
    assert [r["id"] for r in c.accept(_rows(13, 14), now=1.0)] == [14]
    assert [r["id"] for r in c.accept(_rows(12, 13, 14), now=1.5)] == [12]  # late, sent once
    assert c.watermark == 14
    assert c.accept(_rows(16), now=2.0) == _rows(16)
    assert c.watermark == 14
    assert c.accept(_rows(16), now=4.5) == []  # 15 burnt: given up after the grace
    assert c.watermark == 16
    assert c.sent == set()
