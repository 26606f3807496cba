"""MQTT end to end: a real Mosquitto broker, the subscriber, real databases, a real server."""

from __future__ import annotations

import asyncio
import json
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiomqtt
import pytest
from mqtt_payloads import CHIRPSTACK_DEV_EUI, CHIRPSTACK_TOPIC, CHIRPSTACK_UPLINK
from mqttbroker import find_mosquitto, free_port, mosquitto
from sqlalchemy import select

from layers.catalogue.seed import DEMO_CODE
from layers.sensors.models import Datastream, Observation
from layers.sensors.sources import Backoff
from layers.sensors.sources.mapping import load_mappings
from layers.sensors.sources.mqtt import MqttSubscriber
from layers.sensors.sources.provision import DatastreamSpec, ensure_datastreams
from layers.sensors.sources.sink import db_sink
from twin.db import Database

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"
LORA = f"lora-{CHIRPSTACK_DEV_EUI}"


def _spec(key: str, prop: str, unit: str, visibility: str = "public") -> DatastreamSpec:
    return DatastreamSpec(
        key=key,
        name=f"{prop} ({key})",
        organisation=DEMO_CODE,
        thing_key=f"test-{key}",
        thing_name=f"Thing {key}",
        lon=4.3668,
        lat=52.0119,
        property_name=prop,
        unit_symbol=unit,
        visibility=visibility,
        warning_level=25.0,
        alarm_level=30.0,
    )


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = Database(database_url)
    database.setup(demo=True)
    with database.session() as s:
        ensure_datastreams(
            s,
            [
                _spec("delft-temperature", "air temperature", "°C"),
                _spec(f"{LORA}-temperature", "air temperature", "°C"),
                _spec(f"{LORA}-humidity", "relative humidity", "%"),
            ],
        )
        s.commit()
    yield database
    database.dispose()


async def _until(predicate: Callable[[], object], timeout: float = 10.0, what: object = "") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting {what}")
        await asyncio.sleep(0.05)


def _observations(db: Database, key: str) -> list[Observation]:
    with db.session() as s:
        ds_id = s.scalar(select(Datastream.id).where(Datastream.key == key))
        return list(
            s.scalars(
                select(Observation)
                .where(Observation.datastream_id == ds_id)
                .order_by(Observation.phenomenon_time)
            )
        )


def test_published_observations_are_stored(db: Database, mqtt_broker: int) -> None:
    with db.session() as s:
        temp_id = s.scalar(select(Datastream.id).where(Datastream.key == "delft-temperature"))
    at = (datetime.now(UTC) - timedelta(minutes=1)).replace(microsecond=0)
    mappings = load_mappings(EXAMPLES / "mqtt-chirpstack-v4.toml")

    async def scenario() -> MqttSubscriber:
        sub = MqttSubscriber(f"mqtt://127.0.0.1:{mqtt_broker}", db_sink(db.sessions), mappings)
        stop = asyncio.Event()
        task = asyncio.create_task(sub.run(stop))
        await asyncio.wait_for(sub.subscribed.wait(), 10)
        uplink = json.dumps(CHIRPSTACK_UPLINK)
        async with aiomqtt.Client("127.0.0.1", mqtt_broker) as pub:
            sta = {"result": 21.5, "phenomenonTime": at.isoformat()}
            await pub.publish(f"v1.1/Datastreams({temp_id})/Observations", json.dumps(sta), qos=1)
            await pub.publish(CHIRPSTACK_TOPIC, uplink, qos=1)
            await pub.publish(CHIRPSTACK_TOPIC, uplink, qos=1)  # a redelivery: stored once
            await pub.publish(f"v1.1/Datastreams({temp_id})/Observations", b"{oops", qos=1)
            await pub.publish("v1.1/Datastreams('no-such')/Observations", b'{"result": 1}', qos=1)
            by_key = {"result": "warm", "phenomenonTime": at.isoformat()}
            await pub.publish(
                "v1.0/Datastreams('delft-temperature')/Observations", json.dumps(by_key), qos=1
            )
        await _until(lambda: sub.stats.received == 6, what=sub.stats)
        stats = sub.stats
        await _until(
            lambda: stats.stored + stats.duplicates + sum(stats.rejected.values()) == 13, what=stats
        )
        stop.set()
        await asyncio.wait_for(task, 10)
        return sub

    sub = asyncio.run(scenario())
    stats = sub.stats
    # STA observation 1 + uplink 2 values (co2/battery/rssi datastreams do not exist here)
    assert stats.stored == 3
    assert stats.duplicates == 2
    assert stats.bad == {"invalid_json": 1}
    assert stats.rejected["unknown_datastream"] == 1 + 3 + 3
    assert stats.rejected["bad_result"] == 1

    (obs,) = _observations(db, "delft-temperature")
    assert (obs.result, obs.phenomenon_time) == (21.5, at)
    (t,) = _observations(db, f"{LORA}-temperature")
    (h,) = _observations(db, f"{LORA}-humidity")
    assert (t.result, h.result) == (22.4, 39.0)
    assert t.phenomenon_time == datetime(2026, 11, 27, 14, 3, 12, 531465, tzinfo=UTC)
    assert t.idempotency_key == "chirpstack:3ac7e3c4-4401-4b8d-9386-a5c902f9202d"
    with db.session() as s:
        ds = s.scalars(select(Datastream).where(Datastream.key == "delft-temperature")).one()
        assert (ds.latest_result, ds.latest_state) == (21.5, "ok")


def test_subscriber_waits_for_the_broker_and_reconnects(tmp_path: Path) -> None:
    """No broker yet: it retries with backoff; the broker comes, goes and comes back."""
    binary = find_mosquitto()
    if binary is None:
        if os.environ.get("TWIN_REQUIRE_MQTT"):
            pytest.fail("Mosquitto is required (TWIN_REQUIRE_MQTT) but not installed")
        pytest.skip("mosquitto not found")
    stored: list[object] = []

    def sink(items):  # type: ignore[no-untyped-def]
        from layers.sensors.contract import ItemResult

        stored.extend(i.result for i in items)
        return [ItemResult(index=n, ok=True, observation_id=n) for n in range(len(items))]

    port = free_port()
    workdir = Path(tempfile.mkdtemp(prefix="twin-test-mosquitto-"))

    async def publish(value: int) -> None:
        async with aiomqtt.Client("127.0.0.1", port) as pub:
            await pub.publish("v1.1/Datastreams(1)/Observations", f'{{"result": {value}}}', qos=1)

    async def scenario() -> MqttSubscriber:
        sub = MqttSubscriber(f"mqtt://127.0.0.1:{port}", sink, backoff=Backoff(0.05, 0.2))
        stop = asyncio.Event()
        task = asyncio.create_task(sub.run(stop))
        await _until(lambda: sub.stats.errors >= 2)  # refused connections, retried
        assert not task.done()
        for value in (1, 2):
            with mosquitto(workdir, binary, port):
                await asyncio.wait_for(sub.subscribed.wait(), 10)
                await publish(value)
                await _until(lambda v=value: v in stored)
            await _until(lambda: not sub.subscribed.is_set())  # the broker went away
            assert not task.done()
        stop.set()
        await asyncio.wait_for(task, 10)
        return sub

    try:
        sub = asyncio.run(scenario())
    finally:
        import shutil

        shutil.rmtree(workdir, ignore_errors=True)
    assert stored == [1, 2]
    assert sub.stats.errors >= 4
