"""Pull an OGC SensorThings API server: its Datastreams, then new Observations.

Each poll lists the server's Datastreams (with Thing, Locations and ObservedProperty) and
gives each a local key, ``sta-<host>-<remote id>``. A local datastream with that key is
fed; when it is missing it is created on first sight (internal, owned by the configured
organisation) or, without an organisation, left out and logged: create it yourself
(``POST /api/datastreams`` with that key) to choose what is pulled.

Observations are fetched incrementally per datastream::

    Datastreams(<id>)/Observations?$filter=phenomenonTime gt <last>
        &$orderby=phenomenonTime asc&$top=<top>

where ``<last>`` is the newest phenomenon time stored locally (at first, ``backfill``
ago). ``@iot.nextLink`` is followed only when it lies under the configured base URL (same
scheme, host, port and path prefix) and for at most ``max_pages`` pages: a link elsewhere
is refused and logged. Errors (timeouts, HTTP errors, bad JSON) back off exponentially
from ``poll_seconds`` up to ``backoff_cap``. The server's ``@iot.id`` of an observation is
its idempotency key, so a re-fetched page stores nothing twice.
"""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from ..contract import IncomingObservation
from ..models import Datastream
from . import Backoff, Sink, SourceStats, sleep_or_stop
from .provision import DatastreamSpec, ensure_datastreams
from .times import iso, parse_time

log = logging.getLogger(__name__)

MAX_RESPONSE_BYTES = 20 * 1024 * 1024
_KEY_CHARS = re.compile(r"[^a-z0-9._-]+")


class StaError(Exception):
    """The server answered something that is not a usable SensorThings response."""


def local_key(base_url: str, remote_id: int | str) -> str:
    """``sta-<host>-<id>``, in the characters datastream keys allow (at most 100)."""
    host = httpx.URL(base_url).host.lower()
    key = _KEY_CHARS.sub("-", f"sta-{host}-{remote_id}".lower()).strip("-")
    return key[:100]


def id_literal(remote_id: int | str) -> str:
    """An entity id in a SensorThings URL: ``12`` or ``'abc'`` (quotes doubled)."""
    if isinstance(remote_id, int):
        return str(remote_id)
    return "'" + str(remote_id).replace("'", "''") + "'"


def under_base(link: str, base_url: str) -> bool:
    """Whether ``link`` lies under ``base_url`` (scheme, host, port and path prefix)."""
    try:
        url, base = httpx.URL(link), httpx.URL(base_url)
    except (httpx.InvalidURL, TypeError):
        return False
    prefix = base.path.rstrip("/") + "/"
    return (
        url.scheme == base.scheme
        and url.host == base.host
        and url.port == base.port
        and (url.path + "/").startswith(prefix)
        and "/../" not in url.path + "/"
    )


@dataclass(frozen=True)
class RemoteDatastream:
    id: int | str
    name: str
    description: str
    unit: dict[str, Any]
    property_name: str
    property_definition: str
    thing_id: int | str | None
    thing_name: str
    thing_description: str
    lon: float | None
    lat: float | None


def _point(thing: dict[str, Any]) -> tuple[float | None, float | None]:
    for loc in thing.get("Locations") or []:
        geo = loc.get("location") if isinstance(loc, dict) else None
        if isinstance(geo, dict) and geo.get("type") == "Feature":
            geo = geo.get("geometry")
        if isinstance(geo, dict) and geo.get("type") == "Point":
            coords = geo.get("coordinates") or []
            if (
                len(coords) >= 2
                and all(isinstance(c, int | float) for c in coords[:2])
                and -180 <= coords[0] <= 180
                and -90 <= coords[1] <= 90
            ):
                return float(coords[0]), float(coords[1])
    return None, None


def _member(entity: dict[str, Any], name: str) -> dict[str, Any]:
    value = entity.get(name)
    return value if isinstance(value, dict) else {}


def parse_datastream(entity: dict[str, Any]) -> RemoteDatastream:
    remote_id = entity.get("@iot.id")
    if not isinstance(remote_id, int | str) or isinstance(remote_id, bool):
        raise StaError("a Datastream without an @iot.id")
    thing, prop, unit = (
        _member(entity, k) for k in ("Thing", "ObservedProperty", "unitOfMeasurement")
    )
    lon, lat = _point(thing)
    return RemoteDatastream(
        id=remote_id,
        name=str(entity.get("name") or f"Datastream {remote_id}")[:200],
        description=str(entity.get("description") or ""),
        unit={k: str(unit.get(k) or "") for k in ("name", "symbol", "definition")},
        property_name=str(prop.get("name") or "unknown")[:200],
        property_definition=str(prop.get("definition") or "")[:500],
        thing_id=thing.get("@iot.id"),
        thing_name=str(thing.get("name") or f"Thing of datastream {remote_id}")[:200],
        thing_description=str(thing.get("description") or ""),
        lon=lon,
        lat=lat,
    )


