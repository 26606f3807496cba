"""The object index (``objects.sqlite``): build time and size against the conversion.

Each source is converted ``--repeat`` times with the default options, in this process;
the report gives the conversion's wall-clock seconds (index included) and the index's own
seconds, objects and bytes. Then a few searches are timed on the last index (median of
``--queries`` runs each, connection already open, as the server's cache keeps it).

Sources: the demo city, the largest CityJSON and CityGML in ``../shared/data`` (when
present; the shared ``delft.json`` is byte-identical to the demo and is not run twice)
and any files given on the command line (e.g. a grid city from ``bench.make_grid_city``).

Usage::

    python -m bench.bench_search_index [--repeat 3] [extra sources...]
"""

from __future__ import annotations

import argparse
import filecmp
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from tiles import convert
from tiles.objects_index import INDEX_NAME, ObjectIndex

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data"
QUERIES = ("building", "bestaand", "NL.IMBAG", "0", "x")


def _largest(pattern: tuple[str, ...]) -> Path | None:
    if not SHARED.is_dir():
        return None
    files = [
        p
        for glob in pattern
        for p in SHARED.rglob(glob)
        if "invalid" not in str(p) and "3dtiles" not in str(p)
    ]
    return max(files, key=lambda p: p.stat().st_size, default=None)


def measure(source: Path, repeat: int, queries: int) -> dict[str, Any]:
    totals: list[float] = []
    index_s: list[float] = []
    info: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(repeat):
            out = Path(tmp) / f"out{i}"
            report = convert(source, out)
            totals.append(report.seconds)
            index_s.append(report.search_index["seconds"])
            info = report.search_index
        index = ObjectIndex(out / INDEX_NAME)
        search_ms = {}
        for q in QUERIES:
            runs = []
            for _ in range(queries):
                t = time.perf_counter()
                index.search(q, 10)
                runs.append((time.perf_counter() - t) * 1000)
            search_ms[q] = round(statistics.median(runs), 3)
        tiles_bytes = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
        index.close()
    total, idx = statistics.median(totals), statistics.median(index_s)
    return {
        "source": source.name,
        "source_bytes": source.stat().st_size,
        "objects": info["objects"],
        "convert_s": round(total, 3),
        "index_s": round(idx, 3),
        "index_share": round(idx / total, 4),
        "index_bytes": info["bytes"],
        "version_bytes": tiles_bytes,
        "index_bytes_share": round(info["bytes"] / tiles_bytes, 4),
        "search_ms_median": search_ms,
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--queries", type=int, default=20)
    p.add_argument("sources", nargs="*", type=Path)
    args = p.parse_args(argv)
    sources = [REPO / "data" / "demo" / "delft.city.json"]
    for pattern in (("*.json", "*.jsonl"), ("*.gml",)):
        found = _largest(pattern)
        if found is not None and not filecmp.cmp(found, sources[0], shallow=False):
            sources.append(found)  # the shared Delft export is the demo city itself
    sources += args.sources
    for source in sources:
        print(measure(source, args.repeat, args.queries), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
