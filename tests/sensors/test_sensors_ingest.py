"""Ingestion through ``layers.sensors.service.ingest`` on SQLite and PostgreSQL: per-item
validation, idempotency, out-of-order observations, thresholds, permissions, retention."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from fastapi import FastAPI
from sqlalchemy import func, select

from layers.sensors import keys
from layers.sensors.contract import IncomingObservation as Obs
from layers.sensors.models import Datastream, Observation
from layers.sensors.service import Thresholds, delete_expired, ingest

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def _ingest(app: FastAPI, items: list[Obs], **kw: object) -> list:
    with app.state.db.session() as db:
        out = ingest(db, items, now=NOW, **kw)  # type: ignore[arg-type]
        db.commit()
        return out


def _rows(app: FastAPI, ds_id: int) -> list[tuple[datetime, float, str | None]]:
    with app.state.db.session() as db:
        return [
            (o.phenomenon_time, o.result, o.state)
            for o in db.scalars(
                select(Observation)
                .where(Observation.datastream_id == ds_id)
                .order_by(Observation.phenomenon_time)
            )
        ]


def _latest(app: FastAPI, ds_id: int) -> tuple[int | None, datetime | None, float | None]:
    with app.state.db.session() as db:
        ds = db.get(Datastream, ds_id)
        assert ds is not None
        return ds.latest_id, ds.latest_time, ds.latest_result


def test_bad_items_fail_alone(sensor_app: FastAPI, make_datastream: Callable[..., int]) -> None:
    ds = make_datastream("pm10")
    t = NOW - timedelta(minutes=10)
    items = [
        Obs("pm10", 12.5, t),
        Obs("nope", 1.0, t),
        Obs(99999, 1.0, t),
        Obs(ds, "12.5", t),
        Obs(ds, float("nan"), t),
        Obs(ds, float("inf"), t),
        Obs(ds, 1e308, t),
        Obs(ds, True, t),
        Obs(ds, None, t),
        Obs(ds, 1.0, NOW + timedelta(minutes=6)),
        Obs(ds, 1.0, datetime(2026, 6, 1, 11, 0)),  # naive: refused, not guessed
        Obs(ds, 7, t + timedelta(seconds=1)),
    ]
    results = _ingest(sensor_app, items)
    codes = [r.code for r in results]
    assert codes == [
        None,
        "unknown_datastream",
        "unknown_datastream",
        "bad_result",
        "bad_result",
        "bad_result",
        "bad_result",
        "bad_result",
        "bad_result",
        "future_time",
        "bad_time",
        None,
    ]
    assert [r.index for r in results] == list(range(len(items)))
    assert all(r.message for r in results if not r.ok)
    assert [(pt, v) for pt, v, _ in _rows(sensor_app, ds)] == [
        (t, 12.5),
        (t + timedelta(seconds=1), 7.0),
    ]
    # within the allowed skew (5 minutes) a slightly-ahead clock is fine
    assert _ingest(sensor_app, [Obs(ds, 1.0, NOW + timedelta(minutes=4))])[0].ok


def test_idempotent_by_time_and_by_key(
    sensor_app: FastAPI, make_datastream: Callable[..., int]
) -> None:
    ds = make_datastream("temp")
    t = NOW - timedelta(hours=1)
    first = _ingest(
        sensor_app,
        [
            Obs(ds, 1.0, t),
            Obs(ds, 2.0, t, idempotency_key="msg-1"),
            Obs(ds, 1.0, t),  # repeated inside the batch
        ],
    )
    assert [r.ok for r in first] == [True, True, True]
    assert [r.duplicate for r in first] == [False, False, True]
    assert first[2].observation_id == first[0].observation_id
    again = _ingest(
        sensor_app,
        [
            Obs("temp", 1.0, t),
            # same key, other time and value: the key is the identity
            Obs(ds, 5.0, t + timedelta(minutes=1), idempotency_key="msg-1"),
            Obs(ds, 3.0, t + timedelta(minutes=2)),
        ],
    )
    assert [r.duplicate for r in again] == [True, True, False]
    assert again[0].observation_id == first[0].observation_id
    assert again[1].observation_id == first[1].observation_id
    assert sorted(v for _, v, _ in _rows(sensor_app, ds)) == [1.0, 2.0, 3.0]


def test_out_of_order_latest_moves_forward_only(
    sensor_app: FastAPI, make_datastream: Callable[..., int]
) -> None:
    ds = make_datastream("level")
    t0 = NOW - timedelta(hours=3)
    new = _ingest(sensor_app, [Obs(ds, 30.0, t0 + timedelta(hours=2))])[0]
    assert _latest(sensor_app, ds) == (new.observation_id, t0 + timedelta(hours=2), 30.0)
    late = _ingest(sensor_app, [Obs(ds, 10.0, t0), Obs(ds, 20.0, t0 + timedelta(hours=1))])
    assert all(r.ok and not r.duplicate for r in late)
    assert _latest(sensor_app, ds) == (new.observation_id, t0 + timedelta(hours=2), 30.0)
    assert [v for _, v, _ in _rows(sensor_app, ds)] == [10.0, 20.0, 30.0]
    newer = _ingest(sensor_app, [Obs(ds, 40.0, t0 + timedelta(hours=2, seconds=1))])[0]
    assert _latest(sensor_app, ds)[0] == newer.observation_id


def test_thresholds_states(sensor_app: FastAPI, make_datastream: Callable[..., int]) -> None:
    up = make_datastream("no2", thresholds={"warning": 40, "alarm": 100, "direction": "above"})
    down = make_datastream("water", thresholds={"warning": 1.0, "alarm": 0.5, "direction": "below"})
    none = make_datastream("plain")
    t = NOW - timedelta(minutes=30)
    values = [10.0, 40.0, 99.9, 100.0, 250.0]
    _ingest(sensor_app, [Obs(up, v, t + timedelta(seconds=i)) for i, v in enumerate(values)])
    assert [s for _, _, s in _rows(sensor_app, up)] == [
        "ok",
        "warning",
        "warning",
        "alarm",
        "alarm",
    ]
    levels = [2.0, 1.0, 0.7, 0.5, 0.1]
    _ingest(sensor_app, [Obs(down, v, t + timedelta(seconds=i)) for i, v in enumerate(levels)])
    assert [s for _, _, s in _rows(sensor_app, down)] == [
        "ok",
        "warning",
        "warning",
        "alarm",
        "alarm",
    ]
    _ingest(sensor_app, [Obs(none, 1e6, t)])
    assert [s for _, _, s in _rows(sensor_app, none)] == [None]
    with sensor_app.state.db.session() as db:
        ds = db.get(Datastream, up)
        assert ds is not None
        assert ds.latest_state == "alarm"
        assert ds.latest_result == 250.0
    # only a warning level: never alarm
    assert Thresholds(5.0, None).state(1e9) == "warning"


def test_source_permissions(
    sensor_app: FastAPI,
    make_datastream: Callable[..., int],
    make_source: Callable[..., tuple[str, int]],
) -> None:
    hbg = make_datastream("hbg-a")
    hbg_b = make_datastream("hbg-b")
    lsk = make_datastream("lsk-a", organisation="1282")
    _, org_wide = make_source("hbg-gateway")
    _, only_b = make_source("hbg-only-b", datastreams=["hbg-b"])
    t = NOW - timedelta(minutes=1)
    r = _ingest(sensor_app, [Obs(hbg, 1, t), Obs(lsk, 1, t)], source_id=org_wide)
    assert [x.code for x in r] == [None, "forbidden"]
    r = _ingest(sensor_app, [Obs(hbg, 2, t), Obs(hbg_b, 2, t)], source_id=only_b)
    assert [x.code for x in r] == ["forbidden", None]
    with sensor_app.state.db.session() as db:
        keys.revoke(db, keys.find_source(db, "hbg-gateway"))
        db.commit()
    r = _ingest(sensor_app, [Obs(hbg, 3, t - timedelta(seconds=5))], source_id=org_wide)
    assert r[0].code == "forbidden"
    assert len(_rows(sensor_app, lsk)) == 0
    assert len(_rows(sensor_app, hbg)) == 1


def test_big_batch_in_chunks(sensor_app: FastAPI, make_datastream: Callable[..., int]) -> None:
    """More rows than one INSERT carries; a re-send answers every item with the same id."""
    ds = make_datastream("fast")
    t0 = NOW - timedelta(days=1)
    items = [Obs(ds, float(i), t0 + timedelta(seconds=i)) for i in range(2500)]
    first = _ingest(sensor_app, items)
    ids = [r.observation_id for r in first]
    assert all(r.ok and not r.duplicate for r in first)
    assert len(set(ids)) == 2500
    again = _ingest(sensor_app, items[::-1])
    assert all(r.duplicate for r in again)
    assert [r.observation_id for r in again] == ids[::-1]
    with sensor_app.state.db.session() as db:
        count = db.scalar(select(func.count()).select_from(Observation))
    assert count == 2500
    assert _latest(sensor_app, ds)[2] == 2499.0


def test_retention(sensor_app: FastAPI, make_datastream: Callable[..., int]) -> None:
    ds = make_datastream("old")
    _ingest(
        sensor_app,
        [Obs(ds, float(d), NOW - timedelta(days=d, minutes=1)) for d in (0, 5, 10, 40)],
    )
    with sensor_app.state.db.session() as db:
        assert delete_expired(db, 0, now=NOW) == 0  # 0 keeps everything
        assert delete_expired(db, 7, now=NOW) == 2
        db.commit()
    assert sorted(v for _, v, _ in _rows(sensor_app, ds)) == [0.0, 5.0]
    assert _latest(sensor_app, ds)[2] == 0.0
