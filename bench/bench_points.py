"""Point-cloud benchmark: ``tiles.convert`` against py3dtiles' own ``convert`` on one LAS.

    python -m bench.bench_points --points 3000000 --repeat 3

Generates (or reuses) ``bench/out/terrain-<N>.las``: synthetic terrain with trees in
SWEREF 99 TM (EPSG:3006, GeoKeys), RGB, classification and intensity. Then, R times and
interleaved, each in a fresh interpreter:

* the **baseline**: ``py3dtiles.convert.convert`` with ``crs_out=EPSG:4978`` and
  ``pyproj_always_xy=True`` (without it SWEREF 99 TM lands on the equator), the CRS read
  from the file, the same attributes (RGB, classification, intensity) and 2 jobs;
* **ours**: ``tiles.convert`` with the default options (our placement, then the same
  py3dtiles tiler on the placed points).

Both are timed inside the child (interpreter start-up and imports excluded; numba's
compilation is warmed up by a first untimed run). Peak memory is sampled every 50 ms as
the sum of the resident memory of the child and its worker processes (py3dtiles forks
workers), and the child's own VmHWM. Medians are reported, with the ratios ours /
baseline. Results go to ``bench/out/bench-points-<timestamp>.json``. See docs/BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "bench" / "out"
ORIGIN = (356_000.0, 6_214_000.0)  # Helsingborg, SWEREF 99 TM
SPACING = 0.25  # metres between points


def make_las(path: Path, count: int) -> Path:
    """Synthetic terrain: a grid with jitter, hills, and trees 8-15 m tall on 8 % of it."""
    import laspy
    import numpy as np
    from pyproj import CRS

    side = int(np.ceil(np.sqrt(count)))
    header = laspy.LasHeader(point_format=3, version="1.2")
    header.scales = np.array([0.01, 0.01, 0.01])
    header.offsets = np.array([ORIGIN[0], ORIGIN[1], 0.0])
    header.add_crs(CRS.from_epsg(3006))
    rng = np.random.default_rng(42)
    tmp = path.with_suffix(".part")
    with laspy.open(tmp, mode="w", header=header) as writer:
        for start in range(0, count, 1_000_000):
            idx = np.arange(start, min(count, start + 1_000_000))
            i, j = idx // side, idx % side
            x = ORIGIN[0] + i * SPACING + rng.uniform(0, SPACING, idx.size)
            y = ORIGIN[1] + j * SPACING + rng.uniform(0, SPACING, idx.size)
            ground = 20 + 6 * np.sin(i / 300) + 4 * np.cos(j / 170)
            tree = rng.random(idx.size) < 0.08
            z = ground + np.where(tree, rng.uniform(8, 15, idx.size), rng.normal(0, 0.05, idx.size))
            rec = laspy.ScaleAwarePointRecord.zeros(idx.size, header=header)
            rec.x, rec.y, rec.z = x, y, z
            rec.classification = np.where(tree, 5, 2).astype(np.uint8)
            rec.intensity = rng.integers(0, 4000, idx.size).astype(np.uint16)
            green = np.where(tree, 40000, 25000) + rng.integers(0, 5000, idx.size)
            rec.red = np.full(idx.size, 20000)
            rec.green = green.astype(np.uint16)
            rec.blue = np.full(idx.size, 15000)
            writer.write_points(rec)
    tmp.rename(path)
    return path


# -- child ---------------------------------------------------------------------------------


class _Sampler:
    """Peak of the summed RSS of this process and its descendants."""

    def __init__(self) -> None:
        import psutil

        self.proc = psutil.Process()
        self.peak = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        import psutil

        while not self.stop.is_set():
            total = 0
            for p in [self.proc, *self.proc.children(recursive=True)]:
                with contextlib.suppress(psutil.Error):
                    total += p.memory_info().rss
            self.peak = max(self.peak, total)
            time.sleep(0.05)

    def __enter__(self) -> _Sampler:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join()


def _vm_hwm_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _baseline(source: Path, out: Path) -> int:
    from py3dtiles.convert import convert
    from pyproj import CRS

    convert(
        source,
        outfolder=out,
        overwrite=True,
        jobs=2,
        crs_out=CRS.from_epsg(4978),
        pyproj_always_xy=True,
        rgb=True,
        extra_fields=["classification", "intensity"],
        use_process_pool=False,
    )
    import laspy

    with laspy.open(source) as f:
        return int(f.header.point_count)


def _ours(source: Path, out: Path) -> int:
    from tiles import convert

    return convert(source, out).point_count


def child(mode: str, source: Path, out: Path) -> dict[str, Any]:
    import py3dtiles.convert  # noqa: F401  (import cost outside the timing)

    import tiles  # noqa: F401

    run = _baseline if mode == "baseline" else _ours
    shutil.rmtree(out, ignore_errors=True)
    with _Sampler() as sampler:
        started = time.perf_counter()
        points = run(source, out)
        seconds = time.perf_counter() - started
    size = sum(p.stat().st_size for p in out.rglob("*.pnts"))
    phases = {}
    if mode == "ours":  # scan (read + bounds), place (georef + temporary LAS), tile (py3dtiles)
        phases = json.loads((out / "report.json").read_text())["points"]["timings"]
    return {
        "mode": mode,
        "phases": phases,
        "seconds": seconds,
        "points": points,
        "points_per_s": points / seconds,
        "peak_tree_mb": sampler.peak / 1e6,
        "peak_main_mb": _vm_hwm_mb(),
        "pnts_bytes": size,
    }


# -- parent --------------------------------------------------------------------------------


def _spawn(mode: str, source: Path, out: Path) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, "-m", "bench.bench_points", "--child", mode, str(source), str(out)],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr[-4000:])
        raise SystemExit(f"bench child '{mode}' failed ({proc.returncode})")
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def _median(runs: list[dict[str, Any]], key: str) -> float:
    return float(statistics.median(r[key] for r in runs))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--points", type=int, default=3_000_000)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--child", nargs=3, metavar=("MODE", "SOURCE", "OUT"), help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        mode, source, out = args.child
        print(json.dumps(child(mode, Path(source), Path(out))))
        return 0
    OUT.mkdir(parents=True, exist_ok=True)
    source = OUT / f"terrain-{args.points}.las"
    if not source.exists():
        print(f"writing {source.name} ...", file=sys.stderr)
        make_las(source, args.points)
    work = OUT / "points-work"
    print("warming up (numba compiles py3dtiles' kernels once) ...", file=sys.stderr)
    _spawn("ours", source, work / "warm")
    runs: dict[str, list[dict[str, Any]]] = {"baseline": [], "ours": []}
    for i in range(args.repeat):
        for mode in ("baseline", "ours"):
            r = _spawn(mode, source, work / mode)
            runs[mode].append(r)
            print(
                f"run {i + 1} {mode:8s} {r['seconds']:7.2f} s  {r['points_per_s'] / 1e6:5.3f} "
                f"M points/s  peak {r['peak_tree_mb']:6.0f} MB (main {r['peak_main_mb']:.0f}) "
                f"{r['phases'] or ''}",
                file=sys.stderr,
            )
    shutil.rmtree(work, ignore_errors=True)
    summary = {
        mode: {
            key: _median(rs, key)
            for key in ("seconds", "points_per_s", "peak_tree_mb", "peak_main_mb", "pnts_bytes")
        }
        for mode, rs in runs.items()
    }
    ratio = {
        "time": summary["ours"]["seconds"] / summary["baseline"]["seconds"],
        "peak_memory": summary["ours"]["peak_tree_mb"] / summary["baseline"]["peak_tree_mb"],
    }
    from importlib.metadata import version

    result = {
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "versions": {
            n: version(n) for n in ("py3dtiles", "numba", "numpy", "laspy", "laszip", "pyproj")
        },
        "source": {"file": source.name, "points": args.points, "bytes": source.stat().st_size},
        "repeat": args.repeat,
        "median": summary,
        "ratio_ours_to_baseline": ratio,
        "runs": runs,
    }
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    (OUT / f"bench-points-{stamp}.json").write_text(json.dumps(result, indent=1))
    print(json.dumps({"median": summary, "ratio": ratio}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
