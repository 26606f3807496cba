"""MQTT topics and payloads to observations: pure, no broker and no database."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest
from mqtt_payloads import (
    CHIRPSTACK_DEV_EUI,
    CHIRPSTACK_TOPIC,
    CHIRPSTACK_UPLINK,
    TTS_DEVICE,
    TTS_TOPIC,
    TTS_UPLINK,
)

from layers.sensors.sources.mapping import (
    MAX_PAYLOAD,
    MappingError,
    TopicPattern,
    build_mappings,
    load_mappings,
    map_message,
)
from layers.sensors.sources.mqtt import BrokerURL, MqttConfigError

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"


def _dump(doc: object) -> bytes:
    return orjson.dumps(doc)


def test_sta_convention_by_id_and_by_key() -> None:
    body = _dump({"result": 21.5, "phenomenonTime": "2026-11-27T10:00:00Z"})
    mapped = map_message("v1.1/Datastreams(12)/Observations", body, [])
    assert mapped.reason is None
    (item,) = mapped.items
    assert item.datastream == 12
    assert item.result == 21.5
    assert item.phenomenon_time == datetime(2026, 11, 27, 10, tzinfo=UTC)
    assert item.result_time is None

    mapped = map_message("v1.0/Datastreams('o''hare-pm10')/Observations", body, [])
    assert mapped.items[0].datastream == "o'hare-pm10"


def test_sta_observation_topic_names_its_datastream_in_the_body() -> None:
    body = _dump(
        {"result": 3, "Datastream": {"@iot.id": 7}, "resultTime": "2026-11-27T10:00:01+01:00"}
    )
    (item,) = map_message("v1.1/Observations", body, []).items
    assert item.datastream == 7
    assert item.phenomenon_time is None  # ingestion takes "now"
    assert item.result_time == datetime(2026, 11, 27, 9, 0, 1, tzinfo=UTC)
    assert map_message("v1.1/Observations", _dump({"result": 3}), []).reason == "no_datastream"


def test_sta_interval_phenomenon_time_takes_its_end() -> None:
    body = _dump({"result": 1, "phenomenonTime": "2026-11-27T10:00:00Z/2026-11-27T10:15:00Z"})
    (item,) = map_message("v1.1/Datastreams(1)/Observations", body, []).items
    assert item.phenomenon_time == datetime(2026, 11, 27, 10, 15, tzinfo=UTC)


@pytest.mark.parametrize(
    ("topic", "payload", "reason"),
    [
        ("v1.1/Datastreams(1)/Observations", b"{not json", "invalid_json"),
        ("v1.1/Datastreams(1)/Observations", b"[1, 2]", "not_an_observation"),
        ("v1.1/Datastreams(1)/Observations", b'{"value": 1}', "no_result"),
        (
            "v1.1/Datastreams(1)/Observations",
            b'{"result": 1, "phenomenonTime": "yesterday"}',
            "bad_time",
        ),
        # a local time without an offset is refused, not guessed
        (
            "v1.1/Datastreams(1)/Observations",
            b'{"result": 1, "phenomenonTime": "2026-11-27T10:00:00"}',
            "bad_time",
        ),
        ("v1.1/Datastreams(x)/Observations", b'{"result": 1}', "no_mapping"),
        ("v2/Datastreams(1)/Observations", b'{"result": 1}', "no_mapping"),
        ("other/topic", b'{"result": 1}', "no_mapping"),
        ("v1.1/Datastreams(1)/Observations", b" " * (MAX_PAYLOAD + 1), "too_large"),
    ],
)
def test_bad_messages_give_a_reason_and_no_items(topic: str, payload: bytes, reason: str) -> None:
    mapped = map_message(topic, payload, [])
    assert mapped.reason == reason
    assert mapped.items == ()


def test_topic_patterns_match_like_mqtt() -> None:
    p = TopicPattern.parse("application/+/device/{dev_eui}/event/up")
    assert p.subscription == "application/+/device/+/event/up"
    assert p.match("application/a/device/0011/event/up") == {"dev_eui": "0011"}
    assert p.match("application/a/device/0011/event/join") is None
    assert p.match("application/a/device//event/up") is None  # empty capture
    assert p.match("application/a/device/0011/event/up/x") is None
    hashes = TopicPattern.parse("sensors/{site}/#")
    assert hashes.match("sensors/delft") == {"site": "delft"}
    assert hashes.match("sensors/delft/a/b") == {"site": "delft"}
    assert TopicPattern.parse("#").match("$SYS/broker/uptime") is None
    assert TopicPattern.parse("+/x").match("$SYS/x") is None


@pytest.mark.parametrize(
    "bad", ["a/#/b", "a/b+/c", "a/{x}y/c", "a/{x}/{x}", "", "a/{1x}/b", "a/{}/b"]
)
def test_bad_topic_patterns_are_refused(bad: str) -> None:
    with pytest.raises(MappingError):
        TopicPattern.parse(bad)


def test_mapping_config_errors_say_where() -> None:
    with pytest.raises(MappingError, match="not captured"):
        build_mappings(
            {"mappings": [{"topic": "a/+", "values": [{"datastream": "x-{dev}", "value": "v"}]}]}
        )
    with pytest.raises(MappingError, match="invalid JMESPath"):
        build_mappings(
            {"mappings": [{"topic": "a/+", "values": [{"datastream": "x", "value": "a[["}]}]}
        )
    with pytest.raises(MappingError, match=r"mappings\.0\.valeus"):
        build_mappings({"mappings": [{"topic": "a", "valeus": []}]})
    with pytest.raises(MappingError, match=r"mappings\.0\.values"):
        build_mappings({"mappings": [{"topic": "a", "values": []}]})


def test_chirpstack_example_mapping_reads_a_v4_uplink() -> None:
    mappings = load_mappings(EXAMPLES / "mqtt-chirpstack-v4.toml")
    mapped = map_message(CHIRPSTACK_TOPIC, _dump(CHIRPSTACK_UPLINK), mappings)
    assert mapped.reason is None
    got = {i.datastream: i.result for i in mapped.items}
    prefix = f"lora-{CHIRPSTACK_DEV_EUI}"
    assert got == {
        f"{prefix}-temperature": 22.4,
        f"{prefix}-humidity": 39,
        f"{prefix}-co2": 612,
        f"{prefix}-battery": 3.61,
        f"{prefix}-rssi": -57,
    }
    times = {i.phenomenon_time for i in mapped.items}
    assert times == {datetime(2026, 11, 27, 14, 3, 12, 531465, tzinfo=UTC)}
    keys = {i.idempotency_key for i in mapped.items}
    assert keys == {"chirpstack:3ac7e3c4-4401-4b8d-9386-a5c902f9202d"}


def test_chirpstack_uplink_without_some_values_keeps_the_others() -> None:
    mappings = load_mappings(EXAMPLES / "mqtt-chirpstack-v4.toml")
    uplink = {**CHIRPSTACK_UPLINK, "object": {"temperature": 19.0}, "rxInfo": []}
    mapped = map_message(CHIRPSTACK_TOPIC, _dump(uplink), mappings)
    assert [i.datastream for i in mapped.items] == [f"lora-{CHIRPSTACK_DEV_EUI}-temperature"]
    assert mapped.missing == 4
    # an uplink without a codec has no "object" at all: nothing to store, a reason to log
    bare = {k: v for k, v in CHIRPSTACK_UPLINK.items() if k not in ("object", "rxInfo")}
    assert map_message(CHIRPSTACK_TOPIC, _dump(bare), mappings).reason == "no_values"
    # other ChirpStack events on the same application do not match the uplink mapping
    join_topic = CHIRPSTACK_TOPIC.replace("/event/up", "/event/join")
    assert map_message(join_topic, _dump({}), mappings).reason == "no_mapping"


def test_things_stack_example_mapping_reads_a_v3_uplink() -> None:
    mappings = load_mappings(EXAMPLES / "mqtt-things-stack-v3.json")
    mapped = map_message(TTS_TOPIC, _dump(TTS_UPLINK), mappings)
    assert mapped.reason is None
    got = {i.datastream: i.result for i in mapped.items}
    assert got == {
        f"tts-{TTS_DEVICE}-temperature": 7.5,
        f"tts-{TTS_DEVICE}-humidity": 86.5,
        f"tts-{TTS_DEVICE}-battery": 3.62,
        f"tts-{TTS_DEVICE}-rssi": -68,
    }
    assert {i.phenomenon_time for i in mapped.items} == {
        datetime(2026, 11, 27, 14, 5, 41, 401000, tzinfo=UTC)
    }
    assert {i.idempotency_key for i in mapped.items} == {
        "the-things-stack:as:up:01JDQ0W3QA9C1X7M4F6H2J8K0L"
    }


def test_mapping_with_epoch_times_and_a_bad_time() -> None:
    mappings = build_mappings(
        {
            "mappings": [
                {
                    "topic": "plant/{line}/meter",
                    "time": "ts",
                    "values": [{"datastream": "flow-{line}", "value": "readings.flow"}],
                }
            ]
        }
    )
    mapped = map_message(
        "plant/l1/meter", b'{"ts": 1764252000000, "readings": {"flow": 3}}', mappings
    )
    assert mapped.items[0].datastream == "flow-l1"
    assert mapped.items[0].phenomenon_time == datetime(2025, 11, 27, 14, 0, tzinfo=UTC)
    assert mapped.items[0].idempotency_key is None
    bad = map_message("plant/l1/meter", b'{"ts": "soon", "readings": {"flow": 3}}', mappings)
    assert bad.reason == "bad_time"
    assert "soon" in bad.detail


def test_toml_and_json_files_give_the_same_mappings(tmp_path: Path) -> None:
    data = {"mappings": [{"topic": "a/{b}", "values": [{"datastream": "k-{b}", "value": "v"}]}]}
    (tmp_path / "m.json").write_text(json.dumps(data))
    (tmp_path / "m.toml").write_text(
        '[[mappings]]\ntopic = "a/{b}"\nvalues = [{ datastream = "k-{b}", value = "v" }]\n'
    )
    for name in ("m.json", "m.toml"):
        (m,) = load_mappings(tmp_path / name)
        assert map_message("a/x", b'{"v": 2}', [m]).items[0].datastream == "k-x"
    (tmp_path / "broken.toml").write_text("[[mappings]\n")
    with pytest.raises(MappingError, match=r"broken\.toml"):
        load_mappings(tmp_path / "broken.toml")
    with pytest.raises(MappingError, match="cannot read"):
        load_mappings(tmp_path / "missing.json")


def test_broker_urls() -> None:
    b = BrokerURL.parse("mqtts://twin:s%40cret@broker.example.org?client_id=twin-1")
    assert (b.host, b.port, b.tls, b.username, b.password, b.client_id) == (
        "broker.example.org",
        8883,
        True,
        "twin",
        "s@cret",
        "twin-1",
    )
    assert "s@cret" not in b.safe()
    assert BrokerURL.parse("mqtt://localhost").port == 1883
    assert BrokerURL.parse("mqtt://localhost:1884").port == 1884
    for bad in ("http://x", "mqtt://", "mqtt://h:99999"):
        with pytest.raises(MqttConfigError):
            BrokerURL.parse(bad)


def test_a_failing_database_is_retried_without_losing_the_batch() -> None:
    from layers.sensors.contract import IncomingObservation, ItemResult
    from layers.sensors.sources.mqtt import MqttSubscriber

    calls: list[int] = []

    def sink(items: list[IncomingObservation]) -> list[ItemResult]:
        calls.append(len(items))
        if len(calls) <= 2:
            raise ConnectionError("database unavailable")
        return [ItemResult(index=i, ok=True, observation_id=i) for i in range(len(items))]

    sub = MqttSubscriber("mqtt://127.0.0.1:1", sink)
    items = [IncomingObservation("k", float(i)) for i in range(3)]

    async def scenario() -> None:
        await sub.store(items, asyncio.Event())

    asyncio.run(scenario())
    assert calls == [3, 3, 3]
    assert (sub.stats.errors, sub.stats.stored) == (2, 3)
