"""Reading sensors: datastreams as the API gives them, history with downsampling, and the
observations a live stream sends next. Visibility is applied here, through
:mod:`layers.sensors.rules`, on every read.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Float, Integer, cast, func, select
from sqlalchemy.orm import Session

from ..catalogue.rules import Principal
from .errors import DatastreamNotFound, InvalidSensorData
from .models import Datastream, Observation
from .rules import Action, can, visible_filter

DEFAULT_RANGE = timedelta(hours=24)
DEFAULT_MAX_POINTS = 1000
MAX_POINTS_CAP = 10_000
STREAM_BATCH = 500


def iso(dt: datetime | None) -> str | None:
    return dt.isoformat() if dt is not None else None


def datastream_json(ds: Datastream) -> dict[str, Any]:
    """The API's shape of a datastream (``D`` in docs/SENSORS.md)."""
    thing = ds.thing
    location = thing.location.location if thing.location is not None else None
    latest = None
    if ds.latest_id is not None:
        latest = {
            "id": ds.latest_id,
            "phenomenon_time": iso(ds.latest_time),
            "result": ds.latest_result,
            "state": ds.latest_state,
        }
    return {
        "id": ds.id,
        "key": ds.key,
        "name": ds.name,
        "description": ds.description,
        "unit": {
            "name": ds.unit_name,
            "symbol": ds.unit_symbol,
            "definition": ds.unit_definition,
        },
        "observation_type": ds.observation_type,
        "observed_property": {
            "id": ds.observed_property.id,
            "name": ds.observed_property.name,
            "definition": ds.observed_property.definition,
        },
        "sensor": {"id": ds.sensor.id, "name": ds.sensor.name},
        "thing": {
            "id": thing.id,
            "name": thing.name,
            "location": location,
            "layer": thing.layer,
            "object_id": thing.object_id,
            "project_id": thing.project_id,
        },
        "visibility": ds.visibility,
        "organisation": ds.organisation,
        "replay": ds.replay,
        "thresholds": {
            "warning": ds.warning_level,
            "alarm": ds.alarm_level,
            "direction": ds.direction,
        },
        "latest": latest,
    }


def list_datastreams(session: Session, principal: Principal) -> list[Datastream]:
    """Every datastream ``principal`` may see, by id (one query with its relations)."""
    return list(
        session.scalars(
            select(Datastream).where(visible_filter(principal)).order_by(Datastream.id)
        ).unique()
    )


def get_datastream(session: Session, principal: Principal, ref: int | str) -> Datastream:
    """A datastream by id or key; :class:`DatastreamNotFound` when absent or not visible."""
    where = Datastream.id == ref if isinstance(ref, int) else Datastream.key == ref
    ds = session.scalars(select(Datastream).where(where)).unique().one_or_none()
    if ds is None or not can(
        principal, Action.VIEW, organisation=ds.organisation, public=ds.public
    ):
        raise DatastreamNotFound(f"no datastream {ref!r}")
    return ds


@dataclass(frozen=True)
class History:
    datastream_id: int
    start: datetime
    end: datetime
    bucket_seconds: int | None
    observations: list[dict[str, Any]]

    def as_json(self) -> dict[str, Any]:
        return {
            "datastream_id": self.datastream_id,
            "from": iso(self.start),
            "to": iso(self.end),
            "downsampled": self.bucket_seconds is not None,
            "bucket_seconds": self.bucket_seconds,
            "observations": self.observations,
        }


def _epoch_seconds(session: Session, column: Any) -> ColumnElement[float]:
    """Seconds since 1970 of a timestamp column, in SQL, on SQLite and PostgreSQL."""
    if session.get_bind().dialect.name == "sqlite":
        return (func.julianday(column) - 2440587.5) * 86400.0
    return cast(func.extract("epoch", column), Float)


def _bucket_index(session: Session, offset: ColumnElement[float]) -> ColumnElement[int]:
    """floor(offset) for offset >= 0 (SQLite's CAST truncates; PostgreSQL's rounds)."""
    if session.get_bind().dialect.name == "sqlite":
        return cast(offset, Integer)
    return cast(func.floor(offset), Integer)


def history(
    session: Session,
    ds: Datastream,
    start: datetime,
    end: datetime,
    max_points: int = DEFAULT_MAX_POINTS,
) -> History:
    """Observations of ``ds`` with ``start <= phenomenon time < end``, oldest first.

    When there are more than ``max_points``, the range is cut into equal buckets of whole
    seconds (at most ``max_points`` of them, starting at ``start``) and each non-empty one
    is answered as min, mean, max and count, computed by the database.
    """
    if end <= start:
        raise InvalidSensorData("'from' must be before 'to'", field="from")
    if not 1 <= max_points <= MAX_POINTS_CAP:
        raise InvalidSensorData(
            f"max_points must be between 1 and {MAX_POINTS_CAP}", field="max_points"
        )
    in_range = (
        Observation.datastream_id == ds.id,
        Observation.phenomenon_time >= start,
        Observation.phenomenon_time < end,
    )
    count = session.scalar(select(func.count()).select_from(Observation).where(*in_range)) or 0
    if count <= max_points:
        rows = session.execute(
            select(Observation.phenomenon_time, Observation.result)
            .where(*in_range)
            .order_by(Observation.phenomenon_time)
        )
        points = [{"t": iso(t), "result": r} for t, r in rows]
        return History(ds.id, start, end, None, points)
    span = (end - start).total_seconds()
    bucket = max(1, math.ceil(span / max_points))
    start_epoch = start.timestamp()
    offset = (_epoch_seconds(session, Observation.phenomenon_time) - start_epoch) / bucket
    index = _bucket_index(session, offset).label("bucket")
    grouped = session.execute(
        select(
            index,
            func.min(Observation.result),
            func.avg(Observation.result),
            func.max(Observation.result),
            func.count(),
        )
        .where(*in_range)
        .group_by(index)
        .order_by(index)
    )
    buckets = [
        {
            "t": iso(start + timedelta(seconds=int(i) * bucket)),
            "min": lo,
            "mean": float(mean),
            "max": hi,
            "count": n,
        }
        for i, lo, mean, hi, n in grouped
    ]
    return History(ds.id, start, end, bucket, buckets)


def observations_after(
    session: Session, principal: Principal, after: int, limit: int = STREAM_BATCH
) -> list[dict[str, Any]]:
    """The next observations (by id) that ``principal`` may see: the stream's one query.

    Uses the primary key (``id > after``) and the datastream's visibility.
    """
    rows = session.execute(
        select(
            Observation.id,
            Observation.datastream_id,
            Observation.phenomenon_time,
            Observation.result,
            Observation.state,
        )
        .join(Datastream, Datastream.id == Observation.datastream_id)
        .where(Observation.id > after, visible_filter(principal))
        .order_by(Observation.id)
        .limit(limit)
    )
    return [
        {
            "datastream_id": ds_id,
            "id": oid,
            "phenomenon_time": iso(pt),
            "result": result,
            "state": state,
        }
        for oid, ds_id, pt, result, state in rows
    ]


def last_observation_id(session: Session) -> int:
    """The newest observation id (a stream without Last-Event-ID starts after it)."""
    return int(session.scalar(select(func.max(Observation.id))) or 0)
