"""One measured run, in a fresh interpreter so its peak memory is its own.

``python -m bench._run MODE SOURCE OUT_DIR [PROFILE_OUT]`` prints one JSON line on stdout.

MODE is ``parse`` (the baseline: read the file, ``orjson.loads`` it, decode the vertices
with numpy and take their bounds: the floor any Python CityJSON converter pays),
``convert`` (``tiles.convert`` with the default options), ``phases`` (convert with
wall-clock timers around its stages) or ``cprofile`` (convert under cProfile, the stats
dumped to PROFILE_OUT).
"""

from __future__ import annotations

import json
import resource
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import orjson

import tiles
from tiles import ConvertOptions, convert


def _peak_mb() -> float:
    """Peak resident memory of this process (MB).

    ``VmHWM`` of /proc/self/status, which belongs to this process image only. Not
    ``ru_maxrss``: on Linux it survives fork + exec, so a child started by a parent that
    once held 2.5 GB reports 2.5 GB whatever it does itself.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024  # kB
    except OSError:  # not Linux
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def parse(source: Path) -> dict[str, Any]:
    started = time.perf_counter()
    doc = orjson.loads(source.read_bytes())
    tr = doc["transform"]
    v = np.asarray(doc["vertices"], dtype=np.float64)
    v = v * np.asarray(tr["scale"]) + np.asarray(tr["translate"])
    lo, hi = v.min(axis=0), v.max(axis=0)
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "vertices": int(v.shape[0]),
        "objects": len(doc["CityObjects"]),
        "bounds": [*lo.tolist(), *hi.tolist()],
    }


def run_convert(source: Path, out: Path) -> dict[str, Any]:
    started = time.perf_counter()
    report = convert(source, out, ConvertOptions(crs=None, lod=None, max_tile_bytes=1_500_000))
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "report_seconds": report.seconds,
        "feature_count": report.feature_count,
        "object_count": report.object_count,
        "triangle_count": report.triangle_count,
        "tile_count": report.tile_count,
        "bytes_total": report.bytes_total,
        "bytes_max_tile": report.bytes_max_tile,
        "lods": report.lods,
        "types": report.types,
    }


# -- stage timers (low overhead, unlike cProfile) -----------------------------------------
_STAGES: dict[str, list[float]] = defaultdict(lambda: [0.0, 0])


def _timed(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        t = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            s = _STAGES[name]
            s[0] += time.perf_counter() - t
            s[1] += 1

    return wrapper


def _patch(owner: Any, attr: str, name: str) -> None:
    setattr(owner, attr, _timed(name, getattr(owner, attr)))


def phases(source: Path, out: Path) -> dict[str, Any]:
    import inspect

    from tiles import gltf, polygons, readers
    from tiles.readers import cityjson as cj

    conv = sys.modules["tiles.convert"]

    _patch(readers, "read", "read (reader total)")
    _patch(cj.orjson, "loads", "read: orjson.loads")
    _patch(cj._Reader, "vertices", "read: vertices decode")
    _patch(cj._Reader, "_polygons", "read: _polygons (walk, index checks, gather)")
    _patch(cj, "_gather", "read: _gather (index checks + gather)")
    _patch(polygons.PolygonBatch, "meshes", "read: PolygonBatch.meshes (triangulate + split)")
    _patch(polygons, "triangulate_polygons", "read: triangulate_polygons")
    _patch(polygons, "clean_rings", "read: clean_rings")
    _patch(polygons, "_earcut", "read: _earcut (concave polygons)")
    _patch(polygons, "triangulate", "read: triangulate (polygons with holes)")
    _patch(cj._Inheritance, "attributes", "read: attribute inheritance")
    _patch(cj.Mesh, "concat", "read: Mesh.concat")
    _patch(conv.georef, "choose_axis_order", "georef: choose_axis_order")
    _patch(conv, "_geodetic", "georef: pyproj to lon/lat/h")
    _patch(conv, "_to_enu", "georef: to local ENU")
    _patch(conv, "_write_tiles", "write (tiles total)")
    _patch(conv, "build_tree", "write: build_tree")
    _patch(conv, "build_schema", "write: build_schema")
    _patch(conv, "_tile_mesh", "write: _tile_mesh (gather)")
    _patch(conv, "write_glb", "write: write_glb")
    for attr in dir(gltf):
        fn = getattr(gltf, attr)
        if attr.startswith("_") and inspect.isfunction(fn) and fn.__module__ == gltf.__name__:
            _patch(gltf, attr, f"write: gltf.{attr}")
    _patch(gltf, "column", "write: metadata.column (property values)")
    _patch(gltf, "encode", "write: metadata.encode (property tables)")
    _patch(conv, "tileset_json", "write: tileset_json")
    result = run_convert(source, out)
    result["stages"] = {
        k: {"seconds": round(v[0], 3), "calls": v[1], "share": round(v[0] / result["seconds"], 4)}
        for k, v in sorted(_STAGES.items(), key=lambda kv: kv[0])
    }
    return result


def cprofile(source: Path, out: Path, prof_out: Path) -> dict[str, Any]:
    import cProfile
    import io
    import pstats

    prof = cProfile.Profile()
    prof.enable()
    result = run_convert(source, out)
    prof.disable()
    prof.dump_stats(str(prof_out))
    text = io.StringIO()
    stats = pstats.Stats(prof, stream=text).strip_dirs()
    stats.sort_stats("tottime").print_stats(30)
    stats.sort_stats("cumulative").print_stats(40)
    prof_out.with_suffix(".txt").write_text(text.getvalue(), encoding="utf-8")
    return result


def main(argv: list[str]) -> int:
    mode, source, out = argv[0], Path(argv[1]), Path(argv[2])
    if mode == "parse":
        result = parse(source)
    elif mode == "convert":
        result = run_convert(source, out)
    elif mode == "phases":
        result = phases(source, out)
    elif mode == "cprofile":
        result = cprofile(source, out, Path(argv[3]))
    else:
        raise SystemExit(f"unknown mode {mode!r}")
    result.update(mode=mode, peak_rss_mb=round(_peak_mb(), 1), tiles_version=tiles.__name__)
    sys.stdout.write(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
