"""Sensor errors, each with a stable code (mapped to HTTP statuses by the app's one table)."""

from __future__ import annotations


class SensorError(Exception):
    code = "sensor_error"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class DatastreamNotFound(SensorError):
    """No such datastream, or one the caller may not see (never tell which)."""

    code = "not_found"


class SensorForbidden(SensorError):
    code = "forbidden"


class InvalidSensorData(SensorError):
    """A datastream, thing, threshold or query that does not hold together."""

    code = "invalid_sensor_data"


class SensorConflict(SensorError):
    """A datastream key or source name that is already taken."""

    code = "conflict"


class IngestKeyInvalid(SensorError):
    """Missing, unknown, rotated-away or revoked ingest key (the four look the same)."""

    code = "invalid_ingest_key"


class SourceNotFound(SensorError):
    code = "source_not_found"
