"""Texture bytes of a textured mesh split into tiles: images cropped per tile against
images embedded whole in every tile that uses them (the behaviour before cropping).

    python -m bench.bench_textures --repeat 5 [--vertices 400] [--image 2048] [--noise 12]

The input is the test suite's textured terrain (``tests/textured_mesh.py``): an OBJ of
``vertices`` x ``vertices`` points over a 200 m square, one PNG of ``image`` pixels in
two charts, as photogrammetry exports are. Its flat checker colours get per-texel noise
(normal, sigma ``noise``, 12 by default), so the images encode to about the bytes of a
photograph; ``--noise 0`` keeps the flat drawing. The tiler splits it into chunks that fit a
tile and builds decimated parents with halved textures.

Both variants run in this invocation, interleaved, each in a fresh interpreter (this file
with ``--one``): ``whole`` sets the crop threshold below zero, so no image is cropped, as
before; ``cropped`` is the default. Each run reports the conversion time, the bytes of
every tile, the texture bytes (of all tiles, and of the parents), and the texels of the
leaves' images. Medians over the repeats are printed with the ratio cropped / whole.
Results go to ``bench/out/textures-<UTC time>.json``; method and figures in
docs/BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import io
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "bench" / "out"
ORIGIN = (361000.0, 6214000.0, 20.0)  # Helsingborg, SWEREF 99 TM


def make_source(folder: Path, vertices: int, image: int, noise: float) -> Path:
    sys.path.insert(0, str(REPO / "tests"))
    import numpy as np
    import textured_mesh
    from PIL import Image

    textured_mesh.IMAGE_PIXELS = image
    obj = Path(textured_mesh.write(folder, n=vertices))
    png = obj.with_suffix(".png")
    pixels = np.asarray(Image.open(png).convert("RGB"), dtype=np.float64)
    if noise > 0:
        pixels += np.random.default_rng(1).normal(0.0, noise, pixels.shape)
    Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)).save(png)
    return obj


def one(variant: str, source: Path, out: Path) -> dict[str, Any]:
    """One conversion in this interpreter; what it wrote."""
    import tiles.textures
    from tiles import ConvertOptions, convert

    if variant == "whole":
        tiles.textures._CROP_SHARE = -1.0  # never crop: every tile embeds whole images
    options = ConvertOptions(crs="EPSG:3006", origin=ORIGIN)
    started = time.perf_counter()
    report = convert(source, out, options)
    seconds = time.perf_counter() - started
    tileset = json.loads((out / "tileset.json").read_text())
    leaf_texels = 0
    stack = [tileset["root"]]
    while stack:
        tile = stack.pop()
        stack.extend(tile.get("children", []))
        if "content" in tile and not tile.get("children"):
            leaf_texels += _texels(out / tile["content"]["uri"])
    return {
        "seconds": seconds,
        "tiles": report.tile_count,
        "bytes_total": report.bytes_total,
        "texture_bytes": report.appearance["texture_bytes"],
        "parent_texture_bytes": report.appearance["parent_texture_bytes"],
        "cropped_textures": report.appearance["cropped_textures"],
        "leaf_texels": leaf_texels,
    }


def _texels(glb: Path) -> int:
    """Pixels of the images a glb embeds."""
    from PIL import Image

    from tiles.compress import read_glb

    doc, binary = read_glb(glb.read_bytes())
    total = 0
    for img in doc.get("images", []):
        view = doc["bufferViews"][img["bufferView"]]
        start = view.get("byteOffset", 0)
        w, h = Image.open(io.BytesIO(binary[start : start + view["byteLength"]])).size
        total += w * h
    return total


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--vertices", type=int, default=400)
    ap.add_argument("--image", type=int, default=2048)
    ap.add_argument("--noise", type=float, default=12.0)
    ap.add_argument("--one", nargs=3, metavar=("VARIANT", "SOURCE", "OUT"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        variant, source, out = args.one
        print(json.dumps(one(variant, Path(source), Path(out))))
        return 0
    work = Path(tempfile.mkdtemp(prefix="twin-bench-textures-"))
    try:
        source = make_source(work / "src", args.vertices, args.image, args.noise)
        runs: dict[str, list[dict[str, Any]]] = {"whole": [], "cropped": []}
        for r in range(args.repeat):
            for variant in ("whole", "cropped"):
                out = work / f"{variant}-{r}"
                done = subprocess.run(
                    [
                        sys.executable,
                        "-m",
                        "bench.bench_textures",
                        "--one",
                        variant,
                        str(source),
                        str(out),
                    ],
                    cwd=REPO,
                    capture_output=True,
                    text=True,
                    check=True,
                )
                runs[variant].append(json.loads(done.stdout.strip().splitlines()[-1]))
                shutil.rmtree(out)
        keys = list(runs["whole"][0])
        medians = {v: {k: statistics.median(x[k] for x in runs[v]) for k in keys} for v in runs}
        ratios = {
            k: medians["cropped"][k] / medians["whole"][k] for k in keys if medians["whole"][k]
        }
        result = {
            "when": datetime.now(UTC).isoformat(timespec="seconds"),
            "vertices": args.vertices,
            "image": args.image,
            "noise": args.noise,
            "repeat": args.repeat,
            "runs": runs,
            "medians": medians,
            "ratio_cropped_to_whole": ratios,
        }
        OUT.mkdir(exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        (OUT / f"textures-{stamp}.json").write_text(json.dumps(result, indent=2))
        print(f"{'':24}{'whole':>14}{'cropped':>14}{'ratio':>8}")
        for k in keys:
            w, c = medians["whole"][k], medians["cropped"][k]
            ratio = f"{ratios[k]:.2f}" if k in ratios else "-"
            print(f"{k:24}{w:>14,.2f}{c:>14,.2f}{ratio:>8}")
        return 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
