"""The object index of a tileset version: ``objects.sqlite`` beside ``tileset.json``.

One row per converted feature (id, type, parent id, centre lon/lat, ellipsoidal height
range, horizontal radius in metres, attributes as JSON) and an FTS5 full-text table over
the id, the type and the attribute values (not their names), so the viewer's search box
finds an object without loading its tiles. The file is written once into the conversion's
staging folder and never changed afterwards, like the tiles; readers open it read-only
and ``immutable`` (https://www.sqlite.org/uri.html#uriimmutable).

Tokenizer: ``unicode61 remove_diacritics 2`` (https://www.sqlite.org/fts5.html#unicode61_tokenizer),
so "Malmo" finds "Malmö" and "Goteborg" finds "Göteborg"; user text becomes quoted
prefix phrases (:func:`fts_query`), so FTS5 operators in a query are plain words.
"""

from __future__ import annotations

import math
import re
import sqlite3
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import orjson
from numpy.typing import NDArray

from .model import Feature

INDEX_NAME = "objects.sqlite"
FORMAT_VERSION = "1"
#: Words of a query used at most; more are ignored (as the catalogue's search does).
MAX_WORDS = 10
#: Characters of attribute text indexed per object (a huge attribute cannot bloat the index).
MAX_TEXT = 4096
#: FTS5 column weights for id, type and attribute values (bm25; ids count most).
WEIGHTS = (10.0, 2.0, 1.0)
_WGS84_A = 6378137.0
_WGS84_E2 = 0.00669437999014

_SCHEMA = f"""
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE objects (
    n INTEGER PRIMARY KEY,
    id TEXT NOT NULL,
    type TEXT NOT NULL,
    parent_id TEXT,
    lon REAL NOT NULL,
    lat REAL NOT NULL,
    height_min REAL NOT NULL,
    height_max REAL NOT NULL,
    radius REAL NOT NULL,
    attributes TEXT NOT NULL
);
CREATE VIRTUAL TABLE objects_fts USING fts5(
    id, type, attributes, content='', tokenize='unicode61 remove_diacritics 2'
);
INSERT INTO objects_fts(objects_fts, rank) VALUES ('rank', 'bm25({", ".join(map(str, WEIGHTS))})');
"""


@dataclass(frozen=True)
class Bounds:
    """Per feature: centre of its lon/lat box (degrees), ellipsoidal height range and the
    largest horizontal distance (metres) from that centre to any of its vertices."""

    lon: NDArray[np.float64]
    lat: NDArray[np.float64]
    height_min: NDArray[np.float64]
    height_max: NDArray[np.float64]
    radius: NDArray[np.float64]


def feature_bounds(llh: NDArray[np.float64], counts: NDArray[np.int64]) -> Bounds:
    """Bounds of consecutive vertex runs of ``llh`` (lon, lat, h), ``counts`` per feature.

    The radius uses the WGS 84 radii of curvature at the centre (meridian ``M``, prime
    vertical ``N``): for objects up to a few kilometres across it agrees with geodesic
    distances to well under a centimetre.
    """
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
    lo = np.minimum.reduceat(llh, starts, axis=0)
    hi = np.maximum.reduceat(llh, starts, axis=0)
    lon_c = (lo[:, 0] + hi[:, 0]) / 2
    lat_c = (lo[:, 1] + hi[:, 1]) / 2
    phi = np.radians(lat_c)
    w = np.sqrt(1 - _WGS84_E2 * np.sin(phi) ** 2)
    m = _WGS84_A * (1 - _WGS84_E2) / w**3
    n = _WGS84_A / w
    dx = np.radians(llh[:, 0] - np.repeat(lon_c, counts)) * np.repeat(n * np.cos(phi), counts)
    dy = np.radians(llh[:, 1] - np.repeat(lat_c, counts)) * np.repeat(m, counts)
    radius = np.maximum.reduceat(np.hypot(dx, dy), starts)
    return Bounds(lon_c, lat_c, lo[:, 2], hi[:, 2], radius)


def _values(value: Any) -> Iterator[str]:
    """The searchable text of an attribute value: strings and numbers, nested ones too."""
    if value is None or isinstance(value, bool):
        return
    if isinstance(value, str | int | float):
        yield str(value)
    elif isinstance(value, dict):
        for v in value.values():
            yield from _values(v)
    elif isinstance(value, list | tuple):
        for v in value:
            yield from _values(v)


def attribute_text(attributes: dict[str, Any]) -> str:
    text = " ".join(t for v in attributes.values() for t in _values(v))
    return text[:MAX_TEXT]


def _rows(features: list[Feature], b: Bounds) -> Iterator[tuple[Any, ...]]:
    for i, f in enumerate(features):
        yield (
            i + 1,
            f.id,
            f.type,
            f.parent_id,
            round(float(b.lon[i]), 9),
            round(float(b.lat[i]), 9),
            round(float(b.height_min[i]), 3),
            round(float(b.height_max[i]), 3),
            round(float(b.radius[i]), 3),
            orjson.dumps(f.attributes, default=str, option=orjson.OPT_NON_STR_KEYS).decode(),
        )


