"""The demo replay: real recorded readings fed as live observations, clearly labelled.

``data/demo/sensors`` holds one day (15 November 2017) of sensor.community readings from
Aberdeen: PM10 and PM2.5 of an SDS011 (sensor 5331), temperature and humidity of a DHT22
(sensor 5332), about every 150 s (ODbL 1.0, see the README there). The replay places the
two sensors on two buildings of the demo city (Delft, layer ``demo``), creates their
Things and Datastreams when missing (organisation ``DEMO``, public, ``replay=True``, names
saying "replay of recorded data, Aberdeen 2017-11-15") and feeds the readings:

- at their recorded time of day and cadence, shifted to the present day and looping
  every day: a reading recorded at 14:02:19 is observed at 14:02:19 UTC today; with
  ``speed`` > 1 (``TWIN_REPLAY_SPEED``) the day plays faster;
- on start, the last loop (at most a day) at once, so the history is not empty;
- deterministically: the same reading always lands on the same phenomenon time for a
  given speed, so a restart stores nothing twice (ingestion's idempotency).

Thresholds: PM after the WHO global air quality guidelines (2021): warning at the 24-hour
guideline level (PM2.5 15 µg/m³, PM10 45 µg/m³), alarm at interim target 2 (PM2.5
50 µg/m³, PM10 100 µg/m³); comparing single readings with 24-hour levels is a simplification
for the demo. Temperature as an example of a "below" threshold: frost risk, warning at
3 °C, alarm at 0 °C.
"""

from __future__ import annotations

import asyncio
import csv
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from ...catalogue.seed import DEMO_CODE, seed
from ..contract import IncomingObservation
from . import Backoff, Sink, SourceStats, sleep_or_stop
from .provision import DatastreamSpec, ensure_datastreams

log = logging.getLogger(__name__)

DEMO_SENSORS = Path(__file__).resolve().parents[3] / "data" / "demo" / "sensors"
RECORDED = "2017-11-15"
ATTRIBUTION = "Sensor data: sensor.community contributors, ODbL 1.0"
#: Fixed origin of the replay clock, so phenomenon times never depend on the start time.
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
DAY = 86400.0
_FIXED = ("sensor_id", "sensor_type", "location", "lat", "lon", "timestamp")


class ReplayDataError(ValueError):
    """A recorded file that cannot be read; names the file and line."""


@dataclass(frozen=True)
class Reading:
    sensor_id: str
    sensor_type: str
    lat: float
    lon: float
    time: datetime
    #: the numeric columns the row has a value for (empty cells left out)
    values: dict[str, float]


def read_sensor_community_csv(path: Path) -> list[Reading]:
    """Rows of a sensor.community archive CSV (``;``-separated, ``timestamp`` in UTC)."""
    readings: list[Reading] = []
    with path.open(encoding="utf-8", newline="") as f:
        rows = csv.DictReader(f, delimiter=";")
        missing = [c for c in _FIXED if c not in (rows.fieldnames or [])]
        if missing:
            raise ReplayDataError(f"{path.name}: no column(s) {', '.join(missing)}")
        for row in rows:
            where = f"{path.name}:{rows.line_num}"
            try:
                when = datetime.fromisoformat(row["timestamp"])
                lat, lon = float(row["lat"]), float(row["lon"])
            except (TypeError, ValueError):
                raise ReplayDataError(f"{where}: bad timestamp or position") from None
            if when.tzinfo is None:  # the archive writes UTC without a zone
                when = when.replace(tzinfo=UTC)
            values: dict[str, float] = {}
            for column, cell in row.items():
                if column in _FIXED or column is None or not cell:
                    continue
                try:
                    number = float(cell)
                except ValueError:
                    raise ReplayDataError(f"{where}: {column} is not a number: {cell!r}") from None
                if math.isfinite(number):
                    values[column] = number
            readings.append(Reading(row["sensor_id"], row["sensor_type"], lat, lon, when, values))
    return readings


@dataclass(frozen=True)
class Channel:
    """One column of one recorded file, fed to one datastream."""

    file: str
    column: str
    spec: DatastreamSpec


