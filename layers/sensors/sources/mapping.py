"""MQTT messages to observations: the SensorThings convention and configured mappings.

Out of the box a JSON Observation (``{"result": 21.5, "phenomenonTime": "...",
"resultTime": "..."}``) published to ``v1.1/Datastreams(<id>)/Observations`` (or ``v1.0``)
goes to datastream ``<id>``: a number is the datastream's id, a quoted string
(``Datastreams('aberdeen-5331-pm10')``) its key. An Observation published to
``v1.1/Observations`` names its datastream in ``{"Datastream": {"@iot.id": ...}}``.

Mappings (a JSON or TOML file, ``TWIN_MQTT_MAPPINGS``) cover everything else, such as the
uplinks of LoRaWAN network servers. Each has a topic pattern with MQTT wildcards and named
single-level captures, JMESPath expressions (https://jmespath.org) for the time and a
message id, and one or more values, each a datastream key template (``{capture}`` is
replaced by the topic level it captured) and an expression for the value::

    [[mappings]]
    name = "chirpstack"
    topic = "application/+/device/{dev_eui}/event/up"
    time = "time"
    id = "deduplicationId"
    values = [
      { datastream = "lora-{dev_eui}-temperature", value = "object.temperature" },
      { datastream = "lora-{dev_eui}-humidity", value = "object.humidity" },
    ]

The first mapping whose pattern matches a topic decides; the SensorThings convention
applies to topics no mapping matches. Everything here is pure: no broker, no database.
"""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import jmespath
import orjson
from jmespath.exceptions import JMESPathError
from jmespath.parser import ParsedResult
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..contract import IncomingObservation
from .times import parse_time

#: Larger messages are refused unread (a sensor reading is a few hundred bytes).
MAX_PAYLOAD = 256 * 1024
STA_VERSIONS = ("v1.1", "v1.0")
#: What the subscriber subscribes to for the SensorThings convention.
STA_TOPICS = tuple(
    f"{v}/{rest}" for v in STA_VERSIONS for rest in ("+/Observations", "Observations")
)
_STA_LEVEL = re.compile(r"^Datastreams\((?:(\d{1,18})|'((?:[^']|'')*)')\)$")
_CAPTURE = re.compile(r"^\{([A-Za-z_][A-Za-z0-9_]*)\}$")
_TEMPLATE_FIELD = re.compile(r"\{([^{}]*)\}")


class MappingError(ValueError):
    """A mappings file or topic pattern that cannot be used; says where and why."""


@dataclass(frozen=True)
class TopicPattern:
    """An MQTT topic filter whose single-level wildcards may be named: ``{dev_eui}``."""

    text: str
    levels: tuple[str, ...]

    @classmethod
    def parse(cls, text: str) -> TopicPattern:
        if not text or len(text) > 1024:
            raise MappingError("a topic pattern must have 1 to 1024 characters")
        levels = tuple(text.split("/"))
        names: set[str] = set()
        for i, level in enumerate(levels):
            capture = _CAPTURE.match(level)
            if capture:
                if capture[1] in names:
                    raise MappingError(f"{text!r}: capture {{{capture[1]}}} appears twice")
                names.add(capture[1])
            elif level == "#":
                if i != len(levels) - 1:
                    raise MappingError(f"{text!r}: '#' must be the last level")
            elif level != "+" and any(c in level for c in "+#{}"):
                raise MappingError(
                    f"{text!r}: wildcards and {{captures}} must fill a whole level ({level!r})"
                )
        return cls(text, levels)

    @property
    def captures(self) -> frozenset[str]:
        return frozenset(m[1] for lv in self.levels if (m := _CAPTURE.match(lv)))

    @property
    def subscription(self) -> str:
        """The MQTT subscription: every capture becomes ``+``."""
        return "/".join("+" if _CAPTURE.match(lv) else lv for lv in self.levels)

    def match(self, topic: str) -> dict[str, str] | None:
        """The captures when ``topic`` matches, else None (MQTT matching rules)."""
        parts = topic.split("/")
        found: dict[str, str] = {}
        for i, level in enumerate(self.levels):
            if level == "#":
                return found if not (i == 0 and topic.startswith("$")) else None
            if i >= len(parts):
                return None
            part = parts[i]
            if i == 0 and part.startswith("$") and level != part:
                return None  # wildcards never match $SYS and friends
            capture = _CAPTURE.match(level)
            if capture:
                if not part:
                    return None
                found[capture[1]] = part
            elif level != "+" and level != part:
                return None
        return found if len(parts) == len(self.levels) else None