def write_index(path: Path, features: list[Feature], bounds: Bounds) -> dict[str, Any]:
    """Write ``objects.sqlite`` at ``path``; what was written, for the report."""
    started = time.perf_counter()
    con = sqlite3.connect(path, isolation_level=None)
    try:
        con.executescript("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;" + _SCHEMA)
        con.execute("BEGIN")
        con.executemany(
            "INSERT INTO meta VALUES (?, ?)",
            [("format", FORMAT_VERSION), ("tokenizer", "unicode61 remove_diacritics 2")],
        )
        con.executemany("INSERT INTO objects VALUES (?,?,?,?,?,?,?,?,?,?)", _rows(features, bounds))
        con.executemany(
            "INSERT INTO objects_fts(rowid, id, type, attributes) VALUES (?, ?, ?, ?)",
            ((i + 1, f.id, f.type, attribute_text(f.attributes)) for i, f in enumerate(features)),
        )
        con.execute("CREATE INDEX objects_id ON objects (id COLLATE NOCASE)")
        con.execute("INSERT INTO objects_fts(objects_fts) VALUES ('optimize')")
        con.execute("COMMIT")
        con.execute("VACUUM")
    finally:
        con.close()
    return {
        "objects": len(features),
        "bytes": path.stat().st_size,
        "seconds": round(time.perf_counter() - started, 3),
    }


# -- reading ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ObjectRow:
    """One indexed object; ``score`` is FTS5's bm25 rank (lower is better; 0 for exact)."""

    id: str
    type: str
    parent_id: str | None
    lon: float
    lat: float
    height_min: float
    height_max: float
    radius: float
    attributes: str
    score: float = 0.0

    @property
    def height(self) -> float:
        """Middle of the object's height range (ellipsoidal metres)."""
        return (self.height_min + self.height_max) / 2

    @property
    def sphere_radius(self) -> float:
        """Radius of a sphere around the object: horizontal radius and half its height."""
        return math.hypot(self.radius, (self.height_max - self.height_min) / 2)


_COLUMNS = "o.id, o.type, o.parent_id, o.lon, o.lat, o.height_min, o.height_max, o.radius"
_WORD = re.compile(r"\w", re.UNICODE)


def fts_query(text: str) -> str | None:
    """``text`` as an FTS5 query: every word a quoted prefix phrase, all of them required.

    A one-character word matches whole words only: as a prefix it would match nearly
    everything (and cost a full ranking) on the first key press of a search-as-you-type box.

    Quotes are doubled inside the phrase, so ``"``, ``*``, ``AND``, ``NEAR(``, ``:`` and
    ``^`` are searched as text, never parsed as FTS5 syntax. None when no word is left.
    """
    words = [w.replace("\x00", "") for w in text.split()]
    words = [w for w in words if _WORD.search(w)][:MAX_WORDS]
    if not words:
        return None
    return " ".join('"' + w.replace('"', '""') + ('"*' if len(w) > 1 else '"') for w in words)


class ObjectIndex:
    """A read-only, immutable connection to one ``objects.sqlite`` (safe across threads)."""

    def __init__(self, path: Path) -> None:
        uri = path.resolve().as_uri() + "?mode=ro&immutable=1"
        self._con = sqlite3.connect(uri, uri=True, check_same_thread=False)
        self._lock = threading.Lock()

    def close(self) -> None:
        self._con.close()

    def _query(self, sql: str, args: Iterable[Any]) -> list[tuple[Any, ...]]:
        with self._lock:
            return self._con.execute(sql, tuple(args)).fetchall()

    def count(self) -> int:
        return int(self._query("SELECT count(*) FROM objects", ())[0][0])

    def get(self, object_id: str) -> ObjectRow | None:
        """The object with exactly this id (case-sensitive), or None."""
        rows = self._query(
            f"SELECT {_COLUMNS}, o.attributes FROM objects o WHERE o.id = ? LIMIT 1",
            (object_id,),
        )
        return ObjectRow(*rows[0]) if rows else None

    def exact(self, text: str, limit: int) -> list[ObjectRow]:
        """Objects whose id is ``text`` (ASCII case ignored)."""
        rows = self._query(
            f"SELECT {_COLUMNS}, o.attributes FROM objects o "
            "WHERE o.id = ? COLLATE NOCASE ORDER BY o.id LIMIT ?",
            (text.strip(), limit),
        )
        return [ObjectRow(*r) for r in rows]

    def search(self, text: str, limit: int) -> list[ObjectRow]:
        """Objects matching every word of ``text`` as a prefix, best bm25 rank first."""
        match = fts_query(text)
        if match is None:
            return []
        rows = self._query(
            # rank alone inside (FTS5's ranked LIMIT); the join only for those kept
            f"SELECT {_COLUMNS}, o.attributes, f.rank FROM (SELECT rowid, rank "
            "FROM objects_fts WHERE objects_fts MATCH ? ORDER BY rank LIMIT ?) f "
            "JOIN objects o ON o.n = f.rowid ORDER BY f.rank, o.n",
            (match, limit),
        )
        return [ObjectRow(*r) for r in rows]


class IndexCache:
    """Open indexes by file path, the ``maxsize`` most recently used kept open."""

    def __init__(self, maxsize: int = 32) -> None:
        self.maxsize = maxsize
        self._open: OrderedDict[Path, ObjectIndex] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, version_dir: Path) -> ObjectIndex | None:
        """The index of a tileset version folder; None when it has none (an older version)."""
        path = version_dir / INDEX_NAME
        with self._lock:
            index = self._open.get(path)
            if index is not None:
                self._open.move_to_end(path)
                return index
            if not path.is_file():
                return None
            index = self._open[path] = ObjectIndex(path)
            while len(self._open) > self.maxsize:  # closed when its last user is done
                self._open.popitem(last=False)
            return index

    def __len__(self) -> int:
        return len(self._open)
