"""Per-family conversion benchmarks: CityGML and footprints, each against its own baseline.

    python -m bench.bench_families --repeat 3 [--citygml-copies 200] [--footprint-copies 20]

Inputs are real exports from ``../shared/data`` (set ``TWIN_SHARED_DATA``), replicated on a
grid so that a run takes seconds, not milliseconds:

* **CityGML**: the Opéra de Lyon (CityGML 3.0, LoD2, 2,279 polygons) copied N times, each
  copy shifted by its grid cell and given fresh ``gml:id`` values. Baseline: what any
  Python CityGML reader pays at least: ``lxml.etree.iterparse`` over the file, every
  ``posList`` decoded to a numpy array, bounds taken.
* **Footprints**: the 2,576 BD TOPO footprints of Lyon 1er (GeoJSON) copied N times.
  Baseline: ``pyogrio.read_dataframe`` of the same file (the read every footprint
  converter starts with).

Baseline and conversion run R times, interleaved, each in a fresh subprocess
(``bench/_family_run.py``); times are taken inside the child; peak memory is the child's own
``VmHWM``. Medians are reported with the ratio conversion / baseline. Results go to
``bench/out/families-<UTC time>.json``; method and figures in docs/BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from lxml import etree

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "bench" / "out"
GML = "http://www.opengis.net/gml/3.2"
OPERA = "citygml3-lyon-opera/Opera-Lyon_CityGML3.0_LOD2_with_xAL3_FullyStructured.gml"
LYON = "geojson-lyon1-bdtopo-buildings/buildings_lyon1.geojson"


def _shared() -> Path:
    env = os.environ.get("TWIN_SHARED_DATA")
    path = Path(env) if env else REPO.parent / "shared" / "data"
    if not path.is_dir():
        raise SystemExit(f"shared data not found at {path} (set TWIN_SHARED_DATA)")
    return path


def make_citygml(source: Path, copies: int, target: Path) -> dict[str, Any]:
    """``copies`` copies of every city object of ``source``, shifted on a square grid."""
    tree = etree.parse(str(source), etree.XMLParser(resolve_entities=False, no_network=True))
    root = tree.getroot()
    members = [m for m in root if etree.QName(m).localname == "cityObjectMember"]
    coords = [
        float(v)
        for m in members
        for p in m.iter(f"{{{GML}}}posList")
        for v in (p.text or "").split()
    ]
    xs, ys = coords[0::3], coords[1::3]
    cell = max(max(xs) - min(xs), max(ys) - min(ys)) + 20.0
    side = int(copies**0.5 + 0.999)
    for m in members:
        root.remove(m)
    for k in range(copies):
        dx, dy = (k % side) * cell, (k // side) * cell
        for m in members:
            copy = etree.fromstring(etree.tostring(m))
            for el in copy.iter():
                gid = el.get(f"{{{GML}}}id")
                if gid:
                    el.set(f"{{{GML}}}id", f"{gid}.g{k}")
                if el.tag in (f"{{{GML}}}posList", f"{{{GML}}}pos") and el.text:
                    v = [float(t) for t in el.text.split()]
                    for i in range(0, len(v), 3):
                        v[i] += dx
                        v[i + 1] += dy
                    el.text = " ".join(f"{t:.3f}" for t in v)
            root.append(copy)
    grown = (side - 1) * cell  # the model's bounds grew with the grid (its srsName stays)
    for corner in root.iter(f"{{{GML}}}upperCorner"):
        v = [float(t) for t in (corner.text or "").split()]
        if len(v) >= 2:
            corner.text = " ".join(f"{t:.3f}" for t in [v[0] + grown, v[1] + grown, *v[2:]])
    tree.write(str(target), xml_declaration=True, encoding="UTF-8")
    return {"objects": copies * len(members), "bytes": target.stat().st_size}


def make_footprints(source: Path, copies: int, target: Path) -> dict[str, Any]:
    doc = json.loads(source.read_text(encoding="utf-8"))
    feats = doc["features"]

    def bounds(geom: Any) -> list[float]:
        flat: list[list[float]] = []

        def walk(c: Any) -> None:
            if isinstance(c[0], int | float):
                flat.append(c)
            else:
                for x in c:
                    walk(x)

        walk(geom["coordinates"])
        xs, ys = [p[0] for p in flat], [p[1] for p in flat]
        return [min(xs), min(ys), max(xs), max(ys)]

    boxes = [bounds(f["geometry"]) for f in feats]
    cell = max(
        max(b[2] for b in boxes) - min(b[0] for b in boxes),
        max(b[3] for b in boxes) - min(b[1] for b in boxes),
    )
    side = int(copies**0.5 + 0.999)
    out = []
    for k in range(copies):
        dx, dy = (k % side) * cell, (k // side) * cell

        def shift(c: Any, dx: float = dx, dy: float = dy) -> Any:
            if isinstance(c[0], int | float):
                return [c[0] + dx, c[1] + dy, *c[2:]]
            return [shift(x) for x in c]

        for i, f in enumerate(feats):
            g = {"type": f["geometry"]["type"], "coordinates": shift(f["geometry"]["coordinates"])}
            props = dict(f.get("properties") or {})
            props["bench_id"] = f"{k}-{i}"
            out.append({"type": "Feature", "properties": props, "geometry": g})
    doc["features"] = out
    target.write_text(json.dumps(doc), encoding="utf-8")
    return {"objects": len(out), "bytes": target.stat().st_size}


def _child(mode: str, source: Path, out: Path) -> dict[str, Any]:
    shutil.rmtree(out, ignore_errors=True)
    proc = subprocess.run(
        [sys.executable, "-m", "bench._family_run", mode, str(source), str(out)],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr)
        raise SystemExit(f"bench child {mode} failed ({proc.returncode})")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _family(name: str, baseline: str, source: Path, repeat: int) -> dict[str, Any]:
    base, conv = [], []
    out = OUT / f"{name}-tiles"
    for _ in range(repeat):
        base.append(_child(baseline, source, out))
        conv.append(_child("convert", source, out))
        print(
            f"  {name}: baseline {base[-1]['seconds']:.2f} s, convert {conv[-1]['seconds']:.2f} s",
            file=sys.stderr,
        )
    shutil.rmtree(out, ignore_errors=True)
    t_conv = statistics.median(r["seconds"] for r in conv)
    last = conv[-1]
    return {
        "family": name,
        "input_mb": round(source.stat().st_size / 1e6, 1),
        "objects": last["feature_count"],
        "triangles": last["triangle_count"],
        "repeat": repeat,
        "convert_s_median": round(t_conv, 2),
        "convert_s_all": [round(r["seconds"], 2) for r in conv],
        "baseline": baseline,
        "baseline_s_median": round(statistics.median(r["seconds"] for r in base), 3),
        "ratio_convert_over_baseline": round(
            statistics.median(c["seconds"] / b["seconds"] for c, b in zip(conv, base, strict=True)),
            1,
        ),
        "objects_per_s": round(last["feature_count"] / t_conv, 1),
        "triangles_per_s": round(last["triangle_count"] / t_conv),
        "peak_rss_mb_median": round(statistics.median(r["peak_rss_mb"] for r in conv)),
        "baseline_peak_rss_mb": round(statistics.median(r["peak_rss_mb"] for r in base)),
        "output_mb": round(last["bytes_total"] / 1e6, 2),
        "output_bytes_per_object": round(last["bytes_total"] / last["feature_count"]),
        "tiles": last["tile_count"],
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--citygml-copies", type=int, default=200)
    p.add_argument("--footprint-copies", type=int, default=20)
    args = p.parse_args(argv)
    shared = _shared()
    OUT.mkdir(parents=True, exist_ok=True)
    gml = OUT / f"opera-x{args.citygml_copies}.gml"
    geojson = OUT / f"lyon1-x{args.footprint_copies}.geojson"
    made = {
        "citygml": make_citygml(shared / OPERA, args.citygml_copies, gml),
        "footprints": make_footprints(shared / LYON, args.footprint_copies, geojson),
    }
    rows = [
        _family("citygml", "citygml-parse", gml, args.repeat),
        _family("footprints", "footprints-read", geojson, args.repeat),
    ]
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    result = {"created": stamp, "inputs": made, "results": rows}
    (OUT / f"families-{stamp}.json").write_text(json.dumps(result, indent=1), encoding="utf-8")
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