class _ValueConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    datastream: str = Field(min_length=1, max_length=200)
    value: str = Field(min_length=1)
    time: str | None = None


class _MappingConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = None
    topic: str
    time: str | None = None
    id: str | None = None
    qos: int = Field(1, ge=0, le=2)
    values: list[_ValueConfig] = Field(min_length=1)


class _FileConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    mappings: list[_MappingConfig] = Field(default_factory=list)


@dataclass(frozen=True)
class ValueRule:
    datastream: str
    value: ParsedResult
    time: ParsedResult | None = None


@dataclass(frozen=True)
class Mapping:
    name: str
    topic: TopicPattern
    values: tuple[ValueRule, ...]
    time: ParsedResult | None = None
    message_id: ParsedResult | None = None
    qos: int = 1


@dataclass(frozen=True)
class Mapped:
    """What one message gave: observations, or the reason it gave none."""

    items: tuple[IncomingObservation, ...] = ()
    #: Machine-readable reason when the message is refused ("invalid_json", ...).
    reason: str | None = None
    detail: str = ""
    #: Values of a mapping the message did not carry (left out, not an error).
    missing: int = 0


def _compile(expr: str | None, where: str) -> ParsedResult | None:
    if expr is None:
        return None
    try:
        return jmespath.compile(expr)
    except JMESPathError as exc:
        raise MappingError(f"{where}: invalid JMESPath {expr!r}: {exc}") from None


def build_mappings(data: Any) -> list[Mapping]:
    """Mappings from a parsed configuration (``{"mappings": [...]}``); :class:`MappingError`."""
    try:
        config = _FileConfig.model_validate(data)
    except ValidationError as exc:
        problems = [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()[:5]]
        raise MappingError("; ".join(problems)) from None
    out: list[Mapping] = []
    for i, m in enumerate(config.mappings):
        name = m.name or f"mappings[{i}]"
        topic = TopicPattern.parse(m.topic)
        rules = []
        for j, v in enumerate(m.values):
            where = f"{name}.values[{j}]"
            unknown = set(_TEMPLATE_FIELD.findall(v.datastream)) - topic.captures
            if unknown:
                raise MappingError(
                    f"{where}: datastream {v.datastream!r} uses {sorted(unknown)}, "
                    f"not captured by the topic {m.topic!r}"
                )
            value = _compile(v.value, where)
            assert value is not None
            rules.append(ValueRule(v.datastream, value, _compile(v.time, where)))
        out.append(
            Mapping(
                name=name,
                topic=topic,
                values=tuple(rules),
                time=_compile(m.time, name),
                message_id=_compile(m.id, name),
                qos=m.qos,
            )
        )
    return out


