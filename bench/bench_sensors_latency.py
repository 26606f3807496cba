"""Sensor latency and MQTT throughput, end to end, against the broker alone as baseline.

    python -m bench.bench_sensors_latency --rate 20 --seconds 30 --burst 5000

A real Mosquitto broker (Debian's ``mosquitto``) and a real ``twin serve`` (SQLite, the
MQTT source in its child process) run for the measurement; a client holds
``/api/sensors/stream`` open. Two measurements, each against a baseline in the same run:

* **latency at a steady load**: ``--rate`` SensorThings observations per second over MQTT
  for ``--seconds``, each stamped with its publish time; the latency of one is the time
  from publish to its event arriving on the stream (broker -> subscriber -> database ->
  stream poll -> client). Baseline: the same messages' publish-to-delivery time for a
  plain MQTT subscriber on the same broker. p50 and p95 of both, and their ratio.
* **throughput**: ``--burst`` observations published as fast as the client can (QoS 1);
  the time until the last one is on the stream gives observations/s into twin. Baseline:
  the time until a plain subscriber has received all of them.

Results are printed and written to ``bench/out/bench-sensors-latency-<time>.json``;
method and figures in docs/SENSORS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiomqtt
import httpx

from bench.bench_sensors_ingest import ADMIN
from layers.sensors.datastreams import DatastreamIn, create_datastream
from twin.db import Database

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "bench" / "out"


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"nothing listens on {port}")


def _datastream(url: str) -> int:
    db = Database(url)
    try:
        db.setup()
        with db.session() as s:
            spec = {
                "key": "bench-latency",
                "name": "bench latency",
                "organisation": "1283",
                "visibility": "public",
                "thing": {"name": "bench station"},
                "sensor": {"name": "bench"},
                "observed_property": {"name": "value"},
            }
            ds = create_datastream(s, ADMIN, DatastreamIn.model_validate(spec))
            s.commit()
            return int(ds.id)
    finally:
        db.dispose()


class Stream:
    """Reads the SSE stream in a thread; records each observation's arrival time."""

    def __init__(self, base: str) -> None:
        self.arrived: dict[float, float] = {}  # result (a sequence number) -> arrival
        self._base = base
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        if not self._ready.wait(30):
            raise SystemExit("the stream did not open")

    def _run(self) -> None:
        with (
            httpx.Client(timeout=None) as client,
            client.stream("GET", f"{self._base}/api/sensors/stream") as r,
        ):
            self._ready.set()
            for line in r.iter_lines():
                if self._stop.is_set():
                    return
                if line.startswith("data:"):
                    event = json.loads(line[5:])
                    self.arrived[float(event["result"])] = time.time()

    def close(self) -> None:
        self._stop.set()


async def _baseline_subscriber(port: int, topic: str, got: dict[float, float]) -> None:
    async with aiomqtt.Client("127.0.0.1", port) as client:
        await client.subscribe(topic, qos=1)
        async for message in client.messages:
            payload = json.loads(bytes(message.payload))  # type: ignore[arg-type]
            got[float(payload["result"])] = time.time()


async def _publish(
    port: int, topic: str, values: list[float], rate: float | None
) -> dict[float, float]:
    sent: dict[float, float] = {}
    async with aiomqtt.Client("127.0.0.1", port) as client:
        start = time.monotonic()
        for i, v in enumerate(values):
            if rate:
                delay = start + i / rate - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
            now = datetime.now(UTC)
            body = {"result": v, "phenomenonTime": now.isoformat()}
            sent[v] = time.time()
            await client.publish(topic, json.dumps(body), qos=1)
    return sent


