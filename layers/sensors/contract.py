"""What every sensor source hands to ingestion, and what ingestion answers per item.

HTTP push, MQTT, SensorThings pull and the demo replay all turn their input into
:class:`IncomingObservation` items and call :func:`layers.sensors.service.ingest`::

    def ingest(
        session: Session,
        items: Sequence[IncomingObservation],
        *,
        source_id: int | None = None,   # None: a trusted internal source (MQTT, pull, replay)
        now: datetime | None = None,    # injectable clock (UTC)
    ) -> list[ItemResult]: ...

Ingestion validates each item on its own (one bad item never rejects the batch), stores
the good ones idempotently and evaluates thresholds; the caller commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class IncomingObservation:
    #: The datastream's numeric id, or its unique string ``key`` (e.g. "aberdeen-5331-pm10").
    datastream: int | str
    #: The measured value. Numbers are stored as numbers; anything else is refused per item.
    result: object
    #: When the phenomenon was observed (timezone-aware); None means "now" on receipt.
    phenomenon_time: datetime | None = None
    #: When the result was produced, if the source says; defaults to phenomenon_time.
    result_time: datetime | None = None
    #: Identity for idempotency; when None, (datastream, phenomenon_time) is the identity.
    idempotency_key: str | None = None


@dataclass(frozen=True)
class ItemResult:
    #: Position of the item in the batch it came in.
    index: int
    ok: bool
    observation_id: int | None = None
    #: True when the same observation was already stored (not an error).
    duplicate: bool = False
    #: Machine-readable reason when not ok, e.g. "unknown_datastream", "bad_result",
    #: "future_time", "forbidden".
    code: str | None = None
    message: str | None = None
