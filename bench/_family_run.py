"""One measured run of :mod:`bench.bench_families`, in a fresh interpreter.

``python -m bench._family_run MODE SOURCE OUT_DIR`` prints one JSON line: MODE is
``citygml-parse`` (lxml iterparse + every posList decoded with numpy: the floor of any
Python CityGML reader), ``footprints-read`` (pyogrio.read_dataframe) or ``convert``
(``tiles.convert`` with the default options).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench._run import _peak_mb


def citygml_parse(source: Path) -> dict[str, Any]:
    from lxml import etree

    started = time.perf_counter()
    lo, hi = np.full(3, np.inf), np.full(3, -np.inf)
    rings = 0
    for _, el in etree.iterparse(
        str(source), tag="{http://www.opengis.net/gml/3.2}posList", resolve_entities=False
    ):
        v = np.array((el.text or "").split(), dtype=np.float64).reshape(-1, 3)
        lo, hi = np.minimum(lo, v.min(axis=0)), np.maximum(hi, v.max(axis=0))
        rings += 1
        el.clear()
    return {"seconds": time.perf_counter() - started, "rings": rings}


def footprints_read(source: Path) -> dict[str, Any]:
    import pyogrio

    started = time.perf_counter()
    df = pyogrio.read_dataframe(source)
    return {"seconds": time.perf_counter() - started, "rows": len(df)}


def run_convert(source: Path, out: Path) -> dict[str, Any]:
    from tiles import ConvertOptions, convert

    started = time.perf_counter()
    report = convert(source, out, ConvertOptions())
    return {
        "seconds": time.perf_counter() - started,
        "feature_count": report.feature_count,
        "triangle_count": report.triangle_count,
        "tile_count": report.tile_count,
        "bytes_total": report.bytes_total,
    }


def main(argv: list[str]) -> int:
    mode, source, out = argv[0], Path(argv[1]), Path(argv[2])
    if mode == "citygml-parse":
        result = citygml_parse(source)
    elif mode == "footprints-read":
        result = footprints_read(source)
    elif mode == "convert":
        result = run_convert(source, out)
    else:
        raise SystemExit(f"unknown mode {mode!r}")
    result["peak_rss_mb"] = _peak_mb()
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
