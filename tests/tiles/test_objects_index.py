"""The object index (objects.sqlite) a conversion writes beside tileset.json."""

from __future__ import annotations

import json
import math
import sqlite3
from pathlib import Path

import numpy as np
import pytest
from pyproj import CRS, Geod, Transformer

from tiles import ConvertOptions, convert, readers
from tiles.model import Feature, Mesh
from tiles.objects_index import (
    INDEX_NAME,
    IndexCache,
    ObjectIndex,
    feature_bounds,
    fts_query,
    write_index,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
PARTS = FIXTURES / "cityjson" / "building_parts.city.json"
B2 = FIXTURES / "cityjson" / "3dbag_b2.city.json"
GEOD = Geod(ellps="WGS84")


@pytest.fixture(scope="module")
def parts(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, object]]:
    out = tmp_path_factory.mktemp("parts") / "out"
    report = convert(PARTS, out)
    return out, report.to_json()


def _rows(path: Path) -> dict[str, dict[str, object]]:
    con = sqlite3.connect(path)
    con.row_factory = sqlite3.Row
    try:
        return {r["id"]: dict(r) for r in con.execute("SELECT * FROM objects")}
    finally:
        con.close()


def test_index_holds_every_converted_feature_with_its_attributes(
    parts: tuple[Path, dict[str, object]],
) -> None:
    out, report = parts
    rows = _rows(out / INDEX_NAME)
    features = readers.sniff(PARTS).read(PARTS, ConvertOptions()).features
    assert len(rows) == len(features) == report["feature_count"]
    assert report["search_index"]["objects"] == len(features)
    assert report["search_index"]["bytes"] == (out / INDEX_NAME).stat().st_size
    for f in features:
        row = rows[f.id]
        assert row["type"] == f.type
        assert row["parent_id"] == f.parent_id
        assert json.loads(str(row["attributes"])) == f.attributes
    assert any(r["parent_id"] for r in rows.values())  # the parts know their building
    lo, hi = report["height_range"]  # type: ignore[misc]
    assert min(float(r["height_min"]) for r in rows.values()) == pytest.approx(lo, abs=1e-3)  # type: ignore[arg-type]
    assert max(float(r["height_max"]) for r in rows.values()) == pytest.approx(hi, abs=1e-3)  # type: ignore[arg-type]


def test_centre_and_radius_agree_with_pyproj_within_a_centimetre(tmp_path: Path) -> None:
    """Recompute each object's centre and radius from its source vertices with pyproj
    (RD New -> WGS 84, geodesic distances) and compare with what the index holds."""
    convert(B2, tmp_path / "out")
    rows = _rows(tmp_path / "out" / INDEX_NAME)
    horizontal = CRS.from_epsg(7415).sub_crs_list[0]
    to_wgs84 = Transformer.from_crs(horizontal, "EPSG:4326", always_xy=True)
    features = readers.sniff(B2).read(B2, ConvertOptions()).features
    assert features
    for f in features:
        lon, lat = to_wgs84.transform(f.mesh.positions[:, 0], f.mesh.positions[:, 1])
        c_lon, c_lat = (lon.min() + lon.max()) / 2, (lat.min() + lat.max()) / 2
        row = rows[f.id]
        _, _, off = GEOD.inv(c_lon, c_lat, row["lon"], row["lat"])
        assert off < 0.01, f.id
        _, _, dist = GEOD.inv(np.full(lon.shape, c_lon), np.full(lat.shape, c_lat), lon, lat)
        assert row["radius"] == pytest.approx(float(np.max(dist)), abs=0.01), f.id


def test_feature_bounds_of_a_known_square() -> None:
    """A 100 m x 100 m square around lon 13, lat 55.6 (corners from pyproj's geodesics)."""
    lon0, lat0 = 13.0, 55.6
    corners = []
    for az in (45, 135, 225, 315):
        lon, lat, _ = GEOD.fwd(lon0, lat0, az, 50 * math.sqrt(2))
        corners.append((lon, lat, 10.0 + az / 45))
    llh = np.array(corners)
    b = feature_bounds(llh, np.array([4]))
    _, _, off = GEOD.inv(lon0, lat0, float(b.lon[0]), float(b.lat[0]))
    assert off < 0.01
    assert float(b.radius[0]) == pytest.approx(50 * math.sqrt(2), abs=0.01)
    assert (float(b.height_min[0]), float(b.height_max[0])) == (11.0, 17.0)


