"""Served files are gzipped once and kept (twin/compression.py): static files (the viewer,
CesiumJS) and tiles. The bytes decompress to the file exactly; a changed file is never
served from the old compression; each representation has its own ETag and revalidates;
images and small files go as they are; ``Accept-Encoding`` is honoured, ``q=0`` included.
The gain is measured in bench/bench_static.py, not here."""

from __future__ import annotations

import gzip
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from twin.app import create_app
from twin.compression import GzipCache, accepts_gzip, compressible, gzip_etag, matches
from twin.settings import Settings
from twin.store import Store as TwinStore

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "data" / "demo" / "delft.city.json"
GZ = {"Accept-Encoding": "gzip, deflate"}
PLAIN = {"Accept-Encoding": "identity"}


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("gzip", True),
        ("gzip, deflate, br", True),
        ("br;q=1.0, gzip;q=0.8", True),
        ("GZIP", True),
        ("*", True),
        ("x-gzip", True),
        ("gzip;q=0", False),
        ("gzip;q=0.0, br", False),
        ("gzip;q=nonsense", False),
        ("identity", False),
        ("br, deflate", False),
        ("", False),
        (None, False),
    ],
)
def test_accept_encoding(header: str | None, expected: bool) -> None:
    assert accepts_gzip(header) is expected


@pytest.mark.parametrize(
    ("media", "expected"),
    [
        ("text/javascript; charset=utf-8", True),
        ("application/json", True),
        ("model/gltf-binary", True),
        ("image/svg+xml", True),
        (None, True),
        ("image/png", False),
        ("image/jpeg", False),
        ("image/ktx2", False),
        ("application/zip", False),
        ("font/woff2", False),
    ],
)
def test_what_is_worth_compressing(media: str | None, expected: bool) -> None:
    assert compressible(media) is expected


def test_etags_and_weak_comparison() -> None:
    assert gzip_etag('"abc"') == '"abc-gz"'
    assert gzip_etag('W/"abc"') == 'W/"abc-gz"'
    assert matches('"abc-gz"', '"abc-gz"')
    assert matches('W/"x", "abc-gz"', '"abc-gz"')
    assert matches("*", '"abc"')
    assert not matches('"abc"', '"abc-gz"')
    assert not matches(None, '"abc"')


def test_cache_compresses_once_recompresses_a_changed_file_and_keeps_its_budget(
    tmp_path: Path,
) -> None:
    cache = GzipCache(budget=6_000)
    a = tmp_path / "a.js"
    a.write_text("const a = 1;\n" * 400)  # 5,200 bytes, compresses to < 100
    first = cache.get(a, a.stat())
    assert first is not None
    assert gzip.decompress(first) == a.read_bytes()
    assert cache.get(a, a.stat()) is first
    assert cache.compressions == 1
    # changed (size and time): compressed again, the new content served
    a.write_text("let b = 2;\n" * 500)
    os.utime(a, ns=(a.stat().st_atime_ns, a.stat().st_mtime_ns + 1_000_000))
    second = cache.get(a, a.stat())
    assert second is not None
    assert gzip.decompress(second) == a.read_bytes()
    assert cache.compressions == 2
    # too small, and incompressible: sent as they are (and the latter remembered)
    small = tmp_path / "s.js"
    small.write_text("x")
    assert cache.get(small, small.stat()) is None
    noise = tmp_path / "n.bin"
    noise.write_bytes(os.urandom(5_000))
    assert cache.get(noise, noise.stat()) is None
    assert cache.get(noise, noise.stat()) is None
    assert cache.compressions == 3
    # the budget: the least recently used compressed files go first
    files = []
    for i in range(40):
        f = tmp_path / f"f{i}.txt"
        f.write_bytes(os.urandom(600).hex().encode() * 3)  # 3,600 bytes, ~1,300 gzipped
        files.append(f)
        assert cache.get(f, f.stat()) is not None
        assert cache.size <= cache.budget
    before = cache.compressions
    cache.get(files[-1], files[-1].stat())  # still held
    assert cache.compressions == before
    cache.get(files[0], files[0].stat())  # dropped long ago
    assert cache.compressions == before + 1


def test_concurrent_first_requests_compress_once(tmp_path: Path) -> None:
    """The first visitors after a start ask for the same big file at once: one compresses,
    the others wait for it and get the same bytes."""
    cache = GzipCache()
    big = tmp_path / "index.js"
    big.write_bytes(b"".join(f"export const v{i} = {i * 7};\n".encode() for i in range(200_000)))
    stat = big.stat()
    start = threading.Barrier(8)

    def fetch() -> bytes | None:
        start.wait()
        return cache.get(big, stat)

    with ThreadPoolExecutor(8) as pool:
        bodies = list(pool.map(lambda _: fetch(), range(8)))
    assert cache.compressions == 1
    assert all(b is bodies[0] for b in bodies)
    assert bodies[0] is not None
    assert gzip.decompress(bodies[0]) == big.read_bytes()


