"""HTTP ingest sources and their API keys: create, list, rotate, revoke, authenticate.

Keys are random (``tws_`` + 32 bytes from :func:`secrets.token_urlsafe`), shown once and
stored as their sha256 lookup hash, the way account API tokens are
(:func:`layers.accounts.token_hash`). Rotating gives a new key and the old one stops
working at once; revoking stops the source for good.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..accounts import token_hash
from ..catalogue.models import Municipality
from .errors import IngestKeyInvalid, InvalidSensorData, SensorConflict, SourceNotFound
from .models import Datastream, IngestSource

KEY_PREFIX = "tws_"
MAX_KEY_LENGTH = 200
USE_RESOLUTION = timedelta(minutes=1)


def _new_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def _aware(dt: datetime) -> datetime:
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def create_source(
    session: Session,
    name: str,
    organisation: str,
    datastreams: Iterable[int | str] | None = None,
) -> tuple[str, IngestSource]:
    """A new source and its key (the only time the key is known). The caller commits."""
    name = name.strip()
    if not name or len(name) > 100:
        raise InvalidSensorData("a source name has 1-100 characters", field="name")
    if session.get(Municipality, organisation) is None:
        raise InvalidSensorData(f"no organisation {organisation!r}", field="organisation")
    if session.scalar(select(IngestSource.id).where(IngestSource.name == name)) is not None:
        raise SensorConflict(f"a source named {name!r} exists", field="name")
    allowed = None if datastreams is None else _datastream_ids(session, datastreams)
    key = _new_key()
    source = IngestSource(
        name=name, organisation=organisation, key_hash=token_hash(key), datastream_ids=allowed
    )
    session.add(source)
    session.flush()
    return key, source


def _datastream_ids(session: Session, refs: Iterable[int | str]) -> list[int]:
    ids: list[int] = []
    for ref in refs:
        where = Datastream.id == int(ref) if str(ref).isdigit() else Datastream.key == str(ref)
        found = session.scalar(select(Datastream.id).where(where))
        if found is None:
            raise InvalidSensorData(f"no datastream {ref!r}", field="datastreams")
        ids.append(found)
    return sorted(set(ids))


def find_source(session: Session, name: str) -> IngestSource:
    source = session.scalar(select(IngestSource).where(IngestSource.name == name))
    if source is None:
        raise SourceNotFound(f"no ingest source {name!r}")
    return source


def list_sources(session: Session) -> list[IngestSource]:
    return list(session.scalars(select(IngestSource).order_by(IngestSource.name)))


def rotate_key(session: Session, source: IngestSource, *, now: datetime | None = None) -> str:
    """A new key for ``source``; the old one stops working. Un-revokes. Caller commits."""
    key = _new_key()
    source.key_hash = token_hash(key)
    source.rotated_at = now or datetime.now(UTC)
    source.revoked_at = None
    return key


def revoke(session: Session, source: IngestSource, *, now: datetime | None = None) -> None:
    if source.revoked_at is None:
        source.revoked_at = now or datetime.now(UTC)


def authenticate(session: Session, key: str | None, *, now: datetime | None = None) -> IngestSource:
    """The active source whose key this is, else :class:`IngestKeyInvalid`.

    Records the use at most once a minute (the caller commits).
    """
    if not key or len(key) > MAX_KEY_LENGTH:
        raise IngestKeyInvalid("send the source's key as 'Authorization: Bearer <key>'")
    source = session.scalar(select(IngestSource).where(IngestSource.key_hash == token_hash(key)))
    if source is None or source.revoked_at is not None:
        raise IngestKeyInvalid("the ingest key is unknown, rotated or revoked")
    now = now or datetime.now(UTC)
    if source.last_used_at is None or _aware(source.last_used_at) < now - USE_RESOLUTION:
        source.last_used_at = now
    return source