def _feature(fid: str, ftype: str, **attributes: object) -> Feature:
    return Feature(fid, ftype, Mesh.empty(), dict(attributes))


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> ObjectIndex:
    features = [
        _feature("SE.MALMO.1", "Building", name="Malmö Stortorget", year=1546),
        _feature("SE.GBG.2", "Building", name="Göteborgs stadshus", adress="Gustaf Adolfs torg 1"),
        _feature("SE.HBG.3", "Bridge", note="Rådhuset ligger nära", nested={"a": ["Kärnan"]}),
        _feature("torg", "Road", name="Ett torg"),
        _feature("SE.X.4", "Building", quote='"AND" OR NEAR(x) *^:', flag=True, none=None),
    ]
    n = len(features)
    llh = np.column_stack([np.linspace(13, 14, n), np.linspace(55, 56, n), np.zeros(n)])
    path = tmp_path_factory.mktemp("small") / INDEX_NAME
    info = write_index(path, features, feature_bounds(llh, np.ones(n, dtype=np.int64)))
    assert info["objects"] == n
    return ObjectIndex(path)


def _ids(index: ObjectIndex, text: str) -> list[str]:
    return [r.id for r in index.search(text, 10)]


def test_search_ignores_diacritics_and_matches_prefixes(small: ObjectIndex) -> None:
    assert _ids(small, "malmo") == ["SE.MALMO.1"]
    assert _ids(small, "Malmö") == ["SE.MALMO.1"]
    assert _ids(small, "goteborg") == ["SE.GBG.2"]  # prefix of "göteborgs"
    assert _ids(small, "radhus") == ["SE.HBG.3"]
    assert _ids(small, "karn") == ["SE.HBG.3"]  # nested attribute values are text too
    assert _ids(small, "stortorget malm") == ["SE.MALMO.1"]  # every word, any order
    assert _ids(small, "malmo göteborg") == []
    assert _ids(small, "bridge") == ["SE.HBG.3"]  # the type is searched
    assert _ids(small, "1546") == ["SE.MALMO.1"]  # numbers too
    assert _ids(small, "se.gbg") == ["SE.GBG.2"]  # ids, by their parts
    assert _ids(small, "name") == []  # attribute names are not searched
    assert _ids(small, "true") == []  # booleans are not text


def test_an_id_match_outranks_an_attribute_match(small: ObjectIndex) -> None:
    """ "torg" is the id of one object and a word in another's address; "Stortorget" does
    not start with it."""
    assert _ids(small, "torg") == ["torg", "SE.GBG.2"]
    assert [r.id for r in small.exact("TORG", 5)] == ["torg"]  # case ignored
    assert small.get("TORG") is None
    assert small.get("torg") is not None


@pytest.mark.parametrize(
    "text",
    [
        '"',
        '""',
        '"AND"',
        "AND OR NOT",
        "NEAR(a b, 2)",
        "id:x",
        "^start",
        "*",
        "a*b",
        "(((",
        "x\x00y",
        "-",
        "'; DROP TABLE objects; --",
        "é" * 300,
        "word " * 2000,
    ],
)
def test_hostile_text_is_searched_as_words(small: ObjectIndex, text: str) -> None:
    small.search(text, 5)  # never an FTS5 syntax error
    small.exact(text, 5)


def test_fts_query_quotes_every_word() -> None:
    assert fts_query('say "hi" NEAR(') == '"say"* """hi"""* "NEAR("*'
    assert fts_query("  --- ***  ") is None
    assert fts_query("ab " * 50) == " ".join(['"ab"*'] * 10)
    assert fts_query("x 1 ab") == '"x" "1" "ab"*'  # one character: whole words only


def test_quoted_operators_are_found_as_text(small: ObjectIndex) -> None:
    assert _ids(small, '"AND" OR NEAR') == ["SE.X.4"]


def test_index_is_opened_read_only(small: ObjectIndex, tmp_path: Path) -> None:
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        small._query("DELETE FROM objects", ())
    assert small.count() == 5


def test_cache_is_bounded_and_skips_versions_without_index(
    parts: tuple[Path, dict[str, object]], tmp_path: Path
) -> None:
    out, _ = parts
    cache = IndexCache(maxsize=2)
    assert cache.get(tmp_path) is None  # a version from before the index
    first = cache.get(out)
    assert first is not None
    assert cache.get(out) is first
    for i in range(3):
        d = tmp_path / f"v{i}"
        d.mkdir()
        (d / INDEX_NAME).write_bytes((out / INDEX_NAME).read_bytes())
        assert cache.get(d) is not None
    assert len(cache) == 2
    assert cache.get(out) is not first  # evicted, opened again
    assert first.count() == len(_rows(out / INDEX_NAME))  # still usable by a late reader


def test_point_clouds_write_no_index(tmp_path: Path) -> None:
    from points_tools import synthetic, write_las

    src = write_las(tmp_path / "hbg.las", synthetic(356_750.0, 6_214_030.0, 20.0), "EPSG:3006")
    report = convert(src, tmp_path / "out")
    assert report.point_count > 0
    assert report.search_index == {}
    assert not (tmp_path / "out" / INDEX_NAME).exists()
