"""Sensor sources: what feeds observations into ingestion besides HTTP push.

Every source has the same shape (:class:`Source`): an object with a ``name`` and an
``async run(stop)`` that works until ``stop`` is set, turning its input into
:class:`~layers.sensors.contract.IncomingObservation` items and handing them to a
:data:`Sink`. The sink used in production (:func:`layers.sensors.sources.sink.db_sink`)
calls :func:`layers.sensors.service.ingest` in a worker thread and commits; tests may give
any callable with the same signature.

- :mod:`.mapping`: MQTT topics and JSON payloads to observations (the SensorThings MQTT
  convention, plus configured mappings for LoRaWAN network servers and other platforms).
- :mod:`.mqtt`: the MQTT subscriber (aiomqtt), reconnecting with backoff.
- :mod:`.sta_pull`: polls an OGC SensorThings API server's Datastreams and Observations.
- :mod:`.replay`: replays recorded sensor.community readings as live demo data.

``twin sensors run`` (:mod:`twin.sensors_runner`) runs the configured sources in one process.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from ..contract import IncomingObservation, ItemResult

#: Stores a batch; returns one result per item (the ingestion contract). Blocking: sources
#: call it through :func:`asyncio.to_thread`.
Sink = Callable[[Sequence[IncomingObservation]], list[ItemResult]]


class Source(Protocol):
    """One running source: works until ``stop`` is set, never raises for bad input."""

    name: str
    stats: SourceStats

    async def run(self, stop: asyncio.Event) -> None: ...


@dataclass
class SourceStats:
    """Counters a source keeps (logged by the runner, read by tests)."""

    received: int = 0
    stored: int = 0
    duplicates: int = 0
    #: Items ingestion refused, by its code ("unknown_datastream", "bad_result", ...).
    rejected: Counter[str] = field(default_factory=Counter)
    #: Input refused before ingestion, by reason ("invalid_json", "no_mapping", ...).
    bad: Counter[str] = field(default_factory=Counter)
    errors: int = 0

    def count(self, results: Sequence[ItemResult]) -> None:
        for r in results:
            if r.ok and r.duplicate:
                self.duplicates += 1
            elif r.ok:
                self.stored += 1
            else:
                self.rejected[r.code or "error"] += 1

    def summary(self) -> str:
        parts = [
            f"received {self.received}",
            f"stored {self.stored}",
            f"duplicates {self.duplicates}",
        ]
        if self.rejected:
            parts.append("rejected " + ", ".join(f"{k} {v}" for k, v in self.rejected.items()))
        if self.bad:
            parts.append("bad " + ", ".join(f"{k} {v}" for k, v in self.bad.items()))
        if self.errors:
            parts.append(f"errors {self.errors}")
        return "; ".join(parts)


class Backoff:
    """Exponential backoff with full jitter: ``first`` doubling up to ``cap`` seconds."""

    def __init__(self, first: float = 1.0, cap: float = 60.0, *, jitter: bool = True) -> None:
        if first <= 0 or cap < first:
            raise ValueError("backoff needs 0 < first <= cap")
        self.first, self.cap, self.jitter = first, cap, jitter
        self.failures = 0

    def next_delay(self) -> float:
        """The delay before the next attempt after one more failure."""
        delay = min(self.cap, self.first * 2.0**self.failures)
        self.failures += 1
        return random.uniform(delay / 2, delay) if self.jitter else delay

    def reset(self) -> None:
        self.failures = 0


async def sleep_or_stop(stop: asyncio.Event, seconds: float) -> bool:
    """Sleep up to ``seconds``; True when ``stop`` was set meanwhile."""
    try:
        await asyncio.wait_for(stop.wait(), timeout=max(0.0, seconds))
    except TimeoutError:
        return False
    return True