async def _round(
    port: int, ds: int, stream: Stream, values: list[float], rate: float | None
) -> dict[str, Any]:
    topic = f"v1.1/Datastreams({ds})/Observations"
    base: dict[float, float] = {}
    sub = asyncio.create_task(_baseline_subscriber(port, topic, base))
    await asyncio.sleep(1.0)  # the baseline subscription is in place
    sent = await _publish(port, topic, values, rate)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and (
        len(base) < len(values) or not all(v in stream.arrived for v in values)
    ):
        await asyncio.sleep(0.1)
    sub.cancel()
    twin = [stream.arrived[v] - sent[v] for v in values if v in stream.arrived]
    broker = [base[v] - sent[v] for v in values if v in base]
    return {
        "sent": len(values),
        "on_stream": len(twin),
        "at_baseline": len(broker),
        "twin_s": twin,
        "broker_s": broker,
        "first_sent": min(sent.values()),
        "twin_last": max((stream.arrived[v] for v in values if v in stream.arrived), default=0),
        "broker_last": max(base.values(), default=0),
    }


def _pct(xs: list[float], q: float) -> float:
    return statistics.quantiles(xs, n=100, method="inclusive")[int(q) - 1] if len(xs) > 1 else xs[0]


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rate", type=float, default=20.0)
    p.add_argument("--seconds", type=float, default=30.0)
    p.add_argument("--burst", type=int, default=5000)
    args = p.parse_args()
    mosquitto = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    work = Path(tempfile.mkdtemp(prefix="twin-bench-latency-"))
    broker_port, web_port = _port(), _port()
    conf = work / "mosquitto.conf"
    conf.write_text(f"listener {broker_port} 127.0.0.1\nallow_anonymous true\n", encoding="utf-8")
    broker = subprocess.Popen([mosquitto, "-c", str(conf)], stderr=subprocess.DEVNULL)
    url = f"sqlite:///{work / 'twin.db'}"
    server = None
    try:
        _wait(broker_port)
        ds = _datastream(url)
        env = {
            **os.environ,
            "TWIN_DATA_DIR": str(work),
            "TWIN_DATABASE_URL": url,
            "TWIN_MQTT_URL": f"mqtt://127.0.0.1:{broker_port}",
            "TWIN_WORKERS": "0",
        }
        cmd = [sys.executable, "-m", "twin", "serve", "--port", str(web_port)]
        server = subprocess.Popen(cmd, cwd=REPO, env=env, stderr=subprocess.DEVNULL)
        _wait(web_port)
        time.sleep(3)  # the MQTT source subscribes
        stream = Stream(f"http://127.0.0.1:{web_port}")
        n = int(args.rate * args.seconds)
        steady = asyncio.run(
            _round(broker_port, ds, stream, [float(i) for i in range(n)], args.rate)
        )
        burst_values = [float(1_000_000 + i) for i in range(args.burst)]
        burst = asyncio.run(_round(broker_port, ds, stream, burst_values, None))
        stream.close()
    finally:
        if server is not None:
            server.terminate()
            server.wait(20)
        broker.terminate()
        broker.wait(10)
        shutil.rmtree(work, ignore_errors=True)
    tw, bk = steady["twin_s"], steady["broker_s"]
    twin_rate = burst["on_stream"] / (burst["twin_last"] - burst["first_sent"])
    broker_rate = burst["at_baseline"] / (burst["broker_last"] - burst["first_sent"])
    result = {
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "rate_per_s": args.rate,
        "steady_sent": steady["sent"],
        "steady_on_stream": steady["on_stream"],
        "latency_twin_p50_ms": round(_pct(tw, 50) * 1000, 1),
        "latency_twin_p95_ms": round(_pct(tw, 95) * 1000, 1),
        "latency_broker_p50_ms": round(_pct(bk, 50) * 1000, 2),
        "latency_broker_p95_ms": round(_pct(bk, 95) * 1000, 2),
        "latency_ratio_p50": round(_pct(tw, 50) / _pct(bk, 50), 1),
        "burst_sent": burst["sent"],
        "burst_on_stream": burst["on_stream"],
        "throughput_twin_obs_per_s": round(twin_rate),
        "throughput_broker_msgs_per_s": round(broker_rate),
        "throughput_ratio": round(twin_rate / broker_rate, 3),
    }
    OUT.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    (OUT / f"bench-sensors-latency-{stamp}.json").write_text(json.dumps(result, indent=1))
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
