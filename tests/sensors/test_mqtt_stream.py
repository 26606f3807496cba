"""The whole chain: `twin serve` starts `twin sensors run`, a value published to a real
Mosquitto broker is stored and arrives on GET /api/sensors/stream of the real server."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import paho.mqtt.publish as mqtt_publish
import psutil
import pytest
from mqttbroker import free_port

from layers.catalogue.seed import DEMO_CODE
from layers.sensors.sources.provision import DatastreamSpec, ensure_datastreams
from twin.db import Database


def _stop(proc: subprocess.Popen[bytes]) -> tuple[list[str], list[psutil.Process]]:
    """Stop the server as a service manager does: its children's command lines before,
    and the children still alive after."""
    children = psutil.Process(proc.pid).children(recursive=True)
    commands = []
    for child in children:
        with contextlib.suppress(psutil.NoSuchProcess):
            commands.append(" ".join(child.cmdline()))
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    _, alive = psutil.wait_procs(children, timeout=10)
    for p in alive:
        p.kill()
    return commands, alive


def test_published_value_reaches_the_live_stream(mqtt_broker: int, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    db = Database(f"sqlite:///{(data_dir / 'twin.db').resolve()}")
    db.setup(demo=True)
    with db.session() as s:
        spec = DatastreamSpec(
            key="delft-noise",
            name="Noise at the market",
            organisation=DEMO_CODE,
            thing_key="market",
            thing_name="Market square",
            lon=4.3582,
            lat=52.0116,
            property_name="sound level",
            unit_symbol="dB(A)",
            visibility="public",
            warning_level=70.0,
            alarm_level=85.0,
        )
        ds_id = ensure_datastreams(s, [spec])["delft-noise"]
        s.commit()
    db.dispose()

    port = free_port()
    env = {
        **os.environ,
        "TWIN_MQTT_URL": f"mqtt://127.0.0.1:{mqtt_broker}",
        "TWIN_SSE_HEARTBEAT_SECONDS": "0.5",
        "TWIN_WORKERS": "0",
    }
    for name in ("TWIN_DATABASE_URL", "TWIN_REPLAY", "TWIN_STA_URLS"):
        env.pop(name, None)
    cmd = [sys.executable, "-m", "twin", "--data-dir", str(data_dir), "serve", "--port", str(port)]
    proc = subprocess.Popen(cmd, env=env, cwd=tmp_path)
    base = f"http://127.0.0.1:{port}"
    done = threading.Event()

    def publish_until_seen() -> None:
        # The subscriber in the child process connects on its own schedule: publish
        # (with a new time each go) until the stream has delivered one.
        while not done.is_set():
            at = datetime.now(UTC).isoformat()
            body = json.dumps({"result": 88.5, "phenomenonTime": at})
            mqtt_publish.single(
                f"v1.1/Datastreams({ds_id})/Observations",
                body,
                qos=1,
                hostname="127.0.0.1",
                port=mqtt_broker,
            )
            done.wait(0.5)

    commands: list[str] = []
    alive: list[psutil.Process] = []
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/api/datastreams", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or proc.poll() is not None:
                pytest.fail("the server did not start")
            time.sleep(0.1)
        publisher = threading.Thread(target=publish_until_seen, daemon=True)
        event: dict[str, object] | None = None
        with httpx.stream("GET", f"{base}/api/sensors/stream", timeout=10) as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            publisher.start()
            deadline = time.monotonic() + 30
            kind = None
            for line in response.iter_lines():
                if line.startswith("event: "):
                    kind = line[len("event: ") :]
                elif line.startswith("data: ") and kind == "observation":
                    event = json.loads(line[len("data: ") :])
                    break
                if time.monotonic() > deadline:
                    break
        done.set()
        publisher.join(5)
        assert event is not None, "no observation arrived on the stream"
        assert event["datastream_id"] == ds_id
        assert event["result"] == 88.5
        assert event["state"] == "alarm"
    finally:
        done.set()
        commands, alive = _stop(proc)
    # `twin serve` ran `twin sensors run` as its child, and stopped it with itself
    assert any(c.endswith("-m twin sensors run") for c in commands), commands
    assert alive == []
