"""SensorThings pull against a real local HTTP server speaking SensorThings 1.1."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sta_server import StaState, sta_server

from layers.catalogue.seed import DEMO_CODE
from layers.sensors.contract import IncomingObservation, ItemResult
from layers.sensors.models import Datastream, Observation
from layers.sensors.sources import Backoff, SourceStats
from layers.sensors.sources.provision import DatastreamSpec, ensure_datastreams
from layers.sensors.sources.sink import db_sink
from layers.sensors.sources.sta_pull import (
    StaPoller,
    id_literal,
    local_key,
    parse_datastream,
    parse_observations,
    under_base,
)
from twin.db import Database

BASE = "https://sta.example.org/FROST-Server/v1.1"


def _ts(minutes_ago: float) -> str:
    t = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=minutes_ago)
    return t.isoformat().replace("+00:00", "Z")


def _datastream(ds_id: int | str, name: str) -> dict[str, Any]:
    return {
        "@iot.id": ds_id,
        "@iot.selfLink": f"{BASE}/Datastreams({id_literal(ds_id)})",
        "name": name,
        "description": f"{name} at the town hall",
        "observationType": "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_Measurement",
        "unitOfMeasurement": {
            "name": "degree Celsius",
            "symbol": "°C",
            "definition": "http://unitsofmeasure.org/ucum.html#para-30",
        },
        "Thing": {
            "@iot.id": 10,
            "name": "Town hall roof",
            "description": "weather station",
            "Locations": [
                {
                    "@iot.id": 20,
                    "name": "roof",
                    "encodingType": "application/geo+json",
                    "location": {"type": "Point", "coordinates": [4.3571, 52.0116]},
                }
            ],
        },
        "ObservedProperty": {
            "@iot.id": 30,
            "name": "air temperature",
            "definition": "http://vocab.nerc.ac.uk/collection/P07/current/CFSN0023/",
        },
    }


@pytest.fixture
def state() -> Iterator[StaState]:
    s = StaState()
    s.datastreams = [_datastream(1, "Air temperature"), _datastream("b-2", "Surface temperature")]
    for i in range(5):
        s.add(1, 100 + i, _ts(50 - i), 10.0 + i)
    for i in range(5):
        s.add("b-2", 200 + i, _ts(50 - i), 20.0 + i)
    with sta_server(s):
        yield s


def test_keys_links_and_literals() -> None:
    assert local_key(BASE, 12) == "sta-sta.example.org-12"
    assert local_key(BASE, "Ab C/'x") == "sta-sta.example.org-ab-c-x"
    assert id_literal(3) == "3"
    assert id_literal("o'k") == "'o''k'"
    assert under_base(f"{BASE}/Datastreams(1)/Observations?$skip=2", BASE)
    assert under_base(BASE, BASE)
    for bad in (
        "https://evil.example/FROST-Server/v1.1/Datastreams",
        "http://sta.example.org/FROST-Server/v1.1/Datastreams",  # scheme changed
        "https://sta.example.org:8443/FROST-Server/v1.1/Datastreams",  # port changed
        "https://sta.example.org/FROST-Server/v1.1-evil/Datastreams",  # not under the path
        "https://sta.example.org/other/Datastreams",
        "https://sta.example.org/FROST-Server/v1.1/../../admin",
        "javascript:alert(1)",
    ):
        assert not under_base(bad, BASE), bad


def test_parse_datastream_and_observations() -> None:
    remote = parse_datastream(_datastream(1, "Air temperature"))
    assert (remote.id, remote.lon, remote.lat) == (1, 4.3571, 52.0116)
    assert remote.unit["symbol"] == "°C"
    assert remote.property_name == "air temperature"
    no_place = parse_datastream({"@iot.id": "x", "Thing": {"Locations": [{"location": {}}]}})
    assert (no_place.lon, no_place.lat, no_place.name) == (None, None, "Datastream x")
    stats = SourceStats()
    items, newest = parse_observations(
        [
            {"@iot.id": 1, "phenomenonTime": "2026-01-01T00:00:00Z", "result": 1.5},
            {
                "@iot.id": 2,
                "phenomenonTime": "2026-01-01T00:10:00Z/2026-01-01T00:15:00Z",
                "result": 2,
            },
            {"@iot.id": 3, "phenomenonTime": "2026-01-01T00:20:00", "result": 3},  # no offset
            {"@iot.id": 4, "phenomenonTime": "2026-01-01T00:30:00Z"},  # no result
            "junk",
        ],
        "k",
        stats,
    )
    assert [(i.result, i.idempotency_key) for i in items] == [(1.5, "sta:1"), (2, "sta:2")]
    assert newest == datetime(2026, 1, 1, 0, 15, tzinfo=UTC)
    assert stats.bad == {"bad_time": 1, "not_an_observation": 2}


def _observations(db: Database, key: str) -> list[tuple[float, datetime]]:
    with db.session() as s:
        ds_id = s.scalar(select(Datastream.id).where(Datastream.key == key))
        rows = s.execute(
            select(Observation.result, Observation.phenomenon_time)
            .where(Observation.datastream_id == ds_id)
            .order_by(Observation.phenomenon_time)
        )
        return [(r, t) for r, t in rows]


def test_incremental_pull_into_the_database(state: StaState, database_url: str) -> None:
    db = Database(database_url)
    db.setup(demo=True)
    poller = StaPoller(state.base, db_sink(db.sessions), db.sessions, organisation=DEMO_CODE)
    key1, key2 = local_key(state.base, 1), local_key(state.base, "b-2")
    state.foreign_next = {"b-2"}

    async def poll() -> int:
        async with httpx.AsyncClient(timeout=5) as client:
            return await poller.poll_once(client)

    try:
        assert asyncio.run(poll()) == 5 + 2
        # datastream 1: three pages of two, following next links under the base URL
        assert [v for v, _ in _observations(db, key1)] == [10.0, 11.0, 12.0, 13.0, 14.0]
        # b-2: the first page only; its next link points to another host and is refused
        assert [v for v, _ in _observations(db, key2)] == [20.0, 21.0]
        assert poller.stats.bad["foreign_next_link"] == 1
        assert not any("evil" in p for _, p, _, _ in state.requests)
        with db.session() as s:
            ds = s.scalars(select(Datastream).where(Datastream.key == key1)).one()
            assert (ds.visibility, ds.organisation, ds.unit_symbol) == ("internal", DEMO_CODE, "°C")
            assert (ds.thing.location.lon, ds.thing.location.lat) == (4.3571, 52.0116)
            assert ds.observed_property.name == "air temperature"

        # two new readings upstream: the next poll asks only for what is newer; b-2 goes
        # on from its own latest, so the refused link lost nothing
        state.requests.clear()
        state.add(1, 105, _ts(5), 15.0)
        state.add(1, 106, _ts(4), 16.0)
        assert asyncio.run(poll()) == 2 + 2
        first = next(q for p, q in state.observation_requests() if p.startswith("/Datastreams(1)"))
        last_time = _observations(db, key1)[4][1]
        assert first["$filter"] == f"phenomenonTime gt {last_time:%Y-%m-%dT%H:%M:%S}.000Z"
        assert first["$orderby"] == "phenomenonTime asc"
        assert [v for v, _ in _observations(db, key1)][-2:] == [15.0, 16.0]
        assert asyncio.run(poll()) == 1
        assert [v for v, _ in _observations(db, key2)] == [20.0, 21.0, 22.0, 23.0, 24.0]
        # nothing new: nothing stored, nothing even received
        received = poller.stats.received
        assert asyncio.run(poll()) == 0
        assert poller.stats.received == received
        # a fresh poller (a restart) resumes from the database's latest, not from scratch
        again = StaPoller(state.base, db_sink(db.sessions), db.sessions, organisation=DEMO_CODE)

        async def poll_again() -> int:
            async with httpx.AsyncClient(timeout=5) as client:
                return await again.poll_once(client)

        assert asyncio.run(poll_again()) == 0
        assert again.stats.received == 0
        assert len(_observations(db, key1)) == 7
    finally:
        db.dispose()


def test_without_an_organisation_only_existing_datastreams_are_pulled(
    state: StaState, tmp_path: Path
) -> None:
    db = Database(f"sqlite:///{tmp_path / 'twin.db'}")
    db.setup(demo=True)
    key1, key2 = local_key(state.base, 1), local_key(state.base, "b-2")
    spec = DatastreamSpec(
        key=key1,
        name="Town hall temperature",
        organisation=DEMO_CODE,
        thing_key="town-hall",
        thing_name="Town hall",
        lon=4.3571,
        lat=52.0116,
        property_name="air temperature",
        visibility="public",
    )
    with db.session() as s:
        ensure_datastreams(s, [spec])
        s.commit()
    poller = StaPoller(state.base, db_sink(db.sessions), db.sessions)

    async def poll() -> int:
        async with httpx.AsyncClient(timeout=5) as client:
            return await poller.poll_once(client)

    try:
        assert asyncio.run(poll()) == 5
        with db.session() as s:
            keys = set(s.scalars(select(Datastream.key)))
        assert keys == {key1}  # b-2 was not created, and not fetched
        assert not any(p.startswith("/Datastreams('b-2')") for p, _ in state.observation_requests())
        assert key2 not in poller.last
    finally:
        db.dispose()


def test_errors_back_off_and_recover(state: StaState) -> None:
    """Three 500s: the waits between tries grow; then it polls normally again."""
    got: list[IncomingObservation] = []

    def sink(items: Any) -> list[ItemResult]:
        got.extend(items)
        return [ItemResult(index=i, ok=True, observation_id=i) for i in range(len(items))]

    state.fail = 3
    poller = StaPoller(state.base, sink, poll_seconds=0.2, backoff_cap=5.0)

    async def scenario() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(poller.run(stop))
        deadline = time.monotonic() + 10
        while len(got) < 10 and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        stop.set()
        await asyncio.wait_for(task, 5)

    asyncio.run(scenario())
    assert poller.stats.errors == 3
    assert len(got) == 10
    failed = [t for t, _, _, status in state.requests if status == 500]
    assert len(failed) == 3
    gaps = [b - a for a, b in itertools.pairwise(failed)]
    # each delay is drawn from [d/2, d] with d = 0.2, 0.4, 0.8 s (full jitter): the waits
    # after the first and second failures are at least 0.1 s and 0.2 s
    assert gaps[0] >= 0.1
    assert gaps[1] >= 0.2
    assert poller.backoff.failures == 0  # reset after the first good poll


def test_a_slow_server_times_out_and_counts_as_an_error(state: StaState) -> None:
    state.slow = 1.0
    poller = StaPoller(state.base, lambda items: [], timeout=0.2, poll_seconds=0.05)

    async def scenario() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(poller.run(stop))
        deadline = time.monotonic() + 5
        while poller.stats.errors < 1 and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        stop.set()
        await asyncio.wait_for(task, 5)

    asyncio.run(scenario())
    assert poller.stats.errors >= 1
    assert poller.stats.received == 0


def test_looping_next_links_and_the_page_cap(state: StaState) -> None:
    got: list[IncomingObservation] = []

    def sink(items: Any) -> list[ItemResult]:
        got.extend(items)
        return [ItemResult(index=i, ok=True, observation_id=i) for i in range(len(items))]

    state.looping_next = {"b-2"}
    poller = StaPoller(state.base, sink, max_pages=2)

    async def poll() -> int:
        async with httpx.AsyncClient(timeout=5) as client:
            return await poller.poll_once(client)

    asyncio.run(poll())
    by_ds: dict[object, int] = {}
    for item in got:
        by_ds[item.datastream] = by_ds.get(item.datastream, 0) + 1
    # datastream 1: two pages of two, then the cap; b-2: its first page, then the loop
    # (a link to itself) is noticed and not followed again
    assert by_ds == {local_key(state.base, 1): 4, local_key(state.base, "b-2"): 2}
    assert poller.stats.bad["next_link_loop"] == 1
    b2_requests = [
        p for p, _ in state.observation_requests() if p.startswith("/Datastreams('b-2')")
    ]
    assert len(b2_requests) == 1


def test_backoff_doubles_to_its_cap_and_resets() -> None:
    b = Backoff(1.0, 8.0, jitter=False)
    assert [b.next_delay() for _ in range(6)] == [1.0, 2.0, 4.0, 8.0, 8.0, 8.0]
    b.reset()
    assert b.next_delay() == 1.0
    jittered = Backoff(1.0, 8.0)
    for expected in (1.0, 2.0, 4.0, 8.0, 8.0):
        assert expected / 2 <= jittered.next_delay() <= expected
    with pytest.raises(ValueError, match="backoff"):
        Backoff(2.0, 1.0)