def load_mappings(path: Path) -> list[Mapping]:
    """Read a ``.json`` or ``.toml`` mappings file."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise MappingError(f"{path}: cannot read: {exc.strerror}") from None
    try:
        data = tomllib.loads(text) if path.suffix.lower() == ".toml" else json.loads(text)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
        raise MappingError(f"{path}: {exc}") from None
    try:
        return build_mappings(data)
    except MappingError as exc:
        raise MappingError(f"{path}: {exc}") from None


def _message_key(name: str, raw: object) -> str | None:
    """The idempotency key of a message (scoped per datastream by ingestion)."""
    if raw is None or isinstance(raw, dict | list):
        return None
    key = f"{name}:{raw}"
    return key if len(key) <= 200 else f"{name}:sha256:{hashlib.sha256(key.encode()).hexdigest()}"


def _fill(template: str, captures: dict[str, str]) -> str:
    return _TEMPLATE_FIELD.sub(lambda m: captures[m[1]], template)


def _time(expr: ParsedResult | None, doc: Any) -> datetime | None:
    if expr is None:
        return None
    raw = expr.search(doc)
    return None if raw is None else parse_time(raw)


def apply_mapping(mapping: Mapping, captures: dict[str, str], doc: Any) -> Mapped:
    """Observations from a decoded message a mapping matched."""
    try:
        when = _time(mapping.time, doc)
    except ValueError as exc:
        return Mapped(reason="bad_time", detail=str(exc))
    raw_id = mapping.message_id.search(doc) if mapping.message_id else None
    items: list[IncomingObservation] = []
    missing = 0
    for rule in mapping.values:
        value = rule.value.search(doc)
        if value is None:
            missing += 1
            continue
        try:
            at = _time(rule.time, doc) or when
        except ValueError as exc:
            return Mapped(reason="bad_time", detail=str(exc))
        key = _fill(rule.datastream, captures)
        items.append(
            IncomingObservation(
                datastream=key,
                result=value,
                phenomenon_time=at,
                idempotency_key=_message_key(mapping.name, raw_id),
            )
        )
    if not items:
        return Mapped(reason="no_values", detail=f"mapping {mapping.name!r}", missing=missing)
    return Mapped(items=tuple(items), missing=missing)


def _sta_datastream(topic: str) -> int | str | None:
    parts = topic.split("/")
    if len(parts) != 3 or parts[0] not in STA_VERSIONS or parts[2] != "Observations":
        return None
    m = _STA_LEVEL.match(parts[1])
    if m is None:
        return None
    return int(m[1]) if m[1] is not None else m[2].replace("''", "'")


def sta_observation(datastream: int | str | None, doc: Any) -> Mapped:
    """A SensorThings Observation entity (JSON) to an observation."""
    if not isinstance(doc, dict):
        return Mapped(reason="not_an_observation", detail="the payload is not a JSON object")
    if datastream is None:
        ref = doc.get("Datastream")
        ref_id = ref.get("@iot.id") if isinstance(ref, dict) else None
        if not isinstance(ref_id, int | str) or isinstance(ref_id, bool):
            return Mapped(reason="no_datastream", detail='no "Datastream": {"@iot.id": ...}')
        datastream = ref_id
    if "result" not in doc:
        return Mapped(reason="no_result", detail='no "result" member')
    try:
        phenomenon = doc.get("phenomenonTime")
        result_time = doc.get("resultTime")
        item = IncomingObservation(
            datastream=datastream,
            result=doc["result"],
            phenomenon_time=None if phenomenon is None else parse_time(phenomenon),
            result_time=None if result_time is None else parse_time(result_time),
        )
    except ValueError as exc:
        return Mapped(reason="bad_time", detail=str(exc))
    return Mapped(items=(item,))


def map_message(topic: str, payload: bytes, mappings: list[Mapping]) -> Mapped:
    """Decode one MQTT message; never raises for bad input."""
    if len(payload) > MAX_PAYLOAD:
        return Mapped(reason="too_large", detail=f"{len(payload)} bytes")
    matched = next(
        ((m, c) for m in mappings if (c := m.topic.match(topic)) is not None),
        None,
    )
    sta_id = _sta_datastream(topic) if matched is None else None
    is_sta_plain = matched is None and topic in {f"{v}/Observations" for v in STA_VERSIONS}
    if matched is None and sta_id is None and not is_sta_plain:
        return Mapped(reason="no_mapping", detail="no mapping or SensorThings topic matches")
    try:
        doc = orjson.loads(payload)
    except orjson.JSONDecodeError as exc:
        return Mapped(reason="invalid_json", detail=str(exc)[:200])
    if matched is not None:
        return apply_mapping(matched[0], matched[1], doc)
    return sta_observation(sta_id, doc)