def parse_observations(
    entities: list[Any], key: str, stats: SourceStats
) -> tuple[list[IncomingObservation], datetime | None]:
    """Observations of one page, and the newest phenomenon time among them."""
    items: list[IncomingObservation] = []
    newest: datetime | None = None
    for entity in entities:
        stats.received += 1
        if not isinstance(entity, dict) or "result" not in entity:
            stats.bad["not_an_observation"] += 1
            continue
        try:
            pt = parse_time(entity.get("phenomenonTime"))
            rt_raw = entity.get("resultTime")
            rt = parse_time(rt_raw) if rt_raw is not None else None
        except ValueError as exc:
            stats.bad["bad_time"] += 1
            log.warning("sta: observation %r of %s refused: %s", entity.get("@iot.id"), key, exc)
            continue
        remote = entity.get("@iot.id")
        items.append(
            IncomingObservation(
                datastream=key,
                result=entity["result"],
                phenomenon_time=pt,
                result_time=rt,
                idempotency_key=None if remote is None else f"sta:{remote}"[:200],
            )
        )
        newest = pt if newest is None or pt > newest else newest
    return items, newest


class StaPoller:
    """A :class:`~layers.sensors.sources.Source` polling one SensorThings server."""

    def __init__(
        self,
        base_url: str,
        sink: Sink,
        sessions: sessionmaker[Session] | None = None,
        *,
        organisation: str | None = None,
        poll_seconds: float = 60.0,
        top: int = 100,
        max_pages: int = 20,
        timeout: float = 10.0,
        backoff_cap: float = 900.0,
        backfill: timedelta = timedelta(days=1),
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.name = f"sta {self.base_url}"
        self.sink = sink
        self.sessions = sessions
        self.organisation = organisation
        self.poll_seconds = poll_seconds
        self.top = top
        self.max_pages = max_pages
        self.timeout = timeout
        self.backoff = Backoff(poll_seconds, max(poll_seconds, backoff_cap))
        self.backfill = backfill
        self.transport = transport
        self.stats = SourceStats()
        #: newest phenomenon time pulled, by local key
        self.last: dict[str, datetime] = {}
        self._missing_logged: set[str] = set()

    async def run(self, stop: asyncio.Event) -> None:
        async with self._client() as client:
            while not stop.is_set():
                try:
                    await self.poll_once(client)
                    self.backoff.reset()
                    delay = self.poll_seconds
                except (httpx.HTTPError, StaError) as exc:
                    self.stats.errors += 1
                    delay = self.backoff.next_delay()
                    log.warning("%s: %s; next try in %.0f s", self.name, exc, delay)
                except Exception:  # the database is down: keep polling later
                    self.stats.errors += 1
                    delay = self.backoff.next_delay()
                    log.exception("%s: poll failed; next try in %.0f s", self.name, delay)
                if await sleep_or_stop(stop, delay):
                    return

    def _client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            timeout=httpx.Timeout(self.timeout),
            transport=self.transport,
            follow_redirects=False,
            headers={"Accept": "application/json"},
        )

    async def _get(
        self, client: httpx.AsyncClient, url: str, params: dict[str, str] | None
    ) -> tuple[dict[str, Any], str]:
        response = await client.get(url, params=params)
        response.raise_for_status()
        if len(response.content) > MAX_RESPONSE_BYTES:
            raise StaError(f"{url}: response larger than {MAX_RESPONSE_BYTES} bytes")
        try:
            doc = response.json()
        except ValueError:
            raise StaError(f"{response.url}: the response is not JSON") from None
        if not isinstance(doc, dict) or not isinstance(doc.get("value"), list):
            raise StaError(f"{response.url}: not a SensorThings collection (no 'value' list)")
        return doc, str(response.url)

    async def pages(
        self, client: httpx.AsyncClient, path: str, params: dict[str, str]
    ) -> list[list[Any]]:
        """The ``value`` lists of a collection, following safe next links."""
        out: list[list[Any]] = []
        url: str | None = f"{self.base_url}/{path}"
        query: dict[str, str] | None = params
        seen: set[str] = set()
        while url is not None and len(out) < self.max_pages:
            doc, fetched = await self._get(client, url, query)
            seen.add(fetched)
            out.append(doc["value"])
            link = doc.get("@iot.nextLink")
            if not isinstance(link, str) or not link:
                break
            link = str(httpx.URL(url).join(link))
            if not under_base(link, self.base_url):
                self.stats.bad["foreign_next_link"] += 1
                log.warning(
                    "%s: refused @iot.nextLink outside the base URL: %s", self.name, link[:300]
                )
                break
            if link in seen:
                self.stats.bad["next_link_loop"] += 1
                log.warning("%s: @iot.nextLink loops back to %s", self.name, link[:300])
                break
            seen.add(link)
            url, query = link, None
        else:
            if url is not None and len(out) >= self.max_pages:
                log.info("%s: stopped after %d pages of %s", self.name, self.max_pages, path)
        return out

    async def datastreams(self, client: httpx.AsyncClient) -> list[RemoteDatastream]:
        params = {"$expand": "Thing/Locations,ObservedProperty", "$top": str(self.top)}
        found: list[RemoteDatastream] = []
        for page in await self.pages(client, "Datastreams", params):
            for entity in page:
                try:
                    found.append(parse_datastream(entity if isinstance(entity, dict) else {}))
                except StaError as exc:
                    self.stats.bad["bad_datastream"] += 1
                    log.warning("%s: %s", self.name, exc)
        return found

    def _spec(self, remote: RemoteDatastream, key: str) -> DatastreamSpec:
        assert self.organisation is not None
        host = httpx.URL(self.base_url).host
        thing = remote.thing_id if remote.thing_id is not None else f"of-{remote.id}"
        return DatastreamSpec(
            key=key,
            name=remote.name,
            description=remote.description or f"Pulled from {self.base_url}",
            organisation=self.organisation,
            thing_key=f"sta-{host}-thing-{thing}",
            thing_name=remote.thing_name,
            thing_description=remote.thing_description,
            thing_properties={"source": self.base_url},
            lon=remote.lon,
            lat=remote.lat,
            property_name=remote.property_name,
            property_definition=remote.property_definition,
            unit_name=remote.unit["name"][:100],
            unit_symbol=remote.unit["symbol"][:40],
            unit_definition=remote.unit["definition"][:500],
            sensor_name=f"SensorThings {host}",
        )

    def _local(self, remotes: list[RemoteDatastream]) -> dict[str, datetime | None]:
        """Local keys to pull, with the newest stored phenomenon time (blocking DB work)."""
        keys = {local_key(self.base_url, r.id): r for r in remotes}
        if self.sessions is None:
            return {k: self.last.get(k) for k in keys}
        with self.sessions() as session:
            if self.organisation is not None:
                ensure_datastreams(session, [self._spec(r, k) for k, r in keys.items()])
                session.commit()
            rows = session.execute(
                select(Datastream.key, Datastream.latest_time).where(Datastream.key.in_(keys))
            ).all()
        have = {k: t for k, t in rows}
        for key in keys.keys() - have.keys() - self._missing_logged:
            self._missing_logged.add(key)
            log.warning("%s: no local datastream %r: create it to pull it", self.name, key)
        return have

    async def poll_once(self, client: httpx.AsyncClient) -> int:
        """One round over every datastream; returns the observations newly stored."""
        remotes = await self.datastreams(client)
        local = await asyncio.to_thread(self._local, remotes)
        before = self.stats.stored
        for remote in remotes:
            key = local_key(self.base_url, remote.id)
            if key not in local:
                continue
            since = max(
                [t for t in (local[key], self.last.get(key)) if t is not None],
                default=datetime.now(UTC) - self.backfill,
            )
            await self._pull(client, remote, key, since)
        return self.stats.stored - before

    async def _pull(
        self, client: httpx.AsyncClient, remote: RemoteDatastream, key: str, since: datetime
    ) -> None:
        params = {
            "$filter": f"phenomenonTime gt {iso(since)}",
            "$orderby": "phenomenonTime asc",
            "$top": str(self.top),
        }
        path = f"Datastreams({id_literal(remote.id)})/Observations"
        for page in await self.pages(client, path, params):
            items, newest = parse_observations(page, key, self.stats)
            if items:
                results = await asyncio.to_thread(self.sink, items)
                self.stats.count(results)
            if newest is not None and (key not in self.last or newest > self.last[key]):
                self.last[key] = newest
