"""`twin` subcommands for the catalogue (registered by :mod:`twin.cli`).

- ``twin catalogue import FILE --as EMAIL [--dry-run] [--skip-existing]``: import CSV,
  GeoJSON or XLSX acting as that account (its roles decide which rows it may create);
  all rows or none. Prints the report; exit code 3 when any row is invalid.
- ``twin catalogue export FILE.geojson|FILE.csv [--as EMAIL] [--delimiter ';']``: the
  projects the account may see (default: anonymous, so public projects only).
- ``twin demo [--file PATH]``: create the demo organisation ``DEMO`` and import the
  fictional example projects of ``data/demo/projects.geojson``, skipping titles DEMO
  already has (so it can run on every ``make run``). It acts as the *system*: a principal
  with administrator rights and no account (``created_by`` stays empty), which only this
  local command uses; nothing on the web can become it.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from layers.accounts import User
from layers.catalogue import io
from layers.catalogue.rules import ANONYMOUS, Principal

from .auth.deps import principal_of
from .db import Database
from .errors import InvalidRequest
from .settings import REPO_ROOT, Settings

#: The subcommand names this module handles.
COMMANDS: frozenset[str] = frozenset({"catalogue", "demo"})

#: Administrator rights without an account: only for ``twin demo`` on the local machine.
SYSTEM = Principal(user_id=None, is_admin=True)
DEMO_PROJECTS = REPO_ROOT / "data" / "demo" / "projects.geojson"
EXIT_INPUT = 3


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add this module's subcommands to the `twin` parser."""
    cat = sub.add_parser("catalogue", help="import and export catalogue projects")
    c = cat.add_subparsers(dest="action", required=True, metavar="ACTION")
    imp = c.add_parser("import", help="import projects from CSV, GeoJSON or XLSX")
    imp.add_argument("file", type=Path)
    imp.add_argument("--as", dest="email", required=True, help="act as this account")
    imp.add_argument("--dry-run", action="store_true", help="only check and report")
    imp.add_argument(
        "--skip-existing",
        action="store_true",
        help="leave out rows whose title a project of the same municipality has",
    )
    exp = c.add_parser("export", help="export projects to .geojson or .csv")
    exp.add_argument("file", type=Path, help="FILE.geojson or FILE.csv")
    exp.add_argument("--as", dest="email", help="include what this account may see")
    exp.add_argument("--delimiter", choices=[",", ";"], default=",", help="CSV delimiter")

    demo = sub.add_parser("demo", help="add the demo organisation and its example projects")
    demo.add_argument(
        "--file", type=Path, default=DEMO_PROJECTS, help="the example projects (GeoJSON)"
    )


def _principal(session: Session, email: str | None) -> Principal:
    if email is None:
        return ANONYMOUS
    user = session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))
    if user is None or not user.active:
        raise InvalidRequest(f"no active account {email!r} (see `twin users list`)")
    return principal_of(user)


def _print_report(report: io.ImportReport, name: str) -> None:
    for error in report.errors:
        where = f" {error.field}:" if error.field else ""
        print(f"{name}: row {error.row}:{where} {error.message}", file=sys.stderr)
    for warning in report.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if report.ignored_columns:
        print(f"warning: ignored columns: {', '.join(report.ignored_columns)}", file=sys.stderr)
    verb = "would create" if report.dry_run or not report.ok else "created"
    count = len(report.would_create) if verb == "would create" else len(report.created)
    skipped = f", {len(report.skipped)} skipped (already there)" if report.skipped else ""
    print(
        f"{name} [{report.format}]: {report.rows_read} rows, {report.invalid} invalid; "
        f"{verb} {count}{skipped}" + ("" if report.ok or report.dry_run else "; nothing imported")
    )


def _read(path: Path) -> bytes:
    try:
        if path.stat().st_size > io.MAX_BYTES:
            raise io.ImportTooLarge(f"{path} is larger than {io.MAX_BYTES // 2**20} MB")
        return path.read_bytes()
    except OSError as exc:
        raise InvalidRequest(f"cannot read {path}: {exc.strerror}") from None


def _import(db: Database, args: argparse.Namespace, settings: Settings) -> int:
    data = _read(args.file)
    with db.session() as session:
        principal = _principal(session, args.email)
        report = io.run_import(
            session, principal, data, dry_run=args.dry_run, skip_existing=args.skip_existing
        )
    _print_report(report, args.file.name)
    return 0 if report.ok else EXIT_INPUT


def _export(db: Database, args: argparse.Namespace, settings: Settings) -> int:
    path: Path = args.file
    suffix = path.suffix.lower()
    if suffix not in (".geojson", ".json", ".csv"):
        raise InvalidRequest(f"{path.name}: name the file .geojson or .csv")
    with db.session() as session:
        principal = _principal(session, args.email)
        outs = list(io.export_projects(session, principal, stale_months=settings.stale_months))
    body = (
        io.write_csv(outs, delimiter=args.delimiter) if suffix == ".csv" else io.write_geojson(outs)
    )
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(body)
    os.replace(tmp, path)
    print(f"{path}: {len(outs)} projects")
    return 0


def _demo(db: Database, args: argparse.Namespace, settings: Settings) -> int:
    db.setup(demo=True)
    data = _read(args.file)
    with db.session() as session:
        report = io.run_import(session, SYSTEM, data, dry_run=False, skip_existing=True)
    _print_report(report, args.file.name)
    return 0 if report.ok else EXIT_INPUT


def run(args: argparse.Namespace, settings: Settings) -> int:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    db = Database(settings.database)
    try:
        if args.command == "demo":
            return _demo(db, args, settings)
        db.setup()
        action = _import if args.action == "import" else _export
        return action(db, args, settings)
    finally:
        db.dispose()
