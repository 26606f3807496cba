"""The ``twin`` command: convert, import, list and serve layers.

A thin wrapper: it parses arguments, calls the library and maps errors to exit codes with
a one-line message (a traceback only with ``--debug``).

Exit codes: 0 success, 1 internal error, 2 usage error, 3 the input was refused.
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from pathlib import Path
from typing import Any

from layers.catalogue.errors import CatalogueError
from layers.sensors.errors import SensorError
from tiles import ConvertOptions, Report, TilesError, convert, georef

from . import __version__, cli_accounts, cli_catalogue, cli_sensors
from .errors import TwinError
from .settings import Settings, SettingsInvalid, settings_error
from .store import Store

#: Modules adding subcommands: each has COMMANDS, register(subparsers), run(args, settings).
_COMMAND_MODULES = (cli_accounts, cli_catalogue, cli_sensors)

EXIT_INTERNAL, EXIT_USAGE, EXIT_INPUT = 1, 2, 3


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="twin",
        description="A lightweight digital twin for "
        "municipalities: 3D city models to 3D Tiles, served with a viewer.",
    )
    p.add_argument("--version", action="version", version=f"twin {__version__}")
    p.add_argument(
        "--data-dir", type=Path, help="data directory (default: $TWIN_DATA_DIR or ./twin-data)"
    )
    p.add_argument("--debug", action="store_true", help="print tracebacks")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def conversion_options(sp: argparse.ArgumentParser) -> None:
        sp.add_argument(
            "--crs",
            help="CRS of the source, giving or overriding the file's "
            "(EPSG:7415, an OGC URN or URL)",
        )
        sp.add_argument(
            "--lod", help="level of detail to take, e.g. 2.2 (default: the highest of each object)"
        )
        sp.add_argument(
            "--axis-order",
            choices=["xy", "yx"],
            help="force easting-first (xy) "
            "or northing-first (yx) coordinates (default: decided from CRS and data)",
        )
        sp.add_argument(
            "--ground-at-ellipsoid",
            action="store_true",
            help="move the model so its lowest point is at ellipsoidal height 0 "
            "(for viewers without terrain)",
        )
        sp.add_argument(
            "--no-compression",
            dest="compression",
            action="store_false",
            help="write plain float glTF (default: quantised geometry)",
        )
        sp.add_argument(
            "--meshopt",
            action="store_true",
            help="also meshopt-encode the geometry (EXT_meshopt_compression; needs the "
            "meshoptimizer package)",
        )
        sp.add_argument(
            "--tiles-version",
            choices=["1.1", "1.0"],
            default="1.1",
            help="3D Tiles version: 1.1 (glb, default) or 1.0 (b3dm with a batch table) "
            "for clients that need 1.0",
        )
        sp.add_argument(
            "--drop-outliers",
            action="store_true",
            help="point clouds: leave out points far outside the plausible height band",
        )
        ap = sp.add_argument_group("appearances (CityJSON, CityGML textures and materials)")
        ap.add_argument(
            "--appearance-theme",
            metavar="NAME",
            help="theme of textures and materials (default: the first in the file)",
        )
        ap.add_argument(
            "--max-texture-size",
            type=int,
            default=2048,
            metavar="PX",
            help="longest side of an embedded image or texture atlas (default: 2048)",
        )
        ms = sp.add_argument_group(
            "meshes (OBJ, glTF/GLB, PLY)", "placed by --crs (required) and an origin"
        )
        ms.add_argument(
            "--origin",
            nargs=3,
            type=float,
            metavar=("X", "Y", "Z"),
            help="CRS coordinates the mesh's are offsets from (default: <name>.offset.txt "
            "or a ContextCapture metadata.xml beside the mesh)",
        )
        ms.add_argument("--up", choices=["y", "z"], help="up axis (default: y glTF, z OBJ/PLY)")
        ms.add_argument(
            "--mesh-scale", type=float, default=1.0, metavar="F", help="mesh units to CRS units"
        )
        fp = sp.add_argument_group(
            "footprints (GeoJSON, GeoPackage, zipped Shapefile)",
            "extruded to LoD1; without these options common attribute names are detected",
        )
        fp.add_argument("--height-attribute", metavar="NAME", help="height above the ground (m)")
        fp.add_argument("--ground-attribute", metavar="NAME", help="absolute ground elevation")
        fp.add_argument("--roof-attribute", metavar="NAME", help="absolute roof elevation")
        fp.add_argument("--storeys-attribute", metavar="NAME", help="number of storeys")
        fp.add_argument(
            "--storey-height", type=float, default=3.0, metavar="M", help="default: 3.0"
        )
        fp.add_argument(
            "--default-height", type=float, metavar="M", help="for footprints without a height"
        )

    c = sub.add_parser("convert", help="convert a map export to a standalone 3D Tiles tileset")
    c.add_argument(
        "source",
        type=Path,
        help="the export: a file, or a folder (its one file, or all its mesh tiles as one layer)",
    )
    c.add_argument("--out", type=Path, required=True, help="output folder (created or replaced)")
    conversion_options(c)

    i = sub.add_parser(
        "import", help="convert a map export into the data directory and publish it as a layer"
    )
    i.add_argument(
        "source",
        type=Path,
        help="the export: a file, or a folder (its one file, or all its mesh tiles as one layer)",
    )
    i.add_argument("--layer", required=True, help="layer name: lower-case letters, digits, - _")
    i.add_argument("--title", help="title shown in the viewer")
    i.add_argument(
        "--if-changed",
        action="store_true",
        help="do nothing if the source and options are the same as the current version's",
    )
    conversion_options(i)

    i.add_argument(
        "--internal", action="store_true", help="a new layer is internal (staff only), not public"
    )
    i.add_argument("--owner", help="a new layer's owning municipality code, e.g. 1283")

    sub.add_parser("layers", help="list the published layers")

    w = sub.add_parser("worker", help="run import jobs from the queue (each in a child process)")
    w.add_argument("--drain", action="store_true", help="exit once the queue is empty")

    v = sub.add_parser("versions", help="list a layer's versions")
    v.add_argument("layer")
    pb = sub.add_parser("publish", help="make a version the layer's current one (roll back)")
    pb.add_argument("layer")
    pb.add_argument("version")

    s = sub.add_parser("serve", help="serve the viewer, API and tiles")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=8000)
    for module in _COMMAND_MODULES:
        module.register(sub)
    return p


def _store(settings: Settings) -> Store:
    """The data directory's store on its database (migrated, legacy layers imported)."""
    from .db import Database

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    db = Database(settings.database)
    db.setup()
    store = Store(settings.data_dir, db)
    store.migrate_legacy()
    return store