def _spec(
    key: str, what: str, unit: str, symbol: str, place: dict[str, object], **kw: object
) -> DatastreamSpec:
    return DatastreamSpec(
        key=key,
        name=f"{what} (replay of recorded data, Aberdeen {RECORDED})",
        description=f"{what} recorded by sensor.community sensor {place['sensor']} in "
        f"Aberdeen on {RECORDED}, replayed as live demo data at this place in Delft. "
        f"Not a measurement from Delft. {ATTRIBUTION}.",
        organisation=DEMO_CODE,
        visibility="public",
        replay=True,
        unit_name=unit,
        unit_symbol=symbol,
        **place["thing"],  # type: ignore[arg-type]
        **kw,  # type: ignore[arg-type]
    )


def _thing(sensor: str, kind: str, building: str, lon: float, lat: float) -> dict[str, object]:
    return {
        "sensor": sensor,
        "thing": {
            "thing_key": f"replay-aberdeen-{sensor}",
            "thing_name": f"{kind} (replay, Aberdeen sensor {sensor})",
            "thing_description": f"Replays the readings of sensor.community sensor {sensor} "
            f"(Aberdeen, {RECORDED}) on a demo building. {ATTRIBUTION}.",
            "thing_properties": {
                "replay": True,
                "recorded": RECORDED,
                "source": "https://sensor.community",
                "licence": "ODbL-1.0",
                "attribution": ATTRIBUTION,
            },
            "lon": lon,
            "lat": lat,
            "layer": "demo",
            "object_id": building,
            "sensor_name": kind.split(" (")[0],
        },
    }


# Centroids of two buildings of data/demo/delft.city.json (inside their footprints).
_SDS011 = _thing(
    "5331",
    "SDS011 particulate matter sensor",
    "b1105d28c-00ba-11e6-b420-2bdcc4ab5d7f",
    4.367906,
    52.011301,
)
_DHT22 = _thing(
    "5332",
    "DHT22 temperature and humidity sensor",
    "b1128007f-00ba-11e6-b420-2bdcc4ab5d7f",
    4.366652,
    52.011913,
)
_PM_UNIT = ("microgram per cubic metre", "µg/m³")
SDS_FILE = "2017-11-15_sds011_sensor_5331.csv"
DHT_FILE = "2017-11-15_dht22_sensor_5332.csv"
CHANNELS: tuple[Channel, ...] = (
    Channel(SDS_FILE, "P1", _spec(
        "aberdeen-5331-pm10", "PM10", *_PM_UNIT, _SDS011, property_name="PM10",
        property_definition="http://dd.eionet.europa.eu/vocabulary/aq/pollutant/5",
        warning_level=45.0, alarm_level=100.0)),
    Channel(SDS_FILE, "P2", _spec(
        "aberdeen-5331-pm25", "PM2.5", *_PM_UNIT, _SDS011, property_name="PM2.5",
        property_definition="http://dd.eionet.europa.eu/vocabulary/aq/pollutant/6001",
        warning_level=15.0, alarm_level=50.0)),
    Channel(DHT_FILE, "temperature", _spec(
        "aberdeen-5332-temperature", "Air temperature", "degree Celsius", "°C", _DHT22,
        property_name="air temperature", warning_level=3.0, alarm_level=0.0,
        direction="below")),
    Channel(DHT_FILE, "humidity", _spec(
        "aberdeen-5332-humidity", "Relative humidity", "percent", "%", _DHT22,
        property_name="relative humidity")),
)  # fmt: skip


@dataclass(frozen=True)
class Series:
    key: str
    #: (seconds since the recording's first midnight, value), in time order
    points: tuple[tuple[float, float], ...]


