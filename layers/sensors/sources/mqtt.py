"""The MQTT subscriber: SensorThings topics and configured mappings into ingestion.

``TWIN_MQTT_URL`` names the broker: ``mqtt://[user[:password]@]host[:port]`` (default port
1883) or ``mqtts://`` (TLS with the system's CA certificates, default port 8883). With
``?client_id=NAME`` the subscriber keeps a persistent session under that id (the broker
queues QoS 1 messages while twin is away); without, it connects with a clean session.

It subscribes to the SensorThings convention (:data:`~.mapping.STA_TOPICS`) and to every
mapping's topic, decodes messages with :func:`~.mapping.map_message`, and ingests them in
batches (whatever arrived while the previous batch was stored). A bad message is logged
with its reason and counted in :attr:`MqttSubscriber.stats`; it never stops the
subscriber. Lost connections are retried with exponential backoff (1 s doubling to 60 s);
while the database fails, the batch is retried and no further message is read.

Limits (aiomqtt 2.5 has no manual acknowledgement): QoS 1 messages are acknowledged on
receipt, so a crash between receipt and commit loses that batch, and messages beyond
:data:`MAX_QUEUED` waiting in the client are dropped by aiomqtt with a warning.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import parse_qs, unquote, urlsplit

import aiomqtt

from ..contract import IncomingObservation
from . import Backoff, Sink, SourceStats, sleep_or_stop
from .mapping import STA_TOPICS, Mapping, map_message

log = logging.getLogger(__name__)

#: Messages waiting in the client before the broker connection is throttled.
MAX_QUEUED = 10_000
#: Observations stored in one transaction at most.
BATCH_MAX = 500


class MqttConfigError(ValueError):
    """A broker URL that cannot be used."""


@dataclass(frozen=True)
class BrokerURL:
    host: str
    port: int
    tls: bool = False
    username: str | None = None
    password: str | None = None
    client_id: str | None = None

    @classmethod
    def parse(cls, url: str) -> BrokerURL:
        parts = urlsplit(url.strip())
        if parts.scheme not in ("mqtt", "mqtts"):
            raise MqttConfigError(f"MQTT URL must start with mqtt:// or mqtts://, not {url!r}")
        if not parts.hostname:
            raise MqttConfigError("the MQTT URL names no host")
        try:
            port = parts.port
        except ValueError:
            raise MqttConfigError("the MQTT URL's port is not a number from 1 to 65535") from None
        tls = parts.scheme == "mqtts"
        client_id = parse_qs(parts.query).get("client_id", [None])[0]
        return cls(
            host=parts.hostname,
            port=port or (8883 if tls else 1883),
            tls=tls,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password is not None else None,
            client_id=client_id,
        )

    def safe(self) -> str:
        """For logs: never the password."""
        who = f"{self.username}@" if self.username else ""
        return f"{'mqtts' if self.tls else 'mqtt'}://{who}{self.host}:{self.port}"


class MqttSubscriber:
    """A :class:`~layers.sensors.sources.Source` subscribed to one broker."""

    name = "mqtt"

    def __init__(
        self,
        url: str | BrokerURL,
        sink: Sink,
        mappings: Sequence[Mapping] = (),
        *,
        backoff: Backoff | None = None,
        batch_max: int = BATCH_MAX,
    ) -> None:
        self.broker = url if isinstance(url, BrokerURL) else BrokerURL.parse(url)
        self.sink = sink
        self.mappings = list(mappings)
        self.backoff = backoff or Backoff(1.0, 60.0)
        self.batch_max = batch_max
        self.stats = SourceStats()
        #: Set while connected and subscribed (tests wait for it before publishing).
        self.subscribed = asyncio.Event()

    def subscriptions(self) -> list[tuple[str, int]]:
        """(topic filter, QoS) pairs, without repeats."""
        subs: dict[str, int] = {t: 1 for t in STA_TOPICS}
        for m in self.mappings:
            subs[m.topic.subscription] = max(subs.get(m.topic.subscription, 0), m.qos)
        return list(subs.items())

    def _client(self) -> aiomqtt.Client:
        b = self.broker
        persistent = b.client_id is not None
        return aiomqtt.Client(
            b.host,
            b.port,
            username=b.username,
            password=b.password,
            identifier=b.client_id or f"twin-{uuid.uuid4().hex[:12]}",
            clean_session=not persistent,
            tls_context=ssl.create_default_context() if b.tls else None,
            max_queued_incoming_messages=MAX_QUEUED,
            timeout=10,
        )

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            delay = 0.0
            try:
                async with self._client() as client:
                    for topic, qos in self.subscriptions():
                        await client.subscribe(topic, qos=qos)
                    log.info("mqtt: subscribed at %s", self.broker.safe())
                    self.backoff.reset()
                    self.subscribed.set()
                    await self._consume(client, stop)
            except aiomqtt.MqttError as exc:
                self.stats.errors += 1
                delay = self.backoff.next_delay()
                log.warning("mqtt: %s: %s; reconnecting in %.1f s", self.broker.safe(), exc, delay)
            finally:
                self.subscribed.clear()
            if stop.is_set() or await sleep_or_stop(stop, delay):
                return

    async def _consume(self, client: aiomqtt.Client, stop: asyncio.Event) -> None:
        messages = client.messages
        stopping = asyncio.ensure_future(stop.wait())
        try:
            while True:
                first = asyncio.ensure_future(anext(messages))
                done, _ = await asyncio.wait({first, stopping}, return_when="FIRST_COMPLETED")
                if first not in done:
                    first.cancel()
                    return
                batch = self.decode(first.result())
                while len(messages) and len(batch) < self.batch_max:
                    batch.extend(self.decode(await anext(messages)))
                await self.store(batch, stop)
        finally:
            stopping.cancel()

    def decode(self, message: aiomqtt.Message) -> list[IncomingObservation]:
        """One message's observations; a bad one is logged, counted and gives none."""
        self.stats.received += 1
        topic = message.topic.value
        payload = message.payload
        if isinstance(payload, str):
            payload = payload.encode()
        elif not isinstance(payload, bytes | bytearray):
            payload = b"" if payload is None else str(payload).encode()
        mapped = map_message(topic, bytes(payload), self.mappings)
        if mapped.reason is not None:
            self.stats.bad[mapped.reason] += 1
            log.warning(
                "mqtt: message on %r refused: %s %s", topic[:200], mapped.reason, mapped.detail
            )
        return list(mapped.items)

    async def store(
        self, items: list[IncomingObservation], stop: asyncio.Event | None = None
    ) -> None:
        """Ingest a batch. While the database fails, retry (0.5 s doubling to 30 s) and
        read no further messages, so they wait in the client's queue and the broker."""
        if not items:
            return
        retry = Backoff(0.5, 30.0)
        while True:
            try:
                results = await asyncio.to_thread(self.sink, items)
                break
            except Exception:
                self.stats.errors += 1
                delay = retry.next_delay()
                log.exception(
                    "mqtt: storing %d observations failed; retrying in %.1f s", len(items), delay
                )
                if stop is None or await sleep_or_stop(stop, delay):
                    log.error("mqtt: %d observations not stored (stopping)", len(items))
                    return
        self.stats.count(results)
        for r in results:
            if not r.ok:
                item = items[r.index]
                log.warning(
                    "mqtt: observation for %r refused: %s %s", item.datastream, r.code, r.message
                )
