"""gzip each served file once, not on every request.

Starlette's ``GZipMiddleware`` compresses every response as it is sent. For the files twin
serves most (CesiumJS's 4.7 MB ``index.js``, the viewer's modules, tileset.json and glb
tiles, all unchanging between requests) that is the same work for every visitor: ~200 ms of
CPU for CesiumJS alone on each cold page load. :class:`GzipCache` keeps the compressed
bytes of files in memory, keyed by path, size and modification time (a changed file is
compressed again, never served stale), within a byte budget, least recently used first out.
Starlette's middleware stays for API responses only (:class:`ApiGZip`): files are left to
the cache, so none is compressed twice or compressed per request after all.

Only representations worth compressing are: images, video, archives and fonts already
compressed are sent as they are, as are files under 1 KiB and files that gzip does not make
at least 5 % smaller. The gzip variant has its own ETag (``"...-gz"``), as HTTP requires of
a different representation, and every compressible response says ``Vary: Accept-Encoding``.
"""

from __future__ import annotations

import gzip
import os
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

import anyio
from starlette.datastructures import Headers
from starlette.middleware.gzip import GZipMiddleware
from starlette.responses import FileResponse, Response
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

MIN_SIZE = 1024
#: Files above this are streamed as they are (a glb this large is an outlier; the cache
#: should hold many small files rather than one big one).
MAX_FILE = 32 * 1024 * 1024
DEFAULT_BUDGET = 96 * 1024 * 1024
#: Media types that are compressed already: gzip only costs time on them.
_PRECOMPRESSED_PREFIXES = ("image/", "video/", "audio/", "font/woff")
_PRECOMPRESSED = frozenset(
    {
        "application/zip",
        "application/gzip",
        "application/x-gzip",
        "application/x-bzip2",
        "application/x-xz",
        "application/zstd",
        "application/x-7z-compressed",
        "application/vnd.laszip",
    }
)
_NOT_WORTH_IT = b""  # cached marker: compressing this file does not pay


def compressible(media_type: str | None) -> bool:
    """Whether a response of ``media_type`` is worth gzipping (SVG is an image that is)."""
    media = (media_type or "application/octet-stream").split(";")[0].strip().lower()
    if media == "image/svg+xml":
        return True
    return media not in _PRECOMPRESSED and not media.startswith(_PRECOMPRESSED_PREFIXES)


def accepts_gzip(accept_encoding: str | None) -> bool:
    """Whether an ``Accept-Encoding`` header admits gzip (``gzip;q=0`` refuses it)."""
    for item in (accept_encoding or "").split(","):
        name, _, params = item.strip().partition(";")
        if name.strip().lower() not in ("gzip", "x-gzip", "*"):
            continue
        q = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        return q > 0
    return False


def gzip_etag(etag: str) -> str:
    """The ETag of the gzip representation of the file whose ETag is ``etag``."""
    weak = etag.startswith("W/")
    bare = etag.removeprefix("W/")
    tagged = f'"{bare.strip(chr(34))}-gz"'
    return f"W/{tagged}" if weak else tagged


def matches(if_none_match: str | None, etag: str) -> bool:
    """Weak comparison of ``If-None-Match`` against ``etag`` (RFC 9110 13.1.2)."""
    if not if_none_match:
        return False
    if if_none_match.strip() == "*":
        return True
    ours = etag.removeprefix("W/")
    return any(tag.strip().removeprefix("W/") == ours for tag in if_none_match.split(","))


