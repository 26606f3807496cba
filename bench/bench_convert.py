"""Conversion benchmark: real CityJSON buildings on a grid, converted to 3D Tiles 1.1.

    python -m bench.bench_convert --buildings 50000 --repeat 3

Generates (or reuses) ``bench/out/grid-<N>.city.json`` with :mod:`bench.make_grid_city`,
then, R times and interleaved, runs in fresh subprocesses:

* the **baseline**: read + ``orjson.loads`` + numpy decode of the vertices of the same
  file (``bench/_run.py parse``), the floor any Python CityJSON converter pays;
* the **conversion**: ``tiles.convert`` with the default options.

Both are timed inside the child (interpreter start-up and imports excluded); peak memory is
the child's own VmHWM (peak RSS). The same is done for a small city (``--small``, default
5,000) to show scaling. Medians are reported, plus the ratio convert / baseline, which is
what to compare across machines. Results go to ``bench/out/bench-<timestamp>.json``.
See docs/BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from . import make_grid_city

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "bench" / "out"


def _child(mode: str, source: Path, out: Path, *extra: str) -> dict[str, Any]:
    shutil.rmtree(out, ignore_errors=True)
    proc = subprocess.run(
        [sys.executable, "-m", "bench._run", mode, str(source), str(out), *extra],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr)
        raise SystemExit(f"bench child '{mode}' failed ({proc.returncode})")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _env() -> dict[str, Any]:
    from importlib.metadata import PackageNotFoundError, version

    import numpy
    import orjson
    import pyproj

    try:
        earcut = version("mapbox-earcut")
    except PackageNotFoundError:  # pragma: no cover
        earcut = "missing"
    mem_gib = None
    try:
        import psutil

        mem_gib = round(psutil.virtual_memory().total / 2**30, 1)
    except ImportError:  # pragma: no cover
        pass
    return {
        "python": platform.python_version(),
        "numpy": numpy.__version__,
        "pyproj": pyproj.__version__,
        "proj": pyproj.proj_version_str,
        "orjson": orjson.__version__,
        "mapbox_earcut": earcut,
        "cpus": os.cpu_count(),
        "memory_gib": mem_gib,
        "machine": platform.machine(),
        "platform": platform.platform(),
    }


def _summary(
    n: int, info: make_grid_city.GridInfo, base: list[dict[str, Any]], conv: list[dict[str, Any]]
) -> dict[str, Any]:
    t_conv = statistics.median(r["seconds"] for r in conv)
    t_base = statistics.median(r["seconds"] for r in base)
    last = conv[-1]
    return {
        "buildings": n,
        "city_objects": info.city_objects,
        "vertices": info.vertices,
        "input_mb": round(info.bytes / 1e6, 1),
        "repeat": len(conv),
        "features": last["feature_count"],
        "triangles": last["triangle_count"],
        "convert_s_median": round(t_conv, 2),
        "convert_s_all": [round(r["seconds"], 2) for r in conv],
        "baseline_s_median": round(t_base, 3),
        "baseline_s_all": [round(r["seconds"], 3) for r in base],
        "ratio_convert_over_baseline": round(
            statistics.median(c["seconds"] / b["seconds"] for c, b in zip(conv, base, strict=True)),
            1,
        ),
        "buildings_per_s": round(n / t_conv, 1),
        "triangles_per_s": round(last["triangle_count"] / t_conv),
        "peak_rss_mb_median": round(statistics.median(r["peak_rss_mb"] for r in conv)),
        "peak_rss_mb_max": round(max(r["peak_rss_mb"] for r in conv)),
        "baseline_peak_rss_mb": round(statistics.median(r["peak_rss_mb"] for r in base)),
        "output_mb": round(last["bytes_total"] / 1e6, 1),
        "tiles": last["tile_count"],
        "max_tile_mb": round(last["bytes_max_tile"] / 1e6, 3),
    }


def _table(rows: list[dict[str, Any]]) -> str:
    cols = [
        ("buildings", "buildings"),
        ("triangles", "triangles"),
        ("repeat", "runs"),
        ("convert_s_median", "convert s"),
        ("baseline_s_median", "parse s"),
        ("ratio_convert_over_baseline", "convert/parse"),
        ("buildings_per_s", "bldg/s"),
        ("triangles_per_s", "tri/s"),
        ("peak_rss_mb_median", "peak RSS MB"),
        ("output_mb", "output MB"),
        ("tiles", "tiles"),
        ("max_tile_mb", "max tile MB"),
    ]
    head = " | ".join(h for _, h in cols)
    lines = [f"| {head} |", "|" + "|".join("---:" for _ in cols) + "|"]
    for r in rows:
        lines.append(
            "| "
            + " | ".join(f"{r[k]:,}" if isinstance(r[k], int) else str(r[k]) for k, _ in cols)
            + " |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="twin conversion benchmark (docs/BENCHMARKS.md)")
    ap.add_argument("--buildings", type=int, default=50_000, help="big city (default 50,000)")
    ap.add_argument(
        "--small",
        type=int,
        default=5_000,
        help="small city for the scaling ratio (default 5,000; 0: skip)",
    )
    ap.add_argument("--repeat", type=int, default=3, help="repetitions of the big city")
    ap.add_argument(
        "--small-repeat",
        type=int,
        default=None,
        help="repetitions of the small city (default: --repeat)",
    )
    ap.add_argument(
        "--profile",
        choices=("none", "phases", "cprofile", "both"),
        default="none",
        help="after the timed runs, profile one big conversion (not timed)",
    )
    ap.add_argument(
        "--source",
        type=Path,
        action="append",
        help="source CityJSON file(s); default: 3DBAG LoD2.2 from ../shared/data, "
        "else data/demo/delft.city.json",
    )
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--keep-output", action="store_true", help="keep the last tilesets")
    args = ap.parse_args(argv)
    small_repeat = args.small_repeat or args.repeat
    args.out.mkdir(parents=True, exist_ok=True)
    sources = args.source or make_grid_city.default_sources()

    sizes = [(args.buildings, args.repeat)]
    if args.small and args.small != args.buildings:
        sizes.append((args.small, small_repeat))
    infos = {}
    for n, _ in sizes:
        infos[n] = make_grid_city.cached(args.out / f"grid-{n}.city.json", n, sources)
    env = _env()
    big = infos[args.buildings]
    bar = "=" * 78
    print(bar)
    print(
        f"twin conversion benchmark: {big.buildings:,} buildings generated "
        f"({'at least 50,000' if big.buildings >= 50_000 else 'FEWER than 50,000'}"
        f" buildings; each Building with its BuildingParts counts once)"
    )
    print(
        f"  {big.source_buildings} real buildings (LoD {', '.join(big.lods)}) from "
        f"{', '.join(Path(s).name for s in big.sources)}"
    )
    print(
        f"  replicated on a {big.grid[0]} x {big.grid[1]} grid of {big.spacing_m:g} m, "
        f"{big.city_objects:,} city objects, {big.vertices:,} vertices, "
        f"{big.bytes / 1e6:.0f} MB CityJSON 2.0, CRS {big.crs}"
    )
    if len(sizes) > 1:
        print(f"  small city for scaling: {args.small:,} buildings")
    print(
        f"  Python {env['python']}, numpy {env['numpy']}, pyproj {env['pyproj']} "
        f"(PROJ {env['proj']}), orjson {env['orjson']}, mapbox-earcut {env['mapbox_earcut']}"
    )
    print(f"  {env['cpus']} CPUs, {env['memory_gib']} GiB, {env['platform']}")
    print(f"  repetitions: {args.repeat} (big), {small_repeat} (small); medians reported")
    print(bar, flush=True)

    runs: dict[int, dict[str, list[dict[str, Any]]]] = {
        n: {"base": [], "conv": []} for n, _ in sizes
    }
    started = time.perf_counter()
    for rep in range(max(r for _, r in sizes)):
        for n, reps in sizes:
            if rep >= reps:
                continue
            src = Path(infos[n].path)
            tiles_dir = args.out / f"tiles-{n}"
            b = _child("parse", src, tiles_dir)
            c = _child("convert", src, tiles_dir)
            if not args.keep_output:
                shutil.rmtree(tiles_dir, ignore_errors=True)
            runs[n]["base"].append(b)
            runs[n]["conv"].append(c)
            print(
                f"  run {rep + 1}: {n:>7,} buildings  parse {b['seconds']:7.2f} s  "
                f"convert {c['seconds']:7.2f} s  ({n / c['seconds']:7.1f} bldg/s, "
                f"peak {c['peak_rss_mb']:,.0f} MB)",
                flush=True,
            )
    rows = [_summary(n, infos[n], runs[n]["base"], runs[n]["conv"]) for n, _ in sizes]
    scaling = None
    if len(rows) == 2:
        scaling = {
            "buildings_ratio": round(rows[0]["buildings"] / rows[1]["buildings"], 2),
            "time_ratio": round(rows[0]["convert_s_median"] / rows[1]["convert_s_median"], 2),
            "peak_rss_ratio": round(
                rows[0]["peak_rss_mb_median"] / rows[1]["peak_rss_mb_median"], 2
            ),
        }
    print(bar)
    print(_table(rows))
    if scaling:
        print(
            f"scaling {rows[0]['buildings']:,}/{rows[1]['buildings']:,} buildings "
            f"(x{scaling['buildings_ratio']}): time x{scaling['time_ratio']}, "
            f"peak RSS x{scaling['peak_rss_ratio']} (linear would be "
            f"x{scaling['buildings_ratio']})"
        )
    print(f"benchmark wall time {time.perf_counter() - started:.0f} s")

    profile: dict[str, Any] = {}
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    if args.profile in ("phases", "both"):
        p = _child("phases", Path(big.path), args.out / "tiles-profile")
        profile["phases"] = p["stages"]
        profile["phases_total_s"] = round(p["seconds"], 2)
        print(
            f"stages of one {big.buildings:,}-building conversion ({p['seconds']:.1f} s, "
            "inclusive wall time, nested stages overlap):"
        )
        for name, s in sorted(p["stages"].items(), key=lambda kv: -kv[1]["seconds"]):
            if s["share"] >= 0.005:
                print(
                    f"  {s['share'] * 100:5.1f} %  {s['seconds']:8.2f} s  {s['calls']:>9,} "
                    f"calls  {name}"
                )
    if args.profile in ("cprofile", "both"):
        prof = args.out / f"profile-{big.buildings}-{stamp}.prof"
        p = _child("cprofile", Path(big.path), args.out / "tiles-profile", str(prof))
        profile["cprofile"] = str(prof.with_suffix(".txt"))
        profile["cprofile_total_s"] = round(p["seconds"], 2)
        print(
            f"cProfile of one conversion ({p['seconds']:.1f} s under the profiler): "
            f"{prof.with_suffix('.txt')}"
        )
    shutil.rmtree(args.out / "tiles-profile", ignore_errors=True)

    result = {
        "created": stamp,
        "env": env,
        "grid": {n: vars(i) for n, i in infos.items()},
        "results": rows,
        "scaling": scaling,
        "runs": runs,
        "profile": profile,
    }
    path = args.out / f"bench-{stamp}.json"
    path.write_text(json.dumps(result, indent=1), encoding="utf-8")
    print(f"results: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
