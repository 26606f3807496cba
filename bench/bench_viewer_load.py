"""Viewer load time against a bare CesiumJS page, in one invocation (docs/BENCHMARKS.md).

    python -m bench.bench_viewer_load --runs 7
    python -m bench.bench_viewer_load --runs 7 --viewer-dir /tmp/viewer-before  # another viewer/
    python -m bench.bench_viewer_load --runs 7 --latency-ms 40  # 40 ms round trips

Imports the demo city (data/demo/delft.city.json) into a temporary data directory and
serves it with the twin app, which also serves a bare CesiumJS page (bench/bare/). Then,
in Debian's Chromium (headless, SwiftShader, through Playwright), alternately loads

  (a) the bare page: the same CesiumJS module build, tileset URL, camera and viewer
      options (offline Natural Earth II, requestRenderMode), nothing else;
  (b) the twin viewer at the same camera (``#cam=...``: no start-up flight),

each in a fresh browser context (cold cache), ``--runs`` times each. A script injected
before any page script polls on every animation frame and stamps ``performance.now()``
(milliseconds since navigation start) when the tileset says all tiles in view are loaded
(a: ``tileset.tilesLoaded``; b: ``twin.ready`` and the layer's ``tilesLoaded``). Also
counted: bytes of JavaScript received (response bodies as sent, gzip included) in total,
CesiumJS's part (/cesium/) and the viewer's own (/viewer/).

Prints medians and the ratio b/a and writes every run to bench/out/bench-viewer-load-<time>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, sync_playwright

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))
from twinproc import (  # noqa: E402  (tests/ holds the helpers shared with the browser tests)
    CHROMIUM_ARGS,
    DEMO,
    ServerFailed,
    chromium_path,
    free_port,
    run_twin,
    stop,
    wait_healthy,
)

OUT = REPO / "bench" / "out"
VIEWPORT = {"width": 1280, "height": 720}
TIMEOUT_MS = 180_000

#: Stamps the moment the page's tileset has loaded every tile in view.
PROBE = """
(() => {
  const done = () => {
    const bare = window.bare;
    if (bare) return bare.tileset.tilesLoaded;
    const t = window.twin;
    return !!(t && t.ready && t.layers.demo && t.layers.demo.tilesLoaded);
  };
  const tick = () => {
    if (done()) window.__loadedAt = performance.now();
    else requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
})();
"""


def _get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=30) as r:
        return json.loads(r.read())


def load_once(browser: Browser, url: str, latency_ms: float = 0) -> dict[str, Any]:
    """One cold load of ``url``: time to all tiles loaded (ms) and JS bytes received.
    ``latency_ms`` > 0 adds that much round-trip time to every request (Chromium's own
    network emulation, as DevTools' throttling), bandwidth unlimited."""
    context = browser.new_context(viewport=VIEWPORT, locale="sv-SE")  # type: ignore[arg-type]
    js: dict[str, int] = {}
    scripts: list[Any] = []
    errors: list[str] = []

    def finished(request: Any) -> None:
        if request.url.split("?")[0].endswith((".js", ".mjs")):
            scripts.append(request)

    try:
        page = context.new_page()
        if latency_ms > 0:
            cdp = context.new_cdp_session(page)
            cdp.send("Network.enable")
            cdp.send(
                "Network.emulateNetworkConditions",
                {
                    "offline": False,
                    "latency": latency_ms,
                    "downloadThroughput": -1,
                    "uploadThroughput": -1,
                },
            )
        page.add_init_script(PROBE)
        page.on("requestfinished", finished)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(url)
        page.wait_for_function("window.__loadedAt !== undefined", timeout=TIMEOUT_MS)
        loaded_ms = page.evaluate("window.__loadedAt")
        # Requests still finishing (workers started meanwhile) are counted too.
        page.wait_for_load_state("networkidle", timeout=TIMEOUT_MS)
        for request in scripts:  # sizes while the page is open (asked later, they are gone)
            js[request.url] = request.sizes()["responseBodySize"]
    finally:
        context.close()
    if errors:
        raise SystemExit(f"{url}: page errors: {errors}")
    own_urls = [u for u in js if "/viewer/" in u or "/bench/bare/" in u]
    own = sum(js[u] for u in own_urls)
    cesium = sum(n for u, n in js.items() if "/cesium/" in u)
    return {
        "loaded_ms": round(loaded_ms, 1),
        "js_bytes": sum(js.values()),
        "js_cesium_bytes": cesium,
        "js_own_bytes": own,
        "js_own_files": len(own_urls),
        "js_files": len(js),
    }


def _median(rows: list[dict[str, Any]], key: str) -> float:
    return float(statistics.median(r[key] for r in rows))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--runs", type=int, default=7, help="loads of each page (default 7)")
    ap.add_argument("--label", default="", help="a note stored with the results")
    ap.add_argument(
        "--latency-ms",
        type=float,
        default=0,
        help="emulated round-trip time added to every request (default 0: loopback)",
    )
    ap.add_argument(
        "--viewer-dir",
        type=Path,
        help="serve this copy of viewer/ instead (e.g. an older commit's, from git archive)",
    )
    args = ap.parse_args(argv)
    chromium, looked = chromium_path()
    if chromium is None:
        raise SystemExit(f"Chromium not found at {looked!r} (set TWIN_CHROMIUM)")

    with tempfile.TemporaryDirectory(prefix="twin-bench-viewer-") as tmp:
        data_dir = Path(tmp)
        done = run_twin(data_dir, "import", str(DEMO), "--layer", "demo", "--title", "Delft")
        if done.returncode:
            raise SystemExit(f"twin import failed:\n{done.stderr}")
        port = free_port()
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        if args.viewer_dir:
            env["TWIN_VIEWER_DIR"] = str(args.viewer_dir.resolve())
        log = data_dir / "serve.log"
        with log.open("wb") as out:
            proc = subprocess.Popen(
                [sys.executable, "-m", "bench._serve_viewer", str(data_dir), str(port)],
                cwd=REPO,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        url = f"http://127.0.0.1:{port}"
        try:
            try:
                wait_healthy(url, proc, log)
            except ServerFailed as exc:
                raise SystemExit(str(exc)) from None
            tileset = _get_json(f"{url}/api/config")["layers"][0]["tileset_url"]
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
                try:
                    # Warm-up: the twin viewer's own first view gives the camera for all runs.
                    context = browser.new_context(viewport=VIEWPORT)  # type: ignore[arg-type]
                    page = context.new_page()
                    page.goto(url + "/")
                    page.wait_for_function(
                        "window.twin && window.twin.url && window.twin.url.restored",
                        timeout=TIMEOUT_MS,
                    )
                    page.wait_for_function("location.hash.includes('cam=')", timeout=TIMEOUT_MS)
                    cam = page.evaluate("new URLSearchParams(location.hash.slice(1)).get('cam')")
                    context.close()
                    pages = {
                        "bare": f"{url}/bench/bare/?tileset={tileset}#cam={cam}",
                        "twin": f"{url}/#cam={cam}",
                    }
                    runs: dict[str, list[dict[str, Any]]] = {"bare": [], "twin": []}
                    for i in range(args.runs):
                        for name in ("bare", "twin") if i % 2 == 0 else ("twin", "bare"):
                            row = load_once(browser, pages[name], args.latency_ms)
                            runs[name].append(row)
                            print(f"run {i + 1} {name}: {row}", flush=True)
                finally:
                    browser.close()
        finally:
            stop(proc)

    summary = {
        name: {
            k: _median(rows, k)
            for k in (
                "loaded_ms",
                "js_bytes",
                "js_cesium_bytes",
                "js_own_bytes",
                "js_own_files",
                "js_files",
            )
        }
        for name, rows in runs.items()
    }
    ratio = summary["twin"]["loaded_ms"] / summary["bare"]["loaded_ms"]
    print(json.dumps(summary, indent=2))
    print(
        f"median time to all tiles loaded: bare {summary['bare']['loaded_ms']:.0f} ms, "
        f"twin {summary['twin']['loaded_ms']:.0f} ms, ratio twin/bare {ratio:.2f}"
    )
    print(
        f"JS received: bare {summary['bare']['js_bytes'] / 1024:.0f} KiB, twin "
        f"{summary['twin']['js_bytes'] / 1024:.0f} KiB, of which the viewer's own "
        f"{summary['twin']['js_own_bytes'] / 1024:.1f} KiB in "
        f"{summary['twin']['js_own_files']:.0f} files"
    )
    OUT.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    result = {
        "label": args.label,
        "latency_ms": args.latency_ms,
        "viewer_dir": str(args.viewer_dir or REPO / "viewer"),
        "camera": cam,
        "runs": runs,
        "median": summary,
        "ratio": ratio,
    }
    (OUT / f"bench-viewer-load-{stamp}.json").write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
