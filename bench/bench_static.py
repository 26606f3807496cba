"""Serving a cold page load's files: gzip once (twin) against gzip per request (baseline).

A visitor with an empty cache fetches the viewer page's module list, CesiumJS's module build
and style sheet, and the demo city's tiles. Before twin/compression.py, Starlette's
``GZipMiddleware`` compressed each of those on every request; now each is compressed once
and kept. Both are measured in this process, alternately, ``--rounds`` times:

- **baseline**: the same files through Starlette's ``StaticFiles`` behind
  ``GZipMiddleware`` (the previous set-up), tiles served as plain files from the same
  version directory;
- **twin**: ``create_app`` as ``twin serve`` builds it (the first round compresses and
  fills the cache, which is what a running server holds; it is reported separately).

Requests go through httpx's in-process ASGI transport, one at a time, with
``Accept-Encoding: gzip``, so the figure is the server's own work per page load (no
sockets). Prints medians and the ratio twin / baseline; writes bench/out/.

Usage::

    python -m bench.bench_static [--rounds 15]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.middleware.gzip import GZipMiddleware
from starlette.staticfiles import StaticFiles

from twin.app import create_app
from twin.settings import Settings
from twin.store import Store

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "data" / "demo" / "delft.city.json"
OUT = REPO / "bench" / "out"
GZ = {"Accept-Encoding": "gzip, deflate, br"}


def page_files(client: TestClient) -> list[str]:
    """The URLs of a cold load: the page's preloaded modules, main.js, CesiumJS's index.js
    and widgets.css, the demo's versioned tileset.json and every tile it names."""
    html = client.get("/").text
    urls = re.findall(r'<link rel="modulepreload" href="([^"]+)"', html)
    urls += ["/viewer/js/main.js", "/viewer/css/twin.css", "/cesium/Widgets/widgets.css"]
    tileset_url = client.get("/api/config").json()["layers"][0]["tileset_url"]
    base = tileset_url.rsplit("/", 1)[0]
    urls.append(tileset_url)
    tileset = client.get(tileset_url).json()
    stack = [tileset["root"]]
    while stack:
        tile = stack.pop()
        if "content" in tile:
            urls.append(f"{base}/{tile['content']['uri']}")
        stack.extend(tile.get("children", []))
    return urls


def baseline_app(settings: Settings, version_dir: Path, tiles_prefix: str) -> FastAPI:
    """The previous set-up: StaticFiles behind GZipMiddleware compressing per request."""
    app = FastAPI()
    app.add_middleware(GZipMiddleware, minimum_size=1024)
    app.mount(tiles_prefix, StaticFiles(directory=version_dir), name="tiles")
    app.mount("/viewer", StaticFiles(directory=settings.viewer_dir), name="viewer")
    app.mount("/cesium", StaticFiles(directory=settings.cesium_dir), name="cesium")
    return app


async def one_round(app: Any, urls: list[str]) -> tuple[float, int]:
    """Seconds to fetch every URL once, and the bytes sent (as encoded)."""
    sent = 0
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
        start = time.perf_counter()
        for url in urls:
            r = await client.get(url, headers=GZ)
            if r.status_code != 200:
                raise SystemExit(f"{url}: {r.status_code}")
            sent += r.num_bytes_downloaded  # as encoded on the wire
        return time.perf_counter() - start, sent


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--rounds", type=int, default=15)
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="twin-bench-static-") as tmp:
        data = Path(tmp)
        Store(data).import_file(DEMO, "demo", title="Delft")
        settings = Settings(data_dir=data)
        twin_app = create_app(settings)
        with TestClient(twin_app) as client:
            urls = page_files(client)
            tileset_url = client.get("/api/config").json()["layers"][0]["tileset_url"]
        prefix = tileset_url.rsplit("/", 1)[0]
        version = prefix.rsplit("@", 1)[1]
        version_dir = Store(data).version_dir("demo", version)
        base_app = baseline_app(settings, version_dir, prefix)
        first, _ = asyncio.run(one_round(twin_app, urls))  # fills the cache
        times: dict[str, list[float]] = {"baseline": [], "twin": []}
        sent: dict[str, int] = {}
        for i in range(args.rounds):
            order = [("baseline", base_app), ("twin", twin_app)]
            for name, app in order if i % 2 == 0 else reversed(order):
                seconds, n = asyncio.run(one_round(app, urls))
                times[name].append(seconds)
                sent[name] = n
    med = {k: statistics.median(v) * 1000 for k, v in times.items()}
    summary = {
        "files": len(urls),
        "rounds": args.rounds,
        "median_ms": med,
        "twin_first_round_ms": first * 1000,
        "bytes_sent": sent,
        "ratio": med["twin"] / med["baseline"],
        "runs_ms": {k: [round(x * 1000, 1) for x in v] for k, v in times.items()},
    }
    OUT.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    (OUT / f"bench-static-{stamp}.json").write_text(json.dumps(summary, indent=2))
    print(
        f"{len(urls)} files per cold page load, median of {args.rounds}: "
        f"baseline (gzip per request) {med['baseline']:.0f} ms, "
        f"twin (gzip once) {med['twin']:.0f} ms, ratio {summary['ratio']:.3f}; "
        f"twin's first round (compressing) {first * 1000:.0f} ms; "
        f"bytes sent {sent['baseline']:,} / {sent['twin']:,}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
