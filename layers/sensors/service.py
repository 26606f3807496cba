"""Ingestion: validate observations per item, store them idempotently, evaluate thresholds.

Every source (HTTP push, MQTT, SensorThings pull, demo replay) calls :func:`ingest` with
:class:`~layers.sensors.contract.IncomingObservation` items; see that module for the
contract. Rules, per item (one bad item never rejects the batch):

- the datastream is named by id (int) or key (str); unknown → ``unknown_datastream``;
  a source that may not write it → ``forbidden``;
- the result must be a finite number (bool, strings, NaN, ±inf refused) with
  ``|result| <= MAX_ABS_RESULT`` → else ``bad_result``;
- timestamps must be timezone-aware: a naive one is refused (``bad_time``) rather than
  guessed, since a local time taken for UTC silently shifts data by hours; no
  phenomenon time means "now"; more than :data:`FUTURE_SKEW` ahead → ``future_time``;
- re-sending an observation stores nothing new and answers ``duplicate=True`` with the
  stored id: the identity is (datastream, idempotency key), or (datastream, phenomenon
  time) when the source gives no key;
- late (out-of-order) observations are stored; the datastream's "latest" only moves
  forward in phenomenon time.

A batch costs one query to resolve its datastreams, multi-row
``INSERT .. ON CONFLICT DO NOTHING RETURNING`` statements, one query for duplicates' ids
and one conditional ``UPDATE`` per datastream whose latest moved. The caller commits.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Insert, delete, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from .contract import IncomingObservation, ItemResult
from .models import Datastream, IngestSource, Observation

#: How far ahead of the server's clock a phenomenon time may be (clock skew).
FUTURE_SKEW = timedelta(minutes=5)
#: Larger magnitudes are refused as sensor garbage (1e308 is finite but not a reading).
MAX_ABS_RESULT = 1e15
#: Rows per INSERT statement (SQLite allows 32,766 bound parameters; 8 per row).
CHUNK = 1000
MAX_KEY_LENGTH = 200


@dataclass(frozen=True)
class Thresholds:
    warning: float | None
    alarm: float | None
    direction: str = "above"

    def state(self, value: float) -> str | None:
        """``alarm``/``warning`` when the value reaches that level (inclusive), else ``ok``;
        None when the datastream has no thresholds."""
        if self.warning is None and self.alarm is None:
            return None

        def reached(level: float | None) -> bool:
            if level is None:
                return False
            return value >= level if self.direction == "above" else value <= level

        if reached(self.alarm):
            return "alarm"
        if reached(self.warning):
            return "warning"
        return "ok"


def thresholds_of(ds: Datastream) -> Thresholds:
    return Thresholds(ds.warning_level, ds.alarm_level, ds.direction)


def _fail(index: int, code: str, message: str) -> ItemResult:
    return ItemResult(index=index, ok=False, code=code, message=message)


def _check_time(value: object, name: str) -> datetime:
    if not isinstance(value, datetime):
        raise ValueError(f"{name} must be a timezone-aware datetime")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} has no UTC offset: give one (e.g. 'Z' or '+01:00')")
    return value.astimezone(UTC)


def _result_value(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"the result must be a number, not {type(value).__name__}")
    try:
        number = float(value)
    except OverflowError:
        raise ValueError("the result is too large") from None
    if not math.isfinite(number):
        raise ValueError("the result must be a finite number (not NaN or infinity)")
    if abs(number) > MAX_ABS_RESULT:
        raise ValueError(f"the result's magnitude is above {MAX_ABS_RESULT:g}")
    return number


def _resolve(session: Session, items: Sequence[IncomingObservation]) -> dict[int | str, Datastream]:
    """Every datastream the batch names, by id and by key, in one query."""
    ids = {i.datastream for i in items if isinstance(i.datastream, int)}
    keys = {i.datastream for i in items if isinstance(i.datastream, str)}
    ids = {i for i in ids if not isinstance(i, bool) and -(2**31) < i < 2**31}
    if not ids and not keys:
        return {}
    rows = session.scalars(
        select(Datastream).where(or_(Datastream.id.in_(ids), Datastream.key.in_(keys)))
    ).unique()
    found: dict[int | str, Datastream] = {}
    for ds in rows:
        found[ds.id] = ds
        found[ds.key] = ds
    return found


def may_write(source: IngestSource | None, ds: Datastream) -> bool:
    """Whether ``source`` may write ``ds`` (None: a trusted internal source)."""
    if source is None:
        return True
    if source.datastream_ids is not None:
        return ds.id in source.datastream_ids
    return ds.organisation == source.organisation


def _insert(session: Session) -> Any:
    name = session.get_bind().dialect.name
    if name == "postgresql":
        return postgresql.insert
    if name == "sqlite":
        return sqlite.insert
    raise NotImplementedError(f"ingest supports SQLite and PostgreSQL, not {name}")


def ingest(
    session: Session,
    items: Sequence[IncomingObservation],
    *,
    source_id: int | None = None,
    now: datetime | None = None,
) -> list[ItemResult]:
    """Store ``items``; one :class:`ItemResult` per item, in order. The caller commits."""
    now = (now or datetime.now(UTC)).astimezone(UTC)
    source = session.get(IngestSource, source_id) if source_id is not None else None
    if source_id is not None and (source is None or source.revoked_at is not None):
        return [
            _fail(i, "forbidden", "the ingest source is unknown or revoked")
            for i in range(len(items))
        ]
    datastreams = _resolve(session, items)
    results: dict[int, ItemResult] = {}
    rows: list[dict[str, Any]] = []
    row_index: list[int] = []
    identities: dict[tuple[int, str | datetime], int] = {}  # identity -> first index
    repeats: dict[int, int] = {}  # index -> index of the same observation earlier in the batch
    rules_of: dict[int, Thresholds] = {}
    for index, item in enumerate(items):
        ds = datastreams.get(item.datastream) if not isinstance(item.datastream, bool) else None
        if ds is None:
            results[index] = _fail(
                index, "unknown_datastream", f"no datastream {item.datastream!r}"
            )
            continue
        if not may_write(source, ds):
            results[index] = _fail(
                index, "forbidden", f"this source may not write datastream {ds.key!r}"
            )
            continue
        try:
            value = _result_value(item.result)
        except ValueError as exc:
            results[index] = _fail(index, "bad_result", str(exc))
            continue
        try:
            pt = (
                _check_time(item.phenomenon_time, "phenomenonTime") if item.phenomenon_time else now
            )
            rt = _check_time(item.result_time, "resultTime") if item.result_time else pt
        except ValueError as exc:
            results[index] = _fail(index, "bad_time", str(exc))
            continue
        if pt > now + FUTURE_SKEW:
            results[index] = _fail(
                index,
                "future_time",
                f"phenomenonTime {pt.isoformat()} is more than "
                f"{int(FUTURE_SKEW.total_seconds() // 60)} minutes in the future",
            )
            continue
        key = item.idempotency_key
        if key is not None and (not isinstance(key, str) or not 0 < len(key) <= MAX_KEY_LENGTH):
            results[index] = _fail(
                index, "bad_item", f"an observation id is a string of 1-{MAX_KEY_LENGTH} characters"
            )
            continue
        identity: tuple[int, str | datetime] = (ds.id, key if key is not None else pt)
        if identity in identities:
            repeats[index] = identities[identity]
            continue
        identities[identity] = index
        rows.append(
            {
                "datastream_id": ds.id,
                "phenomenon_time": pt,
                "result_time": rt,
                "result": value,
                "state": rules_of.setdefault(ds.id, thresholds_of(ds)).state(value),
                "idempotency_key": key,
                "received_at": now,
            }
        )
        row_index.append(index)
    inserted = _insert_rows(session, rows)
    _finish(session, rows, row_index, inserted, results)
    for index, first in repeats.items():
        earlier = results[first]
        results[index] = (
            ItemResult(index=index, ok=True, observation_id=earlier.observation_id, duplicate=True)
            if earlier.ok
            else ItemResult(index=index, ok=False, code=earlier.code, message=earlier.message)
        )
    _move_latest(session, rows, inserted, {ds.id: ds for ds in datastreams.values()})
    return [results[i] for i in range(len(items))]


def _identity(row: dict[str, Any]) -> tuple[int, str | datetime]:
    key = row["idempotency_key"]
    return (row["datastream_id"], key if key is not None else row["phenomenon_time"])


def _insert_rows(session: Session, rows: list[dict[str, Any]]) -> dict[tuple[int, Any], int]:
    """Insert what is new; the identities of the inserted rows mapped to their ids."""
    if not rows:
        return {}
    table = Observation.__table__
    stmt: Insert = (
        _insert(session)(table)
        .on_conflict_do_nothing()
        .returning(
            table.c.id, table.c.datastream_id, table.c.phenomenon_time, table.c.idempotency_key
        )
    )
    # Core executemany: SQLAlchemy's "insertmanyvalues" sends multi-row INSERTs of one
    # cached statement (compiling .values(rows) per batch would cost more than the insert).
    connection = session.connection()
    inserted: dict[tuple[int, Any], int] = {}
    for start in range(0, len(rows), CHUNK):
        for oid, ds_id, pt, key in connection.execute(stmt, rows[start : start + CHUNK]):
            inserted[(ds_id, key if key is not None else pt.astimezone(UTC))] = oid
    return inserted


def _finish(
    session: Session,
    rows: list[dict[str, Any]],
    row_index: list[int],
    inserted: dict[tuple[int, Any], int],
    results: dict[int, ItemResult],
) -> None:
    """Results for the rows: inserted ones with their new id, the rest as duplicates."""
    missing = [row for row in rows if _identity(row) not in inserted]
    existing = _existing_ids(session, missing)
    for row, index in zip(rows, row_index, strict=True):
        identity = _identity(row)
        if identity in inserted:
            results[index] = ItemResult(index=index, ok=True, observation_id=inserted[identity])
        else:
            results[index] = ItemResult(
                index=index, ok=True, observation_id=existing.get(identity), duplicate=True
            )


def _existing_ids(session: Session, rows: list[dict[str, Any]]) -> dict[tuple[int, Any], int]:
    """The stored ids of observations that were already there (per datastream, chunked)."""
    by_ds: dict[int, tuple[set[str], set[datetime]]] = {}
    for row in rows:
        keys, times = by_ds.setdefault(row["datastream_id"], (set(), set()))
        if row["idempotency_key"] is not None:
            keys.add(row["idempotency_key"])
        else:
            times.add(row["phenomenon_time"])
    found: dict[tuple[int, Any], int] = {}
    cols = (Observation.id, Observation.phenomenon_time, Observation.idempotency_key)
    for ds_id, (keys, times) in by_ds.items():
        key_list, time_list = sorted(keys), sorted(times)
        for start in range(0, len(key_list), CHUNK):
            part = key_list[start : start + CHUNK]
            for oid, _pt, key in session.execute(
                select(*cols).where(
                    Observation.datastream_id == ds_id, Observation.idempotency_key.in_(part)
                )
            ):
                found[(ds_id, key)] = oid
        for start in range(0, len(time_list), CHUNK):
            tpart = time_list[start : start + CHUNK]
            for oid, pt, _key in session.execute(
                select(*cols).where(
                    Observation.datastream_id == ds_id,
                    Observation.idempotency_key.is_(None),
                    Observation.phenomenon_time.in_(tpart),
                )
            ):
                found[(ds_id, pt.astimezone(UTC))] = oid
    return found


def _move_latest(
    session: Session,
    rows: list[dict[str, Any]],
    inserted: dict[tuple[int, Any], int],
    datastreams: dict[int, Datastream],
) -> None:
    """Move each datastream's latest forward to its newest inserted observation.

    A conditional UPDATE (only where the stored latest is older), so concurrent ingests
    and late observations never move it backwards.
    """
    newest: dict[int, dict[str, Any]] = {}
    for row in rows:
        oid = inserted.get(_identity(row))
        if oid is None:
            continue
        best = newest.get(row["datastream_id"])
        if best is None or row["phenomenon_time"] > best["phenomenon_time"]:
            newest[row["datastream_id"]] = {**row, "id": oid}
    for ds_id, row in newest.items():
        session.execute(
            update(Datastream)
            .where(
                Datastream.id == ds_id,
                or_(
                    Datastream.latest_time.is_(None),
                    Datastream.latest_time < row["phenomenon_time"],
                ),
            )
            .values(
                latest_id=row["id"],
                latest_time=row["phenomenon_time"],
                latest_result=row["result"],
                latest_state=row["state"],
            )
            .execution_options(synchronize_session=False)
        )
        ds = datastreams.get(ds_id)
        if ds is not None:
            session.expire(ds)


def delete_expired(session: Session, days: int, *, now: datetime | None = None) -> int:
    """Delete observations whose phenomenon time is older than ``days`` (0: keep all).

    Datastreams keep their denormalised latest value even when it is older. The caller
    commits; the number of deleted observations is returned.
    """
    if days <= 0:
        return 0
    cutoff = (now or datetime.now(UTC)) - timedelta(days=days)
    result = session.execute(
        delete(Observation)
        .where(Observation.phenomenon_time < cutoff)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)
