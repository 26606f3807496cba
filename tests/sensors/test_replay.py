"""The demo replay: the recorded files, the replay clock and a replay step into the DB."""

from __future__ import annotations

import asyncio
import itertools
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from layers.catalogue.seed import DEMO_CODE
from layers.sensors.models import Datastream, Observation, Thing
from layers.sensors.sources.replay import (
    CHANNELS,
    DEMO_SENSORS,
    DHT_FILE,
    EPOCH,
    SDS_FILE,
    Replay,
    ReplayDataError,
    due,
    load_series,
    read_sensor_community_csv,
)
from layers.sensors.sources.sink import db_sink
from twin.db import Database

DEMO_CITY = DEMO_SENSORS.parent / "delft.city.json"


def test_recorded_files_parse_with_utc_times() -> None:
    sds = read_sensor_community_csv(DEMO_SENSORS / SDS_FILE)
    dht = read_sensor_community_csv(DEMO_SENSORS / DHT_FILE)
    assert (len(sds), len(dht)) == (583, 583)
    assert sds[0].time == datetime(2017, 11, 15, 0, 2, 19, tzinfo=UTC)
    assert sds[-1].time == datetime(2017, 11, 15, 23, 58, 41, tzinfo=UTC)
    assert dht[0].time == datetime(2017, 11, 15, 0, 2, 20, tzinfo=UTC)
    assert dht[-1].time == datetime(2017, 11, 15, 23, 58, 42, tzinfo=UTC)
    assert sds[0].values == {"P1": 3.2, "P2": 2.5}  # the empty dur/ratio columns left out
    assert sds[-1].values == {"P1": 14.13, "P2": 4.17}
    assert dht[0].values == {"temperature": 4.9, "humidity": 82.8}
    assert (sds[0].sensor_id, sds[0].sensor_type, sds[0].lat, sds[0].lon) == (
        "5331",
        "SDS011",
        57.138,
        -2.077,
    )
    assert all(a.time < b.time for a, b in itertools.pairwise(sds))
    gaps = sorted((b.time - a.time).total_seconds() for a, b in itertools.pairwise(sds))
    assert 140 <= gaps[len(gaps) // 2] <= 160  # a reading about every 150 s


@pytest.mark.shared_data
def test_repository_copy_is_the_unmodified_original(shared_data: Path) -> None:
    for name in (SDS_FILE, DHT_FILE):
        original = shared_data / "iot-aberdeen-sensor-community" / name
        assert (DEMO_SENSORS / name).read_bytes() == original.read_bytes()


def test_bad_files_name_the_line(tmp_path: Path) -> None:
    bad = tmp_path / "x.csv"
    head = "sensor_id;sensor_type;location;lat;lon;timestamp;P1\n"
    bad.write_text(head + "1;SDS011;1;57.1;-2.0;2017-11-15T00:00:00;3\n1;SDS011;1;57.1;-2.0;x;3\n")
    with pytest.raises(ReplayDataError, match=r"x\.csv:3"):
        read_sensor_community_csv(bad)
    bad.write_text(head + "1;SDS011;1;57.1;-2.0;2017-11-15T00:00:00;high\n")
    with pytest.raises(ReplayDataError, match="P1 is not a number"):
        read_sensor_community_csv(bad)
    bad.write_text("a;b\n1;2\n")
    with pytest.raises(ReplayDataError, match="no column"):
        read_sensor_community_csv(bad)


def test_replay_clock_keeps_time_of_day_and_loops() -> None:
    series, period = load_series()
    assert period == 86400
    today = datetime(2026, 11, 27, tzinfo=UTC)
    # 14:00-14:10 UTC today replays the readings recorded 14:00-14:10 on 2017-11-15
    items = due(
        series, period, 1.0, today + timedelta(hours=14), today + timedelta(hours=14, minutes=10)
    )
    pm10 = [(i.phenomenon_time, i.result) for i in items if i.datastream == "aberdeen-5331-pm10"]
    recorded = [
        (r.time, r.values["P1"])
        for r in read_sensor_community_csv(DEMO_SENSORS / SDS_FILE)
        if datetime(2017, 11, 15, 14, tzinfo=UTC)
        < r.time
        <= datetime(2017, 11, 15, 14, 10, tzinfo=UTC)
    ]
    assert len(pm10) == len(recorded) >= 3
    assert [(t - today, v) for t, v in pm10] == [
        (t - datetime(2017, 11, 15, tzinfo=UTC), v) for t, v in recorded
    ]
    # the next day plays the same again
    tomorrow = due(
        series,
        period,
        1.0,
        today + timedelta(days=1, hours=14),
        today + timedelta(days=1, hours=14, minutes=10),
    )
    assert [i.result for i in tomorrow] == [i.result for i in items]
    # a day covers every reading once; adjacent windows split it without gaps or repeats
    day = due(series, period, 1.0, today, today + timedelta(days=1))
    assert len(day) == 4 * 583
    noon = today + timedelta(hours=12)
    halves = due(series, period, 1.0, today, noon) + due(
        series, period, 1.0, noon, today + timedelta(days=1)
    )
    assert sorted((i.datastream, i.phenomenon_time) for i in halves) == sorted(
        (i.datastream, i.phenomenon_time) for i in day
    )


def test_accelerated_replay_plays_a_day_in_minutes() -> None:
    series, period = load_series()
    start = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
    loop = due(series, period, 60.0, start, start + timedelta(minutes=24))  # 24 h / 60
    assert len(loop) == 4 * 583
    times = [i.phenomenon_time for i in loop if i.datastream == "aberdeen-5331-pm10"]
    steps = sorted((b - a).total_seconds() for a, b in itertools.pairwise(times))
    assert 2.3 <= steps[len(steps) // 2] <= 2.7  # 150 s recorded, 2.5 s replayed
    # deterministic: the same reading lands on the same time whenever the replay starts
    again = due(series, period, 60.0, start + timedelta(minutes=5), start + timedelta(minutes=6))
    assert {(i.datastream, i.phenomenon_time) for i in again} <= {
        (i.datastream, i.phenomenon_time) for i in loop
    }
    assert all(i.phenomenon_time.microsecond % 1000 == 0 for i in loop)
    assert EPOCH.tzinfo is UTC


def test_replay_creates_its_datastreams_and_stores_shifted_readings(database_url: str) -> None:
    db = Database(database_url)
    db.setup()
    try:
        replay = Replay(db_sink(db.sessions), db.sessions)
        ids = replay.setup()
        assert replay.setup() == ids  # idempotent
        assert set(ids) == {ch.spec.key for ch in CHANNELS}
        with db.session() as s:
            streams = s.scalars(select(Datastream).order_by(Datastream.key)).all()
            assert len(streams) == 4
            for ds in streams:
                assert ds.replay is True
                assert ds.visibility == "public"
                assert ds.organisation == DEMO_CODE
                assert "replay of recorded data, Aberdeen 2017-11-15" in ds.name
                assert ds.thing.layer == "demo"
            things = s.scalars(select(Thing)).all()
            assert len(things) == 2
            assert {t.object_id for t in things} == {
                "b1105d28c-00ba-11e6-b420-2bdcc4ab5d7f",
                "b1128007f-00ba-11e6-b420-2bdcc4ab5d7f",
            }
            for t in things:  # placed in Delft's demo city, not in Aberdeen
                assert t.location is not None
                assert 4.35 < t.location.lon < 4.38
                assert 51.99 < t.location.lat < 52.02
            pm10 = next(ds for ds in streams if ds.key == "aberdeen-5331-pm10")
            assert (pm10.warning_level, pm10.alarm_level, pm10.unit_symbol) == (
                45.0,
                100.0,
                "µg/m³",
            )
            temp = next(ds for ds in streams if ds.key == "aberdeen-5332-temperature")
            assert (temp.warning_level, temp.alarm_level, temp.direction) == (3.0, 0.0, "below")

        now = datetime.now(UTC)
        start = now - timedelta(minutes=10)
        stored = asyncio.run(replay.step(start, now))
        # a reading every 146-151 s per datastream (once a day a 307 s gap)
        assert 4 * 2 <= stored <= 4 * 5
        assert asyncio.run(replay.step(start, now)) == 0  # the same window again: duplicates
        assert replay.stats.duplicates == stored
        with db.session() as s:
            rows = s.execute(
                select(Observation.phenomenon_time, Observation.result, Datastream.key).join(
                    Datastream, Datastream.id == Observation.datastream_id
                )
            ).all()
            latest = s.scalars(
                select(Datastream).where(Datastream.key == "aberdeen-5331-pm10")
            ).one()
        assert len(rows) == stored
        assert all(start < t <= now for t, _, _ in rows)
        recorded = {
            (r.time - datetime(2017, 11, 15, tzinfo=UTC)).total_seconds(): r.values["P1"]
            for r in read_sensor_community_csv(DEMO_SENSORS / SDS_FILE)
        }
        midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
        for t, value, key in rows:
            if key == "aberdeen-5331-pm10":
                offset = (t - midnight).total_seconds() % 86400
                assert recorded[offset] == value
        assert latest.latest_time is not None
        assert now - timedelta(minutes=3) < latest.latest_time <= now
        assert latest.latest_state in ("ok", "warning", "alarm")
    finally:
        db.dispose()


def test_replay_speed_is_checked() -> None:
    with pytest.raises(ValueError, match="speed"):
        Replay(lambda items: [], None, speed=0)


def test_replay_run_backfills_then_follows_the_clock(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'twin.db'}")
    db.setup()
    replay = Replay(db_sink(db.sessions), db.sessions, speed=600, tick=0.1)

    async def scenario() -> tuple[int, int]:
        stop = asyncio.Event()
        task = asyncio.create_task(replay.run(stop))
        while replay.stats.stored < 4 * 583:  # the backfill: one loop (144 s at 600x)
            await asyncio.sleep(0.05)
        after_backfill = replay.stats.stored
        await asyncio.sleep(1.0)  # 1 s at 600x is 10 recorded minutes: ~4 per datastream
        stop.set()
        await asyncio.wait_for(task, 10)
        return after_backfill, replay.stats.stored

    try:
        backfilled, total = asyncio.run(asyncio.wait_for(scenario(), 60))
        assert backfilled >= 4 * 583
        assert total > backfilled
        with db.session() as s:
            count = s.scalar(select(func.count()).select_from(Observation))
            newest = s.scalar(select(func.max(Observation.phenomenon_time)))
        assert count == total
        assert newest is not None
        assert newest <= datetime.now(UTC)
        assert newest > datetime.now(UTC) - timedelta(seconds=10)
    finally:
        db.dispose()
