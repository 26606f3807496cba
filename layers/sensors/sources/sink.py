"""The production sink: ingestion in one short transaction per batch."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from sqlalchemy.orm import Session, sessionmaker

from .. import service
from ..contract import IncomingObservation, ItemResult
from . import Sink

log = logging.getLogger(__name__)


def db_sink(sessions: sessionmaker[Session]) -> Sink:
    """A :data:`~layers.sensors.sources.Sink` that ingests as a trusted internal source
    (``source_id=None``) and commits; rolls back and re-raises on a database error."""

    def ingest(items: Sequence[IncomingObservation]) -> list[ItemResult]:
        if not items:
            return []
        with sessions() as session:
            try:
                results = service.ingest(session, items, source_id=None)
                session.commit()
            except BaseException:
                session.rollback()
                raise
        return results

    return ingest