class GzipCache:
    """Compressed bytes of files, by (path, size, mtime), within ``budget`` bytes."""

    def __init__(self, budget: int = DEFAULT_BUDGET, level: int = 9) -> None:
        self.budget = budget
        self.level = level
        self._entries: OrderedDict[tuple[str, int, int], bytes] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()
        self._inflight: dict[tuple[str, int, int], threading.Lock] = {}
        self.compressions = 0  # files compressed so far (a cache miss each)

    def get(self, path: str | os.PathLike[str], stat: os.stat_result) -> bytes | None:
        """The file's gzip bytes, or None when it is not worth compressing (too small,
        too large, or gzip saves under 5 %). Blocking: call from a worker thread. Requests
        for a file being compressed wait for that compression instead of repeating it (the
        first visitors after a start all ask for CesiumJS at once)."""
        if stat.st_size < MIN_SIZE or stat.st_size > MAX_FILE:
            return None
        key = (os.fspath(path), stat.st_size, stat.st_mtime_ns)
        with self._lock:
            found = self._lookup(key)
            if found is not None:
                return found or None
            flight = self._inflight.setdefault(key, threading.Lock())
        with flight:
            try:
                with self._lock:
                    found = self._lookup(key)  # compressed while we waited
                if found is not None:
                    return found or None
                raw = Path(path).read_bytes()
                if len(raw) != stat.st_size:  # changed while we read it: send it as it is
                    return None
                packed = gzip.compress(raw, compresslevel=self.level, mtime=0)
                body = packed if len(packed) <= 0.95 * len(raw) else _NOT_WORTH_IT
                with self._lock:
                    self.compressions += 1
                    self._entries[key] = body
                    self._size += len(body)
                    while self._size > self.budget and self._entries:
                        _, dropped = self._entries.popitem(last=False)
                        self._size -= len(dropped)
                return body or None
            finally:
                with self._lock:
                    self._inflight.pop(key, None)

    def _lookup(self, key: tuple[str, int, int]) -> bytes | None:
        """The cached body (``b""``: not worth compressing), marked recently used; under
        the lock."""
        body = self._entries.get(key)
        if body is not None:
            self._entries.move_to_end(key)
        return body

    @property
    def size(self) -> int:
        """Bytes held."""
        return self._size


def gzip_response(
    body: bytes, headers: dict[str, str] | Headers, media_type: str | None, status: int = 200
) -> Response:
    """A response carrying ``body`` (gzip bytes) with ``headers`` minus the plain file's
    length and ranges (the caller sets the gzip ETag)."""
    kept = {
        k: v
        for k, v in dict(headers).items()
        if k.lower() not in ("content-length", "accept-ranges", "content-type")
    }
    kept["Content-Encoding"] = "gzip"
    return Response(body, status_code=status, headers=kept, media_type=media_type)


def add_vary(headers: Any, value: str = "Accept-Encoding") -> None:
    """Add ``value`` to a response's ``Vary`` header (a MutableHeaders or dict)."""
    current = headers.get("vary") or headers.get("Vary") or ""
    names = [v.strip() for v in current.split(",") if v.strip()]
    if value.lower() not in (n.lower() for n in names):
        names.append(value)
    for key in ("vary", "Vary"):
        if key in headers:
            del headers[key]
    headers["Vary"] = ", ".join(names)


class CompressedStaticFiles(StaticFiles):
    """StaticFiles that send gzip from a :class:`GzipCache` to clients that accept it."""

    def __init__(self, *args: Any, cache: GzipCache, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.cache = cache

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        if not isinstance(response, FileResponse) or response.status_code != 200:
            return response
        if not compressible(response.media_type):
            return response
        add_vary(response.headers)
        request = Headers(scope=scope)
        if not accepts_gzip(request.get("accept-encoding")):
            return response
        if response.stat_result is None:
            return response
        body = await anyio.to_thread.run_sync(self.cache.get, response.path, response.stat_result)
        if body is None:
            return response
        etag = gzip_etag(response.headers["etag"])
        if matches(request.get("if-none-match"), etag):
            not_modified = Response(status_code=304)
            for key in ("etag", "last-modified", "cache-control", "vary"):
                if key in response.headers:
                    not_modified.headers[key] = response.headers[key]
            not_modified.headers["etag"] = etag
            return not_modified
        out = gzip_response(body, response.headers, response.media_type)
        out.headers["ETag"] = etag
        return out


class ApiGZip:
    """Starlette's ``GZipMiddleware`` for every path except those under ``files``, which
    serve files through :class:`GzipCache` (static mounts and tiles)."""

    def __init__(self, app: ASGIApp, files: tuple[str, ...], minimum_size: int = MIN_SIZE) -> None:
        self.app = app
        self.files = files
        self.gzip = GZipMiddleware(app, minimum_size=minimum_size)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(self.files):
            await self.app(scope, receive, send)
        else:
            await self.gzip(scope, receive, send)