def load_series(data_dir: Path = DEMO_SENSORS) -> tuple[list[Series], float]:
    """Every channel's readings as offsets in the recording, and the loop period (whole
    days covering the recording)."""
    files: dict[str, list[Reading]] = {}
    series: list[Series] = []
    first = last = None
    for ch in CHANNELS:
        if ch.file not in files:
            files[ch.file] = read_sensor_community_csv(data_dir / ch.file)
        for r in files[ch.file]:
            first = r.time if first is None or r.time < first else first
            last = r.time if last is None or r.time > last else last
    if first is None or last is None:
        raise ReplayDataError(f"no readings in {data_dir}")
    origin = first.replace(hour=0, minute=0, second=0, microsecond=0)
    for ch in CHANNELS:
        points = sorted(
            ((r.time - origin).total_seconds(), r.values[ch.column])
            for r in files[ch.file]
            if ch.column in r.values
        )
        series.append(Series(ch.spec.key, tuple(points)))
    period = DAY * max(1, math.ceil((last - origin).total_seconds() / DAY))
    return series, period


def due(
    series: Sequence[Series], period: float, speed: float, start: datetime, end: datetime
) -> list[IncomingObservation]:
    """Observations whose replayed time falls in ``(start, end]``, in time order.

    A reading at offset ``o`` is replayed at ``EPOCH + (o + n * period) / speed`` for
    every whole ``n``, rounded to the millisecond.
    """
    lo = (start - EPOCH).total_seconds() * speed
    out: list[tuple[datetime, IncomingObservation]] = []
    for s in series:
        for offset, value in s.points:
            n = math.floor((lo - offset) / period)
            while True:
                at = EPOCH + timedelta(seconds=round((offset + n * period) / speed, 3))
                if at > end:
                    break
                if at > start:
                    out.append((at, IncomingObservation(s.key, value, phenomenon_time=at)))
                n += 1
    out.sort(key=lambda pair: pair[0])
    return [item for _, item in out]


class Replay:
    """A :class:`~layers.sensors.sources.Source` replaying the demo readings."""

    name = "replay"

    def __init__(
        self,
        sink: Sink,
        sessions: sessionmaker[Session] | None,
        *,
        speed: float = 1.0,
        data_dir: Path = DEMO_SENSORS,
        tick: float = 1.0,
        backfill: timedelta = timedelta(days=1),
    ) -> None:
        if not 0 < speed <= 3600:
            raise ValueError("the replay speed must be above 0 and at most 3600")
        self.sink = sink
        self.sessions = sessions
        self.speed = speed
        self.tick = tick
        self.series, self.period = load_series(data_dir)
        #: one loop of the recording at this speed, at most ``backfill``
        self.backfill = min(backfill, timedelta(seconds=self.period / speed))
        self.stats = SourceStats()

    def setup(self) -> dict[str, int]:
        """Create the demo organisation, Things and Datastreams if missing (idempotent)."""
        if self.sessions is None:
            return {}
        with self.sessions() as session:
            seed(session, demo=True)
            ids = ensure_datastreams(session, [ch.spec for ch in CHANNELS])
            session.commit()
        return ids

    async def step(self, start: datetime, end: datetime) -> int:
        """Feed what falls in ``(start, end]``; returns the observations newly stored."""
        items = due(self.series, self.period, self.speed, start, end)
        before = self.stats.stored
        for first in range(0, len(items), 1000):
            chunk = items[first : first + 1000]
            self.stats.received += len(chunk)
            results = await asyncio.to_thread(self.sink, chunk)
            self.stats.count(results)
        return self.stats.stored - before

    async def run(self, stop: asyncio.Event) -> None:
        backoff = Backoff(1.0, 60.0)
        while True:  # the database may not be there yet
            try:
                await asyncio.to_thread(self.setup)
                break
            except Exception:
                self.stats.errors += 1
                delay = backoff.next_delay()
                log.exception(
                    "replay: setting up the demo datastreams failed; retry in %.0f s", delay
                )
                if await sleep_or_stop(stop, delay):
                    return
        cursor = datetime.now(UTC) - self.backfill
        log.info(
            "replay: %d series from %s at speed %g (a loop every %.0f s)",
            len(self.series),
            RECORDED,
            self.speed,
            self.period / self.speed,
        )
        while not stop.is_set():
            now = datetime.now(UTC)
            try:
                await self.step(cursor, now)
                cursor = now
            except Exception:  # keep the cursor: the same window is tried again
                self.stats.errors += 1
                log.exception("replay: storing failed")
            if await sleep_or_stop(stop, self.tick):
                return
