"""`twin sensors` subcommands (registered by :mod:`twin.cli`).

- ``twin sensors sources add NAME --organisation CODE [--datastream ID_OR_KEY ...]``
  creates an HTTP ingest source and prints its key (shown once; only its hash is kept).
  Without ``--datastream`` it may write every datastream of its organisation.
- ``twin sensors sources list``, ``twin sensors sources rotate NAME`` (prints a new key;
  the old one stops working), ``twin sensors sources revoke NAME``.
- ``twin sensors run`` runs the configured sources (MQTT, SensorThings pull, demo
  replay) until stopped: :mod:`twin.sensors_runner`, docs/SENSORS-SOURCES.md.
- ``twin sensors prune [--days N]`` deletes observations older than N days (default
  ``TWIN_SENSOR_RETENTION_DAYS``; 0 keeps everything).
"""

from __future__ import annotations

import argparse
import sys

from layers.sensors import keys
from layers.sensors.service import delete_expired

from .cli_accounts import _db
from .settings import Settings

#: The subcommand names this module handles.
COMMANDS: frozenset[str] = frozenset({"sensors"})


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add this module's subcommands to the `twin` parser."""
    sensors = sub.add_parser("sensors", help="sensor ingest sources and retention")
    s = sensors.add_subparsers(dest="action", required=True, metavar="ACTION")
    sources = s.add_parser("sources", help="HTTP ingest sources and their API keys")
    src = sources.add_subparsers(dest="source_action", required=True, metavar="ACTION")
    add = src.add_parser("add", help="create a source and print its key (shown once)")
    add.add_argument("name")
    add.add_argument("--organisation", required=True, help="owning municipality code, e.g. 1283")
    add.add_argument(
        "--datastream",
        action="append",
        help="allow only this datastream (id or key; repeatable); default: all of the "
        "organisation's",
    )
    src.add_parser("list", help="list sources (never their keys)")
    rotate = src.add_parser("rotate", help="print a new key; the old one stops working")
    rotate.add_argument("name")
    revoke = src.add_parser("revoke", help="stop a source's key working")
    revoke.add_argument("name")
    s.add_parser(
        "run", help="run the configured sources: MQTT, SensorThings pull, demo replay"
    )  # twin/sensors_runner.py
    prune = s.add_parser("prune", help="delete observations older than the retention period")
    prune.add_argument("--days", type=int, help="default: TWIN_SENSOR_RETENTION_DAYS")


def _when(value: object) -> str:
    return f"{value:%Y-%m-%d %H:%M}" if value is not None else "-"


def run(args: argparse.Namespace, settings: Settings) -> int:
    if args.action == "run":
        from .sensors_runner import main as run_sources

        return run_sources(settings)
    with _db(settings) as db:
        if args.action == "prune":
            days = settings.sensor_retention_days if args.days is None else args.days
            n = delete_expired(db, days)
            db.commit()
            print(f"deleted {n} observation(s)" if days > 0 else "retention is off (0 days)")
            return 0
        if args.source_action == "add":
            key, source = keys.create_source(db, args.name, args.organisation, args.datastream)
            db.commit()
            print(key)
            print(f"source {source.name!r} created; the key is shown once", file=sys.stderr)
        elif args.source_action == "list":
            for source in keys.list_sources(db):
                allowed = (
                    "all of its organisation's"
                    if source.datastream_ids is None
                    else ",".join(map(str, source.datastream_ids)) or "none"
                )
                state = "revoked" if source.revoked_at is not None else "active"
                print(
                    f"{source.name}\t{source.organisation}\t{state}\tdatastreams: {allowed}\t"
                    f"last used {_when(source.last_used_at)}"
                )
        elif args.source_action == "rotate":
            key = keys.rotate_key(db, keys.find_source(db, args.name))
            db.commit()
            print(key)
            print(f"new key for {args.name!r}; the old one no longer works", file=sys.stderr)
        elif args.source_action == "revoke":
            keys.revoke(db, keys.find_source(db, args.name))
            db.commit()
            print(f"source {args.name!r} revoked", file=sys.stderr)
    return 0