def _options(args: argparse.Namespace) -> ConvertOptions:
    return ConvertOptions(
        crs=args.crs,
        lod=args.lod,
        axis_order=args.axis_order,
        height_attribute=args.height_attribute,
        ground_attribute=args.ground_attribute,
        roof_attribute=args.roof_attribute,
        storeys_attribute=args.storeys_attribute,
        storey_height=args.storey_height,
        default_height=args.default_height,
        ground_at_ellipsoid=args.ground_at_ellipsoid,
        drop_outliers=args.drop_outliers,
        origin=tuple(args.origin) if args.origin else None,
        up=args.up,
        mesh_scale=args.mesh_scale,
        appearance_theme=args.appearance_theme,
        max_texture_size=args.max_texture_size,
        compression=args.compression,
        meshopt=args.meshopt,
        tiles_version=args.tiles_version,
    )


def _summary(report: Report, where: str) -> str:
    mb = report.bytes_total / 1e6
    what = f"{report.feature_count} objects, {report.triangle_count:,} triangles"
    if report.point_count:
        what = f"{report.point_count:,} points"
    if report.appearance:
        app = report.appearance
        theme = ", ".join(app["themes_used"]) or "none"
        what += f", {app['textures_embedded']} of {app['images']} images (theme {theme})"
    return (
        f"{report.source}: {what}, {report.tile_count} tiles ({mb:.1f} MB) "
        f"in {report.seconds:.1f} s "
        f"[{report.crs}, {report.axis_note}] -> {where}"
    )


