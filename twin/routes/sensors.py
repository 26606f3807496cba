"""Sensors over HTTP (see docs/SENSORS.md).

- ``GET /api/datastreams``, ``GET /api/datastreams/{id}`` (id or key), ``POST
  /api/datastreams`` and ``PATCH /api/datastreams/{id}`` (editors of the owning
  organisation, administrators; CSRF like every session-authenticated change);
- ``GET /api/datastreams/{id}/observations?from=&to=&max_points=``: history, downsampled
  to min/mean/max/count per time bucket (in SQL) when the range holds more points;
- ``POST /api/ingest`` with ``Authorization: Bearer <source key>``: one observation or
  ``{"observations": [...]}``, answered per item;
- ``GET /api/sensors/stream``: server-sent events of new observations, polled from the
  database so any number of app processes can serve streams.

Who sees what is decided in :mod:`layers.sensors.rules`; errors go through the app's one
exception handler.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from layers.catalogue.rules import Principal
from layers.sensors import api_models as api
from layers.sensors import datastreams as ds_service
from layers.sensors import keys, queries
from layers.sensors.contract import IncomingObservation, ItemResult
from layers.sensors.errors import InvalidSensorData
from layers.sensors.service import ingest as ingest_items
from layers.sensors.stream import StreamCursor

from ..auth.deps import DbSession, LoggedInDep, PrincipalDep
from ..errors import InvalidRequest, PayloadTooLarge, RateLimited
from . import sse
from .deps import SettingsDep
from .limits import read_body

router = APIRouter(tags=["sensors"])

DatastreamRef = Annotated[
    str, Path(description="The datastream's numeric id or its unique key.", max_length=100)
]
#: Bytes allowed per observation in an ingest body (a generous JSON object).
BYTES_PER_ITEM = 512
STREAM_POLL_SECONDS = 0.5
MAX_ID = 2**63 - 1


def _ref(value: str) -> int | str:
    return int(value) if value.isdigit() and len(value) < 10 else value


@router.get(
    "/api/datastreams",
    response_model=api.DatastreamList,
    summary="The datastreams you may see, with their latest value",
)
def list_datastreams(db: DbSession, principal: PrincipalDep) -> dict[str, Any]:
    rows = queries.list_datastreams(db, principal)
    return {"datastreams": [queries.datastream_json(ds) for ds in rows]}


@router.get(
    "/api/datastreams/{ref}",
    response_model=api.DatastreamOut,
    summary="One datastream (404 when you may not see it)",
)
def get_datastream(ref: DatastreamRef, db: DbSession, principal: PrincipalDep) -> dict[str, Any]:
    return queries.datastream_json(queries.get_datastream(db, principal, _ref(ref)))


@router.post(
    "/api/datastreams",
    status_code=201,
    response_model=api.DatastreamOut,
    summary="Create a datastream",
)
def create_datastream(
    body: ds_service.DatastreamIn, db: DbSession, principal: LoggedInDep
) -> dict[str, Any]:
    """The thing, sensor and observed property go inline or by ``{"id": n}``."""
    return queries.datastream_json(ds_service.create_datastream(db, principal, body))


@router.patch(
    "/api/datastreams/{ref}",
    response_model=api.DatastreamOut,
    summary="Change name, visibility or thresholds",
)
def patch_datastream(
    ref: DatastreamRef, body: ds_service.DatastreamPatch, db: DbSession, principal: LoggedInDep
) -> dict[str, Any]:
    ds = queries.get_datastream(db, principal, _ref(ref))
    return queries.datastream_json(ds_service.update_datastream(db, principal, ds, body))


def _aware(value: datetime | None, name: str) -> datetime | None:
    if value is not None and value.tzinfo is None:
        raise InvalidSensorData(
            f"'{name}' needs a UTC offset, e.g. 2026-01-01T00:00:00Z", field=name
        )
    return value.astimezone(UTC) if value is not None else None


@router.get(
    "/api/datastreams/{ref}/observations",
    response_model=api.ObservationHistory,
    summary="History: raw observations, or min/mean/max/count per bucket for long ranges",
)
def get_observations(
    ref: DatastreamRef,
    db: DbSession,
    principal: PrincipalDep,
    start: Annotated[
        datetime | None,
        Query(alias="from", description="ISO 8601 with offset; default: 24 h before 'to'."),
    ] = None,
    end: Annotated[
        datetime | None, Query(alias="to", description="ISO 8601 with offset; default: now.")
    ] = None,
    max_points: Annotated[
        int,
        Query(
            ge=1,
            le=queries.MAX_POINTS_CAP,
            description="Above this many observations in the range, answer buckets.",
        ),
    ] = queries.DEFAULT_MAX_POINTS,
) -> dict[str, Any]:
    ds = queries.get_datastream(db, principal, _ref(ref))
    to = _aware(end, "to") or datetime.now(UTC)
    try:
        since = _aware(start, "from") or to - queries.DEFAULT_RANGE
    except OverflowError:
        raise InvalidSensorData("'to' is too early", field="to") from None
    return queries.history(db, ds, since, to, max_points).as_json()


# --- ingest ------------------------------------------------------------------------------


class _BadTime(ValueError):
    """A phenomenonTime or resultTime that is not an ISO 8601 string."""


def _time(raw: object, name: str) -> datetime | None:
    if raw is None:
        return None
    if not isinstance(raw, str) or len(raw) > 64:
        raise _BadTime(f"{name} must be an ISO 8601 string")
    try:
        return datetime.fromisoformat(raw)
    except ValueError:
        raise _BadTime(f"{name} {raw[:40]!r} is not an ISO 8601 time") from None


def _item(raw: object) -> IncomingObservation:
    """One observation of the JSON body; ValueError says what is wrong with it."""
    if not isinstance(raw, dict):
        raise ValueError("an observation is a JSON object")
    ref = raw.get("datastream")
    if isinstance(ref, bool) or not isinstance(ref, int | str):
        raise ValueError("'datastream' (an id or a key) is required")
    key = raw.get("id")
    if key is not None and not isinstance(key, str | int):
        raise ValueError("'id' (the observation's identity) must be a string or an integer")
    return IncomingObservation(
        datastream=ref,
        result=raw.get("result"),
        phenomenon_time=_time(raw.get("phenomenonTime"), "phenomenonTime"),
        result_time=_time(raw.get("resultTime"), "resultTime"),
        idempotency_key=None if key is None else str(key),
    )


def _result_json(r: ItemResult) -> dict[str, Any]:
    out: dict[str, Any] = {"index": r.index, "ok": r.ok}
    if r.ok:
        out["id"] = r.observation_id
        out["duplicate"] = r.duplicate
    else:
        out["code"], out["message"] = r.code, r.message
    return out


def _bearer(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else None


@router.post(
    "/api/ingest",
    response_model=api.IngestOut,
    response_model_exclude_none=True,
    summary="Push observations with a source's API key",
)
async def ingest(request: Request, settings: SettingsDep) -> dict[str, Any]:
    """Body: one observation ``{"datastream": id|key, "result": number, "phenomenonTime"?,
    "resultTime"?, "id"?}`` or ``{"observations": [...]}``. Always 200 with one result per
    item; 401 for a missing, wrong, rotated or revoked key."""
    db = request.app.state.db
    key = _bearer(request)

    def check_key() -> int:
        with db.session() as session:
            source = keys.authenticate(session, key)
            session.commit()
            return source.id

    source_id = await run_in_threadpool(check_key)
    cap = settings.ingest_max_items * BYTES_PER_ITEM + 4096
    await read_body(
        request, cap, lambda: PayloadTooLarge(f"an ingest body has at most {cap:,} bytes")
    )
    try:
        body = json.loads(await request.body())
    except (ValueError, RecursionError):
        raise InvalidRequest("the body is not JSON") from None
    raw_items = body.get("observations") if isinstance(body, dict) else None
    if isinstance(body, dict) and "observations" in body:
        if not isinstance(raw_items, list):
            raise InvalidRequest("'observations' must be a list")
    else:
        raw_items = [body]
    if len(raw_items) > settings.ingest_max_items:
        raise PayloadTooLarge(f"at most {settings.ingest_max_items} observations per request")
    results: dict[int, ItemResult] = {}
    parsed: list[IncomingObservation] = []
    where: list[int] = []
    for index, raw in enumerate(raw_items):
        try:
            parsed.append(_item(raw))
            where.append(index)
        except ValueError as exc:
            code = "bad_time" if isinstance(exc, _BadTime) else "bad_item"
            results[index] = ItemResult(index=index, ok=False, code=code, message=str(exc))

    def store() -> list[ItemResult]:
        with db.session() as session:
            done = ingest_items(session, parsed, source_id=source_id)
            session.commit()
            return done

    for r in await run_in_threadpool(store):
        index = where[r.index]
        results[index] = replace(r, index=index)
    ordered = [results[i] for i in range(len(raw_items))]
    accepted = sum(r.ok for r in ordered)
    return {
        "results": [_result_json(r) for r in ordered],
        "accepted": accepted,
        "failed": len(ordered) - accepted,
    }


# --- live stream -------------------------------------------------------------------------


def _start_after(request: Request, after: int | None) -> int | None:
    header = request.headers.get("last-event-id", "").strip()
    if header:
        if not header.isdigit() or int(header) > MAX_ID:
            raise InvalidRequest("Last-Event-ID must be an observation id")
        return int(header)
    return after


@router.get(
    "/api/sensors/stream",
    summary="Server-sent events: each new observation you may see, with heartbeats",
)
async def stream(
    request: Request,
    settings: SettingsDep,
    db: DbSession,
    principal: PrincipalDep,
    after: Annotated[
        int | None, Query(ge=0, le=MAX_ID, description="Resume after this observation id.")
    ] = None,
) -> StreamingResponse:
    """``id: <observation id>`` / ``event: observation`` / ``data: {"datastream_id", "id",
    "phenomenon_time", "result", "state"}``; a ``: heartbeat`` comment when idle. Resume
    with ``Last-Event-ID`` (browsers send it on reconnect) or ``?after=``; without either
    the stream starts with the next observation."""
    start = _start_after(request, after)
    if start is None:
        start = await run_in_threadpool(queries.last_observation_id, db)
    await run_in_threadpool(db.close)  # no connection held for the stream's lifetime
    if getattr(request.app.state, "sensor_streams", 0) >= settings.sse_max_streams:
        raise RateLimited("too many live streams on this server; retry shortly", retry_after=5)
    return sse.response(
        _counted(request, _events(request, principal, start, settings.sse_heartbeat_seconds))
    )


async def _counted(request: Request, events: AsyncIterator[str]) -> AsyncIterator[str]:
    """``events``, counted in the process's open streams while it runs (counted here,
    not in the route, so a response that never starts is never counted)."""
    state = request.app.state
    state.sensor_streams = getattr(state, "sensor_streams", 0) + 1
    try:
        async for chunk in events:
            yield chunk
    finally:
        state.sensor_streams -= 1


async def _events(
    request: Request, principal: Principal, start: int, heartbeat: float
) -> AsyncIterator[str]:
    db = request.app.state.db
    cursor = StreamCursor(start)

    def poll(after: int) -> list[dict[str, Any]]:
        with db.session() as session:
            return queries.observations_after(session, principal, after)

    yield sse.RETRY
    quiet_since = time.monotonic()
    while True:
        rows = await run_in_threadpool(poll, cursor.watermark)
        fresh = cursor.accept(rows, time.monotonic())
        for row in fresh:
            yield sse.event(json.dumps(row), event_id=row["id"], name="observation")
        now = time.monotonic()
        if fresh:
            quiet_since = now
        elif now - quiet_since >= heartbeat:
            yield sse.HEARTBEAT
            quiet_since = now
        if len(fresh) < queries.STREAM_BATCH:
            await asyncio.sleep(STREAM_POLL_SECONDS)
        if await request.is_disconnected():
            return
