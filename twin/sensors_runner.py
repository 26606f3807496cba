"""``twin sensors run``: the configured sensor sources in one asyncio process.

Sources come from the settings: an MQTT subscriber when ``TWIN_MQTT_URL`` is set (with
``TWIN_MQTT_MAPPINGS``), one SensorThings poller per ``TWIN_STA_URLS`` entry, and the demo
replay with ``TWIN_REPLAY=true``. Each runs as a task; one that fails unexpectedly is
logged and restarted after a backoff, the others go on. Every few minutes the process
logs what each source received and stored. SIGTERM and SIGINT stop it cleanly.

``twin serve`` starts this as a child process (:class:`SensorsProcess`) when any source is
configured and ``TWIN_SENSORS_IN_SERVE`` is true (the default), as it starts import
workers: several app processes behind a proxy should leave it off and run one
``twin sensors run`` instead.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import subprocess
import sys

from layers.sensors.sources import Backoff, Source, sleep_or_stop
from layers.sensors.sources.mapping import MappingError, load_mappings
from layers.sensors.sources.mqtt import MqttConfigError, MqttSubscriber
from layers.sensors.sources.replay import Replay, ReplayDataError
from layers.sensors.sources.sink import db_sink
from layers.sensors.sources.sta_pull import StaPoller

from .db import Database
from .errors import InvalidRequest
from .settings import Settings

log = logging.getLogger("twin.sensors")

STATS_SECONDS = 300.0


def build_sources(settings: Settings, db: Database) -> list[Source]:
    """The sources the settings ask for; :class:`InvalidRequest` for unusable settings."""
    sink = db_sink(db.sessions)
    sources: list[Source] = []
    try:
        if settings.mqtt_url:
            mappings = load_mappings(settings.mqtt_mappings) if settings.mqtt_mappings else []
            sources.append(MqttSubscriber(settings.mqtt_url, sink, mappings))
        elif settings.mqtt_mappings:
            raise InvalidRequest("TWIN_MQTT_MAPPINGS is set but TWIN_MQTT_URL is not")
        for url in settings.sta_urls:
            if not url.startswith(("http://", "https://")):
                raise InvalidRequest(f"TWIN_STA_URLS: not an http(s) URL: {url!r}")
            sources.append(
                StaPoller(
                    url,
                    sink,
                    db.sessions,
                    organisation=settings.sta_organisation,
                    poll_seconds=settings.sta_poll_seconds,
                )
            )
        if settings.replay:
            sources.append(Replay(sink, db.sessions, speed=settings.replay_speed))
    except (MappingError, MqttConfigError, ReplayDataError, ValueError, OSError) as exc:
        if isinstance(exc, InvalidRequest):
            raise
        raise InvalidRequest(str(exc)) from None
    return sources


async def _supervise(source: Source, stop: asyncio.Event) -> None:
    backoff = Backoff(1.0, 60.0)
    while not stop.is_set():
        try:
            await source.run(stop)
            return
        except Exception:
            delay = backoff.next_delay()
            log.exception("%s failed; restarting in %.0f s", source.name, delay)
            if await sleep_or_stop(stop, delay):
                return


async def run_sources(
    sources: list[Source], stop: asyncio.Event, stats_seconds: float = STATS_SECONDS
) -> None:
    """Run every source until ``stop`` is set, logging their counters now and then."""
    tasks = [asyncio.create_task(_supervise(s, stop), name=s.name) for s in sources]
    try:
        while not await sleep_or_stop(stop, stats_seconds):
            for s in sources:
                log.info("%s: %s", s.name, s.stats.summary())
    finally:
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)
        for s in sources:
            log.info("%s stopped: %s", s.name, s.stats.summary())


def main(settings: Settings) -> int:
    """Run the configured sources until SIGTERM/SIGINT; 0 when there is nothing to run."""
    logging.basicConfig(
        level=logging.DEBUG if settings.debug else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    db = Database(settings.database)
    try:
        db.setup()
        sources = build_sources(settings, db)
        if not sources:
            print(
                "twin sensors run: no source configured "
                "(TWIN_MQTT_URL, TWIN_STA_URLS, TWIN_REPLAY)",
                file=sys.stderr,
            )
            return 0
        log.info("running %s", ", ".join(s.name for s in sources))

        async def run() -> None:
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(sig, stop.set)
            await run_sources(sources, stop)

        asyncio.run(run())
        return 0
    finally:
        db.dispose()


class SensorsProcess:
    """``twin sensors run`` as a child of the web service, stopped with it."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        env = dict(os.environ)
        env["TWIN_DATA_DIR"] = str(self.settings.data_dir)
        env["TWIN_DATABASE_URL"] = self.settings.database
        for name, value in {
            "TWIN_MQTT_URL": self.settings.mqtt_url,
            "TWIN_MQTT_MAPPINGS": self.settings.mqtt_mappings,
            "TWIN_STA_URLS": ",".join(self.settings.sta_urls) or None,
            "TWIN_STA_ORGANISATION": self.settings.sta_organisation,
        }.items():
            if value is not None:
                env[name] = str(value)
        env["TWIN_STA_POLL_SECONDS"] = str(self.settings.sta_poll_seconds)
        env["TWIN_REPLAY"] = "true" if self.settings.replay else "false"
        env["TWIN_REPLAY_SPEED"] = str(self.settings.replay_speed)
        self.proc = subprocess.Popen([sys.executable, "-m", "twin", "sensors", "run"], env=env)

    def stop(self, timeout: float = 10.0) -> None:
        if self.proc is None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc = None