def _print_warnings(report: Report | dict[str, Any]) -> None:
    warnings = report.warnings if isinstance(report, Report) else report.get("warnings", [])
    for w in warnings:
        print(f"warning: {w}", file=sys.stderr)


def run(args: argparse.Namespace, settings: Settings) -> int:
    if args.command == "convert":
        report = convert(args.source, args.out, _options(args))
        _print_warnings(report)
        print(_summary(report, str(args.out)))
    elif args.command == "import":
        store = _store(settings)
        layer, changed = store.import_file(
            args.source,
            args.layer,
            title=args.title,
            options=_options(args),
            if_changed=args.if_changed,
            public=not args.internal,
            owner=args.owner,
        )
        if changed:
            _print_warnings(layer.report)
            print(
                _summary(
                    Report(**layer.report),
                    f"layer {layer.name!r} version {layer.current} (published)",
                )
            )
        else:
            print(f"layer {layer.name!r} is up to date (version {layer.current})")
    elif args.command == "layers":
        layers = _store(settings).list()
        if not layers:
            print(f"no layers in {settings.data_dir}")
        for layer in layers:
            r = layer.report
            size = f"{r['feature_count']} objects"
            if r.get("point_count"):
                size = f"{r['point_count']:,} points"
            print(
                f"{layer.name}\t{layer.title}\t{size}\t{r['crs']}\t"
                f"{r['source']}\tversion {layer.current}\t{len(layer.ready_versions)} "
                f"version(s)\t{'public' if layer.public else 'internal'}"
            )
    elif args.command == "worker":
        from .jobs import worker

        count = worker.serve(_store(settings), settings, drain=args.drain)
        print(f"worker {os.getpid()}: {count} job(s) run", file=sys.stderr)
    elif args.command == "versions":
        layer = _store(settings).get(args.layer, published=False)
        for version in layer.versions:
            mark = "*" if version.id == layer.current else " "
            print(
                f"{mark} {version.id}\t{version.status}\t{version.created}\t{version.source_name}"
            )
    elif args.command == "publish":
        store = _store(settings)
        store.publish(args.layer, args.version)
        print(f"layer {args.layer!r} now serves version {args.version}")
    elif any(args.command in m.COMMANDS for m in _COMMAND_MODULES):
        module = next(m for m in _COMMAND_MODULES if args.command in m.COMMANDS)
        return int(module.run(args, settings))
    elif args.command == "serve":
        import uvicorn

        from .app import create_app

        print(
            f"twin {__version__}: serving {settings.data_dir} at http://{args.host}:{args.port}",
            file=sys.stderr,
        )
        app = create_app(settings.model_copy(update={"start_workers": True}))
        uvicorn.run(app, host=args.host, port=args.port, log_level="info")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    overrides: dict[str, Any] = {}
    if args.data_dir is not None:
        overrides["data_dir"] = args.data_dir
    try:
        try:
            settings = Settings(**overrides)
        except SettingsInvalid as exc:
            print(f"twin: error: {settings_error(exc)}", file=sys.stderr)
            return EXIT_USAGE
        if settings.proj_grid_dir is not None:
            georef.use_grid_directory(settings.proj_grid_dir)
        return run(args, settings)
    except (TilesError, TwinError, CatalogueError, SensorError) as exc:
        if args.debug:
            traceback.print_exc()
        line = exc.one_line() if isinstance(exc, TilesError) else f"{exc.message} [{exc.code}]"
        print(f"twin: error: {line}", file=sys.stderr)
        return EXIT_INPUT
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        if args.debug or os.environ.get("TWIN_DEBUG"):
            traceback.print_exc()
        print(
            f"twin: internal error: {type(exc).__name__}: {exc} (run with --debug for the "
            "traceback)",
            file=sys.stderr,
        )
        return EXIT_INTERNAL