@pytest.fixture
def site(tmp_path: Path) -> tuple[TestClient, Path]:
    viewer = tmp_path / "viewer"
    (viewer / "js").mkdir(parents=True)
    (viewer / "index.html").write_text(
        '<html><head><script type="module" src="/viewer/js/main.js"></script></head></html>'
    )
    (viewer / "js" / "main.js").write_text("export const twin = 'twin';\n" * 200)
    (viewer / "pin.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(4000))
    data = tmp_path / "data"
    TwinStore(data).import_file(DEMO, "demo", title="Delft")
    app = create_app(Settings(data_dir=data, viewer_dir=viewer))
    return TestClient(app), viewer


def test_static_files_gzip_once_and_revalidate_per_representation(
    site: tuple[TestClient, Path],
) -> None:
    client, viewer = site
    cache: GzipCache = client.app.state.gzip_cache  # type: ignore[attr-defined]
    source = viewer / "js" / "main.js"
    r = client.get("/viewer/js/main.js", headers=GZ)
    assert r.status_code == 200
    assert r.headers["content-encoding"] == "gzip"
    assert r.headers["vary"] == "Accept-Encoding"
    assert r.headers["content-type"].startswith("text/javascript")
    assert int(r.headers["content-length"]) < source.stat().st_size / 10
    assert r.content == source.read_bytes()  # httpx decodes the gzip
    etag = r.headers["etag"]
    assert etag.endswith('-gz"')
    compressed = cache.compressions
    again = client.get("/viewer/js/main.js", headers=GZ)
    assert again.content == source.read_bytes()
    assert cache.compressions == compressed  # from the cache
    assert (
        client.get("/viewer/js/main.js", headers={**GZ, "If-None-Match": etag}).status_code == 304
    )

    plain = client.get("/viewer/js/main.js", headers=PLAIN)
    assert "content-encoding" not in plain.headers
    assert plain.headers["vary"] == "Accept-Encoding"
    assert plain.content == source.read_bytes()
    assert plain.headers["etag"] != etag
    # a client holding the plain copy revalidates it; the gzip ETag is not the plain one's
    assert (
        client.get("/viewer/js/main.js", headers={**PLAIN, "If-None-Match": etag}).status_code
        == 200
    )
    assert (
        client.get(
            "/viewer/js/main.js", headers={**GZ, "If-None-Match": plain.headers["etag"]}
        ).status_code
        == 304
    )
    refused = client.get("/viewer/js/main.js", headers={"Accept-Encoding": "gzip;q=0"})
    assert "content-encoding" not in refused.headers

    # edited on disk: the next answer is the new file, under a new ETag
    source.write_text("export const edited = true;\n" * 300)
    os.utime(source, ns=(source.stat().st_atime_ns, source.stat().st_mtime_ns + 1_000_000))
    changed = client.get("/viewer/js/main.js", headers={**GZ, "If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.content == source.read_bytes()
    assert changed.headers["etag"] != etag

    png = client.get("/viewer/pin.png", headers=GZ)
    assert "content-encoding" not in png.headers
    assert "vary" not in png.headers
    assert png.content == (viewer / "pin.png").read_bytes()


def test_tiles_gzip_once_and_keep_their_cache_rules(site: tuple[TestClient, Path]) -> None:
    client, _ = site
    cache: GzipCache = client.app.state.gzip_cache  # type: ignore[attr-defined]
    tileset = client.get("/tiles/demo/tileset.json", headers=GZ).json()
    content = tileset["root"]
    while "content" not in content:
        content = content["children"][0]
    config = client.get("/api/config").json()["layers"][0]
    versioned = config["tileset_url"].rsplit("/", 1)[0] + "/" + content["content"]["uri"]
    plain = client.get(versioned, headers=PLAIN)
    r = client.get(versioned, headers=GZ)
    assert r.status_code == 200
    assert r.headers["content-encoding"] == "gzip"
    assert r.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert "Accept-Encoding" in r.headers["vary"]
    assert r.content == plain.content  # the glb, byte for byte
    assert r.content[:4] == b"glTF"
    assert int(r.headers["content-length"]) < len(plain.content)
    n = cache.compressions
    assert client.get(versioned, headers=GZ).content == plain.content
    assert cache.compressions == n
    assert (
        client.get(versioned, headers={**GZ, "If-None-Match": r.headers["etag"]}).status_code == 304
    )
    assert (
        client.get(versioned, headers={**PLAIN, "If-None-Match": r.headers["etag"]}).status_code
        == 200
    )
    assert (
        client.get(versioned, headers={**PLAIN, "If-None-Match": plain.headers["etag"]}).status_code
        == 304
    )
